/* Page walks in every paging mode: translations, large pages, A/D flags,
 * not-present and reserved-bit faults, PAE PDPTE registers, canonical
 * checks, page tables outside RAM, the side-effect-free debug walk. */
#include <criterion/criterion.h>

#include "tests/support.h"

static void expect_pa(struct fixture *f, uint64_t la, unsigned acc, uint64_t pa)
{
	struct mmu_xlate x;
	bool ok = mmu_translate(&f->m, la, acc, &x);
	cr_assert(ok, "la %#llx: unexpected fault vector %u ec %#x", (unsigned long long)la,
		  x.fault.vector, x.fault.error_code);
	cr_assert_eq(x.pa, pa, "la %#llx -> %#llx, expected %#llx", (unsigned long long)la,
		     (unsigned long long)x.pa, (unsigned long long)pa);
}

static uint32_t expect_pf(struct fixture *f, uint64_t la, unsigned acc)
{
	struct mmu_xlate x;
	bool ok = mmu_translate(&f->m, la, acc, &x);
	cr_assert(!ok, "la %#llx: expected #PF, got pa %#llx", (unsigned long long)la,
		  (unsigned long long)x.pa);
	cr_assert_eq(x.fault.vector, VEC_PF);
	cr_assert_eq(x.fault.cr2, la, "CR2");
	cr_assert(x.fault.has_error_code);
	return x.fault.error_code;
}

Test(walk, translates_4k_pages_in_every_mode)
{
	enum mmu_paging_mode modes[] = {PAGING_32, PAGING_PAE, PAGING_4LEVEL, PAGING_5LEVEL};
	for (unsigned i = 0; i < 4; i++) {
		struct fixture *f = fixture_new("flat", modes[i]);
		fixture_map(f, 0x12345000, 0xabc000, PG_4K, PT_URW, PT_URW);
		fixture_enable(f, 0, 0, 0);
		expect_pa(f, 0x12345678, U_READ, 0xabc678);
		cr_assert_eq(expect_pf(f, 0x12346000, U_READ), PFEC_US, "not-present user read");
		fixture_free(f);
	}
}

Test(walk, five_level_uses_bits_56_to_48)
{
	struct fixture *f = fixture_new("flat", PAGING_5LEVEL);
	uint64_t la = UINT64_C(0x00ab123456789000);
	fixture_map(f, la, 0x5000, PG_4K, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, 0);
	expect_pa(f, la + 0x10, U_READ, 0x5010);
	/* Same low 48 bits, different PML5 index: not mapped. */
	expect_pf(f, la & UINT64_C(0x0000ffffffffffff), U_READ);
	struct mmu_debug_walk w;
	cr_assert(mmu_debug_translate(&f->m, la, U_READ, &w));
	cr_assert_eq(w.nlevels, 5);
	cr_assert_eq(w.lv[0].level, 5);
	fixture_free(f);
}

Test(walk, large_pages_in_each_mode)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x40000000, 0x80000000, PG_1G, PT_URW, PT_URW);
	fixture_map(f, 0x200000, 0x600000, PG_2M, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, 0);
	expect_pa(f, 0x40000000 + 0x3456789, U_READ, 0x83456789);
	expect_pa(f, 0x2abcde, U_WRITE, 0x6abcde);
	fixture_free(f);

	f = fixture_new("flat", PAGING_PAE);
	fixture_map(f, 0xc0200000, 0x400000, PG_2M, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, 0);
	expect_pa(f, 0xc0212345, U_READ, 0x412345);
	fixture_free(f);

	/* 32-bit paging, 4-MByte page with PSE-36 high bits (Table 4-4). */
	f = fixture_new("flat", PAGING_32);
	fixture_map(f, 0x00800000, UINT64_C(0x3400000000) | 0xc00000, PG_4M, PT_URW, PT_URW);
	fixture_enable(f, 0, CR4_PSE, 0);
	expect_pa(f, 0x00812345, U_READ, UINT64_C(0x3400c12345));
	fixture_free(f);
}

