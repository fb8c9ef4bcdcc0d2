/* CPU benchmarks: guest code run by the interpreter with the full MMU model
 * and cycle accounting on (the default Skylake-like model).
 *
 *   cpu_alu_mips       an integer loop (add/xor/sub/dec/jnz)
 *   cpu_tlb_mips       a loop reading one byte per 4-KByte page across
 *                      512 MiB, so every access misses the TLBs
 *   cpu_memcpy_mips    a qword copy loop over 64 KiB (load, store, adds)
 *   cpu_rep_movsb_gbs  rep movsb of 64 KiB, repeated
 *   cpu_c_workload_mips the compiled C workload of tests/guest, booted
 *                      as a Multiboot guest (bench/guest_loops.c)
 *   cpu_rss_mib        the process's peak resident set after the above,
 *                      against the guest RAM they touched (512 MiB + tables)
 *
 * With qemu-system-x86_64 on PATH, the same workloads also run under QEMU
 * TCG from the guest image bench/guest_loops.c: qemu_alu_mips,
 * qemu_tlb_mips, qemu_memcpy_mips, qemu_rep_movsb_gbs,
 * qemu_c_workload_mips, and cpu_vs_qemu_<workload>_ratio (mmulab's figure
 * over QEMU's). QEMU is timed from outside, at two counts of the
 * workload, and the difference taken, which removes its start-up; the
 * instructions in that difference are counted by running the same image
 * in mmulab (docs/cpu.md, "Performance").
 *
 * With bochs and grub-mkrescue on PATH, the integer and page-touch loops
 * also run under Bochs, booted by GRUB from a CD image, timed the same
 * way: bochs_alu_mips, bochs_tlb_mips and cpu_vs_bochs_<workload>_ratio.
 *
 * Output: "bench <name> <value> <unit>". Host time is used only here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bochs_run.h"
#include "bench/clock.h"
#include "bench/host_cmd.h"
#include "emu/cpu.h"
#include "emu/machine.h"
#include "mmu/ptbuild.h"

#define BENCH_TRIALS 3
#define RAM (UINT64_C(640) << 20)
#define PT_POOL 0x100000
#define PT_POOL_END 0x1000000
#define LOW_START UINT64_C(0x1000000)     /* code, data: identity-mapped */
#define LOW_END UINT64_C(0x2000000)
#define CODE LOW_START
#define TOUCH_BASE UINT64_C(0x40000000)   /* 512 MiB touched by the TLB loop */
#define TOUCH_PHYS UINT64_C(0x2000000)
#define TOUCH_PAGES (UINT64_C(512) << 20 >> 12)
#define MAP_FLAGS (PTE_P | PTE_RW | PTE_US)

static void die(const char *what)
{
	fprintf(stderr, "cpu_bench: %s\n", what);
	exit(1);
}

static void map_range(struct ptb *pt, uint64_t la, uint64_t pa, uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++)
		if (!ptb_map(pt, la + (i << 12), pa + (i << 12), PG_4K, MAP_FLAGS, MAP_FLAGS))
			die("page-table pool exhausted");
}

static void machine_new(struct cpu *c, struct mmu_model *model, bool touch_area)
{
	char err[200];
	struct ptb pt;
	mmu_model_default(model);
	if (!cpu_init(c, model, RAM, err, sizeof err))
		die(err);
	if (!ptb_init(&pt, &c->mmu.phys, PAGING_4LEVEL, PT_POOL, PT_POOL_END))
		die("page-table pool");
	map_range(&pt, LOW_START, LOW_START, (LOW_END - LOW_START) >> 12);
	if (touch_area)
		map_range(&pt, TOUCH_BASE, TOUCH_PHYS, TOUCH_PAGES);
	mmu_set_control(&c->mmu, CR0_PE | CR0_PG | CR0_WP, ptb_cr3(&pt, 0), CR4_PAE,
			EFER_LME | EFER_LMA | EFER_NXE);
	cpu_setup_flat64(c, 0);
	c->gpr[GPR_RSP] = LOW_END;
}

/* Run code to HLT; returns host seconds; *insns gets the count. */
static double run(const uint8_t *code, size_t n, bool touch_area, uint64_t *insns)
{
	struct cpu c;
	struct mmu_model model;
	machine_new(&c, &model, touch_area);
	phys_write_bytes(&c.mmu.phys, CODE, code, n);
	c.rip = CODE;
	double t0 = bench_wall_seconds();
	enum cpu_stop s = cpu_run(&c, UINT64_MAX);
	double t = bench_wall_seconds() - t0;
	if (s != CPU_STOP_HLT) {
		fprintf(stderr, "cpu_bench: stopped with %s (vector %u at %#llx)\n", cpu_stop_name(s),
			c.exc.vector, (unsigned long long)c.exc.rip);
		exit(1);
	}
	*insns = c.insns;
	cpu_free(&c);
	return t;
}

