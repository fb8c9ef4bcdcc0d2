/* Shared fixtures for the mmu/ tests. */
#ifndef TESTS_SUPPORT_H
#define TESTS_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/mmu.h"
#include "mmu/ptbuild.h"

#define TEST_RAM (UINT64_C(32) << 20)
#define TEST_POOL 0x100000
#define TEST_POOL_END 0x800000

struct fixture {
	struct mmu m;
	struct ptb pt;
	struct mmu_model model;
};

/* A machine with the named model ("flat" or "skylake") and an empty
 * address space in mode (PAGING_NONE: no tables). Aborts the test on error. */
struct fixture *fixture_new(const char *model, enum mmu_paging_mode mode);
void fixture_free(struct fixture *f);
/* Load control state for mode with the fixture's tables as CR3.
 * extra_cr0/cr4/efer are ORed in. */
void fixture_enable(struct fixture *f, uint64_t extra_cr0, uint64_t extra_cr4, uint64_t extra_efer);
/* ptb_map that fails the test if it cannot map. */
void fixture_map(struct fixture *f, uint64_t la, uint64_t pa, enum mmu_page_size size,
		 uint64_t leaf_flags, uint64_t table_flags);
/* Entry at level for la, read from RAM. */
uint64_t fixture_entry(struct fixture *f, uint64_t la, unsigned level);

/* Access contexts used everywhere. */
#define U_READ mmu_acc(ACC_READ, 3, false, false)
#define U_WRITE mmu_acc(ACC_WRITE, 3, false, false)
#define U_FETCH mmu_acc(ACC_FETCH, 3, false, false)
#define K_READ mmu_acc(ACC_READ, 0, false, false)
#define K_WRITE mmu_acc(ACC_WRITE, 0, false, false)
#define K_FETCH mmu_acc(ACC_FETCH, 0, false, false)

#define PT_URW (PTE_P | PTE_RW | PTE_US)
#define PT_KRW (PTE_P | PTE_RW)

#endif
