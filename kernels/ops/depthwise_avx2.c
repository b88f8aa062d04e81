/* AVX2 depthwise plane: 8 output columns per vector, one contiguous load and one FMA
 * per tap; 3x3 keeps its 9 weights in registers. */
#include "ops_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx2.h"

SK_BEGIN_AVX2
#include "vec_avx2.h"

static inline const float *tap_row(const sk_op_dw_plane *p, int64_t oy, int64_t ky, int64_t kx) {
    return p->phases + (kx % p->stride) * p->phase_floats + (oy * p->stride + ky) * p->row_stride + kx / p->stride;
}

void sk_op_dw_plane__avx2(const sk_op_dw_plane *p) {
    const __m256 bias = _mm256_set1_ps(p->bias);
    if (p->kernel_h == 3 && p->kernel_w == 3) {
        __m256 w[9];
        for (int t = 0; t < 9; t++) w[t] = _mm256_set1_ps(p->w[t]);
        for (int64_t oy = 0; oy < p->out_h; oy++) {
            const float *rows[9];
            for (int t = 0; t < 9; t++) rows[t] = tap_row(p, oy, t / 3, t % 3);
            float *out = p->y + oy * p->out_w;
            for (int64_t ox = 0; ox < p->out_w; ox += 8) {
                __m256i m = sk_mask8(p->out_w - ox);
                __m256 acc = bias;
                for (int t = 0; t < 9; t++) acc = _mm256_fmadd_ps(w[t], _mm256_maskload_ps(rows[t] + ox, m), acc);
                _mm256_maskstore_ps(out + ox, m, sk_act256(p->act, acc));
            }
        }
        return;
    }
    for (int64_t oy = 0; oy < p->out_h; oy++) {
        float *out = p->y + oy * p->out_w;
        for (int64_t ox = 0; ox < p->out_w; ox += 8) {
            __m256i m = sk_mask8(p->out_w - ox);
            __m256 acc = bias;
            for (int64_t ky = 0; ky < p->kernel_h; ky++)
                for (int64_t kx = 0; kx < p->kernel_w; kx++)
                    acc = _mm256_fmadd_ps(_mm256_set1_ps(p->w[ky * p->kernel_w + kx]),
                                          _mm256_maskload_ps(tap_row(p, oy, ky, kx) + ox, m), acc);
            _mm256_maskstore_ps(out + ox, m, sk_act256(p->act, acc));
        }
    }
}

SK_END_ISA
