/* AVX-512 N:M kernels.
 *
 * GEMM (n_cols > 1). BLIS-like loop nest over packed copies of X: column panels of up
 *   to 48 columns (3 zmm; a range of columns is split evenly, e.g. 256 columns =
 *   48+48+48+48+32+32, never a lone 16-wide panel), each a K × width row-major strip
 *   zero padded to whole zmm, so that a slot's in-group position p is a plain offset:
 *   X row (group_k + p) of a panel is at panel + (group_k + p)·width.
 *   Loop nest per thread: chunks of tiles × k-blocks × panels × tiles. The k-block of
 *   a panel (192 KiB of X, see NM_PANEL_BYTES) is reused from L2 by every tile of the
 *   chunk. Two registry entries get the panels in two ways:
 *   - `shared`: the threads split the tiles; X is packed once per call into a shared
 *     copy (the driver's prepare stage: both threads pack, then wait once), and the
 *     block the next step needs is prefetched into L2 while the current one runs;
 *   - `private`, preferred for at most 32 tiles (small-M convolutions lowered to GEMM,
 *     e.g. M = 64, N = 3136): the threads split the columns and each packs the k-block
 *     of a panel it is about to use into an L2-sized scratch of its own. X would
 *     otherwise go to L3 and back for only a few tiles of reuse, at about the cost of
 *     the multiply itself.
 *   Columns past the last multiple of 16, when there are at most 4 of them (N = 49,
 *   N = 196), go to the few-columns kernel below rather than a mostly empty zmm.
 *   The microkernel holds an 8 × 48 block of Y in 24 zmm. Per slot it reads one index
 *   word (the 8 rows' positions) and 8 values; per row it broadcasts the value and does
 *   3 FMAs whose X operands come straight from the L1-resident panel at the row's
 *   position. Selecting by index is a load address, not a register shuffle; the price
 *   is one 512-bit load per FMA, which is what bounds this kernel (~0.7 of the FMA peak
 *   in L1, against ~0.8-0.85 for dense GEMM, whose X loads are shared by all rows).
 *   The epilogue is fused into the store of the last k-block.
 *
 * GEMV (n_cols == 1). Memory bound: the point is to stream values + 1..4-bit indices at
 * DRAM speed with little work per byte. Each zmm covers 2 slots × 8 rows of a tile; the
 * 16 index fields are expanded with one variable shift and a mask and vpermps picks the
 * x entries out of a 16-float window at the group start (n even: both slots are in one
 * group), or vpermt2ps out of a 32-float window spanning two groups (n odd). One FMA per
 * 16 values; the 8 row sums of a tile are reduced once at the end. Four tiles far apart
 * are streamed at once (more DRAM requests in flight), each value stream prefetched
 * 4 KiB ahead into L2 by software (see NM_GEMV_PREFETCH_BYTES).
 *
 * Few columns (up to 8, the registry entry for N = 2..8): the GEMV kernel with a column
 * loop inside (W streamed once), since a 16-wide GEMM panel would waste most of its
 * lanes. */
#include <immintrin.h>
#include "../common/sk_activation_avx512.h"
#include "nm_internal.h"

SK_BEGIN_AVX512


/* ---- GEMM ------------------------------------------------------------------------ */

/* Microkernel shapes: ROWS rows × NV zmm, two variants in the registry:
 * - 8 × 3 (24 accumulators, panels of 48 columns, a whole tile per call): per slot 8
 *   broadcasts + 24 X loads for 24 FMAs;
 * - 4 × 6 (24 accumulators, panels of 96 columns, half a tile per call): per slot 4
 *   broadcasts + 24 X loads for 24 FMAs, 1/8 fewer loads; it pays where loads bind
 *   (Zen 4: one zmm load per cycle; on a core with two load ports the FMAs bind earlier)
 *   and the tuner picks between them.
 * Earlier measurements (L1, Zen 4): 8×2, 4×4..4×7, 2×8 all within 0.66-0.71 of the FMA
 * peak, the bound being one X load per FMA plus the broadcasts. */
#define NM_MAX_ROWS 8      /* a whole tile */
#define NM_MAX_NV 6        /* zmm per row at most: panels of up to 96 columns */
#define NM_PANEL_COLS 48   /* the 8x48 variant's panel width (sizes the default K block) */

/* One register-tile shape of the GEMM. */
typedef struct nm_shape {
    int rows;    /* rows per microkernel call: 8 (a tile) or 4 (half) */
    int max_nv;  /* zmm per row: panels of up to 16·max_nv columns */
} nm_shape;
static const nm_shape nm_shape_8x48 = {8, 3};
static const nm_shape nm_shape_4x96 = {4, 6};
/* K-block size, as the bytes of one panel's X rows: 192 KiB, i.e. 1024 K values of a
 * 48-wide panel. The block lives in L2, not L1: the rows a group touches are adjacent
 * (m·192 contiguous bytes), so the L1 prefetcher follows the groups, and fewer K
 * blocks mean fewer round trips of Y through the cache; measured on 4096² × 256, 2:4:
 * 24-44 KiB blocks (L1-resident) 1.30-1.41× dense, 128-256 KiB 1.48-1.55×. */
#ifndef NM_PANEL_BYTES
#define NM_PANEL_BYTES (192 * 1024)
#endif
#ifndef NM_CHUNK_TILES
#define NM_CHUNK_TILES 16  /* 128 rows of compressed weights per k-block (~0.5 MiB for 2:4) */
#endif

typedef struct nm_store_ctx {
    float *y;              /* Y at (first row of the microkernel, panel column 0) */
    int64_t ldy;
    int64_t row0, col0;    /* global coordinates of y, for the epilogue */
    int valid_rows;        /* 1..rows of the shape */
    int valid_cols;        /* 1..the panel width */
    int accumulate;        /* add to what an earlier k-block stored */
    const sk_epilogue *ep; /* applied only on the last k-block, else NULL */
} nm_store_ctx;

static inline __mmask16 nm_cols_mask(int valid_cols, int q) {
    int left = valid_cols - 16 * q;
    return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
}

