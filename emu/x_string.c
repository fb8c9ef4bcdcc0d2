/* String instructions MOVS, STOS, LODS, CMPS, SCAS with REP/REPE/REPNE
 * and DF (SDM Vol. 2 "REP/REPE/REPZ/REPNE/REPNZ", Vol. 1 §7.3.9).
 *
 * Each element is precise on its own: its accesses are translated before
 * it changes anything. A repeated string instruction is interruptible
 * (SDM Vol. 2 REP: "the registers reflect the state after the last
 * completed iteration"), so a fault in iteration k leaves rSI/rDI/rCX
 * after k - 1 iterations and RIP on the instruction, which resumes it.
 * A long repetition also yields to the run loop every STRING_BATCH
 * elements (RIP stays, the loop counts one instruction), so no guest
 * count can keep the host in one handler for long. With TF set, or a
 * data breakpoint armed, it yields after every element: each iteration
 * is single-stepped (SDM Vol. 3B §17.3.1.4) or checked for a data
 * breakpoint trap (§17.3.1.2), and an event taken between iterations
 * pushes RF = 1 (rep_partial).
 *
 * rep movs / rep stos forward run in chunks: as many elements as fit
 * before either operand reaches a page end, both pages translated once,
 * then one host copy. Overlapping forward copies where the destination
 * runs into bytes the copy has not read yet go byte by byte, as the
 * element-wise definition requires.
 */
#include <string.h>

#include "emu/exec.h"

#define STRING_BATCH (UINT64_C(1) << 20)

static int64_t step_of(const struct cpu *c, const struct insn *d)
{
	return (c->rflags & RFLAGS_DF) ? -(int64_t)d->osz : (int64_t)d->osz;
}

static void index_add(struct cpu *c, unsigned r, const struct insn *d, int64_t delta)
{
	reg_set(c, r, d->asz, reg_get(c, r, d->asz) + (uint64_t)delta);
}

/* One element of op; false with c->fault set (nothing changed). */
static bool string_element(struct cpu *c, const struct insn *d)
{
	struct memref s, t;
	uint64_t si = reg_get(c, GPR_RSI, d->asz), di = reg_get(c, GPR_RDI, d->asz);
	uint64_t a, b, fl = flags_get(c);
	int64_t step = step_of(c, d);
	switch (d->op) {
	case OP_MOVS:
		if (!mem_xlate(c, d->seg, si, d->osz, ACC_READ, &s) ||
		    !mem_xlate(c, SEG_ES, di, d->osz, ACC_WRITE, &t))
			return false;
		mem_store(c, &t, d->osz, mem_load(c, &s, d->osz));
		index_add(c, GPR_RSI, d, step);
		index_add(c, GPR_RDI, d, step);
		return true;
	case OP_STOS:
		if (!mem_write(c, SEG_ES, di, d->osz, reg_get(c, GPR_RAX, d->osz)))
			return false;
		index_add(c, GPR_RDI, d, step);
		return true;
	case OP_LODS:
		if (!mem_read(c, d->seg, si, d->osz, &a))
			return false;
		reg_set(c, GPR_RAX, d->osz, a);
		index_add(c, GPR_RSI, d, step);
		return true;
	case OP_CMPS:
		if (!mem_read(c, d->seg, si, d->osz, &a) || !mem_read(c, SEG_ES, di, d->osz, &b))
			return false;
		alu_cmp(d->w, a, b, &fl);
		c->rflags = fl;
		index_add(c, GPR_RSI, d, step);
		index_add(c, GPR_RDI, d, step);
		return true;
	default: /* SCAS */
		if (!mem_read(c, SEG_ES, di, d->osz, &b))
			return false;
		alu_cmp(d->w, reg_get(c, GPR_RAX, d->osz), b, &fl);
		c->rflags = fl;
		index_add(c, GPR_RDI, d, step);
		return true;
	}
}

/* Bytes from offset to the end of its page. */
static uint64_t page_room(uint64_t ea)
{
	return PHYS_FRAME_SIZE - (ea & PAGE_OFFSET_MASK);
}

/* Copy or fill n bytes in RAM (both ranges inside RAM), then tell the
 * write hook. A forward copy whose destination starts inside the source
 * ahead of it repeats the pattern, so it goes byte by byte. */
