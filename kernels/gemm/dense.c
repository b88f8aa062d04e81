/* Dense fp32 Y = W·X: weight packing, ISA dispatch, cache blocking and threading.
 *
 * GEMM (N > 1) follows the classic BLIS loop nest, with W already packed at create time:
 *   for jc over N in NC columns            (X block of KC x NC stays in L2/L3)
 *     for pc over K in KC rows             (pack X block into NR-wide panels)
 *       for ic over M in MC rows           (W block of MC x KC stays in L2)
 *         for each NR panel                (panel of KC x NR stays in L1)
 *           for each 16-row strip          -> ISA microkernel, epilogue fused in the
 *                                             store of the last K block.
 * Threads split M (strips) when there are enough strips, sharing one X pack buffer that
 * they fill cooperatively; otherwise they split N and each packs its own columns.
 * GEMV (N == 1) streams each strip once in a memory-bound kernel of its own. */
#include "dense_internal.h"

sk_dense *sk_dense_create(int64_t m, int64_t k, const float *w, int64_t ldw) {
    sk_dense *a = malloc(sizeof *a);
    if (!a) return NULL;
    a->m = m;
    a->k = k;
    a->strips = (m + SK_DENSE_MR - 1) / SK_DENSE_MR;
    a->w = sk_alloc((size_t)(a->strips * k * SK_DENSE_MR) * sizeof(float));
    if (!a->w) {
        free(a);
        return NULL;
    }
    for (int64_t s = 0; s < a->strips; s++) {
        float *dst = a->w + s * k * SK_DENSE_MR;
        for (int r = 0; r < SK_DENSE_MR; r++) {
            int64_t row = s * SK_DENSE_MR + r;
            const float *src = w + row * ldw;
            if (row < m)
                for (int64_t p = 0; p < k; p++) dst[p * SK_DENSE_MR + r] = src[p];
            else
                for (int64_t p = 0; p < k; p++) dst[p * SK_DENSE_MR + r] = 0.0f;
        }
    }
    return a;
}

void sk_dense_destroy(sk_dense *a) {
    if (!a) return;
    sk_free(a->w);
    free(a);
}

size_t sk_dense_bytes(const sk_dense *a) {
    return sizeof *a + (size_t)(a->strips * a->k * SK_DENSE_MR) * sizeof(float);
}

/* ---- GEMM driver ------------------------------------------------------------------ */

typedef struct gemm_blocking {
    int nr;          /* panel width of the microkernel */
    int64_t kc;      /* K block: KC x NR X panel in L1 */
    int64_t mc;      /* M block in strips: MC*16 x KC of W in L2 */
    int64_t nc;      /* N block (multiple of nr): KC x NC of packed X */
    sk_strip_kernel_fn kernel;
} gemm_blocking;

static gemm_blocking blocking_for(sk_isa isa) {
    gemm_blocking b;
    if (isa == SK_ISA_AVX512) {
        b.nr = SK_NR_AVX512;
        b.kc = 256;
        b.mc = 16;
        b.nc = SK_NR_AVX512 * 8;
        b.kernel = sk_f32_gemm__avx512_8x48;
    } else {
        b.nr = SK_NR_AVX2;
        b.kc = 256;
        b.mc = 16;
        b.nc = SK_NR_AVX2 * 16;
        b.kernel = sk_f32_gemm__avx2_6x16;
    }
    return b;
}

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Packs panels [p_begin, p_end) of the X block rows [pc, pc+kc), columns starting at jc
 * (block width ncb) into buf: panel p at buf + p*kc*nr, row-major kc x nr, zero padded
 * past the block's last column so microkernels never read garbage (0 * NaN). */
static void pack_x_panels(const float *x, int64_t ldx, int64_t pc, int64_t kc, int64_t jc,
                          int64_t ncb, int nr, int64_t p_begin, int64_t p_end, float *buf) {
    for (int64_t p = p_begin; p < p_end; p++) {
        float *dst = buf + p * kc * nr;
        int64_t col = jc + p * nr;
        int64_t width = min64(nr, jc + ncb - col);
        const float *src = x + pc * ldx + col;
        if (width == nr) {
            for (int64_t q = 0; q < kc; q++) memcpy(dst + q * nr, src + q * ldx, (size_t)nr * sizeof(float));
        } else {
            for (int64_t q = 0; q < kc; q++) {
                memcpy(dst + q * nr, src + q * ldx, (size_t)width * sizeof(float));
                memset(dst + q * nr + width, 0, (size_t)(nr - width) * sizeof(float));
            }
        }
    }
}

typedef struct gemm_call {
    const sk_dense *a;
    int64_t n;
    const float *x;
    int64_t ldx;
    float *y;
    int64_t ldy;
    const sk_epilogue *ep;  /* NULL when empty */
} gemm_call;

/* Computes the Y rectangle strips [s0,s1) x columns [c0,c1). With `shared`, all threads
 * run this with the same column range and fill buf together (barriers inside), so every
 * thread must call it even with an empty strip range. */
