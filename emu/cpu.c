/* The CPU: lifetime, mode derivation, instruction fetch and the run loop.
 *
 * Fetch policy (docs/cpu.md, "Fetch and the ITLB"): the MMU is consulted
 * (ACC_FETCH, so the L1 ITLB is modelled and its cycles charged) once each
 * time execution enters a linear page, not per instruction. While RIP stays
 * in that page, instructions come straight from the page's decoded code.
 * The remembered page is dropped (cpu_invalidate_fetch) on every change of
 * paging control state, TLB invalidation, CS load or mode change, and on
 * any exception; an instruction that straddles two pages translates both
 * on every execution.
 */
#include "emu/cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/decode.h"
#include "emu/exec.h"
#include "emu/icache.h"
#include "emu/intr.h"

#define LINEAR32_MASK UINT64_C(0xffffffff)
#define LIMIT_4G UINT32_C(0xffffffff)

bool cpu_init(struct cpu *c, const struct mmu_model *model, uint64_t ram_size, char *err,
	      size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (!mmu_init(&c->mmu, model, ram_size, err, errlen))
		return false;
	c->icache = icache_new(&c->mmu.phys);
	c->unimpl = calloc(decode_mnemonic_count(), sizeof *c->unimpl);
	if (!c->icache || !c->unimpl) {
		snprintf(err, errlen, "out of memory for the decoded-instruction cache");
		cpu_free(c);
		return false;
	}
	c->rflags = RFLAGS_FIXED1;
	c->dr[6] = DR6_RESET;
	c->dr[7] = DR7_RESET;
	c->fpu_cw = FPU_CW_RESET;
	c->fpu_tw = FPU_TW_RESET;
	c->mmio_floor = c->mmu.phys.size;
	cpu_refresh_mode(c);
	return true;
}

void cpu_free(struct cpu *c)
{
	icache_free(c->icache);
	c->icache = NULL;
	free(c->unimpl);
	c->unimpl = NULL;
	mmu_free(&c->mmu);
}

/* A flat segment cache: base 0, 4-GiB limit, present, accessed. */
static struct seg_cache flat_segment(uint16_t sel, uint8_t type, unsigned dpl, bool l, bool db)
{
	return (struct seg_cache){
		.selector = sel, .base = 0, .limit = LIMIT_4G, .type = type, .s = true,
		.dpl = (uint8_t)dpl, .p = true, .l = l, .db = db, .g = true, .usable = true,
	};
}

/* Selectors the flat setups use (GDT entries 1 and 2, RPL = cpl). */
#define FLAT_CODE_SEL 0x08u
#define FLAT_DATA_SEL 0x10u

static void setup_flat(struct cpu *c, unsigned cpl, bool long_mode)
{
	const uint8_t code = SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE | SEG_TYPE_ACCESSED;
	const uint8_t data = SEG_TYPE_DATA_WRITABLE | SEG_TYPE_ACCESSED;
	struct seg_state *s = &c->mmu.seg;
	s->sr[SEG_CS] = flat_segment((uint16_t)(FLAT_CODE_SEL | cpl), code, cpl, long_mode, !long_mode);
	for (unsigned r = 0; r < SEG_NREGS; r++)
		if (r != SEG_CS)
			s->sr[r] = flat_segment((uint16_t)(FLAT_DATA_SEL | cpl), data, cpl, false, true);
	cpu_refresh_mode(c);
}

void cpu_setup_flat64(struct cpu *c, unsigned cpl)
{
	setup_flat(c, cpl, true);
}

void cpu_setup_flat32(struct cpu *c, unsigned cpl)
{
	setup_flat(c, cpl, false);
}

static enum cpu_mode derive_mode(const struct cpu *c)
{
	bool d32 = c->mmu.seg.sr[SEG_CS].db;
	switch (seg_mode(&c->mmu)) {
	case SEG_MODE_64:
		return CPU_MODE_64;
	case SEG_MODE_COMPAT:
		return d32 ? CPU_MODE_COMPAT32 : CPU_MODE_COMPAT16;
	case SEG_MODE_PROTECTED:
		return d32 ? CPU_MODE_PROT32 : CPU_MODE_PROT16;
	default:
		return CPU_MODE_REAL;
	}
}

