/* Scalar attention of one (sample, head): the reference of the vector variants, with the
 * same algorithm and summation orders (and the kernels' exp): the vector variants give the same bits.
 *   st[j][i] = scale * sum_d k[d][j] q[d][i]         scores, transposed (key-major)
 *   column softmax over j (j <= i when causal)         max, then exp and sums
 *   out[d][i] = sum_j v[d][j] st[j][i] / sum_i         context, normalised at the store */
#include "ops_internal.h"

void sk_op_attention_head__scalar(const sk_op_attention_head *a) {
    const int64_t T = a->tokens, dh = a->head_dim, ld = a->ld;
    for (int64_t j = 0; j < T; j++)
        for (int64_t i = a->causal ? j : 0; i < T; i++) {
            float acc = 0.0f;
            for (int64_t d = 0; d < dh; d++) acc = fmaf(a->k[d * ld + j], a->q[d * ld + i], acc);
            a->st[j * T + i] = acc * a->scale;
        }
    for (int64_t i = 0; i < T; i++) {
        a->colmax[i] = -INFINITY;
        a->colsum[i] = 0.0f;
    }
    for (int64_t j = 0; j < T; j++)
        for (int64_t i = a->causal ? j : 0; i < T; i++)
            a->colmax[i] = a->st[j * T + i] > a->colmax[i] ? a->st[j * T + i] : a->colmax[i];
    for (int64_t j = 0; j < T; j++) {
        if (a->causal) /* zeros left of the diagonal: the context product reads P[j][i<j] */
            for (int64_t i = sk_op_max(0, j - SK_OP_ATTENTION_MARGIN); i < j; i++) a->st[j * T + i] = 0.0f;
        for (int64_t i = a->causal ? j : 0; i < T; i++) {
            float e = sk_exp_scalar(a->st[j * T + i] - a->colmax[i]);
            a->st[j * T + i] = e;
            a->colsum[i] += e;
        }
    }
    for (int64_t d = 0; d < dh; d++)
        for (int64_t i = 0; i < T; i++) {
            float acc = 0.0f;
            int64_t end = a->causal ? i + 1 : T;
            for (int64_t j = 0; j < end; j++) acc = fmaf(a->v[d * ld + j], a->st[j * T + i], acc);
            a->out[d * ld + i] = acc * (1.0f / a->colsum[i]);
        }
}
