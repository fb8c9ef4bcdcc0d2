/* Segment-register moves and far control transfers: MOV to/from Sreg,
 * PUSH/POP Sreg, far JMP, far CALL and far RET to code segments (SDM
 * Vol. 2 MOV, PUSH, POP, JMP, CALL, RET; Vol. 3A §5.8). Descriptor checks
 * are mmu/seg's; this file orders them, translates stack slots before
 * committing, and refreshes the mode when CS or SS change. Far JMP and
 * CALL through call gates (§5.8.3–§5.8.5) are modelled, with the stack
 * switch and parameter copy; task gates and TSS targets switch tasks
 * (emu/task.c). */
#include "emu/exec.h"
#include "emu/intr.h"
#include "emu/task.h"

#define SELECTOR_BYTES 2u

/* After loading SS: the stack width follows SS.B, and interrupts are held
 * off until the next instruction has retired (SDM Vol. 2 MOV, POP: the
 * MOV SS shadow lets a following MOV ESP complete the stack switch). */
#define MOV_SS_SHADOW 2

static enum exec_result stack_changed(struct cpu *c, unsigned r)
{
	if (r == SEG_SS) {
		cpu_refresh_mode(c);
		c->intr_shadow = MOV_SS_SHADOW;
		c->ss_loaded = true;
	}
	return EXEC_OK;
}

/* MOV Sreg, r/m16 and MOV r/m, Sreg. Stores to memory are 16 bits; a
 * register destination gets the selector zero-extended (SDM Vol. 2 MOV). */
enum exec_result exec_mov_sreg(struct cpu *c, const struct insn *d)
{
	unsigned r = d->sub & ~SREG_WRITE;
	uint64_t v;
	if (d->sub & SREG_WRITE) {
		if (!dst_read(c, d, SELECTOR_BYTES, &v) ||
		    !seg_load(&c->mmu, (enum seg_reg)r, (uint16_t)v, c->cpl, &c->fault))
			return EXEC_FAULT;
		return stack_changed(c, r);
	}
	v = c->mmu.seg.sr[r].selector;
	if (d->k0 == OPK_REG) {
		reg_set(c, d->r0, d->osz, v);
		return EXEC_OK;
	}
	return mem_write(c, d->seg, insn_ea(c, d), SELECTOR_BYTES, v) ? EXEC_OK : EXEC_FAULT;
}

/* PUSH Sreg: an operand-size slot of which the selector's 16 bits are
 * written, as current processors do (SDM Vol. 2 PUSH). */
enum exec_result exec_push_sreg(struct cpu *c, const struct insn *d)
{
	struct memref m;
	if (!push_xlate(c, d->osz, &m))
		return EXEC_FAULT;
	mem_store(c, &m, SELECTOR_BYTES, c->mmu.seg.sr[d->sub].selector);
	c->gpr[GPR_RSP] = sp_moved(c, -(int64_t)d->osz);
	return EXEC_OK;
}

enum exec_result exec_pop_sreg(struct cpu *c, const struct insn *d)
{
	uint64_t v;
	if (!stack_peek(c, 0, d->osz, &v) ||
	    !seg_load(&c->mmu, (enum seg_reg)d->sub, (uint16_t)v, c->cpl, &c->fault))
		return EXEC_FAULT;
	c->gpr[GPR_RSP] = sp_moved(c, d->osz);
	return stack_changed(c, d->sub);
}

/* LDS/LES/LFS/LGS/LSS reg, m16:16/32/64: the selector goes through
 * seg_load (all its checks), then the offset into reg (SDM Vol. 2 LDS). */
enum exec_result exec_load_far_ptr(struct cpu *c, const struct insn *d)
{
	uint64_t off, sel, ea = insn_ea(c, d);
	if (!mem_read(c, d->seg, ea, d->osz, &off) ||
	    !mem_read(c, d->seg, (ea + d->osz) & size_mask(d->asz), SELECTOR_BYTES, &sel) ||
	    !seg_load(&c->mmu, (enum seg_reg)d->sub, (uint16_t)sel, c->cpl, &c->fault))
		return EXEC_FAULT;
	reg_set(c, d->r0, d->osz, off);
	return stack_changed(c, d->sub);
}

/* The far pointer operand: ptr16:16/32 immediate (selector in disp) or
 * m16:16/32/64 (offset first, then the selector). */
static bool far_pointer(struct cpu *c, const struct insn *d, uint16_t *sel, uint64_t *off)
{
	if (d->k0 == OPK_IMM) {
		*sel = (uint16_t)d->disp;
		*off = d->imm & size_mask(d->osz);
		return true;
	}
	uint64_t ea = insn_ea(c, d), s;
	if (!mem_read(c, d->seg, ea, d->osz, off) ||
	    !mem_read(c, d->seg, (ea + d->osz) & size_mask(d->asz), SELECTOR_BYTES, &s))
		return false;
	*sel = (uint16_t)s;
	return true;
}

