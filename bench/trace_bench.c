/* Trace benchmarks, on the bundled guest kernel's self-tests (its first
 * BENCH_INSNS instructions; almost every access an L1 TLB hit):
 *
 *   trace_record_slowdown    host time of the run with a trace recorded,
 *                            over the same run without (one run each)
 *   trace_replay_maccesses   accesses replayed and checked per second
 *                            (best of BENCH_TRIALS)
 *   trace_bytes_per_access   trace file size over its access records
 *
 * Output: "bench <name> <value> <unit>". Host time is used only here: the
 * CPU time of this process (CLOCK_PROCESS_CPUTIME_ID), so that other
 * processes on a shared machine do not count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "emu/machine.h"
#include "emu/trace_run.h"
#include "traces/replay.h"

#define BENCH_INSNS UINT64_C(10000000)
#define BENCH_TRIALS 3

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "trace_bench: %s\n", what);
	exit(1);
}

/* Seconds to run the kernel, recording into trace if it is not NULL. */
static double run_kernel(const char *trace)
{
	char err[400];
	struct machine_config cfg = {.kernel = GUESTOS_KERNEL, .append = "selftest",
				     .max_insns = BENCH_INSNS};
	struct machine *m = calloc(1, sizeof *m);
	if (!m || !machine_init(m, &cfg, err, sizeof err))
		die(m ? err : "out of memory");
	struct trace_run_opts o = {.file = trace};
	double t0 = now_seconds();
	if (trace && !trace_run_machine(m, &o, err, sizeof err))
		die(err);
	if (!trace)
		machine_run(m);
	double t = now_seconds() - t0;
	machine_free(m);
	free(m);
	return t;
}

int main(void)
{
	char path[256];
	snprintf(path, sizeof path, "%s/mmulab-bench-XXXXXX", P_tmpdir);
	int fd = mkstemp(path);
	if (fd < 0)
		die("cannot create a temporary file");
	close(fd);
	double plain = run_kernel(NULL), traced = run_kernel(path);
	printf("bench trace_record_slowdown %.2f x\n", traced / plain);
	double best = 0;
	uint64_t accesses = 0;
	struct trace_replay *r = malloc(sizeof *r);
	for (int i = 0; i < BENCH_TRIALS && r; i++) {
		double t0 = now_seconds();
		enum trace_replay_result res = trace_replay_file(r, path, NULL, true);
		double t = now_seconds() - t0;
		if (res != TRACE_REPLAY_OK)
			die(r->msg);
		accesses = r->accesses;
		if (accesses / t > best)
			best = (double)accesses / t;
		trace_replay_free(r);
	}
	free(r);
	printf("bench trace_replay_maccesses %.1f Maccesses/s\n", best / 1e6);
	struct stat st;
	if (stat(path, &st) == 0 && accesses)
		printf("bench trace_bytes_per_access %.2f B\n", (double)st.st_size / (double)accesses);
	unlink(path);
	return 0;
}
