/* AVX2+FMA BSR matrix-vector product (N == 1): the scheme of gemv_bsr_avx512.c on
 * 8-float vectors. Block values stream once in storage order, x (contiguous: bsr.c packs
 * a strided x) stays in cache, and every path keeps four independent accumulators.
 *
 * r >= 8        whole block columns (r/8 vectors) times the broadcast x[k].
 * r < 8, r·c >= 8  8-float chunks across the block's columns: lane l is row l % r of
 *               block column l / r, x spread to the lanes by one permute.
 * r·c < 8       one masked vector per block, x spread the same way.
 * 1×1           scalar (plain CSR).
 * bsr.c also runs N = 2 through here, one column at a time (see gemv_columns_max). */
#include <immintrin.h>
#include "bsr_internal.h"

SK_BEGIN_AVX2

static inline __m256i lanes_mask(int64_t count) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count > 8 ? 8 : count)), lane);
}

/* Sums the lanes that belong to the same row (lane l holds row l % r, r in 1..4) by
 * folding the vector in halves, and stores the r results with the epilogue. */
static void store_lane_sums(__m256 acc, int r, int valid, int64_t row0, float *y, int64_t ldy,
                            const sk_epilogue *ep) {
    __m128 folded4 = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    __m128 folded2 = _mm_add_ps(folded4, _mm_movehl_ps(folded4, folded4));
    __m128 folded1 = _mm_add_ss(folded2, _mm_shuffle_ps(folded2, folded2, 1));
    float sums[4];
    if (r == 4) _mm_storeu_ps(sums, folded4);
    else if (r == 2) _mm_storel_pi((__m64 *)sums, folded2);
    else sums[0] = _mm_cvtss_f32(folded1);
    for (int i = 0; i < valid; i++) y[(row0 + i) * ldy] = sk_epilogue_apply(ep, row0 + i, 0, sums[i]);
}

/* r in {8, 16, 32}: RV = r / 8 row vectors; k-rows rotate over 4 accumulator sets. */
static inline __attribute__((always_inline)) void
gemv_tall_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end, const float *x,
                 float *y, int64_t ldy, const sk_epilogue *ep, const int RV) {
    const int c = a->c, r = 8 * RV;
    for (int64_t br = brow_begin; br < brow_end; br++) {
        __m256 acc[4][4];
#pragma unroll
        for (int s = 0; s < 4; s++)
#pragma unroll
            for (int v = 0; v < RV; v++) acc[s][v] = _mm256_setzero_ps();
        const int64_t b_end = a->row_start[br + 1];
        for (int64_t b = a->row_start[br]; b < b_end; b++) {
            const float *w = a->values + b * (int64_t)r * c;
            const float *xb = x + (int64_t)a->block_col[b] * c;
            int kk = 0;
            for (; kk + 3 < c; kk += 4, w += 4 * r) {
#pragma unroll
                for (int s = 0; s < 4; s++) {
                    const __m256 xs = _mm256_broadcast_ss(xb + kk + s);
#pragma unroll
                    for (int v = 0; v < RV; v++)
                        acc[s][v] = _mm256_fmadd_ps(_mm256_loadu_ps(w + s * r + 8 * v), xs, acc[s][v]);
                }
            }
            for (; kk < c; kk++, w += r) { /* c < 4 */
                const __m256 xs = _mm256_broadcast_ss(xb + kk);
#pragma unroll
                for (int v = 0; v < RV; v++) acc[0][v] = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * v), xs, acc[0][v]);
            }
        }
        float sums[32];
#pragma unroll
        for (int v = 0; v < RV; v++)
            _mm256_storeu_ps(sums + 8 * v, _mm256_add_ps(_mm256_add_ps(acc[0][v], acc[1][v]),
                                                         _mm256_add_ps(acc[2][v], acc[3][v])));
        const int valid = bsr_valid_rows(a, br); /* ragged last block row */
        for (int i = 0; i < valid; i++) y[(br * r + i) * ldy] = sk_epilogue_apply(ep, br * r + i, 0, sums[i]);
    }
}

/* r < 8 and r·c >= 8: the block row is a stream of 8-float chunks, 2^chunk_shift per
 * block. */