/* The register-tiled microkernel: ROWS rows (starting at row r0 of a tile) × NV zmm of
 * columns, specialized by always_inline on ROWS, NV and BITS (index field width). Slots
 * [t_begin, t_end) start at a group boundary; `panel` points at X row group_k(t_begin)
 * of a panel whose rows are 16·NV floats wide. */
static inline __attribute__((always_inline)) void
nm_microkernel_avx512(const int ROWS, const int NV, const int BITS, const float *tv, const uint8_t *ti, int r0,
                      int64_t t_begin, int64_t t_end, int n, int m, const float *panel,
                      const nm_store_ctx *st) {
    const int64_t width = 16 * NV;
    const uint32_t mask = (1u << BITS) - 1;
    __m512 acc[NM_MAX_ROWS][NM_MAX_NV];
    for (int r = 0; r < ROWS; r++)
        for (int q = 0; q < NV; q++) acc[r][q] = _mm512_setzero_ps();

    const float *xg = panel; /* X rows of the current group inside the panel */
    const int64_t group_step = (int64_t)m * width;
    int s = 0;
    for (int64_t t = t_begin; t < t_end; t++) {
        uint32_t word;
        if (BITS == 1) word = ti[t];
        else if (BITS == 2) { uint16_t w16; memcpy(&w16, ti + 2 * t, 2); word = w16; }
        else memcpy(&word, ti + 4 * t, 4);
        word >>= r0 * BITS;
        const float *v = tv + t * NM_TILE_ROWS + r0;
        for (int r = 0; r < ROWS; r++) {
            const uint32_t p = (word >> (r * BITS)) & mask;
            const float *xp = xg + p * width;
            const __m512 b = _mm512_set1_ps(v[r]);
            for (int q = 0; q < NV; q++)
                acc[r][q] = _mm512_fmadd_ps(b, _mm512_load_ps(xp + 16 * q), acc[r][q]);
        }
        if (++s == n) { s = 0; xg += group_step; }
    }

    const sk_epilogue *ep = st->ep;
    for (int r = 0; r < ROWS; r++) {
        if (r >= st->valid_rows) break;
        float *yr = st->y + r * st->ldy;
        const int64_t row = st->row0 + r;
        for (int q = 0; q < NV; q++) {
            const __mmask16 k = nm_cols_mask(st->valid_cols, q);
            __m512 out = acc[r][q];
            if (st->accumulate) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(k, yr + 16 * q));
            if (ep) {
                if (ep->bias) out = _mm512_add_ps(out, _mm512_set1_ps(ep->bias[row]));
                if (ep->residual)
                    out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(
                        k, ep->residual + row * ep->ld_residual + st->col0 + 16 * q));
                out = sk_activate_zmm(out, (int)ep->activation);
            }
            _mm512_mask_storeu_ps(yr + 16 * q, k, out);
        }
    }
}

typedef void nm_micro_fn(const float *tv, const uint8_t *ti, int r0, int64_t t_begin,
                         int64_t t_end, int n, int m, const float *panel, const nm_store_ctx *st);

#define NM_DEFINE_MICRO(ROWS, NV, BITS)                                                          \
    static void nm_micro_avx512_##ROWS##_##NV##_##BITS(const float *tv, const uint8_t *ti, int r0, \
                                                       int64_t t_begin, int64_t t_end, int n,      \
                                                       int m, const float *panel,                  \
                                                       const nm_store_ctx *st) {                   \
        nm_microkernel_avx512(ROWS, NV, BITS, tv, ti, r0, t_begin, t_end, n, m, panel, st);        \
    }
#define NM_DEFINE_MICRO_BITS(ROWS, NV) NM_DEFINE_MICRO(ROWS, NV, 1) NM_DEFINE_MICRO(ROWS, NV, 2) NM_DEFINE_MICRO(ROWS, NV, 4)
NM_DEFINE_MICRO_BITS(8, 1) NM_DEFINE_MICRO_BITS(8, 2) NM_DEFINE_MICRO_BITS(8, 3)
NM_DEFINE_MICRO_BITS(4, 1) NM_DEFINE_MICRO_BITS(4, 2) NM_DEFINE_MICRO_BITS(4, 3)
NM_DEFINE_MICRO_BITS(4, 4) NM_DEFINE_MICRO_BITS(4, 5) NM_DEFINE_MICRO_BITS(4, 6)

static nm_micro_fn *nm_pick_micro(nm_shape shape, int nv, int bits) {
#define NM_ROW(ROWS, NV) {nm_micro_avx512_##ROWS##_##NV##_1, nm_micro_avx512_##ROWS##_##NV##_2, nm_micro_avx512_##ROWS##_##NV##_4}
    static nm_micro_fn *const rows8[3][3] = {NM_ROW(8, 1), NM_ROW(8, 2), NM_ROW(8, 3)};
    static nm_micro_fn *const rows4[6][3] = {NM_ROW(4, 1), NM_ROW(4, 2), NM_ROW(4, 3), NM_ROW(4, 4), NM_ROW(4, 5), NM_ROW(4, 6)};
#undef NM_ROW
    const int b = bits == 1 ? 0 : bits == 2 ? 1 : 2;
    return shape.rows == 8 ? rows8[nv - 1][b] : rows4[nv - 1][b];
}

/* Column panels: the columns of a rectangle, rounded up to whole zmm (V = ceil(cols/16)),
 * are split into P = ceil(V / max_nv) panels of nearly equal width, so no panel is left
 * much narrower than the others (256 columns: 3+3+3+3+2+2 zmm rather than 3·5+1).
 * Panel jp holds columns [col0, col0 + 16·nv) of the rectangle; in the shared packed copy
 * of X it is stored at packed + k·col0, K rows of 16·nv floats. */
typedef struct nm_panels { int64_t count, base_nv, wide; } nm_panels;
static inline nm_panels nm_split_panels(int64_t n_cols, int max_nv) {
    const int64_t vectors = (n_cols + 15) / 16;
    nm_panels p;
    p.count = (vectors + max_nv - 1) / max_nv;
    p.base_nv = p.count ? vectors / p.count : 0;
    p.wide = p.count ? vectors % p.count : 0; /* the first `wide` panels get one more zmm */
    return p;
}
static inline int nm_panel_nv(nm_panels p, int64_t jp) { return (int)(p.base_nv + (jp < p.wide)); }
static inline int64_t nm_panel_col0(nm_panels p, int64_t jp) {
    return 16 * (jp * p.base_nv + (jp < p.wide ? jp : p.wide));
}
static inline int64_t nm_min(int64_t a, int64_t b) { return a < b ? a : b; }