/* mem_flat64: 64-bit mode and no data breakpoint armed (emu/cpu.h). */
static void mem_flat_update(struct cpu *c)
{
	c->mem_flat64 = c->mode == CPU_MODE_64 && !c->bp_data;
}

void cpu_refresh_mode(struct cpu *c)
{
	const struct seg_cache *cs = &c->mmu.seg.sr[SEG_CS];
	c->mode = derive_mode(c);
	/* CPL is CS.RPL in protected mode (SDM Vol. 3A §5.5). */
	c->cpl = c->mode == CPU_MODE_REAL ? 0 : seg_sel_rpl(cs->selector);
	bool m64 = c->mode == CPU_MODE_64;
	bool d32 = c->mode == CPU_MODE_PROT32 || c->mode == CPU_MODE_COMPAT32;
	c->ip_mask = m64 ? UINT64_MAX : d32 ? LINEAR32_MASK : 0xffff;
	/* Stack width: 64 in 64-bit mode, else SS.B (SDM Vol. 3A §3.4.5). */
	c->sp_mask = m64 ? UINT64_MAX : c->mmu.seg.sr[SEG_SS].db ? LINEAR32_MASK : 0xffff;
	c->fetch_base = m64 ? 0 : cs->base;
	c->la_mask = m64 ? UINT64_MAX : LINEAR32_MASK;
	/* The per-page fetch shortcut skips the CS limit check, so it is used
	 * only where no offset can exceed the limit. */
	c->fetch_whole_pages = m64 || cs->limit == LIMIT_4G;
	c->fetch_chains = c->fetch_whole_pages && (c->fetch_base & PAGE_OFFSET_MASK) == 0;
	mem_flat_update(c);
	cpu_invalidate_fetch(c);
}

/* ---- fetch ---------------------------------------------------------------- */

/* Translate one code page for fetching; false with c->fault set. */
static bool fetch_translate(struct cpu *c, uint64_t la, uint64_t *pa)
{
	struct mmu_xlate x;
	bool ok = mmu_translate(&c->mmu, la, mmu_acc(ACC_FETCH, c->cpl, false, false), &x);
	c->cycles += x.cycles;
	if (!ok) {
		c->fault = x.fault;
		return false;
	}
	*pa = x.pa;
	return true;
}

/* Decode at la/pa; an instruction running past the page end fetches the
 * next page through the MMU (a fault there reports that page in CR2). */
static bool fetch_decode(struct cpu *c, uint64_t la, uint64_t pa, struct insn *d, bool *straddles)
{
	uint8_t buf[INSN_MAX_LEN];
	size_t n = PHYS_FRAME_SIZE - (la & PAGE_OFFSET_MASK);
	if (n > INSN_MAX_LEN)
		n = INSN_MAX_LEN;
	phys_read_bytes(&c->mmu.phys, pa, buf, n);
	c->decode_count++;
	*straddles = false;
	if (decode_insn(c->mode, buf, n, d) == DECODE_OK)
		return true;
	uint64_t la2 = (la + n) & c->la_mask, pa2;
	if (!fetch_translate(c, la2, &pa2))
		return false;
	phys_read_bytes(&c->mmu.phys, pa2, buf + n, INSN_MAX_LEN - n);
	*straddles = true;
	(void)decode_insn(c->mode, buf, INSN_MAX_LEN, d);
	return true;
}

/* The slow fetch: a page not entered yet, code not decoded yet, or legacy
 * mode with a CS limit below 4 GiB. NULL with c->fault set on a fault. */
