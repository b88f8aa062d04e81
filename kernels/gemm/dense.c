/* Dense fp32 Y = W·X: weight packing, ISA dispatch, cache blocking and threading.
 *
 * GEMM (N > 1) follows the classic BLIS loop nest, with W already packed at create time:
 *   for jc over N in NC columns            (X block of KC x NC, L2/L3)
 *     for pc over K in KC rows             (pack the X block into NR-wide panels)
 *       for ic over M in MC rows           (W block of MC x KC stays in L2)
 *         for each NR panel                (KC x NR panel, reused by every strip, L1/L2)
 *           for each 16-row strip          -> ISA microkernel, epilogue fused in the
 *                                             store of the last K block.
 * When a thread has only a few strips, packing costs more than it saves: X panels are
 * then read in place (direct mode) with software prefetch of the next panel.
 * Threads split M (strips) when there are enough strips, otherwise N; each thread packs
 * the X it needs into a buffer of its own, so threads never wait for each other.
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
    int nr;          /* panel width of the microkernel (floats) */
    int64_t kc;      /* K block: bounds the KC x NR panel (L1/L2) and the W strip slice */
    int64_t mc;      /* M block in strips: MC*16 x KC of W stays in L2 */
    int64_t nc;      /* N block (multiple of nr): KC x NC of packed X per thread */
    sk_strip_kernel_fn kernel;
} gemm_blocking;

/* Block sizes (overridable at build time for tuning). Measured on Zen 4 (32 KiB L1d,
 * 1 MiB L2): KC 128..512 and MC 8..32 strips are within noise of each other; a wide NC
 * (one N block up to 768 columns) gains ~5% on M=3072 over NC=384. MC comes from the
 * hwloc L2 size (m_block_strips). */
#ifndef SK_AVX512_KC
#define SK_AVX512_KC 256
#endif
#ifndef SK_AVX512_NC
#define SK_AVX512_NC (SK_NR_AVX512 * 16)
#endif
#ifndef SK_AVX2_KC
#define SK_AVX2_KC 256
#endif
#ifndef SK_AVX2_NC
#define SK_AVX2_NC (SK_NR_AVX2 * 16)
#endif

/* The M block (in 16-row strips) keeps an MC x KC slice of packed W resident in L2
 * while it is reused across the X panels of an N block. It is sized from the L2 that
 * hwloc reports: a quarter of it, leaving room for the X block and Y (on the 1 MiB L2
 * this was tuned on that is 16 strips, the measured optimum). SK_DENSE_MC overrides it
 * at build time for tuning. */
static int64_t m_block_strips(int64_t kc) {
#ifdef SK_DENSE_MC
    (void)kc;
    return SK_DENSE_MC;
#else
    int64_t l2 = sk_query_topology().l2_bytes;
    if (l2 <= 0) l2 = 1 << 20;
    int64_t strips = l2 / 4 / (SK_DENSE_MR * kc * (int64_t)sizeof(float));
    return strips < 4 ? 4 : strips > 64 ? 64 : strips;
#endif
}

