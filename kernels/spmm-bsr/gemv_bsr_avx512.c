/* AVX-512 BSR matrix-vector product (N == 1). Memory bound: the block values are
 * streamed once, in storage order, and x (contiguous: bsr.c packs a strided x first)
 * stays in cache.
 *
 * r >= 16: a block column (r weights of one k) is r/16 whole vectors; it is multiplied
 *          by the broadcast x[k]. Even and odd k go to separate accumulators so there
 *          are at least two FMA chains in flight per 16 rows.
 * r <  16: vectors cut across the block's columns: lane l of a 16-float chunk of the
 *          column-major block is row l % r of column l / r. x is loaded for the chunk's
 *          16/r columns and spread to the lanes with one permute; the lanes of equal
 *          l % r are summed once per block row. Blocks smaller than 16 floats use a
 *          masked chunk. */
#include <immintrin.h>
#include "bsr_internal.h"

SK_BEGIN_AVX512

static inline __mmask16 lanes_mask(int64_t count) {
    return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1u);
}

static void store_rows(const float *sums, int r, int64_t row0, float *y, int64_t ldy,
                       const sk_epilogue *ep) {
    for (int i = 0; i < r; i++) y[(row0 + i) * ldy] = sk_epilogue_apply(ep, row0 + i, 0, sums[i]);
}

/* r in {16, 32}: RV = r / 16 row vectors. */
static inline __attribute__((always_inline)) void
gemv_tall_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end, const float *x,
                 float *y, int64_t ldy, const sk_epilogue *ep, const int RV) {
    const int c = a->c, r = 16 * RV;
    for (int64_t br = brow_begin; br < brow_end; br++) {
        __m512 even[RV], odd[RV];
        for (int v = 0; v < RV; v++) even[v] = odd[v] = _mm512_setzero_ps();
        const int64_t b_end = a->row_start[br + 1];
        for (int64_t b = a->row_start[br]; b < b_end; b++) {
            const float *w = a->values + b * (int64_t)r * c;
            const float *xb = x + (int64_t)a->block_col[b] * c;
            int kk = 0;
            for (; kk + 1 < c; kk += 2, w += 2 * r) {
                const __m512 x0 = _mm512_set1_ps(xb[kk]), x1 = _mm512_set1_ps(xb[kk + 1]);
                for (int v = 0; v < RV; v++) {
                    even[v] = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * v), x0, even[v]);
                    odd[v] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r + 16 * v), x1, odd[v]);
                }
            }
            if (kk < c) { /* c == 1 */
                const __m512 x0 = _mm512_set1_ps(xb[kk]);
                for (int v = 0; v < RV; v++) even[v] = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * v), x0, even[v]);
            }
        }
        float sums[32];
        for (int v = 0; v < RV; v++) _mm512_storeu_ps(sums + 16 * v, _mm512_add_ps(even[v], odd[v]));
        store_rows(sums, r, br * r, y, ldy, ep);
    }
}

static void gemv_short_blocks(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                              const float *x, float *y, int64_t ldy, const sk_epilogue *ep) {
    const int r = a->r, c = a->c;
    const int block_size = r * c;
    const int cols_per_chunk = 16 / r;
    __m512i column_of_lane = _mm512_setzero_si512();
    {
        int32_t lanes[16];
        for (int l = 0; l < 16; l++) lanes[l] = l / r;
        column_of_lane = _mm512_loadu_si512(lanes);
    }
    if (block_size >= 16) {
        /* Whole chunks; two accumulators alternate over chunks for two FMA chains. */
        const int chunks = block_size / 16;
        for (int64_t br = brow_begin; br < brow_end; br++) {
            __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
            const int64_t b_end = a->row_start[br + 1];
            const __mmask16 x_mask = lanes_mask(cols_per_chunk);
            for (int64_t b = a->row_start[br]; b < b_end; b++) {
                const float *w = a->values + b * (int64_t)block_size;
                const float *xb = x + (int64_t)a->block_col[b] * c;
                int q = 0;
                for (; q + 1 < chunks; q += 2) {
                    const __m512 x0 = _mm512_permutexvar_ps(column_of_lane, _mm512_maskz_loadu_ps(x_mask, xb + q * cols_per_chunk));
                    const __m512 x1 = _mm512_permutexvar_ps(column_of_lane, _mm512_maskz_loadu_ps(x_mask, xb + (q + 1) * cols_per_chunk));
                    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * q), x0, acc0);
                    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * q + 16), x1, acc1);
                }
                if (q < chunks) {
                    const __m512 x0 = _mm512_permutexvar_ps(column_of_lane, _mm512_maskz_loadu_ps(x_mask, xb + q * cols_per_chunk));
                    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + 16 * q), x0, acc0);
                }
            }
            float lanes[16], sums[16] = { 0 };
            _mm512_storeu_ps(lanes, _mm512_add_ps(acc0, acc1));
            for (int l = 0; l < 16; l++) sums[l % r] += lanes[l];
            store_rows(sums, r, br * r, y, ldy, ep);
        }
    } else {
        /* The whole block fits in one masked vector. */
        const __mmask16 w_mask = lanes_mask(block_size), x_mask = lanes_mask(c);
        for (int64_t br = brow_begin; br < brow_end; br++) {
            __m512 acc = _mm512_setzero_ps();
            const int64_t b_end = a->row_start[br + 1];
            for (int64_t b = a->row_start[br]; b < b_end; b++) {
                const float *w = a->values + b * (int64_t)block_size;
                const float *xb = x + (int64_t)a->block_col[b] * c;
                const __m512 xv = _mm512_permutexvar_ps(column_of_lane, _mm512_maskz_loadu_ps(x_mask, xb));
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(w_mask, w), xv, acc);
            }
            float lanes[16], sums[16] = { 0 };
            _mm512_storeu_ps(lanes, acc);
            for (int l = 0; l < block_size; l++) sums[l % r] += lanes[l];
            store_rows(sums, r, br * r, y, ldy, ep);
        }
    }
}

void sk_f32_gemv_bsr__avx512(const sk_bsr *a, int64_t brow_begin, int64_t brow_end,
                             int64_t col_begin, int64_t col_end, const float *x, int64_t ldx,
                             float *y, int64_t ldy, const sk_epilogue *ep) {
    (void)col_begin;
    (void)col_end;
    (void)ldx; /* always 1 here */
    if (a->r == 16) gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 1);
    else if (a->r == 32) gemv_tall_blocks(a, brow_begin, brow_end, x, y, ldy, ep, 2);
    else gemv_short_blocks(a, brow_begin, brow_end, x, y, ldy, ep);
}

SK_END_ISA
