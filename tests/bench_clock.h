/* Clocks for the benchmark programs (bench_gpu, bench_train): the wall clock, and the CPU
 * seconds of the whole process (all threads), which on a CPU device such as lavapipe is the
 * fairer measure when other processes share the cores. */
#ifndef PLUME_BENCH_CLOCK_H
#define PLUME_BENCH_CLOCK_H
#include <sys/resource.h>
#include <time.h>

static inline double bench_wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline double bench_cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec * 1e-6;
}
#endif
