/* AVX2 helpers of the runtime operators. Include only between SK_BEGIN_AVX2 and
 * SK_END_ISA, so the functions get the ISA's target attribute. */
#ifndef SK_OPS_VEC_AVX2_H
#define SK_OPS_VEC_AVX2_H
/* <immintrin.h> is included by the ISA file before SK_BEGIN_*. */
#include "ops_internal.h"

/* Lane mask of the first n (0..8) lanes, for maskload / maskstore: lanes past the end
 * are neither read nor written, so tails never touch memory outside the arrays. */
static inline __m256i sk_mask8(int64_t n) {
    if (n > 8) n = 8;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* exp(x) for fp32, as sk_exp512 (see vec_avx512.h); 2^n is built in the exponent bits,
 * which the clamp keeps within the normal range (n in [-126, 127]). */
static inline __m256 sk_exp256(__m256 x) {
    x = _mm256_min_ps(x, _mm256_set1_ps(88.0f));
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.33654f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606820309417232e-6f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256 sk_act256(sk_op_act act, __m256 v) {
    switch (act) {
    case SK_OP_ACT_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
    case SK_OP_ACT_RELU6:
        return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
    case SK_OP_ACT_GELU: {
        __m256 v2 = _mm256_mul_ps(v, v);
        __m256 z = _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(SK_GELU_C)),
                                 _mm256_fmadd_ps(v2, _mm256_set1_ps(SK_GELU_A), _mm256_set1_ps(1.0f)));
        __m256 e = sk_exp256(_mm256_mul_ps(z, _mm256_set1_ps(-2.0f)));
        return _mm256_div_ps(v, _mm256_add_ps(e, _mm256_set1_ps(1.0f)));
    }
    default: return v;
    }
}
#endif