/* Copies X rows [k_begin, k_end) of columns [col0, col0 + width) into a row-major
 * panel with rows width floats apart (dst: row k_begin), zeros past column n_cols. */
static void nm_pack_panel_avx512(const float *x, int64_t ldx, int64_t n_cols, int64_t col0,
                                 int width, float *dst, int64_t k_begin, int64_t k_end) {
    for (int64_t kk = k_begin; kk < k_end; kk++) {
        const float *src = x + kk * ldx + col0;
        float *row = dst + (kk - k_begin) * width;
        for (int c = 0; c < width; c += 16) {
            const __mmask16 msk = nm_cols_mask((int)nm_min(n_cols - col0 - c, 16), 0);
            _mm512_store_ps(row + c, _mm512_maskz_loadu_ps(msk, src + c));
        }
    }
}

/* Where the microkernels get a rectangle's X panels:
 * - shared: a packed copy of all of X made by the threads together before any compute
 *   (panel at shared + k·col0, K rows of width floats);
 * - private: each k-block of a panel is packed by the thread that needs it into its own
 *   L2-sized scratch just before its tiles use it. */
typedef struct nm_x_source {
    const float *x;
    int64_t ldx, k, n_cols;
    const float *shared; /* or NULL: pack privately into scratch */
    float *scratch;      /* kc_groups · m rows of 16·max_nv floats */
} nm_x_source;

/* Y = epilogue(W·X) over tiles [tile_begin, tile_end) × columns [col_begin, col_end).
 * Loop nest: chunks of chunk_tiles tiles × k-blocks × panels × tiles of the chunk. The
 * k-block of a panel is reused from L2 by every tile of the chunk; with a shared copy,
 * the block of the next (k-block, panel) step is prefetched into L2 meanwhile, so that
 * step does not start on L3 misses at the scattered rows the indices pick. */
static void nm_gemm_rectangle_avx512(const sk_nm *a, nm_shape shape, const nm_x_source *src,
                                     int64_t tile_begin, int64_t tile_end, int64_t col_begin,
                                     int64_t col_end, float *y, int64_t ldy,
                                     const sk_epilogue *ep, int64_t kc_groups, int64_t chunk_tiles) {
    const int n = a->n, m = a->m;
    const int64_t k = a->k;
    const nm_panels panels = nm_split_panels(col_end - col_begin, shape.max_nv);
    const int64_t kblocks = (a->groups + kc_groups - 1) / kc_groups;
    for (int64_t c0 = tile_begin; c0 < tile_end; c0 += chunk_tiles) {
        const int64_t c1 = nm_min(c0 + chunk_tiles, tile_end);
        for (int64_t kb = 0; kb < kblocks; kb++) {
            const int64_t g0 = kb * kc_groups, g1 = nm_min(g0 + kc_groups, a->groups);
            for (int64_t jp = 0; jp < panels.count; jp++) {
                const int nv = nm_panel_nv(panels, jp);
                const int width = 16 * nv;
                const int64_t col0 = col_begin + nm_panel_col0(panels, jp);
                const float *panel;
                if (src->shared) {
                    panel = src->shared + k * col0 + g0 * m * width;
                } else {
                    nm_pack_panel_avx512(src->x, src->ldx, src->n_cols, col0, width, src->scratch,
                                         g0 * m, nm_min(g1 * m, k)); /* a short last group ends at K */
                    panel = src->scratch;
                }
                nm_micro_fn *micro = nm_pick_micro(shape, nv, a->index_bits);
                nm_store_ctx st;
                st.ldy = ldy;
                st.col0 = col0;
                st.valid_cols = (int)nm_min(col_end - col0, width);
                st.accumulate = kb > 0;
                st.ep = kb == kblocks - 1 ? ep : NULL;

                /* Shared copy: the next (k-block, panel) step's block, contiguous, is
                 * fetched into L2 a slice per tile. (A private block is packed just
                 * before use by a sequential pass that the hardware prefetchers follow;
                 * prefetching its X rows as well measured ~10% slower.) */
                const char *next_block = NULL;
                int64_t lines_per_tile = 0, next_lines = 0;
                if (src->shared) {
                    const int64_t next_jp = jp + 1 < panels.count ? jp + 1 : 0;
                    const int64_t next_kb = jp + 1 < panels.count ? kb : (kb + 1 < kblocks ? kb + 1 : 0);
                    const int64_t next_g0 = next_kb * kc_groups;
                    const int64_t next_rows = (nm_min(next_g0 + kc_groups, a->groups) - next_g0) * m;
                    const int next_nv = nm_panel_nv(panels, next_jp);
                    next_block = (const char *)(src->shared + k * (col_begin + nm_panel_col0(panels, next_jp)) +
                                                next_g0 * m * 16 * next_nv);
                    next_lines = next_rows * next_nv;
                    lines_per_tile = (next_lines + (c1 - c0) - 1) / (c1 - c0);
                }
                for (int64_t tile = c0; tile < c1; tile++) {
                    const int64_t l0 = (tile - c0) * lines_per_tile;
                    for (int64_t line = l0; line < l0 + lines_per_tile && line < next_lines; line++)
                        _mm_prefetch(next_block + line * 64, _MM_HINT_T1);
                    for (int r0 = 0; r0 < NM_TILE_ROWS; r0 += shape.rows) {
                        st.row0 = tile * NM_TILE_ROWS + r0;
                        if (st.row0 >= a->rows) break;
                        st.valid_rows = (int)nm_min(a->rows - st.row0, shape.rows);
                        st.y = y + st.row0 * ldy + col0;
                        micro(nm_tile_values(a, tile), nm_tile_indices(a, tile), r0, g0 * n, g1 * n,
                              n, m, panel, &st);
                    }
                }
            }
        }
    }
}

