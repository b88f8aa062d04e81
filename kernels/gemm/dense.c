/* Dense fp32 Y = W·X: weight packing, and the per-part work of the dense registry entries
 * (threading and dispatch are the registry driver's, kernels/registry/registry.c).
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
 * Each thread packs the X it needs into its own scratch, so threads never wait for each
 * other. GEMV (N == 1) streams each strip once in a memory-bound kernel of its own. */
#include "dense_internal.h"

sk_dense *sk_dense_create(int64_t m, int64_t k, const float *w, int64_t ldw) {
    sk_dense *a = malloc(sizeof *a);
    if (!a) return NULL;
    a->format = SK_FORMAT_DENSE;
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

/* ---- GEMM ------------------------------------------------------------------------- */

typedef struct gemm_blocking {
    int nr;          /* panel width of the microkernel (floats) */
    int64_t kc;      /* K block: bounds the KC x NR panel (L1/L2) and the W strip slice */
    int64_t mc;      /* M block in strips: MC*16 x KC of W stays in L2 */
    int64_t nc;      /* N block (multiple of nr): KC x NC of packed X per thread */
    int64_t direct_max_strips; /* read X in place when a part has at most this many strips */
    sk_strip_kernel_fn kernel;
} gemm_blocking;

/* Default block sizes. Measured on Zen 4 (32 KiB L1d, 1 MiB L2): KC 128..512 and MC
 * 8..32 strips are within noise of each other; a wide NC (one N block up to 768 columns)
 * gains ~5% on M=3072 over NC=384. */
#define SK_DENSE_KC 256
#define SK_DENSE_NC_PANELS 16
/* Direct (unpacked) X when a thread has at most this many strips to reuse each panel:
 * packing an X element costs about as much as one strip's work on it. */
#define SK_DIRECT_MAX_STRIPS 8

/* The M block (in 16-row strips) keeps an MC x KC slice of packed W resident in L2
 * while it is reused across the X panels of an N block. It is sized from the L2 that
 * hwloc reports: a quarter of it, leaving room for the X block and Y (on the 1 MiB L2
 * this was tuned on that is 16 strips, the measured optimum). */
static int64_t m_block_strips(int64_t kc) {
    int64_t l2 = sk_query_topology().l2_bytes;
    if (l2 <= 0) l2 = 1 << 20;
    int64_t strips = l2 / 4 / (SK_DENSE_MR * kc * (int64_t)sizeof(float));
    return strips < 4 ? 4 : strips > 64 ? 64 : strips;
}

static void dense_defaults(int nr, sk_params *p) {
    /* KC 256 measured best with Zen 4's 32 KiB L1d; scaled with the L1d hwloc reports. */
    if (p->kc <= 0) p->kc = sk_scaled_block(SK_DENSE_KC, 32 << 10, sk_query_topology().l1d_bytes, 32, 128, 1024);
    if (p->mc <= 0) p->mc = m_block_strips(p->kc);
    if (p->nc <= 0) p->nc = (int64_t)nr * SK_DENSE_NC_PANELS;
    if (p->aux <= 0) p->aux = SK_DIRECT_MAX_STRIPS;
}
void sk_dense_defaults_avx512(const void *w, int64_t n, sk_params *p) { (void)w; (void)n; dense_defaults(SK_NR_AVX512, p); }
void sk_dense_defaults_avx2(const void *w, int64_t n, sk_params *p) { (void)w; (void)n; dense_defaults(SK_NR_AVX2, p); }
void sk_dense_defaults_avx512_6x64(const void *w, int64_t n, sk_params *p) { (void)w; (void)n; dense_defaults(SK_NR_AVX512_64, p); }

static gemm_blocking blocking_of(const sk_call *c, int nr, sk_strip_kernel_fn kernel) {
    gemm_blocking b;
    b.nr = nr;
    b.kc = c->params.kc;
    b.mc = c->params.mc;
    b.nc = sk_ceil_div(c->params.nc, nr) * nr; /* whole panels */
    b.direct_max_strips = c->params.aux;
    b.kernel = kernel;
    return b;
}

/* Packs panels [p_begin, p_end) of the X block rows [pc, pc+kc), columns starting at jc
 * (block width ncb) into buf: panel p at buf + p*kc*nr, row-major kc x nr, zero padded
 * past the block's last column so microkernels never read garbage (0 * NaN). */
static void pack_x_panels(const float *x, int64_t ldx, int64_t pc, int64_t kc, int64_t jc,
                          int64_t ncb, int nr, int64_t p_begin, int64_t p_end, float *buf) {
    for (int64_t p = p_begin; p < p_end; p++) {
        float *dst = buf + p * kc * nr;
        int64_t col = jc + p * nr;
        int64_t width = sk_min64(nr, jc + ncb - col);
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

/* Computes the Y rectangle strips [s0,s1) x columns [c0,c1) with a private buffer.
 * Packed mode: each X block is packed into NR-wide panels in buf.
 * Direct mode: full-width panels are read straight from X (stride ldx); only the edge
 * panel is packed (zero padded) into buf. */
static void gemm_rectangle(const sk_call *c, const gemm_blocking *b, int64_t s0, int64_t s1,
                           int64_t c0, int64_t c1, float *buf, int direct) {
    const sk_dense *a = c->weights;
    const int nr = b->nr;
    /* K blocks of equal size (<= kc): K = 576 runs as 2 x 288 rather than 256+256+64,
     * which would add a pass over Y for little work. */
    int64_t kblocks = sk_ceil_div(a->k, b->kc);
    int64_t kc = sk_ceil_div(a->k, kblocks);
    for (int64_t jc = c0; jc < c1; jc += b->nc) {
        int64_t ncb = sk_min64(b->nc, c1 - jc);
        int64_t panels = sk_ceil_div(ncb, nr);
        int64_t full_panels = ncb / nr;
        for (int64_t pc = 0; pc < a->k; pc += kc) {
            int64_t kcb = sk_min64(kc, a->k - pc);
            if (!direct)
                pack_x_panels(c->x, c->ldx, pc, kcb, jc, ncb, nr, 0, panels, buf);
            else if (full_panels < panels) /* the edge panel only, as panel 0 of buf */
                pack_x_panels(c->x, c->ldx, pc, kcb, jc + full_panels * nr,
                              ncb - full_panels * nr, nr, 0, 1, buf);
            sk_tile t;
            t.ldy = c->ldy;
            t.w_prefetch = c->params.pf;
            t.accumulate = pc > 0;
            int last = pc + kcb == a->k;
            for (int64_t is = s0; is < s1; is += b->mc) {
                int64_t ie = sk_min64(is + b->mc, s1);
                for (int64_t p = 0; p < panels; p++) {
                    int64_t col = jc + p * nr;
                    t.cols = (int)sk_min64(nr, jc + ncb - col);
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
                        t.rows = (int)sk_min64(SK_DENSE_MR, a->m - row0);
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

static int is_direct(const gemm_blocking *b, const sk_part *p) {
    return p->row_end - p->row_begin <= b->direct_max_strips;
}

static size_t pack_buffer_bytes(const sk_call *c, const gemm_blocking *b, const sk_part *p) {
    const int64_t width = p->col_end - p->col_begin;
    int64_t nc = is_direct(b, p) ? b->nr : sk_min64(b->nc, width);
    nc = sk_ceil_div(nc, b->nr) * b->nr;
    return (size_t)(sk_min64(b->kc, c->k) * nc) * sizeof(float);
}

size_t sk_dense_scratch_avx512(const sk_call *c, const sk_part *p) {
    gemm_blocking b = blocking_of(c, SK_NR_AVX512, sk_f32_gemm__avx512_8x48);
    return pack_buffer_bytes(c, &b, p);
}
size_t sk_dense_scratch_avx512_6x64(const sk_call *c, const sk_part *p) {
    gemm_blocking b = blocking_of(c, SK_NR_AVX512_64, sk_f32_gemm__avx512_6x64);
    return pack_buffer_bytes(c, &b, p);
}
size_t sk_dense_scratch_avx2(const sk_call *c, const sk_part *p) {
    gemm_blocking b = blocking_of(c, SK_NR_AVX2, sk_f32_gemm__avx2_6x16);
    return pack_buffer_bytes(c, &b, p);
}

void sk_dense_run_gemm_avx512(const sk_call *c, const sk_part *p) {
    gemm_blocking b = blocking_of(c, SK_NR_AVX512, sk_f32_gemm__avx512_8x48);
    gemm_rectangle(c, &b, p->row_begin, p->row_end, p->col_begin, p->col_end, p->scratch, is_direct(&b, p));
}
void sk_dense_run_gemm_avx512_6x64(const sk_call *c, const sk_part *p) {
    gemm_blocking b = blocking_of(c, SK_NR_AVX512_64, sk_f32_gemm__avx512_6x64);
    gemm_rectangle(c, &b, p->row_begin, p->row_end, p->col_begin, p->col_end, p->scratch, is_direct(&b, p));
}
void sk_dense_run_gemm_avx2(const sk_call *c, const sk_part *p) {
    gemm_blocking b = blocking_of(c, SK_NR_AVX2, sk_f32_gemm__avx2_6x16);
    gemm_rectangle(c, &b, p->row_begin, p->row_end, p->col_begin, p->col_end, p->scratch, is_direct(&b, p));
}
void sk_dense_run_gemm_scalar(const sk_call *c, const sk_part *p) {
    sk_f32_gemm__scalar_16x16(c->weights, p->row_begin, p->row_end, p->col_begin, p->col_end,
                              c->x, c->ldx, c->y, c->ldy, c->ep);
}

/* ---- GEMV -------------------------------------------------------------------------- */

void sk_dense_run_gemv_avx512(const sk_call *c, const sk_part *p) {
    sk_f32_gemv__avx512_16x(c->weights, p->row_begin, p->row_end, c->x, c->ldx, c->y, c->ldy, c->ep);
}
void sk_dense_run_gemv_avx2(const sk_call *c, const sk_part *p) {
    sk_f32_gemv__avx2_16x(c->weights, p->row_begin, p->row_end, c->x, c->ldx, c->y, c->ldy, c->ep);
}
void sk_dense_run_gemv_scalar(const sk_call *c, const sk_part *p) {
    sk_f32_gemv__scalar_16x(c->weights, p->row_begin, p->row_end, c->x, c->ldx, c->y, c->ldy, c->ep);
}

void sk_dense_multiply(const sk_dense *a, int64_t n, const float *x, int64_t ldx,
                       float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    sk_dispatch(a, n, x, ldx, y, ldy, ep, isa, threads);
}