/* Is off a valid RIP in code segment desc: canonical for 64-bit code in
 * IA-32e mode, else within the limit (SDM Vol. 2 JMP "IF instruction
 * pointer not within code segment limit THEN #GP(0)"). */
static bool target_ok(struct cpu *c, const struct seg_desc *desc, uint64_t off)
{
	bool ok = (c->mmu.efer & EFER_LMA) && desc->l ? mmu_canonical(&c->mmu, off)
						      : off <= desc->limit;
	if (!ok)
		mmu_fault_set(&c->fault, VEC_GP, true, 0);
	return ok;
}

/* Load CS and go to off; the mode may change (compatibility ↔ 64-bit). */
static enum exec_result far_commit(struct cpu *c, uint16_t sel, const struct seg_desc *desc,
				   unsigned new_cpl, uint64_t off)
{
	seg_commit_cs(&c->mmu, sel, desc, new_cpl);
	cpu_refresh_mode(c);
	c->next_rip = off;
	return EXEC_OK;
}

/* Classify a far JMP/CALL target (mmu/seg checks the descriptor and, in
 * IA-32e mode, refuses task gates and TSSs with #GP(sel)). */
static bool far_target(struct cpu *c, uint16_t sel, struct seg_far_target *t)
{
	return seg_far_target(&c->mmu, sel, c->cpl, t, &c->fault);
}

static bool is_task(const struct seg_far_target *t)
{
	return t->kind == SEG_FAR_TASK_GATE || t->kind == SEG_FAR_TSS;
}

/* JMP or CALL to a TSS or through a task gate (SDM Vol. 3A §7.3; Vol. 2
 * JMP, CALL "TASK-GATE", "TASK-STATE-SEGMENT"). */
static enum exec_result far_task(struct cpu *c, const struct insn *d,
				 const struct seg_far_target *t, uint16_t sel, bool call)
{
	return task_exec_result(c, d, task_far(c, t, sel, call, c->next_rip));
}

/* The code segment a call gate names, checked for `via` (Vol. 2 JMP and
 * CALL "CALL-GATE": null → #GP(0); not code, privilege, in IA-32e mode not
 * 64-bit code → #GP(code selector); not present → #NP(code selector)). */
static bool gate_code(struct cpu *c, const struct seg_desc *gate, enum seg_cs_via via,
		      struct seg_desc *cs)
{
	return seg_check_cs(&c->mmu, gate->gate_selector, c->cpl, via, cs, &c->fault);
}

/* JMP through a call gate: never a privilege change (§5.8.4, Table 5-1);
 * CS:RIP from the gate, RIP checked against the new CS (Vol. 2 JMP). */
static enum exec_result jmp_gate(struct cpu *c, const struct seg_desc *gate)
{
	struct seg_desc cs;
	if (!gate_code(c, gate, SEG_CS_GATE_JMP, &cs) || !target_ok(c, &cs, gate->gate_offset))
		return EXEC_FAULT;
	return far_commit(c, gate->gate_selector, &cs, c->cpl, gate->gate_offset);
}

enum exec_result exec_jmp_far(struct cpu *c, const struct insn *d)
{
	struct seg_far_target t;
	uint16_t sel;
	uint64_t off;
	if (!far_pointer(c, d, &sel, &off) || !far_target(c, sel, &t))
		return EXEC_FAULT;
	if (t.kind == SEG_FAR_CALL_GATE)
		return jmp_gate(c, &t.desc);
	if (is_task(&t))
		return far_task(c, d, &t, sel, false);
	if (!target_ok(c, &t.desc, off))
		return EXEC_FAULT;
	return far_commit(c, sel, &t.desc, seg_cs_new_cpl(SEG_CS_JMP_CALL, sel, c->cpl, &t.desc), off);
}

/* ---- CALL through a call gate (SDM Vol. 3A §5.8.5; Vol. 2 CALL) ---------- */

#define GATE_PARAMS_MAX 31u /* the 5-bit parameter count (§5.8.3) */
/* Frame entries: return RIP and CS, parameters, old (E)SP and SS. */
#define GATE_FRAME_MAX (2u + GATE_PARAMS_MAX + 2u)
#define GATE_FRAME_RET 2u   /* index of the first copied parameter */

