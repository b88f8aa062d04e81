/* AVX2+FMA dense GEMV (N == 1), memory bound: one k step of a 16-row strip is two ymm
 * (rows 0-7 and 8-15) times broadcast x[k]; k unrolled by 4 with separate accumulators
 * (8 independent FMA chains). */
#include "dense_internal.h"
#include <immintrin.h>

SK_BEGIN_AVX2

void sk_f32_gemv__avx2_16x(const sk_dense *a, int64_t s0, int64_t s1, const float *x,
                           int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {
    const int64_t k = a->k;
    for (int64_t s = s0; s < s1; s++) {
        const float *w = sk_dense_strip(a, s);
        __m256 lo[4], hi[4];
        for (int u = 0; u < 4; u++) lo[u] = hi[u] = _mm256_setzero_ps();
        int64_t p = 0;
        for (; p + 4 <= k; p += 4) {
            for (int u = 0; u < 4; u++) {
                __m256 xv = _mm256_broadcast_ss(x + (p + u) * ldx);
                lo[u] = _mm256_fmadd_ps(_mm256_load_ps(w + (p + u) * 16), xv, lo[u]);
                hi[u] = _mm256_fmadd_ps(_mm256_load_ps(w + (p + u) * 16 + 8), xv, hi[u]);
            }
        }
        for (; p < k; p++) {
            __m256 xv = _mm256_broadcast_ss(x + p * ldx);
            lo[0] = _mm256_fmadd_ps(_mm256_load_ps(w + p * 16), xv, lo[0]);
            hi[0] = _mm256_fmadd_ps(_mm256_load_ps(w + p * 16 + 8), xv, hi[0]);
        }
        float out[SK_DENSE_MR];
        _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(lo[0], lo[1]), _mm256_add_ps(lo[2], lo[3])));
        _mm256_storeu_ps(out + 8, _mm256_add_ps(_mm256_add_ps(hi[0], hi[1]), _mm256_add_ps(hi[2], hi[3])));
        int64_t row0 = s * SK_DENSE_MR;
        for (int r = 0; r < SK_DENSE_MR && row0 + r < a->m; r++)
            y[(row0 + r) * ldy] = sk_epilogue_apply(ep, row0 + r, 0, out[r]);
    }
}

SK_END_ISA
