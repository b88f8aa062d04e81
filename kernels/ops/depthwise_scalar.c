/* Scalar depthwise plane: the reference of the vector variants (same tap order). */
#include "ops_internal.h"

void sk_op_dw_plane__scalar(const sk_op_dw_plane *p) {
    const int64_t s = p->stride;
    for (int64_t oy = 0; oy < p->out_h; oy++)
        for (int64_t ox = 0; ox < p->out_w; ox++) {
            float acc = p->bias;
            for (int64_t ky = 0; ky < p->kernel_h; ky++)
                for (int64_t kx = 0; kx < p->kernel_w; kx++) {
                    const float *row = p->phases + (kx % s) * p->phase_floats + (oy * s + ky) * p->row_stride;
                    acc = fmaf(p->w[ky * p->kernel_w + kx], row[ox + kx / s], acc);
                }
            p->y[oy * p->out_w + ox] = sk_op_act_scalar(p->act, acc);
        }
}
