/* The ALU group (ADD OR ADC SBB AND SUB XOR CMP, TEST), INC/DEC/NEG/NOT,
 * and the flag instructions CLC/STC/CMC/CLD/STD, LAHF/SAHF (SDM Vol. 2).
 * Flag logic is emu/alu.h's. */
#include "emu/exec.h"

static uint64_t alu_apply(unsigned op, unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	switch (op) {
	case ALU_OP_ADD: return alu_add(w, a, b, fl);
	case ALU_OP_OR: return alu_or(w, a, b, fl);
	case ALU_OP_ADC: return alu_adc(w, a, b, fl);
	case ALU_OP_SBB: return alu_sbb(w, a, b, fl);
	case ALU_OP_AND: return alu_and(w, a, b, fl);
	case ALU_OP_SUB: return alu_sub(w, a, b, fl);
	case ALU_OP_XOR: return alu_xor(w, a, b, fl);
	case ALU_OP_CMP: alu_cmp(w, a, b, fl); return a;
	default: alu_test(w, a, b, fl); return a;
	}
}

/* Operand 0 is register or memory, operand 1 register, immediate or
 * memory (never both memory). CMP and TEST only read operand 0. */
enum exec_result exec_alu(struct cpu *c, const struct insn *d)
{
	uint64_t a, b, fl = c->rflags;
	bool writes = d->sub < ALU_OP_CMP;
	if (!src_read(c, d, d->osz, &b))
		return EXEC_FAULT;
	if (d->k0 == OPK_REG) {
		uint64_t r = alu_apply(d->sub, d->w, reg_get(c, d->r0, d->osz), b, &fl);
		if (writes)
			reg_set(c, d->r0, d->osz, r);
		c->rflags = fl;
		return EXEC_OK;
	}
	if (!writes) {
		if (!mem_read(c, d->seg, insn_ea(c, d), d->osz, &a))
			return EXEC_FAULT;
		alu_apply(d->sub, d->w, a, b, &fl);
		c->rflags = fl;
		return EXEC_OK;
	}
	struct rmw w;
	if (!rmw_begin(c, d, d->osz, &w, &a))
		return EXEC_FAULT;
	rmw_commit(c, d, d->osz, &w, alu_apply(d->sub, d->w, a, b, &fl));
	c->rflags = fl;
	return EXEC_OK;
}

enum exec_result exec_unary(struct cpu *c, const struct insn *d)
{
	struct rmw w;
	uint64_t a, r, fl = c->rflags;
	if (!rmw_begin(c, d, d->osz, &w, &a))
		return EXEC_FAULT;
	switch (d->sub) {
	case UN_INC: r = alu_inc(d->w, a, &fl); break;
	case UN_DEC: r = alu_dec(d->w, a, &fl); break;
	case UN_NEG: r = alu_neg(d->w, a, &fl); break;
	default: r = alu_not(d->w, a); break;
	}
	rmw_commit(c, d, d->osz, &w, r);
	c->rflags = fl;
	return EXEC_OK;
}

enum exec_result exec_flagop(struct cpu *c, const struct insn *d)
{
	switch (d->sub) {
	case FL_CLC: c->rflags &= ~RFLAGS_CF; break;
	case FL_STC: c->rflags |= RFLAGS_CF; break;
	case FL_CMC: c->rflags ^= RFLAGS_CF; break;
	case FL_CLD: c->rflags &= ~RFLAGS_DF; break;
	default: c->rflags |= RFLAGS_DF; break;
	}
	return EXEC_OK;
}

/* The flags LAHF/SAHF move: SF ZF AF PF CF, bit 1 reads as 1 (SDM Vol. 2
 * LAHF, SAHF). Both exist in 64-bit mode on every CPU mmulab models
 * (CPUID.80000001H:ECX.LAHF-SAHF = 1). */
#define LAHF_FLAGS (RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF)

enum exec_result exec_lahf(struct cpu *c, const struct insn *d)
{
	reg_set(c, REG_AH, 1, (c->rflags & LAHF_FLAGS) | RFLAGS_FIXED1);
	return EXEC_OK;
}

enum exec_result exec_sahf(struct cpu *c, const struct insn *d)
{
	c->rflags = (c->rflags & ~LAHF_FLAGS) | (reg_get(c, REG_AH, 1) & LAHF_FLAGS);
	return EXEC_OK;
}
