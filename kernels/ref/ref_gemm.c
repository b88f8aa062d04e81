/* The test oracle: a deliberately plain triple loop accumulating in double. Kept free
 * of any cleverness so that it is obviously right. */
#include <math.h>
#include "../common/sk_internal.h"

/* The activations in double precision, straight from their definitions. */
static double activate_double(double v, sk_activation activation) {
    switch (activation) {
    case SK_ACTIVATION_RELU: return v > 0.0 ? v : 0.0;
    case SK_ACTIVATION_RELU6: return v > 0.0 ? (v < 6.0 ? v : 6.0) : 0.0;
    case SK_ACTIVATION_GELU: {
        const double sqrt_2_over_pi = 0.79788456080286535588; /* √(2/π) */
        return 0.5 * v * (1.0 + tanh(sqrt_2_over_pi * (v + 0.044715 * v * v * v)));
    }
    default: return v;
    }
}

void sk_ref_gemm(int64_t m, int64_t n, int64_t k, const float *w, int64_t ldw,
                 const float *x, int64_t ldx, float *y, int64_t ldy,
                 const sk_epilogue *ep, float *abs_bound) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            double acc = 0.0, mag = 0.0;
            for (int64_t p = 0; p < k; p++) {
                double product = (double)w[i * ldw + p] * (double)x[p * ldx + j];
                acc += product;
                mag += fabs(product);
            }
            if (ep && ep->bias) { acc += ep->bias[i]; mag += fabs(ep->bias[i]); }
            if (ep && ep->residual) {
                double r = ep->residual[i * ep->ld_residual + j];
                acc += r;
                mag += fabs(r);
            }
            if (ep) acc = activate_double(acc, ep->activation);
            y[i * ldy + j] = (float)acc;
            if (abs_bound) abs_bound[i * ldy + j] = (float)mag;
        }
    }
}
