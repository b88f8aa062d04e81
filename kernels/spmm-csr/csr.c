/* Unstructured sparse (CSR-like) weights: create / destroy / to_dense, and the multiply
 * driver (threading, X packing, K blocking) that calls the per-ISA kernels.
 *
 * Format (csr_internal.h): CSR with float values and uint16 column indices (6 bytes per
 * nonzero), int64 row starts, and a uint16 count of each row's nonzeros per K block.
 *
 * SpMM (N > 1), per thread:
 *   for each 64-column tile of Y:
 *     for each K block (96..512 rows of X, chosen by density at create time):
 *       pack X[block, tile] into a contiguous panel (L1-resident for dense-ish W)
 *       for each row: acc(4 zmm) = partial; for its nonzeros in the block:
 *                     acc += w * panel[k]; store partial, or on the last block apply
 *                     the epilogue and store Y
 * Threads split the column tiles when there are enough of them (identical work per
 * thread, each packs only its own part of X), otherwise the rows, balanced by nonzeros.
 *
 * SpMV (N == 1): one pass over the CSR stream per row, rows split by nonzeros. */
#include <pthread.h>
#include "csr_internal.h"

/* K block height by density (1 - sparsity); see csr_internal.h. Measured at
 * 1024x1024x256: 96 is best at 50-75% sparsity, 256 at 90-95%. */
static int64_t choose_kblock(double density) {
    if (density >= 0.3) return 96;
    if (density >= 0.15) return 128;
    if (density >= 0.03) return 256;
    return CSR_KBLOCK_MAX;
}

sk_csr *sk_csr_create(int64_t m, int64_t k, const float *w, int64_t ldw) {
    sk_csr *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->m = m;
    a->k = k;
    int64_t nnz = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < k; p++) nnz += w[i * ldw + p] != 0.0f;
    a->nnz = nnz;
    a->kblock = choose_kblock((double)nnz / ((double)m * (double)k));
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

/* ---- per-thread scratch -------------------------------------------------------------
 * OpenMP keeps its worker threads alive, so a per-thread buffer that only grows avoids
 * an mmap + page faults on every multiply. It is a pthread key rather than a bare
 * _Thread_local so the buffer is freed when a (non-pool) calling thread exits. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local size_t scratch_bytes;

static void scratch_release(void *p) { sk_free(p); }
static void scratch_key_create(void) { pthread_key_create(&scratch_key, scratch_release); }

static void *thread_scratch(size_t bytes) {
    pthread_once(&scratch_once, scratch_key_create);
    void *scratch = pthread_getspecific(scratch_key);
    if (bytes > scratch_bytes || !scratch) {
        sk_free(scratch);
        scratch = sk_alloc(bytes);
        scratch_bytes = scratch ? bytes : 0;
        pthread_setspecific(scratch_key, scratch);
    }
    return scratch;
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

static void spmv_rows(const sk_csr *a, int64_t row_begin, int64_t row_end, const float *x,
                      float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa) {
    /* The AVX-512 path runs the 256-bit SpMV: each x value is picked by a scalar load
     * (Zen 4's gathers measured slower), so wider FMAs have nothing more to feed. */
    if (isa == SK_ISA_AVX512 || isa == SK_ISA_AVX2) sk_f32_spmv_csr__avx2(a, row_begin, row_end, x, 1, y, ldy, ep);
    else sk_f32_spmv_csr__scalar(a, row_begin, row_end, x, 1, y, ldy, ep);
}

