/* AVX-512 BSR matrix-vector product (N == 1). Memory bound: the block values are
 * streamed once, in storage order (a block row's blocks are contiguous), and x
 * (contiguous: bsr.c packs a strided x first) stays in cache. Every path keeps four
 * independent accumulators so FMA latency never limits the stream.
 *
 * r >= 16  a block column (the r weights of one k) is r/16 whole vectors, multiplied by
 *          the broadcast x[k].
 * r < 16, r·c >= 16  the block row's values are cut into 16-float chunks: lane l of a
 *          chunk is row l % r of block column l / r. x is loaded for the chunk's 16/r
 *          columns and spread to the lanes with one permute; lanes of equal l % r are
 *          summed once per block row.
 * r·c <= 8  one masked 8-lane vector per block, x spread by a permute.
 * 1×1      scalar (plain CSR).
 * bsr.c also runs N = 2..3 through here, one column at a time (see gemv_columns_max). */
#include <immintrin.h>
#include "bsr_internal.h"

SK_BEGIN_AVX512

static inline __mmask16 lanes_mask(int64_t count) {
    return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1u);
}

/* Sums the lanes that belong to the same row (lane l holds row l % r, r in 1..8) by
 * folding the vector in halves, and stores the r results with the epilogue. */
static void store_lane_sums(__m512 acc, int r, int valid, int64_t row0, float *y, int64_t ldy,
                            const sk_epilogue *ep) {
    __m256 folded8 = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm512_extractf32x8_ps(acc, 1));
    __m128 folded4 = _mm_add_ps(_mm256_castps256_ps128(folded8), _mm256_extractf128_ps(folded8, 1));
    __m128 folded2 = _mm_add_ps(folded4, _mm_movehl_ps(folded4, folded4));
    __m128 folded1 = _mm_add_ss(folded2, _mm_shuffle_ps(folded2, folded2, 1));
    float sums[8];
    if (r == 8) _mm256_storeu_ps(sums, folded8);
    else if (r == 4) _mm_storeu_ps(sums, folded4);
    else if (r == 2) _mm_storel_pi((__m64 *)sums, folded2);
    else sums[0] = _mm_cvtss_f32(folded1);
    for (int i = 0; i < valid; i++) y[(row0 + i) * ldy] = sk_epilogue_apply(ep, row0 + i, 0, sums[i]);
}

/* r in {16, 32}: RV = r / 16 row vectors; k-rows rotate over 4 accumulator sets. */
static inline __attribute__((always_inline)) void
gemv_tall_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end, const float *x,
                 float *y, int64_t ldy, const sk_epilogue *ep, const int RV) {
    const int c = a->c, r = 16 * RV;
    for (int64_t br = brow_begin; br < brow_end; br++) {
        __m512 acc[4][2];
#pragma unroll
        for (int s = 0; s < 4; s++)
#pragma unroll
            for (int v = 0; v < RV; v++) acc[s][v] = _mm512_setzero_ps();
        const int64_t b_end = a->row_start[br + 1];
        for (int64_t b = a->row_start[br]; b < b_end; b++) {
            const float *w = a->values + b * (int64_t)r * c;
            const float *xb = x + (int64_t)a->block_col[b] * c;
            int kk = 0;
            for (; kk + 3 < c; kk += 4, w += 4 * r) {
#pragma unroll
                for (int s = 0; s < 4; s++) {
                    const __m512 xs = _mm512_set1_ps(xb[kk + s]);
#pragma unroll
                    for (int v = 0; v < RV; v++)
                        acc[s][v] = _mm512_fmadd_ps(_mm512_loadu_ps(w + s * r + 16 * v), xs, acc[s][v]);
                }
            }
            for (; kk < c; kk++, w += r) { /* c < 4 */
                const __m512 xs = _mm512_set1_ps(xb[kk]);
#pragma unroll
                for (int v = 0; v < RV; v++) acc[0][v] = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * v), xs, acc[0][v]);
            }
        }
        float sums[32];
#pragma unroll
        for (int v = 0; v < RV; v++)
            _mm512_storeu_ps(sums + 16 * v, _mm512_add_ps(_mm512_add_ps(acc[0][v], acc[1][v]),
                                                          _mm512_add_ps(acc[2][v], acc[3][v])));
        const int valid = bsr_valid_rows(a, br); /* ragged last block row */
        for (int i = 0; i < valid; i++) y[(br * r + i) * ldy] = sk_epilogue_apply(ep, br * r + i, 0, sums[i]);
    }
}

/* r < 16 and r·c >= 16: the block row is a stream of 16-float chunks, 2^chunk_shift
 * of them per block. */
