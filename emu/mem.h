/* The CPU's data-memory path: effective address → segmentation → paging →
 * guest-physical RAM, with the MMU's cycles charged to the cycle counter.
 *
 * Precise faults: an access is translated first (mem_xlate), which can
 * fail and changes nothing architectural, and only then performed
 * (mem_load/mem_store), which cannot fail. An instruction translates every
 * access it will make before it writes anything; a read-modify-write
 * destination is translated once as a write (SDM Vol. 3A §4.6: a write
 * needs the rights a read needs, and more) and then read and written
 * through the same physical address.
 *
 * An access that crosses a 4-KByte page boundary is split: both pages are
 * translated before any byte moves (mem_xlate fills pa and pa2).
 *
 * Fast path (inline): 64-bit mode, no page crossing, an L1 TLB hit in
 * mmu_translate's inline probe. Legacy modes go through seg_linear for the
 * limit and type checks (emu/mem.c).
 */
#ifndef EMU_MEM_H
#define EMU_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "emu/io.h"

#define PAGE_OFFSET_MASK (PHYS_FRAME_SIZE - 1)

/* A translated access: size bytes at pa, or n1 bytes at pa and the rest
 * at pa2 when it crosses a page. */
struct memref {
	uint64_t pa, pa2;
	unsigned n1;
};

/* Access context for the CPU's explicit accesses at its CPL, with
 * RFLAGS.AC for SMAP (SDM Vol. 3A §4.6). */
static inline unsigned mem_acc(const struct cpu *c, enum mmu_access_kind kind)
{
	return mmu_acc(kind, c->cpl, false, (c->rflags & RFLAGS_AC) != 0);
}

/* Legacy-mode segmentation and page-crossing accesses (emu/mem.c). */
MMU_WUR bool mem_xlate_slow(struct cpu *c, unsigned seg, uint64_t ea, unsigned size,
			    enum mmu_access_kind kind, struct memref *r);

/* Translate an access of size bytes (1..16) at offset ea in segment seg.
 * False with c->fault set (#GP/#SS from segmentation, #PF from paging). */
MMU_WUR static inline bool mem_xlate(struct cpu *c, unsigned seg, uint64_t ea, unsigned size,
				     enum mmu_access_kind kind, struct memref *r)
{
	if (MMU_LIKELY(c->mode == CPU_MODE_64 && seg < SEG_FS &&
		       (ea & PAGE_OFFSET_MASK) + size <= PHYS_FRAME_SIZE)) {
		/* 64-bit mode: bases of ES/CS/SS/DS are 0, no limits
		 * (SDM Vol. 3A §3.4.4); the access lies in one page, so its
		 * first byte being canonical makes it canonical as a whole
		 * (pages never straddle the canonical hole). */
		struct mmu_xlate x;
		if (MMU_UNLIKELY(!mmu_canonical(&c->mmu, ea)))
			return mem_xlate_slow(c, seg, ea, size, kind, r);
		if (MMU_UNLIKELY(!mmu_translate(&c->mmu, ea, mem_acc(c, kind), &x))) {
			c->cycles += x.cycles;
			c->fault = x.fault;
			return false;
		}
		c->cycles += x.cycles;
		r->pa = x.pa;
		r->n1 = size;
		return true;
	}
	return mem_xlate_slow(c, seg, ea, size, kind, r);
}

/* Perform a translated access (cannot fail). size 1..8. Physical
 * addresses at or above c->mmio_floor go to the devices (emu/io.h).
 * Always inlined: callers pass a constant size, and the RAM copy then
 * becomes one load or store. */
static inline __attribute__((always_inline)) uint64_t mem_load_part(struct cpu *c, uint64_t pa, unsigned size)
{
	if (MMU_UNLIKELY(pa >= c->mmio_floor))
		return io_mmio_load(c, pa, size);
	return phys_read(&c->mmu.phys, pa, size);
}

static inline __attribute__((always_inline)) void mem_store_part(struct cpu *c, uint64_t pa, unsigned size, uint64_t v)
{
	if (MMU_UNLIKELY(pa >= c->mmio_floor))
		io_mmio_store(c, pa, size, v);
	else
		phys_write(&c->mmu.phys, pa, v, size);
}

static inline __attribute__((always_inline)) uint64_t mem_load(struct cpu *c, const struct memref *r, unsigned size)
{
	if (MMU_LIKELY(r->n1 >= size))
		return mem_load_part(c, r->pa, size);
	return mem_load_part(c, r->pa, r->n1) |
	       mem_load_part(c, r->pa2, size - r->n1) << (8 * r->n1);
}

static inline __attribute__((always_inline)) void mem_store(struct cpu *c, const struct memref *r, unsigned size, uint64_t v)
{
	if (MMU_LIKELY(r->n1 >= size)) {
		mem_store_part(c, r->pa, size, v);
		return;
	}
	mem_store_part(c, r->pa, r->n1, v);
	mem_store_part(c, r->pa2, size - r->n1, v >> (8 * r->n1));
}

/* Store len bytes (any length the translation covered). */
static inline void mem_store_bytes(struct cpu *c, const struct memref *r, const uint8_t *buf,
				   unsigned len)
{
	unsigned first = r->n1 < len ? r->n1 : len;
	phys_write_bytes(&c->mmu.phys, r->pa, buf, first);
	if (first < len)
		phys_write_bytes(&c->mmu.phys, r->pa2, buf + first, len - first);
}

/* Translate and read / write in one call (single-access instructions). */
MMU_WUR static inline bool mem_read(struct cpu *c, unsigned seg, uint64_t ea, unsigned size,
				    uint64_t *v)
{
	struct memref r;
	if (!mem_xlate(c, seg, ea, size, ACC_READ, &r))
		return false;
	*v = mem_load(c, &r, size);
	return true;
}

MMU_WUR static inline bool mem_write(struct cpu *c, unsigned seg, uint64_t ea, unsigned size,
				     uint64_t v)
{
	struct memref r;
	if (!mem_xlate(c, seg, ea, size, ACC_WRITE, &r))
		return false;
	mem_store(c, &r, size, v);
	return true;
}

#endif
