/* Scalar element-wise spans and LayerNorm: the reference of the vector variants. */
#include "ops_internal.h"

void sk_op_act_span__scalar(sk_op_act act, int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = sk_op_act_scalar(act, x[i]);
}

void sk_op_add_span__scalar(int inputs, const float *const *x, int64_t offset, int64_t n,
                            float *y, sk_op_act act) {
    for (int64_t i = 0; i < n; i++) {
        float sum = x[0][offset + i];
        for (int j = 1; j < inputs; j++) sum += x[j][offset + i];
        y[i] = sk_op_act_scalar(act, sum);
    }
}

void sk_op_affine_span__scalar(int64_t n, const float *x, float scale, float shift,
                               sk_op_act act, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = sk_op_act_scalar(act, fmaf(x[i], scale, shift));
}

void sk_op_layernorm_cols__scalar(int64_t features, int64_t c0, int64_t c1, const float *x,
                                  int64_t ldx, const float *gamma, const float *beta, float eps,
                                  float *y, int64_t ldy) {
    for (int64_t c = c0; c < c1; c++) {
        float sum = 0.0f;
        for (int64_t f = 0; f < features; f++) sum += x[f * ldx + c];
        float mean = sum / (float)features;
        float squares = 0.0f;
        for (int64_t f = 0; f < features; f++) {
            float d = x[f * ldx + c] - mean;
            squares = fmaf(d, d, squares);
        }
        float inverse = 1.0f / sqrtf(squares / (float)features + eps);
        for (int64_t f = 0; f < features; f++)
            y[f * ldy + c] = fmaf((x[f * ldx + c] - mean) * inverse, gamma[f], beta[f]);
    }
}
