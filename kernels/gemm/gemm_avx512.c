/* AVX-512 dense GEMM microkernel: a 16-row strip times a 48-column X panel.
 *
 * Row-broadcast part: the strip runs as two 8x48 halves. Each half keeps 8 rows x 3 zmm
 * = 24 accumulators in registers; per k step it loads 3 zmm of X and broadcasts 8
 * weights: 11 loads for 24 FMAs, so the FMA pipes, not the load ports, are the limit.
 * Panels narrower than 48 (N edge) use 2 or 1 zmm per row, the last one lane-masked.
 *
 * Column part: columns past the last multiple of 16 (N % 16, e.g. the 49th column of a
 * 7x7 conv output) would waste most lanes of a row-broadcast vector, so up to 12 of them
 * go to a column kernel: it loads the strip's 16 rows at one k as one zmm (the packed
 * layout stores exactly that) and broadcasts x[k][c], so each FMA does 16 useful
 * multiply-adds whatever N is. */
#include "dense_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx512.h"

SK_BEGIN_AVX512

#define HALF_ROWS 8
#define MAX_COLUMN_KERNEL 12

/* R rows x (16*nv) columns (R <= 8, nv <= 4, at most 24 accumulators). With `prefetch`,
 * also pulls row k of the next X panel into cache each k step (X read in place: its rows
 * are far apart and the first strip to use a panel would otherwise wait on every row). */
static inline __attribute__((always_inline)) void
group_RxV(const int R, const int nv, const int prefetch, int64_t kc, const float *w, const float *x,
          int64_t ldx, const float *x_next, float *y, int64_t ldy, int rows, int cols,
          int accumulate, const sk_epilogue *ep, int64_t w_prefetch) {
    __m512 acc[HALF_ROWS][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_setzero_ps();
    /* Y tiles are touched once per K block and usually sit in L3 by then: fetch them now
     * so the store phase does not stall on 24 misses. */
    for (int r = 0; r < R; r++)
        if (r < rows)
            for (int v = 0; v < nv; v++) _mm_prefetch((const char *)(y + r * ldy + 16 * v), _MM_HINT_T0);

    for (int64_t p = 0; p < kc; p++) {
        __m512 xv[4];
        for (int v = 0; v < nv; v++) xv[v] = _mm512_loadu_ps(x + p * ldx + 16 * v);
        if (prefetch) {
            const float *next = x_next + p * ldx;
            for (int v = 0; v < nv; v++) _mm_prefetch((const char *)(next + 16 * v), _MM_HINT_T0);
            _mm_prefetch((const char *)(next + 16 * nv - 1), _MM_HINT_T0);
        }
        /* one 64-byte line of the strip per k step: a prefetch per step, when asked */
        if (w_prefetch) _mm_prefetch((const char *)(w + (p + w_prefetch) * SK_DENSE_MR), _MM_HINT_T0);
        for (int r = 0; r < R; r++) {
            __m512 wr = _mm512_set1_ps(w[p * SK_DENSE_MR + r]);
            for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(wr, xv[v], acc[r][v]);
        }
    }

    /* Store with the epilogue: last vector masked to the valid columns, padding rows
     * skipped. Fully unrolled so the accumulators never leave the registers. */
    const __mmask16 last_mask = (__mmask16)(0xFFFFu >> (16 * nv - cols));
    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int64_t ld_residual = ep ? ep->ld_residual : 0;
    const int activation = ep ? (int)ep->activation : 0;
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        if (r < rows) {
            float *yr = y + r * ldy;
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; v++) {
                __mmask16 m = v == nv - 1 ? last_mask : (__mmask16)0xFFFF;
                __m512 val = acc[r][v];
                if (accumulate) val = _mm512_add_ps(val, _mm512_maskz_loadu_ps(m, yr + 16 * v));
                if (bias) val = _mm512_add_ps(val, _mm512_set1_ps(bias[r]));
                if (residual)
                    val = _mm512_add_ps(val, _mm512_maskz_loadu_ps(m, residual + r * ld_residual + 16 * v));
                val = sk_activate_zmm(val, activation);
                _mm512_mask_storeu_ps(yr + 16 * v, m, val);
            }
        }
    }
}

typedef void (*half_kernel_fn)(int64_t kc, const float *w, const float *x, int64_t ldx,
                               const float *x_next, float *y, int64_t ldy, int rows, int cols,
                               int accumulate, const sk_epilogue *ep, int64_t w_prefetch);
