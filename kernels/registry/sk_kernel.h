/* The one calling convention of every kernel, and the registry entry that describes it.
 * Not part of the public API (the public view of an entry is sk_kernel_info).
 *
 * A multiply is an sk_call: the prepared weights, X, Y, the epilogue and the resolved
 * blocking. The driver (registry.c) splits it between threads into sk_parts (a range of
 * row units of the weights' layout × a range of Y columns), gives each part a per-thread
 * scratch buffer of the size the entry asks for, and calls the entry's `run` on it.
 * Entries that want X in a different form (packed panels shared by all threads, a
 * contiguous copy of a strided vector) declare a shared buffer and a `prepare` stage:
 * the threads fill it together, K rows each, then wait for each other once. */
#ifndef SK_KERNEL_H
#define SK_KERNEL_H

#include "../common/sk_internal.h"

typedef struct sk_call {
    const void *weights;     /* sk_dense / sk_csr / sk_nm / sk_bsr */
    int64_t m, k, n;         /* Y is m × n, X is k × n */
    const float *x;
    int64_t ldx;
    float *y;
    int64_t ldy;
    const sk_epilogue *ep;   /* NULL when it changes nothing */
    sk_params params;        /* resolved: the fields the entry reads are set */
    float *shared;           /* the buffer `prepare` filled, or NULL */
    int threads;             /* threads sharing this multiply */
} sk_call;

typedef struct sk_part {
    int64_t row_begin, row_end;  /* row units (16-row strips, 8-row tiles, block rows, rows) */
    int64_t col_begin, col_end;  /* columns of Y */
    void *scratch;               /* scratch_bytes(call, part) bytes, 64-byte aligned, or NULL */
} sk_part;

typedef void sk_run_fn(const sk_call *call, const sk_part *part);
/* Bytes of scratch for one part (per thread), or of the shared buffer (part == NULL). */
typedef size_t sk_bytes_fn(const sk_call *call, const sk_part *part);
/* Fills call->shared for X rows [k_begin, k_end) (all columns). */
typedef void sk_prepare_fn(const sk_call *call, int64_t k_begin, int64_t k_end);
/* Whether the default dispatch should pick this entry (speed, never correctness). */
typedef int sk_suits_fn(const void *weights, int64_t n, int threads);
/* Sets the blocking fields the entry reads that are still 0. */
typedef void sk_defaults_fn(const void *weights, int64_t n, sk_params *params);

typedef struct sk_kernel {
    sk_kernel_info info;
    sk_run_fn *run;
    sk_bytes_fn *scratch_bytes;  /* or NULL: no scratch */
    sk_bytes_fn *shared_bytes;   /* or NULL: no shared buffer (then no prepare) */
    sk_prepare_fn *prepare;
    sk_suits_fn *suits;          /* or NULL: always suitable */
    sk_defaults_fn *defaults;    /* or NULL: reads no params */
} sk_kernel;

/* Runs the default entry for this call (what every sk_<format>_multiply does). */
void sk_dispatch(const void *weights, int64_t n, const float *x, int64_t ldx, float *y,
                 int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads);

#endif
