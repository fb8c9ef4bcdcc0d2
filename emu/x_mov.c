/* Data movement: MOV, MOVZX/MOVSX/MOVSXD, LEA, XCHG, XADD, CMPXCHG,
 * CMPXCHG8B/16B, CMOVcc, SETcc, BSWAP, CBW…CDQE, CWD…CQO (SDM Vol. 2). */
#include "emu/exec.h"

enum exec_result exec_mov(struct cpu *c, const struct insn *d)
{
	uint64_t v;
	if (!src_read(c, d, d->osz, &v))
		return EXEC_FAULT;
	if (d->k0 == OPK_REG) {
		reg_set(c, d->r0, d->osz, v);
		return EXEC_OK;
	}
	return mem_write(c, d->seg, insn_ea(c, d), d->osz, v) ? EXEC_OK : EXEC_FAULT;
}

/* MOV with the operand size and kinds constant, the register operands
 * being GPRs (no AH..BH): a 32-bit register write zero-extends, 8- and
 * 16-bit writes keep the other bits (SDM Vol. 1 §3.4.1.1), and the memory
 * path, translation included, is inlined for the one size. */
static inline __attribute__((always_inline)) enum exec_result
mov_form(struct cpu *c, const struct insn *d, unsigned osz, enum opk dst, enum opk src)
{
	uint64_t v;
	if (src == OPK_REG)
		v = c->gpr[d->r1];
	else if (src == OPK_IMM)
		v = d->imm;
	else if (!mem_read_inline(c, d->seg, insn_ea(c, d), osz, &v))
		return EXEC_FAULT;
	if (dst == OPK_REG) {
		reg_set_gpr(c, d->r0, osz, v);
		return EXEC_OK;
	}
	return mem_write_inline(c, d->seg, insn_ea(c, d), osz, v) ? EXEC_OK : EXEC_FAULT;
}

static enum exec_result mov_rr64(struct cpu *c, const struct insn *d) { return mov_form(c, d, 8, OPK_REG, OPK_REG); }
static enum exec_result mov_ri64(struct cpu *c, const struct insn *d) { return mov_form(c, d, 8, OPK_REG, OPK_IMM); }
static enum exec_result mov_rm64(struct cpu *c, const struct insn *d) { return mov_form(c, d, 8, OPK_REG, OPK_MEM); }
static enum exec_result mov_mr64(struct cpu *c, const struct insn *d) { return mov_form(c, d, 8, OPK_MEM, OPK_REG); }
static enum exec_result mov_mi64(struct cpu *c, const struct insn *d) { return mov_form(c, d, 8, OPK_MEM, OPK_IMM); }
static enum exec_result mov_rr32(struct cpu *c, const struct insn *d) { return mov_form(c, d, 4, OPK_REG, OPK_REG); }
static enum exec_result mov_ri32(struct cpu *c, const struct insn *d) { return mov_form(c, d, 4, OPK_REG, OPK_IMM); }
static enum exec_result mov_rm32(struct cpu *c, const struct insn *d) { return mov_form(c, d, 4, OPK_REG, OPK_MEM); }
static enum exec_result mov_mr32(struct cpu *c, const struct insn *d) { return mov_form(c, d, 4, OPK_MEM, OPK_REG); }
static enum exec_result mov_mi32(struct cpu *c, const struct insn *d) { return mov_form(c, d, 4, OPK_MEM, OPK_IMM); }
static enum exec_result mov_rr16(struct cpu *c, const struct insn *d) { return mov_form(c, d, 2, OPK_REG, OPK_REG); }
static enum exec_result mov_ri16(struct cpu *c, const struct insn *d) { return mov_form(c, d, 2, OPK_REG, OPK_IMM); }
static enum exec_result mov_rm16(struct cpu *c, const struct insn *d) { return mov_form(c, d, 2, OPK_REG, OPK_MEM); }
static enum exec_result mov_mr16(struct cpu *c, const struct insn *d) { return mov_form(c, d, 2, OPK_MEM, OPK_REG); }
static enum exec_result mov_mi16(struct cpu *c, const struct insn *d) { return mov_form(c, d, 2, OPK_MEM, OPK_IMM); }
static enum exec_result mov_rr8(struct cpu *c, const struct insn *d) { return mov_form(c, d, 1, OPK_REG, OPK_REG); }
static enum exec_result mov_ri8(struct cpu *c, const struct insn *d) { return mov_form(c, d, 1, OPK_REG, OPK_IMM); }
static enum exec_result mov_rm8(struct cpu *c, const struct insn *d) { return mov_form(c, d, 1, OPK_REG, OPK_MEM); }
static enum exec_result mov_mr8(struct cpu *c, const struct insn *d) { return mov_form(c, d, 1, OPK_MEM, OPK_REG); }
static enum exec_result mov_mi8(struct cpu *c, const struct insn *d) { return mov_form(c, d, 1, OPK_MEM, OPK_IMM); }

