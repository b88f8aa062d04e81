/* The epilogue activations on ymm vectors: the operations of sk_activation.h, lane by
 * lane, so results match the scalar path bit for bit. Self-contained: opens its own
 * AVX2 region. */
#ifndef SK_ACTIVATION_AVX2_H
#define SK_ACTIVATION_AVX2_H

#include <immintrin.h>
#include "sk_internal.h"

SK_BEGIN_AVX2

static inline __m256 sk_exp_ymm(__m256 t) {
    t = _mm256_min_ps(_mm256_max_ps(t, _mm256_set1_ps(SK_EXP_MIN_ARG)), _mm256_set1_ps(SK_EXP_MAX_ARG));
    const __m256 j = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(SK_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(j, _mm256_set1_ps(SK_LN2_HI), t);
    r = _mm256_fnmadd_ps(j, _mm256_set1_ps(SK_LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(SK_EXP_C7), r, _mm256_set1_ps(SK_EXP_C6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SK_EXP_C5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SK_EXP_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SK_EXP_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SK_EXP_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(j), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

/* Out of line on purpose, see sk_activation_avx512.h. */
static __attribute__((noinline, unused)) __m256 sk_gelu_ymm(__m256 v) {
    const __m256 t = _mm256_mul_ps(v, _mm256_fmadd_ps(_mm256_set1_ps(SK_GELU_B), _mm256_mul_ps(v, v),
                                                      _mm256_set1_ps(SK_GELU_A)));
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), sk_exp_ymm(t)));
}

static inline __m256 sk_activate_ymm(__m256 v, int activation) {
    switch (activation) {
    /* max/min return their second operand when either is NaN: v second, so NaN passes */
    case 1: return _mm256_max_ps(_mm256_setzero_ps(), v);
    case 2: return _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(_mm256_setzero_ps(), v));
    case 3: return sk_gelu_ymm(v);
    default: return v;
    }
}

SK_END_ISA

#endif
