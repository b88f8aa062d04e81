/* Convolutions as im2col + weight product, with the columns split between threads (see
 * runtime_ops.h). Why per-thread columns rather than one multi-threaded kernel call per
 * im2col block: the block a thread copies is then the block it multiplies, still in its
 * own L2, and no barrier separates the copy from the product (on a shared machine a
 * barrier turns every preemption of one thread into a stall of all). */
#include "ops_internal.h"

void sk_op_multiply_dense(const void *weights, int64_t n, const float *x, int64_t ldx, float *y, int64_t ldy,
                          const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_dense_multiply((const sk_dense *)weights, n, x, ldx, y, ldy, ep, isa, threads);
}

void sk_op_multiply_csr(const void *weights, int64_t n, const float *x, int64_t ldx, float *y, int64_t ldy,
                        const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_csr_multiply((const sk_csr *)weights, n, x, ldx, y, ldy, ep, isa, threads);
}

void sk_op_multiply_nm(const void *weights, int64_t n, const float *x, int64_t ldx, float *y, int64_t ldy,
                       const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_nm_multiply((const sk_nm *)weights, n, x, ldx, y, ldy, ep, isa, threads);
}

void sk_op_multiply_bsr(const void *weights, int64_t n, const float *x, int64_t ldx, float *y, int64_t ldy,
                        const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_bsr_multiply((const sk_bsr *)weights, n, x, ldx, y, ldy, ep, isa, threads);
}

void sk_op_conv_gemm_run(const sk_op_conv_gemm *c, sk_isa isa, int threads) {
    const sk_op_conv_geometry *g = &c->geometry;
    const int64_t rows = c->groups * c->rows_per_group;
    const sk_op_im2col_block_fn im2col = sk_op_im2col_block_for(isa);
    if (threads < 1) threads = 1;
    /* Every thread gets at least one 16-column grain. */
    int64_t grains = (c->columns + 15) / 16;
    if (threads > grains) threads = (int)grains;
#pragma omp parallel num_threads(threads)
    {
        const int tid = omp_get_thread_num();
        float *patches = c->scratch + (int64_t)tid * c->reduction * c->chunk;
        int64_t c0, c1;
        sk_partition(c->columns, 16, omp_get_num_threads(), tid, &c0, &c1);
        for (int64_t start = c0; start < c1; start += c->chunk) {
            const int64_t width = sk_op_min(c->chunk, c1 - start);
            for (int64_t group = 0; group < c->groups; group++) {
                im2col(g, c->x + group * g->channels * c->ldx, c->ldx, start, start + width, patches, width);
                const int64_t row0 = group * c->rows_per_group;
                sk_epilogue ep = {
                    .bias = c->bias ? c->bias + row0 : NULL,
                    .residual = c->residual ? c->residual + row0 * c->columns + start : NULL,
                    .ld_residual = c->columns,
                    .relu = c->fused_relu,
                };
                c->multiply(c->weights[group], width, patches, width, c->y + row0 * c->columns + start, c->columns, &ep,
                            isa, 1);
            }
            if (c->act != SK_OP_ACT_NONE) { /* while the chunk of Y is still in this core's cache */
                void (*span)(sk_op_act, int64_t, const float *, float *) =
                    isa == SK_ISA_AVX512 ? sk_op_act_span__avx512 : isa == SK_ISA_AVX2 ? sk_op_act_span__avx2 : sk_op_act_span__scalar;
                for (int64_t r = 0; r < rows; r++) span(c->act, width, c->y + r * c->columns + start, c->y + r * c->columns + start);
            }
        }
    }
}
