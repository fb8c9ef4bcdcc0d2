/* CPU benchmarks: guest code run by the interpreter with the full MMU model
 * and cycle accounting on (the default Skylake-like model).
 *
 *   cpu_alu_mips       an integer loop (add/xor/sub/dec/jnz)
 *   cpu_tlb_mips       a loop reading one byte per 4-KByte page across
 *                      512 MiB, so every access misses the TLBs
 *   cpu_memcpy_mips    a qword copy loop over 64 KiB (load, store, adds)
 *   cpu_rep_movsb_gbs  rep movsb of 64 KiB, repeated
 *   cpu_rss_mib        the process's peak resident set after the above,
 *                      against the guest RAM they touched (512 MiB + tables)
 *
 * Output: "bench <name> <value> <unit>". Host time is used only here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu/cpu.h"
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

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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
	double t0 = now_seconds();
	enum cpu_stop s = cpu_run(&c, UINT64_MAX);
	double t = now_seconds() - t0;
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

static void bench_movsb(void);

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

/* Arguments (alu, tlb, movsb) pick figures; none: all. */
int main(int argc, char **argv)
{
	if (wanted(argc, argv, "alu"))
		printf("bench cpu_alu_mips %.1f MIPS\n", best_mips(alu_loop, sizeof alu_loop, false));
	if (wanted(argc, argv, "tlb"))
		printf("bench cpu_tlb_mips %.1f MIPS\n", best_mips(tlb_loop, sizeof tlb_loop, true));
	if (wanted(argc, argv, "memcpy"))
		printf("bench cpu_memcpy_mips %.1f MIPS\n", best_mips(memcpy_loop, sizeof memcpy_loop, false));
	if (wanted(argc, argv, "movsb"))
		bench_movsb();
	if (wanted(argc, argv, "rss"))
		printf("bench cpu_rss_mib %.0f MiB\n", peak_rss_mib());
	return 0;
}

static void bench_movsb(void)
{
	double best = 1e30;
	for (int i = 0; i < BENCH_TRIALS; i++) {
		uint64_t insns;
		double t = run(movsb_loop, sizeof movsb_loop, false, &insns);
		if (t < best)
			best = t;
	}
	printf("bench cpu_rep_movsb_gbs %.2f GB/s\n",
	       (double)MOVSB_BYTES * MOVSB_ROUNDS / best / 1e9);
}