static void ram_chunk(struct cpu *c, const struct insn *d, uint64_t dst, uint64_t src, uint64_t n)
{
	uint8_t *ram = c->mmu.phys.ram;
	if (d->op == OP_STOS) {
		uint64_t v = reg_get(c, GPR_RAX, d->osz);
		for (uint64_t i = 0; i < n; i += d->osz)
			memcpy(ram + dst + i, &v, d->osz);
	} else if (dst > src && dst - src < n) {
		for (uint64_t i = 0; i < n; i++)
			ram[dst + i] = ram[src + i];
	} else {
		memmove(ram + dst, ram + src, n);
	}
	phys_notify_write(&c->mmu.phys, dst, (unsigned)n);
}

/* A forward chunk of rep movs / rep stos of up to count elements. Returns
 * the elements done: 0 when the chunk shortcut does not apply (the caller
 * does one element the ordinary way), or -1 on a fault. */
static int64_t string_chunk(struct cpu *c, const struct insn *d, uint64_t count)
{
	uint64_t si = reg_get(c, GPR_RSI, d->asz), di = reg_get(c, GPR_RDI, d->asz);
	uint64_t room = page_room(di);
	if (d->op == OP_MOVS && page_room(si) < room)
		room = page_room(si);
	uint64_t n = room / d->osz;
	if (n > count)
		n = count;
	if (n < 2)
		return 0;
	uint64_t bytes = n * d->osz;
	struct memref s = { 0, 0, 0 }, t;
	if (d->op == OP_MOVS && !mem_xlate(c, d->seg, si, (unsigned)bytes, ACC_READ, &s))
		return 0; /* let the element path report the fault precisely */
	if (!mem_xlate(c, SEG_ES, di, (unsigned)bytes, ACC_WRITE, &t))
		return 0;
	if (t.n1 != bytes || !phys_in_ram(&c->mmu.phys, t.pa, (unsigned)bytes))
		return 0;
	if (d->op == OP_MOVS && (s.n1 != bytes || !phys_in_ram(&c->mmu.phys, s.pa, (unsigned)bytes)))
		return 0;
	ram_chunk(c, d, t.pa, s.pa, bytes);
	if (d->op == OP_MOVS)
		index_add(c, GPR_RSI, d, (int64_t)bytes);
	index_add(c, GPR_RDI, d, (int64_t)bytes);
	return (int64_t)n;
}

/* REPE/REPNE termination for CMPS and SCAS. */
static bool rep_stops(const struct cpu *c, const struct insn *d)
{
	if (d->op != OP_CMPS && d->op != OP_SCAS)
		return false;
	bool zf = c->rflags & RFLAGS_ZF;
	return (d->flags & INSN_REPNE) ? zf : !zf;
}

static enum exec_result string_run(struct cpu *c, const struct insn *d)
{
	if (!(d->flags & (INSN_REP | INSN_REPNE)))
		return string_element(c, d) ? EXEC_OK : EXEC_FAULT;
	/* Single-stepped, or with a data breakpoint armed (its trap comes
	 * after the iteration that matched, §17.3.1.2): one iteration a turn. */
	bool stepped = (c->rflags & RFLAGS_TF) || c->bp_data;
	bool chunks = (d->op == OP_MOVS || d->op == OP_STOS) && !(c->rflags & RFLAGS_DF) && !stepped;
	uint64_t done = 0, batch = stepped ? 1 : STRING_BATCH;
	c->rep_partial = false;
	for (;;) {
		uint64_t count = reg_get(c, GPR_RCX, d->asz);
		if (count == 0)
			return EXEC_OK;
		if (done >= batch) {
			c->next_rip = c->rip; /* resume on the next turn of the loop */
			c->rep_partial = true;
			return EXEC_OK;
		}
		int64_t n = chunks ? string_chunk(c, d, count) : 0;
		if (n == 0) {
			if (!string_element(c, d))
				return EXEC_FAULT;
			n = 1;
		}
		reg_set(c, GPR_RCX, d->asz, count - (uint64_t)n);
		c->cycles += (uint64_t)n * d->cost;
		done += (uint64_t)n;
		if (rep_stops(c, d))
			return EXEC_OK;
	}
}

enum exec_result exec_movs(struct cpu *c, const struct insn *d)
{
	return string_run(c, d);
}

enum exec_result exec_stos(struct cpu *c, const struct insn *d)
{
	return string_run(c, d);
}

enum exec_result exec_lods(struct cpu *c, const struct insn *d)
{
	return string_run(c, d);
}

enum exec_result exec_cmps(struct cpu *c, const struct insn *d)
{
	return string_run(c, d);
}

enum exec_result exec_scas(struct cpu *c, const struct insn *d)
{
	return string_run(c, d);
}
