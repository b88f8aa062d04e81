/* Detects which sparse formats a weight matrix's zeros allow (see runtime_ops.h). One
 * pass builds a byte map of nonzeros (a dense matrix stops there); block counts come from
 * OR-reducing it, along K (widths 1, 2, 4 .. 32: each level ORs pairs of the previous
 * one, a lone last block kept) and, for each width, along the rows the same way, so all
 * 36 block shapes cost at most about four passes over the map (far less on unstructured
 * masks: see the pruning below).
 * Shapes need not divide: the last group along K and the edge blocks are short. */
#include "ops_internal.h"

static const int64_t edges[SK_OP_BLOCK_EDGE_COUNT] = {1, 2, 4, 8, 16, 32};

int64_t sk_op_block_edge(int index) { return edges[index]; }

/* The most nonzeros in any group of m consecutive map bytes along each row (the last
 * group of a row is short when m does not divide k). The map's bytes are 0 or 1, so a
 * group of 2, 4, 8 or 16 is counted by one or two popcounts; the scan stops early once a
 * group is full (nothing can exceed it). */
static int64_t most_in_groups(const uint8_t *map, int64_t rows, int64_t k, int m) {
    const int64_t full = sk_op_min(m, k);
    int64_t most = 0;
    for (int64_t r = 0; r < rows && most < full; r++) {
        const uint8_t *row = map + r * k;
        int64_t g = 0;
        if (m == 2 || m == 4 || m == 8 || m == 16) {
            for (; g + m <= k; g += m) {
                uint64_t lo = 0, hi = 0;
                memcpy(&lo, row + g, (size_t)(m < 8 ? m : 8));
                if (m == 16) memcpy(&hi, row + g + 8, 8);
                const int64_t count = __builtin_popcountll(lo) + __builtin_popcountll(hi);
                if (count > most) most = count;
            }
        }
        for (; g < k; g += m) {
            int64_t count = 0, end = sk_op_min(k, g + m);
            for (int64_t i = g; i < end; i++) count += row[i];
            if (count > most) most = count;
        }
    }
    return most;
}

int sk_op_detect_structure(int64_t rows, int64_t k, const float *w, int64_t ldw, uint32_t nm_groups,
                           sk_op_structure *out) {
    memset(out, 0, sizeof *out);
    uint8_t *map = malloc((size_t)(rows * k));      /* nonzero map */
    uint8_t *reduced = malloc((size_t)(rows * k));  /* the map OR-reduced along K to the current width */
    if (!map || !reduced) {
        free(map);
        free(reduced);
        return -1;
    }
    int64_t nonzeros = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < k; c++) {
            uint8_t nz = w[r * ldw + c] != 0.0f;
            map[r * k + c] = nz;
            nonzeros += nz;
        }
    out->nonzeros = nonzeros;
    if (nonzeros == rows * k) { /* dense: every group and block is full, nothing to scan */
        for (int m = 2; m <= 16; m++) out->nm_max[m] = m < k ? m : k;
        for (int i = 0; i < SK_OP_BLOCK_EDGE_COUNT; i++)
            for (int j = 0; j < SK_OP_BLOCK_EDGE_COUNT; j++) {
                int64_t r = edges[i], c = edges[j];
                out->blocks[i][j] = ((rows + r - 1) / r) * ((k + c - 1) / c);
                out->block_area[i][j] = rows * k;
            }
        free(map);
        free(reduced);
        return 0;
    }

    for (int m = 2; m <= 16; m++)
        out->nm_max[m] = (nm_groups & (1u << m)) ? most_in_groups(map, rows, k, m) : -1;

    /* Blocks. Exactness is monotone: a full block of 2r rows (or 2c columns) is two full
     * blocks of r rows (c columns), so a shape can be exact only if the shapes with half
     * its rows and half its columns are. Once one is not, the larger ones are skipped
     * (-1), and a shape's scan stops as soon as its area exceeds the nonzeros. On an
     * unstructured mask this leaves little beyond the 1x1 and the first halvings. */
    int exact_above[SK_OP_BLOCK_EDGE_COUNT]; /* row level i exact at the previous width */
    for (int i = 0; i < SK_OP_BLOCK_EDGE_COUNT; i++) exact_above[i] = 1;
    for (int i = 0; i < SK_OP_BLOCK_EDGE_COUNT; i++)
        for (int j = 0; j < SK_OP_BLOCK_EDGE_COUNT; j++) out->blocks[i][j] = out->block_area[i][j] = -1;
    memcpy(reduced, map, (size_t)(rows * k));
    int64_t width_blocks = k;  /* blocks per row at the current width */
    for (int j = 0; j < SK_OP_BLOCK_EDGE_COUNT && exact_above[0]; j++) {
        const int64_t c = edges[j];
        if (j > 0) { /* halve: block b of this level ORs blocks 2b and 2b+1 of the previous one */
            int64_t half = (width_blocks + 1) / 2;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t b = 0; b < half; b++) {
                    uint8_t v = reduced[r * width_blocks + 2 * b];
                    if (2 * b + 1 < width_blocks) v |= reduced[r * width_blocks + 2 * b + 1];
                    reduced[r * half + b] = v;  /* never overwrites an unread entry */
                }
            width_blocks = half;
        }
        /* Rows OR-halved the same way, in a copy: level i has ceil(rows / 2^i) block rows. */
        memcpy(map, reduced, (size_t)(rows * width_blocks));
        int64_t block_rows = rows;
        int exact_left = 1; /* row level i - 1 exact at this width */
        for (int i = 0; i < SK_OP_BLOCK_EDGE_COUNT; i++) {
            const int64_t re = edges[i];
            if (!exact_left || !exact_above[i]) {
                exact_above[i] = 0;
                exact_left = 0;
                continue;
            }
            if (i > 0) {
                int64_t half = (block_rows + 1) / 2;
                for (int64_t r = 0; r < half; r++)
                    for (int64_t b = 0; b < width_blocks; b++) {
                        uint8_t v = map[2 * r * width_blocks + b];
                        if (2 * r + 1 < block_rows) v |= map[(2 * r + 1) * width_blocks + b];
                        map[r * width_blocks + b] = v;
                    }
                block_rows = half;
            }
            int64_t count = 0, area = 0;
            for (int64_t r = 0; r < block_rows && area <= nonzeros; r++) {
                const int64_t height = sk_op_min(re, rows - r * re);
                for (int64_t b = 0; b < width_blocks; b++)
                    if (map[r * width_blocks + b]) {
                        count++;
                        area += height * sk_op_min(c, k - b * c);
                    }
            }
            const int exact = area == nonzeros;
            if (exact || area <= nonzeros) { /* a complete scan (an early stop leaves -1) */
                out->blocks[i][j] = count;
                out->block_area[i][j] = area;
            }
            exact_above[i] = exact;
            exact_left = exact;
        }
    }
    free(map);
    free(reduced);
    return 0;
}
