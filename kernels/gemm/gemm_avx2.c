/* AVX2+FMA dense GEMM microkernel: a 16-row strip times a 16-column X panel.
 *
 * Row-broadcast part: the strip runs as row groups of 6, 5 and 5. A 6x16 group keeps
 * 6 rows x 2 ymm = 12 accumulators + 2 X vectors + 1 broadcast in the 16 ymm registers
 * (a 4x24 shape needs all 16 and makes the compiler spill an accumulator every k step);
 * per k step 2 loads + 6 broadcasts feed 12 FMAs. (6+6+4 would leave the 4-row group
 * with 8 FMA chains, just the 2-pipe x 4-cycle minimum; 5 rows give 10.) A panel of at most 8 valid columns
 * (N edge) uses 1 ymm per row; a partial last vector is masked.
 *
 * Column part: up to 6 columns past the last multiple of 8 (N % 8) go to a column
 * kernel, which loads the strip's 16 rows at one k as two ymm and broadcasts x[k][c], so
 * no lane is spent on columns that do not exist. */
#include "dense_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx2.h"

SK_BEGIN_AVX2

#define MAX_GROUP_ROWS 6
#define MAX_COLUMN_KERNEL 6

static inline __m256i lane_mask(int valid) { /* lanes 0..valid-1 set, valid in 1..8 */
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), idx);
}

/* nrows rows x (8*nv) columns. With `prefetch`, also pulls row k of the next X panel
 * into cache each k step (X read in place, see the AVX-512 kernel). */
static inline __attribute__((always_inline)) void
group_RxV(const int nrows, const int nv, const int prefetch, int64_t kc, const float *w,
          const float *x, int64_t ldx, const float *x_next, float *y, int64_t ldy, int rows,
          int cols, int accumulate, const sk_epilogue *ep) {
    __m256 acc[MAX_GROUP_ROWS][2];
    for (int r = 0; r < nrows; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = _mm256_setzero_ps();
    /* Fetch the Y tile now (it usually sits in L3) so the store phase does not stall. */
    for (int r = 0; r < nrows; r++)
        if (r < rows) {
            _mm_prefetch((const char *)(y + r * ldy), _MM_HINT_T0);
            _mm_prefetch((const char *)(y + r * ldy + 8 * nv - 1), _MM_HINT_T0);
        }

    for (int64_t p = 0; p < kc; p++) {
        __m256 xv[2];
        for (int v = 0; v < nv; v++) xv[v] = _mm256_loadu_ps(x + p * ldx + 8 * v);
        if (prefetch) {
            _mm_prefetch((const char *)(x_next + p * ldx), _MM_HINT_T0);
            _mm_prefetch((const char *)(x_next + p * ldx + 15), _MM_HINT_T0);
        }
        for (int r = 0; r < nrows; r++) {
            __m256 wr = _mm256_broadcast_ss(w + p * SK_DENSE_MR + r);
            for (int v = 0; v < nv; v++) acc[r][v] = _mm256_fmadd_ps(wr, xv[v], acc[r][v]);
        }
    }

    /* Store with the epilogue; fully unrolled so the accumulators stay in registers. */
    const int last_valid = cols - 8 * (nv - 1);
    const __m256i last_mask = lane_mask(last_valid);
    const float *bias = ep ? ep->bias : NULL;
    const float *residual = ep ? ep->residual : NULL;
    const int64_t ld_residual = ep ? ep->ld_residual : 0;
    const int activation = ep ? (int)ep->activation : 0;
#pragma clang loop unroll(full)
    for (int r = 0; r < nrows; r++) {
        if (r < rows) {
            float *yr = y + r * ldy;
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; v++) {
                const float *res = residual ? residual + r * ld_residual + 8 * v : NULL;
                __m256 val = acc[r][v];
                if (v < nv - 1 || last_valid == 8) {
                    if (accumulate) val = _mm256_add_ps(val, _mm256_loadu_ps(yr + 8 * v));
                    if (bias) val = _mm256_add_ps(val, _mm256_set1_ps(bias[r]));
                    if (res) val = _mm256_add_ps(val, _mm256_loadu_ps(res));
                    val = sk_activate_ymm(val, activation);
                    _mm256_storeu_ps(yr + 8 * v, val);
                } else {
                    if (accumulate) val = _mm256_add_ps(val, _mm256_maskload_ps(yr + 8 * v, last_mask));
                    if (bias) val = _mm256_add_ps(val, _mm256_set1_ps(bias[r]));
                    if (res) val = _mm256_add_ps(val, _mm256_maskload_ps(res, last_mask));
                    val = sk_activate_ymm(val, activation);
                    _mm256_maskstore_ps(yr + 8 * v, last_mask, val);
                }
            }
        }
    }
}