static const struct insn *fetch_slow(struct cpu *c)
{
	uint64_t la, pa;
	bool straddles;
	if (!seg_linear(&c->mmu, SEG_CS, c->rip, 1, ACC_FETCH, &la, &c->fault))
		return NULL;
	if (!fetch_translate(c, la, &pa))
		return NULL;
	struct code_page *cp = icache_page(c->icache, pa >> PHYS_FRAME_SHIFT, c->mode);
	cpu_invalidate_fetch(c);
	if (cp && c->fetch_whole_pages) {
		c->fetch_page = la >> PHYS_FRAME_SHIFT;
		c->fetch_cp = cp;
	}
	const struct insn *hit = cp ? icache_lookup(cp, la & PAGE_OFFSET_MASK) : NULL;
	if (!hit) {
		if (!fetch_decode(c, la, pa, &c->scratch, &straddles))
			return NULL;
		hit = &c->scratch;
		if (cp && !straddles)
			hit = icache_add(c->icache, cp, la & PAGE_OFFSET_MASK, &c->scratch);
		if (!hit)
			hit = &c->scratch;
	}
	/* The whole instruction must lie within CS (SDM Vol. 3A §5.3). */
	if (c->mode != CPU_MODE_64 && !seg_linear(&c->mmu, SEG_CS, c->rip, hit->len, ACC_FETCH, &la,
						  &c->fault))
		return NULL;
	return hit;
}

/* ---- the loop ------------------------------------------------------------- */

void flags_materialize(struct cpu *c)
{
	uint64_t fl = c->rflags;
	unsigned w = c->lf_w;
	switch (c->lf_op) {
	case LF_ADD: (void)alu_add(w, c->lf_a, c->lf_b, &fl); break;
	case LF_SUB: (void)alu_sub(w, c->lf_a, c->lf_b, &fl); break;
	case LF_LOGIC: (void)alu_logic_result(w, c->lf_res, &fl); break;
	case LF_INC:
		fl = (fl & ~RFLAGS_CF) | c->lf_b << ALU_CF_BIT;
		(void)alu_inc(w, c->lf_a, &fl);
		break;
	case LF_DEC:
		fl = (fl & ~RFLAGS_CF) | c->lf_b << ALU_CF_BIT;
		(void)alu_dec(w, c->lf_a, &fl);
		break;
	default: break;
	}
	c->rflags = fl;
	c->lf_op = LF_NONE;
}

/* An instruction (or its fetch) faulted: record it, then deliver it or
 * stop. Returns CPU_STOP_LIMIT when delivery succeeded and the loop goes
 * on. */
static enum cpu_stop exception(struct cpu *c)
{
	flags_sync(c);
	c->exc = (struct cpu_exception){
		.vector = c->fault.vector, .has_error_code = c->fault.has_error_code,
		.error_code = c->fault.error_code, .cr2 = c->fault.cr2, .rip = c->rip,
	};
	cpu_invalidate_fetch(c);
	if (!c->deliver_exceptions) {
		if (c->fault.vector == VEC_PF)
			c->cr2 = c->fault.cr2;
		return CPU_STOP_EXCEPTION;
	}
	return intr_raise_exception(c) ? CPU_STOP_LIMIT : CPU_STOP_TRIPLE_FAULT;
}

/* Look up the instruction at RIP: one compare of the page number and one
 * slot load while RIP stays in the page last entered, else fetch_slow.
 * NULL with c->fault set on a fault. */
static inline const struct insn *fetch(struct cpu *c)
{
	uint64_t la = (c->rip + c->fetch_base) & c->la_mask;
	const struct insn *d = NULL;
	if (MMU_LIKELY(la >> PHYS_FRAME_SHIFT == c->fetch_page))
		d = icache_lookup(c->fetch_cp, la & PAGE_OFFSET_MASK);
	return MMU_LIKELY(d != NULL) ? d : fetch_slow(c);
}

/* After a retired instruction: the interrupt shadow counts it. */
static inline void retire_shadow(struct cpu *c)
{
	if (MMU_UNLIKELY(c->intr_shadow))
		c->intr_shadow--;
}

/* A handler returned something other than EXEC_OK: commit or roll back,
 * and say whether the loop stops (CPU_STOP_LIMIT: it goes on). *retired
 * is set when the instruction retired. */