static void gemm_rectangle(const gemm_call *c, const gemm_blocking *b, int64_t s0, int64_t s1,
                           int64_t c0, int64_t c1, float *buf, int shared, int tid,
                           int nthreads) {
    const sk_dense *a = c->a;
    const int nr = b->nr;
    for (int64_t jc = c0; jc < c1; jc += b->nc) {
        int64_t ncb = min64(b->nc, c1 - jc);
        int64_t panels = (ncb + nr - 1) / nr;
        for (int64_t pc = 0; pc < a->k; pc += b->kc) {
            int64_t kcb = min64(b->kc, a->k - pc);
            if (shared) {
                int64_t p0, p1;
                sk_partition(panels, 1, nthreads, tid, &p0, &p1);
                pack_x_panels(c->x, c->ldx, pc, kcb, jc, ncb, nr, p0, p1, buf);
#pragma omp barrier
            } else {
                pack_x_panels(c->x, c->ldx, pc, kcb, jc, ncb, nr, 0, panels, buf);
            }
            int accumulate = pc > 0;
            int last = pc + kcb == a->k;
            for (int64_t is = s0; is < s1; is += b->mc) {
                int64_t ie = min64(is + b->mc, s1);
                for (int64_t p = 0; p < panels; p++) {
                    int64_t col = jc + p * nr;
                    int cols = (int)min64(nr, jc + ncb - col);
                    const float *xp = buf + p * kcb * nr;
                    for (int64_t s = is; s < ie; s++) {
                        int64_t row0 = s * SK_DENSE_MR;
                        int rows = (int)min64(SK_DENSE_MR, a->m - row0);
                        sk_epilogue tile_ep;
                        const sk_epilogue *tep = NULL;
                        if (last && c->ep) {
                            tile_ep = sk_epilogue_at(c->ep, row0, col);
                            tep = &tile_ep;
                        }
                        b->kernel(kcb, sk_dense_strip(a, s) + pc * SK_DENSE_MR, xp,
                                  c->y + row0 * c->ldy + col, c->ldy, rows, cols, accumulate, tep);
                    }
                }
            }
            if (shared) {
#pragma omp barrier
            }
        }
    }
}

static size_t pack_buffer_floats(const gemm_blocking *b, int64_t k, int64_t width) {
    int64_t nc = min64(b->nc, width);
    nc = (nc + b->nr - 1) / b->nr * b->nr;
    return (size_t)(min64(b->kc, k) * nc);
}

/* Splitting M keeps each thread's W private and shares X; preferred whenever the strips
 * divide well. Splitting N suits few rows and many columns (e.g. conv M=64, N=3136). */
static int prefer_split_n(int64_t strips, int64_t n, int nr, int threads) {
    if (threads <= 1) return 0;
    int64_t panels = (n + nr - 1) / nr;
    if (strips >= 4 * (int64_t)threads) return 0;
    return panels >= 2 * (int64_t)threads;
}

static void gemm_scalar_parallel(const gemm_call *c, int threads) {
    int split_n = prefer_split_n(c->a->strips, c->n, 16, threads);
#pragma omp parallel num_threads(threads)
    {
        int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        int64_t s0 = 0, s1 = c->a->strips, c0 = 0, c1 = c->n;
        if (split_n) sk_partition(c->n, 16, nth, tid, &c0, &c1);
        else sk_partition(c->a->strips, 1, nth, tid, &s0, &s1);
        if (s0 < s1 && c0 < c1)
            sk_f32_gemm__scalar_16x16(c->a, s0, s1, c0, c1, c->x, c->ldx, c->y, c->ldy, c->ep);
    }
}

static void gemm_packed_parallel(const gemm_call *c, sk_isa isa, int threads) {
    gemm_blocking b = blocking_for(isa);
    const sk_dense *a = c->a;
    int split_n = prefer_split_n(a->strips, c->n, b.nr, threads);
    if (!split_n) {
        float *buf = sk_alloc(pack_buffer_floats(&b, a->k, c->n) * sizeof(float));
        if (!buf) {
            gemm_scalar_parallel(c, threads);
            return;
        }
#pragma omp parallel num_threads(threads)
        {
            int tid = omp_get_thread_num(), nth = omp_get_num_threads();
            int64_t s0, s1;
            sk_partition(a->strips, 1, nth, tid, &s0, &s1);
            gemm_rectangle(c, &b, s0, s1, 0, c->n, buf, nth > 1, tid, nth);
        }
        sk_free(buf);
    } else {
#pragma omp parallel num_threads(threads)
        {
            int tid = omp_get_thread_num(), nth = omp_get_num_threads();
            int64_t c0, c1;
            sk_partition(c->n, b.nr, nth, tid, &c0, &c1);
            if (c0 < c1) {
                float *buf = sk_alloc(pack_buffer_floats(&b, a->k, c1 - c0) * sizeof(float));
                if (buf) {
                    gemm_rectangle(c, &b, 0, a->strips, c0, c1, buf, 0, tid, nth);
                    sk_free(buf);
                } else {
                    sk_f32_gemm__scalar_16x16(a, 0, a->strips, c0, c1, c->x, c->ldx, c->y, c->ldy, c->ep);
                }
            }
        }
    }
}

void sk_dense_multiply(const sk_dense *a, int64_t n, const float *x, int64_t ldx,
                       float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    if (sk_epilogue_is_empty(ep)) ep = NULL;
    if (threads < 1) threads = 1;
    if (n == 1) {
        sk_gemv_fn gemv = isa == SK_ISA_AVX512 ? sk_f32_gemv__avx512_16x
                        : isa == SK_ISA_AVX2   ? sk_f32_gemv__avx2_16x
                                               : sk_f32_gemv__scalar_16x;
        if (threads > a->strips) threads = (int)a->strips;
#pragma omp parallel num_threads(threads)
        {
            int64_t s0, s1;
            sk_partition(a->strips, 1, omp_get_num_threads(), omp_get_thread_num(), &s0, &s1);
            if (s0 < s1) gemv(a, s0, s1, x, ldx, y, ldy, ep);
        }
        return;
    }
    gemm_call c = {a, n, x, ldx, y, ldy, ep};
    if (isa == SK_ISA_SCALAR) gemm_scalar_parallel(&c, threads);
    else gemm_packed_parallel(&c, isa, threads);
}
