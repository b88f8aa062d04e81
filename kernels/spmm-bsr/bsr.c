/* Block-sparse (BSR) weights: creation (ragged edge blocks padded with zeros), conversion
 * back to dense, and the per-part work of the BSR registry entries (X panels, the copy of
 * x the GEMVs read, a few columns run as GEMVs). The arithmetic lives in spmm_bsr_*.c and
 * gemv_bsr_*.c; the storage layout is described in bsr_internal.h. */
#include "bsr_internal.h"

/* Estimated cost of a block row, in units of one block column (r rows × one k-row of
 * X across N): c units per stored block, plus a couple for the epilogue pass that every
 * block row gets even when it holds no block. Threads split the running sum evenly. */
static int64_t block_row_cost(int64_t blocks, int c) { return blocks * c + 2; }

/* Whether the rows × cols part of a block that lies inside W holds a nonzero. */
static int block_is_nonzero(const float *w, int64_t ldw, int rows, int cols) {
    for (int i = 0; i < rows; i++)
        for (int kk = 0; kk < cols; kk++)
            if (w[i * ldw + kk] != 0.0f) return 1;
    return 0;
}

sk_bsr *sk_bsr_create(int64_t m, int64_t k, int block_rows, int block_cols,
                      const float *w, int64_t ldw) {
    sk_bsr *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->format = SK_FORMAT_BSR;
    const int r = block_rows, c = block_cols;
    a->m = m;
    a->k = k;
    a->r = r;
    a->c = c;
    a->block_rows = (m + r - 1) / r;
    a->block_cols = (k + c - 1) / c;
    a->row_start = sk_alloc((size_t)(a->block_rows + 1) * sizeof(int64_t));
    a->work_prefix = sk_alloc((size_t)(a->block_rows + 1) * sizeof(int64_t));
    if (!a->row_start || !a->work_prefix) goto fail;

    /* First pass counts the stored blocks so the arrays are allocated exactly once. */
    int64_t count = 0;
    a->row_start[0] = 0;
    a->work_prefix[0] = 0;
    for (int64_t br = 0; br < a->block_rows; br++) {
        int64_t in_row = 0;
        for (int64_t bc = 0; bc < a->block_cols; bc++)
            in_row += block_is_nonzero(w + br * r * ldw + bc * c, ldw, bsr_valid_rows(a, br), bsr_valid_cols(a, bc));
        count += in_row;
        a->row_start[br + 1] = count;
        a->work_prefix[br + 1] = a->work_prefix[br] + block_row_cost(in_row, c);
    }
    a->nonzero_blocks = count;
    a->block_col = sk_alloc((size_t)count * sizeof(int32_t));
    a->values = sk_alloc((size_t)count * (size_t)(r * c) * sizeof(float));
    if (!a->block_col || !a->values) goto fail;

    int64_t b = 0;
    for (int64_t br = 0; br < a->block_rows; br++) {
        const int rows = bsr_valid_rows(a, br);
        for (int64_t bc = 0; bc < a->block_cols; bc++) {
            const float *src = w + br * r * ldw + bc * c;
            const int cols = bsr_valid_cols(a, bc);
            if (!block_is_nonzero(src, ldw, rows, cols)) continue;
            a->block_col[b] = (int32_t)bc;
            float *dst = a->values + b * (int64_t)(r * c);
            for (int kk = 0; kk < c; kk++)          /* column-major inside the block */
                for (int i = 0; i < r; i++)         /* zeros outside W (ragged edges) */
                    dst[kk * r + i] = i < rows && kk < cols ? src[i * ldw + kk] : 0.0f;
            b++;
        }
    }
    return a;
fail:
    sk_bsr_destroy(a);
    return NULL;
}

void sk_bsr_destroy(sk_bsr *a) {
    if (!a) return;
    sk_free(a->row_start);
    sk_free(a->work_prefix);
    sk_free(a->block_col);
    sk_free(a->values);
    free(a);
}

int64_t sk_bsr_nonzero_blocks(const sk_bsr *a) { return a->nonzero_blocks; }

size_t sk_bsr_bytes(const sk_bsr *a) {
    return sizeof *a + (size_t)(a->block_rows + 1) * 2 * sizeof(int64_t) +
           (size_t)a->nonzero_blocks * (sizeof(int32_t) + (size_t)(a->r * a->c) * sizeof(float));
}

void sk_bsr_to_dense(const sk_bsr *a, float *w, int64_t ldw) {
    const int r = a->r, c = a->c;
    for (int64_t row = 0; row < a->m; row++) memset(w + row * ldw, 0, (size_t)a->k * sizeof(float));
    for (int64_t br = 0; br < a->block_rows; br++) {
        const int rows = bsr_valid_rows(a, br);
        for (int64_t b = a->row_start[br]; b < a->row_start[br + 1]; b++) {
            float *dst = w + br * r * ldw + (int64_t)a->block_col[b] * c;
            const float *src = a->values + b * (int64_t)(r * c);
            const int cols = bsr_valid_cols(a, a->block_col[b]);
            for (int kk = 0; kk < cols; kk++)
                for (int i = 0; i < rows; i++) dst[i * ldw + kk] = src[kk * r + i];
        }
    }
}

