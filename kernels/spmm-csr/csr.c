/* Unstructured sparse (CSR-like) weights: create / destroy / to_dense, and the per-part
 * work of the CSR registry entries (K blocking, X packing) that calls the per-ISA kernels.
 *
 * Format (csr_internal.h): CSR with float values and uint16 column indices (6 bytes per
 * nonzero), int64 row starts, and a uint16 count of each row's nonzeros per K block.
 *
 * SpMM (N > 1), per part (rows × a range of 64-column tiles):
 *   for each 64-column tile of Y:
 *     for each K block (96..512 rows of X, chosen by density at create time):
 *       pack X[block, tile] into a contiguous panel (L1-resident for dense-ish W)
 *       for each row: acc(4 zmm) = partial; for its nonzeros in the block:
 *                     acc += w * panel[k]; store partial, or on the last block apply
 *                     the epilogue and store Y
 * The driver gives threads whole column tiles when there are enough of them (identical
 * work per thread, each packs only its own part of X), otherwise rows balanced by
 * nonzeros (sk_csr_split_rows).
 *
 * SpMV (N == 1): one pass over the CSR stream per row, rows split by nonzeros. */
#include "csr_internal.h"

/* K block height by density (1 - sparsity); see csr_internal.h. Measured at
 * 1024x1024x256: 96 is best at 50-75% sparsity, 256 at 90-95%. */
static int64_t choose_kblock(double density) {
    int64_t measured = CSR_KBLOCK_MAX;
    if (density >= 0.3) measured = 96;
    else if (density >= 0.15) measured = 128;
    else if (density >= 0.03) measured = 256;
    /* measured with Zen 4's 32 KiB L1d (the panel is kblock x 64 floats); scaled with the
     * L1d hwloc reports */
    return sk_scaled_block(measured, 32 << 10, sk_query_topology().l1d_bytes, 16, 32, 4 * CSR_KBLOCK_MAX);
}

sk_csr *sk_csr_create_blocked(int64_t m, int64_t k, const float *w, int64_t ldw, int64_t kblock) {
    sk_csr *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->format = SK_FORMAT_CSR;
    a->m = m;
    a->k = k;
    int64_t nnz = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < k; p++) nnz += w[i * ldw + p] != 0.0f;
    a->nnz = nnz;
    if (kblock <= 0) kblock = choose_kblock((double)nnz / ((double)m * (double)k));
    a->kblock = kblock < CSR_KBLOCK_LIMIT ? kblock : CSR_KBLOCK_LIMIT;
    a->kblocks = (k + a->kblock - 1) / a->kblock;
    a->row_start = sk_alloc((size_t)(m + 1) * sizeof(int64_t));
    a->col = sk_alloc((size_t)nnz * sizeof(uint16_t));
    a->val = sk_alloc((size_t)nnz * sizeof(float));
    a->block_count = sk_alloc((size_t)(a->kblocks * m) * sizeof(uint16_t));
    if (!a->row_start || !a->col || !a->val || !a->block_count) {
        sk_csr_destroy(a);
        return NULL;
    }
    memset(a->block_count, 0, (size_t)(a->kblocks * m) * sizeof(uint16_t));
    int64_t q = 0;
    for (int64_t i = 0; i < m; i++) {
        a->row_start[i] = q;
        for (int64_t p = 0; p < k; p++) {
            const float v = w[i * ldw + p];
            if (v == 0.0f) continue; /* -0.0 is dropped too; to_dense writes +0.0 back */
            a->col[q] = (uint16_t)p;
            a->val[q] = v;
            a->block_count[(p / a->kblock) * m + i]++;
            q++;
        }
    }
    a->row_start[m] = q;
    return a;
}

sk_csr *sk_csr_create(int64_t m, int64_t k, const float *w, int64_t ldw) {
    return sk_csr_create_blocked(m, k, w, ldw, 0);
}

