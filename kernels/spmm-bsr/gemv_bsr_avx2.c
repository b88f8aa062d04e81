/* AVX2+FMA BSR matrix-vector product (N == 1); the scheme of gemv_bsr_avx512.c on
 * 8-float vectors: r >= 8 multiplies whole block columns (r/8 vectors) by a broadcast
 * x[k]; r < 8 cuts 8-float chunks across the block's columns, spreading x to the lanes
 * with one permute, and sums the lanes of each row once per block row. x is contiguous
 * (bsr.c packs a strided x). */
#include <immintrin.h>
#include "bsr_internal.h"

SK_BEGIN_AVX2

static inline __m256i lanes_mask(int64_t count) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count > 8 ? 8 : count)), lane);
}

static void store_rows(const float *sums, int r, int64_t row0, float *y, int64_t ldy,
                       const sk_epilogue *ep) {
    for (int i = 0; i < r; i++) y[(row0 + i) * ldy] = sk_epilogue_apply(ep, row0 + i, 0, sums[i]);
}

/* r in {8, 16, 32}: RV = r / 8 row vectors; even and odd k accumulate separately. */
static inline __attribute__((always_inline)) void
gemv_tall_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end, const float *x,
                 float *y, int64_t ldy, const sk_epilogue *ep, const int RV) {
    const int c = a->c, r = 8 * RV;
    for (int64_t br = brow_begin; br < brow_end; br++) {
        __m256 even[4], odd[4];
        for (int v = 0; v < RV; v++) even[v] = odd[v] = _mm256_setzero_ps();
        const int64_t b_end = a->row_start[br + 1];
        for (int64_t b = a->row_start[br]; b < b_end; b++) {
            const float *w = a->values + b * (int64_t)r * c;
            const float *xb = x + (int64_t)a->block_col[b] * c;
            int kk = 0;
            for (; kk + 1 < c; kk += 2, w += 2 * r) {
                const __m256 x0 = _mm256_broadcast_ss(xb + kk), x1 = _mm256_broadcast_ss(xb + kk + 1);
                for (int v = 0; v < RV; v++) {
                    even[v] = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * v), x0, even[v]);
                    odd[v] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r + 8 * v), x1, odd[v]);
                }
            }
            if (kk < c) {
                const __m256 x0 = _mm256_broadcast_ss(xb + kk);
                for (int v = 0; v < RV; v++) even[v] = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * v), x0, even[v]);
            }
        }
        float sums[32];
        for (int v = 0; v < RV; v++) _mm256_storeu_ps(sums + 8 * v, _mm256_add_ps(even[v], odd[v]));
        store_rows(sums, r, br * r, y, ldy, ep);
    }
}

static void gemv_short_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                              const float *x, float *y, int64_t ldy, const sk_epilogue *ep) {
    const int r = a->r, c = a->c;
    const int block_size = r * c;
    const int cols_per_chunk = 8 / r;
    int32_t lane_columns[8];
    for (int l = 0; l < 8; l++) lane_columns[l] = l / r;
    const __m256i column_of_lane = _mm256_loadu_si256((const __m256i *)lane_columns);
    if (block_size >= 8) {
        const int chunks = block_size / 8;
        const __m256i x_mask = lanes_mask(cols_per_chunk);
        for (int64_t br = brow_begin; br < brow_end; br++) {
            __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
            const int64_t b_end = a->row_start[br + 1];
            for (int64_t b = a->row_start[br]; b < b_end; b++) {
                const float *w = a->values + b * (int64_t)block_size;
                const float *xb = x + (int64_t)a->block_col[b] * c;
                int q = 0;
                for (; q + 1 < chunks; q += 2) {
                    const __m256 x0 = _mm256_permutevar8x32_ps(_mm256_maskload_ps(xb + q * cols_per_chunk, x_mask), column_of_lane);
                    const __m256 x1 = _mm256_permutevar8x32_ps(_mm256_maskload_ps(xb + (q + 1) * cols_per_chunk, x_mask), column_of_lane);
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * q), x0, acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * q + 8), x1, acc1);
                }
                if (q < chunks) {
                    const __m256 x0 = _mm256_permutevar8x32_ps(_mm256_maskload_ps(xb + q * cols_per_chunk, x_mask), column_of_lane);
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * q), x0, acc0);
                }
            }
            float lanes[8], sums[8] = { 0 };
            _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1));
            for (int l = 0; l < 8; l++) sums[l % r] += lanes[l];
            store_rows(sums, r, br * r, y, ldy, ep);
        }
    } else {
        const __m256i w_mask = lanes_mask(block_size), x_mask = lanes_mask(c);
        for (int64_t br = brow_begin; br < brow_end; br++) {
            __m256 acc = _mm256_setzero_ps();
            const int64_t b_end = a->row_start[br + 1];
            for (int64_t b = a->row_start[br]; b < b_end; b++) {
                const float *w = a->values + b * (int64_t)block_size;
                const float *xb = x + (int64_t)a->block_col[b] * c;
                const __m256 xv = _mm256_permutevar8x32_ps(_mm256_maskload_ps(xb, x_mask), column_of_lane);
                acc = _mm256_fmadd_ps(_mm256_maskload_ps(w, w_mask), xv, acc);
            }
            float lanes[8], sums[8] = { 0 };
            _mm256_storeu_ps(lanes, acc);
            for (int l = 0; l < block_size; l++) sums[l % r] += lanes[l];
            store_rows(sums, r, br * r, y, ldy, ep);
        }
    }
}

void sk_f32_gemv_bsr__avx2(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                           int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                           float *y, int64_t ldy, const sk_epilogue *ep) {
    (void)col_begin;
    (void)col_end;
    (void)ldx; /* always 1 here */
    switch (a->r) {
    case 8: gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 1); break;
    case 16: gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 2); break;
    case 32: gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 4); break;
    default: gemv_short_blocks(a, brow_begin, brow_end, x, y, ldy, ep); break;
    }
}

SK_END_ISA