insn_handler exec_mov_form(const struct insn *d)
{
	/* [log2 size][destination kind][source kind], NULL: no such form. */
	static const insn_handler forms[4][4][4] = {
		[0][OPK_REG] = { [OPK_REG] = mov_rr8, [OPK_IMM] = mov_ri8, [OPK_MEM] = mov_rm8 },
		[0][OPK_MEM] = { [OPK_REG] = mov_mr8, [OPK_IMM] = mov_mi8 },
		[1][OPK_REG] = { [OPK_REG] = mov_rr16, [OPK_IMM] = mov_ri16, [OPK_MEM] = mov_rm16 },
		[1][OPK_MEM] = { [OPK_REG] = mov_mr16, [OPK_IMM] = mov_mi16 },
		[2][OPK_REG] = { [OPK_REG] = mov_rr32, [OPK_IMM] = mov_ri32, [OPK_MEM] = mov_rm32 },
		[2][OPK_MEM] = { [OPK_REG] = mov_mr32, [OPK_IMM] = mov_mi32 },
		[3][OPK_REG] = { [OPK_REG] = mov_rr64, [OPK_IMM] = mov_ri64, [OPK_MEM] = mov_rm64 },
		[3][OPK_MEM] = { [OPK_REG] = mov_mr64, [OPK_IMM] = mov_mi64 },
	};
	/* The high-byte registers AH..BH keep the generic handler. */
	bool high = (d->k0 == OPK_REG && d->r0 >= REG_AH) || (d->k1 == OPK_REG && d->r1 >= REG_AH);
	if (d->w > 3 || d->k0 > OPK_IMM || d->k1 > OPK_IMM || high)
		return NULL;
	return forms[d->w][d->k0][d->k1];
}

/* MOVZX zero-extends, MOVSX/MOVSXD sign-extend the ssz-byte source. */
enum exec_result exec_movx(struct cpu *c, const struct insn *d)
{
	uint64_t v;
	if (!src_read(c, d, d->ssz, &v))
		return EXEC_FAULT;
	if (d->flags & INSN_SIGNED)
		v = alu_sext((unsigned)__builtin_ctz(d->ssz), v);
	reg_set(c, d->r0, d->osz, v);
	return EXEC_OK;
}

/* LEA: the effective address at the address size, truncated or
 * zero-extended to the operand size (SDM Vol. 2 LEA, Table 3-54). */
enum exec_result exec_lea(struct cpu *c, const struct insn *d)
{
	reg_set(c, d->r0, d->osz, insn_ea(c, d));
	return EXEC_OK;
}

/* XCHG (operand 0 register or memory, operand 1 register). With memory
 * it is locked whatever the prefix says; the model is one CPU, so the
 * lock changes nothing but the cost class. */
enum exec_result exec_xchg(struct cpu *c, const struct insn *d)
{
	struct rmw w;
	uint64_t a, b = reg_get(c, d->r1, d->osz);
	if (!rmw_begin(c, d, d->osz, &w, &a))
		return EXEC_FAULT;
	rmw_commit(c, d, d->osz, &w, b);
	reg_set(c, d->r1, d->osz, a);
	return EXEC_OK;
}

/* XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP; flags as ADD. */
enum exec_result exec_xadd(struct cpu *c, const struct insn *d)
{
	struct rmw w;
	uint64_t a, b = reg_get(c, d->r1, d->osz), fl = flags_get(c);
	if (!rmw_begin(c, d, d->osz, &w, &a))
		return EXEC_FAULT;
	uint64_t sum = alu_add(d->w, a, b, &fl);
	reg_set(c, d->r1, d->osz, a);
	rmw_commit(c, d, d->osz, &w, sum);
	c->rflags = fl;
	return EXEC_OK;
}

/* CMPXCHG: compare the accumulator with DEST (flags as CMP); equal: DEST =
 * SRC; else accumulator = DEST. A memory destination is written either
 * way (SDM Vol. 2 CMPXCHG: "the destination operand is written back if
 * the comparison fails"), so it is translated as a write up front. */
enum exec_result exec_cmpxchg(struct cpu *c, const struct insn *d)
{
	struct rmw w;
	uint64_t a, acc = reg_get(c, GPR_RAX, d->osz), fl = flags_get(c);
	if (!rmw_begin(c, d, d->osz, &w, &a))
		return EXEC_FAULT;
	alu_cmp(d->w, acc, a, &fl);
	if (fl & RFLAGS_ZF) {
		rmw_commit(c, d, d->osz, &w, reg_get(c, d->r1, d->osz));
	} else {
		if (w.is_mem)
			mem_store(c, &w.m, d->osz, a);
		reg_set(c, GPR_RAX, d->osz, a);
	}
	c->rflags = fl;
	return EXEC_OK;
}

