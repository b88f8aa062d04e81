/* Read-bandwidth probe: the memory-bound kernels (batch-1 matrix-vector products) are
 * judged against this, as the compute-bound ones are against the FMA peak. */
#include <time.h>
#include "../common/sk_internal.h"

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

SK_BEGIN_AVX2
#include <immintrin.h>
/* Sums a range with four independent 256-bit accumulators so the loads, not the adds,
 * are the limit. AVX2 is enough to saturate memory and runs on every x86-64 we target. */
static float sum_range_avx2(const float *data, int64_t count) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= count; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(data + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(data + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(data + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(data + i + 24));
    }
    __m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    float lanes[8];
    _mm256_storeu_ps(lanes, a);
    float total = 0;
    for (int l = 0; l < 8; l++) total += lanes[l];
    for (; i < count; i++) total += data[i];
    return total;
}
SK_END_ISA

static float sum_range_scalar(const float *data, int64_t count) {
    float total = 0;
    for (int64_t i = 0; i < count; i++) total += data[i];
    return total;
}

double sk_read_bandwidth_gbs(int threads, size_t bytes, double seconds) {
    int64_t count = (int64_t)(bytes / sizeof(float)) & ~(int64_t)31;
    if (count < 32 * threads) count = 32 * threads;
    float *data = sk_alloc((size_t)count * sizeof(float));
    if (!data) return 0;
    int use_avx2 = sk_best_isa() >= SK_ISA_AVX2;
    double best = 0;
    volatile float sink = 0;
    /* First touch in parallel places pages near the threads that read them. */
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < count; i++) data[i] = 1.0f;
    double deadline = now_seconds() + seconds;
    do {
        double start = now_seconds();
        float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
        {
            int64_t begin, end;
            sk_partition(count, 32, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
            total += use_avx2 ? sum_range_avx2(data + begin, end - begin) : sum_range_scalar(data + begin, end - begin);
        }
        double elapsed = now_seconds() - start;
        sink += total;
        double rate = (double)count * sizeof(float) / elapsed / 1e9;
        if (rate > best) best = rate;
    } while (now_seconds() < deadline);
    (void)sink;
    sk_free(data);
    return best;
}
