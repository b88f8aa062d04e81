/* AVX2 + FMA N:M kernels: the AVX-512 design (see spmm_nm_avx512.c) in 256-bit
 * registers, sized for 16 ymm.
 *
 * GEMM: X packed in column panels of up to 24 columns (3 ymm). The microkernel covers
 * 4 rows (half a tile) × 24 columns in 12 accumulators; per row and slot one broadcast
 * and 3 FMAs reading X from the L1-resident panel at the row's in-group position.
 *
 * GEMV: one ymm = one slot × 8 rows of a tile. The 8 index fields are expanded with a
 * variable shift; vpermps picks x from the 8-float window at the group start (two
 * windows and a blend when m > 8). Four tiles far apart are streamed at once.
 * Few columns (2..15) go through the GEMM with 8/16-wide panels. */
#include <immintrin.h>
#include "../common/sk_activation_avx2.h"
#include "nm_internal.h"

SK_BEGIN_AVX2

#define NM2_ROWS 4
#define NM2_NV 3
/* K-blocks of 96 KiB of X per panel (1024 K values), reused from L2 by 16 tiles: as in
 * the AVX-512 file, fewer Y round trips beat keeping the block in L1 (measured 1.18×
 * dense AVX2 against 1.04-1.11× with 24 KiB blocks, 4096² × 256, 2:4). */
#define NM2_PANEL_BYTES (96 * 1024)
#define NM2_CHUNK_TILES 16

/* ---- GEMM ------------------------------------------------------------------------ */

typedef struct nm2_store_ctx {
    float *y;
    int64_t ldy;
    int64_t row0, col0;
    int valid_rows;        /* 1..4 */
    int valid_cols;        /* 1..24 */
    int accumulate;
    const sk_epilogue *ep; /* last k-block only */
} nm2_store_ctx;

/* Lane mask for ymm q of a row whose first valid_cols columns are real. */
static inline __m256i nm2_cols_mask(int valid_cols, int q) {
    const int left = valid_cols - 8 * q;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane);
}

static inline __attribute__((always_inline)) void
nm_microkernel_avx2(const int NV, const int BITS, const float *tv, const uint8_t *ti, int r0,
                    int64_t t_begin, int64_t t_end, int n, int m, const float *panel,
                    const nm2_store_ctx *st) {
    const int64_t width = 8 * NV;
    const uint32_t mask = (1u << BITS) - 1;
    __m256 acc[NM2_ROWS][NM2_NV];
    for (int r = 0; r < NM2_ROWS; r++)
        for (int q = 0; q < NV; q++) acc[r][q] = _mm256_setzero_ps();

    const float *xg = panel;
    const int64_t group_step = (int64_t)m * width;
    int s = 0;
    for (int64_t t = t_begin; t < t_end; t++) {
        uint32_t word;
        if (BITS == 1) word = ti[t];
        else if (BITS == 2) { uint16_t w16; memcpy(&w16, ti + 2 * t, 2); word = w16; }
        else memcpy(&word, ti + 4 * t, 4);
        word >>= r0 * BITS;
        const float *v = tv + t * NM_TILE_ROWS + r0;
        for (int r = 0; r < NM2_ROWS; r++) {
            const uint32_t p = (word >> (r * BITS)) & mask;
            const float *xp = xg + p * width;
            const __m256 b = _mm256_broadcast_ss(v + r);
            for (int q = 0; q < NV; q++)
                acc[r][q] = _mm256_fmadd_ps(b, _mm256_load_ps(xp + 8 * q), acc[r][q]);
        }
        if (++s == n) { s = 0; xg += group_step; }
    }

    const sk_epilogue *ep = st->ep;
    for (int r = 0; r < NM2_ROWS; r++) {
        if (r >= st->valid_rows) break;
        float *yr = st->y + r * st->ldy;
        const int64_t row = st->row0 + r;
        for (int q = 0; q < NV; q++) {
            const __m256i k = nm2_cols_mask(st->valid_cols, q);
            __m256 out = acc[r][q];
            if (st->accumulate) out = _mm256_add_ps(out, _mm256_maskload_ps(yr + 8 * q, k));
            if (ep) {
                if (ep->bias) out = _mm256_add_ps(out, _mm256_set1_ps(ep->bias[row]));
                if (ep->residual)
                    out = _mm256_add_ps(out, _mm256_maskload_ps(
                        ep->residual + row * ep->ld_residual + st->col0 + 8 * q, k));
                out = sk_activate_ymm(out, (int)ep->activation);
            }
            _mm256_maskstore_ps(yr + 8 * q, k, out);
        }
    }
}

