/* Data movement of the runtime: im2col, pooling, embeddings and layout changes. These
 * are bound by memory traffic, not arithmetic, so they are portable C (memcpy for the
 * contiguous runs, plain loops the compiler vectorizes) with no per-ISA variants. */
#include <float.h>
#include "ops_internal.h"

/* Below this many floats moved, one thread is faster than waking the team. */
#define SERIAL_FLOATS (1 << 15)

static int team(int64_t floats, int64_t units, int threads) {
    if (threads < 1 || floats < SERIAL_FLOATS) return 1;
    return units < threads ? (int)(units > 0 ? units : 1) : threads;
}

/* One im2col row (channel c, tap ky, kx) over columns [c0, c1). Columns of one output
 * row (sample b, oy) form a run; a run reads one input row or is all padding. */
static void im2col_row(const sk_op_conv_geometry *g, const float *plane_row0, int64_t plane_stride,
                       int64_t ky, int64_t kx, int64_t c0, int64_t c1, float *out) {
    const int64_t out_plane = g->out_h * g->out_w, s = g->stride, p = g->padding;
    /* Output columns ox whose input column ox*s - p + kx lies inside [0, width). */
    int64_t first = p > kx ? (p - kx + s - 1) / s : 0;
    int64_t last = (g->width - 1 + p - kx) >= 0 ? (g->width - 1 + p - kx) / s : -1;
    if (last > g->out_w - 1) last = g->out_w - 1;
    for (int64_t n = c0; n < c1;) {
        int64_t b = n / out_plane, q = n % out_plane, oy = q / g->out_w, ox0 = q % g->out_w;
        int64_t run_end = sk_op_min(c1 - n, g->out_w - ox0); /* columns in this run */
        float *dst = out + (n - c0);
        int64_t iy = oy * s - p + ky;
        if (iy < 0 || iy >= g->height || first > last) {
            memset(dst, 0, (size_t)run_end * sizeof(float));
        } else {
            const float *src = plane_row0 + b * plane_stride + iy * g->width;
            for (int64_t i = 0; i < run_end; i++) {
                int64_t ox = ox0 + i;
                if (ox < first || ox > last) {
                    dst[i] = 0.0f;
                } else if (s == 1) { /* the rest of the valid span is one memcpy */
                    int64_t span = sk_op_min(last - ox + 1, run_end - i);
                    memcpy(dst + i, src + ox - p + kx, (size_t)span * sizeof(float));
                    i += span - 1;
                } else {
                    dst[i] = src[ox * s - p + kx];
                }
            }
        }
        n += run_end;
    }
}

void sk_op_im2col_rows(const sk_op_conv_geometry *g, const float *x, int64_t ldx, int64_t r0, int64_t r1,
                       int64_t col_begin, int64_t col_end, float *out, int64_t ldo) {
    const int64_t taps = g->kernel_h * g->kernel_w, plane = g->height * g->width;
    for (int64_t r = r0; r < r1; r++) {
        int64_t c = r / taps, t = r % taps;
        im2col_row(g, x + c * ldx, plane, t / g->kernel_w, t % g->kernel_w, col_begin, col_end, out + r * ldo);
    }
}

void sk_op_im2col(const sk_op_conv_geometry *g, int64_t batch, const float *x, int64_t ldx,
                  int64_t col_begin, int64_t col_end, float *out, int64_t ldo, sk_isa isa, int threads) {
    const int64_t rows = g->channels * g->kernel_h * g->kernel_w;
    const sk_op_im2col_block_fn block = sk_op_im2col_block_for(isa);
    (void)batch;
    /* Threads take column ranges (whole runs where possible), each writing every row. */
    const int64_t width = col_end - col_begin;
#pragma omp parallel num_threads(team(rows * width, (width + 15) / 16, threads))
    {
        int64_t c0, c1;
        sk_partition(width, 16, omp_get_num_threads(), omp_get_thread_num(), &c0, &c1);
        if (c0 < c1) block(g, x, ldx, col_begin + c0, col_begin + c1, out + c0, ldo);
    }
}

void sk_op_pool(int is_max, const sk_op_conv_geometry *g, int64_t batch, const float *x,
                float *y, int threads) {
    const int64_t planes = g->channels * batch, in_plane = g->height * g->width;
    const int64_t out_plane = g->out_h * g->out_w, k = g->kernel_h;
    const float count = (float)(k * k);
#pragma omp parallel for num_threads(team(planes * in_plane, planes, threads)) schedule(static)
    for (int64_t index = 0; index < planes; index++) {
        const float *xp = x + index * in_plane;
        float *yp = y + index * out_plane;
        for (int64_t oy = 0; oy < g->out_h; oy++)
            for (int64_t ox = 0; ox < g->out_w; ox++) {
                float best = -INFINITY, sum = 0.0f;
                for (int64_t ky = 0; ky < k; ky++) {
                    int64_t iy = oy * g->stride - g->padding + ky;
                    if (iy < 0 || iy >= g->height) continue;
                    for (int64_t kx = 0; kx < k; kx++) {
                        int64_t ix = ox * g->stride - g->padding + kx;
                        if (ix < 0 || ix >= g->width) continue;
                        float v = xp[iy * g->width + ix];
                        best = v > best ? v : best;
                        sum += v;
                    }
                }
                yp[oy * g->out_w + ox] = is_max ? best : sum / count;
            }
    }
}

