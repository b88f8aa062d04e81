/* FMA peak probe: every thread runs many independent FMA chains that live in registers
 * (no memory traffic) for about `seconds`; the result is total FLOPs / wall time.
 *
 * Chains: an FMA has a latency of 4 cycles and up to 2 issue per cycle, so at least 8
 * independent accumulators are needed to keep both pipes busy; 24 are used (leaving room
 * for the loop constants in 32 zmm), 12 for ymm (16 registers), 12 for scalar. Each chain
 * is acc = acc * a + b with |a| < 1, so values converge (no overflow, no denormals). The
 * empty asm statements pin the accumulators to registers and keep the compiler from
 * merging, vectorizing or deleting the chains; the sums are written to a volatile sink. */
#include "../common/sk_internal.h"
#include <immintrin.h>
#include <math.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile float probe_sink;

/* Iterations between clock reads: enough that the clock cost is negligible. */
#define BATCH 20000

SK_BEGIN_AVX512
#define Z_CHAINS 24
static double run_avx512(double seconds) {
    __m512 acc[Z_CHAINS];
    for (int i = 0; i < Z_CHAINS; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
    const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
    double start = now_seconds(), end = start + seconds;
    int64_t batches = 0;
    do {
        for (int it = 0; it < BATCH; it++) {
            for (int i = 0; i < Z_CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
            for (int i = 0; i < Z_CHAINS; i++) __asm__ volatile("" : "+v"(acc[i]));
        }
        batches++;
    } while (now_seconds() < end);
    __m512 total = acc[0];
    for (int i = 1; i < Z_CHAINS; i++) total = _mm512_add_ps(total, acc[i]);
    probe_sink = _mm512_reduce_add_ps(total);
    return (double)batches * BATCH * Z_CHAINS * 16 * 2;
}
SK_END_ISA

SK_BEGIN_AVX2
#define Y_CHAINS 12
static double run_avx2(double seconds) {
    __m256 acc[Y_CHAINS];
    for (int i = 0; i < Y_CHAINS; i++) acc[i] = _mm256_set1_ps(0.001f * (float)i);
    const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
    double start = now_seconds(), end = start + seconds;
    int64_t batches = 0;
    do {
        for (int it = 0; it < BATCH; it++) {
            for (int i = 0; i < Y_CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
            for (int i = 0; i < Y_CHAINS; i++) __asm__ volatile("" : "+x"(acc[i]));
        }
        batches++;
    } while (now_seconds() < end);
    __m256 total = acc[0];
    for (int i = 1; i < Y_CHAINS; i++) total = _mm256_add_ps(total, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, total);
    probe_sink = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
    return (double)batches * BATCH * Y_CHAINS * 8 * 2;
}

/* Scalar chains with the FMA instruction (fmaf inlines to vfmadd231ss with +fma). */
#define S_CHAINS 12
static double run_scalar_fma(double seconds) {
    float acc[S_CHAINS];
    for (int i = 0; i < S_CHAINS; i++) acc[i] = 0.001f * (float)i;
    const float a = 0.999f, b = 0.001f;
    double start = now_seconds(), end = start + seconds;
    int64_t batches = 0;
    do {
        for (int it = 0; it < BATCH; it++) {
            for (int i = 0; i < S_CHAINS; i++) acc[i] = fmaf(acc[i], a, b);
            for (int i = 0; i < S_CHAINS; i++) __asm__ volatile("" : "+x"(acc[i]));
        }
        batches++;
    } while (now_seconds() < end);
    float total = 0;
    for (int i = 0; i < S_CHAINS; i++) total += acc[i];
    probe_sink = total;
    return (double)batches * BATCH * S_CHAINS * 2;
}
SK_END_ISA

/* Scalar chains for CPUs without FMA: a multiply and an add per step (2 FLOPs). */
static double run_scalar_plain(double seconds) {
    float acc[S_CHAINS];
    for (int i = 0; i < S_CHAINS; i++) acc[i] = 0.001f * (float)i;
    const float a = 0.999f, b = 0.001f;
    double start = now_seconds(), end = start + seconds;
    int64_t batches = 0;
    do {
        for (int it = 0; it < BATCH; it++) {
            for (int i = 0; i < S_CHAINS; i++) acc[i] = acc[i] * a + b;
            for (int i = 0; i < S_CHAINS; i++) __asm__ volatile("" : "+x"(acc[i]));
        }
        batches++;
    } while (now_seconds() < end);
    float total = 0;
    for (int i = 0; i < S_CHAINS; i++) total += acc[i];
    probe_sink = total;
    return (double)batches * BATCH * S_CHAINS * 2;
}

double sk_fma_peak_gflops(sk_isa isa, int threads, double seconds) {
    if (threads < 1) threads = 1;
    if (!(seconds > 0)) seconds = 0.1;
    int has_fma = __builtin_cpu_supports("fma");
    double flops = 0;
    double start = now_seconds();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    {
        if (isa == SK_ISA_AVX512) flops += run_avx512(seconds);
        else if (isa == SK_ISA_AVX2) flops += run_avx2(seconds);
        else if (has_fma) flops += run_scalar_fma(seconds);
        else flops += run_scalar_plain(seconds);
    }
    double elapsed = now_seconds() - start;
    return flops / elapsed * 1e-9;
}
