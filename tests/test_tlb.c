/* TLB behaviour: capacity, associativity, LRU order, global pages, PCIDs,
 * INVLPG of large pages, INVPCID types, PWC use and invalidation. The flat
 * model has 8-entry 2-way L1 TLBs (4 sets) and a 32-entry 4-way L2. */
#include <criterion/criterion.h>

#include "tests/support.h"

static bool read_ok(struct fixture *f, uint64_t la, struct mmu_xlate *x)
{
	return mmu_translate(&f->m, la, K_READ, x);
}

static int source_of(struct fixture *f, uint64_t la)
{
	struct mmu_xlate x;
	cr_assert(read_ok(f, la, &x), "la %#llx faulted", (unsigned long long)la);
	return x.source;
}

static bool in_l1d(struct fixture *f, uint64_t la)
{
	for (unsigned i = 0; i < f->m.ntlb[TLB_L1D]; i++)
		if (tlb_probe(&f->m.tlb[TLB_L1D][i], la, f->m.pcid))
			return true;
	return false;
}

static struct fixture *pages(unsigned n, uint64_t flags)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	for (unsigned i = 0; i < n; i++)
		fixture_map(f, 0x400000 + ((uint64_t)i << 12), 0x1000000 + ((uint64_t)i << 12), PG_4K,
			    PT_KRW | PTE_A | PTE_D | flags, PT_KRW);
	return f;
}

#define PAGE(i) (0x400000 + ((uint64_t)(i) << 12))

Test(tlb, set_associativity_and_lru_eviction_order)
{
	struct fixture *f = pages(16, 0);
	fixture_enable(f, 0, 0, 0);
	/* Pages 0, 4, 8 share L1 set 0 (4 sets); 2 ways. */
	cr_assert_eq(source_of(f, PAGE(0)), SRC_WALK);
	cr_assert_eq(source_of(f, PAGE(4)), SRC_WALK);
	cr_assert_eq(source_of(f, PAGE(0)), SRC_L1); /* 0 is now most recent */
	cr_assert_eq(source_of(f, PAGE(8)), SRC_WALK); /* evicts 4, the LRU way */
	cr_assert(in_l1d(f, PAGE(0)));
	cr_assert(!in_l1d(f, PAGE(4)));
	cr_assert(in_l1d(f, PAGE(8)));
	/* 4 is still in the L2 TLB (8 sets, 4 ways). */
	cr_assert_eq(source_of(f, PAGE(4)), SRC_L2);
	cr_assert_eq(tlb_evictions(&f->m.tlb[TLB_L1D][0].st), 2);
	fixture_free(f);
}

Test(tlb, capacity_is_entries)
{
	struct fixture *f = pages(16, 0);
	fixture_enable(f, 0, 0, 0);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(source_of(f, PAGE(i)), SRC_WALK);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(source_of(f, PAGE(i)), SRC_L1, "page %u within capacity", i);
	cr_assert_eq(source_of(f, PAGE(8)), SRC_WALK);
	cr_assert(!in_l1d(f, PAGE(0)), "page 0 was the LRU of set 0");
	fixture_free(f);
}

Test(tlb, global_entries_survive_cr3_writes)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW | PTE_G, PT_KRW);
	fixture_map(f, 0x401000, 0xa000, PG_4K, PT_KRW, PT_KRW);
	fixture_enable(f, 0, CR4_PGE, 0);
	source_of(f, 0x400000);
	source_of(f, 0x401000);
	struct mmu_fault fault;
	cr_assert(mmu_write_cr3(&f->m, f->m.cr3, &fault));
	cr_assert_eq(source_of(f, 0x400000), SRC_L1, "global entry kept");
	cr_assert_eq(source_of(f, 0x401000), SRC_WALK, "non-global entry flushed");
	/* Without CR4.PGE the G flag is ignored. */
	cr_assert(mmu_write_cr4(&f->m, f->m.cr4 & ~CR4_PGE, &fault));
	source_of(f, 0x400000);
	cr_assert(mmu_write_cr3(&f->m, f->m.cr3, &fault));
	cr_assert_eq(source_of(f, 0x400000), SRC_WALK);
	fixture_free(f);
}

