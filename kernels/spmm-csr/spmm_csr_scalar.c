/* Portable scalar CSR kernels: plain C, no intrinsics (the reference-speed path). */
#include "csr_internal.h"

void sk_f32_spmm_csr__scalar(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep) {
    /* Column strips of 256 keep the Y strip being accumulated (1 KiB) in L1 while the X
     * rows its nonzeros select stream past; the compiler vectorizes the inner loop. */
    enum { strip = 256 };
    for (int64_t i = row_begin; i < row_end; i++) {
        for (int64_t j0 = col_begin; j0 < col_end; j0 += strip) {
            const int64_t j1 = col_end - j0 < strip ? col_end : j0 + strip;
            float *yrow = y + i * ldy;
            for (int64_t j = j0; j < j1; j++) yrow[j] = 0.0f;
            for (int64_t q = a->row_start[i]; q < a->row_start[i + 1]; q++) {
                const float v = a->val[q];
                const float *xrow = x + (int64_t)a->col[q] * ldx;
                for (int64_t j = j0; j < j1; j++) yrow[j] += v * xrow[j];
            }
            for (int64_t j = j0; j < j1; j++) yrow[j] = sk_epilogue_apply(ep, i, j, yrow[j]);
        }
    }
}

void sk_f32_spmv_csr__scalar(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                             const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {
    for (int64_t i = row_begin; i < row_end; i++) {
        /* four partial sums break the add dependency chain */
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        int64_t q = a->row_start[i];
        const int64_t end = a->row_start[i + 1];
        for (; q + 4 <= end; q += 4) {
            s0 += a->val[q] * x[(int64_t)a->col[q] * ldx];
            s1 += a->val[q + 1] * x[(int64_t)a->col[q + 1] * ldx];
            s2 += a->val[q + 2] * x[(int64_t)a->col[q + 2] * ldx];
            s3 += a->val[q + 3] * x[(int64_t)a->col[q + 3] * ldx];
        }
        for (; q < end; q++) s0 += a->val[q] * x[(int64_t)a->col[q] * ldx];
        y[i * ldy] = sk_epilogue_apply(ep, i, 0, (s0 + s1) + (s2 + s3));
    }
}
