/* AVX2 element-wise spans and LayerNorm (8 floats per vector, masked tails). */
#include "ops_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx2.h"

SK_BEGIN_AVX2
#include "vec_avx2.h"

void sk_op_act_span__avx2(sk_op_act act, int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i += 8) {
        __m256i m = sk_mask8(n - i);
        _mm256_maskstore_ps(y + i, m, sk_act256(act, _mm256_maskload_ps(x + i, m)));
    }
}

void sk_op_add_span__avx2(int inputs, const float *const *x, int64_t offset, int64_t n,
                          float *y, sk_op_act act) {
    for (int64_t i = 0; i < n; i += 8) {
        __m256i m = sk_mask8(n - i);
        __m256 sum = _mm256_maskload_ps(x[0] + offset + i, m);
        for (int j = 1; j < inputs; j++) sum = _mm256_add_ps(sum, _mm256_maskload_ps(x[j] + offset + i, m));
        _mm256_maskstore_ps(y + i, m, sk_act256(act, sum));
    }
}

void sk_op_affine_span__avx2(int64_t n, const float *x, float scale, float shift,
                             sk_op_act act, float *y) {
    __m256 s = _mm256_set1_ps(scale), b = _mm256_set1_ps(shift);
    for (int64_t i = 0; i < n; i += 8) {
        __m256i m = sk_mask8(n - i);
        __m256 v = _mm256_fmadd_ps(_mm256_maskload_ps(x + i, m), s, b);
        _mm256_maskstore_ps(y + i, m, sk_act256(act, v));
    }
}

void sk_op_layernorm_cols__avx2(int64_t features, int64_t c0, int64_t c1, const float *x,
                                int64_t ldx, const float *gamma, const float *beta, float eps,
                                float *y, int64_t ldy) {
    const __m256 count = _mm256_set1_ps((float)features);
    for (int64_t c = c0; c < c1; c += 8) {
        __m256i m = sk_mask8(c1 - c);
        __m256 sum = _mm256_setzero_ps();
        for (int64_t f = 0; f < features; f++) sum = _mm256_add_ps(sum, _mm256_maskload_ps(x + f * ldx + c, m));
        __m256 mean = _mm256_div_ps(sum, count);
        __m256 squares = _mm256_setzero_ps();
        for (int64_t f = 0; f < features; f++) {
            __m256 d = _mm256_sub_ps(_mm256_maskload_ps(x + f * ldx + c, m), mean);
            squares = _mm256_fmadd_ps(d, d, squares);
        }
        __m256 variance = _mm256_add_ps(_mm256_div_ps(squares, count), _mm256_set1_ps(eps));
        __m256 inverse = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_sqrt_ps(variance));
        for (int64_t f = 0; f < features; f++) {
            __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + f * ldx + c, m), mean), inverse);
            __m256 v = _mm256_fmadd_ps(d, _mm256_set1_ps(gamma[f]), _mm256_set1_ps(beta[f]));
            _mm256_maskstore_ps(y + f * ldy + c, m, v);
        }
    }
}

SK_END_ISA
