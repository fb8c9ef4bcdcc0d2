/* Paging-mode geometry shared by the walker and the page-table builder:
 * which level is at the top, how a linear address indexes each level, how
 * wide entries are (SDM Vol. 3A §4.3 Figure 4-2, §4.4 Figure 4-5, §4.5
 * Figures 4-8/4-9). Levels are numbered 5 (PML5) … 1 (page table).
 */
#ifndef MMU_PAGING_H
#define MMU_PAGING_H

#include <stdint.h>

#include "mmu/model.h"

enum mmu_paging_mode {
	PAGING_NONE = 0,  /* CR0.PG = 0: linear = physical */
	PAGING_32 = 1,    /* §4.3 */
	PAGING_PAE = 2,   /* §4.4 */
	PAGING_4LEVEL = 3,/* §4.5, CR4.LA57 = 0 */
	PAGING_5LEVEL = 4,/* §4.5, CR4.LA57 = 1 */
};

/* 32-bit paging: 4-byte entries holding a 20-bit frame number (Table 4-4…4-6). */
#define PTE32_FRAME_MASK UINT64_C(0xfffff000)
#define PDE32_4M_FRAME_MASK UINT64_C(0xffc00000) /* bits 31:22 of a 4-MByte page */
#define PAGING32_INDEX_BITS 10
#define PAGING64_INDEX_BITS 9  /* PAE and IA-32e paging: 512 8-byte entries */
#define PAE_PDPTE_INDEX_BITS 2 /* 4 PDPTEs, linear-address bits 31:30 */
#define PAGING64_ENTRY_BYTES 8 /* PAE and IA-32e paging-structure entries (§4.4, §4.5) */

static inline unsigned paging_top_level(enum mmu_paging_mode mode)
{
	static const unsigned top[] = {[PAGING_NONE] = 0, [PAGING_32] = 2, [PAGING_PAE] = 3,
				       [PAGING_4LEVEL] = 4, [PAGING_5LEVEL] = 5};
	return top[mode];
}

/* Low bit of the linear-address bits that index the structure at level,
 * PAE and IA-32e paging (Figures 4-5, 4-8, 4-9): 12, 21, 30, 39, 48. */
static inline unsigned paging64_shift(unsigned level)
{
	return 12 + PAGING64_INDEX_BITS * (level - 1);
}

/* The same for any mode (32-bit paging: Figures 4-2, 4-3). */
static inline unsigned paging_shift(enum mmu_paging_mode mode, unsigned level)
{
	if (mode == PAGING_32)
		return 12 + PAGING32_INDEX_BITS * (level - 1);
	return paging64_shift(level);
}

static inline uint64_t paging_index(enum mmu_paging_mode mode, uint64_t la, unsigned level)
{
	unsigned bits = mode == PAGING_32 ? PAGING32_INDEX_BITS
			: (mode == PAGING_PAE && level == 3) ? PAE_PDPTE_INDEX_BITS
							     : PAGING64_INDEX_BITS;
	return (la >> paging_shift(mode, level)) & ((UINT64_C(1) << bits) - 1);
}

static inline unsigned paging_entry_bytes(enum mmu_paging_mode mode)
{
	return mode == PAGING_32 ? 4 : 8;
}

/* The paging-structure cache holding entries of a level (5..2). */
static inline enum mmu_pwc_kind paging_pwc_kind(unsigned level)
{
	return (enum mmu_pwc_kind)(PWC_PML5E + (5 - level));
}

#endif
