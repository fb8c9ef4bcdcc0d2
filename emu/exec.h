/* What instruction handlers share: register and operand access, effective
 * addresses, faults, the stack. Private to emu/.
 *
 * Handler contract: enum exec_result h(struct cpu *c, const struct insn *d).
 * On entry c->next_rip is the address of the next instruction; a branch
 * overwrites it. A handler first does everything that can fault (operand
 * reads, translations of every write), then commits; on a fault it returns
 * EXEC_FAULT (fault()) having changed no register, flag or memory byte.
 */
#ifndef EMU_EXEC_H
#define EMU_EXEC_H

#include "emu/alu.h"
#include "emu/cpu.h"
#include "emu/flags.h"
#include "emu/insn.h"
#include "emu/mem.h"

/* Handler prototypes, from the opcode list. */
#define X(name, handler, cls) enum exec_result handler(struct cpu *c, const struct insn *d);
#include "emu/insn_list.h"
#undef X

/* Specialised handlers the decoder picks for the most frequent forms
 * (emu/decode.c refine); NULL where none exists and the generic handler
 * stays. Register-destination ALU forms (OP_*_R) at 32 or 64 bits with a
 * register or immediate source; INC/DEC of a 32/64-bit register; Jcc in
 * 64-bit mode; MOV. */
insn_handler exec_alu_r_wide(unsigned op, unsigned osz, bool imm);
insn_handler exec_incdec_r_wide(bool dec, unsigned osz);
insn_handler exec_jcc_64(unsigned cc);
/* MOV by size and operand kinds (enum opk): register or memory
 * destination, register, immediate or memory source; not for AH..BH. */
insn_handler exec_mov_form(const struct insn *d);

/* Sub-operations (struct insn.sub). The ALU group follows the /digit
 * order of opcodes 80–83 (SDM Vol. 2 Table A-6), TEST last. */
enum alu_op { ALU_OP_ADD, ALU_OP_OR, ALU_OP_ADC, ALU_OP_SBB, ALU_OP_AND, ALU_OP_SUB,
	      ALU_OP_XOR, ALU_OP_CMP, ALU_OP_TEST };
enum unary_op { UN_INC, UN_DEC, UN_NEG, UN_NOT };
/* Shift group /digit order (opcodes C0/C1/D0–D3, Table A-6). */
enum shift_op { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };
enum bt_op { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };
enum bitscan_op { BS_BSF, BS_BSR, BS_TZCNT, BS_LZCNT, BS_POPCNT };
enum bmi_op { BMI_ANDN, BMI_BEXTR, BMI_BLSI, BMI_BLSMSK, BMI_BLSR, BMI_BZHI, BMI_MULX,
	      BMI_PDEP, BMI_PEXT, BMI_RORX, BMI_SARX, BMI_SHLX, BMI_SHRX };
enum loop_op { LOOP_NE, LOOP_E, LOOP_ALWAYS, LOOP_JCXZ };
enum flag_op { FL_CLC, FL_STC, FL_CMC, FL_CLD, FL_STD };
enum bcd_op { BCD_DAA, BCD_DAS, BCD_AAA, BCD_AAS, BCD_AAM, BCD_AAD };
enum x87_control { X87_INIT, X87_CLEX, X87_STSW, X87_STCW, X87_LDCW, X87_WAIT };
#define MOV_CR_WRITE 0x80u /* MOV_CR sub: MOV to CRn (low bits: n) */
#define SREG_WRITE 0x80u   /* MOV_SREG sub: MOV to Sreg (low bits: enum seg_reg) */

static inline uint64_t size_mask(unsigned bytes)
{
	return UINT64_MAX >> (64 - 8 * bytes);
}

/* ---- faults ------------------------------------------------------------- */

static inline enum exec_result fault(struct cpu *c, uint8_t vector, bool has_ec, uint32_t ec)
{
	mmu_fault_set(&c->fault, vector, has_ec, ec);
	return EXEC_FAULT;
}

/* ---- registers ---------------------------------------------------------- */

static inline uint64_t reg_get(const struct cpu *c, unsigned r, unsigned size)
{
	if (MMU_UNLIKELY(r >= REG_AH))
		return (c->gpr[r - REG_AH] >> 8) & 0xff;
	return c->gpr[r] & size_mask(size);
}

