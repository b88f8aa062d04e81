/* AVX-512 helpers of the runtime operators. Include only between SK_BEGIN_AVX512 and
 * SK_END_ISA, so the functions get the ISA's target attribute. */
#ifndef SK_OPS_VEC_AVX512_H
#define SK_OPS_VEC_AVX512_H
/* <immintrin.h> is included by the ISA file before SK_BEGIN_*. */
#include "ops_internal.h"

/* Lane mask of the first n lanes (none for n <= 0, all 16 for n >= 16). */
static inline __mmask16 sk_mask16(int64_t n) {
    if (n <= 0) return 0;
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* exp(x) for fp32: x = n ln2 + r with |r| <= ln2/2 (ln2 split in a short high part and a
 * correction, so n ln2 is exact), exp(r) by its degree-7 Taylor polynomial (truncation
 * error r^8/8! < 6e-9, below half an ulp), scaled by 2^n. Inputs are clamped to
 * [-87.34, 88]: the result stays a normal float and never overflows. */
static inline __m512 sk_exp512(__m512 x) {
    x = _mm512_min_ps(x, _mm512_set1_ps(88.0f));
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.33654f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606820309417232e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static inline __m512 sk_act512(sk_op_act act, __m512 v) {
    switch (act) {
    case SK_OP_ACT_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
    case SK_OP_ACT_RELU6:
        return _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(6.0f));
    case SK_OP_ACT_GELU: {
        __m512 v2 = _mm512_mul_ps(v, v);
        __m512 z = _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(SK_GELU_C)),
                                 _mm512_fmadd_ps(v2, _mm512_set1_ps(SK_GELU_A), _mm512_set1_ps(1.0f)));
        __m512 e = sk_exp512(_mm512_mul_ps(z, _mm512_set1_ps(-2.0f)));
        return _mm512_div_ps(v, _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
    }
    default: return v;
    }
}
#endif
