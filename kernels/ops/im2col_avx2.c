/* AVX2 im2col block: as the AVX-512 one (im2col_avx512.c) with 8-lane masked loads and
 * stores, stride 1 only; other strides take the scalar rows. */
#include "ops_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx2.h"

SK_BEGIN_AVX2
#include "vec_avx2.h"

/* Lanes [lo, hi) of 8 as a maskload mask. */
static inline __m256i lanes(int64_t lo, int64_t hi) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    if (lo < -1) lo = -1;
    if (lo > 8) lo = 8;
    if (hi < 0) hi = 0;
    if (hi > 8) hi = 8;
    __m256i above = _mm256_cmpgt_epi32(index, _mm256_set1_epi32((int)lo - 1));
    __m256i below = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), index);
    return _mm256_and_si256(above, below);
}

void sk_op_im2col_block__avx2(const sk_op_conv_geometry *g, const float *x, int64_t ldx,
                              int64_t col_begin, int64_t col_end, float *out, int64_t ldo) {
    const int64_t kh = g->kernel_h, kw = g->kernel_w, p = g->padding;
    const int64_t W = g->width, H = g->height, plane = H * W, C = g->channels;
    if (g->stride != 1) {
        sk_op_im2col_block__scalar(g, x, ldx, col_begin, col_end, out, ldo);
        return;
    }
    SK_OP_FOR_EACH_RUN(g, col_begin, col_end, b, oy, ox0, len, n, {
        float *run = out + (n - col_begin);
        for (int64_t ky = 0; ky < kh; ky++) {
            const int64_t iy = oy - p + ky;
            const int row_inside = iy >= 0 && iy < H;
            for (int64_t kx = 0; kx < kw; kx++) {
                const int64_t ix0 = ox0 - p + kx;
                for (int64_t c = 0; c < C; c++) {
                    float *dst = run + ((c * kh + ky) * kw + kx) * ldo;
                    const float *src = x + c * ldx + b * plane + iy * W + ix0;
                    for (int64_t i = 0; i < len; i += 8) {
                        const __m256i store = sk_mask8(len - i);
                        __m256 v = _mm256_setzero_ps();
                        if (row_inside) {
                            const int64_t first = ix0 + i;
                            v = _mm256_maskload_ps(src + i, _mm256_and_si256(lanes(-first, W - first), store));
                        }
                        _mm256_maskstore_ps(dst + i, store, v);
                    }
                }
            }
        }
    });
}

SK_END_ISA