#define GROUP_KERNEL(NAME, R, NV, PREFETCH)                                                    \
    static void NAME(int64_t kc, const float *w, const float *x, int64_t ldx,                  \
                     const float *x_next, float *y, int64_t ldy, int rows, int cols,           \
                     int accumulate, const sk_epilogue *ep, int64_t w_prefetch) {              \
        group_RxV(R, NV, PREFETCH, kc, w, x, ldx, x_next, y, ldy, rows, cols, accumulate, ep,  \
                  w_prefetch);                                                                 \
    }
#define HALF_KERNEL(NAME, NV, PREFETCH) GROUP_KERNEL(NAME, 8, NV, PREFETCH)
HALF_KERNEL(half_8x48, 3, 0)
HALF_KERNEL(half_8x48_prefetch, 3, 1)
HALF_KERNEL(half_8x32, 2, 0)
HALF_KERNEL(half_8x16, 1, 0)
/* The 6x64 variant: 6 rows x 4 zmm (24 accumulators) per group, groups of 6, 6 and 4 rows
 * per strip. Per k step 4 X loads + 6 broadcasts feed 24 FMAs (10 loads, against 11 for
 * 8x48), and a panel row is one full 256-byte block. */
GROUP_KERNEL(group_6x64, 6, 4, 0)
GROUP_KERNEL(group_6x64_prefetch, 6, 4, 1)
GROUP_KERNEL(group_6x48, 6, 3, 0)
GROUP_KERNEL(group_6x32, 6, 2, 0)
GROUP_KERNEL(group_6x16, 6, 1, 0)
GROUP_KERNEL(group_4x64, 4, 4, 0)
GROUP_KERNEL(group_4x48, 4, 3, 0)
GROUP_KERNEL(group_4x32, 4, 2, 0)
GROUP_KERNEL(group_4x16, 4, 1, 0)

/* Column kernel: 16 rows x ncols columns, acc[c] holds column c of the tile. With few
 * columns, two accumulator sets (even/odd k) keep enough FMAs in flight. */
static inline __attribute__((always_inline)) void
strip_16xC(const int ncols, int64_t kc, const float *w, const float *x, int64_t ldx, float *y,
           int64_t ldy, int rows, int accumulate, const sk_epilogue *ep) {
    const int two_sets = ncols <= 8;
    __m512 acc0[MAX_COLUMN_KERNEL], acc1[MAX_COLUMN_KERNEL];
    for (int c = 0; c < ncols; c++) acc0[c] = acc1[c] = _mm512_setzero_ps();
    int64_t p = 0;
    if (two_sets) {
        for (; p + 2 <= kc; p += 2) {
            __m512 w0 = _mm512_load_ps(w + p * SK_DENSE_MR);
            __m512 w1 = _mm512_load_ps(w + (p + 1) * SK_DENSE_MR);
            for (int c = 0; c < ncols; c++) {
                acc0[c] = _mm512_fmadd_ps(w0, _mm512_set1_ps(x[p * ldx + c]), acc0[c]);
                acc1[c] = _mm512_fmadd_ps(w1, _mm512_set1_ps(x[(p + 1) * ldx + c]), acc1[c]);
            }
        }
    }
    for (; p < kc; p++) {
        __m512 w0 = _mm512_load_ps(w + p * SK_DENSE_MR);
        for (int c = 0; c < ncols; c++)
            acc0[c] = _mm512_fmadd_ps(w0, _mm512_set1_ps(x[p * ldx + c]), acc0[c]);
    }
    /* Transpose through a small buffer: the tile is stored once per K block, so these
     * scalar stores cost ~16/kc of the FMA work of these few columns. */
    float tile[MAX_COLUMN_KERNEL][SK_DENSE_MR];
    for (int c = 0; c < ncols; c++)
        _mm512_storeu_ps(tile[c], two_sets ? _mm512_add_ps(acc0[c], acc1[c]) : acc0[c]);
    sk_dense_store_column_tile(tile, rows, ncols, y, ldy, accumulate, ep);
}

typedef void (*column_kernel_fn)(int64_t kc, const float *w, const float *x, int64_t ldx,
                                 float *y, int64_t ldy, int rows, int accumulate,
                                 const sk_epilogue *ep);
#define COLUMN_KERNEL(C)                                                                       \
    static void strip_16x##C(int64_t kc, const float *w, const float *x, int64_t ldx,          \
                             float *y, int64_t ldy, int rows, int accumulate,                  \
                             const sk_epilogue *ep) {                                          \
        strip_16xC(C, kc, w, x, ldx, y, ldy, rows, accumulate, ep);                            \
    }
