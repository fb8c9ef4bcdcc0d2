/* Event delivery through the IDT in IA-32e mode and protected mode (SDM
 * Vol. 3A §6.12, §6.14), double faults and triple faults (§6.15
 * "Interrupt 8", Table 6-5). IDT task gates switch tasks (emu/task.c);
 * virtual-8086 mode is not modelled.
 *
 * Delivery is all or nothing: the gate, the target code segment, the new
 * stack pointer (from the 64-bit TSS for a privilege change or an IST
 * slot) and the translation of every stack slot are checked before
 * anything is committed, so a fault during delivery leaves the state of
 * the interrupted context for the next delivery attempt.
 */
#include "emu/intr.h"

#include <stdio.h>
#include <string.h>

#include "emu/exec.h"
#include "emu/task.h"

/* 64-bit TSS fields (SDM Vol. 3A §7.7, Figure 7-11). */
#define TSS64_RSP0 4u
#define TSS64_IST1 0x24u
#define TSS64_SLOT 8u
#define IA32E_STACK_ALIGN UINT64_C(0xf) /* §6.14.2: RSP aligned to 16 bytes */
#define FRAME_MAX 6                     /* SS, RSP, RFLAGS, CS, RIP, error code */

/* Implicit supervisor-mode accesses: descriptor tables, the TSS and the
 * stack pushes of delivery (SDM Vol. 3A §4.6). */
static unsigned implicit(enum mmu_access_kind kind)
{
	return mmu_acc(kind, 0, true, false);
}

/* Read a stack pointer from the current 64-bit TSS; #TS(TR) beyond its
 * limit (§6.14.5, §7.7). */
static bool tss_read_sp(struct cpu *c, unsigned offset, uint64_t *sp)
{
	const struct seg_cache *tr = &c->mmu.seg.tr;
	if (offset + TSS64_SLOT - 1 > tr->limit) {
		mmu_fault_set(&c->fault, VEC_TS, true, tr->selector & SEL_ERROR_MASK);
		return false;
	}
	return mmu_read_linear(&c->mmu, tr->base + offset, sp, TSS64_SLOT, implicit(ACC_READ),
			       &c->fault);
}

bool intr_stack_xlate(struct cpu *c, uint64_t la, unsigned len, unsigned acc, struct memref *r)
{
	struct mmu_xlate x;
	if (!mmu_canonical(&c->mmu, la) || !mmu_canonical(&c->mmu, la + len - 1)) {
		mmu_fault_set(&c->fault, VEC_SS, true, 0);
		return false;
	}
	unsigned room = (unsigned)(PHYS_FRAME_SIZE - (la & PAGE_OFFSET_MASK));
	r->n1 = room < len ? room : len;
	bool ok = mmu_translate(&c->mmu, la, acc, &x);
	c->cycles += x.cycles;
	if (ok && r->n1 < len) {
		r->pa = x.pa;
		ok = mmu_translate(&c->mmu, la + r->n1, acc, &x);
		c->cycles += x.cycles;
		r->pa2 = x.pa;
	} else {
		r->pa = x.pa;
	}
	if (!ok)
		c->fault = x.fault;
	return ok;
}

/* The stack delivery switches to: an IST slot, RSPn of the new CPL on a
 * privilege change, else the current one; aligned to 16 (§6.14.4/5). */
static bool delivery_stack(struct cpu *c, const struct seg_desc *gate, unsigned new_cpl,
			   uint64_t *rsp)
{
	*rsp = c->gpr[GPR_RSP];
	if (gate->gate_ist && !tss_read_sp(c, TSS64_IST1 + (gate->gate_ist - 1u) * TSS64_SLOT, rsp))
		return false;
	uint16_t null_ss;
	if (!gate->gate_ist && new_cpl < c->cpl && !intr_tss_stack(c, new_cpl, &null_ss, rsp))
		return false;
	*rsp &= ~IA32E_STACK_ALIGN;
	return true;
}

/* What delivery checked and will commit. */
struct delivery {
	struct seg_desc gate, cs;
	unsigned new_cpl;
	uint64_t frame[FRAME_MAX];  /* lowest address first */
	unsigned n, slot;           /* frame entries, bytes per entry */
	uint64_t new_sp;
	struct seg_cache old_ss;    /* legacy mode: SS before a stack switch */
	bool ss_switched;
};

/* The frame, lowest address first (§6.12.1, Figure 6-4; §6.14.2,
 * Figure 6-9): [error code,] RIP, CS, RFLAGS, and on a stack switch (always
 * in 64-bit mode) the old RSP and SS. */
