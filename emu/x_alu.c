/* The ALU group (ADD OR ADC SBB AND SUB XOR CMP, TEST), INC/DEC/NEG/NOT,
 * the flag instructions CLC/STC/CMC/CLD/STD, LAHF/SAHF, and the BCD
 * adjustments (SDM Vol. 2).
 * Flag logic is emu/alu.h's. */
#include "emu/exec.h"

static inline __attribute__((always_inline)) uint64_t alu_apply(unsigned op, unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
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
	uint64_t a, b, fl = flags_get(c);
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

/* Register destination, register or immediate source. op is a constant
 * in each caller, so every handler below compiles to a few instructions;
 * flags are deferred (emu/flags.h) except for ADC/SBB, which read CF. */
static inline __attribute__((always_inline)) enum exec_result alu_reg(struct cpu *c,
								      const struct insn *d,
								      unsigned op)
{
	unsigned w = d->w;
	uint64_t m = alu_mask(w), r;
	uint64_t a = reg_get(c, d->r0, d->osz);
	uint64_t b = (d->k1 == OPK_REG ? reg_get(c, d->r1, d->osz) : d->imm) & m;
	switch (op) {
	case ALU_OP_ADD:
		r = (a + b) & m;
		flags_defer(c, LF_ADD, w, a, b, r);
		break;
	case ALU_OP_SUB:
	case ALU_OP_CMP:
		r = (a - b) & m;
		flags_defer(c, LF_SUB, w, a, b, r);
		break;
	case ALU_OP_AND:
	case ALU_OP_TEST:
		r = a & b;
		flags_defer(c, LF_LOGIC, w, a, b, r);
		break;
	case ALU_OP_OR:
		r = a | b;
		flags_defer(c, LF_LOGIC, w, a, b, r);
		break;
	case ALU_OP_XOR:
		r = a ^ b;
		flags_defer(c, LF_LOGIC, w, a, b, r);
		break;
	default: /* ADC, SBB */
		flags_sync(c);
		r = alu_apply(op, w, a, b, &c->rflags);
		break;
	}
	if (op != ALU_OP_CMP && op != ALU_OP_TEST)
		reg_set(c, d->r0, d->osz, r);
	return EXEC_OK;
}

enum exec_result exec_add_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_ADD); }
enum exec_result exec_or_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_OR); }
enum exec_result exec_adc_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_ADC); }
enum exec_result exec_sbb_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_SBB); }
enum exec_result exec_and_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_AND); }
enum exec_result exec_sub_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_SUB); }
enum exec_result exec_xor_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_XOR); }
enum exec_result exec_cmp_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_CMP); }
enum exec_result exec_test_r(struct cpu *c, const struct insn *d) { return alu_reg(c, d, ALU_OP_TEST); }

/* INC/DEC keep CF: it is settled in rflags before INC/DEC's own flags
 * are deferred (the other status bits are all rewritten by INC/DEC). */
static inline __attribute__((always_inline)) void incdec_reg(struct cpu *c, const struct insn *d,
							     enum lazy_op op)
{
	uint64_t a = reg_get(c, d->r0, d->osz);
	uint64_t r = (op == LF_INC ? a + 1 : a - 1) & alu_mask(d->w);
	flags_settle_cf(c);
	flags_defer(c, op, d->w, a, 1, r);
	reg_set(c, d->r0, d->osz, r);
}

enum exec_result exec_inc_r(struct cpu *c, const struct insn *d)
{
	incdec_reg(c, d, LF_INC);
	return EXEC_OK;
}

enum exec_result exec_dec_r(struct cpu *c, const struct insn *d)
{
	incdec_reg(c, d, LF_DEC);
	return EXEC_OK;
}

enum exec_result exec_unary(struct cpu *c, const struct insn *d)
{
	struct rmw w;
	uint64_t a, r, fl = flags_get(c);
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
	flags_sync(c);
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
	reg_set(c, REG_AH, 1, (flags_get(c) & LAHF_FLAGS) | RFLAGS_FIXED1);
	return EXEC_OK;
}

enum exec_result exec_sahf(struct cpu *c, const struct insn *d)
{
	c->rflags = (flags_get(c) & ~LAHF_FLAGS) | (reg_get(c, REG_AH, 1) & LAHF_FLAGS);
	return EXEC_OK;
}

/* DAA/DAS/AAA/AAS/AAM/AAD on AX (SDM Vol. 2; Zydis rejects them in 64-bit
 * mode, where they are #UD). AAM/AAD take an immediate base (10 in the
 * usual encoding); AAM by 0 is #DE. */
#define BCD_DEFAULT_BASE 10

enum exec_result exec_bcd(struct cpu *c, const struct insn *d)
{
	uint64_t fl = flags_get(c), ax = reg_get(c, GPR_RAX, 2), r;
	uint8_t base = d->k0 == OPK_IMM ? (uint8_t)d->imm : BCD_DEFAULT_BASE;
	switch (d->sub) {
	case BCD_DAA: r = alu_daa(ax, &fl); break;
	case BCD_DAS: r = alu_das(ax, &fl); break;
	case BCD_AAA: r = alu_aaa(ax, &fl); break;
	case BCD_AAS: r = alu_aas(ax, &fl); break;
	case BCD_AAD: r = alu_aad(ax, base, &fl); break;
	default:
		if (!alu_aam(ax, base, &r, &fl))
			return fault(c, VEC_DE, false, 0);
		break;
	}
	reg_set(c, GPR_RAX, 2, r);
	c->rflags = fl;
	return EXEC_OK;
}
