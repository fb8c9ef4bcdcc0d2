/* The clocks the benchmarks read. Wall time for figures against the
 * machine (MIPS, walks/s); CPU time of this process where other load on a
 * shared host must not count (the trace and visualizer ratios). */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

#include <time.h>

static inline double bench_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double bench_wall_seconds(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

static inline double bench_cpu_seconds(void)
{
	return bench_clock(CLOCK_PROCESS_CPUTIME_ID);
}

#endif