/* Few rows: at most this many tiles (256 rows). Each thread then takes a range of whole
 * 48-column panels and all the tiles (one chunk), and packs its own X panels a k-block
 * at a time just before use: every column is packed once, as with a shared copy, but
 * without the barrier and the round trip of the copy through L3, and each packed block
 * is reused by every tile while it sits in L2. With more tiles, or too few columns to
 * split, the threads split the tiles and share one packed copy of X, so that no column
 * is packed by two threads. Measured (2:4, 2 threads, against the shared copy split by
 * tiles, medians of paired runs on a shared machine): M = 64, N = 3136 +15-30%;
 * M = 128, N = 784 +10-20% and more when the machine is busy (the barrier stalls);
 * M = 256, N = 196 +5% (chunks of 16 tiles instead of one chunk of 32: -5%; private
 * copies split by tiles, each thread packing all of X: -25%). Reading X in place
 * instead of packing it was slower still: the m rows of a group are then ldx apart and
 * the L1 prefetcher does not follow them. */
#ifndef NM_PRIVATE_MAX_TILES
#define NM_PRIVATE_MAX_TILES 32
#endif

/* Columns past the last multiple of 16 (N % 16) fill only part of a zmm of every
 * microkernel row, which costs as much as 16 columns. Up to this many of them (the 49th
 * column of a 7×7 convolution output, the last 4 of 196) go to the few-columns kernel
 * instead, whose cost grows with the number of columns: measured ~1/6 of a 16-column
 * zmm per column. */
#ifndef NM_TAIL_COLS_MAX
#define NM_TAIL_COLS_MAX 4
#endif
_Static_assert(NM_MAX_ROWS == NM_TILE_ROWS, "a microkernel covers at most one tile");

/* Columns of [col_begin, col_end) that the panels cover, and the tail the few-columns
 * kernel takes: the last n % 16 columns when they are at most NM_TAIL_COLS_MAX and inside
 * the range. */
static int64_t nm_tail_cols(int64_t n, int64_t col_end) {
    const int64_t tail = n % 16;
    return col_end == n && tail > 0 && tail <= NM_TAIL_COLS_MAX && n > tail ? tail : 0;
}

/* Floats between the columns of a few-columns copy of X: K, the 32 floats the windows
 * read past a group start, rounded up to whole zmm. */
static int64_t nm_few_cols_stride(int64_t k) { return (k + 32 + 15) / 16 * 16; }

/* Copies rows [k_begin, k_end) of columns [col0, col0 + ncols) of X into columns of xc,
 * xstride floats apart; whoever copies the last row also writes the zero padding. */
static void nm_copy_columns(const float *x, int64_t ldx, int64_t k, int64_t col0, int64_t ncols,
                            float *xc, int64_t xstride, int64_t k_begin, int64_t k_end) {
    for (int64_t col = 0; col < ncols; col++) {
        float *dst = xc + col * xstride;
        for (int64_t i = k_begin; i < k_end; i++) dst[i] = x[i * ldx + col0 + col];
        if (k_end == k) memset(dst + k, 0, (size_t)(xstride - k) * sizeof(float));
    }
}

static void nm_few_cols_tiles(const sk_nm *a, int64_t ncols, const float *xc, int64_t xstride,
                              float *y, int64_t ldy, const sk_epilogue *ep, int64_t t0, int64_t t1);
static void nm_gemv_range(const sk_nm *a, const float *xc, float *y, int64_t ldy, const sk_epilogue *ep,
                          int64_t begin, int64_t end, int threads);

/* Runs the tail columns [body, body + tail) for tiles [t0, t1) from their copy in xc. */
static void nm_tail_tiles(const sk_call *c, int64_t body, int64_t tail, const float *xc,
                          int64_t t0, int64_t t1) {
    sk_epilogue shifted; /* the epilogue seen from column `body` */
    const sk_epilogue *ep = NULL;
    if (c->ep) {
        shifted = sk_epilogue_at(c->ep, 0, body);
        ep = &shifted;
    }
    /* One column: the GEMV, which streams four tiles at once (its copy of x is padded the
     * same way); measured 1.3x faster than the few-columns kernel on N = 49. */
    if (tail == 1) nm_gemv_range(c->weights, xc, c->y + body, c->ldy, ep, t0, t1, c->threads);
    else nm_few_cols_tiles(c->weights, tail, xc, nm_few_cols_stride(c->k), c->y + body, c->ldy, ep, t0, t1);
}

/* The K block in X rows: a panel's block is about NM_PANEL_BYTES (192 KiB) on the 1 MiB
 * L2 this was measured on, scaled with the L2 hwloc reports. */
static void nm_defaults(nm_shape shape, sk_params *p) {
    if (p->kc <= 0)
        p->kc = sk_scaled_block(NM_PANEL_BYTES / (16 * shape.max_nv * 4), 1 << 20, sk_query_topology().l2_bytes, 64, 128, 8192);
    if (p->aux <= 0) p->aux = NM_CHUNK_TILES;
}
void sk_nm_spmm_defaults_avx512(const void *w, int64_t n, sk_params *p) { (void)w; (void)n; nm_defaults(nm_shape_8x48, p); }
void sk_nm_spmm_defaults_avx512_4x96(const void *w, int64_t n, sk_params *p) { (void)w; (void)n; nm_defaults(nm_shape_4x96, p); }

/* Shared packing: X packed once per call (the threads share the work, then wait for
 * each other once) into the panels of the body columns, zero padded to whole zmm,
 * followed by a copy of the tail columns for the few-columns kernel. The threads then
 * split the tiles. */
static int64_t nm_body_cols(int64_t n) { return n - nm_tail_cols(n, n); }

