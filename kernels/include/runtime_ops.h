/*
 * runtime_ops.h: the operators of the inference runtime (Swift module SparseRuntime),
 * everything a network needs besides its weight products (those are sparse_kernels.h).
 *
 * Activation layout ("channel-major"): every value of a network is a row-major matrix
 * of `rows` features by `batch * positions` columns, column = sample * positions + p.
 *   image [C, H, W]   -> C rows,  batch*H*W columns (p = y*W + x)
 *   tokens [T, D]     -> D rows,  batch*T columns
 *   vector [D]        -> D rows,  batch columns
 * It is the layout of X and Y in the kernels' Y(M x N) = W(M x K) . X(K x N): a 1x1
 * convolution or a linear layer reads its input as X with no copy at all, and per-row
 * bias / BatchNorm / residual terms are the kernels' own epilogue.
 *
 * Conventions as in sparse_kernels.h: C assumes valid input (the Swift layer validates),
 * every operator takes its OpenMP thread count, the ones with vector variants take the
 * ISA, and the scalar variant is the reference the tests compare the others against.
 * Inputs and outputs never overlap unless an operator says it may run in place.
 */
#ifndef RUNTIME_OPS_H
#define RUNTIME_OPS_H

#include <stddef.h>
#include <stdint.h>
#include "sparse_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element-wise activations the operators fuse into their stores. GELU is the tanh
 * approximation of GPT-2/3, computed as x * sigmoid(2z), z = sqrt(2/pi)(x + 0.044715 x^3),
 * which is the same function without 1 + tanh's cancellation for negative x. */
typedef enum sk_op_act {
    SK_OP_ACT_NONE = 0,
    SK_OP_ACT_RELU = 1,
    SK_OP_ACT_RELU6 = 2,
    SK_OP_ACT_GELU = 3
} sk_op_act;

/* ---- Element-wise (vector variants) ------------------------------------------------ */

/* y = act(x) over rows x cols (row strides ldx, ldy). May run in place (x == y, same ld). */
void sk_op_activation(sk_op_act act, int64_t rows, int64_t cols, const float *x, int64_t ldx,
                      float *y, int64_t ldy, sk_isa isa, int threads);

/* y = act(x[0] + ... + x[inputs-1]), each a contiguous array of `count` floats.
 * y may be one of the inputs. */
void sk_op_add(int inputs, const float *const *x, int64_t count, float *y, sk_op_act act,
               sk_isa isa, int threads);

/* y[r, c] = act(x[r, c] * scale[r] + shift[r]) (BatchNorm that could not be folded, or a
 * bias and activation on their own). scale or shift may be NULL. May run in place. */
void sk_op_channel_affine(int64_t rows, int64_t cols, const float *x, int64_t ldx,
                          const float *scale, const float *shift, sk_op_act act,
                          float *y, int64_t ldy, sk_isa isa, int threads);

/* LayerNorm of every column over its `features` rows:
 * y[f, c] = (x[f, c] - mean_c) / sqrt(var_c + eps) * gamma[f] + beta[f], with the
 * biased variance (as PyTorch). Two passes per column block (mean, then variance of the
 * deviations), so no catastrophic cancellation. */
void sk_op_layernorm(int64_t features, int64_t cols, const float *x, int64_t ldx,
                     const float *gamma, const float *beta, float eps, float *y, int64_t ldy,
                     sk_isa isa, int threads);

/* ---- Convolution helpers ------------------------------------------------------------- */

typedef struct sk_op_conv_geometry {
    int64_t channels;            /* input channels read (one group's, for im2col) */
    int64_t height, width;       /* input plane */
    int64_t kernel_h, kernel_w;
    int64_t stride, padding;
    int64_t out_h, out_w;        /* output plane */
} sk_op_conv_geometry;

/* im2col for the channel-major layout: the K x N matrix X of a convolution, K rows
 * (channel, ky, kx) in the weight's order, N = batch*out_h*out_w columns, restricted
 * to columns [col_begin, col_end) and written to out (row stride ldo). x points at the
 * first channel to read (channels rows of batch*height*width floats, row stride ldx).
 * Pure data movement, but it matters: a row-by-row copy cost 0.6-4.7 ns per float on
 * Zen 4 (short memcpys), half the time of the product it feeds in ResNet-18 CIFAR's
 * layer1 and layer4; the vector variants copy each run with masked loads and stores. */
void sk_op_im2col(const sk_op_conv_geometry *g, int64_t batch, const float *x, int64_t ldx,
                  int64_t col_begin, int64_t col_end, float *out, int64_t ldo, sk_isa isa, int threads);

/* A convolution as im2col + weight product, for each group g:
 *   Y[g] = activation(W[g] · im2col(X[g]) + bias[g] + residual[g])
 * run with the columns (output positions x batch) split between threads: each thread
 * builds the im2col block of `chunk` of its columns in its own scratch and multiplies it
 * at once with registry kernel `kernel` on one thread (sk_kernel_run), so the block is
 * written and read by the same core while it is in that core's cache, and threads never
 * wait for each other. */
typedef struct sk_op_conv_gemm {
    sk_op_conv_geometry geometry;  /* one group: channels = C_in / groups */
    int64_t batch;
    const float *x;                /* input, channel-major, row stride ldx */
    int64_t ldx;
    int64_t groups, rows_per_group, reduction;
    const void *const *weights;    /* one prepared matrix per group (all of `kernel`'s family) */
    int kernel;                    /* registry index */
    sk_params params;              /* the kernel's blocking (zeros: its defaults) */
    const float *bias;             /* groups * rows_per_group, or NULL */
    const float *residual;         /* like y, or NULL */
    sk_activation activation;
    float *y;                      /* groups * rows_per_group rows of `columns`, row stride `columns` */
    int64_t columns;
    int64_t chunk;                 /* columns per im2col block */
    float *scratch;                /* threads * reduction * chunk floats */
} sk_op_conv_gemm;
/* Returns 0, or -1 when a kernel refused a call (the runtime validated every call shape
 * when it chose the kernel, so this does not happen). */
