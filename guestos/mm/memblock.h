/* The boot-time memory manager (Linux mm/memblock.c, much reduced): the
 * RAM ranges from the Multiboot memory map, the ranges in use (kernel,
 * boot data, modules, early allocations), and a first-fit allocator over
 * what is left. It lives until memblock_free_all() hands the rest of RAM
 * to the buddy allocator. Ranges are byte ranges of physical memory. */
#ifndef GUESTOS_MM_MEMBLOCK_H
#define GUESTOS_MM_MEMBLOCK_H

#include "guestos/lib/types.h"

#define MEMBLOCK_MAX_REGIONS 64

struct memblock_region {
	phys_addr_t base;
	phys_addr_t size;
};

struct memblock_type {
	unsigned long cnt;
	struct memblock_region regions[MEMBLOCK_MAX_REGIONS];
};

struct memblock {
	struct memblock_type memory;
	struct memblock_type reserved;
};

extern struct memblock memblock;

/* Record RAM / a range in use. Regions beyond MEMBLOCK_MAX_REGIONS panic. */
void memblock_add(phys_addr_t base, phys_addr_t size);
void memblock_reserve(phys_addr_t base, phys_addr_t size);
/* Does [base, base+size) overlap a reserved range? */
bool memblock_is_reserved(phys_addr_t base, phys_addr_t size);
/* Reserve and return `size` bytes aligned to `align` (a power of two),
 * from the top of RAM down; panics when nothing fits. */
phys_addr_t memblock_phys_alloc(phys_addr_t size, phys_addr_t align);
/* Highest end of any RAM range. */
phys_addr_t memblock_end_of_DRAM(void);

#endif
