/* AVX-512 dense GEMM microkernel: a 16-row strip times a 48-column X panel, computed as
 * two 8x48 halves. Each half keeps 8 rows x 3 zmm = 24 accumulators in registers; per k
 * step it loads 3 zmm of X and broadcasts 8 weights: 11 loads for 24 FMAs, so the FMA
 * pipes, not the load ports, are the limit. Narrower panels (N edge) use 2 or 1 zmm per
 * row with a lane mask on the last vector. */
#include "dense_internal.h"
#include <immintrin.h>

SK_BEGIN_AVX512

#define HALF_ROWS 8

static inline __attribute__((always_inline)) void
half_8xV(const int nv, int64_t kc, const float *w, const float *xp, float *y, int64_t ldy,
         int rows, int cols, int accumulate, const sk_epilogue *ep) {
    __m512 acc[HALF_ROWS][3];
    for (int r = 0; r < HALF_ROWS; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_setzero_ps();

    for (int64_t p = 0; p < kc; p++) {
        __m512 xv[3];
        for (int v = 0; v < nv; v++) xv[v] = _mm512_load_ps(xp + p * SK_NR_AVX512 + 16 * v);
        for (int r = 0; r < HALF_ROWS; r++) {
            __m512 wr = _mm512_set1_ps(w[p * SK_DENSE_MR + r]);
            for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(wr, xv[v], acc[r][v]);
        }
    }

    /* Store: last vector masked to the valid columns; rows past `rows` are padding. */
    __mmask16 last_mask = (__mmask16)(0xFFFFu >> (16 * nv - cols));
    for (int r = 0; r < HALF_ROWS; r++) {
        if (r >= rows) break;
        float *yr = y + r * ldy;
        for (int v = 0; v < nv; v++) {
            __mmask16 m = v == nv - 1 ? last_mask : (__mmask16)0xFFFF;
            __m512 val = acc[r][v];
            if (accumulate) val = _mm512_add_ps(val, _mm512_maskz_loadu_ps(m, yr + 16 * v));
            if (ep) {
                if (ep->bias) val = _mm512_add_ps(val, _mm512_set1_ps(ep->bias[r]));
                if (ep->residual)
                    val = _mm512_add_ps(val, _mm512_maskz_loadu_ps(m, ep->residual + r * ep->ld_residual + 16 * v));
                if (ep->relu) val = _mm512_max_ps(val, _mm512_setzero_ps());
            }
            _mm512_mask_storeu_ps(yr + 16 * v, m, val);
        }
    }
}

static void half_8x48(int64_t kc, const float *w, const float *xp, float *y, int64_t ldy,
                      int rows, int cols, int accumulate, const sk_epilogue *ep) {
    half_8xV(3, kc, w, xp, y, ldy, rows, cols, accumulate, ep);
}
static void half_8x32(int64_t kc, const float *w, const float *xp, float *y, int64_t ldy,
                      int rows, int cols, int accumulate, const sk_epilogue *ep) {
    half_8xV(2, kc, w, xp, y, ldy, rows, cols, accumulate, ep);
}
static void half_8x16(int64_t kc, const float *w, const float *xp, float *y, int64_t ldy,
                      int rows, int cols, int accumulate, const sk_epilogue *ep) {
    half_8xV(1, kc, w, xp, y, ldy, rows, cols, accumulate, ep);
}

void sk_f32_gemm__avx512_8x48(int64_t kc, const float *w, const float *xp, float *y,
                              int64_t ldy, int rows, int cols, int accumulate,
                              const sk_epilogue *ep) {
    void (*half)(int64_t, const float *, const float *, float *, int64_t, int, int, int,
                 const sk_epilogue *) = cols > 32 ? half_8x48 : cols > 16 ? half_8x32 : half_8x16;
    half(kc, w, xp, y, ldy, rows < HALF_ROWS ? rows : HALF_ROWS, cols, accumulate, ep);
    if (rows > HALF_ROWS) {
        sk_epilogue lower;
        const sk_epilogue *lep = NULL;
        if (ep) {
            lower = sk_epilogue_at(ep, HALF_ROWS, 0);
            lep = &lower;
        }
        half(kc, w + HALF_ROWS, xp, y + HALF_ROWS * ldy, ldy, rows - HALF_ROWS, cols, accumulate, lep);
    }
}

SK_END_ISA
