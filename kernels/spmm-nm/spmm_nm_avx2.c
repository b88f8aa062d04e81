/* Placeholder: forwards to the portable kernels until the avx2 kernels land. */
#include "nm_internal.h"
void sk_f32_spmm_nm__avx2(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                          float *y, int64_t ldy, const sk_epilogue *ep, int threads) {
    sk_f32_spmm_nm__scalar(a, n_cols, x, ldx, y, ldy, ep, threads);
}
void sk_f32_gemv_nm__avx2(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                          float *y, int64_t ldy, const sk_epilogue *ep, int threads) {
    sk_f32_gemv_nm__scalar(a, n_cols, x, ldx, y, ldy, ep, threads);
}
