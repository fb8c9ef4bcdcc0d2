/* Segment-register moves and far control transfers: MOV to/from Sreg,
 * PUSH/POP Sreg, far JMP, far CALL and far RET to code segments (SDM
 * Vol. 2 MOV, PUSH, POP, JMP, CALL, RET; Vol. 3A §5.8). Descriptor checks
 * are mmu/seg's; this file orders them, translates stack slots before
 * committing, and refreshes the mode when CS or SS change. Call gates and
 * task switches are not implemented (#UD, counted). */
#include "emu/exec.h"

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

/* A far JMP/CALL target that is a code segment, with its checks; call
 * gates and task switches are not modelled. */
static bool far_code_target(struct cpu *c, const struct insn *d, uint16_t sel, uint64_t off,
			    struct seg_far_target *t)
{
	if (!seg_far_target(&c->mmu, sel, c->cpl, t, &c->fault))
		return false;
	if (t->kind != SEG_FAR_CODE) {
		(void)exec_ud(c, d);
		return false;
	}
	return target_ok(c, &t->desc, off);
}

enum exec_result exec_jmp_far(struct cpu *c, const struct insn *d)
{
	struct seg_far_target t;
	uint16_t sel;
	uint64_t off;
	if (!far_pointer(c, d, &sel, &off) || !far_code_target(c, d, sel, off, &t))
		return EXEC_FAULT;
	return far_commit(c, sel, &t.desc, seg_cs_new_cpl(SEG_CS_JMP_CALL, sel, c->cpl, &t.desc), off);
}

/* Far CALL to a code segment: push CS (an operand-size slot) and the
 * return RIP, then load CS (same privilege). */
enum exec_result exec_call_far(struct cpu *c, const struct insn *d)
{
	struct seg_far_target t;
	struct memref cs_slot, ip_slot;
	uint16_t sel;
	uint64_t off, sp = sp_get(c);
	if (!far_pointer(c, d, &sel, &off) || !far_code_target(c, d, sel, off, &t))
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
