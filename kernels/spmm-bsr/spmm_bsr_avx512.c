/* AVX-512 BSR SpMM (N >= 2): every stored block is a small dense GEMM.
 *
 * Register tile: ROWS output rows × NV zmm (16·NV Y columns) of accumulators, held in
 * registers across ALL the blocks of a block row and stored once, epilogue fused. For
 * every k-row of a block the NV vectors of that X row are loaded once and each of the
 * ROWS weights (adjacent in the column-major block) is broadcast against them, so one
 * X vector feeds ROWS FMAs and one broadcast weight feeds NV FMAs.
 *
 * ROWS = min(r, 8): 8×3 (24 accumulators), 4×6, 2×8, 1×8. Blocks of 16 or 32 rows run
 * their 8-row slices one after the other on the same column tile, while the X rows of
 * that block row are still in L1/L2. Column tiles are the outer loop, so one tile's X
 * columns (k × 48 floats for 8×3) stay in L2 across all the thread's block rows; they
 * are packed into a contiguous panel (the part's scratch, from the driver) when a
 * power-of-two ldx would make them collide in L2, and always for 1–2 row blocks (see
 * sk_bsr_x_panel_floats in bsr_internal.h).
 *
 * Measured on Zen 4 (1 zmm FMA per cycle per core): 16×16, 8×8, 4×4 blocks at 90%
 * sparsity run at ~97–100% of the FMA peak on N = 256. */
#include <immintrin.h>
#include "../common/sk_activation_avx512.h"
#include "bsr_internal.h"

SK_BEGIN_AVX512

/* Mask of the first `count` (1..16) lanes. */
static inline __mmask16 lanes_mask(int64_t count) {
    return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1u);
}

/* One register tile: rows row0 .. row0+ROWS-1 of block row `br`, Y columns
 * j .. j+16·NV-1, of which the last vector keeps only the lanes in `tail`. `x` points
 * at column j of X (or of its packed panel), `ldx` is that matrix's row stride. ROWS and NV
 * are compile-time constants in every caller, so the accumulator array lives in
 * registers and the i/v loops unroll completely. */
static inline __attribute__((always_inline)) void
register_tile(const sk_bsr *a, int64_t br, int row0, int valid_rows, int64_t j, __mmask16 tail,
              const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep,
              const int ROWS, const int NV) {
    const int r = a->r, c = a->c;
    const int64_t block_size = (int64_t)r * c;
    /* Tiles of fewer than 4 vectors (1–2 row blocks on a few Y columns) would leave too
     * few independent FMA chains to cover the FMA latency: they rotate k-rows over SETS
     * accumulator sets and add the sets up at the end. */
    const int SETS = ROWS * NV >= 4 ? 1 : ROWS * NV >= 2 ? 2 : 4;
    /* Fixed-size arrays (not VLAs): once the loops are unrolled every index is a
     * constant and the accumulators are promoted to registers. */
    __m512 acc[4][8][8];
#pragma unroll
    for (int s = 0; s < SETS; s++)
#pragma unroll
        for (int i = 0; i < ROWS; i++)
#pragma unroll
            for (int v = 0; v < NV; v++) acc[s][i][v] = _mm512_setzero_ps();

    /* acc[set] += (weights w[0..ROWS-1]) × (X row xk) */
#define K_STEP(set, w, xk)                                                                        \
    do {                                                                                          \
        __m512 xv[8];                                                                             \
        _Pragma("unroll") for (int v = 0; v < NV - 1; v++) xv[v] = _mm512_loadu_ps((xk) + 16 * v); \
        xv[NV - 1] = _mm512_maskz_loadu_ps(tail, (xk) + 16 * (NV - 1));                           \
        _Pragma("unroll") for (int i = 0; i < ROWS; i++) {                                        \
            const __m512 wi = _mm512_set1_ps((w)[i]);                                             \
            _Pragma("unroll") for (int v = 0; v < NV; v++)                                        \
                acc[set][i][v] = _mm512_fmadd_ps(wi, xv[v], acc[set][i][v]);                      \
        }                                                                                         \
    } while (0)

    const int64_t b_end = a->row_start[br + 1];
    for (int64_t b = a->row_start[br]; b < b_end; b++) {
        const float *w = a->values + b * block_size + row0;
        const float *xk = x + (int64_t)a->block_col[b] * c * ldx;
        const int cols = bsr_valid_cols(a, a->block_col[b]); /* c but on a ragged right edge */
        int kk = 0;
        if (SETS > 1) {
            for (; kk + SETS <= cols; kk += SETS, w += SETS * r, xk += SETS * ldx) {
#pragma unroll
                for (int s = 0; s < SETS; s++) K_STEP(s, w + s * r, xk + s * ldx);
            }
        }
        for (; kk < cols; kk++, w += r, xk += ldx) K_STEP(0, w, xk);
    }
#undef K_STEP
#pragma unroll
    for (int s = 1; s < SETS; s++)
#pragma unroll
        for (int i = 0; i < ROWS; i++)
#pragma unroll
            for (int v = 0; v < NV; v++) acc[0][i][v] = _mm512_add_ps(acc[0][i][v], acc[s][i][v]);

    /* Epilogue fused at the store: bias[row], residual[row][col], activation. Rows past
     * the bottom of W (a ragged last block row) are not stored. */
    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int activation = ep ? (int)ep->activation : 0;
    #pragma unroll
    for (int i = 0; i < ROWS; i++) {
        if (i >= valid_rows) break;
        const int64_t row = br * r + row0 + i;
        float *yrow = y + row * ldy + j;
        const float *rrow = residual ? residual + row * ep->ld_residual + j : NULL;
        const __m512 bias_v = _mm512_set1_ps(bias ? bias[row] : 0.0f);
        #pragma unroll
        for (int v = 0; v < NV; v++) {
            const __mmask16 mask = v == NV - 1 ? tail : (__mmask16)0xFFFF;
            __m512 out = acc[0][i][v];
            if (bias) out = _mm512_add_ps(out, bias_v);
            if (rrow) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(mask, rrow + 16 * v));
            out = sk_activate_zmm(out, activation);
            _mm512_mask_storeu_ps(yrow + 16 * v, mask, out);
        }
    }
}

