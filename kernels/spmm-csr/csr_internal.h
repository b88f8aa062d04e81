/* Internal layout of the unstructured sparse (CSR-like) weight format, shared by the
 * driver (csr.c) and the per-ISA kernels (spmm_csr_<isa>.c). */
#ifndef CSR_INTERNAL_H
#define CSR_INTERNAL_H
#include "../common/sk_internal.h"

/* Rows of X per K block. The multiply packs one K block × 64 columns of X into a
 * contiguous panel (CSR_KBLOCK × 64 floats = 24 KiB) that stays in the 32 KiB L1 while
 * every output row streams its nonzeros of that block against it. */
#define CSR_KBLOCK 96
/* Widest packed panel in floats: 4 zmm accumulators per output row. */
#define CSR_PANEL_MAX 64

/* Storage: plain CSR (nonzeros of a row sorted by column, uint16 column index), plus
 * for the K-blocked SpMM the number of nonzeros each row has in each K block. Because
 * a row is sorted by column, its nonzeros of block b are the next count[b][row] entries
 * after those of block b-1, so no second copy of the data is needed and the matrix-
 * vector kernel streams exactly values + indices once. */
struct sk_csr {
    int64_t m, k, nnz;
    int64_t kblocks;          /* ceil(k / CSR_KBLOCK) */
    int64_t *row_start;       /* m + 1 */
    uint16_t *col;            /* nnz, column index */
    float *val;               /* nnz */
    uint16_t *block_count;    /* kblocks × m, [block][row]: nonzeros of row in block */
};

/* One K block of an SpMM: rows [row_begin, row_end) against a packed X panel. */
typedef struct csr_block_job {
    const struct sk_csr *a;
    int64_t row_begin, row_end;
    int64_t *cursor;          /* per row (indexed by row - row_begin): next nonzero */
    const uint16_t *count;    /* count of this block, indexed by row */
    const float *panel;       /* packed X rows [k0, k0+CSR_KBLOCK), panel_width floats each */
    int64_t k0;
    int panel_width;          /* floats per packed row: 16, 32, 48 or 64 */
    int valid_cols;           /* columns of Y this tile covers (<= panel_width) */
    int first_block, last_block;
    float *partial;           /* [row - row_begin][panel_width] partial sums between blocks */
    float *y;                 /* Y + tile column offset */
    int64_t ldy, col0;        /* col0: column of the tile in Y (for residual) */
    const sk_epilogue *ep;
} csr_block_job;

void sk_f32_spmm_csr__avx512_block(const csr_block_job *job);
void sk_f32_spmm_csr__avx2_block(const csr_block_job *job);
void sk_f32_spmm_csr__scalar(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                             int64_t n, const float *x, int64_t ldx, float *y, int64_t ldy,
                             const sk_epilogue *ep);

/* N == 1: y[row] = epilogue(dot(row, x)) for rows [row_begin, row_end). */
void sk_f32_spmv_csr__scalar(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                             const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_spmv_csr__avx512(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                             const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_spmv_csr__avx2(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                           const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);
#endif