/* Write a register other than AH..BH at an operand size: 8- and 16-bit
 * writes keep the other bits; a 32-bit write zero-extends to 64 bits (SDM
 * Vol. 1 §3.4.1.1). */
static inline __attribute__((always_inline)) void reg_set_gpr(struct cpu *c, unsigned r,
								unsigned size, uint64_t v)
{
	if (MMU_LIKELY(size >= 4)) {
		c->gpr[r] = size == 8 ? v : (uint32_t)v;
	} else {
		uint64_t keep = ~size_mask(size);
		c->gpr[r] = (c->gpr[r] & keep) | (v & ~keep);
	}
}

/* reg_set_gpr, or one of AH..BH (bits 15:8 of a legacy register). */
static inline void reg_set(struct cpu *c, unsigned r, unsigned size, uint64_t v)
{
	if (MMU_UNLIKELY(size < 4 && r >= REG_AH)) {
		uint64_t *g = &c->gpr[r - REG_AH];
		*g = (*g & ~UINT64_C(0xff00)) | (v & 0xff) << 8;
		return;
	}
	reg_set_gpr(c, r, size, v);
}

/* A 64-bit result in EDX:EAX, each half zero-extended (RDMSR, RDTSC). */
static inline void reg_set_edx_eax(struct cpu *c, uint64_t v)
{
	reg_set(c, GPR_RAX, 4, v);
	reg_set(c, GPR_RDX, 4, v >> 32);
}

/* ---- memory operand ----------------------------------------------------- */

/* Effective address (SDM Vol. 1 §3.7.5): base + index * scale + disp,
 * truncated to the address size; RIP-relative uses the next RIP. */
static inline uint64_t insn_ea(const struct cpu *c, const struct insn *d)
{
	uint64_t a = (uint64_t)d->disp;
	if (MMU_LIKELY(d->flags & INSN_EA64)) {
		if (MMU_LIKELY(d->base < CPU_NGPRS))
			a += c->gpr[d->base];
		else if (d->base == REG_RIP)
			a += c->next_rip;
		if (d->index != REG_NONE)
			a += c->gpr[d->index] << d->scale;
		return a;
	}
	if (d->base != REG_NONE)
		a += d->base == REG_RIP ? c->next_rip : c->gpr[d->base];
	if (d->index != REG_NONE)
		a += c->gpr[d->index] << d->scale;
	return a & size_mask(d->asz);
}

/* Read an operand of kind k (enum opk: register r, the immediate, or the
 * memory operand) at size. */
MMU_WUR static inline bool operand_read(struct cpu *c, const struct insn *d, unsigned k,
					unsigned r, unsigned size, uint64_t *v)
{
	switch (k) {
	case OPK_REG:
		*v = reg_get(c, r, size);
		return true;
	case OPK_IMM:
		*v = d->imm & size_mask(size);
		return true;
	default:
		return mem_read(c, d->seg, insn_ea(c, d), size, v);
	}
}

/* Read operand 1 (the source: register, immediate or memory) at size. */
MMU_WUR static inline bool src_read(struct cpu *c, const struct insn *d, unsigned size,
				    uint64_t *v)
{
	return operand_read(c, d, d->k1, d->r1, size, v);
}

/* Read operand 0 as a value (register or memory). */
MMU_WUR static inline bool dst_read(struct cpu *c, const struct insn *d, unsigned size,
				    uint64_t *v)
{
	if (d->k0 == OPK_REG) {
		*v = reg_get(c, d->r0, size);
		return true;
	}
	return mem_read(c, d->seg, insn_ea(c, d), size, v);
}

/* A read-modify-write destination: for a register nothing to translate;
 * for memory, translated once as a write before anything is committed. */
struct rmw {
	struct memref m;
	bool is_mem;
};

MMU_WUR static inline bool rmw_begin(struct cpu *c, const struct insn *d, unsigned size,
				     struct rmw *w, uint64_t *v)
{
	w->is_mem = d->k0 == OPK_MEM;
	if (!w->is_mem) {
		*v = reg_get(c, d->r0, size);
		return true;
	}
	if (!mem_xlate(c, d->seg, insn_ea(c, d), size, ACC_WRITE, &w->m))
		return false;
	*v = mem_load(c, &w->m, size);
	return true;
}

