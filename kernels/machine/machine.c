/* What the machine offers: ISA detection, proof that OpenMP is live, and the hwloc
 * topology the kernels use for tile sizes and the runtime for thread pinning. */
#include <cpuid.h>
#include <stdio.h>
#include <hwloc.h>
#include <pthread.h>
#include "../common/sk_internal.h"

sk_isa sk_best_isa(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
            cached = SK_ISA_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            cached = SK_ISA_AVX2;
        else
            cached = SK_ISA_SCALAR;
    }
    return (sk_isa)cached;
}

int sk_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int sk_openmp_threads_that_ran(int threads) {
    /* Each thread marks its own slot; counting marks (not trusting omp_get_num_threads)
     * shows that distinct threads really executed the region. */
    enum { MAX_SLOTS = 1024 };
    volatile int ran[MAX_SLOTS] = {0};
    if (threads > MAX_SLOTS) threads = MAX_SLOTS;
#pragma omp parallel num_threads(threads)
    {
        int id = omp_get_thread_num();
        if (id < MAX_SLOTS) ran[id] = 1;
    }
    int count = 0;
    for (int i = 0; i < MAX_SLOTS; i++) count += ran[i];
    return count;
}

/* hwloc discovery is slow (it walks sysfs), so the topology object is built once. */
static hwloc_topology_t shared_topology;
static pthread_once_t topology_once = PTHREAD_ONCE_INIT;
static sk_topology cached_summary;

static int64_t cache_size(hwloc_topology_t topology, hwloc_obj_type_t type) {
    hwloc_obj_t obj = hwloc_get_next_obj_by_type(topology, type, NULL);
    return obj && obj->attr ? (int64_t)obj->attr->cache.size : 0;
}

static void load_topology(void) {
    sk_topology summary = {0};
    if (hwloc_topology_init(&shared_topology) == 0 && hwloc_topology_load(shared_topology) == 0) {
        summary.cores = hwloc_get_nbobjs_by_type(shared_topology, HWLOC_OBJ_CORE);
        summary.hardware_threads = hwloc_get_nbobjs_by_type(shared_topology, HWLOC_OBJ_PU);
        summary.l1d_bytes = cache_size(shared_topology, HWLOC_OBJ_L1CACHE);
        summary.l2_bytes = cache_size(shared_topology, HWLOC_OBJ_L2CACHE);
        int64_t l3_each = cache_size(shared_topology, HWLOC_OBJ_L3CACHE);
        int l3_count = hwloc_get_nbobjs_by_type(shared_topology, HWLOC_OBJ_L3CACHE);
        summary.l3_bytes = l3_each * (l3_count > 0 ? l3_count : 0);
    } else {
        shared_topology = NULL;
    }
    if (summary.cores <= 0) summary.cores = 1;
    if (summary.hardware_threads <= 0) summary.hardware_threads = summary.cores;
    cached_summary = summary;
}

sk_topology sk_query_topology(void) {
    pthread_once(&topology_once, load_topology);
    return cached_summary;
}

int sk_bind_threads(int threads) {
    pthread_once(&topology_once, load_topology);
    if (!shared_topology) return -1;
    int cores = hwloc_get_nbobjs_by_type(shared_topology, HWLOC_OBJ_CORE);
    if (cores <= 0) return -1;
    int failures = 0;
    /* OpenMP keeps its thread pool, so a binding made here holds for later regions
     * that use the same number of threads. */
#pragma omp parallel num_threads(threads) reduction(+ : failures)
    {
        int id = omp_get_thread_num();
        hwloc_obj_t core = hwloc_get_obj_by_type(shared_topology, HWLOC_OBJ_CORE, id % cores);
        if (!core || hwloc_set_cpubind(shared_topology, core->cpuset, HWLOC_CPUBIND_THREAD) != 0)
            failures += 1;
    }
    return failures == 0 ? 0 : -1;
}

void sk_cpu_model(char *buffer, size_t size) {
    if (!buffer || size == 0) return;
    char brand[49] = {0};
    unsigned int regs[4];
    int ok = __get_cpuid(0x80000000u, &regs[0], &regs[1], &regs[2], &regs[3]) && regs[0] >= 0x80000004u;
    for (unsigned int leaf = 0; ok && leaf < 3; leaf++) {
        ok = __get_cpuid(0x80000002u + leaf, &regs[0], &regs[1], &regs[2], &regs[3]);
        memcpy(brand + 16 * leaf, regs, 16);
    }
    const char *start = brand;
    while (*start == ' ') start++;
    size_t length = strlen(start);
    while (length > 0 && start[length - 1] == ' ') length--;
    if (!ok || length == 0) {
        start = "unknown x86-64";
        length = strlen(start);
    }
    /* Brand strings are vague in VMs ("AMD EPYC" for Zen 4 and Zen 5 alike): add the
     * family and model from cpuid leaf 1, which tell the microarchitecture. */
    unsigned int family = 0, model = 0;
    if (__get_cpuid(1, &regs[0], &regs[1], &regs[2], &regs[3])) {
        family = (regs[0] >> 8) & 0xF;
        model = (regs[0] >> 4) & 0xF;
        if (family == 0xF) family += (regs[0] >> 20) & 0xFF;
        if (family == 0x6 || family >= 0xF) model |= ((regs[0] >> 16) & 0xF) << 4;
    }
    snprintf(buffer, size, "%.*s (family %u, model %u)", (int)length, start, family, model);
}