static double best_mips(const uint8_t *code, size_t n, bool touch_area)
{
	double best = 0;
	for (int i = 0; i < BENCH_TRIALS; i++) {
		uint64_t insns;
		double t = run(code, n, touch_area, &insns);
		double mips = (double)insns / t / 1e6;
		if (mips > best)
			best = mips;
	}
	return best;
}

static const uint8_t alu_loop[] = {
	0xb9, 0x00, 0xe1, 0xf5, 0x05, /*    mov ecx, 100000000 */
	0x48, 0x01, 0xd8,             /* l: add rax, rbx */
	0x48, 0x31, 0xc2,             /*    xor rdx, rax */
	0x48, 0x83, 0xeb, 0x01,       /*    sub rbx, 1 */
	0x48, 0xff, 0xc9,             /*    dec rcx */
	0x75, 0xf1,                   /*    jnz l */
	0xf4,                         /*    hlt */
};

static const uint8_t tlb_loop[] = {
	0x41, 0xb8, 0x04, 0x00, 0x00, 0x00,       /*    mov r8d, 4 */
	0x48, 0xc7, 0xc6, 0x00, 0x00, 0x00, 0x40, /* o: mov rsi, 0x40000000 */
	0xb9, 0x00, 0x00, 0x02, 0x00,             /*    mov ecx, 131072 */
	0x8a, 0x06,                               /* l: mov al, [rsi] */
	0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /*    add rsi, 4096 */
	0xff, 0xc9,                               /*    dec ecx */
	0x75, 0xf3,                               /*    jnz l */
	0x41, 0xff, 0xc8,                         /*    dec r8d */
	0x75, 0xe2,                               /*    jnz o */
	0xf4,                                     /*    hlt */
};

static const uint8_t memcpy_loop[] = {
	0x41, 0xb8, 0xc8, 0x00, 0x00, 0x00,       /*    mov r8d, 200 */
	0x48, 0xc7, 0xc6, 0x00, 0x00, 0x20, 0x01, /* o: mov rsi, 0x1200000 */
	0x48, 0xc7, 0xc7, 0x00, 0x00, 0x30, 0x01, /*    mov rdi, 0x1300000 */
	0xb9, 0x00, 0x20, 0x00, 0x00,             /*    mov ecx, 8192 */
	0x48, 0x8b, 0x06,                         /* l: mov rax, [rsi] */
	0x48, 0x89, 0x07,                         /*    mov [rdi], rax */
	0x48, 0x83, 0xc6, 0x08,                   /*    add rsi, 8 */
	0x48, 0x83, 0xc7, 0x08,                   /*    add rdi, 8 */
	0xff, 0xc9,                               /*    dec ecx */
	0x75, 0xee,                               /*    jnz l */
	0x41, 0xff, 0xc8,                         /*    dec r8d */
	0x75, 0xd6,                               /*    jnz o */
	0xf4,                                     /*    hlt */
};

#define MOVSB_BYTES 65536
#define MOVSB_ROUNDS 2000
static const uint8_t movsb_loop[] = {
	0x41, 0xb8, 0xd0, 0x07, 0x00, 0x00,       /*    mov r8d, 2000 */
	0x48, 0xc7, 0xc6, 0x00, 0x00, 0x20, 0x01, /* o: mov rsi, 0x1200000 */
	0x48, 0xc7, 0xc7, 0x00, 0x00, 0x30, 0x01, /*    mov rdi, 0x1300000 */
	0xb9, 0x00, 0x00, 0x01, 0x00,             /*    mov ecx, 65536 */
	0xf3, 0xa4,                               /*    rep movsb */
	0x41, 0xff, 0xc8,                         /*    dec r8d */
	0x75, 0xe6,                               /*    jnz o */
	0xf4,                                     /*    hlt */
};

static double bench_movsb(void);

/* Peak resident set (VmHWM in /proc/self/status), MiB. */
static double peak_rss_mib(void)
{
	char line[256];
	double kib = 0;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %lf", &kib) == 1)
			break;
	fclose(f);
	return kib / 1024;
}