Test(walk, pde_ps_is_ignored_without_cr4_pse)
{
	struct fixture *f = fixture_new("flat", PAGING_32);
	fixture_map(f, 0x00800000, 0x00c00000, PG_4M, PT_URW, PT_URW);
	/* The PDE now reads as a pointer to a page table at 0xc00000. */
	phys_write(&f->m.phys, 0xc00000 + 4 * 0x12, 0x7000 | PT_URW, 4);
	fixture_enable(f, 0, 0, 0);
	expect_pa(f, 0x00812345, U_READ, 0x7345);
	fixture_free(f);
}

Test(walk, sets_accessed_at_every_level_and_dirty_only_on_write)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	uint64_t la = 0x7f0000401000;
	fixture_map(f, la, 0x9000, PG_4K, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, 0);
	expect_pa(f, la, U_READ, 0x9000);
	for (unsigned l = 1; l <= 4; l++) {
		cr_assert(fixture_entry(f, la, l) & PTE_A, "A at level %u", l);
		cr_assert(!(fixture_entry(f, la, l) & PTE_D), "no D at level %u after a read", l);
	}
	/* The TLB entry filled by the read holds D = 0: the write must go back
	 * to memory and set D (the dirty-after-read-fill bug class). */
	expect_pa(f, la + 8, U_WRITE, 0x9008);
	cr_assert(fixture_entry(f, la, 1) & PTE_D, "D in the PTE after a write");
	for (unsigned l = 2; l <= 4; l++)
		cr_assert(!(fixture_entry(f, la, l) & PTE_D), "D never set in non-leaf level %u", l);
	cr_assert_eq(f->m.stats.dirty_assists, 1);
	fixture_free(f);
}

Test(walk, faulting_translation_changes_no_flag)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PTE_P | PTE_US, PT_URW); /* read-only */
	fixture_enable(f, CR0_WP, 0, 0);
	uint32_t ec = expect_pf(f, 0x400000, U_WRITE);
	cr_assert_eq(ec, PFEC_P | PFEC_WR | PFEC_US);
	for (unsigned l = 1; l <= 4; l++)
		cr_assert(!(fixture_entry(f, 0x400000, l) & (PTE_A | PTE_D)), "level %u untouched", l);
	fixture_free(f);
}

Test(walk, not_present_at_each_level_reports_p0)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	uint64_t la = 0x40201000;
	fixture_map(f, la, 0x9000, PG_4K, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, 0);
	for (unsigned l = 1; l <= 4; l++) {
		uint64_t epa = ptb_entry_pa(&f->pt, la, l);
		uint64_t old = phys_read(&f->m.phys, epa, 8);
		phys_write(&f->m.phys, epa, old & ~PTE_P, 8);
		mmu_flush_all(&f->m);
		cr_assert_eq(expect_pf(f, la, K_WRITE), PFEC_WR, "level %u", l);
		phys_write(&f->m.phys, epa, old, 8);
	}
	fixture_free(f);
}

Test(walk, reserved_bit_faults_have_p_and_rsvd)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL); /* MAXPHYADDR 40 */
	uint64_t la = 0x40201000;
	fixture_map(f, la, 0x9000, PG_4K, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, EFER_NXE);
	uint64_t epa = ptb_entry_pa(&f->pt, la, 1);
	uint64_t pte = phys_read(&f->m.phys, epa, 8);
	phys_write(&f->m.phys, epa, pte | BIT64(40), 8);
	cr_assert_eq(expect_pf(f, la, U_READ), PFEC_P | PFEC_RSVD | PFEC_US);
	phys_write(&f->m.phys, epa, pte | BIT64(39), 8); /* below MAXPHYADDR: fine */
	expect_pa(f, la, U_READ, BIT64(39) | 0x9000);
	/* XD is reserved when EFER.NXE = 0 (fetch: I/D needs NXE or SMEP). */
	phys_write(&f->m.phys, epa, pte | PTE_XD, 8);
	mmu_set_control(&f->m, f->m.cr0, f->m.cr3, f->m.cr4, f->m.efer & ~EFER_NXE);
	cr_assert_eq(expect_pf(f, la, U_FETCH), PFEC_P | PFEC_RSVD | PFEC_US);
	fixture_free(f);
}

