/* Stack instructions: PUSH, POP, PUSHF, POPF, ENTER, LEAVE (SDM Vol. 2;
 * stack addressing Vol. 1 §6.2). Every slot is translated before RSP or
 * memory change. Segment-register pushes and pops are in x_far.c. */
#include <string.h>

#include "emu/exec.h"
#include "emu/io.h"

enum exec_result exec_push(struct cpu *c, const struct insn *d)
{
	struct memref m;
	uint64_t v;
	if (d->k0 == OPK_IMM)
		v = d->imm & size_mask(d->osz);
	else if (!dst_read(c, d, d->osz, &v))
		return EXEC_FAULT;
	if (!push_xlate(c, d->osz, &m))
		return EXEC_FAULT;
	push_commit(c, &m, d->osz, v);
	return EXEC_OK;
}

/* POP: a memory destination based on RSP uses the value after the
 * increment (SDM Vol. 2 POP); POP RSP leaves the popped value in RSP. */
enum exec_result exec_pop(struct cpu *c, const struct insn *d)
{
	uint64_t v, new_sp = sp_moved(c, d->osz);
	if (!stack_peek(c, 0, d->osz, &v))
		return EXEC_FAULT;
	if (d->k0 == OPK_REG) {
		c->gpr[GPR_RSP] = new_sp;
		reg_set(c, d->r0, d->osz, v);
		return EXEC_OK;
	}
	uint64_t old_sp = c->gpr[GPR_RSP];
	c->gpr[GPR_RSP] = new_sp;
	uint64_t ea = insn_ea(c, d);
	c->gpr[GPR_RSP] = old_sp;
	struct memref m;
	if (!mem_xlate(c, d->seg, ea, d->osz, ACC_WRITE, &m))
		return EXEC_FAULT;
	mem_store(c, &m, d->osz, v);
	c->gpr[GPR_RSP] = new_sp;
	return EXEC_OK;
}

/* PUSHF: the image has VM and RF clear (SDM Vol. 2 PUSHF). */
enum exec_result exec_pushf(struct cpu *c, const struct insn *d)
{
	struct memref m;
	if (!push_xlate(c, d->osz, &m))
		return EXEC_FAULT;
	push_commit(c, &m, d->osz, flags_get(c) & ~(RFLAGS_VM | RFLAGS_RF));
	return EXEC_OK;
}

/* POPF (SDM Vol. 2 POPF, protected and 64-bit mode): the bits
 * flags_popped_mask allows change; RF is cleared. */
enum exec_result exec_popf(struct cpu *c, const struct insn *d)
{
	uint64_t v;
	if (!stack_peek(c, 0, d->osz, &v))
		return EXEC_FAULT;
	flags_sync(c);
	uint64_t mask = flags_popped_mask(c, d->osz);
	c->gpr[GPR_RSP] = sp_moved(c, d->osz);
	c->rflags = ((c->rflags & ~mask) | (v & mask) | RFLAGS_FIXED1) & ~RFLAGS_RF;
	return io_if_may_open(c);
}

/* PUSHA/PUSHAD: rAX, rCX, rDX, rBX, the original rSP, rBP, rSI, rDI, in
 * that order (rDI ends lowest), all eight slots translated first (SDM
 * Vol. 2 PUSHA). POPA/POPAD load them back, skipping rSP. */
#define PUSHA_SLOTS 8

enum exec_result exec_pusha(struct cpu *c, const struct insn *d)
{
	uint8_t buf[PUSHA_SLOTS * 4];
	struct memref m;
	unsigned len = PUSHA_SLOTS * d->osz;
	if (!mem_xlate(c, SEG_SS, (sp_get(c) - len) & c->sp_mask, len, ACC_WRITE, &m))
		return EXEC_FAULT;
	for (unsigned r = 0; r < PUSHA_SLOTS; r++) {
		uint64_t v = reg_get(c, GPR_RDI - r, d->osz); /* lowest address: rDI */
		memcpy(buf + r * d->osz, &v, d->osz);
	}
	mem_store_bytes(c, &m, buf, len);
	c->gpr[GPR_RSP] = sp_moved(c, -(int64_t)len);
	return EXEC_OK;
}

enum exec_result exec_popa(struct cpu *c, const struct insn *d)
{
	uint64_t v[PUSHA_SLOTS];
	for (unsigned r = 0; r < PUSHA_SLOTS; r++)
		if (!stack_peek(c, r * d->osz, d->osz, &v[r]))
			return EXEC_FAULT;
	for (unsigned r = 0; r < PUSHA_SLOTS; r++)
		if (GPR_RDI - r != GPR_RSP)
			reg_set(c, GPR_RDI - r, d->osz, v[r]);
	c->gpr[GPR_RSP] = sp_moved(c, PUSHA_SLOTS * (int64_t)d->osz);
	return EXEC_OK;
}

/* ENTER size, level (SDM Vol. 2 ENTER): push rBP, copy level - 1 frame
 * pointers from the old frame, push the new frame pointer, then allocate
 * size bytes. All reads and slot translations happen before any store. */
#define ENTER_MAX_LEVEL 32 /* the level is taken modulo 32 */

enum exec_result exec_enter(struct cpu *c, const struct insn *d)
{
	unsigned osz = d->osz, level = d->sub % ENTER_MAX_LEVEL;
	unsigned pushes = 1 + (level ? level : 0);
	uint64_t vals[ENTER_MAX_LEVEL + 1];
	struct memref slot[ENTER_MAX_LEVEL + 1];
	uint64_t sp = sp_get(c), bp = reg_get(c, GPR_RBP, 8);
	uint64_t frame = (sp - osz) & c->sp_mask;
	vals[0] = reg_get(c, GPR_RBP, osz);
	for (unsigned i = 1; i < level; i++)
		if (!mem_read(c, SEG_SS, (bp - (uint64_t)i * osz) & c->sp_mask, osz, &vals[i]))
			return EXEC_FAULT;
	if (level)
		vals[level] = frame;
	for (unsigned k = 0; k < pushes; k++)
		if (!mem_xlate(c, SEG_SS, (sp - (uint64_t)(k + 1) * osz) & c->sp_mask, osz, ACC_WRITE,
			       &slot[k]))
			return EXEC_FAULT;
	for (unsigned k = 0; k < pushes; k++)
		mem_store(c, &slot[k], osz, vals[k]);
	reg_set(c, GPR_RBP, osz, frame);
	c->gpr[GPR_RSP] = sp_moved(c, -(int64_t)(pushes * osz + (d->imm & 0xffff)));
	return EXEC_OK;
}

/* LEAVE: rSP = rBP at the stack width, then POP rBP. */
enum exec_result exec_leave(struct cpu *c, const struct insn *d)
{
	uint64_t v, bp = c->gpr[GPR_RBP] & c->sp_mask;
	if (!mem_read(c, SEG_SS, bp, d->osz, &v))
		return EXEC_FAULT;
	uint64_t sp = c->gpr[GPR_RSP];
	c->gpr[GPR_RSP] = (sp & ~c->sp_mask) | ((bp + d->osz) & c->sp_mask);
	reg_set(c, GPR_RBP, d->osz, v);
	return EXEC_OK;
}
