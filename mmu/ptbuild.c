/* Page-table builder (see ptbuild.h). */
#include "mmu/ptbuild.h"

static uint64_t ptb_alloc(struct ptb *b, uint64_t bytes)
{
	uint64_t a = (b->next + bytes - 1) & ~(bytes - 1);
	if (a + bytes > b->end || !phys_in_ram(b->phys, a, (unsigned)bytes))
		return 0;
	for (uint64_t i = 0; i < bytes; i += 8)
		phys_write(b->phys, a + i, 0, 8);
	b->next = a + bytes;
	return a;
}

bool ptb_init(struct ptb *b, struct phys *phys, enum mmu_paging_mode mode, uint64_t pool,
	      uint64_t pool_end)
{
	b->phys = phys;
	b->mode = mode;
	b->next = pool;
	b->end = pool_end;
	/* A PAE PDPT is 32 bytes aligned to 32; give it its own frame anyway. */
	b->root = ptb_alloc(b, PHYS_FRAME_SIZE);
	return b->root != 0 && mode != PAGING_NONE;
}

static uint64_t ptb_frame(const struct ptb *b, uint64_t entry)
{
	if (b->mode == PAGING_32)
		return entry & PTE32_FRAME_MASK;
	return entry & UINT64_C(0x000ffffffffff000); /* bits 51:12, the widest MAXPHYADDR */
}

static unsigned ptb_leaf_level(enum mmu_page_size size)
{
	return size == PG_4K ? 1 : size == PG_1G ? 3 : 2;
}

static bool ptb_size_ok(const struct ptb *b, enum mmu_page_size size)
{
	switch (size) {
	case PG_4K:
		return true;
	case PG_4M:
		return b->mode == PAGING_32;
	case PG_2M:
		return b->mode != PAGING_32;
	case PG_1G:
		return b->mode >= PAGING_4LEVEL;
	default:
		return false;
	}
}

bool ptb_map(struct ptb *b, uint64_t la, uint64_t pa, enum mmu_page_size size,
	     uint64_t leaf_flags, uint64_t table_flags)
{
	if (!ptb_size_ok(b, size))
		return false;
	unsigned esize = paging_entry_bytes(b->mode), leaf = ptb_leaf_level(size);
	uint64_t table = b->root;
	for (unsigned level = paging_top_level(b->mode); level > leaf; level--) {
		uint64_t epa = table + paging_index(b->mode, la, level) * esize;
		uint64_t e = phys_read(b->phys, epa, esize);
		bool pae_pdpte = b->mode == PAGING_PAE && level == 3;
		if (e & PTE_P) {
			if (level <= 3 && (e & PTE_PS) && !pae_pdpte)
				return false; /* a large page is mapped here */
			/* PAE PDPTEs have no R/W, U/S or XD (reserved bits). */
			if (!pae_pdpte)
				phys_write(b->phys, epa, e | table_flags, esize);
		} else {
			uint64_t t = ptb_alloc(b, PHYS_FRAME_SIZE);
			if (!t)
				return false;
			e = t | (pae_pdpte ? PTE_P : (table_flags | PTE_P));
			phys_write(b->phys, epa, e, esize);
		}
		table = ptb_frame(b, e);
	}
	uint64_t entry;
	if (size == PG_4M)
		entry = (pa & PDE32_4M_FRAME_MASK) |
			((pa >> 32) & ((1u << PDE32_4M_HIGH_BITS) - 1)) << PDE32_4M_HIGH_SHIFT;
	else
		entry = pa & ~((UINT64_C(1) << mmu_page_shift(size)) - 1);
	entry |= leaf_flags | (size == PG_4K ? 0 : PTE_PS);
	phys_write(b->phys, table + paging_index(b->mode, la, leaf) * esize, entry, esize);
	return true;
}

uint64_t ptb_entry_pa(const struct ptb *b, uint64_t la, unsigned level)
{
	unsigned esize = paging_entry_bytes(b->mode);
	uint64_t table = b->root;
	for (unsigned l = paging_top_level(b->mode); l > level; l--) {
		uint64_t e = phys_read(b->phys, table + paging_index(b->mode, la, l) * esize, esize);
		if (!(e & PTE_P))
			return 0;
		table = ptb_frame(b, e);
	}
	return table + paging_index(b->mode, la, level) * esize;
}

uint64_t ptb_cr3(const struct ptb *b, uint16_t pcid)
{
	return b->root | (pcid & CR3_PCID_MASK);
}