static enum cpu_stop finish_special(struct cpu *c, enum exec_result r, bool *retired)
{
	*retired = r != EXEC_FAULT;
	switch (r) {
	case EXEC_HLT:
		c->rip = c->next_rip;
		c->intr_shadow = 0; /* STI; HLT wakes on the next interrupt */
		return CPU_STOP_HLT;
	case EXEC_YIELD:
		c->rip = c->next_rip;
		retire_shadow(c);
		return CPU_STOP_YIELD;
	default:
		return exception(c);
	}
}

/* DR7 fields (SDM Vol. 3B §17.2.4, Figure 17-1): per breakpoint n, the
 * enables L n (bit 2n) and G n (bit 2n + 1), and R/W n at bits 16 + 4n. */
#define DR7_ENABLE_BITS(n) (UINT64_C(3) << (2 * (n)))
#define DR7_RW_SHIFT(n) (16 + 4 * (n))
#define DR7_RW_MASK 3u
#define DR7_RW_EXECUTE 0u
#define DR7_RW_WRITE 1u
#define DR7_RW_IO 2u
#define DR7_RW_ACCESS 3u  /* reads and writes */
#define DR7_LEN_SHIFT(n) (18 + 4 * (n))
#define DR7_LEN_MASK 3u
#define DEBUG_BREAKPOINTS 4

void cpu_debug_update(struct cpu *c)
{
	uint64_t dr7 = c->dr[7];
	c->bp_exec = c->bp_data = c->bp_read = c->bp_io = 0;
	for (unsigned n = 0; n < DEBUG_BREAKPOINTS; n++) {
		if (!(dr7 & DR7_ENABLE_BITS(n)))
			continue;
		switch ((dr7 >> DR7_RW_SHIFT(n)) & DR7_RW_MASK) {
		case DR7_RW_EXECUTE: c->bp_exec |= (uint8_t)(1u << n); break;
		case DR7_RW_IO: c->bp_io |= (uint8_t)(1u << n); break;
		case DR7_RW_WRITE: c->bp_data |= (uint8_t)(1u << n); break;
		case DR7_RW_ACCESS:
			c->bp_data |= (uint8_t)(1u << n);
			c->bp_read |= (uint8_t)(1u << n);
			break;
		}
	}
	c->bp_watch = c->bp_exec | c->bp_data | c->bp_io;
	mem_flat_update(c);
}

/* Breakpoint n's bytes: [*lo, *lo + len) with LENn's length (Table
 * 17-2 encodings 00, 01, 10, 11: 1, 2, 8, 4 bytes; 10 is 8 bytes on every
 * processor with Intel 64) and the address's bits below it ignored. */
static uint64_t breakpoint_span(const struct cpu *c, unsigned n, uint64_t *lo)
{
	static const uint8_t len[4] = { 1, 2, 8, 4 };
	uint64_t bytes = len[(c->dr[7] >> DR7_LEN_SHIFT(n)) & DR7_LEN_MASK];
	*lo = c->dr[n] & ~(bytes - 1);
	return bytes;
}

/* The breakpoints of mask whose bytes overlap [at, at + size), as DR6 bits. */
static uint64_t breakpoints_overlapping(const struct cpu *c, unsigned mask, uint64_t at,
					uint64_t size, uint64_t addr_mask)
{
	uint64_t hit = 0;
	for (unsigned n = 0; n < DEBUG_BREAKPOINTS; n++) {
		if (!(mask >> n & 1))
			continue;
		uint64_t lo, bytes = breakpoint_span(c, n, &lo);
		lo &= addr_mask;
		if (at <= lo ? lo - at < size : at - lo < bytes) /* no wrap at the top */
			hit |= DR6_B(n);
	}
	return hit;
}

void cpu_data_breakpoints(struct cpu *c, uint64_t la, unsigned size, enum mmu_access_kind kind)
{
	unsigned mask = kind == ACC_WRITE ? c->bp_data : c->bp_read;
	c->db_hits |= breakpoints_overlapping(c, mask, la & c->la_mask, size, c->la_mask);
}

void cpu_io_breakpoints(struct cpu *c, uint16_t port, unsigned size)
{
	/* R/W = 10 is undefined unless CR4.DE = 1 (§17.2.4): never matched. */
	if (c->mmu.cr4 & CR4_DE)
		c->db_hits |= breakpoints_overlapping(c, c->bp_io, port, size, UINT16_MAX);
}