/* How many of the k rows of X, read in place, share one L2 set: rows `ldx` floats apart
 * repeat their set every `period` rows (sets are 64-byte lines modulo 2048 sets, the 1 MiB
 * 8-way L2 of Zen 4; a stride that is not whole lines drifts across all sets). On a
 * 16-way L2 (Zen 5) this packs somewhat earlier than strictly needed. */
static int64_t x_rows_per_l2_set(int64_t k, int64_t ldx) {
    const int64_t sets = 2048;
    const int64_t stride_bytes = ldx * (int64_t)sizeof(float);
    if (stride_bytes % 64 != 0) return (k + sets - 1) / sets;
    int64_t lines = (stride_bytes / 64) % sets, g = sets;
    while (lines) { int64_t t = g % lines; g = lines; lines = t; } /* gcd(lines, sets) */
    const int64_t period = sets / g;
    return (k + period - 1) / period;
}

int64_t sk_bsr_x_panel_floats(const sk_bsr *a, int64_t brow_begin, int64_t brow_end, int64_t tile_cols,
                              int64_t ldx, int prefer_packed) {
    const int64_t uses = (a->row_start[brow_end] - a->row_start[brow_begin]) * a->r * a->c;
    const int64_t floats = a->k * ((tile_cols + 15) & ~(int64_t)15); /* whole lines */
    /* Pack when the kernel prefers a panel anyway, or in-place rows would overflow the
     * 8 ways of their L2 sets; and only when each X row is used by >= 4 weight rows on
     * average (the copy is then a small fraction of the FMAs) and the panel stays within
     * a couple of L2s. */
    if ((!prefer_packed && x_rows_per_l2_set(a->k, ldx) <= 8) || uses < 4 * a->k ||
        floats * (int64_t)sizeof(float) > ((int64_t)2 << 20))
        return 0;
    return floats;
}

int64_t sk_bsr_pack_x_panel(float *panel, const float *x, int64_t ldx, int64_t k, int64_t width) {
    const int64_t stride = (width + 15) & ~(int64_t)15;
    for (int64_t p = 0; p < k; p++) memcpy(panel + p * stride, x + p * ldx, (size_t)width * sizeof(float));
    return stride;
}

/* First block row whose running cost reaches `target` (binary search on work_prefix). */
static int64_t block_row_at_cost(const sk_bsr *a, int64_t target) {
    int64_t lo = 0, hi = a->block_rows;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a->work_prefix[mid] < target) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void sk_bsr_split_rows(const sk_bsr *a, int parts, int index, int64_t *begin, int64_t *end) {
    int64_t total = a->work_prefix[a->block_rows];
    *begin = index == 0 ? 0 : block_row_at_cost(a, total * index / parts);
    *end = index == parts - 1 ? a->block_rows : block_row_at_cost(a, total * (index + 1) / parts);
}

/* ---- SpMM (N >= 2) ---------------------------------------------------------------- */

void sk_bsr_run_spmm_scalar(const sk_call *c, const sk_part *p) {
    sk_f32_spmm_bsr__scalar(c->weights, p->row_begin, p->row_end, p->col_begin, p->col_end,
                            c->x, c->ldx, c->y, c->ldy, c->ep, NULL);
}

/* 1- and 2-row blocks reuse each X vector for only 1–2 FMAs: the AVX-512 kernel always
 * wants them on a panel; the narrow AVX2 tiles always do. */
size_t sk_bsr_spmm_scratch_avx512(const sk_call *c, const sk_part *p) {
    const sk_bsr *a = c->weights;
    return (size_t)sk_bsr_x_panel_floats(a, p->row_begin, p->row_end, sk_bsr_spmm_tile_cols__avx512(a->r),
                                         c->ldx, a->r <= 2) * sizeof(float);
}
size_t sk_bsr_spmm_scratch_avx2(const sk_call *c, const sk_part *p) {
    const sk_bsr *a = c->weights;
    return (size_t)sk_bsr_x_panel_floats(a, p->row_begin, p->row_end, sk_bsr_spmm_tile_cols__avx2(a->r),
                                         c->ldx, 1) * sizeof(float);
}
void sk_bsr_run_spmm_avx512(const sk_call *c, const sk_part *p) {
    sk_f32_spmm_bsr__avx512(c->weights, p->row_begin, p->row_end, p->col_begin, p->col_end,
                            c->x, c->ldx, c->y, c->ldy, c->ep, p->scratch);
}
void sk_bsr_run_spmm_avx2(const sk_call *c, const sk_part *p) {
    sk_f32_spmm_bsr__avx2(c->weights, p->row_begin, p->row_end, p->col_begin, p->col_end,
                          c->x, c->ldx, c->y, c->ldy, c->ep, p->scratch);
}

