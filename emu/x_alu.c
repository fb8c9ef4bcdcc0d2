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

/* The result of one of the deferred-flag operations (ADD SUB CMP AND
 * TEST OR XOR) on a and b, already masked to width w by m; its flags are
 * recorded for later (emu/flags.h). op is a constant in every caller. */
static inline __attribute__((always_inline)) uint64_t alu_lazy(struct cpu *c, unsigned op,
							       unsigned w, uint64_t m,
							       uint64_t a, uint64_t b)
{
	uint64_t r;
	switch (op) {
	case ALU_OP_ADD:
		r = (a + b) & m;
		flags_defer(c, LF_ADD, w, a, b, r);
		return r;
	case ALU_OP_SUB:
	case ALU_OP_CMP:
		r = (a - b) & m;
		flags_defer(c, LF_SUB, w, a, b, r);
		return r;
	case ALU_OP_AND:
	case ALU_OP_TEST:
		r = a & b;
		break;
	case ALU_OP_OR:
		r = a | b;
		break;
	default: /* XOR */
		r = a ^ b;
		break;
	}
	flags_defer_res(c, LF_LOGIC, w, a, r);
	return r;
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
	if (op == ALU_OP_ADC || op == ALU_OP_SBB) {
		flags_sync(c);
		r = alu_apply(op, w, a, b, &c->rflags);
	} else {
		r = alu_lazy(c, op, w, m, a, b);
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

/* The 32- and 64-bit register forms, the bulk of compiled code. No
 * high-byte registers exist at these sizes, and a 32-bit result is
 * zero-extended into the 64-bit register (SDM Vol. 1 §3.4.1.1), so
 * masking operands and result with the width's mask is the whole of
 * reg_get/reg_set. op, the width and the source kind are constants in
 * each handler below. */
static inline __attribute__((always_inline)) uint64_t wide_mask(unsigned osz)
{
	return osz == 8 ? UINT64_MAX : UINT32_MAX;
}

static inline __attribute__((always_inline)) enum exec_result
alu_wide(struct cpu *c, const struct insn *d, unsigned op, unsigned osz, bool imm)
{
	uint64_t m = wide_mask(osz);
	uint64_t a = c->gpr[d->r0] & m;
	uint64_t b = (imm ? d->imm : c->gpr[d->r1]) & m;
	uint64_t r = alu_lazy(c, op, osz == 8 ? ALU_W64 : ALU_W32, m, a, b);
	if (op != ALU_OP_CMP && op != ALU_OP_TEST)
		c->gpr[d->r0] = r;
	return EXEC_OK;
}

static enum exec_result add_r64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_ADD, 8, false); }
static enum exec_result add_i64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_ADD, 8, true); }
static enum exec_result add_r32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_ADD, 4, false); }
static enum exec_result add_i32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_ADD, 4, true); }
static enum exec_result sub_r64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_SUB, 8, false); }
static enum exec_result sub_i64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_SUB, 8, true); }
static enum exec_result sub_r32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_SUB, 4, false); }
static enum exec_result sub_i32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_SUB, 4, true); }
static enum exec_result cmp_r64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_CMP, 8, false); }
static enum exec_result cmp_i64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_CMP, 8, true); }
static enum exec_result cmp_r32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_CMP, 4, false); }
static enum exec_result cmp_i32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_CMP, 4, true); }
static enum exec_result and_r64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_AND, 8, false); }
static enum exec_result and_i64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_AND, 8, true); }
static enum exec_result and_r32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_AND, 4, false); }
static enum exec_result and_i32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_AND, 4, true); }
static enum exec_result test_r64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_TEST, 8, false); }
static enum exec_result test_i64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_TEST, 8, true); }
static enum exec_result test_r32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_TEST, 4, false); }
static enum exec_result test_i32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_TEST, 4, true); }
static enum exec_result or_r64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_OR, 8, false); }
static enum exec_result or_i64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_OR, 8, true); }
static enum exec_result or_r32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_OR, 4, false); }
static enum exec_result or_i32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_OR, 4, true); }
static enum exec_result xor_r64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_XOR, 8, false); }
static enum exec_result xor_i64(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_XOR, 8, true); }
static enum exec_result xor_r32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_XOR, 4, false); }
static enum exec_result xor_i32(struct cpu *c, const struct insn *d) { return alu_wide(c, d, ALU_OP_XOR, 4, true); }