typedef void nm2_micro_fn(const float *tv, const uint8_t *ti, int r0, int64_t t_begin,
                          int64_t t_end, int n, int m, const float *panel, const nm2_store_ctx *st);

#define NM2_DEFINE_MICRO(NV, BITS)                                                        \
    static void nm_micro_avx2_##NV##_##BITS(const float *tv, const uint8_t *ti, int r0,   \
                                            int64_t t_begin, int64_t t_end, int n, int m, \
                                            const float *panel, const nm2_store_ctx *st) { \
        nm_microkernel_avx2(NV, BITS, tv, ti, r0, t_begin, t_end, n, m, panel, st);       \
    }
#define NM2_DEFINE_MICRO_BITS(NV) NM2_DEFINE_MICRO(NV, 1) NM2_DEFINE_MICRO(NV, 2) NM2_DEFINE_MICRO(NV, 4)
NM2_DEFINE_MICRO_BITS(1) NM2_DEFINE_MICRO_BITS(2) NM2_DEFINE_MICRO_BITS(3)

static nm2_micro_fn *nm2_pick_micro(int nv, int bits) {
#define NM2_ROW(NV) {nm_micro_avx2_##NV##_1, nm_micro_avx2_##NV##_2, nm_micro_avx2_##NV##_4}
    static nm2_micro_fn *const table[3][3] = {NM2_ROW(1), NM2_ROW(2), NM2_ROW(3)};
#undef NM2_ROW
    return table[nv - 1][bits == 1 ? 0 : bits == 2 ? 1 : 2];
}

/* Same even split as the AVX-512 file, in ymm units. */
typedef struct nm2_panels { int64_t count, base_nv, wide; } nm2_panels;
static inline nm2_panels nm2_split_panels(int64_t n_cols) {
    const int64_t vectors = (n_cols + 7) / 8;
    nm2_panels p;
    p.count = (vectors + NM2_NV - 1) / NM2_NV;
    p.base_nv = vectors / p.count;
    p.wide = vectors % p.count;
    return p;
}
static inline int nm2_panel_nv(nm2_panels p, int64_t jp) { return (int)(p.base_nv + (jp < p.wide)); }
static inline int64_t nm2_panel_col0(nm2_panels p, int64_t jp) {
    return 8 * (jp * p.base_nv + (jp < p.wide ? jp : p.wide));
}

static void nm_pack_x_avx2(const float *x, int64_t ldx, int64_t k, int64_t n_cols,
                           nm2_panels panels, float *packed, int64_t k_begin, int64_t k_end) {
    for (int64_t jp = 0; jp < panels.count; jp++) {
        const int64_t col0 = nm2_panel_col0(panels, jp), width = 8 * nm2_panel_nv(panels, jp);
        float *panel = packed + k * col0;
        for (int64_t kk = k_begin; kk < k_end; kk++) {
            const float *src = x + kk * ldx + col0;
            float *dst = panel + kk * width;
            for (int64_t c = 0; c < width; c += 8)
                _mm256_store_ps(dst + c, _mm256_maskload_ps(src + c, nm2_cols_mask((int)(n_cols - col0 - c), 0)));
        }
    }
}

/* The shared buffer: X packed once per call into the panels of all n columns. */
size_t sk_nm_spmm_shared_avx2(const sk_call *c, const sk_part *part) {
    (void)part;
    return (size_t)(c->k * 8 * ((c->n + 7) / 8)) * sizeof(float);
}
void sk_nm_spmm_prepare_avx2(const sk_call *c, int64_t k_begin, int64_t k_end) {
    nm_pack_x_avx2(c->x, c->ldx, c->k, c->n, nm2_split_panels(c->n), c->shared, k_begin, k_end);
}
void sk_nm_spmm_defaults_avx2(const void *w, int64_t n, sk_params *p) {
    (void)w; (void)n;
    /* measured best with Zen 4's 1 MiB L2; scaled with the L2 hwloc reports */
    if (p->kc <= 0)
        p->kc = sk_scaled_block(NM2_PANEL_BYTES / (8 * NM2_NV * 4), 1 << 20, sk_query_topology().l2_bytes, 64, 256, 8192);
    if (p->aux <= 0) p->aux = NM2_CHUNK_TILES;
}