static bool wanted(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

/* ---- guest-image workloads (mmulab and QEMU) ------------------------------ */

#ifdef BENCH_GUEST_IMAGE
/* One workload of bench/guest_loops.c with its QEMU counts: the image runs
 * it `lo` and `hi` times; QEMU's figure is the difference. hi is chosen so
 * that the difference takes seconds, not the tenths by which QEMU's
 * start-up varies (the page-touch loop: 64 rounds, 3 s; rep movsb, which
 * QEMU's TCG runs one iteration per translated block at about 9 MB/s: 100
 * rounds, 0.7 s). */
struct guest_workload {
	const char *arg;     /* the image's command-line word */
	const char *name;    /* figure suffix: qemu_<name>_<unit> */
	uint64_t lo, hi;
	bool linear;         /* instructions grow by the same amount each count */
	double bytes_per_count; /* GB/s figure when non-zero */
};

static const struct guest_workload guest_workloads[] = {
	{ "alu", "alu", 1000000, 60000000, true, 0 },
	{ "tlb", "tlb", 1, 64, true, 0 },
	{ "memcpy", "memcpy", 1, 800, true, 0 },
	{ "movsb", "rep_movsb", 1, 100, true, MOVSB_BYTES },
	{ "cworkload", "c_workload", 2, 12, false, 0 },
};
#define C_WORKLOAD_RUNS 4

/* Boot the image in mmulab with "arg count"; the retired instructions,
 * and the host seconds of the run in *secs. */
static uint64_t mmulab_guest_run(const char *arg, uint64_t count, double *secs)
{
	char append[64], err[256];
	snprintf(append, sizeof append, "%s %llu", arg, (unsigned long long)count);
	struct machine_config cfg = { .kernel = BENCH_GUEST_IMAGE, .append = append };
	struct machine *m = calloc(1, sizeof *m);
	if (!m || !machine_init(m, &cfg, err, sizeof err))
		die(m ? err : "out of memory");
	double t0 = bench_wall_seconds();
	if (machine_run(m) != MACHINE_EXIT || machine_exit_status(m) != 1)
		die("the bench guest image did not exit cleanly");
	*secs = bench_wall_seconds() - t0;
	uint64_t n = m->cpu.insns;
	machine_free(m);
	free(m);
	return n;
}

/* cpu_c_workload_mips: the C workload runs C_WORKLOAD_RUNS times in one
 * boot; best of BENCH_TRIALS. */
static double bench_c_workload(void)
{
	double best = 0;
	for (int i = 0; i < BENCH_TRIALS; i++) {
		double t;
		uint64_t n = mmulab_guest_run("cworkload", C_WORKLOAD_RUNS, &t);
		if ((double)n / t / 1e6 > best)
			best = (double)n / t / 1e6;
	}
	return best;
}

#define QEMU "qemu-system-x86_64"

static bool qemu_installed(void)
{
	return bench_host_command("command -v " QEMU " >/dev/null 2>&1") == 0;
}

/* Host seconds of one QEMU run of the image with "arg count"; it must
 * leave through isa-debug-exit with 0 (status 1). */
static double qemu_seconds(const char *arg, uint64_t count)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 QEMU " -accel tcg -kernel '%s' -append '%s %llu' -display none -serial none"
		 " -no-reboot -m 128M -device isa-debug-exit,iobase=0xf4,iosize=0x04",
		 BENCH_GUEST_IMAGE, arg, (unsigned long long)count);
	double t0 = bench_wall_seconds();
	int st = bench_host_command(cmd);
	double t = bench_wall_seconds() - t0;
	if (st != 1)
		die("QEMU did not run the bench guest image to its debug exit");
	return t;
}

/* Instructions QEMU ran between the lo and hi counts: counted in mmulab
 * (the same image, a deterministic guest), at counts 1 and 2 for loops
 * that grow linearly, else at lo and hi themselves. */
static double guest_insn_delta(const struct guest_workload *w)
{
	double t;
	if (w->linear) {
		uint64_t one = mmulab_guest_run(w->arg, 1, &t), two = mmulab_guest_run(w->arg, 2, &t);
		return (double)(two - one) * (double)(w->hi - w->lo);
	}
	uint64_t lo = mmulab_guest_run(w->arg, w->lo, &t), hi = mmulab_guest_run(w->arg, w->hi, &t);
	return (double)(hi - lo);
}

/* Print QEMU's figure for w and mmulab's over it (cpu_figure, 0 = not
 * measured in this run). */
static void bench_qemu_one(const struct guest_workload *w, double cpu_figure)
{
	double dt = qemu_seconds(w->arg, w->hi) - qemu_seconds(w->arg, w->lo);
	if (dt <= 0)
		die("QEMU's run times do not grow with the count");
	double figure;
	if (w->bytes_per_count > 0) {
		figure = w->bytes_per_count * (double)(w->hi - w->lo) / dt / 1e9;
		printf("bench qemu_%s_gbs %.3f GB/s\n", w->name, figure);
	} else {
		figure = guest_insn_delta(w) / dt / 1e6;
		printf("bench qemu_%s_mips %.1f MIPS\n", w->name, figure);
	}
	if (cpu_figure > 0)
		printf("bench cpu_vs_qemu_%s_ratio %.2f x\n", w->name, cpu_figure / figure);
}