Test(tlb, toggling_pge_flushes_global_entries)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW | PTE_G, PT_KRW);
	fixture_enable(f, 0, CR4_PGE, 0);
	source_of(f, 0x400000);
	struct mmu_fault fault;
	cr_assert(mmu_write_cr4(&f->m, f->m.cr4 & ~CR4_PGE, &fault));
	cr_assert_eq(source_of(f, 0x400000), SRC_WALK);
	fixture_free(f);
}

Test(tlb, pcids_isolate_address_spaces_and_noflush_keeps_entries)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	struct ptb other;
	cr_assert(ptb_init(&other, &f->m.phys, PAGING_4LEVEL, 0x900000, 0xa00000));
	cr_assert(ptb_map(&other, 0x400000, 0xb000, PG_4K, PT_KRW, PT_KRW));
	struct mmu_fault fault;
	/* CR4.PCIDE may be set only while CR3[11:0] = 0 (§4.10.1). */
	cr_assert(!mmu_write_cr3(&f->m, ptb_cr3(&f->pt, 1), &fault) ||
		  !mmu_write_cr4(&f->m, f->m.cr4 | CR4_PCIDE, &fault));
	cr_assert_eq(fault.vector, VEC_GP);
	cr_assert(mmu_write_cr3(&f->m, ptb_cr3(&f->pt, 0), &fault));
	cr_assert(mmu_write_cr4(&f->m, f->m.cr4 | CR4_PCIDE, &fault));
	cr_assert(mmu_write_cr3(&f->m, ptb_cr3(&f->pt, 1), &fault));
	struct mmu_xlate x;
	cr_assert(read_ok(f, 0x400000, &x));
	cr_assert_eq(x.pa, 0x9000);
	/* Switch to PCID 2 without flushing: PCID 1's entry must not be used. */
	cr_assert(mmu_write_cr3(&f->m, ptb_cr3(&other, 2) | CR3_NOFLUSH, &fault));
	cr_assert(read_ok(f, 0x400000, &x));
	cr_assert_eq(x.pa, 0xb000, "PCID 2 sees its own mapping");
	cr_assert_eq(x.source, SRC_WALK);
	/* Back to PCID 1 with the no-flush bit: its entry is still there. */
	cr_assert(mmu_write_cr3(&f->m, ptb_cr3(&f->pt, 1) | CR3_NOFLUSH, &fault));
	cr_assert(read_ok(f, 0x400000, &x));
	cr_assert_eq(x.pa, 0x9000);
	cr_assert_eq(x.source, SRC_L1);
	/* Without the no-flush bit, PCID 1's entries go, PCID 2's stay. */
	cr_assert(mmu_write_cr3(&f->m, ptb_cr3(&f->pt, 1), &fault));
	cr_assert(!tlb_probe(&f->m.tlb[TLB_L1D][0], 0x400000, 1));
	cr_assert(tlb_probe(&f->m.tlb[TLB_L1D][0], 0x400000, 2));
	fixture_free(f);
}

Test(tlb, invlpg_of_any_address_in_a_large_page_drops_it)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x200000, 0x600000, PG_2M, PT_KRW, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	source_of(f, 0x2ff000);
	cr_assert_eq(source_of(f, 0x200000), SRC_L1);
	struct mmu_fault fault;
	cr_assert(mmu_invlpg(&f->m, 0x3ff123, &fault));
	cr_assert_eq(source_of(f, 0x200000), SRC_WALK);
	fixture_free(f);
}

/* A 4K key holds linear-address bits 59:12; the entry's address must
 * still carry the kernel half's upper bits, or INVLPG of a kernel page
 * (SDM Vol. 3A §4.10.4.1) would miss it. */
Test(tlb, invlpg_drops_a_4k_page_of_the_kernel_half)
{
	const uint64_t la = UINT64_C(0xffffc90000008000);
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, la, 0x600000, PG_4K, PT_KRW | PTE_A | PTE_D, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	source_of(f, la);
	cr_assert_eq(source_of(f, la + 0x123), SRC_L1);
	const struct tlb_entry *e = tlb_probe(&f->m.tlb[TLB_L1D][0], la, f->m.pcid);
	cr_assert(e);
	cr_assert_eq(tlb_entry_la(e), la);
	struct mmu_fault fault;
	cr_assert(mmu_invlpg(&f->m, la + 0x456, &fault));
	cr_assert(!in_l1d(f, la));
	cr_assert_eq(source_of(f, la), SRC_WALK);
	fixture_free(f);
}

