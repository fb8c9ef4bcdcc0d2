/* Control-register writes: the SDM's #GP checks, IA32_EFER.LMA, flush rules. */
#include <criterion/criterion.h>

#include "tests/support.h"

static void expect_gp(bool ok, const struct mmu_fault *f, const char *what)
{
	cr_assert(!ok, "%s: expected #GP(0)", what);
	cr_assert_eq(f->vector, VEC_GP, "%s", what);
	cr_assert_eq(f->error_code, 0, "%s", what);
}

Test(ctl, cr0_rejects_invalid_combinations)
{
	struct fixture *f = fixture_new("flat", PAGING_NONE);
	struct mmu_fault fault;
	expect_gp(mmu_write_cr0(&f->m, CR0_PG, &fault), &fault, "PG without PE");
	expect_gp(mmu_write_cr0(&f->m, CR0_PE | CR0_NW, &fault), &fault, "NW without CD");
	expect_gp(mmu_write_cr0(&f->m, CR0_PE | BIT64(32), &fault), &fault, "bit 32");
	cr_assert(mmu_write_cr0(&f->m, CR0_PE | CR0_CD | CR0_NW, &fault));
	cr_assert(f->m.cr0 & CR0_ET, "ET reads as 1");
	fixture_free(f);
}

Test(ctl, entering_long_mode_sets_lma_and_needs_pae)
{
	struct fixture *f = fixture_new("flat", PAGING_NONE);
	struct mmu_fault fault;
	cr_assert(mmu_write_cr0(&f->m, CR0_PE, &fault));
	cr_assert(mmu_write_efer(&f->m, EFER_LME, &fault));
	expect_gp(mmu_write_cr0(&f->m, CR0_PE | CR0_PG, &fault), &fault, "LME with PAE clear");
	cr_assert(mmu_write_cr4(&f->m, CR4_PAE, &fault));
	cr_assert(mmu_write_cr0(&f->m, CR0_PE | CR0_PG, &fault));
	cr_assert(f->m.efer & EFER_LMA);
	cr_assert_eq(f->m.mode, PAGING_4LEVEL);
	expect_gp(mmu_write_efer(&f->m, 0, &fault), &fault, "clearing LME with paging on");
	expect_gp(mmu_write_cr4(&f->m, 0, &fault), &fault, "clearing PAE in IA-32e mode");
	expect_gp(mmu_write_cr4(&f->m, CR4_PAE | CR4_LA57, &fault), &fault, "LA57 in IA-32e mode");
	/* In compatibility mode (CS.L = 0) PG may be cleared; in 64-bit mode not. */
	f->m.seg.sr[SEG_CS].l = true;
	expect_gp(mmu_write_cr0(&f->m, CR0_PE, &fault), &fault, "PG clear in 64-bit mode");
	f->m.seg.sr[SEG_CS].l = false;
	cr_assert(mmu_write_cr0(&f->m, CR0_PE, &fault));
	cr_assert(!(f->m.efer & EFER_LMA), "LMA clears with PG");
	fixture_free(f);
}

Test(ctl, cr4_pcide_rules)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	struct mmu_fault fault;
	expect_gp(mmu_write_cr4(&f->m, CR4_PCIDE, &fault), &fault, "PCIDE outside IA-32e mode");
	fixture_enable(f, 0, 0, 0);
	cr_assert(mmu_write_cr4(&f->m, f->m.cr4 | CR4_PCIDE, &fault));
	cr_assert(mmu_write_cr3(&f->m, f->m.cr3 | 5, &fault));
	cr_assert_eq(f->m.pcid, 5);
	f->m.seg.sr[SEG_CS].l = false;
	expect_gp(mmu_write_cr0(&f->m, CR0_PE, &fault), &fault, "PG clear with PCIDE");
	expect_gp(mmu_write_cr4(&f->m, f->m.cr4 | BIT64(13), &fault), &fault, "VMXE unsupported");
	fixture_free(f);
}

Test(ctl, cr3_reserved_bits_above_maxphyaddr)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL); /* MAXPHYADDR 40 */
	fixture_enable(f, 0, 0, 0);
	struct mmu_fault fault;
	expect_gp(mmu_write_cr3(&f->m, BIT64(40) | f->m.cr3, &fault), &fault, "CR3 bit 40");
	cr_assert(mmu_write_cr3(&f->m, f->m.cr3 | CR3_NOFLUSH, &fault),
		  "bit 63 without PCIDE is not stored, not reserved");
	cr_assert(!(f->m.cr3 & CR3_NOFLUSH));
	fixture_free(f);
}

Test(ctl, efer_reserved_bits_and_read_only_lma)
{
	struct fixture *f = fixture_new("flat", PAGING_NONE);
	struct mmu_fault fault;
	expect_gp(mmu_write_efer(&f->m, BIT64(1), &fault), &fault, "EFER bit 1");
	cr_assert(mmu_write_efer(&f->m, EFER_LMA | EFER_NXE, &fault));
	cr_assert(!(f->m.efer & EFER_LMA), "LMA is not writable");
	cr_assert(f->m.efer & EFER_NXE);
	fixture_free(f);
}

Test(ctl, smep_set_flushes_current_pcid)
{
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PT_URW, PT_URW);
	fixture_enable(f, 0, 0, 0);
	struct mmu_xlate x;
	cr_assert(mmu_translate(&f->m, 0x400000, K_READ, &x));
	struct mmu_fault fault;
	cr_assert(mmu_write_cr4(&f->m, f->m.cr4 | CR4_SMEP, &fault));
	cr_assert(mmu_translate(&f->m, 0x400000, K_READ, &x));
	cr_assert_eq(x.source, SRC_WALK);
	/* Clearing SMEP does not flush (§4.10.4.1 names only 0 -> 1). */
	cr_assert(mmu_write_cr4(&f->m, f->m.cr4 & ~CR4_SMEP, &fault));
	cr_assert(mmu_translate(&f->m, 0x400000, K_READ, &x));
	cr_assert_eq(x.source, SRC_L1);
	fixture_free(f);
}

Test(ctl, wp_change_applies_to_cached_entries)
{
	/* TLB entries hold rights; CR0.WP is applied at each access. */
	struct fixture *f = fixture_new("flat", PAGING_4LEVEL);
	fixture_map(f, 0x400000, 0x9000, PG_4K, PTE_P | PTE_D, PT_KRW);
	fixture_enable(f, 0, 0, 0);
	struct mmu_xlate x;
	cr_assert(mmu_translate(&f->m, 0x400000, K_WRITE, &x), "WP=0: supervisor may write");
	struct mmu_fault fault;
	cr_assert(mmu_write_cr0(&f->m, f->m.cr0 | CR0_WP, &fault));
	cr_assert(!mmu_translate(&f->m, 0x400000, K_WRITE, &x));
	cr_assert_eq(x.fault.error_code, PFEC_P | PFEC_WR);
	fixture_free(f);
}
