/* Block-sparse (BSR) weights: creation, conversion back to dense, and the multiply's
 * dispatch (ISA, N == 1) and threading. The arithmetic lives in spmm_bsr_*.c and
 * gemv_bsr_*.c; the storage layout is described in bsr_internal.h. */
#include "bsr_internal.h"

/* Estimated cost of a block row, in units of one block column (r rows × one k-row of
 * X across N): c units per stored block, plus a couple for the epilogue pass that every
 * block row gets even when it holds no block. Threads split the running sum evenly. */
static int64_t block_row_cost(int64_t blocks, int c) { return blocks * c + 2; }

static int block_is_nonzero(const float *w, int64_t ldw, int r, int c) {
    for (int i = 0; i < r; i++)
        for (int kk = 0; kk < c; kk++)
            if (w[i * ldw + kk] != 0.0f) return 1;
    return 0;
}

sk_bsr *sk_bsr_create(int64_t m, int64_t k, int block_rows, int block_cols,
                      const float *w, int64_t ldw) {
    sk_bsr *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    const int r = block_rows, c = block_cols;
    a->m = m;
    a->k = k;
    a->r = r;
    a->c = c;
    a->block_rows = m / r;
    a->block_cols = k / c;
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
            in_row += block_is_nonzero(w + br * r * ldw + bc * c, ldw, r, c);
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
        for (int64_t bc = 0; bc < a->block_cols; bc++) {
            const float *src = w + br * r * ldw + bc * c;
            if (!block_is_nonzero(src, ldw, r, c)) continue;
            a->block_col[b] = (int32_t)bc;
            float *dst = a->values + b * (int64_t)(r * c);
            for (int kk = 0; kk < c; kk++)          /* column-major inside the block */
                for (int i = 0; i < r; i++)
                    dst[kk * r + i] = src[i * ldw + kk];
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
        for (int64_t b = a->row_start[br]; b < a->row_start[br + 1]; b++) {
            float *dst = w + br * r * ldw + (int64_t)a->block_col[b] * c;
            const float *src = a->values + b * (int64_t)(r * c);
            for (int kk = 0; kk < c; kk++)
                for (int i = 0; i < r; i++) dst[i * ldw + kk] = src[kk * r + i];
        }
    }
}

/* Per-thread scratch for X panels, kept between calls (OpenMP reuses its threads) so
 * that a multiply does not pay an allocation and fresh page faults every time. */
static _Thread_local float *panel_scratch;
static _Thread_local size_t panel_scratch_floats;

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