Test(tlb, splintered_large_page_is_dropped_whole_by_invlpg)
{
	/* The Skylake L1 ITLB has no 1G entries: a fetch from a 1G page is
	 * held as a 2M fragment there. */
	struct fixture *f = fixture_new("skylake", PAGING_4LEVEL);
	fixture_map(f, 0x40000000, 0x0, PG_1G, PT_KRW, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	struct mmu_xlate x;
	cr_assert(mmu_translate(&f->m, 0x40123456, K_FETCH, &x));
	cr_assert_eq(x.pa, 0x123456);
	struct tlb_entry *e = tlb_probe(&f->m.tlb[TLB_L1I][1], 0x40123456, 0);
	cr_assert_not_null(e, "held in the 2M ITLB");
	cr_assert_eq(e->size, PG_2M);
	cr_assert_eq(e->orig_size, PG_1G);
	cr_assert(mmu_translate(&f->m, 0x40123456, K_FETCH, &x));
	cr_assert_eq(x.source, SRC_L1);
	struct mmu_fault fault;
	cr_assert(mmu_invlpg(&f->m, 0x7fffffff, &fault)); /* last byte of the 1G page */
	cr_assert_null(tlb_probe(&f->m.tlb[TLB_L1I][1], 0x40123456, 0));
	fixture_free(f);
}

Test(tlb, invpcid_types_zero_to_three)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW, PT_KRW);
	fixture_map(f, 0x401000, 0xa000, PG_4K, PT_KRW | PTE_G, PT_KRW);
	fixture_enable(f, 0, CR4_PGE, 0);
	struct mmu_fault fault;
	cr_assert(mmu_write_cr4(&f->m, f->m.cr4 | CR4_PCIDE, &fault));
	cr_assert(mmu_write_cr3(&f->m, ptb_cr3(&f->pt, 3), &fault));
	struct tlb *t = &f->m.tlb[TLB_L1D][0];
#define WARM() (source_of(f, 0x400000), source_of(f, 0x401000))
	WARM();
	/* Type 0: one address of one PCID, not global translations. */
	cr_assert(mmu_invpcid(&f->m, INVPCID_ADDR, 3, 0x401000, &fault));
	cr_assert_not_null(tlb_probe(t, 0x401000, 3), "global kept by type 0");
	cr_assert(mmu_invpcid(&f->m, INVPCID_ADDR, 3, 0x400000, &fault));
	cr_assert_null(tlb_probe(t, 0x400000, 3));
	/* Type 0 for another PCID leaves ours alone. */
	WARM();
	cr_assert(mmu_invpcid(&f->m, INVPCID_ADDR, 4, 0x400000, &fault));
	cr_assert_not_null(tlb_probe(t, 0x400000, 3));
	/* Type 1: all non-global entries of one PCID. */
	cr_assert(mmu_invpcid(&f->m, INVPCID_SINGLE, 3, 0, &fault));
	cr_assert_null(tlb_probe(t, 0x400000, 3));
	cr_assert_not_null(tlb_probe(t, 0x401000, 3));
	/* Type 3: all non-global entries. */
	WARM();
	cr_assert(mmu_invpcid(&f->m, INVPCID_ALL_NONGLOBAL, 0, 0, &fault));
	cr_assert_null(tlb_probe(t, 0x400000, 3));
	cr_assert_not_null(tlb_probe(t, 0x401000, 3));
	/* Type 2: everything, globals included. */
	cr_assert(mmu_invpcid(&f->m, INVPCID_ALL_GLOBAL, 0, 0, &fault));
	cr_assert_null(tlb_probe(t, 0x401000, 3));
	/* Bad operands: #GP(0). */
	cr_assert(!mmu_invpcid(&f->m, 4, 0, 0, &fault));
	cr_assert_eq(fault.vector, VEC_GP);
	cr_assert(!mmu_invpcid(&f->m, INVPCID_SINGLE, 0x1000, 0, &fault));
	cr_assert(!mmu_invpcid(&f->m, INVPCID_ADDR, 3, UINT64_C(0x0000800000000000), &fault));
	fixture_free(f);
}

