#include "guestos/mm/memblock.h"

#include "guestos/kernel/printk.h"

struct memblock memblock;

static void memblock_insert(struct memblock_type *type, phys_addr_t base, phys_addr_t size)
{
	if (!size)
		return;
	if (type->cnt == MEMBLOCK_MAX_REGIONS)
		panic("memblock: more than %d regions", MEMBLOCK_MAX_REGIONS);
	type->regions[type->cnt].base = base;
	type->regions[type->cnt].size = size;
	type->cnt++;
}

void memblock_add(phys_addr_t base, phys_addr_t size)
{
	memblock_insert(&memblock.memory, base, size);
}

void memblock_reserve(phys_addr_t base, phys_addr_t size)
{
	memblock_insert(&memblock.reserved, base, size);
}

/* The reserved region overlapping [base, base+size), or NULL. */
static const struct memblock_region *reserved_overlap(phys_addr_t base, phys_addr_t size)
{
	for (unsigned long i = 0; i < memblock.reserved.cnt; i++) {
		const struct memblock_region *r = &memblock.reserved.regions[i];

		if (base < r->base + r->size && r->base < base + size)
			return r;
	}
	return NULL;
}

bool memblock_is_reserved(phys_addr_t base, phys_addr_t size)
{
	return reserved_overlap(base, size) != NULL;
}

/* Highest aligned start in `region` at which `size` bytes overlap no
 * reservation; 0 if none (page 0 is always reserved, so 0 is never a
 * valid answer). */
static phys_addr_t find_in_region(const struct memblock_region *region, phys_addr_t size,
				  phys_addr_t align)
{
	phys_addr_t end = region->base + region->size;

	if (size > region->size)
		return 0;
	for (phys_addr_t cand = ALIGN_DOWN(end - size, align); cand >= region->base;) {
		const struct memblock_region *r = reserved_overlap(cand, size);

		if (!r)
			return cand;
		if (r->base < region->base + size)
			return 0;
		cand = ALIGN_DOWN(r->base - size, align);
	}
	return 0;
}

phys_addr_t memblock_phys_alloc(phys_addr_t size, phys_addr_t align)
{
	for (unsigned long i = memblock.memory.cnt; i-- > 0;) {
		phys_addr_t base = find_in_region(&memblock.memory.regions[i], size, align);

		if (base) {
			memblock_reserve(base, size);
			return base;
		}
	}
	panic("memblock: cannot allocate %lu bytes", (unsigned long)size);
}

phys_addr_t memblock_end_of_DRAM(void)
{
	phys_addr_t end = 0;

	for (unsigned long i = 0; i < memblock.memory.cnt; i++) {
		const struct memblock_region *r = &memblock.memory.regions[i];

		end = MAX(end, r->base + r->size);
	}
	return end;
}