int64_t sk_csr_kblock(const sk_csr *a) { return a->kblock; }

void sk_csr_destroy(sk_csr *a) {
    if (!a) return;
    sk_free(a->row_start);
    sk_free(a->col);
    sk_free(a->val);
    sk_free(a->block_count);
    free(a);
}

int64_t sk_csr_nnz(const sk_csr *a) { return a->nnz; }

size_t sk_csr_bytes(const sk_csr *a) {
    return sizeof *a + (size_t)(a->m + 1) * sizeof(int64_t) +
           (size_t)a->nnz * (sizeof(uint16_t) + sizeof(float)) +
           (size_t)(a->kblocks * a->m) * sizeof(uint16_t);
}

void sk_csr_to_dense(const sk_csr *a, float *w, int64_t ldw) {
    for (int64_t i = 0; i < a->m; i++) {
        memset(w + i * ldw, 0, (size_t)a->k * sizeof(float));
        for (int64_t q = a->row_start[i]; q < a->row_start[i + 1]; q++) w[i * ldw + a->col[q]] = a->val[q];
    }
}

/* First row of part `index` of `parts` when rows are split so each part has about the
 * same work; a row costs its nonzeros plus a fixed `row_cost` (stores, epilogue). */
static int64_t balanced_row_split(const sk_csr *a, int64_t row_cost, int parts, int index) {
    if (index <= 0) return 0;
    if (index >= parts) return a->m;
    const double total = (double)a->nnz + (double)row_cost * (double)a->m;
    const double target = total * index / parts;
    int64_t lo = 0, hi = a->m; /* smallest row r with cost(0..r) >= target */
    while (lo < hi) {
        const int64_t mid = (lo + hi) / 2;
        if ((double)a->row_start[mid] + (double)row_cost * (double)mid < target) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void sk_csr_split_rows(const sk_csr *a, int64_t n, int parts, int index, int64_t *begin, int64_t *end) {
    const int64_t row_cost = n == 1 ? 4 : 2 * a->kblocks + 8;
    *begin = balanced_row_split(a, row_cost, parts, index);
    *end = balanced_row_split(a, row_cost, parts, index + 1);
}

/* ---- SpMV (N == 1) ---------------------------------------------------------------- */

/* The vector SpMV picks x with scalar loads and wants it contiguous: a strided x is
 * copied first (the shared buffer, filled by the threads together). */
size_t sk_csr_spmv_shared(const sk_call *c, const sk_part *p) {
    (void)p;
    return c->ldx == 1 ? 0 : (size_t)c->k * sizeof(float);
}
void sk_csr_spmv_prepare(const sk_call *c, int64_t k_begin, int64_t k_end) {
    for (int64_t i = k_begin; i < k_end; i++) c->shared[i] = c->x[i * c->ldx];
}
void sk_csr_run_spmv_fma256(const sk_call *c, const sk_part *p) {
    /* The AVX-512 path runs this 256-bit SpMV too: each x value is picked by a scalar
     * load (Zen 4's gathers measured slower), so wider FMAs have nothing more to feed. */
    const float *x = c->shared ? c->shared : c->x;
    sk_f32_spmv_csr__avx2(c->weights, p->row_begin, p->row_end, x, 1, c->y, c->ldy, c->ep);
}
void sk_csr_run_spmv_scalar(const sk_call *c, const sk_part *p) {
    sk_f32_spmv_csr__scalar(c->weights, p->row_begin, p->row_end, c->x, c->ldx, c->y, c->ldy, c->ep);
}

/* ---- SpMM (N > 1) ---------------------------------------------------------------- */

void sk_csr_run_spmm_scalar(const sk_call *c, const sk_part *p) {
    sk_f32_spmm_csr__scalar(c->weights, p->row_begin, p->row_end, p->col_begin, p->col_end,
                            c->x, c->ldx, c->y, c->ldy, c->ep);
}

void sk_csr_spmm_defaults(const void *w, int64_t n, sk_params *p) {
    (void)w; (void)n;
    if (p->nc <= 0) p->nc = CSR_PANEL_DEFAULT;
}

/* The panel width a call uses: nc rounded to whole zmm, within what the ISA's kernel holds. */
static int64_t panel_width(const sk_call *c, sk_isa isa) {
    const int64_t limit = isa == SK_ISA_AVX512 ? CSR_PANEL_MAX : CSR_PANEL_MAX_AVX2;
    const int64_t width = (c->params.nc + 15) / 16 * 16;
    return width < 16 ? 16 : width > limit ? limit : width;
}

/* scratch: packed panel | partial sums (rows × width) | row cursors */
static size_t spmm_scratch(const sk_call *c, const sk_part *p, int64_t width) {
    const sk_csr *a = c->weights;
    const size_t rows = (size_t)(p->row_end - p->row_begin);
    return (size_t)(a->kblock * width) * sizeof(float) + rows * (size_t)width * sizeof(float) + rows * sizeof(int64_t);
}
size_t sk_csr_spmm_scratch(const sk_call *c, const sk_part *p) {
    /* the AVX2 kernel's narrower limit only shrinks what it uses */
    return spmm_scratch(c, p, panel_width(c, SK_ISA_AVX512));
}

/* Rows × the column tiles of [col_begin, col_end), K-blocked. */
static void spmm_part(const sk_call *c, const sk_part *p, sk_isa isa) {
    const sk_csr *a = c->weights;
    const int64_t row_begin = p->row_begin, row_end = p->row_end, rows = row_end - row_begin;
    const int64_t width_max = panel_width(c, isa);
    const size_t panel_bytes = (size_t)(a->kblock * width_max) * sizeof(float);
    const size_t partial_bytes = (size_t)(rows * width_max) * sizeof(float);
    char *base = p->scratch;
    float *panel = (float *)base;
    float *partial = (float *)(base + panel_bytes);
    int64_t *cursor = (int64_t *)(base + panel_bytes + partial_bytes);

    for (int64_t n0 = p->col_begin; n0 < p->col_end; n0 += width_max) {
        const int cols = (int)sk_min64(p->col_end - n0, width_max);
        const int width = (cols + 15) & ~15;
        memcpy(cursor, a->row_start + row_begin, (size_t)rows * sizeof(int64_t));
        for (int64_t b = 0; b < a->kblocks; b++) {
            const int64_t k0 = b * a->kblock;
            const int64_t krows = sk_min64(a->k - k0, a->kblock);
            if (isa == SK_ISA_AVX512) sk_f32_csr_pack_panel__avx512(panel, c->x, c->ldx, k0, krows, n0, cols, width);
            else sk_f32_csr_pack_panel__avx2(panel, c->x, c->ldx, k0, krows, n0, cols, width);
            csr_block_job job = {
                .a = a, .row_begin = row_begin, .row_end = row_end, .cursor = cursor,
                .count = a->block_count + b * a->m, .k0 = k0,
                .panel = panel,
                .panel_width = width, .valid_cols = cols,
                .first_block = b == 0, .last_block = b == a->kblocks - 1,
                .partial = partial, .y = c->y + n0, .ldy = c->ldy, .col0 = n0, .ep = c->ep,
            };
            if (isa == SK_ISA_AVX512) sk_f32_spmm_csr__avx512_block(&job);
            else sk_f32_spmm_csr__avx2_block(&job);
        }
    }
}

void sk_csr_run_spmm_avx512(const sk_call *c, const sk_part *p) { spmm_part(c, p, SK_ISA_AVX512); }
void sk_csr_run_spmm_avx2(const sk_call *c, const sk_part *p) { spmm_part(c, p, SK_ISA_AVX2); }

void sk_csr_multiply(const sk_csr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_dispatch(a, n, x, ldx, y, ldy, ep, isa, threads);
}