static void gemv_chunked_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                                const float *x, float *y, int64_t ldy, const sk_epilogue *ep) {
    const int r = a->r, c = a->c;
    const int cols_per_chunk = 16 / r;
    const int chunk_shift = __builtin_ctz((unsigned)(r * c / 16));
    const int64_t within_block = (1 << chunk_shift) - 1;
    int32_t lanes[16];
    for (int l = 0; l < 16; l++) lanes[l] = l / r;
    const __m512i column_of_lane = _mm512_loadu_si512(lanes);
    const __mmask16 x_mask = lanes_mask(cols_per_chunk);
    const int32_t *block_col = a->block_col;
    /* x for chunk q: its block's first column plus the chunk's offset inside the block. */
#define CHUNK_X(q) _mm512_permutexvar_ps(column_of_lane, _mm512_maskz_loadu_ps(x_mask,                \
        x + (int64_t)block_col[first_block + ((q) >> chunk_shift)] * c + ((q) & within_block) * cols_per_chunk))
    for (int64_t br = brow_begin; br < brow_end; br++) {
        const int64_t first_block = a->row_start[br];
        const int64_t chunks = (a->row_start[br + 1] - first_block) << chunk_shift;
        const float *w = a->values + first_block * (int64_t)(r * c);
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int64_t q = 0;
        for (; q + 3 < chunks; q += 4) {
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * q), CHUNK_X(q), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * q + 16), CHUNK_X(q + 1), acc1);
            acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * q + 32), CHUNK_X(q + 2), acc2);
            acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * q + 48), CHUNK_X(q + 3), acc3);
        }
        for (; q < chunks; q++) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * q), CHUNK_X(q), acc0);
        store_lane_sums(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)), r, bsr_valid_rows(a, br), br * r, y, ldy, ep);
    }
#undef CHUNK_X
}

/* r·c <= 8: one block per 8-lane (ymm) vector, masked to its r·c lanes: lane l is row
 * l % r of block column l / r, its x spread from the block's c entries by one permute.
 * Gathering several blocks into one vector costs more than it saves here (a gather is
 * tens of cycles); four accumulators over consecutive blocks keep the FMAs independent. */
static void gemv_tiny_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             const float *x, float *y, int64_t ldy, const sk_epilogue *ep) {
    const int r = a->r, c = a->c, block_size = r * c;
    int32_t lanes[8];
    for (int l = 0; l < 8; l++) lanes[l] = l / r;
    const __m256i column_of_lane = _mm256_loadu_si256((const __m256i *)lanes);
    const __mmask8 w_mask = (__mmask8)((1u << block_size) - 1u), x_mask = (__mmask8)((1u << c) - 1u);
    const int32_t *block_col = a->block_col;
#define BLOCK_PRODUCT(b, acc)                                                                     \
    acc = _mm256_fmadd_ps(_mm256_maskz_loadu_ps(w_mask, a->values + (b) * block_size),             \
                          _mm256_permutexvar_ps(column_of_lane,                                    \
                              _mm256_maskz_loadu_ps(x_mask, x + (int64_t)block_col[b] * c)), acc)
    for (int64_t br = brow_begin; br < brow_end; br++) {
        const int64_t b_end = a->row_start[br + 1];
        int64_t b = a->row_start[br];
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (; b + 3 < b_end; b += 4) {
            BLOCK_PRODUCT(b, acc0);
            BLOCK_PRODUCT(b + 1, acc1);
            BLOCK_PRODUCT(b + 2, acc2);
            BLOCK_PRODUCT(b + 3, acc3);
        }
        for (; b < b_end; b++) BLOCK_PRODUCT(b, acc0);
        const __m256 sum = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
        store_lane_sums(_mm512_zextps256_ps512(sum), r, bsr_valid_rows(a, br), br * r, y, ldy, ep);
    }
#undef BLOCK_PRODUCT
}

void sk_f32_gemv_bsr__avx512(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep, float *panel) {
    (void)panel;
    (void)col_begin;
    (void)col_end;
    (void)ldx; /* always 1 here */
    if (a->r == 16) gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 1);
    else if (a->r == 32) gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 2);
    else if (a->r * a->c >= 16) gemv_chunked_blocks(a, brow_begin, brow_end, x, y, ldy, ep);
    else if (a->r * a->c == 1) sk_f32_gemv_bsr_1x1__fma(a, brow_begin, brow_end, x, y, ldy, ep);
    else gemv_tiny_blocks(a, brow_begin, brow_end, x, y, ldy, ep);
}

SK_END_ISA