size_t sk_nm_spmm_shared_bytes_avx512(const sk_call *c, const sk_part *part) {
    (void)part;
    const int64_t body = nm_body_cols(c->n), tail = c->n - body;
    return (size_t)(c->k * 16 * ((body + 15) / 16) + tail * nm_few_cols_stride(c->k)) * sizeof(float);
}
static void nm_shared_prepare(nm_shape shape, const sk_call *c, int64_t k_begin, int64_t k_end) {
    const int64_t k = c->k, body = nm_body_cols(c->n), tail = c->n - body;
    const nm_panels panels = nm_split_panels(body, shape.max_nv);
    for (int64_t jp = 0; jp < panels.count; jp++) {
        const int64_t col0 = nm_panel_col0(panels, jp);
        const int width = 16 * nm_panel_nv(panels, jp);
        nm_pack_panel_avx512(c->x, c->ldx, body, col0, width, c->shared + k * col0 + k_begin * width,
                             k_begin, k_end);
    }
    if (tail)
        nm_copy_columns(c->x, c->ldx, k, body, tail, c->shared + k * 16 * ((body + 15) / 16),
                        nm_few_cols_stride(k), k_begin, k_end);
}
static void nm_shared_run(nm_shape shape, const sk_call *c, const sk_part *part) {
    const sk_nm *a = c->weights;
    const int64_t body = nm_body_cols(c->n), tail = c->n - body;
    const nm_x_source src = {c->x, c->ldx, c->k, body, c->shared, NULL};
    nm_gemm_rectangle_avx512(a, shape, &src, part->row_begin, part->row_end, 0, body, c->y, c->ldy, c->ep,
                             nm_kc_groups(a, c->params.kc), c->params.aux);
    if (tail)
        nm_tail_tiles(c, body, tail, c->shared + c->k * 16 * ((body + 15) / 16), part->row_begin, part->row_end);
}
void sk_nm_spmm_prepare_avx512(const sk_call *c, int64_t k0, int64_t k1) { nm_shared_prepare(nm_shape_8x48, c, k0, k1); }
void sk_nm_spmm_prepare_avx512_4x96(const sk_call *c, int64_t k0, int64_t k1) { nm_shared_prepare(nm_shape_4x96, c, k0, k1); }
void sk_nm_run_spmm_shared_avx512(const sk_call *c, const sk_part *part) { nm_shared_run(nm_shape_8x48, c, part); }
void sk_nm_run_spmm_shared_avx512_4x96(const sk_call *c, const sk_part *part) { nm_shared_run(nm_shape_4x96, c, part); }

/* Private packing, for few rows (at most NM_PRIVATE_MAX_TILES tiles, 256 rows): each
 * thread takes a range of whole panels and all the tiles (one chunk), and packs its own
 * X panels a k-block at a time just before use: every column is packed once, as with a
 * shared copy, but without the barrier and the round trip of the copy through L3, and
 * each packed block is reused by every tile while it sits in L2.
 * Measured (2:4, 2 threads, against the shared copy split by tiles, medians of paired
 * runs on a shared machine): M = 64, N = 3136 +15-30%; M = 128, N = 784 +10-20% and
 * more when the machine is busy (the barrier stalls); M = 256, N = 196 +5% (chunks of
 * 16 tiles instead of one chunk of 32: -5%; private copies split by tiles, each thread
 * packing all of X: -25%). Reading X in place instead of packing it was slower still:
 * the m rows of a group are then ldx apart and the L1 prefetcher does not follow them. */
#ifndef NM_PRIVATE_MAX_TILES
#define NM_PRIVATE_MAX_TILES 32
#endif

static int nm_private_suits(nm_shape shape, const void *w, int64_t n, int threads) {
    const sk_nm *a = w;
    if (a->tiles > NM_PRIVATE_MAX_TILES) return 0;
    return threads == 1 || nm_split_panels(nm_body_cols(n), shape.max_nv).count >= 2 * (int64_t)threads;
}
int sk_nm_private_suits_avx512(const void *w, int64_t n, int threads) { return nm_private_suits(nm_shape_8x48, w, n, threads); }
int sk_nm_private_suits_avx512_4x96(const void *w, int64_t n, int threads) { return nm_private_suits(nm_shape_4x96, w, n, threads); }

static size_t nm_private_scratch(nm_shape shape, const sk_call *c, const sk_part *part) {
    const sk_nm *a = c->weights;
    const int64_t tail = nm_tail_cols(c->n, part->col_end);
    return (size_t)(nm_kc_groups(a, c->params.kc) * a->m * 16 * shape.max_nv + tail * nm_few_cols_stride(c->k)) *
           sizeof(float);
}
size_t sk_nm_spmm_private_scratch_avx512(const sk_call *c, const sk_part *p) { return nm_private_scratch(nm_shape_8x48, c, p); }
size_t sk_nm_spmm_private_scratch_avx512_4x96(const sk_call *c, const sk_part *p) { return nm_private_scratch(nm_shape_4x96, c, p); }

static void nm_private_run(nm_shape shape, const sk_call *c, const sk_part *part) {
    const sk_nm *a = c->weights;
    const int64_t kc_groups = nm_kc_groups(a, c->params.kc);
    const int64_t tail = nm_tail_cols(c->n, part->col_end), body_end = part->col_end - tail;
    float *panel_scratch = part->scratch;
    if (part->col_begin < body_end) {
        const nm_x_source src = {c->x, c->ldx, c->k, c->n, NULL, panel_scratch};
        nm_gemm_rectangle_avx512(a, shape, &src, part->row_begin, part->row_end, part->col_begin, body_end,
                                 c->y, c->ldy, c->ep, kc_groups, part->row_end - part->row_begin);
    }
    if (tail) {
        float *xc = panel_scratch + kc_groups * a->m * 16 * shape.max_nv;
        nm_copy_columns(c->x, c->ldx, c->k, body_end, tail, xc, nm_few_cols_stride(c->k), 0, c->k);
        nm_tail_tiles(c, body_end, tail, xc, part->row_begin, part->row_end);
    }
}
void sk_nm_run_spmm_private_avx512(const sk_call *c, const sk_part *part) { nm_private_run(nm_shape_8x48, c, part); }
void sk_nm_run_spmm_private_avx512_4x96(const sk_call *c, const sk_part *part) { nm_private_run(nm_shape_4x96, c, part); }

/* ---- GEMV ------------------------------------------------------------------------ */

