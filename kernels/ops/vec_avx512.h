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

/* exp and the activations: the kernels' own (common/sk_activation_avx512.h, same bits as
 * the scalar ones). */
static inline __m512 sk_exp512(__m512 x) { return sk_exp_zmm(x); }
static inline __m512 sk_act512(sk_op_act act, __m512 v) { return sk_activate_zmm(v, (int)act); }
#endif
