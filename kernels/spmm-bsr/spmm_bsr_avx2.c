/* AVX2+FMA BSR SpMM (N >= 2): the AVX-512 design (spmm_bsr_avx512.c) on 8-float ymm
 * vectors and 16 registers. Register tile ROWS × NV ymm: 1×8, 2×4, 4×3 (at most 12
 * accumulators, plus the NV X vectors and one broadcast weight = 16 registers). Blocks
 * with r >= 8 run in 4-row slices over the same column tile. */
#include <immintrin.h>
#include "bsr_internal.h"

SK_BEGIN_AVX2

/* All-ones in the first `count` (1..8) lanes, for maskload / maskstore. */
static inline __m256i lanes_mask(int64_t count) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count > 8 ? 8 : count)), lane);
}

static inline __attribute__((always_inline)) void
register_tile(const sk_bsr *a, int64_t br, int row0, int64_t j, __m256i tail,
              const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep,
              const int ROWS, const int NV, const int MASKED) {
    const int r = a->r, c = a->c;
    const int64_t block_size = (int64_t)r * c;
    __m256 acc[4][8]; /* fixed size so the unrolled accumulators become registers */
    for (int i = 0; i < ROWS; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();

    const int64_t b_end = a->row_start[br + 1];
    for (int64_t b = a->row_start[br]; b < b_end; b++) {
        const float *w = a->values + b * block_size + row0;
        const float *xk = x + (int64_t)a->block_col[b] * c * ldx + j;
        for (int kk = 0; kk < c; kk++, w += r, xk += ldx) {
            __m256 xv[8];
            for (int v = 0; v < NV - 1; v++) xv[v] = _mm256_loadu_ps(xk + 8 * v);
            /* The mask costs a register, which the 4×3 tile cannot spare: only the
             * last, partial tile of a row uses it. */
            xv[NV - 1] = MASKED ? _mm256_maskload_ps(xk + 8 * (NV - 1), tail) : _mm256_loadu_ps(xk + 8 * (NV - 1));
            for (int i = 0; i < ROWS; i++) {
                const __m256 wi = _mm256_broadcast_ss(w + i);
                for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(wi, xv[v], acc[i][v]);
            }
        }
    }

    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int relu = ep ? ep->relu : 0;
    const __m256i all = _mm256_set1_epi32(-1);
    for (int i = 0; i < ROWS; i++) {
        const int64_t row = br * r + row0 + i;
        float *yrow = y + row * ldy + j;
        const float *rrow = residual ? residual + row * ep->ld_residual + j : NULL;
        const __m256 bias_v = _mm256_set1_ps(bias ? bias[row] : 0.0f);
        for (int v = 0; v < NV; v++) {
            const __m256i mask = v == NV - 1 ? tail : all;
            __m256 out = acc[i][v];
            if (bias) out = _mm256_add_ps(out, bias_v);
            if (rrow) out = _mm256_add_ps(out, _mm256_maskload_ps(rrow + 8 * v, mask));
            if (relu) out = _mm256_max_ps(out, _mm256_setzero_ps());
            _mm256_maskstore_ps(yrow + 8 * v, mask, out);
        }
    }
}

typedef void (*tile_fn)(const sk_bsr *a, int64_t br, int row0, int64_t j, __m256i tail,
                        const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);

/* Full tiles (no mask) only exist at each ROWS' widest NV; partial tiles are masked. */
#define DEFINE_TILE(ROWS, NV)                                                                     \
    static void sk_f32_spmm_bsr__avx2_tile_##ROWS##x##NV(                                         \
        const sk_bsr *a, int64_t br, int row0, int64_t j, __m256i tail, const float *x,           \
        int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {                              \
        register_tile(a, br, row0, j, tail, x, ldx, y, ldy, ep, ROWS, NV, 1);                     \
    }
#define DEFINE_FULL_TILE(ROWS, NV)                                                                \
    static void sk_f32_spmm_bsr__avx2_full_tile_##ROWS##x##NV(                                    \
        const sk_bsr *a, int64_t br, int row0, int64_t j, __m256i tail, const float *x,           \
        int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {                              \
        register_tile(a, br, row0, j, tail, x, ldx, y, ldy, ep, ROWS, NV, 0);                     \
    }
#define T(ROWS, NV) sk_f32_spmm_bsr__avx2_tile_##ROWS##x##NV

DEFINE_FULL_TILE(1, 8) DEFINE_FULL_TILE(2, 4) DEFINE_FULL_TILE(4, 2)
static const tile_fn full_tiles[3] = {
    sk_f32_spmm_bsr__avx2_full_tile_1x8, sk_f32_spmm_bsr__avx2_full_tile_2x4,
    sk_f32_spmm_bsr__avx2_full_tile_4x2,
};

DEFINE_TILE(1, 1) DEFINE_TILE(1, 2) DEFINE_TILE(1, 3) DEFINE_TILE(1, 4)
DEFINE_TILE(1, 5) DEFINE_TILE(1, 6) DEFINE_TILE(1, 7) DEFINE_TILE(1, 8)
DEFINE_TILE(2, 1) DEFINE_TILE(2, 2) DEFINE_TILE(2, 3) DEFINE_TILE(2, 4)
DEFINE_TILE(4, 1) DEFINE_TILE(4, 2) DEFINE_TILE(4, 3)

/* tiles[log2(ROWS)][NV] */
static const tile_fn tiles[3][9] = {
    { NULL, T(1, 1), T(1, 2), T(1, 3), T(1, 4), T(1, 5), T(1, 6), T(1, 7), T(1, 8) },
    { NULL, T(2, 1), T(2, 2), T(2, 3), T(2, 4), NULL, NULL, NULL, NULL },
    { NULL, T(4, 1), T(4, 2), T(4, 3), NULL, NULL, NULL, NULL, NULL },
};
static const int full_vectors[3] = { 8, 4, 2 };

void sk_f32_spmm_bsr__avx2(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                           int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                           float *y, int64_t ldy, const sk_epilogue *ep) {
    const int r = a->r;
    const int rows_log2 = r >= 4 ? 2 : r == 2 ? 1 : 0;
    const int rows = 1 << rows_log2;
    const int nv = full_vectors[rows_log2];
    const int64_t tile_cols = 8 * (int64_t)nv;
    const __m256i full_tail = _mm256_set1_epi32(-1);
    for (int64_t br = brow_begin; br < brow_end; br++) {
        for (int64_t j = col_begin; j < col_end; j += tile_cols) {
            const int64_t width = col_end - j;
            tile_fn tile = full_tiles[rows_log2];
            __m256i tail = full_tail;
            if (width < tile_cols) {
                const int64_t vectors = (width + 7) / 8;
                tile = tiles[rows_log2][vectors];
                tail = lanes_mask(width - 8 * (vectors - 1));
            }
            for (int row0 = 0; row0 < r; row0 += rows) tile(a, br, row0, j, tail, x, ldx, y, ldy, ep);
        }
    }
}

SK_END_ISA
