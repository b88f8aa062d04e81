/* AVX2 + FMA CSR kernels: the AVX-512 design (see spmm_csr_avx512.c) on 8-wide ymm.
 * A 64-column tile is 8 ymm accumulators, leaving 8 of the 16 registers for the
 * broadcast weight and loads. */
#include <immintrin.h>
#include "../common/sk_activation_avx2.h"
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
    const int64_t row_bytes = (int64_t)vectors * 32; /* one packed X row = one row of partials */
    /* integer arithmetic: the origin itself lies before the panel */
    const intptr_t panel_origin = (intptr_t)job->panel - (intptr_t)(job->k0 * row_bytes);
    const sk_epilogue *ep = job->ep;
    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int activation = ep ? (int)ep->activation : 0;

    for (int64_t row = job->row_begin; row < job->row_end; row++) {
        const int64_t local = row - job->row_begin;
        int64_t q = job->cursor[local];
        const int64_t end = q + job->count[row];
        job->cursor[local] = end;
        /* see spmm_csr_avx512.c: fetch the scattered nonzeros of a row a few rows early */
        if (row + CSR_PREFETCH_ROWS < job->row_end) {
            const int64_t ahead = job->cursor[local + CSR_PREFETCH_ROWS];
            _mm_prefetch((const char *)(val + ahead), _MM_HINT_T0);
            _mm_prefetch((const char *)(val + ahead) + 64, _MM_HINT_T0);
            _mm_prefetch((const char *)(col + ahead), _MM_HINT_T0);
        }
        float *partial = job->partial + local * row_bytes / 4;

        __m256 acc[8];
        for (int v = 0; v < vectors; v++)
            acc[v] = job->first_block ? _mm256_setzero_ps() : _mm256_load_ps(partial + 8 * v);
        for (; q < end; q++) {
            const char *xrow = (const char *)(panel_origin + (intptr_t)col[q] * row_bytes);
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
            out = sk_activate_ymm(out, activation);
            if (left >= 8) _mm256_storeu_ps(yrow + 8 * v, out);
            else _mm256_maskstore_ps(yrow + 8 * v, mask, out);
        }
    }
}

void sk_f32_csr_pack_panel__avx2(float *panel, const float *x, int64_t ldx, int64_t k0,
                                 int64_t rows, int64_t n0, int cols, int width) {
    for (int64_t r = 0; r < rows; r++) {
        const float *src = x + (k0 + r) * ldx + n0;
        float *dst = panel + r * width;
        for (int c = 0; c < width; c += 8) {
            const int left = cols - c;
            const __m256 v = left >= 8 ? _mm256_loadu_ps(src + c)
                                       : _mm256_maskload_ps(src + c, lane_mask(left));
            _mm256_store_ps(dst + c, v);
        }
    }
}

void sk_f32_spmm_csr__avx2_block(const csr_block_job *job) {
    /* one specialization per tile width so the accumulators stay in registers */
    switch (job->panel_width) {
    case 16: block_rows(job, 2); break;
    case 32: block_rows(job, 4); break;
    case 48: block_rows(job, 6); break;
    default: block_rows(job, 8); break;
    }
}

/* Four x values picked by four 16-bit column indices packed in one 64-bit word. Plain
 * loads + inserts beat the hardware gather (Zen 4: vgatherdps is microcoded; ymm 3.0 and
 * zmm 2.6 vs 5.2 nonzeros/ns for this). The AVX-512 path uses this SpMV too. */
static inline __m128 gather4(const float *x, uint64_t cols) {
    return _mm_setr_ps(x[cols & 0xFFFF], x[(cols >> 16) & 0xFFFF], x[(cols >> 32) & 0xFFFF], x[cols >> 48]);
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
            uint64_t c[4];
            memcpy(c, col + q, sizeof c);
            const __m256 x0 = _mm256_set_m128(gather4(x, c[1]), gather4(x, c[0]));
            const __m256 x1 = _mm256_set_m128(gather4(x, c[3]), gather4(x, c[2]));
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(val + q), x0, acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(val + q + 8), x1, acc1);
        }
        const __m256 sum = _mm256_add_ps(acc0, acc1);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        float total = _mm_cvtss_f32(s);
        for (; q < end; q++) total += val[q] * x[col[q]];
        y[row * ldy] = sk_epilogue_apply(ep, row, 0, total);
    }
}

SK_END_ISA
