/*
 * sparse_kernels.h: the C kernel library behind the SparseKernels Swift module.
 *
 * Conventions shared by every kernel:
 *  - fp32, row-major. The product is Y = W · X with W of M×K (the weights), X of K×N
 *    (activations, N is the batch / spatial / token axis) and Y of M×N.
 *  - `ld*` arguments are leading dimensions in elements (row strides), >= the row length.
 *  - The epilogue is Y = activation(W·X + bias[row] + residual[row, col]); any part may be
 *    absent. It is fused into every kernel's store.
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

/* Measured GFLOP/s of AVX-512 FMAs that each take a zmm load from L1 (the X rows the CSR
 * and N:M kernels select by index), with one broadcast load per `fmas_per_broadcast` FMAs
 * (0: none; 3: the N:M 8x48 mix; 4: CSR at 64 columns; 6: N:M 4x96; 8: CSR at 128): the
 * ceiling of those kernels on this core. 0 on CPUs without AVX-512. */
double sk_load_fma_probe_gflops(int fmas_per_broadcast, int threads, double seconds);

/* Measured read bandwidth in GB/s: `threads` threads summing disjoint parts of a
 * buffer of `bytes` bytes (pick a size far beyond L3 for DRAM, or inside L2 for L2). */
double sk_read_bandwidth_gbs(int threads, size_t bytes, double seconds);

/* ---- Epilogue ------------------------------------------------------------------- */

/* The activation applied last, after bias and residual. */
typedef enum sk_activation {
    SK_ACTIVATION_NONE = 0,
    SK_ACTIVATION_RELU = 1,   /* max(v, 0) */
    SK_ACTIVATION_RELU6 = 2,  /* min(max(v, 0), 6) */
    SK_ACTIVATION_GELU = 3    /* 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))), the GPT-2 form */
} sk_activation;

typedef struct sk_epilogue {
    const float *bias;      /* length M, or NULL */
    const float *residual;  /* M×N with row stride ld_residual, or NULL */
    int64_t ld_residual;
    sk_activation activation;
} sk_epilogue;

/* Applies `activation` to count values with the implementation the kernels of `isa` use
 * in their stores (for the accuracy tests; in and out may be the same array). */
void sk_activation_apply(sk_activation activation, sk_isa isa, const float *in, float *out, int64_t count);

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
/* The same with the SpMM K-block height fixed (rows of X per block, 1..65536) instead of
 * chosen by density; the block is part of the layout (per-block counts per row). */
sk_csr *sk_csr_create_blocked(int64_t m, int64_t k, const float *w, int64_t ldw, int64_t kblock);
int64_t sk_csr_kblock(const sk_csr *a);
void sk_csr_destroy(sk_csr *a);
int64_t sk_csr_nnz(const sk_csr *a);
size_t sk_csr_bytes(const sk_csr *a);
void sk_csr_to_dense(const sk_csr *a, float *w, int64_t ldw); /* writes the full M×K */
void sk_csr_multiply(const sk_csr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads);

/* ---- N:M structured sparse ------------------------------------------------------ */

typedef struct sk_nm sk_nm;
/* At most `n` nonzeros in every group of `m` consecutive weights along K. Requires
 * 1 <= n <= m <= 16 (validated in Swift). K need not be a multiple of m: the last group
 * is then shorter (k % m weights) and holds at most min(n, k % m) nonzeros. */
sk_nm *sk_nm_create(int64_t rows, int64_t k, int n, int m, const float *w, int64_t ldw);
void sk_nm_destroy(sk_nm *a);
size_t sk_nm_bytes(const sk_nm *a);
void sk_nm_to_dense(const sk_nm *a, float *w, int64_t ldw);
void sk_nm_multiply(const sk_nm *a, int64_t n_cols, const float *x, int64_t ldx,
                    float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads);

/* ---- Block sparse (BSR) ----------------------------------------------------------- */

typedef struct sk_bsr sk_bsr;
/* Blocks of block_rows × block_cols (each in {1,2,4,8,16,32}); a block is stored when
 * any of its entries is nonzero. Any m and k: blocks on the bottom and right edges are
 * ragged (stored padded with zeros); kernels never read X rows >= k or write Y rows >= m. */
sk_bsr *sk_bsr_create(int64_t m, int64_t k, int block_rows, int block_cols,
                      const float *w, int64_t ldw);
void sk_bsr_destroy(sk_bsr *a);
int64_t sk_bsr_nonzero_blocks(const sk_bsr *a);
size_t sk_bsr_bytes(const sk_bsr *a);
void sk_bsr_to_dense(const sk_bsr *a, float *w, int64_t ldw);
void sk_bsr_multiply(const sk_bsr *a, int64_t n, const float *x, int64_t ldx,
                     float *y, int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads);

/* ---- Kernel registry -------------------------------------------------------------- */
/* Every kernel of the library is one entry of a single table (kernels/registry/
 * registry.c). The table drives the dispatch of the *_multiply functions above, the
 * `sift kernels list` command, the tests (every entry on every ISA at its own tile and
 * K-block edges) and the runtime's choice of kernel. All kernels share one calling
 * convention; threading, X preparation and scratch memory are the driver's. */

typedef enum sk_format {
    SK_FORMAT_DENSE = 0,
    SK_FORMAT_CSR = 1,
    SK_FORMAT_NM = 2,
    SK_FORMAT_BSR = 3
} sk_format;