/* The instruction breakpoints that match the instruction at RIP, as DR6
 * bits (§17.3.1.1): none while RF is set, nor while a repeated string
 * instruction resumes between iterations (it started already). The
 * breakpoint address is linear: CS base + RIP. */
static uint64_t code_breakpoints(const struct cpu *c)
{
	if ((c->rflags & RFLAGS_RF) || c->rep_partial)
		return 0;
	uint64_t la = (c->rip + c->fetch_base) & c->la_mask, hit = 0;
	for (unsigned n = 0; n < DEBUG_BREAKPOINTS; n++)
		if ((c->bp_exec >> n & 1) && (c->dr[n] & c->la_mask) == la)
			hit |= DR6_B(n);
	return hit;
}

/* Raise #DB at RIP with the DR6 bits that say why (SDM Vol. 3B §17.2.3):
 * a trap left due in c->db_pending (RIP: the next instruction), or an
 * instruction breakpoint (a fault: RIP is the instruction's). The pending
 * bits are taken either way. */
static enum cpu_stop debug_exception(struct cpu *c, uint64_t dr6_bits)
{
	c->dr[6] |= dr6_bits;
	c->dr[7] &= ~DR7_GD; /* cleared on entry to the #DB handler (§17.2.4) */
	c->db_pending = 0;
	mmu_fault_set(&c->fault, VEC_DB, false, 0);
	return exception(c);
}

/* One instruction that starts with TF or RF set, or while a breakpoint
 * is enabled (so that each instruction is checked), outside the fast
 * loop (SDM Vol. 3B §17.3.1.1, §17.3.1.2, §17.3.1.4). RF is cleared at the
 * start of every instruction. With TF set at its start (TF as the instruction found it:
 * not after the POPF or IRET that sets it, and still after the one that
 * clears it), an instruction that completes, HLT and port I/O included,
 * is followed by a single-step debug exception: a trap, DR6.BS set, RIP
 * the next instruction (a handler's first when the instruction was INT n
 * or SYSCALL). A faulting instruction raises its fault instead, and MOV
 * SS / POP SS hold the trap off until after the next instruction
 * (§6.8.3), which is traced in its turn. *retired: the instruction
 * retired. Instructions found by the fast loop never set TF or RF: POPF,
 * IRET, SYSRET and task switches are neither INSN_PLAIN nor INSN_LOCAL. */
static __attribute__((noinline, cold)) enum cpu_stop run_traced(struct cpu *c, const struct insn *d,
								 bool *retired)
{
	bool tf = (c->rflags & RFLAGS_TF) != 0;
	uint64_t rip = c->rip;
	c->rflags &= ~RFLAGS_RF;
	c->ss_loaded = false;
	c->db_hits = 0;
	c->next_rip = (rip + d->len) & c->ip_mask;
	enum exec_result r = d->fn(c, d);
	c->cycles += d->cost;
	enum cpu_stop stop = CPU_STOP_LIMIT;
	*retired = true;
	if (r == EXEC_OK) {
		c->rip = c->next_rip;
		retire_shadow(c);
	} else {
		c->rip = r == EXEC_FAULT_NEW_TASK ? c->next_rip : rip;
		stop = finish_special(c, r, retired);
		if (r != EXEC_HLT && r != EXEC_YIELD)
			return stop; /* a fault: it is delivered, not the trap */
	}
	/* Data and I/O breakpoints the instruction matched are traps after
	 * it (§17.3.1.2), reported with a single step in one #DB; after MOV
	 * SS or POP SS both wait for the next instruction (§6.8.3). */
	uint64_t why = c->db_hits | (tf ? DR6_BS : 0);
	c->db_hits = 0;
	if (c->ss_loaded) {
		c->db_held |= why & ~DR6_BS; /* TF is still set: its trap comes anyway */
		return stop;
	}
	why |= c->db_held;
	c->db_held = 0;
	if (!why)
		return stop;
	/* with DR6.BT if the instruction switched into a T task */
	enum cpu_stop trap = debug_exception(c, c->db_pending | why);
	if (trap != CPU_STOP_LIMIT)
		return trap;
	/* The trap ends a HLT's halt at once (a debug exception resumes a
	 * halted processor); a yield still lets the machine see the port. */
	return r == EXEC_HLT ? CPU_STOP_LIMIT : stop;
}

