/* Detects which sparse formats a weight matrix's zeros allow (see runtime_ops.h). One
 * pass builds a byte map of nonzeros; block counts come from OR-reducing it, first
 * along K (widths 1..32), then along the rows, so all 36 block shapes cost about as
 * much as a few passes over the matrix. */
#include "ops_internal.h"

static const int64_t edges[SK_OP_BLOCK_EDGE_COUNT] = {1, 2, 4, 8, 16, 32};

int64_t sk_op_block_edge(int index) { return edges[index]; }

int sk_op_detect_structure(int64_t rows, int64_t k, const float *w, int64_t ldw, sk_op_structure *out) {
    memset(out, 0, sizeof *out);
    uint8_t *map = malloc((size_t)(rows * k));      /* nonzero map, then OR-reduced along K */
    uint8_t *reduced = malloc((size_t)(rows * k));   /* the map for the current block width */
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

    for (int m = 0; m <= 16; m++) out->nm_max[m] = -1;
    for (int m = 2; m <= 16; m++) {
        if (k % m != 0) continue;
        int64_t most = 0;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t g = 0; g < k; g += m) {
                int64_t count = 0;
                for (int i = 0; i < m; i++) count += map[r * k + g + i];
                if (count > most) most = count;
            }
        out->nm_max[m] = most;
    }

    /* reduced holds, for width edges[j], one byte per (row, column block). */
    memcpy(reduced, map, (size_t)(rows * k));
    int64_t width_blocks = k;
    for (int j = 0; j < SK_OP_BLOCK_EDGE_COUNT; j++) {
        int64_t c = edges[j];
        if (j > 0) { /* halve the width: OR pairs of the previous level */
            if (width_blocks % 2 != 0) {
                for (int jj = j; jj < SK_OP_BLOCK_EDGE_COUNT; jj++)
                    for (int i = 0; i < SK_OP_BLOCK_EDGE_COUNT; i++) out->blocks[i][jj] = -1;
                break;
            }
            int64_t half = width_blocks / 2;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t b = 0; b < half; b++)
                    reduced[r * half + b] = reduced[r * width_blocks + 2 * b] | reduced[r * width_blocks + 2 * b + 1];
            width_blocks = half;
        }
        (void)c;
        for (int i = 0; i < SK_OP_BLOCK_EDGE_COUNT; i++) {
            int64_t r_edge = edges[i];
            if (rows % r_edge != 0) {
                out->blocks[i][j] = -1;
                continue;
            }
            int64_t count = 0;
            for (int64_t r0 = 0; r0 < rows; r0 += r_edge)
                for (int64_t b = 0; b < width_blocks; b++) {
                    uint8_t any = 0;
                    for (int64_t r = r0; r < r0 + r_edge; r++) any |= reduced[r * width_blocks + b];
                    count += any;
                }
            out->blocks[i][j] = count;
        }
    }
    free(map);
    free(reduced);
    return 0;
}