Test(tlb, stale_entries_are_used_until_invalidated)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	struct mmu_xlate x;
	cr_assert(read_ok(f, 0x400000, &x));
	uint64_t pte_pa = ptb_entry_pa(&f->pt, 0x400000, 1);
	phys_write(&f->m.phys, pte_pa, 0xc000 | PT_KRW | PTE_A, 8);
	cr_assert(read_ok(f, 0x400000, &x));
	cr_assert_eq(x.pa, 0x9000, "the TLB is not coherent with memory");
	struct mmu_fault fault;
	cr_assert(mmu_invlpg(&f->m, 0x400000, &fault));
	cr_assert(read_ok(f, 0x400000, &x));
	cr_assert_eq(x.pa, 0xc000);
	fixture_free(f);
}

Test(tlb, fault_from_stale_rights_invalidates_the_entry)
{
	/* A page made writable without INVLPG: the first write faults on the
	 * cached rights (as on hardware, a "spurious" fault), the #PF drops
	 * the entry, and the retry succeeds. */
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PTE_P | PTE_US, PT_URW);
	fixture_enable(f, CR0_WP, 0, 0);
	struct mmu_xlate x;
	cr_assert(mmu_translate(&f->m, 0x400000, U_READ, &x));
	uint64_t pte_pa = ptb_entry_pa(&f->pt, 0x400000, 1);
	phys_write(&f->m.phys, pte_pa, phys_read(&f->m.phys, pte_pa, 8) | PTE_RW, 8);
	cr_assert(!mmu_translate(&f->m, 0x400000, U_WRITE, &x));
	cr_assert_eq(x.fault.error_code, PFEC_P | PFEC_WR | PFEC_US);
	cr_assert_eq(x.source, SRC_NOPAGING + 0, "fault outcome carries no source");
	cr_assert(mmu_translate(&f->m, 0x400000, U_WRITE, &x));
	cr_assert_eq(x.source, SRC_WALK);
	fixture_free(f);
}

Test(tlb, pwc_shortens_walks_and_is_invalidated)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW, PT_KRW);
	fixture_map(f, 0x401000, 0xa000, PG_4K, PT_KRW, PT_KRW);
	fixture_map(f, 0x40000000, 0xb000, PG_4K, PT_KRW, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	struct mmu_xlate x;
	cr_assert(read_ok(f, 0x400000, &x));
	cr_assert_eq(x.walk_reads, 4);
	cr_assert(read_ok(f, 0x401000, &x));
	cr_assert_eq(x.pwc_level, 2, "PDE cache hit");
	cr_assert_eq(x.walk_reads, 1);
	cr_assert(read_ok(f, 0x40000000, &x));
	cr_assert_eq(x.pwc_level, 4, "PML4E cache hit: same PML4 slot");
	cr_assert_eq(x.walk_reads, 3, "PDPTE, PDE, PTE");
	/* The PDE cache is used even when the PDE in memory changed. */
	uint64_t pde_pa = ptb_entry_pa(&f->pt, 0x402000, 2);
	uint64_t pde = phys_read(&f->m.phys, pde_pa, 8);
	phys_write(&f->m.phys, pde_pa, 0, 8);
	fixture_map(f, 0x402000, 0xc000, PG_4K, PT_KRW, PT_KRW); /* rebuilds a new PT */
	phys_write(&f->m.phys, pde_pa, pde, 8);                   /* restore old PDE */
	cr_assert(!read_ok(f, 0x402000, &x), "old PT via PDE cache has no PTE for 0x402000");
	cr_assert_eq(x.pwc_level, 2);
	/* #PF dropped the PWC entries of the PCID: the next walk starts at the top. */
	cr_assert(!read_ok(f, 0x402000, &x));
	cr_assert_eq(x.walk_reads, 4);
	fixture_free(f);
}

Test(tlb, cr0_pg_clear_flushes_everything)
{
	struct fixture *f = fixture_new("flat", PAGING_PAE);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW | PTE_G, PT_KRW);
	fixture_enable(f, 0, CR4_PGE, 0);
	source_of(f, 0x400000);
	struct mmu_fault fault;
	cr_assert(mmu_write_cr0(&f->m, f->m.cr0 & ~CR0_PG, &fault));
	cr_assert(mmu_write_cr0(&f->m, f->m.cr0 | CR0_PG, &fault));
	cr_assert_eq(source_of(f, 0x400000), SRC_WALK);
	fixture_free(f);
}

