/* Lazy status flags. Private to emu/.
 *
 * The six status flags (CF PF AF ZF SF OF) are the most written and least
 * read state of the CPU: most ALU results are overwritten before anything
 * but a conditional branch looks at them. So the register-form ADD, SUB,
 * CMP, AND, OR, XOR, TEST, INC and DEC record their operation, operands and
 * result instead of computing flags (c->lf_*), and the flags are computed
 * only when something reads them.
 *
 * Invariant: when c->lf_op is LF_NONE, the status bits of c->rflags are
 * exact; otherwise they are those that the recorded operation produces
 * from c->rflags (INC/DEC keep CF: its value, 0 or 1, is recorded in
 * lf_b, which their other flags do not use). Every other bit of c->rflags
 * is always exact. A handler that reads or writes status flags calls
 * flags_get/flags_sync first; the run loop syncs before it returns, so
 * outside cpu_run c->rflags is always exact.
 */
#ifndef EMU_FLAGS_H
#define EMU_FLAGS_H

#include "emu/alu.h"
#include "emu/cpu.h"

enum lazy_op { LF_NONE = 0, LF_ADD, LF_SUB, LF_LOGIC, LF_INC, LF_DEC };

/* Compute the recorded operation's flags into c->rflags (emu/cpu.c). */
__attribute__((cold)) void flags_materialize(struct cpu *c);

static inline void flags_sync(struct cpu *c)
{
	if (MMU_UNLIKELY(c->lf_op != LF_NONE))
		flags_materialize(c);
}

static inline uint64_t flags_get(struct cpu *c)
{
	flags_sync(c);
	return c->rflags;
}

/* Record an operation whose flags are computed later. a and b are
 * already truncated to width w. */
static inline void flags_defer(struct cpu *c, enum lazy_op op, unsigned w, uint64_t a, uint64_t b,
			       uint64_t res)
{
	c->lf_op = (uint8_t)op;
	c->lf_w = (uint8_t)w;
	c->lf_a = a;
	c->lf_b = b;
	c->lf_res = res;
}

/* The same for an operation whose flags depend on its result alone (the
 * logic group): the unused second operand is not stored (emu/cpu.c
 * flags_materialize reads only lf_res for LF_LOGIC). */
static inline void flags_defer_res(struct cpu *c, enum lazy_op op, unsigned w, uint64_t a,
				   uint64_t res)
{
	c->lf_op = (uint8_t)op;
	c->lf_w = (uint8_t)w;
	c->lf_a = a;
	c->lf_res = res;
}

/* CF (0 or 1) as the pending state has it, without computing the other
 * flags, for INC/DEC, which keep CF and defer the rest: ADD carries when
 * the truncated result is below an operand, SUB borrows when a < b, the
 * logic group clears CF, a pending INC/DEC recorded it in lf_b. Tested in
 * this order, SUB and ADD (what precedes INC/DEC in most loops) take one
 * compare each. */
static inline uint64_t flags_cf(const struct cpu *c)
{
	unsigned op = c->lf_op;
	if (op == LF_SUB)
		return c->lf_a < c->lf_b;
	if (op == LF_ADD)
		return c->lf_res < c->lf_a;
	if (op == LF_LOGIC)
		return 0;
	if (op == LF_NONE)
		return (c->rflags & RFLAGS_CF) >> ALU_CF_BIT;
	return c->lf_b;
}

/* Whether condition cc holds (SDM Vol. 1 Appendix B). With a pending
 * operation, the common conditions come straight from its operands: ZF
 * and SF from the result, and for SUB/CMP the unsigned and signed
 * orderings of the operands; anything else syncs first. */
static inline bool flags_cond(struct cpu *c, unsigned cc)
{
	if (c->lf_op == LF_NONE)
		return alu_cond(cc, c->rflags);
	unsigned w = c->lf_w;
	uint64_t a = c->lf_a, b = c->lf_b;
	bool r;
	switch (cc >> 1) {
	case ALU_CC_E >> 1:
		r = c->lf_res == 0;
		break;
	case ALU_CC_S >> 1:
		r = alu_msb(w, c->lf_res);
		break;
	case ALU_CC_B >> 1:
		if (c->lf_op != LF_SUB)
			return alu_cond(cc, flags_get(c));
		r = a < b;
		break;
	case ALU_CC_BE >> 1:
		if (c->lf_op != LF_SUB)
			return alu_cond(cc, flags_get(c));
		r = a <= b;
		break;
	case ALU_CC_L >> 1:
		if (c->lf_op != LF_SUB)
			return alu_cond(cc, flags_get(c));
		r = (int64_t)alu_sext(w, a) < (int64_t)alu_sext(w, b);
		break;
	case ALU_CC_LE >> 1:
		if (c->lf_op != LF_SUB)
			return alu_cond(cc, flags_get(c));
		r = (int64_t)alu_sext(w, a) <= (int64_t)alu_sext(w, b);
		break;
	default:
		return alu_cond(cc, flags_get(c));
	}
	return r != (cc & 1);
}

#endif