static void gemv_chunked_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                                const float *x, float *y, int64_t ldy, const sk_epilogue *ep) {
    const int r = a->r, c = a->c;
    const int cols_per_chunk = 8 / r;
    const int chunk_shift = __builtin_ctz((unsigned)(r * c / 8));
    const int64_t within_block = (1 << chunk_shift) - 1;
    int32_t lanes[8];
    for (int l = 0; l < 8; l++) lanes[l] = l / r;
    const __m256i column_of_lane = _mm256_loadu_si256((const __m256i *)lanes);
    const __m256i x_mask = lanes_mask(cols_per_chunk);
    const int32_t *block_col = a->block_col;
#define CHUNK_X(q) _mm256_permutevar8x32_ps(_mm256_maskload_ps(x + (int64_t)block_col[first_block +     \
        ((q) >> chunk_shift)] * c + ((q) & within_block) * cols_per_chunk, x_mask), column_of_lane)
    for (int64_t br = brow_begin; br < brow_end; br++) {
        const int64_t first_block = a->row_start[br];
        const int64_t chunks = (a->row_start[br + 1] - first_block) << chunk_shift;
        const float *w = a->values + first_block * (int64_t)(r * c);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int64_t q = 0;
        for (; q + 3 < chunks; q += 4) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * q), CHUNK_X(q), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * q + 8), CHUNK_X(q + 1), acc1);
            acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * q + 16), CHUNK_X(q + 2), acc2);
            acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * q + 24), CHUNK_X(q + 3), acc3);
        }
        for (; q < chunks; q++) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * q), CHUNK_X(q), acc0);
        store_lane_sums(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)), r, bsr_valid_rows(a, br), br * r, y, ldy, ep);
    }
#undef CHUNK_X
}

/* 1 < r·c < 8: one vector per block, masked to its r·c lanes. */
static void gemv_tiny_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             const float *x, float *y, int64_t ldy, const sk_epilogue *ep) {
    const int r = a->r, c = a->c, block_size = r * c;
    int32_t lanes[8];
    for (int l = 0; l < 8; l++) lanes[l] = l / r;
    const __m256i column_of_lane = _mm256_loadu_si256((const __m256i *)lanes);
    const __m256i w_mask = lanes_mask(block_size), x_mask = lanes_mask(c);
    const int32_t *block_col = a->block_col;
#define BLOCK_PRODUCT(b, acc)                                                                     \
    acc = _mm256_fmadd_ps(_mm256_maskload_ps(a->values + (b) * block_size, w_mask),                \
                          _mm256_permutevar8x32_ps(_mm256_maskload_ps(x + (int64_t)block_col[b] * c, \
                                                                      x_mask), column_of_lane), acc)
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
        store_lane_sums(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)), r, bsr_valid_rows(a, br), br * r, y, ldy, ep);
    }
#undef BLOCK_PRODUCT
}

/* 1×1 blocks are plain CSR: scalar FMAs, four sums in flight, three loads per weight
 * (value, column, x) which is what bounds it. Shared by the AVX2 and AVX-512 paths: no
 * vector width helps a loop made of scalar picks. */
void sk_f32_gemv_bsr_1x1__fma(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                              const float *x, float *y, int64_t ldy, const sk_epilogue *ep) {
    const float *values = a->values;
    const int32_t *block_col = a->block_col;
    for (int64_t row = brow_begin; row < brow_end; row++) {
        const int64_t b_end = a->row_start[row + 1];
        int64_t b = a->row_start[row];
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (; b + 3 < b_end; b += 4) {
            s0 = __builtin_fmaf(values[b], x[block_col[b]], s0);
            s1 = __builtin_fmaf(values[b + 1], x[block_col[b + 1]], s1);
            s2 = __builtin_fmaf(values[b + 2], x[block_col[b + 2]], s2);
            s3 = __builtin_fmaf(values[b + 3], x[block_col[b + 3]], s3);
        }
        for (; b < b_end; b++) s0 = __builtin_fmaf(values[b], x[block_col[b]], s0);
        y[row * ldy] = sk_epilogue_apply(ep, row, 0, (s0 + s1) + (s2 + s3));
    }
}

void sk_f32_gemv_bsr__avx2(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                           int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                           float *y, int64_t ldy, const sk_epilogue *ep, float *panel) {
    (void)panel;
    (void)col_begin;
    (void)col_end;
    (void)ldx; /* always 1 here */
    switch (a->r) {
    case 8: gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 1); break;
    case 16: gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 2); break;
    case 32: gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 4); break;
    default:
        if (a->r * a->c >= 8) gemv_chunked_blocks(a, brow_begin, brow_end, x, y, ldy, ep);
        else if (a->r * a->c == 1) sk_f32_gemv_bsr_1x1__fma(a, brow_begin, brow_end, x, y, ldy, ep);
        else gemv_tiny_blocks(a, brow_begin, brow_end, x, y, ldy, ep);
        break;
    }
}

SK_END_ISA