static inline void rmw_commit(struct cpu *c, const struct insn *d, unsigned size,
			      const struct rmw *w, uint64_t v)
{
	if (w->is_mem)
		mem_store(c, &w->m, size, v);
	else
		reg_set(c, d->r0, size, v);
}

/* ---- stack (SDM Vol. 1 §6.2, §6.2.5) ------------------------------------ */

static inline uint64_t sp_get(const struct cpu *c)
{
	return c->gpr[GPR_RSP] & c->sp_mask;
}

/* The new RSP after moving the stack pointer by delta, keeping the bits
 * above the stack width (16-bit stacks change SP only). */
static inline uint64_t sp_moved(const struct cpu *c, int64_t delta)
{
	uint64_t sp = c->gpr[GPR_RSP];
	return (sp & ~c->sp_mask) | ((sp + (uint64_t)delta) & c->sp_mask);
}

/* Translate the slot a push of size bytes writes. */
MMU_WUR static inline bool push_xlate(struct cpu *c, unsigned size, struct memref *m)
{
	return mem_xlate(c, SEG_SS, (sp_get(c) - size) & c->sp_mask, size, ACC_WRITE, m);
}

/* Push after push_xlate: store and move RSP. */
static inline void push_commit(struct cpu *c, const struct memref *m, unsigned size, uint64_t v)
{
	mem_store(c, m, size, v);
	c->gpr[GPR_RSP] = sp_moved(c, -(int64_t)size);
}

/* Read the value at the top of the stack (offset bytes above RSP). */
MMU_WUR static inline bool stack_peek(struct cpu *c, uint64_t offset, unsigned size, uint64_t *v)
{
	return mem_read(c, SEG_SS, (sp_get(c) + offset) & c->sp_mask, size, v);
}

/* ---- RFLAGS images ------------------------------------------------------ */

/* The RFLAGS bits a POPF or IRET at the current CPL may change (SDM Vol. 2
 * POPF, IRET; protected and IA-32e mode): IOPL only at CPL 0, IF only when
 * CPL ≤ IOPL; VM, VIF, VIP never; a 16-bit image reaches only bits 15:0. */
static inline uint64_t flags_popped_mask(const struct cpu *c, unsigned osz)
{
	uint64_t mask = RFLAGS_STATUS | RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_IOPL |
			RFLAGS_NT | RFLAGS_AC | RFLAGS_ID;
	unsigned iopl = (unsigned)((c->rflags & RFLAGS_IOPL) >> RFLAGS_IOPL_SHIFT);
	if (c->cpl > 0)
		mask &= ~RFLAGS_IOPL;
	if (c->cpl > iopl)
		mask &= ~RFLAGS_IF;
	if (osz == 2)
		mask &= 0xffff;
	return mask;
}

/* ---- control transfer --------------------------------------------------- */

/* Check a near-branch target and make it the next RIP: in 64-bit mode it
 * must be canonical, elsewhere within the CS limit, else #GP(0) (SDM
 * Vol. 2 JMP/CALL/RET "Protected Mode Exceptions"). */
MMU_WUR static inline bool branch_to(struct cpu *c, uint64_t target)
{
	if (c->mode == CPU_MODE_64) {
		if (MMU_UNLIKELY(!mmu_canonical(&c->mmu, target))) {
			mmu_fault_set(&c->fault, VEC_GP, true, 0);
			return false;
		}
	} else if (MMU_UNLIKELY(target > c->mmu.seg.sr[SEG_CS].limit)) {
		mmu_fault_set(&c->fault, VEC_GP, true, 0);
		return false;
	}
	c->next_rip = target;
	return true;
}

/* Relative-branch target at the operand size (SDM Vol. 2 Jcc: with a
 * 16-bit operand size the target is truncated to 16 bits). */
static inline uint64_t rel_target(const struct cpu *c, const struct insn *d)
{
	return (c->next_rip + d->imm) & size_mask(d->osz);
}

#endif