COLUMN_KERNEL(1)
COLUMN_KERNEL(2)
COLUMN_KERNEL(3)
COLUMN_KERNEL(4)
COLUMN_KERNEL(5)
COLUMN_KERNEL(6)
COLUMN_KERNEL(7)
COLUMN_KERNEL(8)
COLUMN_KERNEL(9)
COLUMN_KERNEL(10)
COLUMN_KERNEL(11)
COLUMN_KERNEL(12)
static const column_kernel_fn column_kernels[MAX_COLUMN_KERNEL + 1] = {
    NULL, strip_16x1, strip_16x2, strip_16x3, strip_16x4, strip_16x5, strip_16x6,
    strip_16x7, strip_16x8, strip_16x9, strip_16x10, strip_16x11, strip_16x12};

/* Both 8-row halves of the strip over the first `cols` columns of the tile. */
static void strip_rows_broadcast(int64_t kc, const sk_tile *t, int cols) {
    half_kernel_fn half = cols > 32 ? half_8x48 : cols > 16 ? half_8x32 : half_8x16;
    /* Only the first half prefetches: the second finds the next panel in cache. */
    half_kernel_fn first = half == half_8x48 && t->x_next ? half_8x48_prefetch : half;
    first(kc, t->w, t->x, t->ldx, t->x_next, t->y, t->ldy,
          t->rows < HALF_ROWS ? t->rows : HALF_ROWS, cols, t->accumulate, t->ep, t->w_prefetch);
    if (t->rows > HALF_ROWS) {
        sk_epilogue lower;
        const sk_epilogue *lower_ep = NULL;
        if (t->ep) {
            lower = sk_epilogue_at(t->ep, HALF_ROWS, 0);
            lower_ep = &lower;
        }
        half(kc, t->w + HALF_ROWS, t->x, t->ldx, NULL, t->y + HALF_ROWS * t->ldy, t->ldy,
             t->rows - HALF_ROWS, cols, t->accumulate, lower_ep, 0); /* the first half fetched the lines */
    }
}

/* Row groups 6, 6 and 4 of the strip over the first `cols` columns of the tile. */
static void strip_rows_6x64(int64_t kc, const sk_tile *t, int cols) {
    static const half_kernel_fn six[5] = {NULL, group_6x16, group_6x32, group_6x48, group_6x64};
    static const half_kernel_fn four[5] = {NULL, group_4x16, group_4x32, group_4x48, group_4x64};
    static const int group_rows[3] = {6, 6, 4};
    const int nv = (cols + 15) / 16;
    for (int g = 0, r0 = 0; g < 3 && r0 < t->rows; r0 += group_rows[g], g++) {
        half_kernel_fn fn = group_rows[g] == 6 ? six[nv] : four[nv];
        /* Only the first group prefetches: the others find the next panel in cache. */
        if (g == 0 && nv == 4 && t->x_next) fn = group_6x64_prefetch;
        sk_epilogue part;
        const sk_epilogue *part_ep = NULL;
        if (t->ep) {
            part = sk_epilogue_at(t->ep, r0, 0);
            part_ep = &part;
        }
        const int grows = t->rows - r0 < group_rows[g] ? t->rows - r0 : group_rows[g];
        fn(kc, t->w + r0, t->x, t->ldx, g == 0 ? t->x_next : NULL, t->y + r0 * t->ldy, t->ldy, grows, cols,
           t->accumulate, part_ep, g == 0 ? t->w_prefetch : 0); /* one group fetches the strip's lines */
    }
}

/* A tile: the row-broadcast body and, for the last N % 16 <= 12 columns, the column kernel. */
static void strip_tile(int64_t kc, const sk_tile *t, void (*rows_broadcast)(int64_t, const sk_tile *, int)) {
    int tail = t->cols % 16;
    if (tail == 0 || tail > MAX_COLUMN_KERNEL) {
        rows_broadcast(kc, t, t->cols);
        return;
    }
    int body = t->cols - tail;
    if (body > 0) rows_broadcast(kc, t, body);
    sk_epilogue shifted;
    const sk_epilogue *tail_ep = NULL;
    if (t->ep) {
        shifted = sk_epilogue_at(t->ep, 0, body);
        tail_ep = &shifted;
    }
    column_kernels[tail](kc, t->w, t->x + body, t->ldx, t->y + body, t->ldy, t->rows,
                         t->accumulate, tail_ep);
}

void sk_f32_gemm__avx512_8x48(int64_t kc, const sk_tile *t) { strip_tile(kc, t, strip_rows_broadcast); }
void sk_f32_gemm__avx512_6x64(int64_t kc, const sk_tile *t) { strip_tile(kc, t, strip_rows_6x64); }

SK_END_ISA
