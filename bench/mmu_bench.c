/* MMU benchmarks (issue targets: L1 TLB hit >= 200 Mtrans/s, full 4-level
 * walk with PWC misses through the cache model >= 10 Mwalks/s).
 *
 * Output: one line per figure, "bench <name> <value> <unit>". Wall-clock
 * time is host time and only ever used here, never inside the model.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmu/mmu.h"
#include "mmu/ptbuild.h"

/* Shared machines are noisy: each figure is the best of several trials. */
#define BENCH_TRIALS 5

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Map n 4K pages at la_base, each in its own PML4 slot when spread is set
 * (so every walk misses every paging-structure cache). */
static void bench_setup(struct mmu *m, struct ptb *pt, uint64_t n, bool spread)
{
	char err[200];
	struct mmu_model model;
	mmu_model_default(&model);
	if (!mmu_init(m, &model, UINT64_C(256) << 20, err, sizeof err)) {
		fprintf(stderr, "mmu_bench: %s\n", err);
		exit(1);
	}
	if (!ptb_init(pt, &m->phys, PAGING_4LEVEL, 0x100000, UINT64_C(200) << 20)) {
		fprintf(stderr, "mmu_bench: page-table pool\n");
		exit(1);
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t la = spread ? (i << 39) + (i << 30) + (i << 21) : (i << 12);
		if (!ptb_map(pt, la + 0x400000, 0x10000000 + (i << 12) % (UINT64_C(32) << 20), PG_4K,
			     PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, PTE_P | PTE_RW | PTE_US | PTE_A)) {
			fprintf(stderr, "mmu_bench: page-table pool exhausted\n");
			exit(1);
		}
	}
	mmu_set_control(m, CR0_PE | CR0_PG | CR0_WP, ptb_cr3(pt, 0), CR4_PAE,
			EFER_LME | EFER_LMA | EFER_NXE);
}

static void bench_tlb_hit(void)
{
	static struct mmu m;
	struct ptb pt;
	bench_setup(&m, &pt, 16, false);
	unsigned acc = mmu_acc(ACC_READ, 3, false, false);
	struct mmu_xlate x;
	uint64_t sum = 0, n = 50u * 1000 * 1000;
	for (uint64_t i = 0; i < 16; i++)
		if (mmu_translate(&m, 0x400000 + (i << 12), acc, &x))
			sum += x.pa;
	uint64_t hits0 = m.tlb[TLB_L1D][0].st.fast_hits;
	double best = 1e30;
	for (int trial = 0; trial < BENCH_TRIALS; trial++) {
		double t0 = now_seconds();
		for (uint64_t i = 0; i < n; i++) {
			uint64_t la = 0x400000 + ((i & 15) << 12) + (i & 0xff8);
			if (mmu_translate(&m, la, acc, &x))
				sum += x.pa;
		}
		double dt = now_seconds() - t0;
		best = dt < best ? dt : best;
	}
	if (m.tlb[TLB_L1D][0].st.fast_hits - hits0 < n * BENCH_TRIALS)
		fprintf(stderr, "mmu_bench: warning: not every translation hit the L1 TLB\n");
	printf("bench mmu_tlb_hit %.1f Mtrans/s\n", (double)n / best / 1e6);
	fprintf(stderr, "(checksum %" PRIx64 ")\n", sum);
	mmu_free(&m);
}

static void bench_walk(void)
{
	static struct mmu m;
	struct ptb pt;
	const uint64_t pages = 256;
	bench_setup(&m, &pt, pages, true);
	unsigned acc = mmu_acc(ACC_READ, 3, false, false);
	struct mmu_xlate x;
	uint64_t sum = 0, n = 4u * 1000 * 1000, i;
	struct mmu_fault f;
	double t0 = now_seconds();
	for (i = 0; i < n; i++) {
		uint64_t k = i % pages;
		uint64_t la = (k << 39) + (k << 30) + (k << 21) + 0x400000;
		if (la >= (UINT64_C(1) << 47))
			la |= UINT64_C(0xffff) << 48;
		/* INVLPG drops the TLB entry and every PWC entry of the PCID,
		 * so each translation is a full 4-level walk. */
		if (!mmu_invlpg(&m, la, &f))
			break;
		if (mmu_translate(&m, la, acc, &x))
			sum += x.pa + x.cycles;
	}
	double dt = now_seconds() - t0;
	if (m.stats.walk_reads[4] < n)
		fprintf(stderr, "mmu_bench: warning: %" PRIu64 " PML4E reads for %" PRIu64 " walks\n",
			m.stats.walk_reads[4], n);
	printf("bench mmu_walk %.2f Mwalks/s\n", (double)n / dt / 1e6);
	fprintf(stderr, "(checksum %" PRIx64 ")\n", sum);
	mmu_free(&m);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	if (!only || !strcmp(only, "tlb_hit"))
		bench_tlb_hit();
	if (!only || !strcmp(only, "walk"))
		bench_walk();
	return 0;
}