/* [op][64-bit][immediate source]; NULL where the generic handler stays
 * (ADC/SBB read CF). */
static const insn_handler alu_wide_handlers[][2][2] = {
	[ALU_OP_ADD] = { { add_r32, add_i32 }, { add_r64, add_i64 } },
	[ALU_OP_SUB] = { { sub_r32, sub_i32 }, { sub_r64, sub_i64 } },
	[ALU_OP_CMP] = { { cmp_r32, cmp_i32 }, { cmp_r64, cmp_i64 } },
	[ALU_OP_AND] = { { and_r32, and_i32 }, { and_r64, and_i64 } },
	[ALU_OP_TEST] = { { test_r32, test_i32 }, { test_r64, test_i64 } },
	[ALU_OP_OR] = { { or_r32, or_i32 }, { or_r64, or_i64 } },
	[ALU_OP_XOR] = { { xor_r32, xor_i32 }, { xor_r64, xor_i64 } },
};

insn_handler exec_alu_r_wide(unsigned op, unsigned osz, bool imm)
{
	if ((osz != 4 && osz != 8) || op >= sizeof alu_wide_handlers / sizeof alu_wide_handlers[0])
		return NULL;
	return alu_wide_handlers[op][osz == 8][imm];
}

/* INC/DEC keep CF: its value is recorded with INC/DEC's own deferred
 * flags, in the place of the second operand (emu/flags.h; the other
 * status bits are all rewritten by INC/DEC). */
static inline __attribute__((always_inline)) void incdec_reg(struct cpu *c, const struct insn *d,
							     enum lazy_op op)
{
	uint64_t a = reg_get(c, d->r0, d->osz);
	uint64_t r = (op == LF_INC ? a + 1 : a - 1) & alu_mask(d->w);
	flags_defer(c, op, d->w, a, flags_cf(c), r);
	reg_set(c, d->r0, d->osz, r);
}

/* 32- and 64-bit INC/DEC of a register (see alu_wide). */
static inline __attribute__((always_inline)) enum exec_result
incdec_wide(struct cpu *c, const struct insn *d, enum lazy_op op, unsigned osz)
{
	uint64_t m = wide_mask(osz);
	uint64_t a = c->gpr[d->r0] & m;
	uint64_t r = (op == LF_INC ? a + 1 : a - 1) & m;
	flags_defer(c, op, osz == 8 ? ALU_W64 : ALU_W32, a, flags_cf(c), r);
	c->gpr[d->r0] = r;
	return EXEC_OK;
}

static enum exec_result inc_r64(struct cpu *c, const struct insn *d) { return incdec_wide(c, d, LF_INC, 8); }
static enum exec_result inc_r32(struct cpu *c, const struct insn *d) { return incdec_wide(c, d, LF_INC, 4); }
static enum exec_result dec_r64(struct cpu *c, const struct insn *d) { return incdec_wide(c, d, LF_DEC, 8); }
static enum exec_result dec_r32(struct cpu *c, const struct insn *d) { return incdec_wide(c, d, LF_DEC, 4); }

insn_handler exec_incdec_r_wide(bool dec, unsigned osz)
{
	if (osz != 4 && osz != 8)
		return NULL;
	if (dec)
		return osz == 8 ? dec_r64 : dec_r32;
	return osz == 8 ? inc_r64 : inc_r32;
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

/* ADCX / ADOX (SDM Vol. 2): dest + source + the carry flag, unsigned; the
 * carry out goes to CF (ADCX) or to OF (ADOX), which also supplies the
 * carry in; no other flag changes. */
enum exec_result exec_adx(struct cpu *c, const struct insn *d)
{
	uint64_t src, fl = flags_get(c), flag = d->sub ? RFLAGS_OF : RFLAGS_CF;
	if (!src_read(c, d, d->osz, &src))
		return EXEC_FAULT;
	uint64_t m = size_mask(d->osz), a = reg_get(c, d->r0, d->osz), in = (fl & flag) != 0;
	uint64_t r = (a + src + in) & m;
	bool out = r < a || (in && r == a);
	reg_set(c, d->r0, d->osz, r);
	c->rflags = out ? fl | flag : fl & ~flag;
	return EXEC_OK;
}