/* The dispatch loop. It is the one place that advances RIP and the
 * instruction counter: a handler leaves RIP alone and says, by its result,
 * whether to commit next_rip. Base costs are added here, memory cycles by
 * the memory path; neither is a function call.
 *
 * Two levels. The outer loop looks the instruction at RIP up (fetch:
 * page compare, slot load, or fetch_slow). The inner loop runs it and
 * then finds the next instruction without leaving while it can:
 *  - chained (INSN_CHAIN: straight-line, and its successor in the page's
 *    decoded array starts where it ends): a pointer increment;
 *  - INSN_LOCAL (a near branch, a string step) whose next RIP is in the
 *    same page: that page's slot.
 * Both find exactly what the outer loop's fetch would (the fetch page is
 * unchanged: these instructions do not touch the fetch state; with
 * fetch_chains the CS base is page-aligned, so RIP and linear address
 * agree on the page and the offset, and RIP cannot wrap inside a page),
 * so instruction and cycle counts are those of looking each one up. A
 * write to the page's code clears its links and slots (emu/icache.c), so
 * the loop leaves right after the instruction that wrote to its own code.
 *
 * Interrupt shadow: instructions found in the inner loop never set it, so
 * when it is pending at a lookup only that one instruction runs before
 * the shadow is counted down.
 *
 * n counts attempts (retired or faulted), bounded by max_insns; failed
 * attempts are subtracted for *retired. */
static enum cpu_stop run_loop(struct cpu *c, uint64_t max_insns, uint64_t *retired)
{
	uint64_t n = 0, failed = 0;
	enum cpu_stop stop = CPU_STOP_LIMIT;
	while (n < max_insns) {
		if (MMU_UNLIKELY(c->db_pending | c->bp_exec)) {
			/* A debug trap a task switch left due, or an instruction
			 * breakpoint at RIP (a fault): both come before the
			 * fetch. Each takes a turn of the bound, not a retired
			 * instruction (a #DB task gate to a T task cannot spin). */
			uint64_t why = c->db_pending ? c->db_pending : code_breakpoints(c);
			if (why) {
				n++, failed++;
				stop = debug_exception(c, why);
				if (stop != CPU_STOP_LIMIT)
					break;
				continue;
			}
		}
		const struct insn *d = fetch(c);
		if (MMU_UNLIKELY(!d)) {
			n++, failed++;
			stop = exception(c);
			if (stop != CPU_STOP_LIMIT)
				break;
			continue;
		}
		if (MMU_UNLIKELY((c->rflags & (RFLAGS_TF | RFLAGS_RF)) | c->bp_watch)) {
			bool done;
			n++;
			stop = run_traced(c, d, &done);
			failed += !done;
			if (stop != CPU_STOP_LIMIT)
				break;
			continue;
		}
		const struct code_page *cp = c->fetch_cp;
		uint64_t rip = c->rip;
		/* Instructions this lookup may run: 1, or up to the bound. */
		bool inner = c->fetch_chains && cp && !c->intr_shadow;
		uint64_t budget = inner ? max_insns - n : 1, left = budget;
		c->next_rip = (rip + d->len) & c->ip_mask;
		for (;;) {
			enum exec_result r = d->fn(c, d);
			c->cycles += d->cost;
			if (MMU_UNLIKELY(r != EXEC_OK)) {
				bool done;
				n += budget - left + 1;
				c->rip = r == EXEC_FAULT_NEW_TASK ? c->next_rip : rip;
				stop = finish_special(c, r, &done);
				failed += !done;
				goto next;
			}
			if (--left == 0)
				break;
			if (d->flags & INSN_CHAIN) {
				/* Plain: next_rip is still rip + len. */
				rip = c->next_rip;
				d++;
			} else {
				uint64_t to = c->next_rip;
				if (!(d->flags & INSN_LOCAL) || ((to ^ rip) >> PHYS_FRAME_SHIFT) != 0)
					break;
				const struct insn *t = icache_lookup(cp, to & PAGE_OFFSET_MASK);
				if (!t)
					break;
				rip = to;
				d = t;
			}
			c->rip = rip;
			c->next_rip = rip + d->len;
		}
		n += budget - left;
		c->rip = c->next_rip;
		retire_shadow(c);
	next:
		if (stop != CPU_STOP_LIMIT)
			break;
	}
	/* A trap due after the last instruction run is not left for the
	 * machine to overtake with an interrupt. */
	if (MMU_UNLIKELY(c->db_pending) && (stop == CPU_STOP_LIMIT || stop == CPU_STOP_YIELD)) {
		enum cpu_stop trap = debug_exception(c, c->db_pending);
		if (trap != CPU_STOP_LIMIT)
			stop = trap;
	}
	*retired = n - failed;
	return stop;
}

