/* Block-sparse (BSR) weights: the shared layout and the per-ISA kernel entry points.
 *
 * Layout. W (m×k) is cut into block_rows × block_cols blocks (r×c below); when r does
 * not divide m or c does not divide k, the blocks on the bottom row / right column are
 * ragged: stored whole, padded with zeros. Block row `br` owns the stored blocks
 * row_start[br] .. row_start[br+1]-1, in increasing block column order; block b covers
 * W columns block_col[b]*c .. +c-1. The r×c values of a block are stored COLUMN-MAJOR
 * (values[b*r*c + kk*r + i] = W[br*r + i][block_col*c + kk]): the multiply walks a block
 * one k-row of X at a time and needs, for that k, the r weights that multiply it, side
 * by side (broadcast into the r row accumulators for a SpMM, or loaded as one vector of
 * r rows for a GEMV).
 *
 * Ragged edges in the kernels: a block of the last block column runs only its
 * bsr_valid_cols() k-rows, so no X row >= k is read, and the last block row stores only
 * its bsr_valid_rows() rows, so no Y row >= m is written. The GEMVs read x from a copy
 * padded with zeros up to block_cols*c (the padded weights are zero too).
 */
#ifndef BSR_INTERNAL_H
#define BSR_INTERNAL_H

#include "../registry/sk_kernel.h"

struct sk_bsr {
    sk_format format;         /* SK_FORMAT_BSR */
    int64_t m, k;
    int r, c;                 /* block shape: rows × columns */
    int64_t block_rows;       /* ceil(m / r) */
    int64_t block_cols;       /* ceil(k / c) */
    int64_t nonzero_blocks;
    int64_t *row_start;       /* block_rows + 1 offsets into block_col / values */
    int32_t *block_col;       /* block column index of each stored block */
    float *values;            /* nonzero_blocks * r * c, column-major inside each block */
    int64_t *work_prefix;     /* block_rows + 1: running estimated cost, for balancing threads */
};

/* Rows of block row br inside W (r except on a ragged bottom edge). */
static inline int bsr_valid_rows(const struct sk_bsr *a, int64_t br) {
    const int64_t left = a->m - br * a->r;
    return left < a->r ? (int)left : a->r;
}
/* K-rows of a block in block column bc inside W (c except on a ragged right edge). */
static inline int bsr_valid_cols(const struct sk_bsr *a, int64_t bc) {
    const int64_t left = a->k - bc * a->c;
    return left < a->c ? (int)left : a->c;
}

/* Every kernel computes Y rows of block rows [brow_begin, brow_end) for Y columns
 * [col_begin, col_end), epilogue included. `panel` is a scratch buffer to pack X
 * columns into (NULL: read X in place). The GEMV kernels (n == 1) ignore the column
 * range (always [0, 1)) and the panel, and read a contiguous x (ldx 1) padded to
 * block_cols*c. */
typedef void (*sk_bsr_kernel)(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                              int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                              float *y, int64_t ldy, const sk_epilogue *ep, float *panel);

void sk_f32_spmm_bsr__scalar(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep, float *panel);
void sk_f32_spmm_bsr__avx2(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                           int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                           float *y, int64_t ldy, const sk_epilogue *ep, float *panel);
void sk_f32_spmm_bsr__avx512(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep, float *panel);
/* The scalar GEMV also takes a strided, unpadded x (it is the no-memory fallback). */
void sk_f32_gemv_bsr__scalar(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep, float *panel);
void sk_f32_gemv_bsr__avx2(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                           int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                           float *y, int64_t ldy, const sk_epilogue *ep, float *panel);
void sk_f32_gemv_bsr__avx512(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep, float *panel);

/* Y columns of one register-tile pass of each ISA's SpMM for blocks of r rows. */
int64_t sk_bsr_spmm_tile_cols__avx512(int r);
int64_t sk_bsr_spmm_tile_cols__avx2(int r);

/* X panels. The SpMM kernels run one column tile (16–128 Y columns) at a time over all
 * their block rows, so the tile's X columns are read again and again from L2. Read in
 * place, rows of a power-of-two stride (ldx = 256, 1024 ... floats) fall into a few L2
 * sets and evict each other; copied into a contiguous panel (row stride = tile width in
 * whole cache lines) they fill the cache evenly and stream well. Kernels whose X traffic
 * is the bottleneck (1–2 row blocks; the narrow AVX2 tiles) measured up to 2x faster on
 * a panel whatever the stride: they pass prefer_packed. Returns the floats of the panel
 * a part should pack X into when packing pays for itself (X rows reused enough by the
 * blocks of brow_begin..brow_end), else 0: read X in place. */
int64_t sk_bsr_x_panel_floats(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                              int64_t tile_cols, int64_t ldx, int prefer_packed);
/* Copies columns [0, width) of the k rows of x (stride ldx) into panel, rows rounded up
 * to whole cache lines (16 floats); returns that panel row stride. */
int64_t sk_bsr_pack_x_panel(float *panel, const float *x, int64_t ldx, int64_t k, int64_t width);

/* N = 1 with 1×1 blocks (defined in gemv_bsr_avx2.c, used by both vector paths). */
void sk_f32_gemv_bsr_1x1__fma(const struct sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                              const float *x, float *y, int64_t ldy, const sk_epilogue *ep);

/* Registry entries (bsr.c). */
sk_run_fn sk_bsr_run_spmm_scalar, sk_bsr_run_spmm_avx512, sk_bsr_run_spmm_avx2;
sk_run_fn sk_bsr_run_gemv_scalar, sk_bsr_run_gemv_avx512, sk_bsr_run_gemv_avx2;
sk_run_fn sk_bsr_run_columns_gemv_avx512, sk_bsr_run_columns_gemv_avx2;
sk_bytes_fn sk_bsr_spmm_scratch_avx512, sk_bsr_spmm_scratch_avx2;
sk_bytes_fn sk_bsr_gemv_shared, sk_bsr_columns_shared;
sk_prepare_fn sk_bsr_gemv_prepare, sk_bsr_columns_prepare;
sk_suits_fn sk_bsr_columns_suits_avx512, sk_bsr_columns_suits_avx2;
/* Block rows [begin, end) of part `index` of `parts`, balanced by estimated cost. */
void sk_bsr_split_rows(const struct sk_bsr *a, int parts, int index, int64_t *begin, int64_t *end);

#endif
