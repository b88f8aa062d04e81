/* AVX-512 im2col block. Lanes outside the input are masked off the loads (nothing outside
 * the plane is read) and come out as zeros.
 * - "Same" stride-1 convolutions (output plane = input plane, e.g. every 3x3 of a ResNet
 *   but the first of a stage): in the channel-major layout, tap (ky, kx) of output
 *   position q of a plane is input position q + (ky - p)·W + (kx - p), so each row of X
 *   is the input plane shifted, with a per-tap validity mask. Whole planes are copied 16
 *   positions at a time: a 4x4 plane is one masked load and store per channel and tap
 *   (the run-by-run form below writes 4 lanes of 16 there).
 * - Otherwise run by run (one output row of one sample): one masked load and store per
 *   16 columns; stride 2 loads 32 consecutive inputs and keeps the even ones. */
#include "ops_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx512.h"

SK_BEGIN_AVX512
#include "vec_avx512.h"

/* Lanes [lo, hi) of 16, clipped to [0, 16). */
static inline __mmask16 lanes(int64_t lo, int64_t hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* Taps times 16-position groups of a plane, most: 3x3 taps over a 64x64 plane. */
#define PLANE_MASKS (9 * 256)

/* For every tap: the input offset of its (ky - p, kx - p) shift, and per group of 16
 * output positions the lanes whose input (oy·s + ky - p, ox·s + kx - p) lies in the plane. */
static void tap_masks(const sk_op_conv_geometry *g, int64_t out_w, int64_t s, int64_t P, int64_t groups,
                      int64_t shift[9], __mmask16 *valid) {
    const int64_t kw = g->kernel_w, p = g->padding, W = g->width, H = g->height;
    for (int64_t t = 0; t < g->kernel_h * kw; t++) {
        const int64_t dy = t / kw - p, dx = t % kw - p;
        shift[t] = dy * W + dx;
        for (int64_t j = 0; j < groups; j++) {
            __mmask16 m = 0;
            for (int l = 0; l < 16; l++) {
                int64_t q = 16 * j + l, iy = q / out_w * s + dy, ix = q % out_w * s + dx;
                if (q < P && iy >= 0 && iy < H && ix >= 0 && ix < W) m |= (__mmask16)(1u << l);
            }
            valid[t * groups + j] = m;
        }
    }
}

static void same_planes(const sk_op_conv_geometry *g, const float *x, int64_t ldx, int64_t col_begin,
                        int64_t col_end, float *out, int64_t ldo) {
    const int64_t kh = g->kernel_h, kw = g->kernel_w, W = g->width, H = g->height;
    const int64_t P = H * W, groups = (P + 15) / 16, taps = kh * kw, C = g->channels;
    __mmask16 valid[PLANE_MASKS];
    int64_t shift[9];
    tap_masks(g, W, 1, P, groups, shift, valid);
    /* Row by row within a sample, so each row of X is written front to back. */
    for (int64_t b = col_begin / P; b * P < col_end; b++) {
        const int64_t qa = sk_op_max(col_begin - b * P, 0), qb = sk_op_min(col_end - b * P, P);
        for (int64_t c = 0; c < C; c++) {
            for (int64_t t = 0; t < taps; t++) {
                const float *src = x + c * ldx + b * P + shift[t];
                float *dst = out + (c * taps + t) * ldo + (b * P - col_begin);
                for (int64_t j = qa / 16; 16 * j < qb; j++) {
                    const __mmask16 store = lanes(qa - 16 * j, qb - 16 * j);
                    _mm512_mask_storeu_ps(dst + 16 * j, store, _mm512_maskz_loadu_ps(valid[t * groups + j] & store, src + 16 * j));
                }
            }
        }
    }
}

/* Small output planes of other geometries (a stride-2 layer's 4x4 or 8x8 output, whose
 * rows are runs of 4 or 8): whole output planes 16 positions at a time with a gather,
 * index (oy·s - p + ky)·W + ox·s - p + kx, masked where it falls outside the input. */
static void gathered_planes(const sk_op_conv_geometry *g, const float *x, int64_t ldx, int64_t col_begin,
                            int64_t col_end, float *out, int64_t ldo) {
    const int64_t kh = g->kernel_h, kw = g->kernel_w, s = g->stride, W = g->width, H = g->height;
    const int64_t Pin = H * W, P = g->out_h * g->out_w, groups = (P + 15) / 16, taps = kh * kw, C = g->channels;
    __mmask16 valid[PLANE_MASKS];
    int32_t index[PLANE_MASKS / 9 * 16];
    for (int64_t j = 0; j < groups; j++)
        for (int l = 0; l < 16; l++) {
            int64_t q = sk_op_min(16 * j + l, P - 1);
            index[16 * j + l] = (int32_t)((q / g->out_w) * s * W + (q % g->out_w) * s);
        }
    int64_t shift[9];
    tap_masks(g, g->out_w, s, P, groups, shift, valid);
    for (int64_t b = col_begin / P; b * P < col_end; b++) {
        const int64_t qa = sk_op_max(col_begin - b * P, 0), qb = sk_op_min(col_end - b * P, P);
        for (int64_t c = 0; c < C; c++) {
            for (int64_t t = 0; t < taps; t++) {
                const float *src = x + c * ldx + b * Pin + shift[t];
                float *dst = out + (c * taps + t) * ldo + (b * P - col_begin);
                for (int64_t j = qa / 16; 16 * j < qb; j++) {
                    const __mmask16 store = lanes(qa - 16 * j, qb - 16 * j);
                    const __m512i at = _mm512_loadu_si512(index + 16 * j);
                    __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid[t * groups + j] & store, at, src, 4);
                    _mm512_mask_storeu_ps(dst + 16 * j, store, v);
                }
            }
        }
    }
}

