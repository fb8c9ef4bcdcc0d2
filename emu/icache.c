/* The decoded-instruction cache (emu/icache.h). */
#include "emu/icache.h"

#include <stdlib.h>
#include <string.h>

/* Forget the decoded code of one page (its memory stays for reuse). The
 * chain links go too: the run loop may be inside this page's array, and
 * must look the next instruction up afresh (emu/icache.h, "Chaining"). */
static void page_empty(struct icache *ic, struct code_page *cp)
{
	for (uint32_t i = 0; i < cp->n; i++)
		cp->insns[i].flags &= (uint8_t)~INSN_CHAIN;
	if (cp->n)
		memset(cp->slot, 0, sizeof cp->slot);
	cp->n = 0;
	cp->in_use = false;
	if (cp->frame < ic->phys->nframes)
		ic->phys->frame_flags[cp->frame] &= (uint8_t)~FRAME_CODE;
}

/* The phys write hook: a write to a frame holding decoded code empties
 * that frame's code page (self- and cross-modifying code). */
static void icache_write_hook(void *ctx, uint64_t pa, unsigned size, uint8_t frame_flags)
{
	struct icache *ic = ctx;
	if (!(frame_flags & FRAME_CODE) || size == 0)
		return;
	uint64_t first = pa >> PHYS_FRAME_SHIFT, last = (pa + size - 1) >> PHYS_FRAME_SHIFT;
	for (uint64_t f = first; f <= last && f < ic->phys->nframes; f++) {
		struct code_page *cp = ic->by_frame[f];
		if (cp && cp->in_use) {
			page_empty(ic, cp);
			ic->invalidations++;
		}
	}
}

struct icache *icache_new(struct phys *phys)
{
	struct icache *ic = calloc(1, sizeof *ic);
	if (!ic)
		return NULL;
	ic->phys = phys;
	/* One pointer per frame; calloc'd pages that are never touched cost
	 * no resident memory. */
	ic->by_frame = calloc(phys->nframes, sizeof *ic->by_frame);
	ic->pages = calloc(ICACHE_MAX_PAGES, sizeof *ic->pages);
	if (!ic->by_frame || !ic->pages) {
		icache_free(ic);
		return NULL;
	}
	phys->hook = icache_write_hook;
	phys->hook_ctx = ic;
	return ic;
}

void icache_flush(struct icache *ic)
{
	for (uint32_t i = 0; i < ic->npages; i++) {
		struct code_page *cp = ic->pages[i];
		page_empty(ic, cp);
		ic->by_frame[cp->frame] = NULL;
		free(cp->insns);
		free(cp);
	}
	ic->npages = 0;
	ic->insn_slots = 0;
	ic->flushes++;
}

void icache_free(struct icache *ic)
{
	if (!ic)
		return;
	if (ic->pages)
		icache_flush(ic);
	if (ic->phys && ic->phys->hook == icache_write_hook) {
		ic->phys->hook = NULL;
		ic->phys->hook_ctx = NULL;
	}
	free(ic->pages);
	free(ic->by_frame);
	free(ic);
}

struct code_page *icache_page(struct icache *ic, uint64_t frame, enum cpu_mode mode)
{
	if (frame >= ic->phys->nframes)
		return NULL;
	if (ic->insn_slots > ICACHE_MAX_INSNS)
		icache_flush(ic);
	struct code_page *cp = ic->by_frame[frame];
	if (!cp) {
		if (ic->npages == ICACHE_MAX_PAGES)
			icache_flush(ic);
		cp = calloc(1, sizeof *cp);
		if (!cp)
			return NULL;
		cp->frame = frame;
		cp->mode = mode;
		ic->by_frame[frame] = cp;
		ic->pages[ic->npages++] = cp;
	}
	if (cp->mode != mode) {
		page_empty(ic, cp);
		cp->mode = mode;
	}
	return cp;
}

const struct insn *icache_add(struct icache *ic, struct code_page *cp, unsigned offset,
			      const struct insn *d)
{
	if (cp->n == cp->cap) {
		uint32_t cap = cp->cap ? cp->cap * 2 : 64;
		struct insn *p = realloc(cp->insns, cap * sizeof *p);
		if (!p)
			return NULL;
		ic->insn_slots += cap - cp->cap;
		cp->insns = p;
		cp->cap = cap;
	}
	cp->insns[cp->n] = *d;
	cp->insns[cp->n].flags &= (uint8_t)~INSN_CHAIN;
	if (cp->n && cp->last_end == offset && (cp->insns[cp->n - 1].flags & INSN_PLAIN))
		cp->insns[cp->n - 1].flags |= INSN_CHAIN;
	cp->last_end = offset + d->len;
	cp->slot[offset] = (uint16_t)++cp->n;
	cp->in_use = true;
	ic->phys->frame_flags[cp->frame] |= FRAME_CODE;
	return &cp->insns[cp->n - 1];
}