/* The inline path probes the second L1 structure (2M pages) directly where
 * the first holds nothing in la's 2 MiB region bucket; every outcome and
 * count must be what the generic path gives (a miss in the first
 * structure, a hit in the second). */
Test(tlb, a_2m_hit_past_an_empty_4k_region_counts_as_the_generic_path)
{
	struct fixture *f[2];
	for (unsigned k = 0; k < 2; k++) {
		f[k] = fixture_new("skylake", PAGING_4LEVEL);
		fixture_map(f[k], 0x200000, 0x600000, PG_2M, PT_KRW | PTE_A | PTE_D, PT_KRW);
		fixture_map(f[k], 0x1000000, 0x800000, PG_4K, PT_KRW | PTE_A | PTE_D, PT_KRW);
		fixture_enable(f[k], 0, 0, 0);
	}
	static const uint64_t las[] = {0x200010, 0x1000000, 0x3ff000, 0x1000008, 0x200040, 0x2a0000,
				       0x1000ff0, 0x3fffff};
	for (unsigned r = 0; r < 3; r++)
		for (unsigned i = 0; i < sizeof las / sizeof las[0]; i++) {
			struct mmu_xlate xa, xb;
			cr_assert(mmu_translate(&f[0]->m, las[i], K_READ, &xa));
			cr_assert(mmu_translate_slow(&f[1]->m, las[i], K_READ, &xb));
			cr_assert_eq(xa.pa, xb.pa);
			cr_assert_eq(xa.meta, xb.meta, "la %#llx", (unsigned long long)las[i]);
		}
	const struct tlb *a4k = &f[0]->m.tlb[TLB_L1D][0], *a2m = &f[0]->m.tlb[TLB_L1D][1];
	cr_assert_gt(a2m->st.hits, 10, "the 2M hits took the structure-skipping path");
	cr_assert_gt(a4k->st.fast_hits, 4, "the 4K hits took the inline path");
	uint64_t fast = 0;
	for (unsigned i = 0; i < f[0]->m.ntlb[TLB_L1D]; i++) {
		const struct tlb_stats *sa = &f[0]->m.tlb[TLB_L1D][i].st, *sb = &f[1]->m.tlb[TLB_L1D][i].st;
		cr_assert_eq(sa->hits + sa->fast_hits, sb->hits + sb->fast_hits, "structure %u", i);
		cr_assert_eq(sa->misses, sb->misses, "structure %u", i);
		cr_assert_eq(sa->fills, sb->fills, "structure %u", i);
		fast += sa->fast_hits - sb->fast_hits;
	}
	cr_assert_eq(f[0]->m.stats.translations + fast, f[1]->m.stats.translations);
	cr_assert_eq(mmu_stats_cycles(&f[0]->m), mmu_stats_cycles(&f[1]->m));
	fixture_free(f[0]);
	fixture_free(f[1]);
}

/* An L2 structure keeps each set's LRU order as a word (the victim is read,
 * not searched); an L1 structure of the same geometry compares stamps.
 * Driven through the same random fills, hits, drops and flushes, both must
 * hold the same entries, stamps and counters at every step, the order
 * word and tag bytes must be the ones the entries give, and the L1
 * structure's region counts (kept here as the first L1 structures keep
 * them) must count its entries. */
