/* Cycle costs of translation scenarios, computed by hand from the model
 * files (mmu/models/flat.model and skylake.model). */
#include <criterion/criterion.h>

#include "tests/support.h"

static uint32_t cycles_of(struct fixture *f, uint64_t la, unsigned acc)
{
	struct mmu_xlate x;
	cr_assert(mmu_translate(&f->m, la, acc, &x), "la %#llx faulted", (unsigned long long)la);
	return x.cycles;
}

/* flat: L1 hit 1, L2 10, walk start 5, 100 per walk read, 50 per A/D
 * update, PWC hit 2. */
Test(timing, flat_model_hand_computed_costs)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW, PT_KRW);
	fixture_map(f, 0x401000, 0xa000, PG_4K, PT_KRW | PTE_A, PT_KRW);
	fixture_map(f, 0x404000, 0xb000, PG_4K, PT_KRW | PTE_A, PT_KRW);
	fixture_map(f, 0x408000, 0xc000, PG_4K, PT_KRW | PTE_A, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	/* Cold: L2 miss 10 + start 5 + 4 reads x 100 + 4 A updates x 50. */
	cr_assert_eq(cycles_of(f, 0x400000, K_READ), 10 + 5 + 400 + 200);
	cr_assert_eq(cycles_of(f, 0x400008, K_READ), 1, "L1 hit");
	/* PDE-cache hit: 10 + 5 + 2 + one PTE read, A already set. */
	cr_assert_eq(cycles_of(f, 0x401000, K_READ), 10 + 5 + 2 + 100);
	/* A write to an entry cached with D = 0: the L1 hit latency, then a
	 * walk from the PDE cache that sets D. */
	cr_assert_eq(cycles_of(f, 0x401000, K_WRITE), 1 + 10 + 5 + 2 + 100 + 50);
	/* 0x400000, 0x404000, 0x408000 share L1 set 0 (2 ways): the third
	 * evicts the first, which then hits in the L2 TLB. */
	cr_assert_eq(cycles_of(f, 0x404000, K_READ), 10 + 5 + 2 + 100);
	cr_assert_eq(cycles_of(f, 0x408000, K_READ), 10 + 5 + 2 + 100);
	cr_assert_eq(cycles_of(f, 0x400000, K_READ), 10, "L2 hit");
	cr_assert_eq(mmu_stats_cycles(&f->m), 615 + 1 + 117 + 168 + 117 + 117 + 10);
	fixture_free(f);
}

/* skylake: L2 TLB 9, walk start 4, PWC 1, L1D 4, DRAM 230, A/D 20. */
Test(timing, skylake_model_walk_through_the_data_caches)
{
	struct fixture *f = fixture_new("skylake", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW | PTE_A, PT_KRW | PTE_A);
	fixture_map(f, 0x401000, 0xa000, PG_4K, PT_KRW | PTE_A, PT_KRW | PTE_A);
	fixture_enable(f, 0, 0, 0);
	/* Every walk read misses every cache level. */
	cr_assert_eq(cycles_of(f, 0x400000, K_READ), 9 + 4 + 4 * 230);
	/* Neighbouring PTE: PDE-cache hit, and the PTE's line is in L1D. */
	cr_assert_eq(cycles_of(f, 0x401000, K_READ), 9 + 4 + 1 + 4);
	cr_assert_eq(f->m.stats.walk_cache[CACHE_DRAM], 4);
	cr_assert_eq(f->m.stats.walk_cache[CACHE_L1D], 1);
	/* After a CR3 write the tables are still in the data caches. */
	struct mmu_fault fault;
	cr_assert(mmu_write_cr3(&f->m, f->m.cr3, &fault));
	cr_assert_eq(cycles_of(f, 0x400000, K_READ), 9 + 4 + 4 * 4);
	cr_assert_eq(cycles_of(f, 0x400000, K_READ), 1, "L1 DTLB hit");
	fixture_free(f);
}

Test(timing, fault_costs_are_reported)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW | PTE_A, PT_KRW | PTE_A);
	fixture_enable(f, 0, 0, 0);
	struct mmu_xlate x;
	cr_assert(!mmu_translate(&f->m, 0x401000, K_READ, &x));
	cr_assert_eq(x.cycles, 10 + 5 + 400, "the walk up to the not-present PTE");
	cr_assert_eq(x.walk_reads, 4);
	fixture_free(f);
}