Test(walk, pae_pdptes_are_registers_loaded_with_cr3)
{
	struct fixture *f = fixture_new("flat", PAGING_PAE);
	fixture_map(f, 0x40001000, 0x9000, PG_4K, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, 0);
	expect_pa(f, 0x40001000, U_READ, 0x9000);
	/* Clearing the PDPTE in memory has no effect until CR3 is reloaded. */
	uint64_t pdpte_pa = f->pt.root + 8;
	uint64_t pdpte = phys_read(&f->m.phys, pdpte_pa, 8);
	phys_write(&f->m.phys, pdpte_pa, 0, 8);
	mmu_flush_all(&f->m);
	expect_pa(f, 0x40001000, U_READ, 0x9000);
	struct mmu_fault fault;
	cr_assert(mmu_write_cr3(&f->m, f->m.cr3, &fault));
	cr_assert_eq(expect_pf(f, 0x40001000, U_READ), PFEC_US);
	/* A PDPTE with a reserved bit makes MOV to CR3 fault with #GP(0). */
	phys_write(&f->m.phys, pdpte_pa, pdpte | BIT64(1), 8);
	cr_assert(!mmu_write_cr3(&f->m, f->m.cr3, &fault));
	cr_assert_eq(fault.vector, VEC_GP);
	cr_assert_eq(fault.error_code, 0);
	fixture_free(f);
}

Test(walk, non_canonical_address_is_gp)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_enable(f, 0, 0, 0);
	struct mmu_xlate x;
	cr_assert(!mmu_translate(&f->m, UINT64_C(0x0000800000000000), K_READ, &x));
	cr_assert_eq(x.fault.vector, VEC_GP);
	cr_assert(!mmu_translate(&f->m, UINT64_C(0xffff7fffffffffff), K_READ, &x));
	cr_assert_eq(x.fault.vector, VEC_GP);
	/* Canonical but unmapped: #PF. */
	cr_assert(!mmu_translate(&f->m, UINT64_C(0xffff800000000000), K_READ, &x));
	cr_assert_eq(x.fault.vector, VEC_PF);
	fixture_free(f);
}

Test(walk, tables_past_ram_give_a_defined_outcome)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_enable(f, 0, 0, 0);
	/* CR3 far past RAM: every entry reads as all-ones, which has
	 * reserved bits set: #PF with RSVD, never a host fault. */
	mmu_set_control(&f->m, f->m.cr0, UINT64_C(0xff00000000), f->m.cr4, f->m.efer);
	cr_assert_eq(expect_pf(f, 0x1000, K_READ), PFEC_P | PFEC_RSVD);
	/* 32-bit paging: an all-ones PDE without PSE points to a table past
	 * RAM whose PTE maps a page past RAM. */
	struct fixture *g = fixture_new("flat", PAGING_32);
	fixture_enable(g, 0, 0, 0);
	mmu_set_control(&g->m, g->m.cr0, 0xfffff000, 0, 0);
	expect_pa(g, 0x1234, K_READ, 0xfffff234);
	fixture_free(g);
	fixture_free(f);
}

Test(walk, debug_translate_has_no_side_effects)
{
	struct fixture *f = fixture_new("skylake", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, 0);
	struct mmu_stats before = f->m.stats;
	struct mmu_debug_walk w;
	cr_assert(mmu_debug_translate(&f->m, 0x400123, U_WRITE, &w));
	cr_assert_eq(w.pa, 0x9123);
	cr_assert_eq(w.nlevels, 4);
	cr_assert_eq(w.tlb_level_now, -1);
	cr_assert_eq(w.lv[3].cache_now, CACHE_DRAM);
	cr_assert(!(fixture_entry(f, 0x400000, 1) & PTE_A), "no A flag written");
	cr_assert(memcmp(&before, &f->m.stats, sizeof before) == 0, "no statistic changed");
	cr_assert_null(tlb_probe(&f->m.tlb[TLB_L1D][0], 0x400000, 0));
	/* After a real access the debug view sees the TLB and caches. */
	expect_pa(f, 0x400123, U_WRITE, 0x9123);
	cr_assert(mmu_debug_translate(&f->m, 0x400123, U_READ, &w));
	cr_assert_eq(w.tlb_level_now, TLB_L1D);
	cr_assert_eq(w.pwc_level_now, 2);
	cr_assert_eq(w.lv[3].cache_now, CACHE_L1D);
	fixture_free(f);
}

static unsigned hook_calls;
static uint8_t hook_flags;
static void count_hook(void *ctx, uint64_t pa, unsigned size, uint8_t flags)
{
	(void)ctx, (void)pa, (void)size;
	hook_calls++;
	hook_flags = flags;
}

