/* AVX-512 CSR kernels.
 *
 * SpMM (N > 1): one call handles one K block of one column tile. Each output row keeps
 * its tile (64 columns = 4 zmm by default, up to 128 = 8 zmm when tuned) in registers; each nonzero w[i,k] costs one index
 * load, one broadcast and one FMA per zmm against row k of the packed X panel: a
 * contiguous copy of the block (L1-resident at 96 rows, half L1-resident at the 256 rows
 * used above 85% sparsity) so the loads neither stream from L2 nor alias at 4 KiB
 * strides. Between K blocks the row's partial sums live in a contiguous per-thread
 * buffer.
 *
 * SpMV (N == 1): memory bound. Streams 6 bytes per nonzero (float + uint16 column) once,
 * picks x (L1/L2 resident) with scalar loads and multiplies 8 lanes at a time; 256-bit is
 * enough since the loads, not the FMAs, are the limit, so it is shared with AVX2. */
#include <immintrin.h>
#include "../common/sk_activation_avx512.h"
#include "csr_internal.h"

SK_BEGIN_AVX512

static inline __attribute__((always_inline)) void
block_rows(const csr_block_job *job, const int vectors) {
    const struct sk_csr *a = job->a;
    const uint16_t *col = a->col;
    const float *val = a->val;
    const int64_t row_bytes = (int64_t)vectors * 64; /* one packed X row = one row of partials */
    /* X row for column c is at panel_origin + c * row_bytes, c in [k0, k0 + kblock); kept
     * as an integer because the origin itself lies before the panel */
    const intptr_t panel_origin = (intptr_t)job->panel - (intptr_t)(job->k0 * row_bytes);
    const sk_epilogue *ep = job->ep;
    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int activation = ep ? (int)ep->activation : 0;
    /* lanes of the last vector that belong to Y */
    const int tail = job->valid_cols - (vectors - 1) * 16;
    const __mmask16 last_mask = (__mmask16)((1u << tail) - 1u);

    for (int64_t row = job->row_begin; row < job->row_end; row++) {
        const int64_t local = row - job->row_begin;
        int64_t q = job->cursor[local];
        const int64_t end = q + job->count[row];
        job->cursor[local] = end;
        /* rows' nonzeros of one block are scattered (each row is contiguous over all of
         * K), so the hardware prefetcher misses the jump to the next rows: ask early */
        if (row + CSR_PREFETCH_ROWS < job->row_end) {
            const int64_t ahead = job->cursor[local + CSR_PREFETCH_ROWS];
            _mm_prefetch((const char *)(val + ahead), _MM_HINT_T0);
            _mm_prefetch((const char *)(val + ahead) + 64, _MM_HINT_T0);
            _mm_prefetch((const char *)(col + ahead), _MM_HINT_T0);
        }
        float *partial = job->partial + local * row_bytes / 4;

        __m512 acc[8];
        for (int v = 0; v < vectors; v++)
            acc[v] = job->first_block ? _mm512_setzero_ps() : _mm512_load_ps(partial + 16 * v);
        /* the hot loop: per nonzero one index load, one broadcast, `vectors` FMAs with an
         * L1 operand. 4 chains cover the FMA latency at Zen 4's one zmm FMA per cycle;
         * unrolling into two accumulator sets measured no faster. */
        for (; q < end; q++) {
            const float *xrow = (const float *)(panel_origin + (intptr_t)col[q] * row_bytes);
            const __m512 w = _mm512_set1_ps(val[q]);
            for (int v = 0; v < vectors; v++)
                acc[v] = _mm512_fmadd_ps(w, _mm512_load_ps(xrow + 16 * v), acc[v]);
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
            out = sk_activate_zmm(out, activation);
            _mm512_mask_storeu_ps(yrow + 16 * v, mask, out);
        }
    }
}

void sk_f32_csr_pack_panel__avx512(float *panel, const float *x, int64_t ldx, int64_t k0,
                                   int64_t rows, int64_t n0, int cols, int width) {
    for (int64_t r = 0; r < rows; r++) {
        const float *src = x + (k0 + r) * ldx + n0;
        float *dst = panel + r * width;
        for (int c = 0; c < width; c += 16) {
            const int left = cols - c;
            const __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (left > 0 ? left : 0)) - 1u);
            _mm512_store_ps(dst + c, _mm512_maskz_loadu_ps(mask, src + c));
        }
    }
}

void sk_f32_spmm_csr__avx512_block(const csr_block_job *job) {
    /* one specialization per tile width so the accumulators stay in registers */
    switch (job->panel_width) {
    case 16: block_rows(job, 1); break;
    case 32: block_rows(job, 2); break;
    case 48: block_rows(job, 3); break;
    case 64: block_rows(job, 4); break;
    case 80: block_rows(job, 5); break;
    case 96: block_rows(job, 6); break;
    case 112: block_rows(job, 7); break;
    default: block_rows(job, 8); break;
    }
}

SK_END_ISA
