/* The epilogue activations, scalar. The vector versions (sk_activation_avx512.h,
 * sk_activation_avx2.h) compute exactly the same operations lane by lane, so every ISA
 * path and every tile edge gives the same bits for the same accumulator.
 *
 * GELU (tanh form): 0.5·v·(1 + tanh(u)) with u = √(2/π)·(v + 0.044715·v³). Since
 * 1 + tanh(u) = 2 / (1 + e^(-2u)), this is v / (1 + e^(-2u)): one exponential and one
 * division, no cancellation (a product, never a difference of near-equal terms), and
 * the right limits on both sides (e^(-2u) → 0 gives v; → ∞ gives -0).
 *
 * The exponential is our own: e^t = 2^j · e^r with j = round(t / ln 2) and
 * r = t - j·ln 2 in [-ln2/2, ln2/2] (ln 2 split in a high part with few mantissa bits, so
 * j·ln2_hi is exact, and a low part), e^r by its Taylor polynomial of degree 7 (truncation
 * below 6e-9 relative, under half an ulp), 2^j built in the exponent bits. t is clamped to
 * [-87, 88] so 2^j stays a normal float. Accuracy against double precision is a test
 * (Tests/SparseKernelsTests/ActivationTests.swift). */
#ifndef SK_ACTIVATION_H
#define SK_ACTIVATION_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define SK_EXP_MIN_ARG (-87.0f)
#define SK_EXP_MAX_ARG 88.0f
#define SK_LOG2E 1.44269504088896341f
#define SK_LN2_HI 0.693359375f          /* 9 significant bits: j·SK_LN2_HI is exact */
#define SK_LN2_LO (-2.12194440e-4f)     /* ln 2 - SK_LN2_HI */
#define SK_EXP_C2 (1.0f / 2.0f)
#define SK_EXP_C3 (1.0f / 6.0f)
#define SK_EXP_C4 (1.0f / 24.0f)
#define SK_EXP_C5 (1.0f / 120.0f)
#define SK_EXP_C6 (1.0f / 720.0f)
#define SK_EXP_C7 (1.0f / 5040.0f)
/* -2u = v·(SK_GELU_A + SK_GELU_B·v²) */
#define SK_GELU_A (-1.5957691216057308f)             /* -2·√(2/π) */
#define SK_GELU_B (-1.5957691216057308f * 0.044715f) /* -2·√(2/π)·0.044715 */

/* Round to nearest (ties to even) for |t| < 2^22, the same as the vector round. */
static inline float sk_round_nearest(float t) {
    const float shifter = 12582912.0f; /* 1.5·2^23 */
    const float sum = t + shifter; /* IEEE rules forbid folding (t + c) - c to t */
    return sum - shifter;
}

static inline float sk_exp_scalar(float t) {
    t = fminf(fmaxf(t, SK_EXP_MIN_ARG), SK_EXP_MAX_ARG);
    const float j = sk_round_nearest(t * SK_LOG2E);
    float r = fmaf(-j, SK_LN2_HI, t);
    r = fmaf(-j, SK_LN2_LO, r);
    float p = fmaf(SK_EXP_C7, r, SK_EXP_C6);
    p = fmaf(p, r, SK_EXP_C5);
    p = fmaf(p, r, SK_EXP_C4);
    p = fmaf(p, r, SK_EXP_C3);
    p = fmaf(p, r, SK_EXP_C2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    const int32_t bits = ((int32_t)j + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float sk_gelu_scalar(float v) {
    const float t = v * fmaf(SK_GELU_B, v * v, SK_GELU_A); /* -2u */
    return v / (1.0f + sk_exp_scalar(t));
}

static inline float sk_activate_scalar(float v, int activation) {
    switch (activation) {
    /* written as the vector max(0, v) and min(6, ·) behave, bit for bit: a NaN passes
     * through (an overflow upstream must not come out as a silent 0), -0 stays -0 */
    case 1: return 0.0f > v ? 0.0f : v;                       /* ReLU */
    case 2: { const float r = 0.0f > v ? 0.0f : v; return 6.0f < r ? 6.0f : r; } /* ReLU6 */
    case 3: return sk_gelu_scalar(v);                          /* GELU */
    default: return v;
    }
}

#endif
