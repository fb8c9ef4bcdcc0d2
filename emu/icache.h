/* The decoded-instruction cache, by guest-physical address.
 *
 * One struct code_page per 4-KByte physical frame that has held executed
 * code, allocated on first use: a slot per byte offset (0: nothing decoded
 * there, else 1 + index into the page's instruction array) and the decoded
 * instructions themselves. A frame with decoded code carries FRAME_CODE in
 * phys.frame_flags; the phys write hook (installed by icache_new) empties
 * the frame's code page on any write to it, whoever writes: the CPU, the
 * page walker's A/D updates, devices. Instructions that straddle two
 * frames are never cached (the CPU decodes them on every execution), so a
 * cached instruction depends on exactly one frame.
 *
 * Code decoded for one execution mode is not valid in another (operand
 * and address sizes differ): a page remembers its mode, and entering it in
 * another mode empties it.
 *
 * Chaining: instructions are appended to a page's array in the order
 * they are first executed, so straight-line code lies in the array in
 * address order. When an INSN_PLAIN instruction is followed in the array
 * by the instruction that starts at its end, it gets INSN_CHAIN, and the
 * run loop steps from one to the next with a pointer increment. Emptying
 * a page (a write to the frame, a mode change) clears INSN_CHAIN on every
 * instruction the page held, including one that is executing, so the loop
 * leaves the chain right after the instruction that wrote to its own code.
 *
 * Memory bound: at most ICACHE_MAX_PAGES code pages and about
 * ICACHE_MAX_INSNS decoded instructions; when entering a page finds either
 * budget used up, every page is freed (a full flush), so the cache stays
 * within a fixed budget (about 40 MiB) however much code the guest runs.
 */
#ifndef EMU_ICACHE_H
#define EMU_ICACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "emu/insn.h"

#define ICACHE_MAX_PAGES 2048u
#define ICACHE_MAX_INSNS (UINT32_C(1) << 19)

struct code_page {
	uint16_t slot[PHYS_FRAME_SIZE]; /* 0, or 1 + index into insns */
	struct insn *insns;
	uint32_t n, cap;
	uint32_t last_end;              /* offset just past insns[n - 1] */
	uint64_t frame;
	enum cpu_mode mode;             /* the mode insns were decoded for */
	bool in_use;                    /* holds decoded code (FRAME_CODE set) */
};

struct icache {
	struct phys *phys;
	struct code_page **by_frame;    /* nframes pointers, NULL until first use */
	struct code_page **pages;       /* every allocated page, for flushes */
	uint32_t npages;
	uint64_t insn_slots;            /* struct insn capacity over all pages */
	uint64_t flushes, invalidations;
};

/* Create the cache for phys and install the phys write hook. NULL if out
 * of memory. */
struct icache *icache_new(struct phys *phys);
void icache_free(struct icache *ic);

/* The code page for frame (pa >> 12), ready for decoding in mode; NULL if
 * the frame is outside RAM (such code is decoded on every execution). */
struct code_page *icache_page(struct icache *ic, uint64_t frame, enum cpu_mode mode);

/* Add a decoded instruction at offset; returns the cached copy (valid
 * until the page is next emptied), or NULL if out of memory. Marks the
 * frame FRAME_CODE. */
const struct insn *icache_add(struct icache *ic, struct code_page *cp, unsigned offset,
			      const struct insn *d);

/* Drop every decoded instruction (tests; model switches). */
void icache_flush(struct icache *ic);

static inline const struct insn *icache_lookup(const struct code_page *cp, unsigned offset)
{
	unsigned i = cp->slot[offset];
	return i ? &cp->insns[i - 1] : NULL;
}

#endif