static void build_frame(struct cpu *c, const struct intr_event *e, struct delivery *v,
			bool push_stack, uint64_t old_sp, uint16_t old_ss)
{
	v->n = 0;
	if (e->has_error_code)
		v->frame[v->n++] = e->error_code;
	v->frame[v->n++] = e->rip;
	v->frame[v->n++] = c->mmu.seg.sr[SEG_CS].selector;
	v->frame[v->n++] = flags_get(c) | (e->rf ? RFLAGS_RF : 0);
	if (push_stack) {
		v->frame[v->n++] = old_sp;
		v->frame[v->n++] = old_ss;
	}
}

void intr_pack_frame(const uint64_t *frame, unsigned n, unsigned slot, uint8_t *out)
{
	for (unsigned i = 0; i < n; i++)
		memcpy(out + i * slot, &frame[i], slot);
}

/* 64-bit mode: IST or RSPn stack, 8-byte slots, SS:RSP always pushed. */
static bool stack_64(struct cpu *c, const struct intr_event *e, struct delivery *v)
{
	uint64_t rsp;
	if (!mmu_canonical(&c->mmu, v->gate.gate_offset)) {
		mmu_fault_set(&c->fault, VEC_GP, true, 0);
		return false;
	}
	if (!delivery_stack(c, &v->gate, v->new_cpl, &rsp))
		return false;
	v->slot = 8;
	build_frame(c, e, v, true, c->gpr[GPR_RSP], c->mmu.seg.sr[SEG_SS].selector);
	v->new_sp = rsp - v->n * v->slot;
	return true;
}

/* 32-bit TSS fields (SDM Vol. 3A §7.2.1, Figure 7-2): ESPn at 4 + 8n,
 * SSn right after it. 16-bit TSS (§7.6, Figure 7-10): SPn at 2 + 4n, SSn
 * right after it. */
#define TSS32_ESP0 4u
#define TSS32_STACK_STRIDE 8u
#define TSS16_SP0 2u
#define TSS16_STACK_STRIDE 4u
#define TSS_SS_BYTES 2u

/* Outside IA-32e mode: SSn:(E)SPn of the current 16- or 32-bit TSS, both
 * fields within the TSS limit, else #TS(TR) (Vol. 2 CALL "MORE-PRIVILEGE":
 * TSSstackAddress + 5 (32-bit) or + 3 (16-bit) must not exceed it). */
static bool tss_read_legacy(struct cpu *c, unsigned cpl, uint16_t *ss, uint64_t *sp)
{
	const struct seg_cache *tr = &c->mmu.seg.tr;
	bool tss16 = (tr->type & ~SYS_TSS_BUSY_BIT) == SYS_TSS16_AVAIL;
	unsigned at = tss16 ? TSS16_SP0 + cpl * TSS16_STACK_STRIDE : TSS32_ESP0 + cpl * TSS32_STACK_STRIDE;
	unsigned sp_bytes = tss16 ? 2u : 4u;
	uint64_t sel = 0;
	*sp = 0;
	if (at + sp_bytes + TSS_SS_BYTES - 1 > tr->limit) {
		mmu_fault_set(&c->fault, VEC_TS, true, tr->selector & SEL_ERROR_MASK);
		return false;
	}
	if (!mmu_read_linear(&c->mmu, tr->base + at, sp, sp_bytes, implicit(ACC_READ), &c->fault) ||
	    !mmu_read_linear(&c->mmu, tr->base + at + sp_bytes, &sel, TSS_SS_BYTES,
			     implicit(ACC_READ), &c->fault))
		return false;
	*ss = (uint16_t)sel;
	return true;
}

bool intr_tss_stack(struct cpu *c, unsigned cpl, uint16_t *ss, uint64_t *sp)
{
	if (!(c->mmu.efer & EFER_LMA))
		return tss_read_legacy(c, cpl, ss, sp);
	/* IA-32e mode: RSPn, and SS becomes a null selector whose RPL is the
	 * new CPL (§6.14.4; Vol. 2 CALL "NewSS ← new code-segment DPL"). */
	*ss = (uint16_t)cpl;
	return tss_read_sp(c, TSS64_RSP0 + cpl * TSS64_SLOT, sp);
}

bool intr_load_tss_ss(struct cpu *c, uint16_t ss, unsigned cpl)
{
	if (seg_load(&c->mmu, SEG_SS, ss, cpl, &c->fault))
		return true;
	if (c->fault.vector == VEC_GP)
		mmu_fault_set(&c->fault, VEC_TS, true, ss & SEL_ERROR_MASK);
	return false;
}

/* Protected mode: a privilege change switches to SSn:(E)SPn from the 32-
 * or 16-bit TSS (§6.12.1, §7.2.1, §7.6); the new SS is loaded (and
 * checked) now and restored if a later step faults. 16-bit gates push
 * 2-byte entries. */
