/* Helpers shared by the kernel implementations; not part of the public API. */
#ifndef SK_INTERNAL_H
#define SK_INTERNAL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../include/sparse_kernels.h"
#include "sk_activation.h"
#include "sk_omp.h"

/* Every per-ISA file brackets its code with these, so SwiftPM's per-target flags stay
 * portable and only the functions in that file use the wider instructions. */
#define SK_BEGIN_AVX512 _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi2\"))), apply_to = function)")
#define SK_BEGIN_AVX2 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,bmi2\"))), apply_to = function)")
#define SK_END_ISA _Pragma("clang attribute pop")

/* 64-byte aligned allocation (cache line, one zmm); free with sk_free. Never returns a
 * pointer for size 0 that callers would mistake for failure: rounds up to 64 bytes. */
static inline void *sk_alloc(size_t bytes) {
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded == 0) rounded = 64;
    return aligned_alloc(64, rounded);
}
static inline void sk_free(void *p) { free(p); }

/* Scalar epilogue for one output element: used by scalar paths and tile edges. */
static inline float sk_epilogue_apply(const sk_epilogue *ep, int64_t row, int64_t col, float acc) {
    if (ep) {
        if (ep->bias) acc += ep->bias[row];
        if (ep->residual) acc += ep->residual[row * ep->ld_residual + col];
        acc = sk_activate_scalar(acc, ep->activation);
    }
    return acc;
}

/* True when the epilogue changes nothing: the driver then passes NULL to the kernels. */
static inline int sk_epilogue_is_empty(const sk_epilogue *ep) {
    return ep == NULL || (ep->bias == NULL && ep->residual == NULL && ep->activation == SK_ACTIVATION_NONE);
}

/* Epilogue offset to the tile whose top-left element is (row, col): bias by row,
 * residual by row and column, so kernels index both from the tile's corner. */
static inline sk_epilogue sk_epilogue_at(const sk_epilogue *ep, int64_t row, int64_t col) {
    sk_epilogue t = *ep;
    if (t.bias) t.bias += row;
    if (t.residual) t.residual += row * t.ld_residual + col;
    return t;
}

/* A per-thread buffer of at least `bytes` bytes, 64-byte aligned, kept between calls
 * (OpenMP reuses its threads, so this saves an allocation and fresh page faults per
 * multiply) and freed when the thread exits. Only the multiply driver calls it; each
 * thread uses one buffer at a time. NULL when memory runs out. */
void *sk_thread_scratch(size_t bytes);

/* A block size measured best on a reference cache (`reference` bytes: Zen 4's 32 KiB L1d
 * or 1 MiB L2), scaled to the cache this machine has (`actual`, from hwloc; 0 = unknown,
 * kept), rounded down to a multiple of `step` and clamped to [lo, hi]. The tuner starts
 * its search here. */
static inline int64_t sk_scaled_block(int64_t measured, int64_t reference, int64_t actual, int64_t step,
                                      int64_t lo, int64_t hi) {
    int64_t value = actual > 0 ? (int64_t)((double)measured * (double)actual / (double)reference) : measured;
    value = value / step * step;
    return value < lo ? lo : value > hi ? hi : value;
}

static inline int64_t sk_min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t sk_max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t sk_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Split [0, total) into `parts` nearly equal contiguous ranges, each a multiple of
 * `grain` except the last; returns the range of part `index`. */
static inline void sk_partition(int64_t total, int64_t grain, int parts, int index,
                                int64_t *begin, int64_t *end) {
    int64_t units = (total + grain - 1) / grain;
    int64_t lo = units * index / parts, hi = units * (index + 1) / parts;
    *begin = lo * grain < total ? lo * grain : total;
    *end = hi * grain < total ? hi * grain : total;
}

#endif
