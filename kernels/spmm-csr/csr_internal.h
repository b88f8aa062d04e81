/* Internal layout of the unstructured sparse (CSR-like) weight format, shared by the
 * driver (csr.c) and the per-ISA kernels (spmm_csr_<isa>.c). */
#ifndef CSR_INTERNAL_H
#define CSR_INTERNAL_H
#include "../registry/sk_kernel.h"

/* The SpMM packs one K block × 64 columns of X into a contiguous panel that every
 * output row then streams its nonzeros of that block against; between blocks each row's
 * partial sums round-trip through memory. The block height is picked per matrix at
 * create time: dense-ish matrices use 96 rows (24 KiB, the panel stays in the 32 KiB
 * L1); sparser ones use taller blocks, trading some L1 misses on the panel for fewer
 * partial-sum round trips and longer inner loops per row (measured on Zen 4). */
#define CSR_KBLOCK_MAX 512
#define CSR_KBLOCK_LIMIT 65535 /* per-block counts are uint16 */
/* Rows ahead whose nonzeros the SpMM kernels prefetch (they sit one row-length apart,
 * which the hardware prefetcher does not follow; +10% at 50% sparsity). */
#define CSR_PREFETCH_ROWS 4
/* Packed panel width in floats (the Y columns a row keeps in registers): 64 by default
 * (4 zmm / 8 ymm accumulators); the AVX-512 kernel takes up to 128 (8 zmm: the broadcast
 * of each nonzero then feeds 8 FMAs instead of 4, one load fewer per 8 FMAs), chosen by
 * the tuner through sk_params.nc. */
#define CSR_PANEL_DEFAULT 64
#define CSR_PANEL_MAX 128
#define CSR_PANEL_MAX_AVX2 64

/* Storage: plain CSR (nonzeros of a row sorted by column, uint16 column index), plus
 * for the K-blocked SpMM the number of nonzeros each row has in each K block. Because
 * a row is sorted by column, its nonzeros of block b are the next count[b][row] entries
 * after those of block b-1, so no second copy of the data is needed and the matrix-
 * vector kernel streams exactly values + indices once. */
struct sk_csr {
    sk_format format;         /* SK_FORMAT_CSR */
    int64_t m, k, nnz;
    int64_t kblock;           /* rows of X per K block (see above) */
    int64_t kblocks;          /* ceil(k / kblock) */
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
    /* X rows [k0, k0 + kblock) × the tile's columns, packed panel_width floats apart
     * (zero padded past valid_cols). Packing is always worth it: reading X in place was
     * slower even at 6 uses per X element (64x576x3136 at 90%), and strides that are
     * multiples of 1 KiB would map a tile onto a few L1 sets. */
    const float *panel;
    int64_t k0;
    int panel_width;          /* floats per packed row: a multiple of 16 up to CSR_PANEL_MAX */
    int valid_cols;           /* columns of Y this tile covers (<= panel_width) */
    int first_block, last_block;
    float *partial;           /* [row - row_begin][panel_width] partial sums between blocks */
    float *y;                 /* Y + tile column offset */
    int64_t ldy, col0;        /* col0: column of the tile in Y (for residual) */
    const sk_epilogue *ep;
} csr_block_job;

/* Copies X rows [k0, k0+rows) × columns [n0, n0+cols) into panel[rows][width] (width a
 * multiple of 16, >= cols), zero padding columns cols..width so kernels use full vectors. */
void sk_f32_csr_pack_panel__avx512(float *panel, const float *x, int64_t ldx, int64_t k0,
                                   int64_t rows, int64_t n0, int cols, int width);
void sk_f32_csr_pack_panel__avx2(float *panel, const float *x, int64_t ldx, int64_t k0,
                                 int64_t rows, int64_t n0, int cols, int width);
void sk_f32_spmm_csr__avx512_block(const csr_block_job *job);
void sk_f32_spmm_csr__avx2_block(const csr_block_job *job);
/* Portable path (and the fallback when scratch memory runs out): Y rows
 * [row_begin, row_end) × columns [col_begin, col_end). */
void sk_f32_spmm_csr__scalar(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep);

/* Registry entries (csr.c). */
sk_run_fn sk_csr_run_spmm_scalar, sk_csr_run_spmm_avx512, sk_csr_run_spmm_avx2;
sk_run_fn sk_csr_run_spmv_scalar, sk_csr_run_spmv_fma256;
sk_bytes_fn sk_csr_spmm_scratch, sk_csr_spmv_shared;
sk_defaults_fn sk_csr_spmm_defaults;
sk_prepare_fn sk_csr_spmv_prepare;
/* Rows [begin, end) of part `index` of `parts`, balanced by nonzeros plus a fixed cost
 * per row (higher for the K-blocked SpMM, whose every row pays per-block overhead). */
void sk_csr_split_rows(const struct sk_csr *a, int64_t n, int parts, int index, int64_t *begin, int64_t *end);

/* N == 1: y[row] = epilogue(dot(row, x)) for rows [row_begin, row_end). */
void sk_f32_spmv_csr__scalar(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                             const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_spmv_csr__avx2(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                           const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);
#endif
