/* AVX-512 dense GEMV (N == 1), memory bound: one k step of a 16-row strip is one zmm
 * (16 rows), multiplied by broadcast x[k] into the strip's accumulator; no horizontal
 * reduction. Two strips are streamed together and k is unrolled by 4 with separate
 * accumulators, so 8 independent FMA chains hide the FMA latency. */
#include "dense_internal.h"
#include <immintrin.h>

SK_BEGIN_AVX512

static inline void store_rows(const sk_dense *a, int64_t s, __m512 acc, float *y, int64_t ldy,
                              const sk_epilogue *ep) {
    float out[SK_DENSE_MR];
    _mm512_storeu_ps(out, acc);
    int64_t row0 = s * SK_DENSE_MR;
    for (int r = 0; r < SK_DENSE_MR && row0 + r < a->m; r++)
        y[(row0 + r) * ldy] = sk_epilogue_apply(ep, row0 + r, 0, out[r]);
}

void sk_f32_gemv__avx512_16x(const sk_dense *a, int64_t s0, int64_t s1, const float *x,
                             int64_t ldx, float *y, int64_t ldy, const sk_epilogue *ep) {
    const int64_t k = a->k;
    int64_t s = s0;
    for (; s + 2 <= s1; s += 2) {
        const float *w0 = sk_dense_strip(a, s), *w1 = sk_dense_strip(a, s + 1);
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int64_t p = 0;
        for (; p + 4 <= k; p += 4) {
            __m512 x0 = _mm512_set1_ps(x[p * ldx]), x1 = _mm512_set1_ps(x[(p + 1) * ldx]);
            __m512 x2 = _mm512_set1_ps(x[(p + 2) * ldx]), x3 = _mm512_set1_ps(x[(p + 3) * ldx]);
            a0 = _mm512_fmadd_ps(_mm512_load_ps(w0 + (p + 0) * 16), x0, a0);
            b0 = _mm512_fmadd_ps(_mm512_load_ps(w1 + (p + 0) * 16), x0, b0);
            a1 = _mm512_fmadd_ps(_mm512_load_ps(w0 + (p + 1) * 16), x1, a1);
            b1 = _mm512_fmadd_ps(_mm512_load_ps(w1 + (p + 1) * 16), x1, b1);
            a2 = _mm512_fmadd_ps(_mm512_load_ps(w0 + (p + 2) * 16), x2, a2);
            b2 = _mm512_fmadd_ps(_mm512_load_ps(w1 + (p + 2) * 16), x2, b2);
            a3 = _mm512_fmadd_ps(_mm512_load_ps(w0 + (p + 3) * 16), x3, a3);
            b3 = _mm512_fmadd_ps(_mm512_load_ps(w1 + (p + 3) * 16), x3, b3);
        }
        for (; p < k; p++) {
            __m512 xv = _mm512_set1_ps(x[p * ldx]);
            a0 = _mm512_fmadd_ps(_mm512_load_ps(w0 + p * 16), xv, a0);
            b0 = _mm512_fmadd_ps(_mm512_load_ps(w1 + p * 16), xv, b0);
        }
        store_rows(a, s, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), y, ldy, ep);
        store_rows(a, s + 1, _mm512_add_ps(_mm512_add_ps(b0, b1), _mm512_add_ps(b2, b3)), y, ldy, ep);
    }
    for (; s < s1; s++) {
        const float *w0 = sk_dense_strip(a, s);
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int64_t p = 0;
        for (; p + 4 <= k; p += 4) {
            a0 = _mm512_fmadd_ps(_mm512_load_ps(w0 + (p + 0) * 16), _mm512_set1_ps(x[p * ldx]), a0);
            a1 = _mm512_fmadd_ps(_mm512_load_ps(w0 + (p + 1) * 16), _mm512_set1_ps(x[(p + 1) * ldx]), a1);
            a2 = _mm512_fmadd_ps(_mm512_load_ps(w0 + (p + 2) * 16), _mm512_set1_ps(x[(p + 2) * ldx]), a2);
            a3 = _mm512_fmadd_ps(_mm512_load_ps(w0 + (p + 3) * 16), _mm512_set1_ps(x[(p + 3) * ldx]), a3);
        }
        for (; p < k; p++)
            a0 = _mm512_fmadd_ps(_mm512_load_ps(w0 + p * 16), _mm512_set1_ps(x[p * ldx]), a0);
        store_rows(a, s, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), y, ldy, ep);
    }
}

SK_END_ISA