typedef void (*group_kernel_fn)(int64_t kc, const float *w, const float *x, int64_t ldx,
                                const float *x_next, float *y, int64_t ldy, int rows, int cols,
                                int accumulate, const sk_epilogue *ep);
#define GROUP_KERNEL(NAME, R, NV, PREFETCH)                                                    \
    static void NAME(int64_t kc, const float *w, const float *x, int64_t ldx,                  \
                     const float *x_next, float *y, int64_t ldy, int rows, int cols,           \
                     int accumulate, const sk_epilogue *ep) {                                  \
        group_RxV(R, NV, PREFETCH, kc, w, x, ldx, x_next, y, ldy, rows, cols, accumulate, ep); \
    }
GROUP_KERNEL(group_6x16, 6, 2, 0)
GROUP_KERNEL(group_6x16_prefetch, 6, 2, 1)
GROUP_KERNEL(group_6x8, 6, 1, 0)
GROUP_KERNEL(group_5x16, 5, 2, 0)
GROUP_KERNEL(group_5x8, 5, 1, 0)

/* Column kernel: 16 rows (2 ymm) x ncols columns; lo/hi[c] hold column c of the tile. */
static inline __attribute__((always_inline)) void
strip_16xC(const int ncols, int64_t kc, const float *w, const float *x, int64_t ldx, float *y,
           int64_t ldy, int rows, int accumulate, const sk_epilogue *ep) {
    __m256 lo[MAX_COLUMN_KERNEL], hi[MAX_COLUMN_KERNEL];
    for (int c = 0; c < ncols; c++) lo[c] = hi[c] = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        __m256 w0 = _mm256_load_ps(w + p * SK_DENSE_MR), w1 = _mm256_load_ps(w + p * SK_DENSE_MR + 8);
        for (int c = 0; c < ncols; c++) {
            __m256 xv = _mm256_broadcast_ss(x + p * ldx + c);
            lo[c] = _mm256_fmadd_ps(w0, xv, lo[c]);
            hi[c] = _mm256_fmadd_ps(w1, xv, hi[c]);
        }
    }
    float tile[MAX_COLUMN_KERNEL][SK_DENSE_MR];
    for (int c = 0; c < ncols; c++) {
        _mm256_storeu_ps(tile[c], lo[c]);
        _mm256_storeu_ps(tile[c] + 8, hi[c]);
    }
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
static const column_kernel_fn column_kernels[MAX_COLUMN_KERNEL + 1] = {
    NULL, strip_16x1, strip_16x2, strip_16x3, strip_16x4, strip_16x5, strip_16x6};

/* Row groups 6, 5, 5 of the strip over the first `cols` columns of the tile. */
static void strip_rows_broadcast(int64_t kc, const sk_tile *t, int cols) {
    static const int group_rows[3] = {6, 5, 5};
    int wide = cols > 8;
    for (int g = 0, r0 = 0; g < 3 && r0 < t->rows; r0 += group_rows[g], g++) {
        group_kernel_fn fn = group_rows[g] == 6 ? (wide ? group_6x16 : group_6x8)
                                                : (wide ? group_5x16 : group_5x8);
        /* Only the first group prefetches: the others find the next panel in cache. */
        if (g == 0 && fn == group_6x16 && t->x_next) fn = group_6x16_prefetch;
        sk_epilogue part;
        const sk_epilogue *part_ep = NULL;
        if (t->ep) {
            part = sk_epilogue_at(t->ep, r0, 0);
            part_ep = &part;
        }
        int grows = t->rows - r0 < group_rows[g] ? t->rows - r0 : group_rows[g];
        fn(kc, t->w + r0, t->x, t->ldx, t->x_next, t->y + r0 * t->ldy, t->ldy, grows, cols,
           t->accumulate, part_ep);
    }
}

void sk_f32_gemm__avx2_6x16(int64_t kc, const sk_tile *t) {
    int tail = t->cols % 8;
    if (tail == 0 || tail > MAX_COLUMN_KERNEL) {
        strip_rows_broadcast(kc, t, t->cols);
        return;
    }
    int body = t->cols - tail;
    if (body > 0) strip_rows_broadcast(kc, t, body);
    sk_epilogue shifted;
    const sk_epilogue *tail_ep = NULL;
    if (t->ep) {
        shifted = sk_epilogue_at(t->ep, 0, body);
        tail_ep = &shifted;
    }
    column_kernels[tail](kc, t->w, t->x + body, t->ldx, t->y + body, t->ldy, t->rows,
                         t->accumulate, tail_ep);
}

SK_END_ISA