static gemm_blocking blocking_for(sk_isa isa) {
    gemm_blocking b;
    if (isa == SK_ISA_AVX512) {
        b.nr = SK_NR_AVX512;
        b.kc = SK_AVX512_KC;
        b.mc = m_block_strips(b.kc);
        b.nc = SK_AVX512_NC;
        b.kernel = sk_f32_gemm__avx512_8x48;
    } else {
        b.nr = SK_NR_AVX2;
        b.kc = SK_AVX2_KC;
        b.mc = m_block_strips(b.kc);
        b.nc = SK_AVX2_NC;
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

/* Computes the Y rectangle strips [s0,s1) x columns [c0,c1) with a private buffer.
 * Packed mode: each X block is packed into NR-wide panels in buf.
 * Direct mode: full-width panels are read straight from X (stride ldx); only the edge
 * panel is packed (zero padded) into buf. Packing an X element costs about as much as
 * one strip's work on it, so packing pays only when many strips reuse each panel.
 * Threads never wait for each other: on a shared machine a barrier per K block turns
 * every preemption of one thread into a stall of all (measured: private packing beats a
 * cooperatively filled shared buffer, despite packing X once per thread). */
static void gemm_rectangle(const gemm_call *c, const gemm_blocking *b, int64_t s0, int64_t s1,
                           int64_t c0, int64_t c1, float *buf, int direct) {
    const sk_dense *a = c->a;
    const int nr = b->nr;
    /* K blocks of equal size (<= kc): K = 576 runs as 2 x 288 rather than 256+256+64,
     * which would add a pass over Y for little work. */
    int64_t kblocks = (a->k + b->kc - 1) / b->kc;
    int64_t kc = (a->k + kblocks - 1) / kblocks;
    for (int64_t jc = c0; jc < c1; jc += b->nc) {
        int64_t ncb = min64(b->nc, c1 - jc);
        int64_t panels = (ncb + nr - 1) / nr;
        int64_t full_panels = ncb / nr;
        for (int64_t pc = 0; pc < a->k; pc += kc) {
            int64_t kcb = min64(kc, a->k - pc);
            if (!direct)
                pack_x_panels(c->x, c->ldx, pc, kcb, jc, ncb, nr, 0, panels, buf);
            else if (full_panels < panels) /* the edge panel only, as panel 0 of buf */
                pack_x_panels(c->x, c->ldx, pc, kcb, jc + full_panels * nr,
                              ncb - full_panels * nr, nr, 0, 1, buf);
            sk_tile t;
            t.ldy = c->ldy;
            t.accumulate = pc > 0;
            int last = pc + kcb == a->k;
            for (int64_t is = s0; is < s1; is += b->mc) {
                int64_t ie = min64(is + b->mc, s1);
                for (int64_t p = 0; p < panels; p++) {
                    int64_t col = jc + p * nr;
                    t.cols = (int)min64(nr, jc + ncb - col);
                    t.x_next = NULL;
                    if (!direct) {
                        t.x = buf + p * kcb * nr;
                        t.ldx = nr;
                    } else if (p < full_panels) {
                        t.x = c->x + pc * c->ldx + col;
                        t.ldx = c->ldx;
                        /* first pass over this block: prefetch the next in-place panel */
                        if (is == s0 && p + 1 < full_panels) t.x_next = t.x + nr;
                    } else {
                        t.x = buf;
                        t.ldx = nr;
                    }
                    for (int64_t s = is; s < ie; s++) {
                        int64_t row0 = s * SK_DENSE_MR;
                        sk_epilogue tile_ep;
                        t.w = sk_dense_strip(a, s) + pc * SK_DENSE_MR;
                        t.y = c->y + row0 * c->ldy + col;
                        t.rows = (int)min64(SK_DENSE_MR, a->m - row0);
                        t.ep = NULL;
                        if (last && c->ep) {
                            tile_ep = sk_epilogue_at(c->ep, row0, col);
                            t.ep = &tile_ep;
                        }
                        b->kernel(kcb, &t);
                        t.x_next = NULL; /* only the panel's first strip prefetches */
                    }
                }
            }
        }
    }
}

static size_t pack_buffer_floats(const gemm_blocking *b, int64_t k, int64_t width, int direct) {
    int64_t nc = direct ? b->nr : min64(b->nc, width);
    nc = (nc + b->nr - 1) / b->nr * b->nr;
    return (size_t)(min64(b->kc, k) * nc);
}

/* Threads split M (strips) when there are enough strips: each owns its rows of W.
 * Few rows and many columns (e.g. conv M=64, N=3136) split N instead. */
static int prefer_split_n(int64_t strips, int64_t n, int nr, int threads) {
    if (threads <= 1) return 0;
    int64_t panels = (n + nr - 1) / nr;
    if (strips >= 4 * (int64_t)threads) return 0;
    return panels >= 2 * (int64_t)threads;
}

/* Direct (unpacked) X when a thread has at most this many strips to reuse each panel. */
#ifndef SK_DIRECT_MAX_STRIPS
#define SK_DIRECT_MAX_STRIPS 8
#endif

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

static void gemm_blocked_parallel(const gemm_call *c, sk_isa isa, int threads) {
    gemm_blocking b = blocking_for(isa);
    const sk_dense *a = c->a;
    int split_n = prefer_split_n(a->strips, c->n, b.nr, threads);
    int64_t strips_per_thread = split_n ? a->strips : (a->strips + threads - 1) / threads;
    int direct = strips_per_thread <= SK_DIRECT_MAX_STRIPS;
#pragma omp parallel num_threads(threads)
    {
        int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        int64_t s0 = 0, s1 = a->strips, c0 = 0, c1 = c->n;
        if (split_n) sk_partition(c->n, b.nr, nth, tid, &c0, &c1);
        else sk_partition(a->strips, 1, nth, tid, &s0, &s1);
        if (s0 < s1 && c0 < c1) {
            /* Per call and per thread: two multiplies may run concurrently. */
            float *buf = sk_alloc(pack_buffer_floats(&b, a->k, c1 - c0, direct) * sizeof(float));
            if (buf) {
                gemm_rectangle(c, &b, s0, s1, c0, c1, buf, direct);
                sk_free(buf);
            } else { /* out of memory: the scalar path needs no buffer */
                sk_f32_gemm__scalar_16x16(a, s0, s1, c0, c1, c->x, c->ldx, c->y, c->ldy, c->ep);
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
    else gemm_blocked_parallel(&c, isa, threads);
}
