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
#include <string.h>

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

/* Whether an access takes the fast path: 64-bit mode, where the bases of
 * ES/CS/SS/DS are 0 and there are no limits (SDM Vol. 3A §3.4.4), with no
 * data breakpoint armed (c->mem_flat64), inside one page and canonical.
 * The access lying in one page, its first byte being canonical makes it
 * canonical as a whole (pages never straddle the canonical hole). */
static inline __attribute__((always_inline)) bool mem_flat(const struct cpu *c, unsigned seg,
							   uint64_t ea, unsigned size)
{
	return MMU_LIKELY(c->mem_flat64 && seg < SEG_FS &&
			  (ea & PAGE_OFFSET_MASK) + size <= PHYS_FRAME_SIZE) &&
	       MMU_LIKELY(mmu_canonical(&c->mmu, ea));
}

/* Translate the linear address of one page's part of an access, charging
 * the MMU's cycles; false with c->fault set. la is canonical: mem_flat
 * checked it, seg_linear faults a non-canonical one in 64-bit mode, and
 * other modes' linear addresses have 32 bits. */
MMU_WUR static inline __attribute__((always_inline)) bool
mem_xlate_page(struct cpu *c, uint64_t la, enum mmu_access_kind kind, uint64_t *pa)
{
	struct mmu_xlate x;
	bool ok = mmu_translate_canonical(&c->mmu, la, mem_acc(c, kind), &x);
	c->cycles += x.cycles;
	if (MMU_UNLIKELY(!ok)) {
		c->fault = x.fault;
		return false;
	}
	*pa = x.pa;
	return true;
}

/* Translate an access of size bytes (1..16) at offset ea in segment seg.
 * False with c->fault set (#GP/#SS from segmentation, #PF from paging). */
MMU_WUR static inline bool mem_xlate(struct cpu *c, unsigned seg, uint64_t ea, unsigned size,
				     enum mmu_access_kind kind, struct memref *r)
{
	if (mem_flat(c, seg, ea, size)) {
		r->n1 = size;
		return mem_xlate_page(c, ea, kind, &r->pa);
	}
	return mem_xlate_slow(c, seg, ea, size, kind, r);
}

/* Perform a translated access (cannot fail). size 1..8, inside one page.
 * Physical addresses at or above c->mmio_floor go to the devices
 * (emu/io.h), or past the end of RAM (phys_read, phys_write).
 * Always inlined: callers pass a constant size, and the RAM copy then
 * becomes one load or store. */
static inline __attribute__((always_inline)) uint64_t mem_load_part(struct cpu *c, uint64_t pa, unsigned size)
{
	uint64_t v = 0;
	if (MMU_UNLIKELY(pa >= c->mmio_floor))
		return io_mmio_load(c, pa, size);
	/* Below the floor, the part (inside one page) is all RAM: the floor
	 * is page-aligned and at most the RAM size (emu/cpu.h). */
	memcpy(&v, c->mmu.phys.ram + pa, size);
	return v;
}

static inline __attribute__((always_inline)) void mem_store_part(struct cpu *c, uint64_t pa, unsigned size, uint64_t v)
{
	if (MMU_UNLIKELY(pa >= c->mmio_floor)) {
		io_mmio_store(c, pa, size, v);
		return;
	}
	memcpy(c->mmu.phys.ram + pa, &v, size);
	/* phys_notify_write for the one frame the part lies in: only a frame
	 * with flags (decoded code, page tables) has anyone to tell. */
	if (MMU_UNLIKELY(c->mmu.phys.frame_flags[pa >> PHYS_FRAME_SHIFT]))
		phys_notify_write(&c->mmu.phys, pa, size);
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

/* The same with the fast path inlined (mem_flat: one translation, one
 * RAM access), for the hottest handlers (the MOV forms); the rest go
 * through mem_read/mem_write. */
MMU_WUR static inline __attribute__((always_inline)) bool
mem_read_inline(struct cpu *c, unsigned seg, uint64_t ea, unsigned size, uint64_t *v)
{
	uint64_t pa;
	if (!mem_flat(c, seg, ea, size))
		return mem_read(c, seg, ea, size, v);
	if (!mem_xlate_page(c, ea, ACC_READ, &pa))
		return false;
	*v = mem_load_part(c, pa, size);
	return true;
}

MMU_WUR static inline __attribute__((always_inline)) bool
mem_write_inline(struct cpu *c, unsigned seg, uint64_t ea, unsigned size, uint64_t v)
{
	uint64_t pa;
	if (!mem_flat(c, seg, ea, size))
		return mem_write(c, seg, ea, size, v);
	if (!mem_xlate_page(c, ea, ACC_WRITE, &pa))
		return false;
	mem_store_part(c, pa, size, v);
	return true;
}

#endif
