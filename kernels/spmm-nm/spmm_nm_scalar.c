/* Portable N:M kernels (plain C, no intrinsics): the baseline every ISA is tested
 * against, and the fallback on machines without AVX2 or when memory runs out. */
#include "nm_internal.h"

/* Columns accumulated at a time, on the stack: the scalar kernels need no scratch. */
#define NM_SCALAR_COLS 64

/* Tiles [part rows) × columns [part cols): one output row at a time, acc[j] += value ·
 * X[k, j] for each slot, a contiguous axpy the compiler vectorizes with the baseline ISA. */
void sk_nm_run_spmm_scalar(const sk_call *c, const sk_part *part) {
    const sk_nm *a = c->weights;
    const int bits = a->index_bits, mask = (1 << bits) - 1, n = a->n, m = a->m;
    float acc[NM_SCALAR_COLS];
    for (int64_t tile = part->row_begin; tile < part->row_end; tile++) {
        const float *tv = nm_tile_values(a, tile);
        const uint8_t *ti = nm_tile_indices(a, tile);
        for (int r = 0; r < NM_TILE_ROWS; r++) {
            const int64_t row = tile * NM_TILE_ROWS + r;
            if (row >= a->rows) break;
            for (int64_t j0 = part->col_begin; j0 < part->col_end; j0 += NM_SCALAR_COLS) {
                const int64_t width = sk_min64(part->col_end - j0, NM_SCALAR_COLS);
                for (int64_t j = 0; j < width; j++) acc[j] = 0.0f;
                int64_t group_k = 0; /* first K index of the current group */
                int s = 0;           /* slot inside the group */
                for (int64_t t = 0; t < a->slots; t++) {
                    const float v = tv[t * NM_TILE_ROWS + r];
                    const int p = (int)(nm_index_word(ti, bits, t) >> (r * bits)) & mask;
                    const float *xr = c->x + (group_k + p) * c->ldx + j0;
                    for (int64_t j = 0; j < width; j++) acc[j] += v * xr[j];
                    if (++s == n) { s = 0; group_k += m; }
                }
                float *yr = c->y + row * c->ldy;
                for (int64_t j = 0; j < width; j++) yr[j0 + j] = sk_epilogue_apply(c->ep, row, j0 + j, acc[j]);
            }
        }
    }
}

void sk_nm_run_gemv_scalar(const sk_call *c, const sk_part *part) {
    const sk_nm *a = c->weights;
    const int bits = a->index_bits, mask = (1 << bits) - 1, n = a->n, m = a->m;
    for (int64_t tile = part->row_begin; tile < part->row_end; tile++) {
        const float *tv = nm_tile_values(a, tile);
        const uint8_t *ti = nm_tile_indices(a, tile);
        float acc[NM_TILE_ROWS] = {0};
        int64_t group_k = 0;
        int s = 0;
        for (int64_t t = 0; t < a->slots; t++) {
            const uint32_t word = nm_index_word(ti, bits, t);
            for (int r = 0; r < NM_TILE_ROWS; r++) {
                const int p = (int)(word >> (r * bits)) & mask;
                acc[r] += tv[t * NM_TILE_ROWS + r] * c->x[(group_k + p) * c->ldx];
            }
            if (++s == n) { s = 0; group_k += m; }
        }
        for (int r = 0; r < NM_TILE_ROWS; r++) {
            const int64_t row = tile * NM_TILE_ROWS + r;
            if (row >= a->rows) break;
            c->y[row * c->ldy] = sk_epilogue_apply(c->ep, row, 0, acc[r]);
        }
    }
}
