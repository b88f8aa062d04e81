/* AVX-512 element-wise spans and LayerNorm (16 floats per vector, masked tails). */
#include "ops_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx512.h"

SK_BEGIN_AVX512
#include "vec_avx512.h"

void sk_op_act_span__avx512(sk_op_act act, int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = sk_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, m, sk_act512(act, _mm512_maskz_loadu_ps(m, x + i)));
    }
}

void sk_op_add_span__avx512(int inputs, const float *const *x, int64_t offset, int64_t n,
                            float *y, sk_op_act act) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = sk_mask16(n - i);
        __m512 sum = _mm512_maskz_loadu_ps(m, x[0] + offset + i);
        for (int j = 1; j < inputs; j++)
            sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(m, x[j] + offset + i));
        _mm512_mask_storeu_ps(y + i, m, sk_act512(act, sum));
    }
}

void sk_op_affine_span__avx512(int64_t n, const float *x, float scale, float shift,
                               sk_op_act act, float *y) {
    __m512 s = _mm512_set1_ps(scale), b = _mm512_set1_ps(shift);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = sk_mask16(n - i);
        __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), s, b);
        _mm512_mask_storeu_ps(y + i, m, sk_act512(act, v));
    }
}

/* One vector of 16 columns at a time through all features: mean, variance of the
 * deviations, then the normalised output (three passes over a 64-byte column strip). */
void sk_op_layernorm_cols__avx512(int64_t features, int64_t c0, int64_t c1, const float *x,
                                  int64_t ldx, const float *gamma, const float *beta, float eps,
                                  float *y, int64_t ldy) {
    const __m512 count = _mm512_set1_ps((float)features);
    for (int64_t c = c0; c < c1; c += 16) {
        __mmask16 m = sk_mask16(c1 - c);
        __m512 sum = _mm512_setzero_ps();
        for (int64_t f = 0; f < features; f++) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(m, x + f * ldx + c));
        __m512 mean = _mm512_div_ps(sum, count);
        __m512 squares = _mm512_setzero_ps();
        for (int64_t f = 0; f < features; f++) {
            __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + f * ldx + c), mean);
            squares = _mm512_fmadd_ps(d, d, squares);
        }
        __m512 variance = _mm512_add_ps(_mm512_div_ps(squares, count), _mm512_set1_ps(eps));
        __m512 inverse = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_sqrt_ps(variance));
        for (int64_t f = 0; f < features; f++) {
            __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + f * ldx + c), mean), inverse);
            __m512 v = _mm512_fmadd_ps(d, _mm512_set1_ps(gamma[f]), _mm512_set1_ps(beta[f]));
            _mm512_mask_storeu_ps(y + f * ldy + c, m, v);
        }
    }
}

SK_END_ISA