/* A call through a gate, checked and ready to commit. */
struct gate_call {
	struct seg_desc cs;
	unsigned new_cpl;
	unsigned slot;                  /* bytes per entry: the gate's size */
	unsigned n;                     /* entries in frame */
	uint64_t frame[GATE_FRAME_MAX]; /* lowest address first */
	uint64_t new_sp;                /* stack offset after the pushes */
	uint64_t la;                    /* linear address of the frame */
	struct seg_cache old_ss;        /* SS before a stack switch */
};

/* Stack entries are the gate's size, not the operand size (§5.8.3,
 * §5.8.3.1): 2 bytes for a 16-bit gate, 4 for a 32-bit one, 8 in IA-32e. */
static unsigned gate_slot(enum seg_desc_kind kind)
{
	return kind == DESC_CALL_GATE16 ? 2u : kind == DESC_CALL_GATE32 ? 4u : 8u;
}

/* The frame's room on the stack (limit check, #SS(0)), then the gate's
 * RIP in the new CS (#GP(0)), in the order of Vol. 2 CALL. top: the stack
 * offset the frame is pushed below. */
static bool frame_check(struct cpu *c, const struct seg_desc *gate, struct gate_call *g,
			uint64_t top)
{
	g->new_sp = top - g->n * g->slot;
	return intr_frame_linear(c, g->new_sp, g->n * g->slot, &g->la) &&
	       target_ok(c, &g->cs, gate->gate_offset);
}

/* The return address, lowest in the frame (pushed last). */
static void frame_return(struct cpu *c, struct gate_call *g)
{
	g->frame[0] = c->next_rip;
	g->frame[1] = c->mmu.seg.sr[SEG_CS].selector;
}

/* SAME-PRIVILEGE (Vol. 2 CALL): CS and the return RIP on the current
 * stack, as explicit writes at the current CPL. */
static bool same_privilege(struct cpu *c, const struct seg_desc *gate, struct gate_call *g,
			   struct memref *slots)
{
	uint64_t top = (c->mmu.efer & EFER_LMA) ? c->gpr[GPR_RSP] : sp_get(c);
	g->n = GATE_FRAME_RET;
	frame_return(c, g);
	return frame_check(c, gate, g, top) &&
	       intr_stack_xlate(c, g->la, g->n * g->slot, mem_acc(c, ACC_WRITE), slots);
}

/* Copy the gate's parameters from the old stack (§5.8.5, Figure 5-13):
 * read through the old SS, in place of the new one for the reads. */
static bool copy_params(struct cpu *c, unsigned count, struct gate_call *g)
{
	struct seg_cache new_ss = c->mmu.seg.sr[SEG_SS];
	bool ok = true;
	c->mmu.seg.sr[SEG_SS] = g->old_ss;
	for (unsigned i = 0; ok && i < count; i++)
		ok = stack_peek(c, (uint64_t)i * g->slot, g->slot, &g->frame[GATE_FRAME_RET + i]);
	c->mmu.seg.sr[SEG_SS] = new_ss;
	return ok;
}

/* MORE-PRIVILEGE (Vol. 2 CALL; §5.8.5): SSn:(E)SPn (RSPn) from the TSS for
 * the new CPL; outside IA-32e mode the new SS is checked (#TS(SS)) and
 * loaded, the frame must fit below its limit (#SS(SS)), and the gate's
 * parameters are copied. The frame holds the old SS:(E)SP above the
 * parameters and the return address. Pushes are writes at the new CPL. */
static bool more_privilege(struct cpu *c, const struct seg_desc *gate, struct gate_call *g,
			   struct memref *slots)
{
	bool ia32e = (c->mmu.efer & EFER_LMA) != 0;
	unsigned count = ia32e ? 0u : gate->gate_params;
	uint16_t ss;
	uint64_t sp;
	if (!intr_tss_stack(c, g->new_cpl, &ss, &sp) ||
	    (!ia32e && !intr_load_tss_ss(c, ss, g->new_cpl)))
		return false;
	g->n = GATE_FRAME_RET + count + 2u;
	frame_return(c, g);
	g->frame[g->n - 2] = c->gpr[GPR_RSP];
	g->frame[g->n - 1] = g->old_ss.selector;
	if (!frame_check(c, gate, g, sp)) {
		if (c->fault.vector == VEC_SS)
			c->fault.error_code = ss & SEL_ERROR_MASK;
		return false;
	}
	unsigned acc = mmu_acc(ACC_WRITE, g->new_cpl, false, (c->rflags & RFLAGS_AC) != 0);
	return copy_params(c, count, g) && intr_stack_xlate(c, g->la, g->n * g->slot, acc, slots);
}

/* CALL through a call gate: to more privileged non-conforming code with a
 * stack switch, else on the current stack. Everything is checked and every
 * slot translated before the frame is written and CS:RIP, SS:RSP change. */
