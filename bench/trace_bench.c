/* Trace benchmarks.
 *
 *   trace_record_slowdown    host time of the bundled kernel's self-tests
 *                            (first BENCH_INSNS instructions) with a trace
 *                            recorded, over the same run without (one run
 *                            each)
 *   trace_bytes_per_access   that trace's size over its access records
 *   trace_replay             accesses replayed and checked per second on a
 *                            TLB-hit-dominated trace: SYN_ACCESSES reads
 *                            and writes over SYN_PAGES 4-KiB pages, recorded
 *                            from a bare MMU (best of BENCH_TRIALS)
 *   trace_replay_kernel      the same on the kernel's trace, whose
 *                            hits are on 2-MiB pages (the MMU's slower hit
 *                            path for them is part of the figure)
 *
 * Output: "bench <name> <value> <unit>". Host time is used only here: the
 * CPU time of this process (CLOCK_PROCESS_CPUTIME_ID), so that other
 * processes on a shared machine do not count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/clock.h"
#include "emu/machine.h"
#include "emu/trace_run.h"
#include "mmu/ptbuild.h"
#include "traces/recorder.h"
#include "traces/replay.h"

#define BENCH_INSNS UINT64_C(10000000)
#define BENCH_TRIALS 3
#define SYN_RAM (UINT64_C(8) << 20)
#define SYN_POOL 0x100000
#define SYN_POOL_END 0x200000
#define SYN_LA UINT64_C(0x40000000)
#define SYN_PA UINT64_C(0x400000)
#define SYN_PAGES 32            /* half the L1 DTLB: every access after the first per page hits */
#define SYN_ACCESSES 4000000u
#define SYN_FLAGS (PTE_P | PTE_RW)

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
	double t0 = bench_cpu_seconds();
	if (trace && !trace_run_machine(m, &o, err, sizeof err))
		die(err);
	if (!trace)
		machine_run(m);
	double t = bench_cpu_seconds() - t0;
	machine_free(m);
	free(m);
	return t;
}

/* Record the synthetic hit-dominated trace into path. */
static void record_synthetic(const char *path)
{
	struct mmu_model model;
	char err[300];
	struct mmu *m = calloc(1, sizeof *m);
	struct trace_recorder *rec = calloc(1, sizeof *rec);
	struct ptb pt;
	mmu_model_default(&model);
	if (!m || !rec || !mmu_init(m, &model, SYN_RAM, err, sizeof err))
		die("cannot build the synthetic MMU");
	if (!ptb_init(&pt, &m->phys, PAGING_4LEVEL, SYN_POOL, SYN_POOL_END))
		die("page-table pool");
	for (unsigned i = 0; i < SYN_PAGES; i++)
		if (!ptb_map(&pt, SYN_LA + i * 4096, SYN_PA + i * 4096, PG_4K, SYN_FLAGS, SYN_FLAGS))
			die("page-table pool");
	mmu_set_control(m, CR0_PE | CR0_PG, ptb_cr3(&pt, 0), CR4_PAE, EFER_LME | EFER_LMA);
	struct trace_client cl = {.emu_version = "bench"};
	if (!trace_recorder_start(rec, m, path, &cl, err, sizeof err))
		die(err);
	uint64_t off = 0;
	for (unsigned i = 0; i < SYN_ACCESSES; i++) {
		struct mmu_xlate x;
		off = (off + 4104) % (SYN_PAGES * 4096); /* next page, next qword */
		if (!mmu_translate(m, SYN_LA + off, i % 4 ? ACC_READ : ACC_WRITE, &x))
			die("synthetic access faulted");
	}
	if (!trace_recorder_stop(rec, err, sizeof err))
		die(err);
	mmu_free(m);
	free(m);
	free(rec);
}

/* Best replay rate of path over BENCH_TRIALS, in accesses per second. */
static double replay_rate(const char *path, uint64_t *accesses)
{
	double best = 0;
	struct trace_replay *r = malloc(sizeof *r);
	for (int i = 0; i < BENCH_TRIALS && r; i++) {
		double t0 = bench_cpu_seconds();
		enum trace_replay_result res = trace_replay_file(r, path, NULL, true);
		double t = bench_cpu_seconds() - t0;
		if (res != TRACE_REPLAY_OK)
			die(r->msg);
		*accesses = r->accesses;
		if ((double)r->accesses / t > best)
			best = (double)r->accesses / t;
		trace_replay_free(r);
	}
	free(r);
	return best;
}

static void temp_path(char *path, size_t len)
{
	snprintf(path, len, "%s/mmulab-bench-XXXXXX", P_tmpdir);
	int fd = mkstemp(path);
	if (fd < 0)
		die("cannot create a temporary file");
	close(fd);
}

int main(void)
{
	char path[256], syn[256];
	uint64_t accesses = 0, syn_accesses = 0;
	temp_path(path, sizeof path);
	temp_path(syn, sizeof syn);
	double plain = run_kernel(NULL), traced = run_kernel(path);
	printf("bench trace_record_slowdown %.2f x\n", traced / plain);
	double kernel_rate = replay_rate(path, &accesses);
	struct stat st;
	if (stat(path, &st) == 0 && accesses)
		printf("bench trace_bytes_per_access %.2f B\n", (double)st.st_size / (double)accesses);
	record_synthetic(syn);
	printf("bench trace_replay %.1f Maccess/s\n", replay_rate(syn, &syn_accesses) / 1e6);
	printf("bench trace_replay_kernel %.1f Maccess/s\n", kernel_rate / 1e6);
	unlink(path);
	unlink(syn);
	return 0;
}
