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

#include "bench/clock.h"
#include "mmu/mmu.h"
#include "mmu/ptbuild.h"

/* Shared machines are noisy: each figure is the best of several trials. */
#define BENCH_TRIALS 5

/* Map n consecutive 4K pages at 0x400000. */
static void bench_setup(struct mmu *m, struct ptb *pt, uint64_t n)
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
		uint64_t la = i << 12;
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
	bench_setup(&m, &pt, 16);
	unsigned acc = mmu_acc(ACC_READ, 3, false, false);
	struct mmu_xlate x;
	uint64_t sum = 0, n = 50u * 1000 * 1000;
	for (uint64_t i = 0; i < 16; i++)
		if (mmu_translate(&m, 0x400000 + (i << 12), acc, &x))
			sum += x.pa;
	uint64_t hits0 = m.tlb[TLB_L1D][0].st.fast_hits;
	double best = 1e30;
	for (int trial = 0; trial < BENCH_TRIALS; trial++) {
		double t0 = bench_wall_seconds();
		for (uint64_t i = 0; i < n; i++) {
			uint64_t la = 0x400000 + ((i & 15) << 12) + (i & 0xff8);
			if (mmu_translate(&m, la, acc, &x))
				sum += x.pa;
		}
		double dt = bench_wall_seconds() - t0;
		best = dt < best ? dt : best;
	}
	if (m.tlb[TLB_L1D][0].st.fast_hits - hits0 < n * BENCH_TRIALS)
		fprintf(stderr, "mmu_bench: warning: not every translation hit the L1 TLB\n");
	printf("bench mmu_tlb_hit %.1f Mtrans/s\n", (double)n / best / 1e6);
	fprintf(stderr, "(checksum %" PRIx64 ")\n", sum);
	mmu_free(&m);
}

/* Walk benchmarks. Both cycle through pages in an order that makes every
 * TLB structure and every paging-structure cache miss, so every
 * translation is a full 4-level walk from CR3.
 *
 * mmu_walk: 32 pages whose page numbers fall in one L1 DTLB set and two
 * L2 TLB sets (16 per 12-way set), whose PDEs fall in one PDE-cache set,
 * and whose PML4Es and PDPTEs are all distinct (4-entry caches). Their 128
 * paging-structure lines fit the modelled L1D, as in a loop whose pages
 * exceed the TLBs but whose page tables stay cached.
 *
 * mmu_walk_cold: 8192 pages sharing no paging structure, so the walk reads
 * also miss the modelled L1D and L2 (and the host's caches). */
static uint64_t walk_la_hot(uint64_t k)
{
	uint64_t pt = (k & 1) * 64 + 5 + 128 * ((k >> 1) & 3);
	return k << 39 | (k * 8 + 1) << 30 | (k * 8 + 2) << 21 | pt << 12;
}

static uint64_t walk_la_cold(uint64_t k)
{
	return (k & 255) << 39 | ((k >> 8) & 31) << 30 | (k & 511) << 21 | (k & 127) << 12;
}

static void bench_walk(const char *name, uint64_t (*walk_la)(uint64_t), uint64_t pages,
		       bool tables_in_l1d)
{
	static struct mmu m;
	char err[200];
	struct mmu_model model;
	struct ptb pt;
	mmu_model_default(&model);
	if (pages & (pages - 1)) {
		fprintf(stderr, "mmu_bench: %s: page count must be a power of two\n", name);
		exit(1);
	}
	if (!mmu_init(&m, &model, UINT64_C(256) << 20, err, sizeof err) ||
	    !ptb_init(&pt, &m.phys, PAGING_4LEVEL, 0x100000, UINT64_C(200) << 20)) {
		fprintf(stderr, "mmu_bench: %s\n", err);
		exit(1);
	}
	for (uint64_t k = 0; k < pages; k++)
		if (!ptb_map(&pt, walk_la(k), 0x10000000 + (k << 12), PG_4K,
			     PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, PTE_P | PTE_RW | PTE_US | PTE_A)) {
			fprintf(stderr, "mmu_bench: page-table pool exhausted\n");
			exit(1);
		}
	mmu_set_control(&m, CR0_PE | CR0_PG | CR0_WP, ptb_cr3(&pt, 0), CR4_PAE,
			EFER_LME | EFER_LMA | EFER_NXE);
	unsigned acc = mmu_acc(ACC_READ, 3, false, false);
	struct mmu_xlate x;
	uint64_t sum = 0, n = 1000u * 1000;
	/* The addresses are computed before the clock starts: an indirect
	 * call to walk_la per translation cost about 20 host instructions,
	 * 2% of a walk, which were the harness's, not the MMU's. */
	uint64_t *las = malloc(pages * sizeof *las);
	if (!las) {
		fprintf(stderr, "mmu_bench: out of memory\n");
		exit(1);
	}
	for (uint64_t k = 0; k < pages; k++)
		las[k] = walk_la(k);
	for (uint64_t k = 0; k < pages; k++) /* warm the data caches */
		if (mmu_translate(&m, las[k], acc, &x))
			sum += x.pa;
	mmu_stats_reset(&m);
	double best = 1e30;
	for (int trial = 0; trial < BENCH_TRIALS; trial++) {
		double t0 = bench_wall_seconds();
		for (uint64_t i = 0; i < n; i++)
			if (mmu_translate(&m, las[i & (pages - 1)], acc, &x))
				sum += x.pa + x.cycles;
		double dt = bench_wall_seconds() - t0;
		best = dt < best ? dt : best;
	}
	/* Check the scenario: every translation walked from CR3 (4 reads) and
	 * the reads were served where the scenario says. */
	uint64_t total = n * BENCH_TRIALS, reads = total * 4;
	uint64_t in_l1d = m.stats.walk_cache[CACHE_L1D];
	if (m.stats.walks != total || m.stats.walk_reads[4] != total ||
	    (tables_in_l1d ? in_l1d < reads * 9 / 10 : in_l1d > reads / 10))
		fprintf(stderr, "mmu_bench: warning: %s: %" PRIu64 " walks, %" PRIu64 " from CR3, %" PRIu64
			" of %" PRIu64 " reads served by the L1D, for %" PRIu64 " translations\n",
			name, m.stats.walks, m.stats.walk_reads[4], in_l1d, reads, total);
	printf("bench %s %.2f Mwalks/s\n", name, (double)n / best / 1e6);
	fprintf(stderr, "(checksum %" PRIx64 ")\n", sum);
	free(las);
	mmu_free(&m);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	if (!only || !strcmp(only, "tlb_hit"))
		bench_tlb_hit();
	if (!only || !strcmp(only, "walk"))
		bench_walk("mmu_walk", walk_la_hot, 32, true);
	if (!only || !strcmp(only, "walk_cold"))
		bench_walk("mmu_walk_cold", walk_la_cold, 8192, false);
	return 0;
}
