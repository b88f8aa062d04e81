/* AVX2+FMA dense GEMM microkernel: a 16-row strip times a 16-column X panel, computed as
 * row groups of 6, 6 and 4. A 6x16 group keeps 6 rows x 2 ymm = 12 accumulators + 2 X
 * vectors + 1 broadcast in the 16 ymm registers (a 4x24 shape needs all 16 and makes
 * the compiler spill an accumulator every k step); per k step 2 loads + 6 broadcasts
 * feed 12 FMAs. A panel of at most 8 valid columns (N edge) uses 1 ymm per row; the last
 * vector is masked. */
#include "dense_internal.h"
#include <immintrin.h>

SK_BEGIN_AVX2


static inline __m256i lane_mask(int valid) {
    /* lanes 0..valid-1 set (valid in 1..8) */
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), idx);
}

static inline __attribute__((always_inline)) void
group_RxV(const int nrows, const int nv, int64_t kc, const float *w, const float *xp, float *y,
          int64_t ldy, int rows, int cols, int accumulate, const sk_epilogue *ep) {
    __m256 acc[6][2];
    for (int r = 0; r < nrows; r++)
        for (int v = 0; v < nv; v++) acc[r][v] = _mm256_setzero_ps();

    for (int64_t p = 0; p < kc; p++) {
        __m256 xv[2];
        for (int v = 0; v < nv; v++) xv[v] = _mm256_load_ps(xp + p * SK_NR_AVX2 + 8 * v);
        for (int r = 0; r < nrows; r++) {
            __m256 wr = _mm256_broadcast_ss(w + p * SK_DENSE_MR + r);
            for (int v = 0; v < nv; v++) acc[r][v] = _mm256_fmadd_ps(wr, xv[v], acc[r][v]);
        }
    }

    int last_valid = cols - 8 * (nv - 1);
    __m256i last_mask = lane_mask(last_valid);
    for (int r = 0; r < nrows; r++) {
        if (r >= rows) break;
        float *yr = y + r * ldy;
        for (int v = 0; v < nv; v++) {
            int full = v < nv - 1 || last_valid == 8;
            __m256 val = acc[r][v];
            if (full) {
                if (accumulate) val = _mm256_add_ps(val, _mm256_loadu_ps(yr + 8 * v));
                if (ep) {
                    if (ep->bias) val = _mm256_add_ps(val, _mm256_set1_ps(ep->bias[r]));
                    if (ep->residual)
                        val = _mm256_add_ps(val, _mm256_loadu_ps(ep->residual + r * ep->ld_residual + 8 * v));
                    if (ep->relu) val = _mm256_max_ps(val, _mm256_setzero_ps());
                }
                _mm256_storeu_ps(yr + 8 * v, val);
            } else {
                if (accumulate) val = _mm256_add_ps(val, _mm256_maskload_ps(yr + 8 * v, last_mask));
                if (ep) {
                    if (ep->bias) val = _mm256_add_ps(val, _mm256_set1_ps(ep->bias[r]));
                    if (ep->residual)
                        val = _mm256_add_ps(val, _mm256_maskload_ps(ep->residual + r * ep->ld_residual + 8 * v, last_mask));
                    if (ep->relu) val = _mm256_max_ps(val, _mm256_setzero_ps());
                }
                _mm256_maskstore_ps(yr + 8 * v, last_mask, val);
            }
        }
    }
}

#define GROUP_KERNEL(R, V)                                                                     \
    static void group_##R##x##V(int64_t kc, const float *w, const float *xp, float *y,         \
                                int64_t ldy, int rows, int cols, int accumulate,               \
                                const sk_epilogue *ep) {                                       \
        group_RxV(R, V / 8, kc, w, xp, y, ldy, rows, cols, accumulate, ep);                    \
    }
GROUP_KERNEL(6, 16)
GROUP_KERNEL(6, 8)
GROUP_KERNEL(4, 16)
GROUP_KERNEL(4, 8)

typedef void (*group_fn)(int64_t, const float *, const float *, float *, int64_t, int, int, int,
                         const sk_epilogue *);

void sk_f32_gemm__avx2_6x16(int64_t kc, const float *w, const float *xp, float *y,
                            int64_t ldy, int rows, int cols, int accumulate,
                            const sk_epilogue *ep) {
    static const int group_rows[3] = {6, 6, 4};
    int wide = cols > 8;
    for (int g = 0, r0 = 0; g < 3 && r0 < rows; r0 += group_rows[g], g++) {
        group_fn fn = group_rows[g] == 6 ? (wide ? group_6x16 : group_6x8) : (wide ? group_4x16 : group_4x8);
        sk_epilogue part;
        const sk_epilogue *pep = NULL;
        if (ep) {
            part = sk_epilogue_at(ep, r0, 0);
            pep = &part;
        }
        int grows = rows - r0 < group_rows[g] ? rows - r0 : group_rows[g];
        fn(kc, w + r0, xp, y + r0 * ldy, ldy, grows, cols, accumulate, pep);
    }
}

SK_END_ISA
