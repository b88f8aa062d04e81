/* sk_activation_apply: the epilogue activations over an array, with the implementation
 * each ISA's kernels use in their stores, so tests can measure them against double
 * precision and compare the ISAs bit for bit. */
#include "sk_internal.h"
#include "sk_activation_avx512.h"
#include "sk_activation_avx2.h"

SK_BEGIN_AVX512
static void apply_avx512(int activation, const float *in, float *out, int64_t count) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(out + i, sk_activate_zmm(_mm512_loadu_ps(in + i), activation));
    if (i < count) {
        const __mmask16 mask = (__mmask16)((1u << (count - i)) - 1u);
        _mm512_mask_storeu_ps(out + i, mask, sk_activate_zmm(_mm512_maskz_loadu_ps(mask, in + i), activation));
    }
}
SK_END_ISA

SK_BEGIN_AVX2
static void apply_avx2(int activation, const float *in, float *out, int64_t count) {
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(out + i, sk_activate_ymm(_mm256_loadu_ps(in + i), activation));
    for (; i < count; i++) out[i] = sk_activate_scalar(in[i], activation);
}
SK_END_ISA

void sk_activation_apply(sk_activation activation, sk_isa isa, const float *in, float *out, int64_t count) {
    if (isa == SK_ISA_AVX512) apply_avx512((int)activation, in, out, count);
    else if (isa == SK_ISA_AVX2) apply_avx2((int)activation, in, out, count);
    else
        for (int64_t i = 0; i < count; i++) out[i] = sk_activate_scalar(in[i], (int)activation);
}