/* How the driver splits one multiply between threads. */
typedef enum sk_split {
    SK_SPLIT_ROWS = 0,              /* row units only (balanced by work where it varies) */
    SK_SPLIT_ROWS_THEN_COLUMNS = 1, /* columns when there are too few row units */
    SK_SPLIT_COLUMNS_THEN_ROWS = 2  /* columns when there are enough column units */
} sk_split;

typedef struct sk_kernel_info {
    const char *name;       /* sk_f32_<op>_<format>__<isa>_<tile>[_<variant>] */
    sk_format format;
    sk_isa isa;             /* the dispatch uses it for any ISA >= this one */
    int64_t min_n, max_n;   /* the N (columns of X) it computes correctly; max_n 0 = any */
    int tile_rows;          /* register tile: rows of Y ... */
    int tile_cols;          /* ... × columns of Y per microkernel call (1 for GEMVs) */
    int row_unit;           /* rows of W per work unit of the layout (strip, tile, block row) */
    int64_t kblock;         /* default K block in rows of X; 0 = all of K at once; -1 = set per
                             * matrix at create time (CSR) */
    sk_split split;
    int64_t col_grain;      /* columns per unit when threads split N */
    int64_t min_units_per_thread; /* the threshold of the split rule (see registry.c) */
    int64_t min_macs_per_thread;  /* fewer multiply-adds per thread: use fewer threads */
    int scalar_fallback;    /* needs no scratch and no shared buffer: the format's fallback */
    const char *blocking;   /* the other blocking and packing, in words */
    const char *patterns;   /* the patterns and shapes it accepts */
    const char *group;      /* interchangeable variants share a group (the same job, the same
                             * N range): the tuner may rank one above the others */
    int tunable;            /* the sk_params fields it reads: SK_TUNE_* bits */
} sk_kernel_info;

enum { SK_TUNE_KC = 1, SK_TUNE_MC = 2, SK_TUNE_NC = 4, SK_TUNE_AUX = 8, SK_TUNE_PF = 16 };

/* Blocking of one multiply. Zero fields take the kernel's default (derived from the
 * cache sizes hwloc reports). Which fields a kernel reads is in its `blocking` text. */
typedef struct sk_params {
    int64_t kc;     /* K block, rows of X */
    int64_t mc;     /* M block, row units */
    int64_t nc;     /* N block, columns */
    int64_t aux;    /* kernel-specific, see `blocking` */
    int64_t pf;     /* software prefetch distance, in the kernel's steps (see `blocking`) */
} sk_params;

int sk_kernel_count(void);
/* Entry `index` (0 <= index < sk_kernel_count()), or NULL. */
const sk_kernel_info *sk_kernel_at(int index);
/* The index of the first entry named `name`, or -1. */
int sk_kernel_find(const char *name);
/* The entry the default dispatch runs for this matrix, N, ISA and thread count: among
 * the entries of the matrix's format with isa <= `isa`, N in range and whose preference
 * test accepts the call, the narrowest N range, then the widest ISA, then table order. */
int sk_kernel_select(const void *weights, int64_t n, sk_isa isa, int threads);
/* Y = epilogue(W·X) with entry `index` on `weights` (an sk_dense/sk_csr/sk_nm/sk_bsr).
 * params may be NULL (defaults). Returns 0, or -1 when the entry does not fit (another
 * format, N out of its range, an ISA this CPU lacks); Y is then untouched. */
int sk_kernel_run(int index, const void *weights, int64_t n, const float *x, int64_t ldx,
                  float *y, int64_t ldy, const sk_epilogue *ep, const sk_params *params,
                  int threads);
/* The format of a prepared matrix. */
sk_format sk_weights_format(const void *weights);
/* Whether entry `index`'s preference test accepts this call (1 when it has none): the
 * part of the dispatch a caller that ranks the entries itself (the tuner) reuses. */
int sk_kernel_suits(int index, const void *weights, int64_t n, int threads);
/* The blocking entry `index` runs with for this matrix and N: the fields of `given` that
 * are set (> 0), the kernel's defaults (derived from the hwloc cache sizes) for the rest.
 * `given` may be NULL. Returns 0, or -1 for a bad index. */
int sk_kernel_resolve_params(int index, const void *weights, int64_t n, const sk_params *given, sk_params *out);

/* The CPU's brand string (cpuid leaves 0x80000002..4, trimmed; "unknown x86-64" when the
 * CPU has none) and its family and model (leaf 1), e.g. "AMD EPYC (family 25, model 17)". */
void sk_cpu_model(char *buffer, size_t size);

/* ---- A vendor BLAS, for comparison ---------------------------------------------- */

typedef struct sk_blas sk_blas;
/* Loads a CBLAS library (MKL's libmkl_rt, OpenBLAS) by path or soname; NULL when it
 * cannot be loaded or has no cblas_sgemm. */
sk_blas *sk_blas_open(const char *path);
/* Version and the code path it really runs (MKL's verbose line, OpenBLAS's config and core). */
const char *sk_blas_description(const sk_blas *blas);
/* Its own thread count; -1 when the library offers no way to set it. */
int sk_blas_set_threads(sk_blas *blas, int threads);
/* Row-major Y (m×n) = A (m×k) · X (k×n). */
void sk_blas_sgemm(sk_blas *blas, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                   const float *x, int64_t ldx, float *y, int64_t ldy);
void sk_blas_close(sk_blas *blas);

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
