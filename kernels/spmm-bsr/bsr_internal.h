/* Block-sparse (BSR) weights: the shared layout and the per-ISA kernel entry points.
 *
 * Layout. W (m×k) is cut into block_rows × block_cols blocks (r×c below). Block row
 * `br` owns the stored blocks row_start[br] .. row_start[br+1]-1, in increasing block
 * column order; block b covers W columns block_col[b]*c .. +c-1. The r×c values of a
 * block are stored COLUMN-MAJOR (values[b*r*c + kk*r + i] = W[br*r + i][block_col*c + kk]):
 * the multiply walks a block one k-row of X at a time and needs, for that k, the r
 * weights that multiply it, side by side (broadcast into the r row accumulators for a
 * SpMM, or loaded as one vector of r rows for a GEMV).
 */
#ifndef BSR_INTERNAL_H
#define BSR_INTERNAL_H

#include "../common/sk_internal.h"

struct sk_bsr {
    int64_t m, k;
    int r, c;                 /* block shape: rows × columns */
    int64_t block_rows;       /* m / r */
    int64_t block_cols;       /* k / c */
    int64_t nonzero_blocks;
    int64_t *row_start;       /* block_rows + 1 offsets into block_col / values */
    int32_t *block_col;       /* block column index of each stored block */
    float *values;            /* nonzero_blocks * r * c, column-major inside each block */
    int64_t *work_prefix;     /* block_rows + 1: running estimated cost, for balancing threads */
};

/* Every kernel computes Y rows [brow_begin*r, brow_end*r) for Y columns
 * [col_begin, col_end), epilogue included. The GEMV kernels (n == 1) ignore the
 * column range (it is always [0, 1)). */
typedef void (*sk_bsr_kernel)(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                              int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                              float *y, int64_t ldy, const sk_epilogue *ep);

void sk_f32_spmm_bsr__scalar(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_spmm_bsr__avx2(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                           int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                           float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_spmm_bsr__avx512(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep);

void sk_f32_gemv_bsr__scalar(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_gemv_bsr__avx2(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                           int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                           float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_gemv_bsr__avx512(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep);

/* X panels. The SpMM kernels run one column tile (16–128 Y columns) at a time over all
 * their block rows, so the tile's X columns are read again and again from L2. Read in
 * place, rows of a power-of-two stride (ldx = 256, 1024 ... floats) fall into a few L2
 * sets and evict each other; copied into a contiguous panel (row stride = tile width in
 * whole cache lines) they fill the cache evenly and stream well. Kernels whose X traffic is the bottleneck
 * (1–2 row blocks; the narrow AVX2 tiles) measured up to 2x faster on a panel whatever
 * the stride: they pass prefer_packed. sk_bsr_x_panel returns this thread's scratch
 * panel of k × tile_cols floats when packing pays for itself (X rows reused enough by
 * the blocks of brow_begin..brow_end), else NULL: read X in place. */
float *sk_bsr_x_panel(const sk_bsr *a, int64_t brow_begin, int64_t brow_end, int64_t tile_cols,
                      int64_t ldx, int prefer_packed);
/* Copies columns [0, width) of the k rows of x (stride ldx) into panel, rows rounded up
 * to whole cache lines (16 floats); returns that panel row stride. */
int64_t sk_bsr_pack_x_panel(float *panel, const float *x, int64_t ldx, int64_t k, int64_t width);

/* N = 1 with 1×1 blocks (defined in gemv_bsr_avx2.c, used by both vector paths). */
void sk_f32_gemv_bsr_1x1__fma(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                              const float *x, float *y, int64_t ldy, const sk_epilogue *ep);

#endif