/* The 16 index fields of slots t and t+1 (lane l = slot t + l/8, row l%8). */
static inline __attribute__((always_inline)) __m512i
nm_pair_positions(const int BITS, const uint8_t *ti, int64_t t) {
    if (BITS == 4) {
        uint64_t word;
        memcpy(&word, ti + 4 * t, 8);
        const __m512i both = _mm512_mask_blend_epi32(0xFF00, _mm512_set1_epi32((int)(uint32_t)word),
                                                     _mm512_set1_epi32((int)(uint32_t)(word >> 32)));
        const __m512i shifts = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
        return _mm512_and_si512(_mm512_srlv_epi32(both, shifts), _mm512_set1_epi32(15));
    }
    uint32_t word;
    if (BITS == 1) { uint16_t w16; memcpy(&w16, ti + t, 2); word = w16; }
    else memcpy(&word, ti + 2 * t, 4);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i shifts = _mm512_mullo_epi32(lane, _mm512_set1_epi32(BITS)); /* folded */
    return _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32((int)word), shifts),
                            _mm512_set1_epi32((1 << BITS) - 1));
}

/* acc += values of slots t, t+1 × the x entries they select. (g, s): group and slot in
 * group of slot t. `next_group` is m in lanes 8..15, 0 elsewhere. */
static inline __attribute__((always_inline)) __m512
nm_gemv_pair(const int BITS, const float *xc, const float *tv, const uint8_t *ti, int64_t t,
             int64_t g, int s, int n, int m, __m512i next_group, __mmask16 lanes, __m512 acc) {
    __m512i pos = nm_pair_positions(BITS, ti, t);
    if (s + 1 >= n) pos = _mm512_add_epi32(pos, next_group); /* slot t+1 starts a group */
    const float *window = xc + g * m;
    const __m512 xs = _mm512_maskz_permutex2var_ps(lanes, _mm512_loadu_ps(window), pos,
                                                   _mm512_loadu_ps(window + 16));
    return _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, tv + t * NM_TILE_ROWS), xs, acc);
}

static inline __attribute__((always_inline)) void nm_advance(int64_t *g, int *s, int n, int by) {
    *s += by;
    while (*s >= n) { *s -= n; (*g)++; }
}

/* Stores the 8 row sums held in acc (lane l and l+8 belong to row l) with the epilogue. */
static inline __attribute__((always_inline)) void
nm_gemv_store_tile(const sk_nm *a, int64_t tile, __m512 acc, float *y, int64_t ldy,
                   const sk_epilogue *ep) {
    const __m256 rows8 = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm512_extractf32x8_ps(acc, 1));
    float out[NM_TILE_ROWS];
    _mm256_storeu_ps(out, rows8);
    for (int r = 0; r < NM_TILE_ROWS; r++) {
        const int64_t row = tile * NM_TILE_ROWS + r;
        if (row >= a->rows) break;
        y[row * ldy] = sk_epilogue_apply(ep, row, 0, out[r]);
    }
}

#ifndef NM_GEMV_STREAMS
#define NM_GEMV_STREAMS 4 /* 2, 4 and 8 measured alike; 1 was ~1.3-1.5× slower */
#endif
/* Software prefetch of each value stream this many bytes ahead, into L2 (T1): 4096×4096
 * from DRAM (caches evicted, 2 threads, paired with the dense GEMV): 2:4 1.66× → 1.76×
 * dense, 1:4 3.0× → 3.4×, 2:8 2.95× → 3.1×. 8-16 KiB ahead measured the same as 4 KiB;
 * into L1 (T0) or non-temporal (NTA) at 0.5-8 KiB was slower than no prefetch; also
 * prefetching the index streams gained nothing (they advance 16-64× slower).
 * Only for weights bigger than NM_GEMV_PREFETCH_MIN_BYTES per thread: when a thread's
 * share stays in its L2 between calls (1024×1024 2:4, warm) the prefetches cost
 * 10-15%; L3-resident (2048×2048 2:4, warm) measured neutral. */
#ifndef NM_GEMV_PREFETCH_BYTES
#define NM_GEMV_PREFETCH_BYTES 4096
#endif
#ifndef NM_GEMV_PREFETCH_MIN_BYTES
#define NM_GEMV_PREFETCH_MIN_BYTES (2 << 20)
#endif

/* NM_GEMV_STREAMS tiles far apart in the thread's range at once, i.e. as many
 * independent sequential streams of values (and of indices). The weights are read once
 * either way; more streams in flight keep more DRAM requests outstanding per core
 * (measured: ~1.3-1.5× the bandwidth of one stream). All tiles have the same slot ↔
 * group structure, so the x windows are shared by the streams. */
static inline __attribute__((always_inline)) void
nm_gemv_streams(const int BITS, const int PF, const sk_nm *a, const float *xc, float *y, int64_t ldy,
                const sk_epilogue *ep, int64_t first_tile, int64_t tile_step) {
    const int n = a->n, m = a->m;
    const int64_t slots = a->slots;
    const float *tv[NM_GEMV_STREAMS];
    const uint8_t *ti[NM_GEMV_STREAMS];
    __m512 acc[NM_GEMV_STREAMS];
    for (int i = 0; i < NM_GEMV_STREAMS; i++) {
        tv[i] = nm_tile_values(a, first_tile + i * tile_step);
        ti[i] = nm_tile_indices(a, first_tile + i * tile_step);
        acc[i] = _mm512_setzero_ps();
    }
    if ((n & 1) == 0) {
        /* Even n (2:4, 4:8, 2:8, 8:16...): a pair of slots never straddles a group, so
         * one 16-float window at the group start and a one-source vpermps do. */
        int64_t t = 0;
        for (int64_t g = 0; g < a->groups; g++) {
            const __m512 window = _mm512_loadu_ps(xc + g * m);
            for (int j = 0; j < n; j += 2, t += 2)
                for (int i = 0; i < NM_GEMV_STREAMS; i++) {
                    /* one 64-byte line of values per step: one prefetch per line */
                    if (PF) _mm_prefetch((const char *)(tv[i] + t * NM_TILE_ROWS) + NM_GEMV_PREFETCH_BYTES, _MM_HINT_T1);
                    acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(tv[i] + t * NM_TILE_ROWS),
                                             _mm512_permutexvar_ps(nm_pair_positions(BITS, ti[i], t), window), acc[i]);
                }
        }
    } else {
        /* Odd n: the second slot of a pair may start the next group; a 32-float window
         * over both groups and vpermt2ps. */
        const __m512i next_group = _mm512_mask_blend_epi32(0xFF00, _mm512_setzero_si512(), _mm512_set1_epi32(m));
        int64_t g = 0;
        int s = 0;
        for (int64_t t = 0; t < slots; t += 2) {
            const __mmask16 lanes = t + 2 <= slots ? 0xFFFF : 0x00FF;
            const __m512 lo = _mm512_loadu_ps(xc + g * m), hi = _mm512_loadu_ps(xc + g * m + 16);
            const int straddles = s + 1 >= n;
            for (int i = 0; i < NM_GEMV_STREAMS; i++) {
                if (PF) _mm_prefetch((const char *)(tv[i] + t * NM_TILE_ROWS) + NM_GEMV_PREFETCH_BYTES, _MM_HINT_T1);
                __m512i pos = nm_pair_positions(BITS, ti[i], t);
                if (straddles) pos = _mm512_add_epi32(pos, next_group);
                acc[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, tv[i] + t * NM_TILE_ROWS),
                                         _mm512_maskz_permutex2var_ps(lanes, lo, pos, hi), acc[i]);
            }
            nm_advance(&g, &s, n, 2);
        }
    }
    for (int i = 0; i < NM_GEMV_STREAMS; i++)
        nm_gemv_store_tile(a, first_tile + i * tile_step, acc[i], y, ldy, ep);
}

