/* Element-wise operators and LayerNorm: ISA dispatch and threading. The per-ISA files
 * hold the span loops; here the work is cut into equal contiguous pieces, one per thread.
 * Below SK_OP_SERIAL_ELEMENTS elements a single thread is faster than waking the team. */
#include "ops_internal.h"

#define SK_OP_SERIAL_ELEMENTS (1 << 15)

static int threads_for(int64_t elements, int threads) {
    if (threads < 1) threads = 1;
    if (elements < SK_OP_SERIAL_ELEMENTS) return 1;
    return threads;
}

typedef void (*act_span_fn)(sk_op_act, int64_t, const float *, float *);
typedef void (*add_span_fn)(int, const float *const *, int64_t, int64_t, float *, sk_op_act);
typedef void (*affine_span_fn)(int64_t, const float *, float, float, sk_op_act, float *);
typedef void (*layernorm_fn)(int64_t, int64_t, int64_t, const float *, int64_t, const float *,
                             const float *, float, float *, int64_t);

static act_span_fn act_span(sk_isa isa) {
    return isa == SK_ISA_AVX512 ? sk_op_act_span__avx512
         : isa == SK_ISA_AVX2   ? sk_op_act_span__avx2
                                : sk_op_act_span__scalar;
}

/* Calls body(row, c0, c1) for the part of the rows x cols index space, flattened row by
 * row, that thread `tid` of `nth` owns. */
#define FOR_OWN_SEGMENTS(rows, cols, nth, tid, row, c0, c1, body)                           \
    do {                                                                                    \
        int64_t begin_, end_;                                                               \
        sk_partition((rows) * (cols), 16, (nth), (tid), &begin_, &end_);                    \
        for (int64_t at_ = begin_; at_ < end_;) {                                           \
            int64_t row = at_ / (cols), c0 = at_ % (cols);                                  \
            int64_t c1 = sk_op_min(cols, c0 + (end_ - at_));                                \
            body;                                                                           \
            at_ += c1 - c0;                                                                 \
        }                                                                                   \
    } while (0)

void sk_op_activation(sk_op_act act, int64_t rows, int64_t cols, const float *x, int64_t ldx,
                      float *y, int64_t ldy, sk_isa isa, int threads) {
    if (rows <= 0 || cols <= 0) return;
    act_span_fn span = act_span(isa);
    if (ldx == cols && ldy == cols) { /* contiguous: one long row */
        cols *= rows;
        rows = 1;
    }
#pragma omp parallel num_threads(threads_for(rows * cols, threads))
    {
        FOR_OWN_SEGMENTS(rows, cols, omp_get_num_threads(), omp_get_thread_num(), r, c0, c1,
                         span(act, c1 - c0, x + r * ldx + c0, y + r * ldy + c0));
    }
}

void sk_op_add(int inputs, const float *const *x, int64_t count, float *y, sk_op_act act,
               sk_isa isa, int threads) {
    if (count <= 0 || inputs <= 0) return;
    add_span_fn span = isa == SK_ISA_AVX512 ? sk_op_add_span__avx512
                     : isa == SK_ISA_AVX2   ? sk_op_add_span__avx2
                                            : sk_op_add_span__scalar;
#pragma omp parallel num_threads(threads_for(count, threads))
    {
        int64_t begin, end;
        sk_partition(count, 16, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
        if (begin < end) span(inputs, x, begin, end - begin, y + begin, act);
    }
}

void sk_op_channel_affine(int64_t rows, int64_t cols, const float *x, int64_t ldx,
                          const float *scale, const float *shift, sk_op_act act,
                          float *y, int64_t ldy, sk_isa isa, int threads) {
    if (rows <= 0 || cols <= 0) return;
    affine_span_fn span = isa == SK_ISA_AVX512 ? sk_op_affine_span__avx512
                        : isa == SK_ISA_AVX2   ? sk_op_affine_span__avx2
                                               : sk_op_affine_span__scalar;
#pragma omp parallel num_threads(threads_for(rows * cols, threads))
    {
        FOR_OWN_SEGMENTS(rows, cols, omp_get_num_threads(), omp_get_thread_num(), r, c0, c1,
                         span(c1 - c0, x + r * ldx + c0, scale ? scale[r] : 1.0f,
                              shift ? shift[r] : 0.0f, act, y + r * ldy + c0));
    }
}

void sk_op_layernorm(int64_t features, int64_t cols, const float *x, int64_t ldx,
                     const float *gamma, const float *beta, float eps, float *y, int64_t ldy,
                     sk_isa isa, int threads) {
    if (features <= 0 || cols <= 0) return;
    layernorm_fn cols_fn = isa == SK_ISA_AVX512 ? sk_op_layernorm_cols__avx512
                         : isa == SK_ISA_AVX2   ? sk_op_layernorm_cols__avx2
                                                : sk_op_layernorm_cols__scalar;
#pragma omp parallel num_threads(threads_for(features * cols, threads))
    {
        int64_t c0, c1;
        sk_partition(cols, 16, omp_get_num_threads(), omp_get_thread_num(), &c0, &c1);
        if (c0 < c1) cols_fn(features, c0, c1, x, ldx, gamma, beta, eps, y, ldy);
    }
}