static enum exec_result call_gate(struct cpu *c, const struct seg_desc *gate)
{
	struct mmu *m = &c->mmu;
	struct gate_call g = { .slot = gate_slot(gate->kind), .old_ss = m->seg.sr[SEG_SS] };
	struct memref slots = { 0, 0, 0 };
	uint8_t bytes[GATE_FRAME_MAX * 4u];
	if (!gate_code(c, gate, SEG_CS_GATE_CALL, &g.cs))
		return EXEC_FAULT;
	g.new_cpl = seg_cs_new_cpl(SEG_CS_GATE_CALL, gate->gate_selector, c->cpl, &g.cs);
	bool inner = g.new_cpl < c->cpl;
	if (!(inner ? more_privilege(c, gate, &g, &slots) : same_privilege(c, gate, &g, &slots))) {
		m->seg.sr[SEG_SS] = g.old_ss;
		return EXEC_FAULT;
	}
	intr_pack_frame(g.frame, g.n, g.slot, bytes);
	mem_store_bytes(c, &slots, bytes, g.n * g.slot);
	intr_set_sp(c, g.new_sp);
	/* In IA-32e mode the inner stack's SS is a null selector with RPL =
	 * the new CPL (§5.8.5, §6.14.4). */
	if (inner && (m->efer & EFER_LMA))
		m->seg.sr[SEG_SS] = (struct seg_cache){ .selector = (uint16_t)g.new_cpl, .usable = false };
	return far_commit(c, gate->gate_selector, &g.cs, g.new_cpl, gate->gate_offset);
}

/* Far CALL to a code segment: push CS (an operand-size slot) and the
 * return RIP, then load CS (same privilege). Through a call gate: above. */
enum exec_result exec_call_far(struct cpu *c, const struct insn *d)
{
	struct seg_far_target t;
	struct memref cs_slot, ip_slot;
	uint16_t sel;
	uint64_t off, sp = sp_get(c);
	if (!far_pointer(c, d, &sel, &off) || !far_target(c, sel, &t))
		return EXEC_FAULT;
	if (t.kind == SEG_FAR_CALL_GATE)
		return call_gate(c, &t.desc);
	if (is_task(&t))
		return far_task(c, d, &t, sel, true);
	if (!target_ok(c, &t.desc, off))
		return EXEC_FAULT;
	if (!mem_xlate(c, SEG_SS, (sp - d->osz) & c->sp_mask, d->osz, ACC_WRITE, &cs_slot) ||
	    !mem_xlate(c, SEG_SS, (sp - 2u * d->osz) & c->sp_mask, d->osz, ACC_WRITE, &ip_slot))
		return EXEC_FAULT;
	mem_store(c, &cs_slot, d->osz, c->mmu.seg.sr[SEG_CS].selector);
	mem_store(c, &ip_slot, d->osz, c->next_rip);
	c->gpr[GPR_RSP] = sp_moved(c, -2 * (int64_t)d->osz);
	return far_commit(c, sel, &t.desc, seg_cs_new_cpl(SEG_CS_JMP_CALL, sel, c->cpl, &t.desc), off);
}
/* Far RET [imm16]: pop RIP and CS; to an outer level also SS:RSP, loaded
 * through seg_load with the new CPL (SDM Vol. 2 RET, Vol. 3A §5.8.6). */
enum exec_result exec_ret_far(struct cpu *c, const struct insn *d)
{
	struct mmu *m = &c->mmu;
	struct seg_desc cs;
	uint64_t off, csv, sp, ssv, release = d->imm & 0xffff;
	if (!stack_peek(c, 0, d->osz, &off) || !stack_peek(c, d->osz, d->osz, &csv))
		return EXEC_FAULT;
	uint16_t sel = (uint16_t)csv;
	if (!seg_check_cs(m, sel, c->cpl, SEG_CS_RET, &cs, &c->fault) || !target_ok(c, &cs, off))
		return EXEC_FAULT;
	unsigned new_cpl = seg_cs_new_cpl(SEG_CS_RET, sel, c->cpl, &cs);
	if (new_cpl == c->cpl) {
		c->gpr[GPR_RSP] = sp_moved(c, (int64_t)(2u * d->osz + release));
		return far_commit(c, sel, &cs, new_cpl, off);
	}
	uint64_t above = 2u * d->osz + release;
	if (!stack_peek(c, above, d->osz, &sp) || !stack_peek(c, above + d->osz, d->osz, &ssv) ||
	    !seg_load(m, SEG_SS, (uint16_t)ssv, new_cpl, &c->fault))
		return EXEC_FAULT;
	c->gpr[GPR_RSP] = sp + release;
	seg_drop_inaccessible(m, new_cpl);
	return far_commit(c, sel, &cs, new_cpl, off);
}
