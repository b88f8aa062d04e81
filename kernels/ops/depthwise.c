/* Depthwise convolution (MobileNetV2's 3x3 layers): one (channel, sample) plane at a
 * time, planes split over threads. Each plane is first copied into a zero-padded scratch
 * laid out as `stride` column phases (see ops_internal.h), so every tap of every output
 * row is one contiguous vector load whatever the stride; the per-ISA files then run the
 * taps with the bias and activation fused into the store.
 * Why not im2col + GEMM: a depthwise layer has one input channel per output channel, so
 * its "GEMM" is C independent 1 x (kh*kw) products; im2col would write kh*kw copies of
 * the input to save nothing. */
#include "ops_internal.h"

typedef void (*plane_fn)(const sk_op_dw_plane *);

static int64_t phase_width(const sk_op_conv_geometry *g) {
    int64_t padded = g->width + 2 * g->padding;
    return (padded + g->stride - 1) / g->stride;
}

int64_t sk_op_depthwise_scratch_floats(const sk_op_conv_geometry *g) {
    int64_t rows = g->height + 2 * g->padding;
    return (g->stride * rows * (phase_width(g) + SK_OP_DW_SLACK) + 15) / 16 * 16;
}

/* Copies plane x (height x width) into the zeroed phase scratch. */
static void fill_phases(const sk_op_conv_geometry *g, const float *x, float *scratch,
                        int64_t row_stride, int64_t phase_floats, sk_isa isa) {
    memset(scratch, 0, (size_t)(g->stride * phase_floats) * sizeof(float));
    const int64_t s = g->stride, p = g->padding;
    for (int64_t iy = 0; iy < g->height; iy++) {
        const float *src = x + iy * g->width;
        if (s == 1) {
            memcpy(scratch + (iy + p) * row_stride + p, src, (size_t)g->width * sizeof(float));
            continue;
        }
        float *row = scratch + (iy + p) * row_stride;
        if (s == 2 && isa == SK_ISA_AVX512) {
            sk_op_dw_split_row__avx512(src, g->width, p, row, row + phase_floats);
            continue;
        }
        /* Padded column ix + p lives in phase (ix + p) % s at (ix + p) / s: walked with
         * counters, not a division per element. */
        int64_t phase = p % s, at = p / s;
        for (int64_t ix = 0; ix < g->width; ix++) {
            row[phase * phase_floats + at] = src[ix];
            if (++phase == s) {
                phase = 0;
                at++;
            }
        }
    }
}

void sk_op_depthwise_conv(const sk_op_conv_geometry *g, int64_t batch, const float *x,
                          const float *w, const float *bias, sk_op_act act, float *y,
                          float *scratch_all, sk_isa isa, int threads) {
    plane_fn plane = isa == SK_ISA_AVX512 ? sk_op_dw_plane__avx512
                   : isa == SK_ISA_AVX2   ? sk_op_dw_plane__avx2
                                          : sk_op_dw_plane__scalar;
    const int64_t planes = g->channels * batch;
    const int64_t in_plane = g->height * g->width, out_plane = g->out_h * g->out_w;
    const int64_t row_stride = phase_width(g) + SK_OP_DW_SLACK;
    const int64_t phase_floats = (g->height + 2 * g->padding) * row_stride;
    const int64_t taps = g->kernel_h * g->kernel_w;
    if (threads < 1) threads = 1;
    if (threads > planes) threads = (int)planes;
#pragma omp parallel num_threads(threads)
    {
        int64_t own = sk_op_depthwise_scratch_floats(g);
        float *scratch = scratch_all ? scratch_all + omp_get_thread_num() * own
                                     : sk_alloc((size_t)own * sizeof(float));
        int64_t p0, p1;
        sk_partition(planes, 1, omp_get_num_threads(), omp_get_thread_num(), &p0, &p1);
        for (int64_t index = p0; index < p1 && scratch; index++) {
            int64_t c = index / batch, b = index % batch;
            fill_phases(g, x + c * batch * in_plane + b * in_plane, scratch, row_stride, phase_floats, isa);
            sk_op_dw_plane job = {
                .phases = scratch, .phase_floats = phase_floats, .row_stride = row_stride,
                .stride = g->stride, .kernel_h = g->kernel_h, .kernel_w = g->kernel_w,
                .out_h = g->out_h, .out_w = g->out_w, .w = w + c * taps,
                .bias = bias ? bias[c] : 0.0f, .act = act,
                .y = y + c * batch * out_plane + b * out_plane,
            };
            plane(&job);
        }
        /* Out of memory (never expected for a plane-sized buffer): the scalar loop below
         * needs no scratch, so the result is still computed. */
        if (!scratch) {
            for (int64_t index = p0; index < p1; index++) {
                int64_t c = index / batch, b = index % batch;
                const float *xp = x + c * batch * in_plane + b * in_plane;
                float *yp = y + c * batch * out_plane + b * out_plane;
                for (int64_t oy = 0; oy < g->out_h; oy++)
                    for (int64_t ox = 0; ox < g->out_w; ox++) {
                        float acc = bias ? bias[c] : 0.0f;
                        for (int64_t ky = 0; ky < g->kernel_h; ky++) {
                            int64_t iy = oy * g->stride - g->padding + ky;
                            if (iy < 0 || iy >= g->height) continue;
                            for (int64_t kx = 0; kx < g->kernel_w; kx++) {
                                int64_t ix = ox * g->stride - g->padding + kx;
                                if (ix < 0 || ix >= g->width) continue;
                                acc = fmaf(w[c * taps + ky * g->kernel_w + kx], xp[iy * g->width + ix], acc);
                            }
                        }
                        yp[oy * g->out_w + ox] = sk_op_act_scalar(act, acc);
                    }
            }
        }
        if (!scratch_all) sk_free(scratch);
    }
}