/* Tiles of the part × all columns (the entry splits rows only). */
void sk_nm_run_spmm_avx2(const sk_call *c, const sk_part *part) {
    const sk_nm *a = c->weights;
    const int64_t k = a->k, n_cols = c->n;
    const nm2_panels panels = nm2_split_panels(n_cols);
    const int n = a->n, m = a->m;
    const int64_t kc_groups = nm_kc_groups(a, c->params.kc), chunk = c->params.aux;
    const int64_t kblocks = (a->groups + kc_groups - 1) / kc_groups;
    for (int64_t c0 = part->row_begin; c0 < part->row_end; c0 += chunk) {
        const int64_t c1 = sk_min64(c0 + chunk, part->row_end);
        for (int64_t kb = 0; kb < kblocks; kb++) {
            const int64_t g0 = kb * kc_groups;
            const int64_t g1 = sk_min64(g0 + kc_groups, a->groups);
            for (int64_t jp = 0; jp < panels.count; jp++) {
                const int nv = nm2_panel_nv(panels, jp);
                const int64_t width = 8 * nv, col0 = nm2_panel_col0(panels, jp);
                nm2_micro_fn *micro = nm2_pick_micro(nv, a->index_bits);
                const float *panel = c->shared + k * col0 + g0 * m * width;
                nm2_store_ctx st;
                st.ldy = c->ldy;
                st.col0 = col0;
                st.valid_cols = (int)sk_min64(n_cols - col0, width);
                st.accumulate = kb > 0;
                st.ep = kb == kblocks - 1 ? c->ep : NULL;
                for (int64_t tile = c0; tile < c1; tile++) {
                    const float *tv = nm_tile_values(a, tile);
                    const uint8_t *ti = nm_tile_indices(a, tile);
                    for (int r0 = 0; r0 < NM_TILE_ROWS; r0 += NM2_ROWS) {
                        st.row0 = tile * NM_TILE_ROWS + r0;
                        if (st.row0 >= a->rows) break;
                        st.valid_rows = (int)sk_min64(a->rows - st.row0, NM2_ROWS);
                        st.y = c->y + st.row0 * c->ldy + col0;
                        micro(tv, ti, r0, g0 * n, g1 * n, n, m, panel, &st);
                    }
                }
            }
        }
    }
}

/* ---- GEMV ------------------------------------------------------------------------ */

/* acc += the 8 rows' values of slot t × the x entries their positions select from the
 * window starting at group_k. */
static inline __attribute__((always_inline)) __m256
nm2_gemv_slot(const int BITS, const int WIDE, const float *xc, const float *tv,
              const uint8_t *ti, int64_t t, int64_t group_k, __m256 acc) {
    uint32_t word;
    if (BITS == 1) word = ti[t];
    else if (BITS == 2) { uint16_t w16; memcpy(&w16, ti + 2 * t, 2); word = w16; }
    else memcpy(&word, ti + 4 * t, 4);
    const __m256i shifts = _mm256_setr_epi32(0, BITS, 2 * BITS, 3 * BITS, 4 * BITS, 5 * BITS, 6 * BITS, 7 * BITS);
    const __m256i pos = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)word), shifts),
                                         _mm256_set1_epi32((1 << BITS) - 1));
    const float *window = xc + group_k;
    __m256 xs = _mm256_permutevar8x32_ps(_mm256_loadu_ps(window), pos);
    if (WIDE) { /* m > 8: positions 8..15 come from the second window; bit 3 → sign */
        const __m256 hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(window + 8), pos);
        xs = _mm256_blendv_ps(xs, hi, _mm256_castsi256_ps(_mm256_slli_epi32(pos, 28)));
    }
    return _mm256_fmadd_ps(_mm256_loadu_ps(tv + t * NM_TILE_ROWS), xs, acc);
}

static inline __attribute__((always_inline)) void
nm2_store_tile(const sk_nm *a, int64_t tile, __m256 acc, float *y, int64_t ldy,
               const sk_epilogue *ep) {
    float out[NM_TILE_ROWS];
    _mm256_storeu_ps(out, acc);
    for (int r = 0; r < NM_TILE_ROWS; r++) {
        const int64_t row = tile * NM_TILE_ROWS + r;
        if (row >= a->rows) break;
        y[row * ldy] = sk_epilogue_apply(ep, row, 0, out[r]);
    }
}

/* NM2_GEMV_STREAMS tiles far apart in the thread's range at once: independent
 * sequential streams keep more DRAM requests in flight (see the AVX-512 GEMV). */
