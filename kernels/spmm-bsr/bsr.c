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

void sk_bsr_multiply(const sk_bsr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_bsr_kernel kernel;
    if (n == 1) {
        kernel = isa == SK_ISA_AVX512 ? sk_f32_gemv_bsr__avx512
               : isa == SK_ISA_AVX2   ? sk_f32_gemv_bsr__avx2
                                      : sk_f32_gemv_bsr__scalar;
    } else {
        kernel = isa == SK_ISA_AVX512 ? sk_f32_spmm_bsr__avx512
               : isa == SK_ISA_AVX2   ? sk_f32_spmm_bsr__avx2
                                      : sk_f32_spmm_bsr__scalar;
    }
    if (threads < 1) threads = 1;
    /* The vector GEMV kernels read x contiguously: gather a strided x column first. */
    float *x_packed = NULL;
    if (n == 1 && ldx != 1 && isa != SK_ISA_SCALAR) {
        x_packed = sk_alloc((size_t)a->k * sizeof(float));
        if (x_packed) {
            for (int64_t p = 0; p < a->k; p++) x_packed[p] = x[p * ldx];
            x = x_packed;
            ldx = 1;
        } else {
            kernel = sk_f32_gemv_bsr__scalar; /* out of memory: the strided scalar path */
        }
    }
    if (threads == 1) {
        kernel(a, 0, a->block_rows, 0, n, x, ldx, y, ldy, ep);
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
            if (col_begin < col_end) kernel(a, 0, a->block_rows, col_begin, col_end, x, ldx, y, ldy, ep);
        } else {
            int64_t brow_begin, brow_end;
            balanced_block_rows(a, parts, index, &brow_begin, &brow_end);
            if (brow_begin < brow_end) kernel(a, brow_begin, brow_end, 0, n, x, ldx, y, ldy, ep);
        }
    }
    sk_free(x_packed);
}