static void order_matches_stamps(uint32_t entries, uint32_t ways)
{
	struct mmu_tlb_geom g = { .entries = entries, .ways = ways,
				  .sizes = PG_SIZE_BIT(PG_4K) | PG_SIZE_BIT(PG_2M), .latency = 7 };
	struct tlb ord, ref;
	cr_assert(tlb_init(&ord, &g, TLB_L2) && tlb_init(&ref, &g, TLB_L1D));
	cr_assert_not_null(ord.order, "%u ways: an order word per set", ways);
	cr_assert_null(ref.order);
	ref.track_regions = 1; /* as the first L1 structures keep them (mmu_init) */
	uint64_t rng = 0x9e3779b97f4a7c15u ^ ways;
	for (unsigned step = 0; step < 20000; step++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		/* Few enough pages that sets fill, overflow and hit. */
		unsigned page = (unsigned)(rng >> 8) % (entries * 2);
		enum mmu_page_size s = (rng >> 40) % 8 == 0 ? PG_2M : PG_4K;
		uint64_t la = (uint64_t)page << mmu_page_shift(s);
		uint16_t pcid = (uint16_t)((rng >> 44) % 3);
		unsigned op = (unsigned)(rng >> 50) % 64;
		struct tlb *t[2] = { &ord, &ref };
		for (unsigned k = 0; k < 2; k++) {
			tlb_set_pcid(t[k], pcid);
			if (op == 0)
				(void)tlb_invalidate(t[k], (enum tlb_inv_scope)((rng >> 20) % 3), pcid);
			else if (op < 8)
				(void)tlb_invalidate_addr(t[k], la, pcid, op & 1);
			else if (!tlb_lookup(t[k], la, pcid) && op < 40 && !tlb_probe(t[k], la, pcid))
				(void)tlb_fill(t[k], la, la | 0x80000000u, s, s,
					       (uint16_t)(op == 9 ? TLB_PCID_GLOBAL : pcid), 7, 0, NULL);
		}
		cr_assert(tlb_consistent(&ord), "%u ways, step %u: order against stamps", ways,
			  step);
		cr_assert(tlb_consistent(&ref), "%u ways, step %u: counts against the entries",
			  ways, step);
		cr_assert(!memcmp(ord.e, ref.e, (size_t)entries * sizeof *ord.e) &&
				  ord.clock == ref.clock && !memcmp(&ord.st, &ref.st, sizeof ord.st),
			  "%u ways, step %u: the structures diverged", ways, step);
	}
	tlb_free(&ord);
	tlb_free(&ref);
}

Test(tlb, l2_order_word_replaces_as_the_stamps_do)
{
	order_matches_stamps(32, 4);
	order_matches_stamps(96, 12);
	order_matches_stamps(1536, 12);
	order_matches_stamps(64, 16);
	order_matches_stamps(8, 1);
	order_matches_stamps(16, 2);
}

/* An L2 probe compares a set's tag bytes first and reads the keys of the
 * matching ways alone: pages whose tags collide must still be told apart
 * by their keys, a colliding page not cached must miss, and kernel-half
 * pages (linear-address bits 63:60 set, which a key drops) must hit. */
Test(tlb, l2_tag_collisions_are_settled_by_the_keys)
{
	struct mmu_tlb_geom g = { .entries = 1536, .ways = 12,
				  .sizes = PG_SIZE_BIT(PG_4K) | PG_SIZE_BIT(PG_2M), .latency = 7 };
	struct tlb t;
	cr_assert(tlb_init(&t, &g, TLB_L2));
	cr_assert_not_null(t.tag);
	/* 13 pages of set 5 with one tag, from both halves of the address
	 * space. */
	uint64_t la[13];
	unsigned n = 0;
	uint8_t want = 0;
	for (uint64_t vpn = 5; n < 13; vpn += t.sets) {
		uint64_t a = (n & 1 ? UINT64_C(0xffff800000000000) : 0) | vpn << 12;
		uint8_t tag = tlb_tag(tlb_key(a, PG_4K, 0));
		if (!want)
			want = tag;
		if (tag == want)
			la[n++] = a;
	}
	for (unsigned i = 0; i < 12; i++)
		(void)tlb_fill(&t, la[i], 0x100000 * (i + 1), PG_4K, PG_4K, 0, 7, 0, NULL);
	cr_assert(tlb_consistent(&t));
	for (unsigned i = 0; i < 12; i++) {
		struct tlb_entry *e = tlb_probe(&t, la[i], 0);
		cr_assert(e && e->pa == 0x100000 * (i + 1), "page %u of a colliding set", i);
		cr_assert_null(tlb_probe(&t, la[i], 1), "page %u under another PCID", i);
	}
	cr_assert_null(tlb_probe(&t, la[12], 0), "a colliding page not cached");
	/* The same page number as a 2M page has the same tag: the key's size
	 * tells them apart. */
	cr_assert_null(tlb_probe_size(&t, la[0] << 9, PG_2M, 0));
	(void)tlb_invalidate_addr(&t, la[3], 0, false);
	cr_assert_null(tlb_probe(&t, la[3], 0));
	cr_assert_not_null(tlb_probe(&t, la[4], 0));
	cr_assert(tlb_consistent(&t), "a dropped way's tag is cleared");
	tlb_free(&t);
}
