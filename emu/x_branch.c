/* Near control transfers: Jcc, JMP, CALL, RET, LOOP/LOOPcc/JrCXZ
 * (SDM Vol. 2). The target is checked (branch_to) and the return-address
 * slot translated before RSP or RIP change. */
#include "emu/exec.h"

enum exec_result exec_jcc(struct cpu *c, const struct insn *d)
{
	if (!flags_cond(c, d->sub))
		return EXEC_OK;
	return branch_to(c, rel_target(c, d)) ? EXEC_OK : EXEC_FAULT;
}

/* Jcc rel in 64-bit mode with the 64-bit operand size (the only size
 * there, SDM Vol. 2 Jcc): no truncation, and the target need only be
 * canonical (#GP(0) otherwise). The condition code is a constant in each
 * handler below, so flags_cond reduces to the pending operation's test. */
static inline __attribute__((always_inline)) enum exec_result jcc64(struct cpu *c,
								    const struct insn *d,
								    unsigned cc)
{
	if (!flags_cond(c, cc))
		return EXEC_OK;
	uint64_t t = c->next_rip + d->imm;
	/* A target in the page of this instruction, which was fetched, is
	 * canonical; others are checked. */
	if (((t ^ c->rip) >> PHYS_FRAME_SHIFT) != 0 && MMU_UNLIKELY(!mmu_canonical(&c->mmu, t)))
		return fault(c, VEC_GP, true, 0);
	c->next_rip = t;
	return EXEC_OK;
}

static enum exec_result jcc64_o(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_O); }
static enum exec_result jcc64_no(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_NO); }
static enum exec_result jcc64_b(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_B); }
static enum exec_result jcc64_ae(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_AE); }
static enum exec_result jcc64_e(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_E); }
static enum exec_result jcc64_ne(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_NE); }
static enum exec_result jcc64_be(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_BE); }
static enum exec_result jcc64_a(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_A); }
static enum exec_result jcc64_s(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_S); }
static enum exec_result jcc64_ns(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_NS); }
static enum exec_result jcc64_p(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_P); }
static enum exec_result jcc64_np(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_NP); }
static enum exec_result jcc64_l(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_L); }
static enum exec_result jcc64_ge(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_GE); }
static enum exec_result jcc64_le(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_LE); }
static enum exec_result jcc64_g(struct cpu *c, const struct insn *d) { return jcc64(c, d, ALU_CC_G); }

insn_handler exec_jcc_64(unsigned cc)
{
	static const insn_handler by_cc[16] = {
		[ALU_CC_O] = jcc64_o, [ALU_CC_NO] = jcc64_no,
		[ALU_CC_B] = jcc64_b, [ALU_CC_AE] = jcc64_ae,
		[ALU_CC_E] = jcc64_e, [ALU_CC_NE] = jcc64_ne,
		[ALU_CC_BE] = jcc64_be, [ALU_CC_A] = jcc64_a,
		[ALU_CC_S] = jcc64_s, [ALU_CC_NS] = jcc64_ns,
		[ALU_CC_P] = jcc64_p, [ALU_CC_NP] = jcc64_np,
		[ALU_CC_L] = jcc64_l, [ALU_CC_GE] = jcc64_ge,
		[ALU_CC_LE] = jcc64_le, [ALU_CC_G] = jcc64_g,
	};
	return by_cc[cc & 15];
}

enum exec_result exec_jmp(struct cpu *c, const struct insn *d)
{
	return branch_to(c, rel_target(c, d)) ? EXEC_OK : EXEC_FAULT;
}

enum exec_result exec_jmp_ind(struct cpu *c, const struct insn *d)
{
	uint64_t t;
	if (!dst_read(c, d, d->osz, &t) || !branch_to(c, t))
		return EXEC_FAULT;
	return EXEC_OK;
}

/* Push the return address (the next instruction, at the operand size)
 * and go to target. */
static enum exec_result call_to(struct cpu *c, const struct insn *d, uint64_t target)
{
	struct memref m;
	uint64_t ret = c->next_rip;
	if (!push_xlate(c, d->osz, &m) || !branch_to(c, target))
		return EXEC_FAULT;
	push_commit(c, &m, d->osz, ret);
	return EXEC_OK;
}

enum exec_result exec_call(struct cpu *c, const struct insn *d)
{
	return call_to(c, d, rel_target(c, d));
}

enum exec_result exec_call_ind(struct cpu *c, const struct insn *d)
{
	uint64_t t;
	if (!dst_read(c, d, d->osz, &t))
		return EXEC_FAULT;
	return call_to(c, d, t);
}

/* RET [imm16]: pop the return address, then release imm16 more bytes. */
enum exec_result exec_ret(struct cpu *c, const struct insn *d)
{
	uint64_t t;
	if (!stack_peek(c, 0, d->osz, &t) || !branch_to(c, t))
		return EXEC_FAULT;
	c->gpr[GPR_RSP] = sp_moved(c, (int64_t)(d->osz + (d->imm & 0xffff)));
	return EXEC_OK;
}

/* LOOP/LOOPE/LOOPNE decrement the count register (rCX at the address
 * size) without touching flags, then branch while it is non-zero (and ZF
 * agrees); JrCXZ branches when it is zero (SDM Vol. 2 LOOP/LOOPcc, Jcc). */
enum exec_result exec_loop(struct cpu *c, const struct insn *d)
{
	uint64_t count = reg_get(c, GPR_RCX, d->asz);
	bool zf = flags_get(c) & RFLAGS_ZF, taken;
	if (d->sub == LOOP_JCXZ) {
		taken = count == 0;
	} else {
		count = (count - 1) & size_mask(d->asz);
		taken = count != 0 && (d->sub == LOOP_ALWAYS || zf == (d->sub == LOOP_E));
	}
	if (taken && !branch_to(c, rel_target(c, d)))
		return EXEC_FAULT;
	if (d->sub != LOOP_JCXZ)
		reg_set(c, GPR_RCX, d->asz, count);
	return EXEC_OK;
}
