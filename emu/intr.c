/* Event delivery through the IDT in IA-32e mode (SDM Vol. 3A §6.12,
 * §6.14), double faults and triple faults (§6.15 "Interrupt 8", Table 6-5).
 *
 * Delivery is all or nothing: the gate, the target code segment, the new
 * stack pointer (from the 64-bit TSS for a privilege change or an IST
 * slot) and the translation of every stack slot are checked before
 * anything is committed, so a fault during delivery leaves the state of
 * the interrupted context for the next delivery attempt.
 */
#include "emu/intr.h"

#include <stdio.h>

#include "emu/exec.h"

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

/* Translate len bytes at la for a supervisor write, both pages if it
 * crosses one, before anything is written. */
static bool stack_xlate(struct cpu *c, uint64_t la, unsigned len, struct memref *r)
{
	struct mmu_xlate x;
	if (!mmu_canonical(&c->mmu, la) || !mmu_canonical(&c->mmu, la + len - 1)) {
		mmu_fault_set(&c->fault, VEC_SS, true, 0);
		return false;
	}
	unsigned room = (unsigned)(PHYS_FRAME_SIZE - (la & PAGE_OFFSET_MASK));
	r->n1 = room < len ? room : len;
	bool ok = mmu_translate(&c->mmu, la, implicit(ACC_WRITE), &x);
	c->cycles += x.cycles;
	if (ok && r->n1 < len) {
		r->pa = x.pa;
		ok = mmu_translate(&c->mmu, la + r->n1, implicit(ACC_WRITE), &x);
		c->cycles += x.cycles;
		r->pa2 = x.pa;
	} else {
		r->pa = x.pa;
	}
	if (!ok)
		c->fault = x.fault;
	return ok;
}

static void stack_write(struct cpu *c, const struct memref *r, const uint64_t *frame, unsigned len)
{
	phys_write_bytes(&c->mmu.phys, r->pa, frame, r->n1);
	if (r->n1 < len)
		phys_write_bytes(&c->mmu.phys, r->pa2, (const uint8_t *)frame + r->n1, len - r->n1);
}

/* The stack delivery switches to: an IST slot, RSPn of the new CPL on a
 * privilege change, else the current one; aligned to 16 (§6.14.4/5). */
static bool delivery_stack(struct cpu *c, const struct seg_desc *gate, unsigned new_cpl,
			   uint64_t *rsp)
{
	*rsp = c->gpr[GPR_RSP];
	if (gate->gate_ist && !tss_read_sp(c, TSS64_IST1 + (gate->gate_ist - 1u) * TSS64_SLOT, rsp))
		return false;
	if (!gate->gate_ist && new_cpl < c->cpl &&
	    !tss_read_sp(c, TSS64_RSP0 + new_cpl * TSS64_SLOT, rsp))
		return false;
	*rsp &= ~IA32E_STACK_ALIGN;
	return true;
}

bool intr_deliver(struct cpu *c, const struct intr_event *e)
{
	struct mmu *m = &c->mmu;
	struct seg_desc gate, cs;
	struct memref slots;
	uint64_t rsp, frame[FRAME_MAX];
	if (!seg_read_idt_gate(m, e->vector, e->ext, &gate, &c->fault) ||
	    !seg_check_idt_gate(&gate, e->vector, e->ext, e->software, c->cpl, &c->fault) ||
	    !seg_check_cs(m, gate.gate_selector, c->cpl, SEG_CS_INT, &cs, &c->fault))
		return false;
	unsigned new_cpl = seg_cs_new_cpl(SEG_CS_INT, gate.gate_selector, c->cpl, &cs);
	if (!mmu_canonical(m, gate.gate_offset)) {
		mmu_fault_set(&c->fault, VEC_GP, true, 0);
		return false;
	}
	if (!delivery_stack(c, &gate, new_cpl, &rsp))
		return false;
	/* The frame, lowest address first (§6.14.2, Figure 6-9). */
	unsigned n = 0;
	if (e->has_error_code)
		frame[n++] = e->error_code;
	frame[n++] = e->rip;
	frame[n++] = m->seg.sr[SEG_CS].selector;
	frame[n++] = flags_get(c);
	frame[n++] = c->gpr[GPR_RSP];
	frame[n++] = m->seg.sr[SEG_SS].selector;
	uint64_t new_rsp = rsp - n * 8u;
	if (!stack_xlate(c, new_rsp, n * 8u, &slots))
		return false;
	stack_write(c, &slots, frame, n * 8u);
	/* Commit. A privilege change loads SS with a null selector whose RPL
	 * is the new CPL (§6.14.4). */
	seg_commit_cs(m, gate.gate_selector, &cs, new_cpl);
	if (new_cpl < c->cpl) {
		struct seg_cache *ss = &m->seg.sr[SEG_SS];
		*ss = (struct seg_cache){ .selector = (uint16_t)new_cpl, .usable = false };
	}
	c->gpr[GPR_RSP] = new_rsp;
	c->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (gate.kind == DESC_INT_GATE64)
		c->rflags &= ~RFLAGS_IF; /* interrupt gates clear IF, trap gates do not (§6.12.1.3) */
	c->rip = gate.gate_offset;
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

bool intr_raise_exception(struct cpu *c)
{
	struct intr_event e = {
		.vector = c->fault.vector, .has_error_code = c->fault.has_error_code,
		.error_code = c->fault.error_code, .rip = c->rip,
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
						 .error_code = c->fault.error_code, .rip = c->rip };
		e.ext = true; /* raised while delivering an earlier event (§6.13) */
	}
	snprintf(c->diag, sizeof c->diag,
		 "triple fault: vector %u (error code %#x) while delivering an exception at rip %#llx",
		 c->fault.vector, c->fault.error_code, (unsigned long long)c->rip);
	c->stop_msg = c->diag;
	return false;
}