typedef void (*tile_fn)(const sk_bsr *a, int64_t br, int row0, int valid_rows, int64_t j, __mmask16 tail,
                        const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);

#define DEFINE_TILE(ROWS, NV)                                                                     \
    static void sk_f32_spmm_bsr__avx512_tile_##ROWS##x##NV(                                       \
        const sk_bsr *a, int64_t br, int row0, int valid_rows, int64_t j, __mmask16 tail,         \
        const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {              \
        register_tile(a, br, row0, valid_rows, j, tail, x, ldx, y, ldy, ep, ROWS, NV);            \
    }
#define DEFINE_TILES_UP_TO_8(ROWS)                                                                \
    DEFINE_TILE(ROWS, 1) DEFINE_TILE(ROWS, 2) DEFINE_TILE(ROWS, 3) DEFINE_TILE(ROWS, 4)            \
    DEFINE_TILE(ROWS, 5) DEFINE_TILE(ROWS, 6) DEFINE_TILE(ROWS, 7) DEFINE_TILE(ROWS, 8)
#define TILE_TABLE_ROW(ROWS)                                                                      \
    { NULL, sk_f32_spmm_bsr__avx512_tile_##ROWS##x1, sk_f32_spmm_bsr__avx512_tile_##ROWS##x2,       \
      sk_f32_spmm_bsr__avx512_tile_##ROWS##x3, sk_f32_spmm_bsr__avx512_tile_##ROWS##x4,             \
      sk_f32_spmm_bsr__avx512_tile_##ROWS##x5, sk_f32_spmm_bsr__avx512_tile_##ROWS##x6,             \
      sk_f32_spmm_bsr__avx512_tile_##ROWS##x7, sk_f32_spmm_bsr__avx512_tile_##ROWS##x8 }

DEFINE_TILES_UP_TO_8(1)
DEFINE_TILES_UP_TO_8(2)
DEFINE_TILE(4, 1) DEFINE_TILE(4, 2) DEFINE_TILE(4, 3) DEFINE_TILE(4, 4) DEFINE_TILE(4, 5) DEFINE_TILE(4, 6)
DEFINE_TILE(8, 1) DEFINE_TILE(8, 2) DEFINE_TILE(8, 3)

/* tiles[log2(ROWS)][NV]; NULL where the tile would not fit in the 32 zmm registers. */
static const tile_fn tiles[4][9] = {
    TILE_TABLE_ROW(1),
    TILE_TABLE_ROW(2),
    { NULL, sk_f32_spmm_bsr__avx512_tile_4x1, sk_f32_spmm_bsr__avx512_tile_4x2,
      sk_f32_spmm_bsr__avx512_tile_4x3, sk_f32_spmm_bsr__avx512_tile_4x4,
      sk_f32_spmm_bsr__avx512_tile_4x5, sk_f32_spmm_bsr__avx512_tile_4x6, NULL, NULL },
    { NULL, sk_f32_spmm_bsr__avx512_tile_8x1, sk_f32_spmm_bsr__avx512_tile_8x2,
      sk_f32_spmm_bsr__avx512_tile_8x3, NULL, NULL, NULL, NULL, NULL },
};
/* Full-width vectors per tile for each ROWS: about 16–24 accumulators. */
static const int full_vectors[4] = { 8, 8, 6, 3 };

static int rows_log2_of(int r) { return r >= 8 ? 3 : r == 4 ? 2 : r == 2 ? 1 : 0; }

int64_t sk_bsr_spmm_tile_cols__avx512(int r) { return 16 * (int64_t)full_vectors[rows_log2_of(r)]; }

void sk_f32_spmm_bsr__avx512(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep, float *panel) {
    const int r = a->r;
    const int rows_log2 = rows_log2_of(r);
    const int rows = 1 << rows_log2;
    const int nv = full_vectors[rows_log2];
    const int64_t tile_cols = 16 * (int64_t)nv;
    const tile_fn full_tile = tiles[rows_log2][nv];
    /* Column tiles outermost: the X columns of one tile (its panel) stay in L2 while
     * every block row of this thread's range runs over them. */
    for (int64_t j = col_begin; j < col_end; j += tile_cols) {
        const int64_t width = col_end - j;
        tile_fn tile = full_tile;
        __mmask16 tail = 0xFFFF;
        if (width < tile_cols) { /* last, narrower tile: fewer vectors, masked tail */
            const int64_t vectors = (width + 15) / 16;
            tile = tiles[rows_log2][vectors];
            tail = lanes_mask(width - 16 * (vectors - 1));
        }
        const float *xj = x + j;
        int64_t ld_xj = ldx;
        if (panel) {
            ld_xj = sk_bsr_pack_x_panel(panel, x + j, ldx, a->k, width < tile_cols ? width : tile_cols);
            xj = panel;
        }
        for (int64_t br = brow_begin; br < brow_end; br++) {
            const int valid = bsr_valid_rows(a, br);
            for (int row0 = 0; row0 < valid; row0 += rows) tile(a, br, row0, valid - row0, j, tail, xj, ld_xj, y, ldy, ep);
        }
    }
}

SK_END_ISA