static inline __attribute__((always_inline)) void
nm_gemv_tiles_avx512(const int BITS, const int PF, const sk_nm *a, const float *xc, float *y, int64_t ldy,
                     const sk_epilogue *ep, int64_t tile_begin, int64_t tile_end) {
    const int n = a->n, m = a->m;
    const int64_t slots = a->slots;
    const __m512i next_group = _mm512_mask_blend_epi32(0xFF00, _mm512_setzero_si512(), _mm512_set1_epi32(m));
    {
        const int64_t part = (tile_end - tile_begin) / NM_GEMV_STREAMS;
        for (int64_t i = 0; i < part; i++)
            nm_gemv_streams(BITS, PF, a, xc, y, ldy, ep, tile_begin + i, part);
        tile_begin += NM_GEMV_STREAMS * part;
    }
    /* The few tiles left over (fewer than NM_GEMV_STREAMS), one at a time. */
    for (int64_t tile = tile_begin; tile < tile_end; tile++) {
        const float *tv = nm_tile_values(a, tile);
        const uint8_t *ti = nm_tile_indices(a, tile);
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        int64_t g = 0, t = 0;
        int s = 0;
        for (; t + 4 <= slots; t += 4) {
            acc0 = nm_gemv_pair(BITS, xc, tv, ti, t, g, s, n, m, next_group, 0xFFFF, acc0);
            nm_advance(&g, &s, n, 2);
            acc1 = nm_gemv_pair(BITS, xc, tv, ti, t + 2, g, s, n, m, next_group, 0xFFFF, acc1);
            nm_advance(&g, &s, n, 2);
        }
        for (; t < slots; t += 2) {
            const __mmask16 lanes = t + 2 <= slots ? 0xFFFF : 0x00FF;
            acc0 = nm_gemv_pair(BITS, xc, tv, ti, t, g, s, n, m, next_group, lanes, acc0);
            nm_advance(&g, &s, n, 2);
        }
        nm_gemv_store_tile(a, tile, _mm512_add_ps(acc0, acc1), y, ldy, ep);
    }
}

static void nm_gemv_tiles_avx512_b1(const sk_nm *a, const float *xc, float *y, int64_t ldy,
                                    const sk_epilogue *ep, int64_t b, int64_t e, int pf) {
    if (pf) nm_gemv_tiles_avx512(1, 1, a, xc, y, ldy, ep, b, e);
    else nm_gemv_tiles_avx512(1, 0, a, xc, y, ldy, ep, b, e);
}
static void nm_gemv_tiles_avx512_b2(const sk_nm *a, const float *xc, float *y, int64_t ldy,
                                    const sk_epilogue *ep, int64_t b, int64_t e, int pf) {
    if (pf) nm_gemv_tiles_avx512(2, 1, a, xc, y, ldy, ep, b, e);
    else nm_gemv_tiles_avx512(2, 0, a, xc, y, ldy, ep, b, e);
}
static void nm_gemv_tiles_avx512_b4(const sk_nm *a, const float *xc, float *y, int64_t ldy,
                                    const sk_epilogue *ep, int64_t b, int64_t e, int pf) {
    if (pf) nm_gemv_tiles_avx512(4, 1, a, xc, y, ldy, ep, b, e);
    else nm_gemv_tiles_avx512(4, 0, a, xc, y, ldy, ep, b, e);
}

/* ---- Few columns (1 <= n_cols <= NM_FEW_COLS) -------------------------------------- */

/* A 48-wide GEMM panel would waste most of its lanes here, so this is the GEMV kernel
 * with a column loop inside: the weights are streamed once, and each 16-value vector is
 * multiplied by the x entries it selects from every column (one window load, one
 * permute and one FMA per column). x columns are copied into padded contiguous rows. */
#define NM_FEW_COLS 8

