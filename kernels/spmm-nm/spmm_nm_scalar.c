/* Portable N:M kernels (plain C, no intrinsics): the baseline every ISA is tested
 * against and the fallback on machines without AVX2. */
#include "nm_internal.h"

/* Y = epilogue(W·X) for row tiles [tile_begin, tile_end). One output row at a time:
 * acc[0..n_cols) += value · X[k, :] for each slot, a contiguous axpy the compiler can
 * vectorize with the baseline ISA. */
static void spmm_tiles_scalar(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                              float *y, int64_t ldy, const sk_epilogue *ep,
                              int64_t tile_begin, int64_t tile_end, float *acc) {
    const int bits = a->index_bits, mask = (1 << bits) - 1, n = a->n, m = a->m;
    for (int64_t tile = tile_begin; tile < tile_end; tile++) {
        const float *tv = nm_tile_values(a, tile);
        const uint8_t *ti = nm_tile_indices(a, tile);
        for (int r = 0; r < NM_TILE_ROWS; r++) {
            const int64_t row = tile * NM_TILE_ROWS + r;
            if (row >= a->rows) break;
            for (int64_t j = 0; j < n_cols; j++) acc[j] = 0.0f;
            int64_t group_k = 0; /* first K index of the current group */
            int s = 0;           /* slot inside the group */
            for (int64_t t = 0; t < a->slots; t++) {
                const float v = tv[t * NM_TILE_ROWS + r];
                const int p = (int)(nm_index_word(ti, bits, t) >> (r * bits)) & mask;
                const float *xr = x + (group_k + p) * ldx;
                for (int64_t j = 0; j < n_cols; j++) acc[j] += v * xr[j];
                if (++s == n) { s = 0; group_k += m; }
            }
            float *yr = y + row * ldy;
            for (int64_t j = 0; j < n_cols; j++) yr[j] = sk_epilogue_apply(ep, row, j, acc[j]);
        }
    }
}

void sk_f32_spmm_nm__scalar(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                            float *y, int64_t ldy, const sk_epilogue *ep, int threads) {
    #pragma omp parallel num_threads(threads)
    {
        int64_t begin, end;
        sk_partition(a->tiles, 1, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
        float *acc = (float *)sk_alloc((size_t)n_cols * sizeof(float));
        if (acc) spmm_tiles_scalar(a, n_cols, x, ldx, y, ldy, ep, begin, end, acc);
        sk_free(acc);
    }
}

void sk_f32_gemv_nm__scalar(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                            float *y, int64_t ldy, const sk_epilogue *ep, int threads) {
    (void)n_cols;
    const int bits = a->index_bits, mask = (1 << bits) - 1, n = a->n, m = a->m;
    #pragma omp parallel num_threads(threads)
    {
        int64_t begin, end;
        sk_partition(a->tiles, 1, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
        for (int64_t tile = begin; tile < end; tile++) {
            const float *tv = nm_tile_values(a, tile);
            const uint8_t *ti = nm_tile_indices(a, tile);
            float acc[NM_TILE_ROWS] = {0};
            int64_t group_k = 0;
            int s = 0;
            for (int64_t t = 0; t < a->slots; t++) {
                const uint32_t word = nm_index_word(ti, bits, t);
                for (int r = 0; r < NM_TILE_ROWS; r++) {
                    const int p = (int)(word >> (r * bits)) & mask;
                    acc[r] += tv[t * NM_TILE_ROWS + r] * x[(group_k + p) * ldx];
                }
                if (++s == n) { s = 0; group_k += m; }
            }
            for (int r = 0; r < NM_TILE_ROWS; r++) {
                const int64_t row = tile * NM_TILE_ROWS + r;
                if (row >= a->rows) break;
                y[row * ldy] = sk_epilogue_apply(ep, row, 0, acc[r]);
            }
        }
    }
}
