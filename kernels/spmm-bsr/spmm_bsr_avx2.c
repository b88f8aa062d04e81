/* AVX2+FMA BSR SpMM (N >= 2): the AVX-512 design (spmm_bsr_avx512.c) on 8-float ymm
 * vectors and 16 registers. Register tile ROWS × NV ymm: 1×8, 2×4, 4×2, and 6×2 slices
 * for blocks of 8+ rows: at most 12 accumulators, plus the NV X vectors and one
 * broadcast weight, within the 16 registers. */
#include <immintrin.h>
#include "../common/sk_activation_avx2.h"
#include "bsr_internal.h"

SK_BEGIN_AVX2

/* All-ones in the first `count` (1..8) lanes, for maskload / maskstore. */
static inline __m256i lanes_mask(int64_t count) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count > 8 ? 8 : count)), lane);
}

static inline __attribute__((always_inline)) void
register_tile(const sk_bsr *a, int64_t br, int row0, int valid_rows, int64_t j, __m256i tail,
              const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep,
              const int ROWS, const int NV, const int MASKED) {
    const int r = a->r, c = a->c;
    const int64_t block_size = (int64_t)r * c;
    __m256 acc[6][8]; /* fixed size so the unrolled accumulators become registers */
    #pragma unroll
    for (int i = 0; i < ROWS; i++)
        #pragma unroll
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();

    const int64_t b_end = a->row_start[br + 1];
    for (int64_t b = a->row_start[br]; b < b_end; b++) {
        const float *w = a->values + b * block_size + row0;
        const float *xk = x + (int64_t)a->block_col[b] * c * ldx; /* x: column j */
        const int cols = bsr_valid_cols(a, a->block_col[b]);     /* c but on a ragged edge */
        for (int kk = 0; kk < cols; kk++, w += r, xk += ldx) {
            __m256 xv[8];
#pragma unroll
            for (int v = 0; v < NV; v++)
                xv[v] = MASKED && v == NV - 1 ? _mm256_maskload_ps(xk + 8 * v, tail) : _mm256_loadu_ps(xk + 8 * v);
#pragma unroll
            for (int i = 0; i < ROWS; i++) {
                const __m256 wi = _mm256_broadcast_ss(w + i);
#pragma unroll
                for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(wi, xv[v], acc[i][v]);
            }
        }
    }

    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int activation = ep ? (int)ep->activation : 0;
    const __m256i all = _mm256_set1_epi32(-1);
    #pragma unroll
    for (int i = 0; i < ROWS; i++) {
        if (i >= valid_rows) break; /* rows past the bottom of W (ragged last block row) */
        const int64_t row = br * r + row0 + i;
        float *yrow = y + row * ldy + j;
        const float *rrow = residual ? residual + row * ep->ld_residual + j : NULL;
        const __m256 bias_v = _mm256_set1_ps(bias ? bias[row] : 0.0f);
        #pragma unroll
        for (int v = 0; v < NV; v++) {
            const __m256i mask = v == NV - 1 ? tail : all;
            __m256 out = acc[i][v];
            if (bias) out = _mm256_add_ps(out, bias_v);
            if (rrow) out = _mm256_add_ps(out, _mm256_maskload_ps(rrow + 8 * v, mask));
            out = sk_activate_ymm(out, activation);
            _mm256_maskstore_ps(yrow + 8 * v, mask, out);
        }
    }
}

typedef void (*tile_fn)(const sk_bsr *a, int64_t br, int row0, int valid_rows, int64_t j, __m256i tail,
                        const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);

/* Every tile exists masked (its last vector keeps the lanes in `tail`); the widest
 * tile of each height also exists unmasked, since the mask costs a register. */
#define DEFINE_TILE(ROWS, NV)                                                                     \
    static void sk_f32_spmm_bsr__avx2_tile_##ROWS##x##NV(                                         \
        const sk_bsr *a, int64_t br, int row0, int valid_rows, int64_t j, __m256i tail,           \
        const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {              \
        register_tile(a, br, row0, valid_rows, j, tail, x, ldx, y, ldy, ep, ROWS, NV, 1);         \
    }
#define DEFINE_FULL_TILE(ROWS, NV)                                                                \
    static void sk_f32_spmm_bsr__avx2_full_tile_##ROWS##x##NV(                                    \
        const sk_bsr *a, int64_t br, int row0, int valid_rows, int64_t j, __m256i tail,           \
        const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {              \
        register_tile(a, br, row0, valid_rows, j, tail, x, ldx, y, ldy, ep, ROWS, NV, 0);         \
    }