static inline __attribute__((always_inline)) void
nm_few_cols_tiles_avx512(const int BITS, const int NCOLS, const sk_nm *a, const float *xc,
                         int64_t xstride, float *y, int64_t ldy, const sk_epilogue *ep,
                         int64_t tile_begin, int64_t tile_end) {
    const int n = a->n, m = a->m;
    const int64_t slots = a->slots;
    const __m512i next_group = _mm512_mask_blend_epi32(0xFF00, _mm512_setzero_si512(), _mm512_set1_epi32(m));
    for (int64_t tile = tile_begin; tile < tile_end; tile++) {
        const float *tv = nm_tile_values(a, tile);
        const uint8_t *ti = nm_tile_indices(a, tile);
        __m512 acc[NM_FEW_COLS];
        for (int c = 0; c < NCOLS; c++) acc[c] = _mm512_setzero_ps();
        int64_t g = 0;
        int s = 0;
        for (int64_t t = 0; t < slots; t += 2) {
            const __mmask16 lanes = t + 2 <= slots ? 0xFFFF : 0x00FF;
            __m512i pos = nm_pair_positions(BITS, ti, t);
            if (s + 1 >= n) pos = _mm512_add_epi32(pos, next_group); /* slot t+1 starts a group */
            const __m512 v = _mm512_maskz_loadu_ps(lanes, tv + t * NM_TILE_ROWS);
            for (int c = 0; c < NCOLS; c++) {
                const float *window = xc + c * xstride + g * m;
                const __m512 xs = _mm512_permutex2var_ps(_mm512_loadu_ps(window), pos,
                                                         _mm512_loadu_ps(window + 16));
                acc[c] = _mm512_fmadd_ps(v, xs, acc[c]);
            }
            nm_advance(&g, &s, n, 2);
        }
        for (int c = 0; c < NCOLS; c++) {
            const __m256 rows8 = _mm256_add_ps(_mm512_castps512_ps256(acc[c]), _mm512_extractf32x8_ps(acc[c], 1));
            float out[NM_TILE_ROWS];
            _mm256_storeu_ps(out, rows8);
            for (int r = 0; r < NM_TILE_ROWS; r++) {
                const int64_t row = tile * NM_TILE_ROWS + r;
                if (row >= a->rows) break;
                y[row * ldy + c] = sk_epilogue_apply(ep, row, c, out[r]);
            }
        }
    }
}

typedef void nm_few_cols_fn(const sk_nm *a, const float *xc, int64_t xstride, float *y,
                            int64_t ldy, const sk_epilogue *ep, int64_t b, int64_t e);
#define NM_DEFINE_FEW(BITS, NCOLS)                                                            \
    static void nm_few_cols_avx512_##BITS##_##NCOLS(const sk_nm *a, const float *xc,          \
                                                    int64_t xstride, float *y, int64_t ldy,   \
                                                    const sk_epilogue *ep, int64_t b, int64_t e) { \
        nm_few_cols_tiles_avx512(BITS, NCOLS, a, xc, xstride, y, ldy, ep, b, e);             \
    }
#define NM_DEFINE_FEW_BITS(NCOLS) NM_DEFINE_FEW(1, NCOLS) NM_DEFINE_FEW(2, NCOLS) NM_DEFINE_FEW(4, NCOLS)
NM_DEFINE_FEW_BITS(1) NM_DEFINE_FEW_BITS(2) NM_DEFINE_FEW_BITS(3) NM_DEFINE_FEW_BITS(4) NM_DEFINE_FEW_BITS(5)
NM_DEFINE_FEW_BITS(6) NM_DEFINE_FEW_BITS(7) NM_DEFINE_FEW_BITS(8)

static void nm_few_cols_tiles(const sk_nm *a, int64_t ncols, const float *xc, int64_t xstride,
                              float *y, int64_t ldy, const sk_epilogue *ep, int64_t t0, int64_t t1) {
#define NM_FEW_ROW(NCOLS) {nm_few_cols_avx512_1_##NCOLS, nm_few_cols_avx512_2_##NCOLS, nm_few_cols_avx512_4_##NCOLS}
    static nm_few_cols_fn *const table[NM_FEW_COLS][3] = {
        NM_FEW_ROW(1), NM_FEW_ROW(2), NM_FEW_ROW(3), NM_FEW_ROW(4), NM_FEW_ROW(5), NM_FEW_ROW(6), NM_FEW_ROW(7), NM_FEW_ROW(8)};
#undef NM_FEW_ROW
    table[ncols - 1][a->index_bits == 1 ? 0 : a->index_bits == 2 ? 1 : 2](a, xc, xstride, y, ldy, ep, t0, t1);
}

/* The few-columns entry (2..NM_FEW_COLS columns): the columns copied, padded, into a
 * shared buffer by the threads together; the threads then split the tiles. */
size_t sk_nm_few_cols_shared_avx512(const sk_call *c, const sk_part *part) {
    (void)part;
    return (size_t)(c->n * nm_few_cols_stride(c->k)) * sizeof(float);
}
void sk_nm_few_cols_prepare_avx512(const sk_call *c, int64_t k_begin, int64_t k_end) {
    nm_copy_columns(c->x, c->ldx, c->k, 0, c->n, c->shared, nm_few_cols_stride(c->k), k_begin, k_end);
}
void sk_nm_run_few_cols_avx512(const sk_call *c, const sk_part *part) {
    nm_few_cols_tiles(c->weights, c->n, c->shared, nm_few_cols_stride(c->k), c->y, c->ldy, c->ep,
                      part->row_begin, part->row_end);
}

/* GEMV: x copied contiguous with 32 zero floats after it (the last window reads up to
 * 2 groups past its start). */
#define NM_GEMV_PAD 32
size_t sk_nm_gemv_shared_avx512(const sk_call *c, const sk_part *part) {
    (void)part;
    return (size_t)(c->k + NM_GEMV_PAD) * sizeof(float);
}
void sk_nm_gemv_prepare_avx512(const sk_call *c, int64_t k_begin, int64_t k_end) {
    nm_fill_x_padded(c->shared, c->x, c->ldx, c->k, NM_GEMV_PAD, k_begin, k_end);
}
/* Tiles [begin, end) of the GEMV on a padded contiguous x. */
static void nm_gemv_range(const sk_nm *a, const float *xc, float *y, int64_t ldy, const sk_epilogue *ep,
                          int64_t begin, int64_t end, int threads) {
    const int pf = sk_nm_bytes(a) > (size_t)threads * NM_GEMV_PREFETCH_MIN_BYTES;
    if (a->index_bits == 1) nm_gemv_tiles_avx512_b1(a, xc, y, ldy, ep, begin, end, pf);
    else if (a->index_bits == 2) nm_gemv_tiles_avx512_b2(a, xc, y, ldy, ep, begin, end, pf);
    else nm_gemv_tiles_avx512_b4(a, xc, y, ldy, ep, begin, end, pf);
}
void sk_nm_run_gemv_avx512(const sk_call *c, const sk_part *part) {
    nm_gemv_range(c->weights, c->shared, c->y, c->ldy, c->ep, part->row_begin, part->row_end, c->threads);
}

SK_END_ISA
