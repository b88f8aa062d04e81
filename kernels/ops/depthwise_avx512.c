/* AVX-512 depthwise plane: 16 output columns per vector, one contiguous load and one FMA
 * per tap; 3x3 (the MobileNetV2 case) keeps its 9 weights in registers. */
#include "ops_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx512.h"

SK_BEGIN_AVX512
#include "vec_avx512.h"

static inline const float *tap_row(const sk_op_dw_plane *p, int64_t oy, int64_t ky, int64_t kx) {
    return p->phases + (kx % p->stride) * p->phase_floats + (oy * p->stride + ky) * p->row_stride + kx / p->stride;
}

void sk_op_dw_plane__avx512(const sk_op_dw_plane *p) {
    const __m512 bias = _mm512_set1_ps(p->bias);
    if (p->kernel_h == 3 && p->kernel_w == 3) {
        __m512 w[9];
        for (int t = 0; t < 9; t++) w[t] = _mm512_set1_ps(p->w[t]);
        for (int64_t oy = 0; oy < p->out_h; oy++) {
            const float *rows[9];
            for (int t = 0; t < 9; t++) rows[t] = tap_row(p, oy, t / 3, t % 3);
            float *out = p->y + oy * p->out_w;
            for (int64_t ox = 0; ox < p->out_w; ox += 16) {
                __mmask16 m = sk_mask16(p->out_w - ox);
                __m512 acc = bias;
                for (int t = 0; t < 9; t++) acc = _mm512_fmadd_ps(w[t], _mm512_maskz_loadu_ps(m, rows[t] + ox), acc);
                _mm512_mask_storeu_ps(out + ox, m, sk_act512(p->act, acc));
            }
        }
        return;
    }
    for (int64_t oy = 0; oy < p->out_h; oy++) {
        float *out = p->y + oy * p->out_w;
        for (int64_t ox = 0; ox < p->out_w; ox += 16) {
            __mmask16 m = sk_mask16(p->out_w - ox);
            __m512 acc = bias;
            for (int64_t ky = 0; ky < p->kernel_h; ky++)
                for (int64_t kx = 0; kx < p->kernel_w; kx++)
                    acc = _mm512_fmadd_ps(_mm512_set1_ps(p->w[ky * p->kernel_w + kx]),
                                          _mm512_maskz_loadu_ps(m, tap_row(p, oy, ky, kx) + ox), acc);
            _mm512_mask_storeu_ps(out + ox, m, sk_act512(p->act, acc));
        }
    }
}

void sk_op_dw_split_row__avx512(const float *src, int64_t width, int64_t pad, float *phase0, float *phase1) {
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    float *even_phase = (pad & 1) ? phase1 : phase0, *odd_phase = (pad & 1) ? phase0 : phase1;
    for (int64_t ix = 0; ix < width; ix += 32) {
        const int64_t left = width - ix;
        __m512 lo = _mm512_maskz_loadu_ps(sk_mask16(left), src + ix);
        __m512 hi = _mm512_maskz_loadu_ps(sk_mask16(left - 16), src + ix + 16);
        /* element ix + 2k (even offset) and ix + 2k + 1 (odd offset) */
        _mm512_mask_storeu_ps(even_phase + (ix + pad) / 2, sk_mask16((left + 1) / 2), _mm512_permutex2var_ps(lo, evens, hi));
        _mm512_mask_storeu_ps(odd_phase + (ix + 1 + pad) / 2, sk_mask16(left / 2), _mm512_permutex2var_ps(lo, odds, hi));
    }
}

SK_END_ISA