static bool stack_legacy(struct cpu *c, const struct intr_event *e, struct delivery *v)
{
	struct mmu *m = &c->mmu;
	uint64_t old_sp = c->gpr[GPR_RSP] & c->sp_mask, sp = old_sp;
	uint16_t old_ss = m->seg.sr[SEG_SS].selector;
	bool gate16 = v->gate.kind == DESC_INT_GATE16 || v->gate.kind == DESC_TRAP_GATE16;
	if (v->gate.gate_offset > v->cs.limit) {
		mmu_fault_set(&c->fault, VEC_GP, true, 0);
		return false;
	}
	v->slot = gate16 ? 2 : 4;
	v->old_ss = m->seg.sr[SEG_SS];
	if (v->new_cpl < c->cpl) {
		uint16_t ss;
		if (!intr_tss_stack(c, v->new_cpl, &ss, &sp) || !intr_load_tss_ss(c, ss, v->new_cpl))
			return false;
		v->ss_switched = true;
	}
	build_frame(c, e, v, v->ss_switched, old_sp, old_ss);
	v->new_sp = sp - v->n * v->slot;
	return true;
}

bool intr_frame_linear(struct cpu *c, uint64_t sp, unsigned len, uint64_t *la)
{
	*la = sp;
	if (c->mmu.efer & EFER_LMA)
		return true;
	uint64_t off = sp & (c->mmu.seg.sr[SEG_SS].db ? UINT64_C(0xffffffff) : 0xffff);
	return seg_linear(&c->mmu, SEG_SS, off, len, ACC_WRITE, la, &c->fault);
}

/* Translate the frame's slots on the (new) stack: limits, then paging for
 * both pages before anything is written. */
static bool frame_xlate(struct cpu *c, struct delivery *v, struct memref *r)
{
	uint64_t la;
	unsigned len = v->n * v->slot;
	return intr_frame_linear(c, v->new_sp, len, &la) &&
	       intr_stack_xlate(c, la, len, implicit(ACC_WRITE), r);
}

void intr_set_sp(struct cpu *c, uint64_t new_sp)
{
	if (c->mmu.efer & EFER_LMA)
		c->gpr[GPR_RSP] = new_sp;
	else if (c->mmu.seg.sr[SEG_SS].db)
		c->gpr[GPR_RSP] = (uint32_t)new_sp;
	else
		c->gpr[GPR_RSP] = (c->gpr[GPR_RSP] & ~UINT64_C(0xffff)) | (new_sp & 0xffff);
}

/* Through an IDT task gate (outside IA-32e mode; seg_read_idt_gate
 * refuses task gates inside it): a nested task switch (emu/task.h). A
 * switch to a virtual-8086 task is not modelled: #GP(0), nothing changed. */
static bool deliver_task(struct cpu *c, const struct seg_desc *gate, const struct intr_event *e)
{
	enum task_result r = task_deliver(c, gate, e);
	if (r == TASK_UNMODELLED)
		mmu_fault_set(&c->fault, VEC_GP, true, 0);
	return r == TASK_OK;
}

bool intr_deliver(struct cpu *c, const struct intr_event *e)
{
	struct mmu *m = &c->mmu;
	struct delivery v = { .ss_switched = false };
	struct memref slots = { 0, 0, 0 };
	uint8_t bytes[FRAME_MAX * 8];
	bool ia32e = (m->efer & EFER_LMA) != 0;
	if (!seg_read_idt_gate(m, e->vector, e->ext, &v.gate, &c->fault) ||
	    !seg_check_idt_gate(&v.gate, e->vector, e->ext, e->software, c->cpl, &c->fault))
		return false;
	if (v.gate.kind == DESC_TASK_GATE)
		return deliver_task(c, &v.gate, e);
	if (!seg_check_cs(m, v.gate.gate_selector, c->cpl, SEG_CS_INT, &v.cs, &c->fault))
		return false;
	v.new_cpl = seg_cs_new_cpl(SEG_CS_INT, v.gate.gate_selector, c->cpl, &v.cs);
	bool ok = ia32e ? stack_64(c, e, &v) : stack_legacy(c, e, &v);
	if (ok)
		ok = frame_xlate(c, &v, &slots);
	if (!ok) {
		if (v.ss_switched)
			m->seg.sr[SEG_SS] = v.old_ss;
		return false;
	}
	intr_pack_frame(v.frame, v.n, v.slot, bytes);
	mem_store_bytes(c, &slots, bytes, v.n * v.slot);
	/* Commit. In 64-bit mode a privilege change loads SS with a null
	 * selector whose RPL is the new CPL (§6.14.4). */
	seg_commit_cs(m, v.gate.gate_selector, &v.cs, v.new_cpl);
	if (ia32e && v.new_cpl < c->cpl)
		m->seg.sr[SEG_SS] = (struct seg_cache){ .selector = (uint16_t)v.new_cpl, .usable = false };
	intr_set_sp(c, v.new_sp);
	c->rep_partial = false; /* the string instruction resumes after the handler */
	c->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (v.gate.kind == DESC_INT_GATE64 || v.gate.kind == DESC_INT_GATE32 ||
	    v.gate.kind == DESC_INT_GATE16)
		c->rflags &= ~RFLAGS_IF; /* interrupt gates clear IF, trap gates do not (§6.12.1.3) */
	c->rip = v.gate.gate_offset;
	c->cycles += INTR_DELIVERY_CYCLES;
	cpu_refresh_mode(c);
	return true;
}

