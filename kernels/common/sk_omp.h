/* The few OpenMP runtime functions the kernels call. Swift's clang ships no omp.h, and
 * borrowing another clang's include folder would shadow clang 21's intrinsics headers,
 * so they are declared here (they resolve against libomp.so.5 at link time). */
#ifndef SK_OMP_H
#define SK_OMP_H
#ifdef _OPENMP
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
#else
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_get_max_threads(void) { return 1; }
#endif
#endif