/* ---- GEMV (N == 1) ------------------------------------------------------------------ */

/* The vector GEMVs read x contiguous and up to the end of the last block column: a
 * strided x, or a K that c does not divide, is copied into a zero-padded buffer. */
static int64_t padded_k(const sk_bsr *a) { return a->block_cols * a->c; }

size_t sk_bsr_gemv_shared(const sk_call *c, const sk_part *p) {
    (void)p;
    const sk_bsr *a = c->weights;
    return c->ldx == 1 && padded_k(a) == a->k ? 0 : (size_t)padded_k(a) * sizeof(float);
}
void sk_bsr_gemv_prepare(const sk_call *c, int64_t k_begin, int64_t k_end) {
    const sk_bsr *a = c->weights;
    for (int64_t i = k_begin; i < k_end; i++) c->shared[i] = c->x[i * c->ldx];
    if (k_end == a->k) memset(c->shared + a->k, 0, (size_t)(padded_k(a) - a->k) * sizeof(float));
}
void sk_bsr_run_gemv_scalar(const sk_call *c, const sk_part *p) {
    sk_f32_gemv_bsr__scalar(c->weights, p->row_begin, p->row_end, 0, 1, c->x, c->ldx, c->y, c->ldy, c->ep, NULL);
}
void sk_bsr_run_gemv_avx512(const sk_call *c, const sk_part *p) {
    const float *x = c->shared ? c->shared : c->x;
    sk_f32_gemv_bsr__avx512(c->weights, p->row_begin, p->row_end, 0, 1, x, 1, c->y, c->ldy, c->ep, NULL);
}
void sk_bsr_run_gemv_avx2(const sk_call *c, const sk_part *p) {
    const float *x = c->shared ? c->shared : c->x;
    sk_f32_gemv_bsr__avx2(c->weights, p->row_begin, p->row_end, 0, 1, x, 1, c->y, c->ldy, c->ep, NULL);
}

/* ---- A few columns as GEMVs ----------------------------------------------------------
 * A SpMM FMA covers min(N, vector width) columns, so at N = 2..3 it wastes most of each
 * vector, while the GEMV uses whole vectors along the block rows. Measured on 1024² at 90%
 * sparsity (AVX-512): N = 2 is 1.3–2.5x faster this way for 1×1 … 16×16 blocks, N = 3
 * still 1.2–2x, N = 4 about even (4×4 blocks slower). AVX2's 8-float vectors waste less:
 * only N = 2 gains. The columns are copied one after the other, each zero padded. */
int sk_bsr_columns_suits_avx512(const void *w, int64_t n, int threads) { (void)w; (void)threads; return n >= 2 && n <= 3; }
int sk_bsr_columns_suits_avx2(const void *w, int64_t n, int threads) { (void)w; (void)threads; return n == 2; }

size_t sk_bsr_columns_shared(const sk_call *c, const sk_part *p) {
    (void)p;
    return (size_t)(padded_k(c->weights) * c->n) * sizeof(float);
}
void sk_bsr_columns_prepare(const sk_call *c, int64_t k_begin, int64_t k_end) {
    const sk_bsr *a = c->weights;
    const int64_t kp = padded_k(a);
    for (int64_t col = 0; col < c->n; col++) {
        float *dst = c->shared + col * kp;
        for (int64_t i = k_begin; i < k_end; i++) dst[i] = c->x[i * c->ldx + col];
        if (k_end == a->k) memset(dst + a->k, 0, (size_t)(kp - a->k) * sizeof(float));
    }
}
static void columns_gemv(const sk_call *c, const sk_part *p, sk_bsr_kernel gemv) {
    const int64_t kp = padded_k(c->weights);
    for (int64_t col = p->col_begin; col < p->col_end; col++) {
        sk_epilogue column_ep; /* the GEMV reads bias and residual column 0: shift to `col` */
        const sk_epilogue *ep = NULL;
        if (c->ep) {
            column_ep = sk_epilogue_at(c->ep, 0, col);
            ep = &column_ep;
        }
        gemv(c->weights, p->row_begin, p->row_end, 0, 1, c->shared + col * kp, 1, c->y + col, c->ldy, ep, NULL);
    }
}
void sk_bsr_run_columns_gemv_avx512(const sk_call *c, const sk_part *p) { columns_gemv(c, p, sk_f32_gemv_bsr__avx512); }
void sk_bsr_run_columns_gemv_avx2(const sk_call *c, const sk_part *p) { columns_gemv(c, p, sk_f32_gemv_bsr__avx2); }

void sk_bsr_multiply(const sk_bsr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_dispatch(a, n, x, ldx, y, ldy, ep, isa, threads);
}
