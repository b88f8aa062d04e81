/* Portable BSR kernels (SK_ISA_SCALAR): plain C, no intrinsics. Same blocking as the
 * vector kernels, so it doubles as a readable statement of what they compute. They need
 * no scratch and read X in place (any stride), which also makes them the fallback when
 * memory runs out. */
#include "bsr_internal.h"

enum { SCALAR_TILE_COLS = 64 }; /* Y columns kept in the local accumulator tile */

void sk_f32_spmm_bsr__scalar(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep, float *panel) {
    (void)panel;
    const int r = a->r, c = a->c, block_size = r * c;
    float acc[32 * SCALAR_TILE_COLS]; /* r (<= 32) rows × one column tile */
    for (int64_t br = brow_begin; br < brow_end; br++) {
        const int rows = bsr_valid_rows(a, br);
        for (int64_t j = col_begin; j < col_end; j += SCALAR_TILE_COLS) {
            const int width = (int)(col_end - j < SCALAR_TILE_COLS ? col_end - j : SCALAR_TILE_COLS);
            for (int i = 0; i < rows; i++)
                for (int jj = 0; jj < width; jj++) acc[i * SCALAR_TILE_COLS + jj] = 0.0f;
            for (int64_t b = a->row_start[br]; b < a->row_start[br + 1]; b++) {
                const float *w = a->values + b * block_size;
                const float *xb = x + (int64_t)a->block_col[b] * c * ldx + j;
                const int cols = bsr_valid_cols(a, a->block_col[b]);
                for (int kk = 0; kk < cols; kk++) {
                    const float *xrow = xb + kk * ldx;
                    for (int i = 0; i < rows; i++) {
                        const float wv = w[kk * r + i];
                        float *acc_row = acc + i * SCALAR_TILE_COLS;
                        for (int jj = 0; jj < width; jj++) acc_row[jj] += wv * xrow[jj];
                    }
                }
            }
            for (int i = 0; i < rows; i++) {
                const int64_t row = br * r + i;
                for (int jj = 0; jj < width; jj++)
                    y[row * ldy + j + jj] = sk_epilogue_apply(ep, row, j + jj, acc[i * SCALAR_TILE_COLS + jj]);
            }
        }
    }
}

/* N == 1: each block's values are read once, in storage order; x is reused from cache.
 * Even and odd k accumulate separately so a one-row block is not a single serial chain
 * of dependent multiply-adds. */
void sk_f32_gemv_bsr__scalar(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep, float *panel) {
    (void)col_begin;
    (void)col_end;
    (void)panel;
    const int r = a->r, c = a->c, block_size = r * c;
    float even[32], odd[32];
    for (int64_t br = brow_begin; br < brow_end; br++) {
        for (int i = 0; i < r; i++) even[i] = odd[i] = 0.0f;
        for (int64_t b = a->row_start[br]; b < a->row_start[br + 1]; b++) {
            const float *w = a->values + b * block_size;
            const float *xb = x + (int64_t)a->block_col[b] * c * ldx;
            const int cols = bsr_valid_cols(a, a->block_col[b]);
            int kk = 0;
            for (; kk + 1 < cols; kk += 2) {
                const float x0 = xb[kk * ldx], x1 = xb[(kk + 1) * ldx];
                for (int i = 0; i < r; i++) {
                    even[i] += w[kk * r + i] * x0;
                    odd[i] += w[(kk + 1) * r + i] * x1;
                }
            }
            if (kk < cols) { /* an odd number of k-rows */
                const float x0 = xb[kk * ldx];
                for (int i = 0; i < r; i++) even[i] += w[kk * r + i] * x0;
            }
        }
        const int rows = bsr_valid_rows(a, br);
        for (int i = 0; i < rows; i++) {
            const int64_t row = br * r + i;
            y[row * ldy] = sk_epilogue_apply(ep, row, 0, even[i] + odd[i]);
        }
    }
}
