/* A page-table builder: constructs paging structures in guest RAM for any
 * paging mode. Used by the MMU demonstration, benchmarks, tests and the
 * fuzzer; the guest kernel builds its own tables.
 *
 * Tables are taken from a bump allocator over [pool, pool_end) and zeroed.
 * Entries are written straight to RAM (no translation, no hooks).
 */
#ifndef MMU_PTBUILD_H
#define MMU_PTBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/mmu.h"

struct ptb {
	struct phys *phys;
	enum mmu_paging_mode mode;
	uint64_t root;        /* physical address of the top structure (PAE: the PDPT) */
	uint64_t next, end;   /* table pool */
};

/* Start a new address space. False if the pool cannot hold the root. */
bool ptb_init(struct ptb *b, struct phys *phys, enum mmu_paging_mode mode, uint64_t pool,
	      uint64_t pool_end);

/* Map la -> pa with a page of the given size. table_flags go into every
 * entry created above the leaf (and are ORed into existing ones);
 * leaf_flags into the leaf (PTE_P is not implied; PTE_PS is added for large
 * pages). False if the pool is exhausted, the size is not possible in the
 * mode, or a large page is already mapped above. */
bool ptb_map(struct ptb *b, uint64_t la, uint64_t pa, enum mmu_page_size size,
	     uint64_t leaf_flags, uint64_t table_flags);

/* Physical address of the entry at level for la (creating nothing); 0 if a
 * table on the way is missing. */
uint64_t ptb_entry_pa(const struct ptb *b, uint64_t la, unsigned level);

/* The CR3 value for this address space (pcid in bits 11:0). */
uint64_t ptb_cr3(const struct ptb *b, uint16_t pcid);

#endif
