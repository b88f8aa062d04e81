/* N:M structured sparse weights: storage layout shared by create/to_dense and the
 * per-ISA kernels. Not part of the public API.
 *
 * Layout. Rows are grouped in tiles of NM_TILE_ROWS = 8 (the last tile is padded with
 * all-zero rows). Each row is cut into k/m groups of m weights along K; every group keeps
 * exactly n "slots" (its nonzeros in ascending position, padded with the group's zero
 * entries when it has fewer than n nonzeros), so a row holds slots = (k/m)·n slots.
 * Inside a tile the data is slot-major:
 *   values  [tile][slot][row 0..7]            fp32, 32 bytes per slot
 *   indices [tile][slot] one word of 8 fields, the field of row r at bits
 *           [r·bits, r·bits+bits), bits = 1 (m <= 2), 2 (m <= 4) or 4 (m <= 16),
 *           so the word is 1, 2 or 4 bytes; the field is the position inside the group.
 * Why slot-major: a GEMM microkernel over the 8 rows of a tile reads one contiguous
 * run of 8 values and one small index word per slot, and a GEMV kernel reads 16
 * values (2 slots × 8 rows) per zmm with their 16 index fields in one 16/32/64-bit
 * word. Both stream a single sequential array. */
#ifndef NM_INTERNAL_H
#define NM_INTERNAL_H

#include <string.h>
#include "../common/sk_internal.h"

#define NM_TILE_ROWS 8

struct sk_nm {
    int64_t rows, k;
    int n, m;
    int index_bits;       /* 1, 2 or 4: width of one in-group position */
    int64_t groups;       /* k / m per row */
    int64_t slots;        /* groups · n per row */
    int64_t tiles;        /* ceil(rows / 8) */
    float *values;        /* tiles · slots · 8 */
    uint8_t *indices;     /* tiles · slots · index_bits bytes (+ padding for wide loads) */
};

/* Bytes read past the end of `indices`/`values` by vector kernels that load two slots
 * at once; allocated (and zeroed) so those reads stay inside the allocation. */
#define NM_TAIL_PAD_BYTES 128

static inline const float *nm_tile_values(const sk_nm *a, int64_t tile) {
    return a->values + tile * a->slots * NM_TILE_ROWS;
}
static inline const uint8_t *nm_tile_indices(const sk_nm *a, int64_t tile) {
    return a->indices + tile * a->slots * a->index_bits;
}
/* The index word (8 fields) of slot t of a tile. */
static inline uint32_t nm_index_word(const uint8_t *tile_indices, int bits, int64_t t) {
    const uint8_t *p = tile_indices + t * bits;
    if (bits == 1) return p[0];
    if (bits == 2) { uint16_t w; memcpy(&w, p, 2); return w; }
    uint32_t w; memcpy(&w, p, 4); return w;
}

/* Writes Y (or, when n_cols == 1, the single column) for the whole matrix. */
typedef void nm_kernel_fn(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                          float *y, int64_t ldy, const sk_epilogue *ep, int threads);

nm_kernel_fn sk_f32_spmm_nm__scalar, sk_f32_gemv_nm__scalar;
nm_kernel_fn sk_f32_spmm_nm__avx2, sk_f32_gemv_nm__avx2;
nm_kernel_fn sk_f32_spmm_nm__avx512, sk_f32_gemv_nm__avx512;

/* Copies column 0 of x (stride ldx) into a fresh 64-byte aligned buffer followed by
 * `pad` zeros, so GEMV kernels can load whole vectors past the last group. */
static inline float *nm_copy_x_padded(const float *x, int64_t ldx, int64_t k, int64_t pad) {
    float *xc = (float *)sk_alloc((size_t)(k + pad) * sizeof(float));
    if (!xc) return NULL;
    for (int64_t i = 0; i < k; i++) xc[i] = x[i * ldx];
    memset(xc + k, 0, (size_t)pad * sizeof(float));
    return xc;
}

#endif
