/* The memory path's slow cases: legacy-mode segmentation, FS/GS bases,
 * non-canonical addresses and accesses that cross a page boundary; and
 * every access while a data breakpoint is armed, where the linear
 * addresses are matched against it (cpu_data_breakpoints). */
#include "emu/mem.h"

bool mem_xlate_slow(struct cpu *c, unsigned seg, uint64_t ea, unsigned size,
		    enum mmu_access_kind kind, struct memref *r)
{
	uint64_t la;
	if (!seg_linear(&c->mmu, (enum seg_reg)seg, ea, size, kind, &la, &c->fault))
		return false;
	unsigned room = (unsigned)(PHYS_FRAME_SIZE - (la & PAGE_OFFSET_MASK));
	if (!mem_xlate_page(c, la, kind, &r->pa))
		return false;
	if (room >= size) {
		r->n1 = size;
		if (MMU_UNLIKELY(c->bp_data))
			cpu_data_breakpoints(c, la, size, kind);
		return true;
	}
	/* Crossing a page: the second page is translated before anything is
	 * accessed, so a fault on it leaves memory untouched. Outside 64-bit
	 * mode linear addresses wrap at 4 GiB (SDM Vol. 3A §3.4). */
	uint64_t la2 = la + room;
	if (c->mode != CPU_MODE_64)
		la2 = (uint32_t)la2;
	r->n1 = room;
	if (!mem_xlate_page(c, la2, kind, &r->pa2))
		return false;
	if (MMU_UNLIKELY(c->bp_data)) {
		cpu_data_breakpoints(c, la, room, kind);
		cpu_data_breakpoints(c, la2, size - room, kind);
	}
	return true;
}