#define NM2_GEMV_STREAMS 4
static inline __attribute__((always_inline)) void
nm2_gemv_streams(const int BITS, const int WIDE, const sk_nm *a, const float *xc, float *y,
                 int64_t ldy, const sk_epilogue *ep, int64_t first_tile, int64_t tile_step) {
    const int n = a->n, m = a->m;
    const float *tv[NM2_GEMV_STREAMS];
    const uint8_t *ti[NM2_GEMV_STREAMS];
    __m256 acc[NM2_GEMV_STREAMS];
    for (int i = 0; i < NM2_GEMV_STREAMS; i++) {
        tv[i] = nm_tile_values(a, first_tile + i * tile_step);
        ti[i] = nm_tile_indices(a, first_tile + i * tile_step);
        acc[i] = _mm256_setzero_ps();
    }
    int64_t group_k = 0;
    int s = 0;
    for (int64_t t = 0; t < a->slots; t++) {
        for (int i = 0; i < NM2_GEMV_STREAMS; i++)
            acc[i] = nm2_gemv_slot(BITS, WIDE, xc, tv[i], ti[i], t, group_k, acc[i]);
        if (++s == n) { s = 0; group_k += m; }
    }
    for (int i = 0; i < NM2_GEMV_STREAMS; i++)
        nm2_store_tile(a, first_tile + i * tile_step, acc[i], y, ldy, ep);
}

static inline __attribute__((always_inline)) void
nm2_gemv_tiles(const int BITS, const int WIDE, const sk_nm *a, const float *xc, float *y,
               int64_t ldy, const sk_epilogue *ep, int64_t tile_begin, int64_t tile_end) {
    const int n = a->n, m = a->m;
    const int64_t slots = a->slots;
    const int64_t part = (tile_end - tile_begin) / NM2_GEMV_STREAMS;
    for (int64_t i = 0; i < part; i++)
        nm2_gemv_streams(BITS, WIDE, a, xc, y, ldy, ep, tile_begin + i, part);
    tile_begin += NM2_GEMV_STREAMS * part;
    /* The few tiles left over, one at a time with two accumulators. */
    for (int64_t tile = tile_begin; tile < tile_end; tile++) {
        const float *tv = nm_tile_values(a, tile);
        const uint8_t *ti = nm_tile_indices(a, tile);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        int64_t group_k = 0, t = 0;
        int s = 0;
        for (; t + 2 <= slots; t += 2) {
            acc0 = nm2_gemv_slot(BITS, WIDE, xc, tv, ti, t, group_k, acc0);
            if (++s == n) { s = 0; group_k += m; }
            acc1 = nm2_gemv_slot(BITS, WIDE, xc, tv, ti, t + 1, group_k, acc1);
            if (++s == n) { s = 0; group_k += m; }
        }
        if (t < slots) acc0 = nm2_gemv_slot(BITS, WIDE, xc, tv, ti, t, group_k, acc0);
        nm2_store_tile(a, tile, _mm256_add_ps(acc0, acc1), y, ldy, ep);
    }
}

#define NM2_DEFINE_GEMV(BITS, WIDE)                                                         \
    static void nm2_gemv_tiles_##BITS##_##WIDE(const sk_nm *a, const float *xc, float *y,   \
                                               int64_t ldy, const sk_epilogue *ep,          \
                                               int64_t b, int64_t e) {                      \
        nm2_gemv_tiles(BITS, WIDE, a, xc, y, ldy, ep, b, e);                                \
    }
NM2_DEFINE_GEMV(1, 0) NM2_DEFINE_GEMV(2, 0) NM2_DEFINE_GEMV(4, 0) NM2_DEFINE_GEMV(4, 1)

#define NM2_GEMV_PAD 16 /* windows read up to 16 floats past a group start */
size_t sk_nm_gemv_shared_avx2(const sk_call *c, const sk_part *part) {
    (void)part;
    return (size_t)(c->k + NM2_GEMV_PAD) * sizeof(float);
}
void sk_nm_gemv_prepare_avx2(const sk_call *c, int64_t k_begin, int64_t k_end) {
    nm_fill_x_padded(c->shared, c->x, c->ldx, c->k, NM2_GEMV_PAD, k_begin, k_end);
}
void sk_nm_run_gemv_avx2(const sk_call *c, const sk_part *part) {
    const sk_nm *a = c->weights;
    const float *xc = c->shared;
    const int64_t b = part->row_begin, e = part->row_end;
    if (a->index_bits == 1) nm2_gemv_tiles_1_0(a, xc, c->y, c->ldy, c->ep, b, e);
    else if (a->index_bits == 2) nm2_gemv_tiles_2_0(a, xc, c->y, c->ldy, c->ep, b, e);
    else if (a->m <= 8) nm2_gemv_tiles_4_0(a, xc, c->y, c->ldy, c->ep, b, e);
    else nm2_gemv_tiles_4_1(a, xc, c->y, c->ldy, c->ep, b, e);
}

SK_END_ISA