enum cpu_stop cpu_run(struct cpu *c, uint64_t max_insns)
{
	uint64_t retired;
	if (c->mode == CPU_MODE_REAL) {
		c->stop_msg = "real mode is not supported";
		return CPU_STOP_UNSUPPORTED;
	}
	enum cpu_stop stop = run_loop(c, max_insns, &retired);
	c->insns += retired;
	flags_sync(c);
	return stop;
}

bool cpu_interrupt(struct cpu *c, uint8_t vector)
{
	struct intr_event e = { .vector = vector, .ext = true, .rf = c->rep_partial, .rip = c->rip };
	flags_sync(c);
	if (intr_deliver(c, &e))
		return true;
	return intr_raise_exception(c);
}

/* ---- simple handlers that live with the loop ------------------------------ */

enum exec_result exec_ud(struct cpu *c, const struct insn *d)
{
	if (d->mnemonic)
		c->unimpl[d->mnemonic]++;
	return fault(c, VEC_UD, false, 0);
}

enum exec_result exec_nop(struct cpu *c, const struct insn *d)
{
	return EXEC_OK;
}

/* HLT: CPL 0 only (SDM Vol. 2 HLT: #GP(0) otherwise). With no interrupt
 * delivery yet, the loop stops and reports it. */
enum exec_result exec_hlt(struct cpu *c, const struct insn *d)
{
	if (c->cpl != 0)
		return fault(c, VEC_GP, true, 0);
	return EXEC_HLT;
}

/* ---- reports -------------------------------------------------------------- */

void cpu_print_unimplemented(const struct cpu *c, void *file)
{
	for (unsigned m = 0; m < decode_mnemonic_count(); m++)
		if (c->unimpl[m])
			fprintf(file, "unimplemented %s %llu\n", decode_mnemonic_name(m),
				(unsigned long long)c->unimpl[m]);
}

uint64_t cpu_unimplemented_count(const struct cpu *c, const char *mnemonic)
{
	for (unsigned m = 0; m < decode_mnemonic_count(); m++)
		if (!strcmp(decode_mnemonic_name(m), mnemonic))
			return c->unimpl[m];
	return 0;
}

const char *cpu_mode_name(enum cpu_mode m)
{
	static const char *const names[] = {
		[CPU_MODE_REAL] = "real", [CPU_MODE_PROT16] = "protected-16",
		[CPU_MODE_PROT32] = "protected-32", [CPU_MODE_COMPAT16] = "compatibility-16",
		[CPU_MODE_COMPAT32] = "compatibility-32", [CPU_MODE_64] = "64-bit",
	};
	return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

const char *cpu_stop_name(enum cpu_stop s)
{
	static const char *const names[] = {
		[CPU_STOP_LIMIT] = "instruction limit", [CPU_STOP_HLT] = "hlt",
		[CPU_STOP_EXCEPTION] = "exception", [CPU_STOP_UNSUPPORTED] = "unsupported",
		[CPU_STOP_TRIPLE_FAULT] = "triple fault", [CPU_STOP_YIELD] = "device i/o",
	};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}