/* Under Bochs, the two loops its interpreter is compared on, at counts
 * that differ by a few seconds of Bochs's time each. */
static const struct guest_workload bochs_workloads[] = {
	{ "alu", "alu", 1000000, 30000000, true, 0 },
	{ "tlb", "tlb", 1, 65, true, 0 },
};

/* The shortest of BOCHS_TRIALS runs: a Bochs run's time swings by a
 * second or more with the machine's other load. */
#define BOCHS_TRIALS 2
static double bochs_seconds(const char *arg, uint64_t count, uint64_t *ticks)
{
	char args[64], err[700];
	double best = 0;
	snprintf(args, sizeof args, "%s %llu", arg, (unsigned long long)count);
	for (int i = 0; i < BOCHS_TRIALS; i++) {
		double t = bench_bochs_seconds(BENCH_GUEST_IMAGE, args, ticks, err, sizeof err);
		if (t < 0)
			die(err);
		if (i == 0 || t < best)
			best = t;
	}
	return best;
}

/* Print Bochs's figure for w and mmulab's over it. Bochs's ticks are its
 * instructions: their difference must be the one mmulab counts, or Bochs
 * ran something else. */
static void bench_bochs_one(const struct guest_workload *w, double cpu_figure)
{
	uint64_t ticks_lo, ticks_hi;
	double dt = bochs_seconds(w->arg, w->hi, &ticks_hi) - bochs_seconds(w->arg, w->lo, &ticks_lo);
	double insns = guest_insn_delta(w);
	double ticks = (double)ticks_hi - (double)ticks_lo;
	if (dt <= 0)
		die("Bochs's run times do not grow with the count");
	if (ticks < insns * 0.99 || ticks > insns * 1.01)
		die("Bochs's instruction count differs from mmulab's for the same workload");
	double figure = insns / dt / 1e6;
	printf("bench bochs_%s_mips %.1f MIPS\n", w->name, figure);
	if (cpu_figure > 0)
		printf("bench cpu_vs_bochs_%s_ratio %.2f x\n", w->name, cpu_figure / figure);
}
#endif

/* Arguments (alu, tlb, memcpy, movsb, cworkload, rss, qemu, bochs) pick
 * figures; none: all. */
int main(int argc, char **argv)
{
	double alu = 0, tlb = 0, copy = 0, movsb = 0, cwork = 0;
	if (wanted(argc, argv, "alu")) {
		alu = best_mips(alu_loop, sizeof alu_loop, false);
		printf("bench cpu_alu_mips %.1f MIPS\n", alu);
	}
	if (wanted(argc, argv, "tlb")) {
		tlb = best_mips(tlb_loop, sizeof tlb_loop, true);
		printf("bench cpu_tlb_mips %.1f MIPS\n", tlb);
	}
	if (wanted(argc, argv, "memcpy")) {
		copy = best_mips(memcpy_loop, sizeof memcpy_loop, false);
		printf("bench cpu_memcpy_mips %.1f MIPS\n", copy);
	}
	if (wanted(argc, argv, "movsb"))
		movsb = bench_movsb();
#ifdef BENCH_GUEST_IMAGE
	if (wanted(argc, argv, "cworkload")) {
		cwork = bench_c_workload();
		printf("bench cpu_c_workload_mips %.1f MIPS\n", cwork);
	}
#endif
	if (wanted(argc, argv, "rss"))
		printf("bench cpu_rss_mib %.0f MiB\n", peak_rss_mib());
#ifdef BENCH_GUEST_IMAGE
	const double cpu_figures[] = { alu, tlb, copy, movsb, cwork };
	if (wanted(argc, argv, "qemu") && qemu_installed())
		for (size_t i = 0; i < sizeof guest_workloads / sizeof guest_workloads[0]; i++)
			bench_qemu_one(&guest_workloads[i], cpu_figures[i]);
	if (wanted(argc, argv, "bochs") && bench_bochs_available())
		for (size_t i = 0; i < sizeof bochs_workloads / sizeof bochs_workloads[0]; i++)
			bench_bochs_one(&bochs_workloads[i], cpu_figures[i]);
#else
	(void)cwork;
#endif
	return 0;
}

static double bench_movsb(void)
{
	double best = 1e30;
	for (int i = 0; i < BENCH_TRIALS; i++) {
		uint64_t insns;
		double t = run(movsb_loop, sizeof movsb_loop, false, &insns);
		if (t < best)
			best = t;
	}
	double gbs = (double)MOVSB_BYTES * MOVSB_ROUNDS / best / 1e9;
	printf("bench cpu_rep_movsb_gbs %.2f GB/s\n", gbs);
	return gbs;
}
