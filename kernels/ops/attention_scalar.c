/* Scalar attention of one (sample, head): the reference of the vector variants, with the
 * same algorithm and summation orders (and the kernels' exp): the vector variants give
 * the same bits. For each block of queries [q0, q1):
 *   st[j][i - q0] = scale * sum_d k[d][j] q[d][i]      scores, transposed (key-major)
 *   column softmax over j (j <= i when causal)          max, then exp and sums
 *   out[d][i] = sum_j v[d][j] st[j][i - q0] / sum_i     context, normalised at the store */
#include "ops_internal.h"

void sk_op_attention_head__scalar(const sk_op_attention_head *a) {
    const int64_t T = a->tokens, dh = a->head_dim, ld = a->ld, QB = SK_OP_ATTENTION_QUERY_BLOCK;
    for (int64_t q0 = 0; q0 < T; q0 += QB) {
        const int64_t q1 = sk_op_min(T, q0 + QB), keys = a->causal ? q1 : T;
        for (int64_t j = 0; j < keys; j++)
            for (int64_t i = sk_op_max(q0, a->causal ? j : 0); i < q1; i++) {
                float acc = 0.0f;
                for (int64_t d = 0; d < dh; d++) acc = fmaf(a->k[d * ld + j], a->q[d * ld + i], acc);
                a->st[j * QB + (i - q0)] = acc * a->scale;
            }
        for (int64_t i = q0; i < q1; i++) {
            a->colmax[i - q0] = -INFINITY;
            a->colsum[i - q0] = 0.0f;
        }
        for (int64_t j = 0; j < keys; j++)
            for (int64_t i = sk_op_max(q0, a->causal ? j : 0); i < q1; i++) {
                float v = a->st[j * QB + (i - q0)];
                a->colmax[i - q0] = v > a->colmax[i - q0] ? v : a->colmax[i - q0];
            }
        for (int64_t j = 0; j < keys; j++) {
            if (a->causal) /* zeros where i < j: the context product reads whole tiles */
                for (int64_t i = q0; i < sk_op_min(j, q1); i++) a->st[j * QB + (i - q0)] = 0.0f;
            for (int64_t i = sk_op_max(q0, a->causal ? j : 0); i < q1; i++) {
                float e = sk_exp_scalar(a->st[j * QB + (i - q0)] - a->colmax[i - q0]);
                a->st[j * QB + (i - q0)] = e;
                a->colsum[i - q0] += e;
            }
        }
        for (int64_t d = 0; d < dh; d++)
            for (int64_t i = q0; i < q1; i++) {
                float acc = 0.0f;
                int64_t end = a->causal ? i + 1 : T;
                for (int64_t j = 0; j < end; j++) acc = fmaf(a->v[d * ld + j], a->st[j * QB + (i - q0)], acc);
                a->out[d * ld + i] = acc * (1.0f / a->colsum[i - q0]);
            }
    }
}
