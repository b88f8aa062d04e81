/* AVX2 + FMA CSR kernels: the AVX-512 design (see spmm_csr_avx512.c) on 8-wide ymm.
 * A 64-column tile is 8 ymm accumulators, leaving 8 of the 16 registers for the
 * broadcast weight and loads. */
#include <immintrin.h>
#include "csr_internal.h"

SK_BEGIN_AVX2

/* lanes [0, count) on, for maskload/maskstore */
static inline __m256i lane_mask(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __attribute__((always_inline)) void
block_rows(const csr_block_job *job, const int vectors) {
    const struct sk_csr *a = job->a;
    const uint16_t *col = a->col;
    const float *val = a->val;
    const int64_t row_bytes = (int64_t)vectors * 32;
    const char *panel_origin = (const char *)job->panel - job->k0 * row_bytes;
    const sk_epilogue *ep = job->ep;
    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int relu = ep ? ep->relu : 0;

    for (int64_t row = job->row_begin; row < job->row_end; row++) {
        const int64_t local = row - job->row_begin;
        int64_t q = job->cursor[local];
        const int64_t end = q + job->count[row];
        job->cursor[local] = end;
        float *partial = job->partial + local * row_bytes / 4;

        __m256 acc[8];
        for (int v = 0; v < vectors; v++)
            acc[v] = job->first_block ? _mm256_setzero_ps() : _mm256_load_ps(partial + 8 * v);
        for (; q < end; q++) {
            const char *xrow = panel_origin + (int64_t)col[q] * row_bytes;
            const __m256 w = _mm256_broadcast_ss(val + q);
            for (int v = 0; v < vectors; v++)
                acc[v] = _mm256_fmadd_ps(w, _mm256_load_ps((const float *)(xrow + 32 * v)), acc[v]);
        }
        if (!job->last_block) {
            for (int v = 0; v < vectors; v++) _mm256_store_ps(partial + 8 * v, acc[v]);
            continue;
        }
        float *yrow = job->y + row * job->ldy;
        const float *rrow = residual ? residual + row * ep->ld_residual + job->col0 : NULL;
        const __m256 b = _mm256_set1_ps(bias ? bias[row] : 0.0f);
        for (int v = 0; v < vectors; v++) {
            const int left = job->valid_cols - 8 * v;
            if (left <= 0) break;
            const __m256i mask = lane_mask(left);
            __m256 out = _mm256_add_ps(acc[v], b);
            if (rrow) out = _mm256_add_ps(out, _mm256_maskload_ps(rrow + 8 * v, mask));
            if (relu) out = _mm256_max_ps(out, _mm256_setzero_ps());
            if (left >= 8) _mm256_storeu_ps(yrow + 8 * v, out);
            else _mm256_maskstore_ps(yrow + 8 * v, mask, out);
        }
    }
}

void sk_f32_spmm_csr__avx2_block(const csr_block_job *job) {
    switch (job->panel_width) {
    case 16: block_rows(job, 2); break;
    case 32: block_rows(job, 4); break;
    case 48: block_rows(job, 6); break;
    default: block_rows(job, 8); break;
    }
}

void sk_f32_spmv_csr__avx2(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                           const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {
    (void)ldx; /* the driver hands us a contiguous x */
    const uint16_t *col = a->col;
    const float *val = a->val;
    for (int64_t row = row_begin; row < row_end; row++) {
        int64_t q = a->row_start[row];
        const int64_t end = a->row_start[row + 1];
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (; q + 16 <= end; q += 16) {
            __m256i i0 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(col + q)));
            __m256i i1 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(col + q + 8)));
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(val + q), _mm256_i32gather_ps(x, i0, 4), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(val + q + 8), _mm256_i32gather_ps(x, i1, 4), acc1);
        }
        __m256 sum = _mm256_add_ps(acc0, acc1);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        float total = _mm_cvtss_f32(s);
        for (; q < end; q++) total += val[q] * x[col[q]];
        y[row * ldy] = sk_epilogue_apply(ep, row, 0, total);
    }
}

SK_END_ISA
