/* The epilogue activations on zmm vectors: the operations of sk_activation.h, lane by
 * lane (same constants, same rounding, same order), so results match the scalar path
 * bit for bit. Self-contained: opens its own AVX-512 region. */
#ifndef SK_ACTIVATION_AVX512_H
#define SK_ACTIVATION_AVX512_H

#include <immintrin.h>
#include "sk_internal.h"

SK_BEGIN_AVX512

static inline __m512 sk_exp_zmm(__m512 t) {
    t = _mm512_min_ps(_mm512_max_ps(t, _mm512_set1_ps(SK_EXP_MIN_ARG)), _mm512_set1_ps(SK_EXP_MAX_ARG));
    const __m512 j = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(SK_LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(j, _mm512_set1_ps(SK_LN2_HI), t);
    r = _mm512_fnmadd_ps(j, _mm512_set1_ps(SK_LN2_LO), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(SK_EXP_C7), r, _mm512_set1_ps(SK_EXP_C6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SK_EXP_C5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SK_EXP_C4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SK_EXP_C3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SK_EXP_C2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(j), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

/* Out of line on purpose: inlined into every kernel's store, its constants and
 * temporaries cost the hot loops around the store registers even when the activation
 * is not GELU (measured: CSR and BSR several % slower). */
static __attribute__((noinline, unused)) __m512 sk_gelu_zmm(__m512 v) {
    const __m512 t = _mm512_mul_ps(v, _mm512_fmadd_ps(_mm512_set1_ps(SK_GELU_B), _mm512_mul_ps(v, v),
                                                      _mm512_set1_ps(SK_GELU_A)));
    return _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), sk_exp_zmm(t)));
}

/* The activation of sk_epilogue (an sk_activation value). */
static inline __m512 sk_activate_zmm(__m512 v, int activation) {
    switch (activation) {
    /* max/min return their second operand when either is NaN: v second, so NaN passes */
    case 1: return _mm512_max_ps(_mm512_setzero_ps(), v);
    case 2: return _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(_mm512_setzero_ps(), v));
    case 3: return sk_gelu_zmm(v);
    default: return v;
    }
}

SK_END_ISA

#endif
