/* Internal interface of the runtime operators: the per-ISA span functions the
 * dispatchers (elementwise.c, layernorm.c, depthwise.c, attention.c) call. */
#ifndef SK_OPS_INTERNAL_H
#define SK_OPS_INTERNAL_H

#include <math.h>
#include "../common/sk_internal.h"
#include "../include/runtime_ops.h"

/* Every activation, scalar: the kernels' epilogue definition (common/sk_activation.h:
 * their own exp and the GELU as v / (1 + e^(-2u))), so an activation gives the same bits
 * whether a kernel's store or a runtime operator applies it, on every ISA. sk_op_act and
 * sk_activation number the activations alike. */
static inline float sk_op_act_scalar(sk_op_act act, float v) { return sk_activate_scalar(v, (int)act); }

static inline int64_t sk_op_min(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t sk_op_max(int64_t a, int64_t b) { return a > b ? a : b; }

/* im2col rows [r0, r1) of one group over columns [col_begin, col_end), serially
 * (portable, row by row: the scalar reference). */
void sk_op_im2col_rows(const sk_op_conv_geometry *g, const float *x, int64_t ldx, int64_t r0, int64_t r1,
                       int64_t col_begin, int64_t col_end, float *out, int64_t ldo);
/* All rows of one group over columns [col_begin, col_end), serially, run by run: each
 * output row's run of columns is written for every channel and tap with masked vector
 * copies (the row-by-row scalar form spends most of its time starting short memcpys). */
typedef void (*sk_op_im2col_block_fn)(const sk_op_conv_geometry *g, const float *x, int64_t ldx,
                                      int64_t col_begin, int64_t col_end, float *out, int64_t ldo);
void sk_op_im2col_block__scalar(const sk_op_conv_geometry *g, const float *x, int64_t ldx,
                                int64_t col_begin, int64_t col_end, float *out, int64_t ldo);
void sk_op_im2col_block__avx2(const sk_op_conv_geometry *g, const float *x, int64_t ldx,
                              int64_t col_begin, int64_t col_end, float *out, int64_t ldo);
void sk_op_im2col_block__avx512(const sk_op_conv_geometry *g, const float *x, int64_t ldx,
                                int64_t col_begin, int64_t col_end, float *out, int64_t ldo);
static inline sk_op_im2col_block_fn sk_op_im2col_block_for(sk_isa isa) {
    return isa == SK_ISA_AVX512 ? sk_op_im2col_block__avx512
         : isa == SK_ISA_AVX2   ? sk_op_im2col_block__avx2
                                : sk_op_im2col_block__scalar;
}

/* The output runs of an im2col block: columns of one output row (sample b, row oy),
 * from ox0, `len` long, at column n. */
#define SK_OP_FOR_EACH_RUN(g, col_begin, col_end, b, oy, ox0, len, n, body)                 \
    do {                                                                                    \
        const int64_t out_plane_ = (g)->out_h * (g)->out_w;                                 \
        int64_t n = (col_begin), b = n / out_plane_, oy = (n % out_plane_) / (g)->out_w;     \
        int64_t ox0 = n % (g)->out_w;                                                        \
        while (n < (col_end)) {                                                              \
            const int64_t len = sk_op_min((col_end) - n, (g)->out_w - ox0);                   \
            body;                                                                            \
            n += len;                                                                        \
            ox0 = 0;                                                                         \
            if (++oy == (g)->out_h) { oy = 0; b++; }                                          \
        }                                                                                    \
    } while (0)

/* Transposes rows [i0, i1) x columns [j0, j1) of x (a x b, row stride b) into y (b x a,
 * row stride a). */
void sk_op_transpose_block__scalar(const float *x, float *y, int64_t a, int64_t b, int64_t i0, int64_t i1,
                                   int64_t j0, int64_t j1);
void sk_op_transpose_block__avx2(const float *x, float *y, int64_t a, int64_t b, int64_t i0, int64_t i1,
                                 int64_t j0, int64_t j1);

/* ---- Element-wise spans: n contiguous floats -------------------------------------- */
#define SK_OP_DECLARE_ELEMENTWISE(isa)                                                     \
    void sk_op_act_span__##isa(sk_op_act act, int64_t n, const float *x, float *y);        \
    void sk_op_add_span__##isa(int inputs, const float *const *x, int64_t offset,          \
                               int64_t n, float *y, sk_op_act act);                        \
    void sk_op_affine_span__##isa(int64_t n, const float *x, float scale, float shift,     \
                                  sk_op_act act, float *y);                                \
    void sk_op_layernorm_cols__##isa(int64_t features, int64_t c0, int64_t c1,             \
                                     const float *x, int64_t ldx, const float *gamma,      \
                                     const float *beta, float eps, float *y, int64_t ldy);
SK_OP_DECLARE_ELEMENTWISE(scalar)
SK_OP_DECLARE_ELEMENTWISE(avx2)
SK_OP_DECLARE_ELEMENTWISE(avx512)

/* ---- Depthwise convolution of one plane -------------------------------------------
 * The padded input plane is stored as `stride` column phases (phase f holds padded
 * columns f, f+stride, ...), each `rows` x `row_stride` floats with zero slack past the
 * end of every row, so output column ox of tap (ky, kx) is element ox + kx/stride of
 * row oy*stride + ky of phase kx%stride: contiguous for every stride. */
typedef struct sk_op_dw_plane {
    const float *phases;
    int64_t phase_floats;  /* floats per phase plane */
    int64_t row_stride;
    int64_t stride, kernel_h, kernel_w;
    int64_t out_h, out_w;
    const float *w;        /* kernel_h * kernel_w taps */
    float bias;
    sk_op_act act;
    float *y;              /* out_h x out_w, contiguous */
} sk_op_dw_plane;

/* Vector slack (floats) every phase row carries past its data. */
#define SK_OP_DW_SLACK 16

/* Copies one input row into stride-2 phase rows: padded column ix + pad goes to phase
 * (ix + pad) % 2, position (ix + pad) / 2. */
void sk_op_dw_split_row__avx512(const float *src, int64_t width, int64_t pad, float *phase0, float *phase1);

void sk_op_dw_plane__scalar(const sk_op_dw_plane *p);
void sk_op_dw_plane__avx2(const sk_op_dw_plane *p);
void sk_op_dw_plane__avx512(const sk_op_dw_plane *p);

/* ---- Attention of one (sample, head) ------------------------------------------------
 * q, k, v, out point at the head's first row and the sample's first column (row stride
 * ld). Queries are taken SK_OP_ATTENTION_QUERY_BLOCK at a time: st is tokens x block
 * scratch (scores, transposed: row = key, column = query of the block), colmax and colsum
 * one value per query of the block. Softmax runs over keys for each query, so a block of
 * queries is exact on its own (no rescaling), and its scores stay in L2 (1 MiB at 2048
 * tokens) instead of streaming a T x T matrix through memory four times. */
#define SK_OP_ATTENTION_QUERY_BLOCK 128
typedef struct sk_op_attention_head {
    int64_t head_dim, tokens;
    int causal;
    float scale;
    const float *q, *k, *v;
    int64_t ld;
    float *out;
    float *st, *colmax, *colsum;
} sk_op_attention_head;

void sk_op_attention_head__scalar(const sk_op_attention_head *a);
void sk_op_attention_head__avx2(const sk_op_attention_head *a);
void sk_op_attention_head__avx512(const sk_op_attention_head *a);


#endif