/* Exception classes for double-fault detection (SDM Vol. 3A Table 6-4). */
enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT, EXC_DOUBLE };

static enum exc_class exc_class_of(uint8_t vector)
{
	switch (vector) {
	case VEC_DE: case VEC_TS: case VEC_NP: case VEC_SS: case VEC_GP:
		return EXC_CONTRIBUTORY;
	case VEC_PF:
		return EXC_PAGE_FAULT;
	case VEC_DF:
		return EXC_DOUBLE;
	default:
		return EXC_BENIGN;
	}
}

/* Table 6-5: a second exception while delivering the first becomes #DF
 * when both are contributory, or the first is #PF and the second is #PF
 * or contributory. */
static bool makes_double_fault(uint8_t first, uint8_t second)
{
	enum exc_class a = exc_class_of(first), b = exc_class_of(second);
	if (a == EXC_CONTRIBUTORY)
		return b == EXC_CONTRIBUTORY;
	if (a == EXC_PAGE_FAULT)
		return b == EXC_CONTRIBUTORY || b == EXC_PAGE_FAULT;
	return false;
}

/* Bounded: benign second faults are delivered serially, but a guest could
 * make every delivery fault benignly; after this many the CPU shuts down. */
#define DELIVERY_ATTEMPTS 8

/* Whether the EFLAGS image pushed for exception vector pushes RF = 1
 * (SDM Vol. 3B §17.3.1.1): every fault-class exception; a debug exception
 * only when taken between iterations of a repeated string instruction (a
 * single-step or data-breakpoint trap after an iteration that was not
 * the last; an instruction-breakpoint fault, never raised there, pushes
 * RF = 0). Traps (#BP, #OF come from INT3/INTO) and aborts push RF as it is,
 * which is 0: RF is cleared at the start of every instruction. */
static bool exception_pushes_rf(const struct cpu *c, uint8_t vector)
{
	switch (vector) {
	case VEC_DE: case VEC_BR: case VEC_UD: case VEC_NM: case VEC_TS: case VEC_NP:
	case VEC_SS: case VEC_GP: case VEC_PF: case VEC_MF: case VEC_AC: case VEC_XM:
		return true;
	case VEC_DB:
		return c->rep_partial;
	default:
		return false;
	}
}

bool intr_raise_exception(struct cpu *c)
{
	struct intr_event e = {
		.vector = c->fault.vector, .has_error_code = c->fault.has_error_code,
		.error_code = c->fault.error_code, .rip = c->rip,
		.rf = exception_pushes_rf(c, c->fault.vector),
	};
	for (int i = 0; i < DELIVERY_ATTEMPTS; i++) {
		if (e.vector == VEC_PF)
			c->cr2 = c->fault.cr2;
		if (intr_deliver(c, &e))
			return true;
		if (e.vector == VEC_DF)
			break; /* a fault while delivering #DF: shutdown (§6.15, Interrupt 8) */
		uint8_t second = c->fault.vector;
		if (makes_double_fault(e.vector, second))
			e = (struct intr_event){ .vector = VEC_DF, .has_error_code = true, .rip = c->rip };
		else
			e = (struct intr_event){ .vector = second, .has_error_code = c->fault.has_error_code,
						 .error_code = c->fault.error_code, .rip = c->rip,
						 .rf = exception_pushes_rf(c, second) };
		e.ext = true; /* raised while delivering an earlier event (§6.13) */
	}
	snprintf(c->diag, sizeof c->diag,
		 "triple fault: vector %u (error code %#x) while delivering an exception at rip %#llx",
		 c->fault.vector, c->fault.error_code, (unsigned long long)c->rip);
	c->stop_msg = c->diag;
	return false;
}
