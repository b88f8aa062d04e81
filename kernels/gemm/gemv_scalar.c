/* Portable dense GEMV (N == 1): each 16-row strip is streamed once; one k step is 16
 * contiguous weights (one row each) scaled by the same x[k]. */
#include "dense_internal.h"

void sk_f32_gemv__scalar_16x(const sk_dense *a, int64_t s0, int64_t s1, const float *x,
                             int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {
    for (int64_t s = s0; s < s1; s++) {
        const float *w = sk_dense_strip(a, s);
        float acc[SK_DENSE_MR] = {0};
        for (int64_t p = 0; p < a->k; p++) {
            float xp = x[p * ldx];
            for (int r = 0; r < SK_DENSE_MR; r++) acc[r] += w[p * SK_DENSE_MR + r] * xp;
        }
        int64_t row0 = s * SK_DENSE_MR;
        for (int r = 0; r < SK_DENSE_MR && row0 + r < a->m; r++)
            y[(row0 + r) * ldy] = sk_epilogue_apply(ep, row0 + r, 0, acc[r]);
    }
}