float *sk_bsr_x_panel(const sk_bsr *a, int64_t brow_begin, int64_t brow_end, int64_t tile_cols,
                      int64_t ldx, int prefer_packed) {
    const int64_t uses = (a->row_start[brow_end] - a->row_start[brow_begin]) * a->r * a->c;
    const size_t floats = (size_t)a->k * (size_t)((tile_cols + 15) & ~(int64_t)15); /* whole lines */
    /* Pack when the kernel prefers a panel anyway, or in-place rows would overflow the
     * 8 ways of their L2 sets; and only when each X row is used by >= 4 weight rows on
     * average (the copy is then a small fraction of the FMAs) and the panel stays within
     * a couple of L2s. */
    if ((!prefer_packed && x_rows_per_l2_set(a->k, ldx) <= 8) || uses < 4 * a->k ||
        floats * sizeof(float) > ((size_t)2 << 20))
        return NULL;
    if (panel_scratch_floats < floats) {
        sk_free(panel_scratch);
        panel_scratch = sk_alloc(floats * sizeof(float));
        panel_scratch_floats = panel_scratch ? floats : 0;
    }
    return panel_scratch;
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

/* Block rows [begin, end) of part `index` out of `parts`, balanced by estimated cost. */
static void balanced_block_rows(const sk_bsr *a, int parts, int index, int64_t *begin, int64_t *end) {
    int64_t total = a->work_prefix[a->block_rows];
    *begin = index == 0 ? 0 : block_row_at_cost(a, total * index / parts);
    *end = index == parts - 1 ? a->block_rows : block_row_at_cost(a, total * (index + 1) / parts);
}

/* What one multiply runs: either `kernel` over column ranges of X, or, for a few
 * columns, the GEMV kernel once per column on a contiguous copy of it. */
typedef struct multiply_plan {
    const sk_bsr *a;
    sk_bsr_kernel kernel;
    int columns_as_gemv; /* x then holds the columns one after the other, k floats each */
    const float *x;
    int64_t ldx;
    float *y;
    int64_t ldy;
    const sk_epilogue *ep;
} multiply_plan;

static void run_part(const multiply_plan *p, int64_t brow_begin, int64_t brow_end,
                     int64_t col_begin, int64_t col_end) {
    if (!p->columns_as_gemv) {
        p->kernel(p->a, brow_begin, brow_end, col_begin, col_end, p->x, p->ldx, p->y, p->ldy, p->ep);
        return;
    }
    for (int64_t col = col_begin; col < col_end; col++) {
        sk_epilogue column_ep;
        const sk_epilogue *ep = p->ep;
        if (ep && ep->residual) { /* the GEMV reads residual column 0: shift it to `col` */
            column_ep = *ep;
            column_ep.residual = ep->residual + col;
            ep = &column_ep;
        }
        p->kernel(p->a, brow_begin, brow_end, 0, 1, p->x + col * p->a->k, 1, p->y + col, p->ldy, ep);
    }
}

/* Up to this many columns, one GEMV per column beats the SpMM kernel: a SpMM FMA covers
 * min(N, vector width) columns, so at N = 2..3 it wastes most of each vector, while the
 * GEMV uses whole vectors along the block rows. Measured on 1024² at 90% sparsity
 * (AVX-512): N = 2 is 1.3–2.5x faster this way for 1×1 … 16×16 blocks, N = 3 still
 * 1.2–2x, N = 4 about even (4×4 blocks slower). AVX2's 8-float vectors waste less. */
static int64_t gemv_columns_max(sk_isa isa) {
    return isa == SK_ISA_AVX512 ? 3 : isa == SK_ISA_AVX2 ? 2 : 1;
}

void sk_bsr_multiply(const sk_bsr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_bsr_kernel gemv = isa == SK_ISA_AVX512 ? sk_f32_gemv_bsr__avx512
                       : isa == SK_ISA_AVX2   ? sk_f32_gemv_bsr__avx2
                                              : sk_f32_gemv_bsr__scalar;
    sk_bsr_kernel spmm = isa == SK_ISA_AVX512 ? sk_f32_spmm_bsr__avx512
                       : isa == SK_ISA_AVX2   ? sk_f32_spmm_bsr__avx2
                                              : sk_f32_spmm_bsr__scalar;
    multiply_plan plan = { a, n == 1 ? gemv : spmm, 0, x, ldx, y, ldy, ep };
    if (threads < 1) threads = 1;

    /* The vector GEMV kernels read x contiguously: copy a strided x column (N == 1), or
     * the few columns that run as GEMVs, one after the other. */
    float *x_packed = NULL;
    const int few_columns = n > 1 && n <= gemv_columns_max(isa);
    if ((n == 1 && ldx != 1 && isa != SK_ISA_SCALAR) || few_columns) {
        x_packed = sk_alloc((size_t)a->k * (size_t)n * sizeof(float));
        if (x_packed) {
            for (int64_t p = 0; p < a->k; p++)
                for (int64_t col = 0; col < n; col++) x_packed[col * a->k + p] = x[p * ldx + col];
            plan.x = x_packed;
            plan.ldx = 1;
            plan.kernel = gemv;
            plan.columns_as_gemv = few_columns;
        } else if (n == 1) {
            plan.kernel = sk_f32_gemv_bsr__scalar; /* out of memory: the strided scalar path */
        } /* else out of memory: the SpMM kernel as planned */
    }

    if (threads == 1) {
        run_part(&plan, 0, a->block_rows, 0, n);
        sk_free(x_packed);
        return;
    }
    /* Threads normally take contiguous block rows of equal estimated cost, each thread
     * all N columns. With too few block rows to balance that way (a short, wide Y),
     * they split the columns instead, in multiples of 16 (one zmm). */
    const int split_columns = n > 1 && a->block_rows < 4 * (int64_t)threads && n >= 32 * (int64_t)threads;
#pragma omp parallel num_threads(threads)
    {
        const int parts = omp_get_num_threads(), index = omp_get_thread_num();
        if (split_columns) {
            int64_t col_begin, col_end;
            sk_partition(n, 16, parts, index, &col_begin, &col_end);
            if (col_begin < col_end) run_part(&plan, 0, a->block_rows, col_begin, col_end);
        } else {
            int64_t brow_begin, brow_end;
            balanced_block_rows(a, parts, index, &brow_begin, &brow_end);
            if (brow_begin < brow_end) run_part(&plan, brow_begin, brow_end, 0, n);
        }
    }
    sk_free(x_packed);
}