void sk_op_im2col_block__avx512(const sk_op_conv_geometry *g, const float *x, int64_t ldx,
                                int64_t col_begin, int64_t col_end, float *out, int64_t ldo) {
    const int64_t kh = g->kernel_h, kw = g->kernel_w, s = g->stride, p = g->padding;
    const int64_t out_groups = (g->out_h * g->out_w + 15) / 16;
    if (s == 1 && g->out_h == g->height && g->out_w == g->width && kh * kw <= 9 && out_groups * kh * kw <= PLANE_MASKS) {
        same_planes(g, x, ldx, col_begin, col_end, out, ldo);
        return;
    }
    if (g->out_w < 16 && kh * kw <= 9 && out_groups * 9 <= PLANE_MASKS && g->height * g->width < (1 << 30)) {
        gathered_planes(g, x, ldx, col_begin, col_end, out, ldo);
        return;
    }
    const int64_t W = g->width, H = g->height, plane = H * W, C = g->channels;
    if (s > 2) {
        sk_op_im2col_block__scalar(g, x, ldx, col_begin, col_end, out, ldo);
        return;
    }
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    /* The block's runs first, then row by row (channel, tap) over them, so each row of X
     * is written front to back. */
    enum { MAX_RUNS = 256 };
    int64_t run_n[MAX_RUNS], run_b[MAX_RUNS], run_oy[MAX_RUNS], run_ox[MAX_RUNS], run_len[MAX_RUNS];
    int64_t count = 0, stop = col_begin;
    SK_OP_FOR_EACH_RUN(g, col_begin, col_end, b, oy, ox0, len, n, {
        run_n[count] = n; run_b[count] = b; run_oy[count] = oy; run_ox[count] = ox0; run_len[count] = len;
        count++;
        stop = n + len;
        if (count == MAX_RUNS) break;
    });
    for (int64_t c = 0; c < C; c++) {
        for (int64_t ky = 0; ky < kh; ky++) {
            for (int64_t kx = 0; kx < kw; kx++) {
                float *row = out + ((c * kh + ky) * kw + kx) * ldo - col_begin;
                for (int64_t r = 0; r < count; r++) {
                    const int64_t iy = run_oy[r] * s - p + ky, ix0 = run_ox[r] * s - p + kx, len = run_len[r];
                    const int row_inside = iy >= 0 && iy < H;
                    const float *src = x + c * ldx + run_b[r] * plane + iy * W + ix0;
                    float *dst = row + run_n[r];
                    for (int64_t i = 0; i < len; i += 16) {
                        const __mmask16 store = sk_mask16(len - i);
                        __m512 v = _mm512_setzero_ps();
                        if (row_inside && s == 1) {
                            const int64_t first = ix0 + i; /* input column of lane 0 */
                            v = _mm512_maskz_loadu_ps(lanes(-first, W - first) & store, src + i);
                        } else if (row_inside) {
                            const int64_t first = ix0 + 2 * i; /* input column of element 0 of the 32 */
                            __m512 lo = _mm512_maskz_loadu_ps(lanes(-first, W - first), src + 2 * i);
                            __m512 hi = _mm512_maskz_loadu_ps(lanes(-first - 16, W - first - 16), src + 2 * i + 16);
                            v = _mm512_permutex2var_ps(lo, evens, hi);
                        }
                        _mm512_mask_storeu_ps(dst + i, store, v);
                    }
                }
            }
        }
    }
    if (stop < col_end) /* more runs than fit the table: the rest of the block */
        sk_op_im2col_block__avx512(g, x, ldx, stop, col_end, out + (stop - col_begin), ldo);
}

SK_END_ISA
