/* Load-port probe: the binding resource of the sparse kernels. CSR and N:M select X rows
 * by index, so every FMA needs its own X load (no reuse in registers), plus one broadcast
 * load per weight value. This probe runs that instruction mix with all data in L1 and no
 * dependency stalls (24 independent accumulators), so its rate is the ceiling those
 * kernels can reach on this core, to quote beside their measured rates:
 *   fmas_per_broadcast = 0   every FMA has a zmm load operand, no broadcasts;
 *                        3   the N:M 8x48 microkernel (8 broadcasts + 24 loads per 24 FMAs);
 *                        4   the CSR kernel at 64 columns (1 broadcast + 4 loads per 4 FMAs);
 *                        6   the N:M 4x96 microkernel; 8 CSR at 128 columns.
 * The dense GEMM's mix (11 loads per 24 FMAs) is not load-bound; the FMA peak probe
 * (fma_peak.c) is its ceiling. */
#include <immintrin.h>
#include <time.h>
#include "../common/sk_internal.h"

static double probe_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static volatile float load_probe_sink;

#define PROBE_ACC 24
#define PROBE_FLOATS 2048 /* 8 KiB of "X rows": L1-resident */

SK_BEGIN_AVX512
static inline __attribute__((always_inline)) double run_mix(const int F, double seconds) {
    float *x = sk_alloc(PROBE_FLOATS * sizeof(float));
    float w[PROBE_ACC];
    if (!x) return 0;
    for (int i = 0; i < PROBE_FLOATS; i++) x[i] = 1e-3f * (float)(i % 7);
    for (int i = 0; i < PROBE_ACC; i++) w[i] = 1e-3f * (float)i;
    __m512 acc[PROBE_ACC];
    for (int i = 0; i < PROBE_ACC; i++) acc[i] = _mm512_setzero_ps();
    const __m512 fixed = _mm512_set1_ps(0.999f);
    int64_t iterations = 0;
    const double end = probe_now() + seconds;
    int64_t offset = 0;
    do {
        for (int it = 0; it < 4096; it++) {
            const float *xr = x + offset;
            const float *wr = w;
            /* keep the loads in the loop: the compiler must not treat them as invariant */
            __asm__ volatile("" : "+r"(xr), "+r"(wr));
            if (F == 0) {
#pragma unroll
                for (int i = 0; i < PROBE_ACC; i++) acc[i] = _mm512_fmadd_ps(fixed, _mm512_load_ps(xr + 16 * i), acc[i]);
            } else {
#pragma unroll
                for (int g = 0; g < PROBE_ACC / F; g++) {
                    const __m512 b = _mm512_set1_ps(wr[g]);
#pragma unroll
                    for (int q = 0; q < F; q++)
                        acc[g * F + q] = _mm512_fmadd_ps(b, _mm512_load_ps(xr + 16 * (g * F + q)), acc[g * F + q]);
                }
            }
            offset += 16 * PROBE_ACC;
            if (offset + 16 * PROBE_ACC > PROBE_FLOATS) offset = 0;
        }
        iterations += 4096;
    } while (probe_now() < end);
    __m512 total = acc[0];
    for (int i = 1; i < PROBE_ACC; i++) total = _mm512_add_ps(total, acc[i]);
    load_probe_sink = _mm512_reduce_add_ps(total);
    sk_free(x);
    return (double)iterations * PROBE_ACC * 16 * 2;
}
static double run_mix_0(double s) { return run_mix(0, s); }
static double run_mix_3(double s) { return run_mix(3, s); }
static double run_mix_4(double s) { return run_mix(4, s); }
static double run_mix_6(double s) { return run_mix(6, s); }
static double run_mix_8(double s) { return run_mix(8, s); }
SK_END_ISA

double sk_load_fma_probe_gflops(int fmas_per_broadcast, int threads, double seconds) {
    if (sk_best_isa() < SK_ISA_AVX512) return 0;
    if (threads < 1) threads = 1;
    if (!(seconds > 0)) seconds = 0.1;
    double (*mix)(double) = fmas_per_broadcast == 3 ? run_mix_3 : fmas_per_broadcast == 4 ? run_mix_4
                          : fmas_per_broadcast == 6 ? run_mix_6 : fmas_per_broadcast == 8 ? run_mix_8 : run_mix_0;
    double flops = 0;
    const double start = probe_now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += mix(seconds);
    return flops / (probe_now() - start) * 1e-9;
}
