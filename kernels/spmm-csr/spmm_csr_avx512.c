/* AVX-512 CSR kernels.
 *
 * SpMM (N > 1): one call handles one K block of one column tile. Each output row keeps
 * its tile (up to 64 columns = 4 zmm) in registers; each nonzero w[i,k] costs one
 * broadcast and one FMA per zmm against row k of the packed X panel, which was packed
 * into a contiguous L1-resident buffer so these loads hit L1 without 4 KiB aliasing.
 * Between K blocks the row's partial sums live in a contiguous per-thread buffer.
 *
 * SpMV (N == 1): memory bound. Streams 6 bytes per nonzero (float + uint16 column) once
 * and gathers x (L1/L2 resident) 16 lanes at a time. */
#include <immintrin.h>
#include "csr_internal.h"

SK_BEGIN_AVX512

static inline __attribute__((always_inline)) void
block_rows(const csr_block_job *job, const int vectors) {
    const struct sk_csr *a = job->a;
    const uint16_t *col = a->col;
    const float *val = a->val;
    const int64_t row_bytes = (int64_t)vectors * 64;
    /* panel row for column c is at panel_origin + c * row_bytes (c in [k0, k0 + KBLOCK)). */
    const char *panel_origin = (const char *)job->panel - job->k0 * row_bytes;
    const sk_epilogue *ep = job->ep;
    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int relu = ep ? ep->relu : 0;
    /* lanes of the last vector that belong to Y */
    const int tail = job->valid_cols - (vectors - 1) * 16;
    const __mmask16 last_mask = (__mmask16)((1u << tail) - 1u);

    for (int64_t row = job->row_begin; row < job->row_end; row++) {
        const int64_t local = row - job->row_begin;
        int64_t q = job->cursor[local];
        const int64_t end = q + job->count[row];
        job->cursor[local] = end;
        float *partial = job->partial + local * row_bytes / 4;

        __m512 acc[4];
        for (int v = 0; v < vectors; v++)
            acc[v] = job->first_block ? _mm512_setzero_ps() : _mm512_load_ps(partial + 16 * v);
        for (; q < end; q++) {
            const char *xrow = panel_origin + (int64_t)col[q] * row_bytes;
            const __m512 w = _mm512_set1_ps(val[q]);
            for (int v = 0; v < vectors; v++)
                acc[v] = _mm512_fmadd_ps(w, _mm512_load_ps((const float *)(xrow + 64 * v)), acc[v]);
        }
        if (!job->last_block) {
            for (int v = 0; v < vectors; v++) _mm512_store_ps(partial + 16 * v, acc[v]);
            continue;
        }
        /* last K block: fused epilogue, store into Y */
        float *yrow = job->y + row * job->ldy;
        const float *rrow = residual ? residual + row * ep->ld_residual + job->col0 : NULL;
        const __m512 b = _mm512_set1_ps(bias ? bias[row] : 0.0f);
        for (int v = 0; v < vectors; v++) {
            const __mmask16 mask = v == vectors - 1 ? last_mask : (__mmask16)0xFFFF;
            __m512 out = _mm512_add_ps(acc[v], b);
            if (rrow) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(mask, rrow + 16 * v));
            if (relu) out = _mm512_max_ps(out, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(yrow + 16 * v, mask, out);
        }
    }
}

void sk_f32_spmm_csr__avx512_block(const csr_block_job *job) {
    switch (job->panel_width) {
    case 16: block_rows(job, 1); break;
    case 32: block_rows(job, 2); break;
    case 48: block_rows(job, 3); break;
    default: block_rows(job, 4); break;
    }
}

void sk_f32_spmv_csr__avx512(const struct sk_csr *a, int64_t row_begin, int64_t row_end,
                             const float *x, int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {
    (void)ldx; /* the driver hands us a contiguous x */
    const uint16_t *col = a->col;
    const float *val = a->val;
    for (int64_t row = row_begin; row < row_end; row++) {
        int64_t q = a->row_start[row];
        const int64_t end = a->row_start[row + 1];
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        for (; q + 32 <= end; q += 32) {
            __m512i i0 = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(col + q)));
            __m512i i1 = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(col + q + 16)));
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(val + q), _mm512_i32gather_ps(i0, x, 4), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(val + q + 16), _mm512_i32gather_ps(i1, x, 4), acc1);
        }
        for (; q < end; q += 16) {
            const int left = (int)(end - q) < 16 ? (int)(end - q) : 16;
            const __mmask16 mask = (__mmask16)((1u << left) - 1u);
            __m512i idx = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, col + q));
            __m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, idx, x, 4);
            acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, val + q), xv, acc0);
        }
        y[row * ldy] = sk_epilogue_apply(ep, row, 0, _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)));
    }
}

SK_END_ISA