void sk_op_global_avgpool(int64_t channels, int64_t batch, int64_t positions, const float *x,
                          float *y, int threads) {
    const int64_t rows = channels * batch;
#pragma omp parallel for num_threads(team(rows * positions, rows, threads)) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        double sum = 0.0;
        for (int64_t p = 0; p < positions; p++) sum += x[r * positions + p];
        y[r] = (float)(sum / (double)positions);
    }
}

/* Token blocks of 64: their table rows stay in L1 while every feature is written. */
#define TOKEN_BLOCK 64

void sk_op_embedding(int64_t dim, int64_t count, const float *ids, const float *table,
                     float *y, int threads) {
    const int64_t blocks = (count + TOKEN_BLOCK - 1) / TOKEN_BLOCK;
#pragma omp parallel for num_threads(team(dim * count, blocks, threads)) schedule(static)
    for (int64_t block = 0; block < blocks; block++) {
        int64_t n0 = block * TOKEN_BLOCK, n1 = sk_op_min(count, n0 + TOKEN_BLOCK);
        const float *rows[TOKEN_BLOCK];
        for (int64_t n = n0; n < n1; n++) rows[n - n0] = table + (int64_t)ids[n] * dim;
        for (int64_t d = 0; d < dim; d++)
            for (int64_t n = n0; n < n1; n++) y[d * count + n] = rows[n - n0][d];
    }
}

void sk_op_add_positions(int64_t dim, int64_t tokens, int64_t batch, const float *x,
                         const float *table, float *y, int threads) {
    const int64_t count = tokens * batch;
    const int64_t blocks = (tokens + TOKEN_BLOCK - 1) / TOKEN_BLOCK;
#pragma omp parallel for num_threads(team(dim * count, blocks, threads)) schedule(static)
    for (int64_t block = 0; block < blocks; block++) {
        int64_t t0 = block * TOKEN_BLOCK, t1 = sk_op_min(tokens, t0 + TOKEN_BLOCK);
        for (int64_t d = 0; d < dim; d++)
            for (int64_t b = 0; b < batch; b++)
                for (int64_t t = t0; t < t1; t++) {
                    int64_t at = d * count + b * tokens + t;
                    y[at] = x[at] + table[t * dim + d];
                }
    }
}

#define TRANSPOSE_TILE 64

void sk_op_transpose_block__scalar(const float *x, float *y, int64_t a, int64_t b, int64_t i0, int64_t i1,
                                   int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; j++)
        for (int64_t i = i0; i < i1; i++) y[j * a + i] = x[i * b + j];
}

void sk_op_swap_axes(int64_t a, int64_t b, int64_t inner, const float *x, float *y, sk_isa isa, int threads) {
    if (inner > 1) {
#pragma omp parallel for num_threads(team(a * b * inner, b, threads)) schedule(static)
        for (int64_t j = 0; j < b; j++)
            for (int64_t i = 0; i < a; i++)
                memcpy(y + (j * a + i) * inner, x + (i * b + j) * inner, (size_t)inner * sizeof(float));
        return;
    }
    /* A plain a x b -> b x a transpose in square tiles (both sides touch whole lines),
     * the larger side split between threads. */
    void (*block)(const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) =
        isa >= SK_ISA_AVX2 ? sk_op_transpose_block__avx2 : sk_op_transpose_block__scalar;
    const int64_t tiles_i = (a + TRANSPOSE_TILE - 1) / TRANSPOSE_TILE, tiles_j = (b + TRANSPOSE_TILE - 1) / TRANSPOSE_TILE;
#pragma omp parallel for num_threads(team(a * b, tiles_i * tiles_j, threads)) schedule(static)
    for (int64_t tile = 0; tile < tiles_i * tiles_j; tile++) {
        int64_t ti = tile / tiles_j, tj = tile % tiles_j;
        int64_t i0 = ti * TRANSPOSE_TILE, j0 = tj * TRANSPOSE_TILE;
        block(x, y, a, b, i0, sk_op_min(a, i0 + TRANSPOSE_TILE), j0, sk_op_min(b, j0 + TRANSPOSE_TILE));
    }
}
