/* N:M structured sparse: create / destroy / to_dense. The storage layout is described in
 * nm_internal.h; the kernels live in spmm_nm_<isa>.c, the dispatch in the registry. */
#include "nm_internal.h"

static int nm_index_bits_for(int m) { return m <= 2 ? 1 : (m <= 4 ? 2 : 4); }

sk_nm *sk_nm_create(int64_t rows, int64_t k, int n, int m, const float *w, int64_t ldw) {
    sk_nm *a = (sk_nm *)calloc(1, sizeof *a);
    if (!a) return NULL;
    a->format = SK_FORMAT_NM;
    a->rows = rows; a->k = k; a->n = n; a->m = m;
    a->index_bits = nm_index_bits_for(m);
    a->groups = (k + m - 1) / m;
    a->slots = a->groups * n;
    a->tiles = (rows + NM_TILE_ROWS - 1) / NM_TILE_ROWS;
    size_t value_bytes = (size_t)(a->tiles * a->slots * NM_TILE_ROWS) * sizeof(float);
    size_t index_bytes = (size_t)(a->tiles * a->slots * a->index_bits);
    a->values = (float *)sk_alloc(value_bytes + NM_TAIL_PAD_BYTES);
    a->indices = (uint8_t *)sk_alloc(index_bytes + NM_TAIL_PAD_BYTES);
    if (!a->values || !a->indices) { sk_nm_destroy(a); return NULL; }
    /* Zero everything: padding rows of the last tile then read as value 0, index 0. */
    memset(a->values, 0, value_bytes + NM_TAIL_PAD_BYTES);
    memset(a->indices, 0, index_bytes + NM_TAIL_PAD_BYTES);

    const int bits = a->index_bits;
    for (int64_t row = 0; row < rows; row++) {
        const int64_t tile = row / NM_TILE_ROWS;
        const int r = (int)(row % NM_TILE_ROWS);
        float *tv = a->values + tile * a->slots * NM_TILE_ROWS;
        uint8_t *ti = a->indices + tile * a->slots * bits;
        const float *wr = w + row * ldw;
        for (int64_t g = 0; g < a->groups; g++) {
            const float *wg = wr + g * m;
            const int length = (int)(k - g * m < m ? k - g * m : m); /* short last group */
            /* Keep the nonzeros, then pad with the group's first zero positions, so the
             * kept positions are distinct where the group is long enough; slots still
             * left (a last group shorter than n) keep value 0 at position 0. */
            int nonzeros = 0;
            for (int p = 0; p < length; p++) nonzeros += wg[p] != 0.0f;
            int zeros_to_keep = n - nonzeros;
            int kept = 0;
            for (int p = 0; p < length && kept < n; p++) {
                int keep = wg[p] != 0.0f;
                if (!keep && zeros_to_keep > 0) { keep = 1; zeros_to_keep--; }
                if (!keep) continue;
                const int64_t t = g * n + kept++;
                tv[t * NM_TILE_ROWS + r] = wg[p];
                const int bit = r * bits; /* field inside the slot's index word */
                ti[t * bits + bit / 8] |= (uint8_t)(p << (bit % 8));
            }
            /* remaining slots: value 0, position 0 (already zero) */
        }
    }
    return a;
}

void sk_nm_destroy(sk_nm *a) {
    if (!a) return;
    sk_free(a->values);
    sk_free(a->indices);
    free(a);
}

size_t sk_nm_bytes(const sk_nm *a) {
    return sizeof *a + (size_t)(a->tiles * a->slots * NM_TILE_ROWS) * sizeof(float)
         + (size_t)(a->tiles * a->slots * a->index_bits);
}

void sk_nm_to_dense(const sk_nm *a, float *w, int64_t ldw) {
    const int bits = a->index_bits, mask = (1 << bits) - 1;
    for (int64_t row = 0; row < a->rows; row++) {
        const int64_t tile = row / NM_TILE_ROWS;
        const int r = (int)(row % NM_TILE_ROWS);
        const float *tv = nm_tile_values(a, tile);
        const uint8_t *ti = nm_tile_indices(a, tile);
        float *wr = w + row * ldw;
        memset(wr, 0, (size_t)a->k * sizeof(float));
        for (int64_t t = 0; t < a->slots; t++) {
            const float v = tv[t * NM_TILE_ROWS + r];
            if (v == 0.0f) continue; /* padding slots may share a position with a kept value */
            const int64_t g = t / a->n;
            const int p = (int)(nm_index_word(ti, bits, t) >> (r * bits)) & mask;
            wr[g * a->m + p] = v;
        }
    }
}

void sk_nm_multiply(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                    float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_dispatch(a, n_cols, x, ldx, y, ldy, ep, isa, threads);
}
