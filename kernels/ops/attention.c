/* Fused multi-head attention: one (sample, head) pair at a time, pairs split over
 * threads, each thread with its own tokens x tokens score buffer. Fusing the three IR
 * nodes (scores, softmax, context) keeps the scores of one head and one block of queries
 * in one thread's scratch instead of materialising [batch, heads, T, T] (12.9 GB for
 * GPT-3 Small at batch 64, T = 2048). */
#include "ops_internal.h"

typedef void (*head_fn)(const sk_op_attention_head *);

/* Per thread: the T x block scores plus the column maxima and sums of a query block. */
static int64_t per_thread_floats(int64_t tokens) {
    return tokens * SK_OP_ATTENTION_QUERY_BLOCK + 2 * SK_OP_ATTENTION_QUERY_BLOCK;
}

int64_t sk_op_attention_scratch_floats(int64_t tokens, int threads) {
    return (threads < 1 ? 1 : threads) * per_thread_floats(tokens);
}

void sk_op_attention(int64_t width, int64_t heads, int64_t tokens, int64_t batch, int causal,
                     float scale, const float *q, const float *k, const float *v, int64_t ld,
                     float *out, float *scratch, sk_isa isa, int threads) {
    head_fn head = isa == SK_ISA_AVX512 ? sk_op_attention_head__avx512
                 : isa == SK_ISA_AVX2   ? sk_op_attention_head__avx2
                                        : sk_op_attention_head__scalar;
    const int64_t head_dim = width / heads, pairs = batch * heads;
    const int64_t own = per_thread_floats(tokens);
    const int64_t column = SK_OP_ATTENTION_QUERY_BLOCK;
    if (threads < 1) threads = 1;
    if (threads > pairs) threads = (int)pairs;
#pragma omp parallel num_threads(threads)
    {
        int tid = omp_get_thread_num();
        float *st = scratch + tid * own;
        float *colmax = st + (own - 2 * column), *colsum = colmax + column;
        int64_t p0, p1;
        sk_partition(pairs, 1, omp_get_num_threads(), tid, &p0, &p1);
        for (int64_t pair = p0; pair < p1; pair++) {
            int64_t b = pair / heads, h = pair % heads;
            int64_t offset = h * head_dim * ld + b * tokens;
            sk_op_attention_head job = {
                .head_dim = head_dim, .tokens = tokens, .causal = causal, .scale = scale,
                .q = q + offset, .k = k + offset, .v = v + offset, .ld = ld, .out = out + offset,
                .st = st, .colmax = colmax, .colsum = colsum,
            };
            head(&job);
        }
    }
}
