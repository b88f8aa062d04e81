/* Convolutions as im2col + weight product, with the columns split between threads (see
 * runtime_ops.h). Why per-thread columns rather than one multi-threaded kernel call per
 * im2col block: the block a thread copies is then the block it multiplies, still in its
 * own L2, and no barrier separates the copy from the product (on a shared machine a
 * barrier turns every preemption of one thread into a stall of all). */
#include "ops_internal.h"

int sk_op_conv_gemm_run(const sk_op_conv_gemm *c, sk_isa isa, int threads) {
    const sk_op_conv_geometry *g = &c->geometry;
    const sk_op_im2col_block_fn im2col = sk_op_im2col_block_for(isa);
    int failed = 0;
    if (threads < 1) threads = 1;
    /* Every thread gets at least one 16-column grain. */
    int64_t grains = (c->columns + 15) / 16;
    if (threads > grains) threads = (int)grains;
#pragma omp parallel num_threads(threads) reduction(| : failed)
    {
        const int tid = omp_get_thread_num();
        float *patches = c->scratch + (int64_t)tid * c->reduction * c->chunk;
        int64_t c0, c1;
        sk_partition(c->columns, 16, omp_get_num_threads(), tid, &c0, &c1);
        for (int64_t start = c0; start < c1 && !failed; start += c->chunk) {
            const int64_t width = sk_op_min(c->chunk, c1 - start);
            for (int64_t group = 0; group < c->groups; group++) {
                im2col(g, c->x + group * g->channels * c->ldx, c->ldx, start, start + width, patches, width);
                const int64_t row0 = group * c->rows_per_group;
                sk_epilogue ep = {
                    .bias = c->bias ? c->bias + row0 : NULL,
                    .residual = c->residual ? c->residual + row0 * c->columns + start : NULL,
                    .ld_residual = c->columns,
                    .activation = c->activation,
                };
                failed |= sk_kernel_run(c->kernel, c->weights[group], width, patches, width,
                                        c->y + row0 * c->columns + start, c->columns, &ep, &c->params, 1) != 0;
            }
        }
    }
    return failed ? -1 : 0;
}