/* Rows [row_begin, row_end) × column tiles [tile_begin, tile_end) of Y, K-blocked. */
static void spmm_part(const sk_csr *a, int64_t row_begin, int64_t row_end, int64_t tile_begin,
                      int64_t tile_end, int64_t n, const float *x, int64_t ldx, float *y,
                      int64_t ldy, const sk_epilogue *ep, sk_isa isa) {
    const int64_t rows = row_end - row_begin;
    if (rows <= 0 || tile_begin >= tile_end) return;
    /* scratch: packed panel | partial sums (rows × 64) | row cursors */
    const size_t panel_bytes = (size_t)a->kblock * CSR_PANEL_MAX * sizeof(float);
    const size_t partial_bytes = (size_t)rows * CSR_PANEL_MAX * sizeof(float);
    char *base = thread_scratch(panel_bytes + partial_bytes + (size_t)rows * sizeof(int64_t));
    if (!base) { /* out of memory: still produce Y, with the unblocked scalar kernel */
        const int64_t col_end = tile_end * CSR_PANEL_MAX < n ? tile_end * CSR_PANEL_MAX : n;
        sk_f32_spmm_csr__scalar(a, row_begin, row_end, tile_begin * CSR_PANEL_MAX, col_end, x, ldx, y, ldy, ep);
        return;
    }
    float *panel = (float *)base;
    float *partial = (float *)(base + panel_bytes);
    int64_t *cursor = (int64_t *)(base + panel_bytes + partial_bytes);

    for (int64_t tile = tile_begin; tile < tile_end; tile++) {
        const int64_t n0 = tile * CSR_PANEL_MAX;
        const int cols = (int)(n - n0 < CSR_PANEL_MAX ? n - n0 : CSR_PANEL_MAX);
        const int width = (cols + 15) & ~15;
        memcpy(cursor, a->row_start + row_begin, (size_t)rows * sizeof(int64_t));
        for (int64_t b = 0; b < a->kblocks; b++) {
            const int64_t k0 = b * a->kblock;
            const int64_t krows = a->k - k0 < a->kblock ? a->k - k0 : a->kblock;
            if (isa == SK_ISA_AVX512) sk_f32_csr_pack_panel__avx512(panel, x, ldx, k0, krows, n0, cols, width);
            else sk_f32_csr_pack_panel__avx2(panel, x, ldx, k0, krows, n0, cols, width);
            csr_block_job job = {
                .a = a, .row_begin = row_begin, .row_end = row_end, .cursor = cursor,
                .count = a->block_count + b * a->m, .k0 = k0,
                .panel = panel,
                .panel_width = width, .valid_cols = cols,
                .first_block = b == 0, .last_block = b == a->kblocks - 1,
                .partial = partial, .y = y + n0, .ldy = ldy, .col0 = n0, .ep = ep,
            };
            if (isa == SK_ISA_AVX512) sk_f32_spmm_csr__avx512_block(&job);
            else sk_f32_spmm_csr__avx2_block(&job);
        }
    }
}

void sk_csr_multiply(const sk_csr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    if (threads < 1) threads = 1;
    if (n == 1) {
        /* the gather wants a contiguous x */
        const float *xc = x;
        float *copy = NULL;
        if (ldx != 1) {
            copy = sk_alloc((size_t)a->k * sizeof(float));
            if (!copy) return;
            for (int64_t p = 0; p < a->k; p++) copy[p] = x[p * ldx];
            xc = copy;
        }
        if (threads > 1 && a->nnz < 20000) threads = 1; /* fork/join would dominate */
        #pragma omp parallel num_threads(threads)
        {
            const int parts = omp_get_num_threads(), index = omp_get_thread_num();
            const int64_t begin = balanced_row_split(a, 4, parts, index);
            const int64_t end = balanced_row_split(a, 4, parts, index + 1);
            spmv_rows(a, begin, end, xc, y, ldy, ep, isa);
        }
        sk_free(copy);
        return;
    }
    if (isa == SK_ISA_SCALAR) {
        #pragma omp parallel num_threads(threads)
        {
            const int parts = omp_get_num_threads(), index = omp_get_thread_num();
            const int64_t begin = balanced_row_split(a, 4, parts, index);
            const int64_t end = balanced_row_split(a, 4, parts, index + 1);
            sk_f32_spmm_csr__scalar(a, begin, end, 0, n, x, ldx, y, ldy, ep);
        }
        return;
    }
    const int64_t tiles = (n + CSR_PANEL_MAX - 1) / CSR_PANEL_MAX;
    #pragma omp parallel num_threads(threads)
    {
        const int parts = omp_get_num_threads(), index = omp_get_thread_num();
        if (tiles % parts == 0 || tiles >= 4 * parts) {
            /* split columns: every thread sees the same nonzeros, so the split is exactly
             * balanced, and each packs only its own part of X */
            const int64_t t0 = tiles * index / parts, t1 = tiles * (index + 1) / parts;
            spmm_part(a, 0, a->m, t0, t1, n, x, ldx, y, ldy, ep, isa);
        } else {
            /* few column tiles: split rows by nonzeros */
            const int64_t row_cost = 2 * a->kblocks + 8;
            const int64_t begin = balanced_row_split(a, row_cost, parts, index);
            const int64_t end = balanced_row_split(a, row_cost, parts, index + 1);
            spmm_part(a, begin, end, 0, tiles, n, x, ldx, y, ldy, ep, isa);
        }
    }
}
