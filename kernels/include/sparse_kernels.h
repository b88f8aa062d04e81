/*
 * sparse_kernels.h: the C kernel library behind the SparseKernels Swift module.
 *
 * Conventions shared by every kernel:
 *  - fp32, row-major. The product is Y = W · X with W of M×K (the weights), X of K×N
 *    (activations, N is the batch / spatial / token axis) and Y of M×N.
 *  - `ld*` arguments are leading dimensions in elements (row strides), >= the row length.
 *  - The epilogue is Y = relu?(W·X + bias[row] + residual[row, col]); any part may be absent.
 *  - Weight formats are opaque, prepared once by *_create from a dense (masked) matrix and
 *    reused for every multiply, the way an inference runtime holds them.
 *  - C assumes valid input. The Swift layer validates every argument (shapes, pattern,
 *    block sizes, NaN) before it calls here; create functions return NULL only when
 *    memory runs out.
 *  - Every multiply takes the ISA to run and the number of OpenMP threads explicitly, so
 *    one process can test and benchmark every path. N == 1 (matrix-vector) is dispatched
 *    to memory-bound kernels of its own inside each multiply.
 *  - X, Y and residual never overlap.
 */
#ifndef SPARSE_KERNELS_H
#define SPARSE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ISA and machine ------------------------------------------------------------ */

typedef enum sk_isa {
    SK_ISA_SCALAR = 0, /* portable C, no hand vectorization */
    SK_ISA_AVX2 = 1,   /* AVX2 + FMA, 256-bit */
    SK_ISA_AVX512 = 2  /* AVX-512 F/BW/VL/DQ, 512-bit */
} sk_isa;

/* Most capable ISA this CPU supports (detected once with __builtin_cpu_supports). */
sk_isa sk_best_isa(void);

/* 1 if the library was compiled with OpenMP (_OPENMP defined), else 0. */
int sk_openmp_enabled(void);
/* Runs one parallel region asking for `threads` threads; returns how many distinct
 * threads actually executed it. Proves OpenMP is really on. */
int sk_openmp_threads_that_ran(int threads);

typedef struct sk_topology {
    int cores;           /* physical cores */
    int hardware_threads;/* processing units (SMT siblings included) */
    int64_t l1d_bytes;   /* per core */
    int64_t l2_bytes;    /* per core */
    int64_t l3_bytes;    /* shared, total */
} sk_topology;

/* Machine topology via hwloc; cached after the first call. Missing levels read 0. */
sk_topology sk_query_topology(void);
/* Pins OpenMP threads 0..threads-1 each to its own core (hwloc). Returns 0 on success. */
int sk_bind_threads(int threads);

/* Measured fp32 FMA peak in GFLOP/s for `isa` with `threads` threads, running
 * independent FMA chains in registers for about `seconds`. */
double sk_fma_peak_gflops(sk_isa isa, int threads, double seconds);

/* Measured read bandwidth in GB/s: `threads` threads summing disjoint parts of a
 * buffer of `bytes` bytes (pick a size far beyond L3 for DRAM, or inside L2 for L2). */
double sk_read_bandwidth_gbs(int threads, size_t bytes, double seconds);

/* ---- Epilogue ------------------------------------------------------------------- */

typedef struct sk_epilogue {
    const float *bias;      /* length M, or NULL */
    const float *residual;  /* M×N with row stride ld_residual, or NULL */
    int64_t ld_residual;
    int relu;               /* nonzero: clamp at 0 after bias and residual */
} sk_epilogue;

/* ---- Dense (prepacked) ------------------------------------------------------------ */

typedef struct sk_dense sk_dense;
sk_dense *sk_dense_create(int64_t m, int64_t k, const float *w, int64_t ldw);
void sk_dense_destroy(sk_dense *a);
size_t sk_dense_bytes(const sk_dense *a);
void sk_dense_multiply(const sk_dense *a, int64_t n, const float *x, int64_t ldx,
                       float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads);

/* ---- Unstructured sparse (CSR-like) ------------------------------------------------ */

typedef struct sk_csr sk_csr;
/* Keeps every nonzero of w. Requires k <= 65536 (16-bit column indices). */
sk_csr *sk_csr_create(int64_t m, int64_t k, const float *w, int64_t ldw);
void sk_csr_destroy(sk_csr *a);
int64_t sk_csr_nnz(const sk_csr *a);
size_t sk_csr_bytes(const sk_csr *a);
void sk_csr_to_dense(const sk_csr *a, float *w, int64_t ldw); /* writes the full M×K */
void sk_csr_multiply(const sk_csr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads);

/* ---- N:M structured sparse ------------------------------------------------------ */

typedef struct sk_nm sk_nm;
/* At most `n` nonzeros in every group of `m` consecutive weights along K.
 * Requires 1 <= n <= m <= 16 and k % m == 0 (validated in Swift). */
sk_nm *sk_nm_create(int64_t rows, int64_t k, int n, int m, const float *w, int64_t ldw);
void sk_nm_destroy(sk_nm *a);
size_t sk_nm_bytes(const sk_nm *a);
void sk_nm_to_dense(const sk_nm *a, float *w, int64_t ldw);
void sk_nm_multiply(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                    float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads);

/* ---- Block sparse (BSR) ----------------------------------------------------------- */

typedef struct sk_bsr sk_bsr;
/* Blocks of block_rows × block_cols (each in {1,2,4,8,16,32}); a block is stored when
 * any of its entries is nonzero. Requires m % block_rows == 0 and k % block_cols == 0. */
sk_bsr *sk_bsr_create(int64_t m, int64_t k, int block_rows, int block_cols,
                      const float *w, int64_t ldw);
void sk_bsr_destroy(sk_bsr *a);
int64_t sk_bsr_nonzero_blocks(const sk_bsr *a);
size_t sk_bsr_bytes(const sk_bsr *a);
void sk_bsr_to_dense(const sk_bsr *a, float *w, int64_t ldw);
void sk_bsr_multiply(const sk_bsr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads);

/* ---- Scalar reference (the test oracle) ------------------------------------------- */

/* Naive Y = epilogue(W·X) on the dense matrix, accumulating in double. When
 * abs_bound is not NULL it also receives sum_k |w||x| per output element (row stride
 * ldy), the scale of the rounding error tests allow. */
void sk_ref_gemm(int64_t m, int64_t n, int64_t k, const float *w, int64_t ldw,
                 const float *x, int64_t ldx, float *y, int64_t ldy,
                 const sk_epilogue *ep, float *abs_bound);

#ifdef __cplusplus
}
#endif
#endif
