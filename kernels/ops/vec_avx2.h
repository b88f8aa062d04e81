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

/* exp and the activations: the kernels' own (common/sk_activation_avx2.h, same bits as
 * the scalar ones). */
static inline __m256 sk_exp256(__m256 x) { return sk_exp_ymm(x); }
static inline __m256 sk_act256(sk_op_act act, __m256 v) { return sk_activate_ymm(v, (int)act); }
#endif
