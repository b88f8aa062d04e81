/* AVX2 attention of one (sample, head); algorithm and summation order as the scalar
 * reference (attention_scalar.c), query block by query block.
 * Both products are register-tiled 6 rows x 16 columns (12 accumulators): per
 * reduction step 2 vector loads and 6 broadcasts feed 12 FMAs.
 *   scores:  rows = keys j, columns = queries i, reduction over d; the broadcast operand
 *            k[d][j..] is contiguous. Causal: tiles left of the diagonal are skipped.
 *   context: rows = features d, columns = queries i, reduction over keys j; causal tiles
 *            stop at the tile's last query (the scores there are 0 for j > i). */
#include "ops_internal.h"
#include <immintrin.h>
#include "../common/sk_activation_avx2.h"

SK_BEGIN_AVX2
#include "vec_avx2.h"

#define ROWS 6
#define QB SK_OP_ATTENTION_QUERY_BLOCK

static void scores(const sk_op_attention_head *a, int64_t q0, int64_t q1, int64_t keys) {
    const int64_t dh = a->head_dim, ld = a->ld;
    const __m256 scale = _mm256_set1_ps(a->scale);
    for (int64_t j0 = 0; j0 < keys; j0 += ROWS) {
        int64_t rows = sk_op_min(ROWS, keys - j0), lane[ROWS];
        for (int r = 0; r < ROWS; r++) lane[r] = r < rows ? r : 0; /* padding rows repeat row 0, never stored */
        for (int64_t i0 = sk_op_max(q0, a->causal ? (j0 & ~(int64_t)7) : q0); i0 < q1; i0 += 16) {
            __m256i m0 = sk_mask8(q1 - i0), m1 = sk_mask8(q1 - i0 - 8);
            __m256 acc[ROWS][2];
            for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
            for (int64_t d = 0; d < dh; d++) {
                const float *qd = a->q + d * ld + i0, *kd = a->k + d * ld + j0;
                __m256 b0 = _mm256_maskload_ps(qd, m0), b1 = _mm256_maskload_ps(qd + 8, m1);
                for (int r = 0; r < ROWS; r++) {
                    __m256 w = _mm256_set1_ps(kd[lane[r]]);
                    acc[r][0] = _mm256_fmadd_ps(w, b0, acc[r][0]);
                    acc[r][1] = _mm256_fmadd_ps(w, b1, acc[r][1]);
                }
            }
            for (int r = 0; r < rows; r++) {
                float *dst = a->st + (j0 + r) * QB + (i0 - q0);
                _mm256_maskstore_ps(dst, m0, _mm256_mul_ps(acc[r][0], scale));
                _mm256_maskstore_ps(dst + 8, m1, _mm256_mul_ps(acc[r][1], scale));
            }
        }
    }
}

static void softmax_columns(const sk_op_attention_head *a, int64_t q0, int64_t q1, int64_t keys) {
    const int64_t width = q1 - q0;
    for (int64_t i = 0; i < width; i += 8) {
        __m256i m = sk_mask8(width - i);
        _mm256_maskstore_ps(a->colmax + i, m, _mm256_set1_ps(-INFINITY));
        _mm256_maskstore_ps(a->colsum + i, m, _mm256_setzero_ps());
    }
    for (int64_t j = 0; j < keys; j++) {
        const float *row = a->st + j * QB;
        for (int64_t i = sk_op_max(0, (a->causal ? j : 0) - q0); i < width; i += 8) {
            __m256i m = sk_mask8(width - i);
            __m256 best = _mm256_max_ps(_mm256_maskload_ps(a->colmax + i, m), _mm256_maskload_ps(row + i, m));
            _mm256_maskstore_ps(a->colmax + i, m, best);
        }
    }
    for (int64_t j = 0; j < keys; j++) {
        float *row = a->st + j * QB;
        const int64_t first = sk_op_max(0, (a->causal ? j : 0) - q0);
        if (first > 0) memset(row, 0, (size_t)sk_op_min(first, width) * sizeof(float)); /* queries i < j */
        for (int64_t i = first; i < width; i += 8) {
            __m256i m = sk_mask8(width - i);
            __m256 e = sk_exp256(_mm256_sub_ps(_mm256_maskload_ps(row + i, m), _mm256_maskload_ps(a->colmax + i, m)));
            _mm256_maskstore_ps(row + i, m, e);
            _mm256_maskstore_ps(a->colsum + i, m, _mm256_add_ps(_mm256_maskload_ps(a->colsum + i, m), e));
        }
    }
}

static void context(const sk_op_attention_head *a, int64_t q0, int64_t q1) {
    const int64_t T = a->tokens, dh = a->head_dim, ld = a->ld;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int64_t d0 = 0; d0 < dh; d0 += ROWS) {
        int64_t rows = sk_op_min(ROWS, dh - d0);
        const float *vrow[ROWS];
        for (int r = 0; r < ROWS; r++) vrow[r] = a->v + (d0 + (r < rows ? r : 0)) * ld;
        for (int64_t i0 = q0; i0 < q1; i0 += 16) {
            __m256i m0 = sk_mask8(q1 - i0), m1 = sk_mask8(q1 - i0 - 8);
            int64_t end = a->causal ? sk_op_min(q1, i0 + 16) : T;
            __m256 acc[ROWS][2];
            for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
            for (int64_t j = 0; j < end; j++) {
                const float *pj = a->st + j * QB + (i0 - q0);
                __m256 b0 = _mm256_maskload_ps(pj, m0), b1 = _mm256_maskload_ps(pj + 8, m1);
                for (int r = 0; r < ROWS; r++) {
                    __m256 w = _mm256_set1_ps(vrow[r][j]);
                    acc[r][0] = _mm256_fmadd_ps(w, b0, acc[r][0]);
                    acc[r][1] = _mm256_fmadd_ps(w, b1, acc[r][1]);
                }
            }
            /* Masked lanes read as 1, so no division by zero is ever computed. */
            __m256 inv0 = _mm256_div_ps(one, _mm256_blendv_ps(one, _mm256_maskload_ps(a->colsum + (i0 - q0), m0), _mm256_castsi256_ps(m0)));
            __m256 inv1 = _mm256_div_ps(one, _mm256_blendv_ps(one, _mm256_maskload_ps(a->colsum + (i0 - q0) + 8, m1), _mm256_castsi256_ps(m1)));
            for (int r = 0; r < rows; r++) {
                float *dst = a->out + (d0 + r) * ld + i0;
                _mm256_maskstore_ps(dst, m0, _mm256_mul_ps(acc[r][0], inv0));
                _mm256_maskstore_ps(dst + 8, m1, _mm256_mul_ps(acc[r][1], inv1));
            }
        }
    }
}

void sk_op_attention_head__avx2(const sk_op_attention_head *a) {
    for (int64_t q0 = 0; q0 < a->tokens; q0 += QB) {
        const int64_t q1 = sk_op_min(a->tokens, q0 + QB), keys = a->causal ? q1 : a->tokens;
        scores(a, q0, q1, keys);
        softmax_columns(a, q0, q1, keys);
        context(a, q0, q1);
    }
}

SK_END_ISA
