/* LAR, LSL, VERR, VERW: look at a descriptor without loading it (SDM
 * Vol. 2A LAR, LSL; Vol. 2B VERR, VERW).
 *
 * All four report through ZF alone and never fault on the selector: a null
 * selector, one beyond the GDT/LDT limit (or TI = 1 with an unusable LDTR,
 * or a 16-byte system descriptor whose upper half is invalid), a type the
 * instruction does not accept, or a privilege check that fails all give
 * ZF = 0 with the destination unchanged. Faults come only from reading the
 * operand or the descriptor (#PF, #GP/#SS on the operand). Reading and
 * decoding the descriptor is mmu/seg's (seg_read_descriptor,
 * struct seg_desc); this file has the per-instruction acceptance rules.
 * None of them checks the present bit.
 */
#include "emu/exec.h"

/* struct insn.sub of OP_LAR_LSL and OP_VERR_VERW. */
enum { SEGCHECK_LAR = 0, SEGCHECK_LSL = 1 };
enum { SEGCHECK_VERR = 0, SEGCHECK_VERW = 1 };

/* LAR's result: the second doubleword of the descriptor masked to the
 * access-rights bits: type, S, DPL, P (bits 15:8) and, for 32/64-bit
 * operands, AVL, L, D/B, G (bits 23:20) (SDM Vol. 2A LAR). */
#define LAR_RIGHTS_MASK16 UINT32_C(0x0000ff00)
#define LAR_RIGHTS_MASK32 UINT32_C(0x00f0ff00)
#define DESC_SECOND_DWORD_SHIFT 32

/* Read the descriptor sel names. False with c->fault on a fault the
 * instruction raises (#PF reading the table). *found is false when there
 * is no descriptor the instruction may look at (null selector; the
 * table-limit and LDTR checks seg_read_descriptor reports as #GP(sel)),
 * which the instructions report as ZF = 0. want16: LAR/LSL accept system
 * descriptors, which are 16 bytes in IA-32e mode. */
static bool segcheck_read(struct cpu *c, uint16_t sel, bool want16, struct seg_desc *d,
			  bool *found)
{
	struct mmu_fault f;
	*found = false;
	if (seg_sel_is_null(sel))
		return true;
	if (!seg_read_descriptor(&c->mmu, sel, want16, d, &f)) {
		if (f.vector == VEC_GP)
			return true;
		c->fault = f;
		return false;
	}
	*found = true;
	return true;
}

/* The privilege rule all four share: unless the descriptor is a
 * conforming code segment, both CPL and the selector's RPL must be at
 * most DPL (SDM Vol. 2A LAR/LSL, Vol. 2B VERR/VERW "Operation"). */
static bool segcheck_privilege_ok(const struct cpu *c, uint16_t sel, const struct seg_desc *d)
{
	if (d->kind == DESC_CODE && (d->type & SEG_TYPE_CODE_CONFORMING))
		return true;
	return c->cpl <= d->dpl && seg_sel_rpl(sel) <= d->dpl;
}

/* Descriptor kinds each instruction accepts (SDM Vol. 2A LAR, LSL, the
 * "valid for" type tables). seg_decode already maps the system types to
 * kinds by mode, so the 16-bit TSS, 16/32-bit call gates and task gates
 * exist only outside IA-32e mode, and the 64-bit TSS and call gate only
 * in it. LAR takes every segment, LDT and TSS descriptor and the call and
 * task gates; LSL the segments, LDTs and TSSs (no gates, which have no
 * limit); neither takes interrupt or trap gates. */
static bool lar_accepts(enum seg_desc_kind k)
{
	switch (k) {
	case DESC_CODE: case DESC_DATA: case DESC_LDT: case DESC_TSS16: case DESC_TSS32:
	case DESC_TSS64: case DESC_CALL_GATE16: case DESC_CALL_GATE32: case DESC_CALL_GATE64:
	case DESC_TASK_GATE:
		return true;
	default:
		return false;
	}
}

static bool lsl_accepts(enum seg_desc_kind k)
{
	switch (k) {
	case DESC_CODE: case DESC_DATA: case DESC_LDT: case DESC_TSS16: case DESC_TSS32:
	case DESC_TSS64:
		return true;
	default:
		return false;
	}
}

static void set_zf(struct cpu *c, bool zf)
{
	flags_sync(c);
	c->rflags = zf ? c->rflags | RFLAGS_ZF : c->rflags & ~RFLAGS_ZF;
}

/* LAR r, r/m16 (sub SEGCHECK_LAR) and LSL r, r/m16 (SEGCHECK_LSL). A
 * register source contributes its low 16 bits. The result is written at
 * the operand size (a 32-bit destination is zero-extended in 64-bit
 * mode); LSL's is the byte-granular limit (scaled by G). */
enum exec_result exec_lar_lsl(struct cpu *c, const struct insn *d)
{
	uint64_t sel, v;
	struct seg_desc desc;
	bool found;
	if (!src_read(c, d, 2, &sel) || !segcheck_read(c, (uint16_t)sel, true, &desc, &found))
		return EXEC_FAULT;
	bool lsl = d->sub == SEGCHECK_LSL;
	bool ok = found && (lsl ? lsl_accepts(desc.kind) : lar_accepts(desc.kind)) &&
		  segcheck_privilege_ok(c, (uint16_t)sel, &desc);
	if (ok) {
		if (lsl) {
			v = desc.limit;
		} else {
			v = (uint32_t)(desc.raw[0] >> DESC_SECOND_DWORD_SHIFT) &
			    (d->osz == 2 ? LAR_RIGHTS_MASK16 : LAR_RIGHTS_MASK32);
		}
		reg_set(c, d->r0, d->osz, v);
	}
	set_zf(c, ok);
	return EXEC_OK;
}

/* VERR r/m16 (sub SEGCHECK_VERR): a code or data segment readable at
 * this CPL and RPL (data always, code when readable). VERW r/m16
 * (SEGCHECK_VERW): a writable data segment (SDM Vol. 2B VERR/VERW). */
enum exec_result exec_verr_verw(struct cpu *c, const struct insn *d)
{
	uint64_t sel;
	struct seg_desc desc;
	bool found, ok = false;
	if (!dst_read(c, d, 2, &sel) || !segcheck_read(c, (uint16_t)sel, false, &desc, &found))
		return EXEC_FAULT;
	if (found && segcheck_privilege_ok(c, (uint16_t)sel, &desc)) {
		if (d->sub == SEGCHECK_VERW)
			ok = desc.kind == DESC_DATA && (desc.type & SEG_TYPE_DATA_WRITABLE);
		else
			ok = desc.kind == DESC_DATA ||
			     (desc.kind == DESC_CODE && (desc.type & SEG_TYPE_CODE_READABLE));
	}
	set_zf(c, ok);
	return EXEC_OK;
}