Test(walk, stores_to_walked_frames_are_observed)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_URW | PTE_A, PT_URW | PTE_A);
	fixture_enable(f, 0, 0, 0);
	f->m.phys.hook = count_hook;
	expect_pa(f, 0x400000, U_READ, 0x9000);
	cr_assert_eq(hook_calls, 0, "no write yet (A already set)");
	uint64_t pte_pa = ptb_entry_pa(&f->pt, 0x400000, 1);
	cr_assert(f->m.phys.frame_flags[pte_pa >> 12] & FRAME_WALKED);
	phys_write(&f->m.phys, pte_pa, 0, 8);
	cr_assert_eq(hook_calls, 1);
	cr_assert(hook_flags & FRAME_WALKED);
	phys_write(&f->m.phys, 0x9000, 0, 8); /* a data frame: not watched */
	cr_assert_eq(hook_calls, 1);
	fixture_free(f);
}

Test(walk, paging_disabled_is_identity_to_32_bits)
{
	struct fixture *f = fixture_new("flat", PAGING_NONE);
	fixture_enable(f, 0, 0, 0);
	expect_pa(f, 0x12345678, U_WRITE, 0x12345678);
	fixture_free(f);
}

struct event_log {
	unsigned access, steps, ad, fills, evicts, flushes, faults;
	uint8_t last_fault_vector;
};

static void ev_access(void *c, uint64_t la, unsigned acc, const struct mmu_xlate *x)
{
	(void)la, (void)acc, (void)x;
	((struct event_log *)c)->access++;
}
static void ev_step(void *c, const struct mmu_walk_step *s)
{
	(void)s;
	((struct event_log *)c)->steps++;
}
static void ev_ad(void *c, uint64_t pa, uint64_t o, uint64_t n)
{
	(void)pa;
	cr_assert_eq(n & ~o, PTE_A, "only A is added by a read");
	((struct event_log *)c)->ad++;
}
static void ev_tlb(void *c, enum mmu_tlb_event_kind k, enum mmu_tlb_level l, unsigned i, uint64_t la,
		   uint64_t pa, enum mmu_page_size s)
{
	(void)l, (void)i, (void)la, (void)pa, (void)s;
	struct event_log *e = c;
	if (k == TLB_EV_FILL)
		e->fills++;
	else if (k == TLB_EV_EVICT)
		e->evicts++;
}
static void ev_flush(void *c, enum mmu_flush_kind k, uint64_t arg, unsigned n)
{
	(void)k, (void)arg, (void)n;
	((struct event_log *)c)->flushes++;
}
static void ev_fault(void *c, uint64_t la, unsigned acc, uint8_t v, uint32_t ec)
{
	(void)la, (void)acc, (void)ec;
	((struct event_log *)c)->faults++;
	((struct event_log *)c)->last_fault_vector = v;
}

Test(walk, observers_see_every_event_kind)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_KRW, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	struct event_log log = {0};
	struct mmu_observer obs = {.ctx = &log, .access = ev_access, .walk_step = ev_step,
				   .ad_update = ev_ad, .tlb = ev_tlb, .flush = ev_flush,
				   .fault = ev_fault};
	mmu_set_observer(&f->m, &obs);
	expect_pa(f, 0x400000, K_READ, 0x9000);
	cr_assert_eq(log.steps, 4);
	cr_assert_eq(log.ad, 4);
	cr_assert_eq(log.fills, 2, "L1 DTLB and L2 TLB");
	expect_pa(f, 0x400000, K_READ, 0x9000); /* a hit still reports the access */
	cr_assert_eq(log.access, 2);
	expect_pf(f, 0x401000, K_READ);
	cr_assert_eq(log.faults, 1);
	cr_assert_eq(log.last_fault_vector, VEC_PF);
	struct mmu_fault fault;
	cr_assert(mmu_invlpg(&f->m, 0x400000, &fault));
	cr_assert_eq(log.flushes, 1);
	mmu_set_observer(&f->m, NULL);
	expect_pa(f, 0x400000, K_READ, 0x9000);
	cr_assert_eq(log.access, 3, "the fault was an access too; detached: nothing more");
	fixture_free(f);
}
