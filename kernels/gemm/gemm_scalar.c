/* Portable dense GEMM: plain C over the packed 16-row strips, reading X in place.
 * A 16x16 accumulator tile lives on the stack (no heap), which is also why the driver
 * uses this path as the fallback when a pack buffer cannot be allocated. */
#include "dense_internal.h"

#define TILE_COLS 16

/* Accumulate one full 16x16 tile; constant bounds let the compiler vectorize/unroll. */
static void tile_full(int64_t k, const float *w, const float *x, int64_t ldx,
                      float acc[SK_DENSE_MR][TILE_COLS]) {
    for (int64_t p = 0; p < k; p++) {
        const float *wk = w + p * SK_DENSE_MR;
        const float *xk = x + p * ldx;
        for (int r = 0; r < SK_DENSE_MR; r++)
            for (int c = 0; c < TILE_COLS; c++) acc[r][c] += wk[r] * xk[c];
    }
}

static void tile_partial(int64_t k, const float *w, const float *x, int64_t ldx, int cols,
                         float acc[SK_DENSE_MR][TILE_COLS]) {
    for (int64_t p = 0; p < k; p++) {
        const float *wk = w + p * SK_DENSE_MR;
        const float *xk = x + p * ldx;
        for (int r = 0; r < SK_DENSE_MR; r++)
            for (int c = 0; c < cols; c++) acc[r][c] += wk[r] * xk[c];
    }
}

void sk_f32_gemm__scalar_16x16(const sk_dense *a, int64_t s0, int64_t s1, int64_t c0,
                               int64_t c1, const float *x, int64_t ldx, float *y,
                               int64_t ldy, const sk_epilogue *ep) {
    for (int64_t s = s0; s < s1; s++) {
        const float *w = sk_dense_strip(a, s);
        int64_t row0 = s * SK_DENSE_MR;
        int rows = (int)(a->m - row0 < SK_DENSE_MR ? a->m - row0 : SK_DENSE_MR);
        for (int64_t j = c0; j < c1; j += TILE_COLS) {
            int cols = (int)(c1 - j < TILE_COLS ? c1 - j : TILE_COLS);
            float acc[SK_DENSE_MR][TILE_COLS] = {{0}};
            if (cols == TILE_COLS) tile_full(a->k, w, x + j, ldx, acc);
            else tile_partial(a->k, w, x + j, ldx, cols, acc);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    y[(row0 + r) * ldy + j + c] = sk_epilogue_apply(ep, row0 + r, j + c, acc[r][c]);
        }
    }
}