int sk_op_conv_gemm_run(const sk_op_conv_gemm *c, sk_isa isa, int threads);

/* Depthwise convolution (groups == channels == output channels) with its epilogue:
 * y[c] = act(conv(x[c], w[c]) + bias[c]); w is channels x (kernel_h*kernel_w), bias may be
 * NULL. x and y are channel-major (row strides batch*H*W and batch*out_h*out_w).
 * scratch holds threads * sk_op_depthwise_scratch_floats(g) floats, or is NULL (the
 * operator then allocates its own). */
void sk_op_depthwise_conv(const sk_op_conv_geometry *g, int64_t batch, const float *x,
                          const float *w, const float *bias, sk_op_act act, float *y,
                          float *scratch, sk_isa isa, int threads);

/* Scratch floats one thread of sk_op_depthwise_conv needs (a multiple of 16). */
int64_t sk_op_depthwise_scratch_floats(const sk_op_conv_geometry *g);

/* ---- Pooling (portable C: a few comparisons or adds per element) ------------------ */

/* Max or average pooling (square window, PyTorch semantics: -inf padding for max, zero
 * padding counted for average) of channel-major planes; uses kernel_h, stride, padding. */
void sk_op_pool(int is_max, const sk_op_conv_geometry *g, int64_t batch, const float *x,
                float *y, int threads);

/* y[c, b] = mean over the `positions` columns of sample b in row c. */
void sk_op_global_avgpool(int64_t channels, int64_t batch, int64_t positions, const float *x,
                          float *y, int threads);

/* ---- Transformer operators ------------------------------------------------------------ */

/* Fused causal (or full) multi-head attention of one layer, per sample and head:
 * scores = q_h^T k_h * scale, softmax over keys, context = v_h . probabilities^T.
 * q, k, v and out are channel-major `width` x (batch*tokens) (row stride ld), head h is
 * rows [h*width/heads, (h+1)*width/heads). Scores are kept transposed (key-major), so the
 * softmax and both products run along contiguous memory; masked entries are never
 * computed. scratch holds sk_op_attention_scratch_floats(tokens, threads) floats. */
void sk_op_attention(int64_t width, int64_t heads, int64_t tokens, int64_t batch, int causal,
                     float scale, const float *q, const float *k, const float *v, int64_t ld,
                     float *out, float *scratch, sk_isa isa, int threads);
int64_t sk_op_attention_scratch_floats(int64_t tokens, int threads);

/* y[d, n] = table[ids[n] * dim + d] for n < count (ids already validated as integers in
 * range; they arrive as floats, the input format of the toolkit). */
void sk_op_embedding(int64_t dim, int64_t count, const float *ids, const float *table,
                     float *y, int threads);

/* y[d, b*tokens + t] = x[d, b*tokens + t] + table[t * dim + d]. May run in place. */
void sk_op_add_positions(int64_t dim, int64_t tokens, int64_t batch, const float *x,
                         const float *table, float *y, int threads);

/* ---- Weight structure ------------------------------------------------------------------ */

/* What the zeros of a rows x k weight matrix allow, so the runtime offers each layer only
 * the kernels its actual mask can run. Any shape: the last group along K and the edge
 * blocks may be short (the kernels store them padded).
 *   nonzeros;
 *   nm_max[m] for the m in 2..16 whose bit is set in nm_groups: the most nonzeros in any
 *     group of m consecutive weights along K (the last group holds k % m when m does not
 *     divide k): the matrix is nm_max[m]:m (-1 for the m not asked for);
 *   blocks[i][j]: nonzero blocks of SK_OP_BLOCK_EDGES[i] rows x SK_OP_BLOCK_EDGES[j]
 *     columns, and block_area[i][j] the in-bounds entries they cover: the block shape is
 *     exact for the mask when block_area == nonzeros (every stored block is full). Both
 *     are -1 for a shape known not to be exact without counting it all (a shape it
 *     contains is not exact, or its area passed the nonzeros). */
#define SK_OP_BLOCK_EDGE_COUNT 6
typedef struct sk_op_structure {
    int64_t nonzeros;
    int64_t nm_max[17];
    int64_t blocks[SK_OP_BLOCK_EDGE_COUNT][SK_OP_BLOCK_EDGE_COUNT];
    int64_t block_area[SK_OP_BLOCK_EDGE_COUNT][SK_OP_BLOCK_EDGE_COUNT];
} sk_op_structure;
/* The block edges counted (those the BSR kernels support): 1, 2, 4, 8, 16, 32. */
int64_t sk_op_block_edge(int index);
/* Returns 0, or -1 when the scratch (2 x rows x k bytes) cannot be allocated. */
int sk_op_detect_structure(int64_t rows, int64_t k, const float *w, int64_t ldw, uint32_t nm_groups,
                           sk_op_structure *out);

/* ---- Layout changes -------------------------------------------------------------------- */

/* y[j][i][p] = x[i][j][p] for i < a, j < b, p < inner: swaps the two outer axes of an
 * a x b x inner array ([batch, C, H*W] <-> [C, batch, H*W]; with inner = 1 a plain
 * transpose, in 8x8 register blocks on AVX2/AVX-512: GPT's logits, [vocabulary, B·T] ->
 * [B·T, vocabulary], are hundreds of MB). */
void sk_op_swap_axes(int64_t a, int64_t b, int64_t inner, const float *x, float *y, sk_isa isa, int threads);

#ifdef __cplusplus
}
#endif
#endif
