/* N:M structured sparse weights: storage layout shared by create/to_dense and the
 * per-ISA kernels. Not part of the public API.
 *
 * Layout. Rows are grouped in tiles of NM_TILE_ROWS = 8 (the last tile is padded with
 * all-zero rows). Each row is cut into ceil(k/m) groups of m weights along K, the last
 * one shorter when m does not divide k. Every group keeps exactly n "slots": its
 * nonzeros in ascending position, padded with the group's zero entries when it has
 * fewer than n nonzeros, and, in a last group shorter than n, with value 0 at position 0.
 * A position is therefore always inside the group and inside K: no kernel reads an X
 * row >= k. A row holds slots = groups·n slots.
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
#include "../registry/sk_kernel.h"

#define NM_TILE_ROWS 8

struct sk_nm {
    sk_format format;     /* SK_FORMAT_NM */
    int64_t rows, k;
    int n, m;
    int index_bits;       /* 1, 2 or 4: width of one in-group position */
    int64_t groups;       /* ceil(k / m) per row */
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

/* K blocks of the GEMMs: whole groups, at most `kc` K values each (at least one group),
 * and of equal size, so no short last block adds a pass over Y for little work. */
static inline int64_t nm_kc_groups(const sk_nm *a, int64_t kc) {
    int64_t groups = kc / a->m;
    if (groups < 1) groups = 1;
    const int64_t kblocks = (a->groups + groups - 1) / groups;
    return kblocks ? (a->groups + kblocks - 1) / kblocks : 1;
}

/* Registry entries. Scalar (spmm_nm_scalar.c): */
sk_run_fn sk_nm_run_spmm_scalar, sk_nm_run_gemv_scalar;
/* AVX2 (spmm_nm_avx2.c): */
sk_run_fn sk_nm_run_spmm_avx2, sk_nm_run_gemv_avx2;
sk_bytes_fn sk_nm_spmm_shared_avx2, sk_nm_gemv_shared_avx2;
sk_prepare_fn sk_nm_spmm_prepare_avx2, sk_nm_gemv_prepare_avx2;
sk_defaults_fn sk_nm_spmm_defaults_avx2;
/* AVX-512 (spmm_nm_avx512.c): */
sk_run_fn sk_nm_run_gemv_avx512, sk_nm_run_few_cols_avx512;
sk_run_fn sk_nm_run_spmm_shared_avx512, sk_nm_run_spmm_private_avx512;
sk_bytes_fn sk_nm_gemv_shared_avx512, sk_nm_few_cols_shared_avx512;
sk_bytes_fn sk_nm_spmm_shared_bytes_avx512, sk_nm_spmm_private_scratch_avx512;
sk_prepare_fn sk_nm_gemv_prepare_avx512, sk_nm_few_cols_prepare_avx512, sk_nm_spmm_prepare_avx512;
sk_defaults_fn sk_nm_spmm_defaults_avx512;
sk_suits_fn sk_nm_private_suits_avx512;
/* the 4x96 register-tile variants (spmm_nm_avx512.c) */
sk_run_fn sk_nm_run_spmm_shared_avx512_4x96, sk_nm_run_spmm_private_avx512_4x96;
sk_bytes_fn sk_nm_spmm_private_scratch_avx512_4x96;
sk_prepare_fn sk_nm_spmm_prepare_avx512_4x96;
sk_defaults_fn sk_nm_spmm_defaults_avx512_4x96;
sk_suits_fn sk_nm_private_suits_avx512_4x96;

/* Fills rows [k_begin, k_end) of a contiguous copy of x's column 0 (stride ldx) that
 * ends with `pad` zeros after row k (written by whoever fills the last row), so GEMV
 * kernels can load whole vectors past the last group. */
static inline void nm_fill_x_padded(float *xc, const float *x, int64_t ldx, int64_t k, int64_t pad,
                                    int64_t k_begin, int64_t k_end) {
    for (int64_t i = k_begin; i < k_end; i++) xc[i] = x[i * ldx];
    if (k_end == k) memset(xc + k, 0, (size_t)pad * sizeof(float));
}

#endif
