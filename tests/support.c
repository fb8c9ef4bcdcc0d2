#include "tests/support.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct fixture *fixture_new(const char *model, enum mmu_paging_mode mode)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];
	cr_assert(f);
	cr_assert(mmu_model_resolve(&f->model, model, err, sizeof err), "%s", err);
	cr_assert(mmu_init(&f->m, &f->model, TEST_RAM, err, sizeof err), "%s", err);
#ifdef MMU_TEST_GENERIC_WALK
	f->m.walk_generic = true; /* the *_generic test builds: no IA-32e fast path */
#endif
	if (mode != PAGING_NONE)
		cr_assert(ptb_init(&f->pt, &f->m.phys, mode, TEST_POOL, TEST_POOL_END));
	f->pt.mode = mode;
	return f;
}

void fixture_free(struct fixture *f)
{
	mmu_free(&f->m);
	free(f);
}

void fixture_enable(struct fixture *f, uint64_t extra_cr0, uint64_t extra_cr4, uint64_t extra_efer)
{
	uint64_t cr0 = CR0_PE | CR0_PG | extra_cr0, cr4 = extra_cr4, efer = extra_efer;
	switch (f->pt.mode) {
	case PAGING_32:
		break;
	case PAGING_PAE:
		cr4 |= CR4_PAE;
		break;
	case PAGING_5LEVEL:
		cr4 |= CR4_LA57;
		/* fall through */
	case PAGING_4LEVEL:
		cr4 |= CR4_PAE;
		efer |= EFER_LME | EFER_LMA;
		break;
	case PAGING_NONE:
		cr0 = CR0_PE | extra_cr0;
		break;
	}
	mmu_set_control(&f->m, cr0, f->pt.mode == PAGING_NONE ? 0 : ptb_cr3(&f->pt, 0), cr4, efer);
	cr_assert_eq(f->m.mode, f->pt.mode, "paging mode after enable");
}

void fixture_map(struct fixture *f, uint64_t la, uint64_t pa, enum mmu_page_size size,
		 uint64_t leaf_flags, uint64_t table_flags)
{
	cr_assert(ptb_map(&f->pt, la, pa, size, leaf_flags, table_flags),
		  "ptb_map(%#llx -> %#llx, %s)", (unsigned long long)la, (unsigned long long)pa,
		  mmu_page_size_name(size));
}

uint64_t fixture_entry(struct fixture *f, uint64_t la, unsigned level)
{
	uint64_t pa = ptb_entry_pa(&f->pt, la, level);
	cr_assert(pa, "no table for level %u of %#llx", level, (unsigned long long)la);
	return phys_read(&f->m.phys, pa, f->pt.mode == PAGING_32 ? 4 : 8);
}