/* CMPXCHG8B / CMPXCHG16B: compare rDX:rAX with m64/m128; equal: ZF = 1 and
 * m = rCX:rBX; else ZF = 0 and rDX:rAX = m. CMPXCHG16B needs a 16-byte
 * aligned operand, else #GP(0) (SDM Vol. 2 CMPXCHG8B/CMPXCHG16B). */
enum exec_result exec_cmpxchg_wide(struct cpu *c, const struct insn *d)
{
	unsigned half = d->sub ? 8 : 4; /* sub: 1 for CMPXCHG16B */
	uint64_t ea = insn_ea(c, d);
	struct memref lo, hi;
	if (half == 8 && (ea & 15))
		return fault(c, VEC_GP, true, 0);
	if (!mem_xlate(c, d->seg, ea, half, ACC_WRITE, &lo) ||
	    !mem_xlate(c, d->seg, (ea + half) & size_mask(d->asz), half, ACC_WRITE, &hi))
		return EXEC_FAULT;
	uint64_t m0 = mem_load(c, &lo, half), m1 = mem_load(c, &hi, half);
	flags_sync(c);
	bool equal = m0 == reg_get(c, GPR_RAX, half) && m1 == reg_get(c, GPR_RDX, half);
	if (equal) {
		mem_store(c, &lo, half, reg_get(c, GPR_RBX, half));
		mem_store(c, &hi, half, reg_get(c, GPR_RCX, half));
		c->rflags |= RFLAGS_ZF;
	} else {
		mem_store(c, &lo, half, m0);
		mem_store(c, &hi, half, m1);
		reg_set(c, GPR_RAX, half, m0);
		reg_set(c, GPR_RDX, half, m1);
		c->rflags &= ~RFLAGS_ZF;
	}
	return EXEC_OK;
}

/* CMOVcc: the source is read (and may fault) whatever the condition; a
 * 32-bit destination is zero-extended even when nothing moves (SDM Vol. 2
 * CMOVcc, 64-bit mode operation). */
enum exec_result exec_cmov(struct cpu *c, const struct insn *d)
{
	uint64_t v;
	if (!src_read(c, d, d->osz, &v))
		return EXEC_FAULT;
	if (!flags_cond(c, d->sub))
		v = reg_get(c, d->r0, d->osz);
	reg_set(c, d->r0, d->osz, v);
	return EXEC_OK;
}

enum exec_result exec_setcc(struct cpu *c, const struct insn *d)
{
	uint64_t v = flags_cond(c, d->sub);
	if (d->k0 == OPK_REG) {
		reg_set(c, d->r0, 1, v);
		return EXEC_OK;
	}
	return mem_write(c, d->seg, insn_ea(c, d), 1, v) ? EXEC_OK : EXEC_FAULT;
}

/* BSWAP r32/r64 (16-bit: see alu_bswap). */
enum exec_result exec_bswap(struct cpu *c, const struct insn *d)
{
	reg_set(c, d->r0, d->osz, alu_bswap(d->w, reg_get(c, d->r0, d->osz)));
	return EXEC_OK;
}

/* MOVBE (SDM Vol. 2): a load into a register or a store from one, with
 * the bytes reversed; the 16-bit form swaps the two bytes and keeps the
 * register's other bits. */
static uint64_t movbe_swap(unsigned w, uint64_t v)
{
	return w == ALU_W16 ? __builtin_bswap16((uint16_t)v) : alu_bswap(w, v);
}

enum exec_result exec_movbe(struct cpu *c, const struct insn *d)
{
	uint64_t v;
	if (d->k0 == OPK_REG) {
		if (!src_read(c, d, d->osz, &v))
			return EXEC_FAULT;
		reg_set(c, d->r0, d->osz, movbe_swap(d->w, v));
		return EXEC_OK;
	}
	v = movbe_swap(d->w, reg_get(c, d->r1, d->osz));
	return mem_write(c, d->seg, insn_ea(c, d), d->osz, v) ? EXEC_OK : EXEC_FAULT;
}

/* CBW/CWDE/CDQE: the accumulator's lower half sign-extended into it. */
enum exec_result exec_cbw(struct cpu *c, const struct insn *d)
{
	unsigned w = d->w - 1u;
	reg_set(c, GPR_RAX, d->osz, alu_sext(w, reg_get(c, GPR_RAX, d->osz / 2)));
	return EXEC_OK;
}

/* CWD/CDQ/CQO: rDX filled with the sign of rAX. */
enum exec_result exec_cwd(struct cpu *c, const struct insn *d)
{
	reg_set(c, GPR_RDX, d->osz, alu_sign_fill(d->w, reg_get(c, GPR_RAX, d->osz)));
	return EXEC_OK;
}
