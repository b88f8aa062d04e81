/* Internal layout and kernel interface of the dense (prepacked) GEMM / GEMV.
 *
 * Packed weight layout (shared by every ISA, chosen per multiply call):
 *   W is cut into strips of SK_DENSE_MR = 16 consecutive rows; the last strip is padded
 *   with zero rows. Each strip is stored k-major: element (row r of the strip, column k)
 *   lives at strip_base + k*16 + r. So one k step of a strip is exactly one 64-byte line.
 *   - GEMM microkernels broadcast w[k][r] (row-broadcast, X vectors along N);
 *   - GEMV loads a whole line as one vector of 16 rows and multiplies it by a broadcast
 *     x[k]: a vertical FMA, no horizontal reduction, W streamed exactly once.
 *   One copy of W serves both, so the packed matrix costs M (rounded up to 16) x K floats.
 */
#ifndef SK_DENSE_INTERNAL_H
#define SK_DENSE_INTERNAL_H

#include "../registry/sk_kernel.h"

#define SK_DENSE_MR 16

struct sk_dense {
    sk_format format;   /* SK_FORMAT_DENSE: every prepared matrix starts with its format */
    int64_t m, k;
    int64_t strips;  /* ceil(m / 16) */
    float *w;        /* strips * k * 16 floats, 64-byte aligned */
};

static inline const float *sk_dense_strip(const sk_dense *a, int64_t s) {
    return a->w + s * a->k * SK_DENSE_MR;
}

/* One strip-by-panel microkernel call: Y[rows x cols] (+)= Wstrip[16 x kc] * Xpanel[kc x cols]. */
typedef struct sk_tile {
    const float *w;         /* strip data at the first k of the block (k-major, 16 per k) */
    const float *x;         /* X panel: kc rows with stride ldx; either a packed panel */
    int64_t ldx;            /* (ldx = nr, zero padded) or, full-width panels, X itself */
    const float *x_next;    /* the next panel (same stride) to prefetch while computing, */
                            /* when X is read in place and this is its first use; or NULL */
    float *y;               /* top-left element of the Y tile */
    int64_t ldy;
    int rows;               /* valid rows, 1..16 (the strip's padding rows are skipped) */
    int cols;               /* valid columns, 1..nr */
    int accumulate;         /* add to Y (every K block after the first) */
    int64_t w_prefetch;     /* prefetch W this many k steps ahead (0: off) */
    const sk_epilogue *ep;  /* epilogue offset to this tile (last K block only), or NULL */
} sk_tile;

typedef void (*sk_strip_kernel_fn)(int64_t kc, const sk_tile *t);

/* GEMV over strips [s0, s1): y[row*ldy] = epilogue(W[row,:] . x), x[k*ldx]. */
typedef void (*sk_gemv_fn)(const sk_dense *a, int64_t s0, int64_t s1, const float *x,
                           int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);

/* Registry entries (dense.c): the run / scratch / defaults functions of the kernels. */
sk_run_fn sk_dense_run_gemm_scalar, sk_dense_run_gemm_avx512, sk_dense_run_gemm_avx2, sk_dense_run_gemm_avx512_6x64;
sk_run_fn sk_dense_run_gemv_scalar, sk_dense_run_gemv_avx512, sk_dense_run_gemv_avx2;
sk_bytes_fn sk_dense_scratch_avx512, sk_dense_scratch_avx2, sk_dense_scratch_avx512_6x64;
sk_defaults_fn sk_dense_defaults_avx512, sk_dense_defaults_avx2, sk_dense_defaults_avx512_6x64;

/* Panel widths (floats) of each ISA's packed X panels. */
#define SK_NR_AVX512 48
#define SK_NR_AVX512_64 64
#define SK_NR_AVX2 16

void sk_f32_gemm__avx512_8x48(int64_t kc, const sk_tile *t);
void sk_f32_gemm__avx512_6x64(int64_t kc, const sk_tile *t);
void sk_f32_gemm__avx2_6x16(int64_t kc, const sk_tile *t);
/* Scalar path: works straight from row-major X (no packing, no buffers). */
void sk_f32_gemm__scalar_16x16(const sk_dense *a, int64_t s0, int64_t s1, int64_t c0,
                               int64_t c1, const float *x, int64_t ldx, float *y,
                               int64_t ldy, const sk_epilogue *ep);

void sk_f32_gemv__avx512_16x(const sk_dense *a, int64_t s0, int64_t s1, const float *x,
                             int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_gemv__avx2_16x(const sk_dense *a, int64_t s0, int64_t s1, const float *x,
                           int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);
void sk_f32_gemv__scalar_16x(const sk_dense *a, int64_t s0, int64_t s1, const float *x,
                             int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep);

/* Writes the few-column tile of a column kernel (transposed: tile[c][r] holds Y[r][c])
 * into Y, adding what Y holds when accumulating K blocks and applying the epilogue
 * (already offset to the tile). Scalar on purpose: these are at most a handful of
 * columns at the N edge, shared by every ISA's column kernel. */
static inline void sk_dense_store_column_tile(const float (*tile)[SK_DENSE_MR], int rows, int ncols,
                                              float *y, int64_t ldy, int accumulate,
                                              const sk_epilogue *ep) {
    for (int r = 0; r < rows; r++) {
        float *yr = y + r * ldy;
        for (int c = 0; c < ncols; c++) {
            float v = tile[c][r];
            if (accumulate) v += yr[c];
            yr[c] = ep ? sk_epilogue_apply(ep, r, c, v) : v;
        }
    }
}

#endif