#define T(ROWS, NV) sk_f32_spmm_bsr__avx2_tile_##ROWS##x##NV
#define F(ROWS, NV) sk_f32_spmm_bsr__avx2_full_tile_##ROWS##x##NV

DEFINE_TILE(1, 1) DEFINE_TILE(1, 2) DEFINE_TILE(1, 3) DEFINE_TILE(1, 4)
DEFINE_TILE(1, 5) DEFINE_TILE(1, 6) DEFINE_TILE(1, 7) DEFINE_TILE(1, 8)
DEFINE_TILE(2, 1) DEFINE_TILE(2, 2) DEFINE_TILE(2, 3) DEFINE_TILE(2, 4)
DEFINE_TILE(4, 1) DEFINE_TILE(4, 2)
DEFINE_TILE(6, 1) DEFINE_TILE(6, 2)
DEFINE_FULL_TILE(1, 8) DEFINE_FULL_TILE(2, 4) DEFINE_FULL_TILE(4, 2) DEFINE_FULL_TILE(2, 2)
DEFINE_FULL_TILE(6, 2)

/* Tile shapes: rows × vectors (12 accumulators at most). Blocks of 8 or more rows run
 * 6-row slices (6×2: 12 accumulators, 2 X vectors, 1 broadcast = 15 registers) and end
 * with a 2- or 4-row slice (8 = 6+2, 16 = 6+6+4, 32 = 5·6+2) on the same 16 columns. */
static tile_fn pick_tile(int rows, int vectors, int masked) {
    static const tile_fn masked_tiles[7][9] = {
        [1] = { NULL, T(1, 1), T(1, 2), T(1, 3), T(1, 4), T(1, 5), T(1, 6), T(1, 7), T(1, 8) },
        [2] = { NULL, T(2, 1), T(2, 2), T(2, 3), T(2, 4) },
        [4] = { NULL, T(4, 1), T(4, 2) },
        [6] = { NULL, T(6, 1), T(6, 2) },
    };
    if (!masked) {
        switch (rows * 16 + vectors) {
        case 1 * 16 + 8: return F(1, 8);
        case 2 * 16 + 4: return F(2, 4);
        case 2 * 16 + 2: return F(2, 2);
        case 4 * 16 + 2: return F(4, 2);
        case 6 * 16 + 2: return F(6, 2);
        }
    }
    return masked_tiles[rows][vectors];
}

/* Vectors of the main tile for blocks of r rows. */
static int tile_vectors(int r) { return r >= 4 ? 2 : r == 2 ? 4 : 8; }

int64_t sk_bsr_spmm_tile_cols__avx2(int r) { return 8 * (int64_t)tile_vectors(r); }

void sk_f32_spmm_bsr__avx2(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                           int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                           float *y, int64_t ldy, const sk_epilogue *ep, float *panel) {
    const int r = a->r;
    const int slice_rows = r >= 8 ? 6 : r;             /* rows of the main tile */
    const int nv = tile_vectors(r);                    /* its vectors */
    const int last_rows = r >= 8 ? r % 6 : 0;           /* a final, shorter slice */
    const int64_t tile_cols = 8 * (int64_t)nv;
    const __m256i full_tail = _mm256_set1_epi32(-1);
    /* The AVX2 tiles are 16–64 columns wide, 1–4 cache lines of each X row: a contiguous
     * panel always pays when X is reused enough (bsr_internal.h); the driver then hands
     * this part a panel-sized scratch. */
    for (int64_t j = col_begin; j < col_end; j += tile_cols) {
        const int64_t width = col_end - j < tile_cols ? col_end - j : tile_cols;
        const int64_t vectors = (width + 7) / 8;
        const int masked = width < tile_cols;
        const __m256i tail = masked ? lanes_mask(width - 8 * (vectors - 1)) : full_tail;
        const tile_fn main_tile = pick_tile(slice_rows, (int)vectors, masked);
        const tile_fn last_tile = last_rows ? pick_tile(last_rows, (int)vectors, masked) : NULL;
        const float *xj = x + j;
        int64_t ld_xj = ldx;
        if (panel) {
            ld_xj = sk_bsr_pack_x_panel(panel, x + j, ldx, a->k, width);
            xj = panel;
        }
        for (int64_t br = brow_begin; br < brow_end; br++) {
            const int valid = bsr_valid_rows(a, br);
            int row0 = 0;
            for (; row0 + slice_rows <= r && row0 < valid; row0 += slice_rows)
                main_tile(a, br, row0, valid - row0, j, tail, xj, ld_xj, y, ldy, ep);
            if (last_rows && row0 < valid) last_tile(a, br, row0, valid - row0, j, tail, xj, ld_xj, y, ldy, ep);
        }
    }
}

SK_END_ISA
