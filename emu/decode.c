/* Decoding: one full Zydis decode per instruction, turned into struct insn.
 *
 * Zydis does prefix, ModRM/SIB, operand- and address-size handling and
 * rejects illegal encodings (including LOCK where the SDM forbids it: Vol. 2
 * LOCK, "#UD if the LOCK prefix is used with an instruction not listed or
 * with a register destination"). This file picks the internal opcode for
 * the mnemonic and resolves the operands into register numbers, immediate
 * and memory-operand fields.
 */
#include "emu/decode.h"

#include <Zydis/Zydis.h>
#include <string.h>

#include "emu/exec.h"

/* Opcode → handler and base-cost class, from the one list. */
#define X(name, handler, cls) [OP_##name] = { handler, cls },
static const struct {
	insn_handler fn;
	enum insn_class cls;
} op_table[OP_COUNT] = {
#include "emu/insn_list.h"
};
#undef X

/* Base cost per class in cycles (docs/cpu.md, "Cycle model"). Roughly a
 * Skylake-class core's latency for the class, rounded; memory accesses are
 * charged separately by the MMU model. */
static const uint8_t class_cost[CLS_NCLASSES] = {
	[CLS_SIMPLE] = 1, [CLS_BRANCH] = 1, [CLS_STACK] = 1, [CLS_MUL] = 3, [CLS_DIV] = 26,
	[CLS_BITSCAN] = 3, [CLS_LOCKED] = 18, [CLS_STRING] = 1, [CLS_SYSTEM] = 20,
};

/* Whether op is straight-line (INSN_PLAIN): its class never branches nor
 * touches system state, except the few simple or stack operations that
 * may open the interrupt window or yield to the devices (CLI/STI, POPF).
 * Strings, branches and system instructions write next_rip or change
 * what the fetch depends on. */
static bool op_is_plain(enum insn_op op)
{
	switch (op_table[op].cls) {
	case CLS_SIMPLE: case CLS_STACK: case CLS_MUL: case CLS_DIV: case CLS_BITSCAN:
	case CLS_LOCKED:
		return op != OP_CLI_STI && op != OP_POPF;
	default:
		return false;
	}
}

/* Whether op is INSN_LOCAL: plain, or a near branch, or a memory string
 * instruction (INS/OUTS talk to the devices). */
static bool op_is_local(enum insn_op op)
{
	enum insn_class cls = op_table[op].cls;
	if (cls == CLS_BRANCH || (cls == CLS_STRING && op != OP_INS && op != OP_OUTS))
		return true;
	return op_is_plain(op);
}

static void set_op(struct insn *d, enum insn_op op, unsigned sub)
{
	d->op = (uint8_t)op;
	d->sub = (uint8_t)sub;
	d->fn = op_table[op].fn;
	d->cost = class_cost[op_table[op].cls];
	d->flags &= (uint8_t)~(INSN_PLAIN | INSN_LOCAL);
	if (op_is_plain(op))
		d->flags |= INSN_PLAIN;
	if (op_is_local(op))
		d->flags |= INSN_LOCAL;
}

/* GPR number for a Zydis register, REG_NONE for anything else. */
static uint8_t gpr_num(ZydisRegister r)
{
	if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_R15B) {
		unsigned i = r - ZYDIS_REGISTER_AL;
		if (i < 4)
			return (uint8_t)i;
		if (i < 8)
			return (uint8_t)(REG_AH + i - 4); /* AH, CH, DH, BH */
		return (uint8_t)(i - 4);              /* SPL.. DIL, R8B.. R15B */
	}
	if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W)
		return (uint8_t)(r - ZYDIS_REGISTER_AX);
	if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D)
		return (uint8_t)(r - ZYDIS_REGISTER_EAX);
	if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15)
		return (uint8_t)(r - ZYDIS_REGISTER_RAX);
	return REG_NONE;
}

static uint8_t seg_num(ZydisRegister r)
{
	if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS)
		return (uint8_t)(r - ZYDIS_REGISTER_ES); /* same order as enum seg_reg */
	return SEG_DS;
}

static uint8_t scale_shift(unsigned scale)
{
	return (uint8_t)(scale <= 1 ? 0 : scale == 2 ? 1 : scale == 4 ? 2 : 3);
}

static bool mem_operand(struct insn *d, const ZydisDecodedOperand *o)
{
	if (o->mem.base == ZYDIS_REGISTER_RIP || o->mem.base == ZYDIS_REGISTER_EIP) {
		d->base = REG_RIP;
	} else if (o->mem.base != ZYDIS_REGISTER_NONE) {
		d->base = gpr_num(o->mem.base);
		if (d->base == REG_NONE)
			return false;
	}
	if (o->mem.index != ZYDIS_REGISTER_NONE) {
		d->index = gpr_num(o->mem.index);
		if (d->index == REG_NONE)
			return false; /* VSIB and friends */
	}
	d->scale = scale_shift(o->mem.scale);
	d->disp = o->mem.disp.value;
	d->seg = seg_num(o->mem.segment);
	if (d->asz == 8)
		d->flags |= INSN_EA64;
	return true;
}

/* Resolve visible operand i into d; false for operands mmulab does not
 * handle (segment, control, vector registers; far pointers). vex: a
 * VEX-encoded form, whose third operand may be any register. */
static bool operand(struct insn *d, unsigned i, const ZydisDecodedOperand *o, bool vex)
{
	uint8_t *k = i == 0 ? &d->k0 : i == 1 ? &d->k1 : &d->k2;
	switch (o->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER: {
		uint8_t r = gpr_num(o->reg.value);
		if (r == REG_NONE || (i > 1 && !vex && r != GPR_RCX))
			return false; /* a legacy third register operand: only SHLD/SHRD's CL */
		*k = OPK_REG;
		if (i == 0)
			d->r0 = r;
		else if (i == 1)
			d->r1 = r;
		else
			d->r2 = r;
		return true;
	}
	case ZYDIS_OPERAND_TYPE_MEMORY:
		*k = OPK_MEM;
		return mem_operand(d, o);
	case ZYDIS_OPERAND_TYPE_POINTER: /* far ptr16:16/32: selector kept in disp */
		*k = OPK_IMM;
		d->imm = o->ptr.offset;
		d->disp = o->ptr.segment;
		return true;
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		*k = OPK_IMM;
		if (d->k0 == OPK_IMM && i == 1) {
			d->sub = (uint8_t)o->imm.value.u; /* ENTER's nesting level */
			return true;
		}
		d->imm = o->imm.value.u;
		return true;
	default:
		return false;
	}
}

static void decode_as_ud(struct insn *d, unsigned mnemonic, uint8_t len)
{
	memset(d, 0, sizeof *d);
	set_op(d, OP_UD, 0);
	d->mnemonic = (uint16_t)mnemonic;
	d->len = len;
}

/* Segment register of a Zydis register operand, or -1. */
static int sreg_num(const ZydisDecodedOperand *o)
{
	if (o->type != ZYDIS_OPERAND_TYPE_REGISTER || o->reg.value < ZYDIS_REGISTER_ES ||
	    o->reg.value > ZYDIS_REGISTER_GS)
		return -1;
	return (int)(o->reg.value - ZYDIS_REGISTER_ES);
}

/* MOV to/from a segment register, PUSH/POP of one. False: not such a
 * form (decode goes on normally). */
static bool decode_sreg(struct insn *d, const ZydisDecodedInstruction *zi,
			const ZydisDecodedOperand *ops, enum insn_op op)
{
	if (zi->operand_count_visible == 0)
		return false;
	if (op == OP_MOV && zi->operand_count_visible == 2) {
		bool write = sreg_num(&ops[0]) >= 0;
		int r = sreg_num(&ops[write ? 0 : 1]);
		if (r < 0)
			return false;
		set_op(d, OP_MOV_SREG, (unsigned)r | (write ? SREG_WRITE : 0));
		if (!operand(d, 0, &ops[write ? 1 : 0], false))
			decode_as_ud(d, zi->mnemonic, zi->length);
		return true;
	}
	int r = sreg_num(&ops[0]);
	if ((op != OP_PUSH && op != OP_POP) || r < 0)
		return false;
	set_op(d, op == OP_PUSH ? OP_PUSH_SREG : OP_POP_SREG, (unsigned)r);
	return true;
}

/* Control-register number of a Zydis register, or -1. */
static int cr_num(ZydisRegister r)
{
	return r >= ZYDIS_REGISTER_CR0 && r <= ZYDIS_REGISTER_CR15 ? (int)(r - ZYDIS_REGISTER_CR0) : -1;
}

static bool is_cr_operand(const ZydisDecodedOperand *o)
{
	return o->type == ZYDIS_OPERAND_TYPE_REGISTER && cr_num(o->reg.value) >= 0;
}

static bool is_dr_operand(const ZydisDecodedOperand *o)
{
	return o->type == ZYDIS_OPERAND_TYPE_REGISTER && o->reg.value >= ZYDIS_REGISTER_DR0 &&
	       o->reg.value <= ZYDIS_REGISTER_DR7;
}

/* MOV to/from DR0–DR7 (SDM Vol. 2 MOV—Move to/from Debug Registers). */
static bool decode_mov_dr(struct insn *d, const ZydisDecodedOperand *ops)
{
	bool write = is_dr_operand(&ops[0]);
	unsigned n = (unsigned)(ops[write ? 0 : 1].reg.value - ZYDIS_REGISTER_DR0);
	set_op(d, OP_MOV_DR, n | (write ? MOV_CR_WRITE : 0));
	d->r0 = gpr_num(ops[write ? 1 : 0].reg.value);
	d->k0 = OPK_REG;
	return d->r0 != REG_NONE;
}

/* MOV to/from CR0, CR2, CR3, CR4, CR8; other control registers are #UD
 * (SDM Vol. 2 MOV—Move to/from Control Registers). */
static bool decode_mov_cr(struct insn *d, const ZydisDecodedOperand *ops)
{
	bool write = is_cr_operand(&ops[0]);
	int n = cr_num(ops[write ? 0 : 1].reg.value);
	if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8)
		return false;
	set_op(d, OP_MOV_CR, (unsigned)n | (write ? MOV_CR_WRITE : 0));
	d->r0 = gpr_num(ops[write ? 1 : 0].reg.value);
	d->k0 = OPK_REG;
	return d->r0 != REG_NONE;
}

/* XCHG is symmetric: keep the memory operand, if any, as operand 0. */
static void normalise_xchg(struct insn *d)
{
	if (d->k1 == OPK_MEM) {
		d->k1 = OPK_REG;
		d->r1 = d->r0;
		d->k0 = OPK_MEM;
	}
}

/* The segment string sources use: the DS default or an override, from
 * the hidden memory operand based on (R/E)SI (SDM Vol. 2 MOVS). */
static void string_operands(struct insn *d, const ZydisDecodedInstruction *zi,
			    const ZydisDecodedOperand *ops)
{
	d->seg = SEG_DS;
	for (unsigned i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *o = &ops[i];
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && gpr_num(o->mem.base) == GPR_RSI)
			d->seg = seg_num(o->mem.segment);
	}
}

/* Condition code: the low nibble of Jcc/SETcc/CMOVcc opcodes (SDM Vol. 1
 * Appendix B). */
static unsigned cond_of(const ZydisDecodedInstruction *zi)
{
	return zi->opcode & 0xf;
}

static bool is_jcc(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_JO: case ZYDIS_MNEMONIC_JNO: case ZYDIS_MNEMONIC_JB:
	case ZYDIS_MNEMONIC_JNB: case ZYDIS_MNEMONIC_JZ: case ZYDIS_MNEMONIC_JNZ:
	case ZYDIS_MNEMONIC_JBE: case ZYDIS_MNEMONIC_JNBE: case ZYDIS_MNEMONIC_JS:
	case ZYDIS_MNEMONIC_JNS: case ZYDIS_MNEMONIC_JP: case ZYDIS_MNEMONIC_JNP:
	case ZYDIS_MNEMONIC_JL: case ZYDIS_MNEMONIC_JNL: case ZYDIS_MNEMONIC_JLE:
	case ZYDIS_MNEMONIC_JNLE:
		return true;
	default:
		return false;
	}
}

static bool is_range(ZydisMnemonic m, ZydisMnemonic lo, ZydisMnemonic hi)
{
	return m >= lo && m <= hi;
}

/* Opcode for a string mnemonic, or OP_COUNT if m is not one. */
static enum insn_op string_op(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_MOVSQ:
		return OP_MOVS;
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_STOSQ:
		return OP_STOS;
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
	case ZYDIS_MNEMONIC_LODSQ:
		return OP_LODS;
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
	case ZYDIS_MNEMONIC_CMPSQ:
		return OP_CMPS;
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
	case ZYDIS_MNEMONIC_SCASQ:
		return OP_SCAS;
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
		return OP_INS;
	case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
		return OP_OUTS;
	default:
		return OP_COUNT;
	}
}

/* Mnemonics with a fixed opcode and sub-operation. */
static bool simple_op(ZydisMnemonic m, enum insn_op *op, unsigned *sub)
{
	static const struct { ZydisMnemonic m; enum insn_op op; uint8_t sub; } map[] = {
		{ ZYDIS_MNEMONIC_MOV, OP_MOV, 0 }, { ZYDIS_MNEMONIC_MOVZX, OP_MOVX, 0 },
		{ ZYDIS_MNEMONIC_MOVSX, OP_MOVX, 1 }, { ZYDIS_MNEMONIC_MOVSXD, OP_MOVX, 1 },
		{ ZYDIS_MNEMONIC_LEA, OP_LEA, 0 }, { ZYDIS_MNEMONIC_XADD, OP_XADD, 0 },
		{ ZYDIS_MNEMONIC_CMPXCHG, OP_CMPXCHG, 0 },
		{ ZYDIS_MNEMONIC_CMPXCHG8B, OP_CMPXCHG_WIDE, 0 },
		{ ZYDIS_MNEMONIC_CMPXCHG16B, OP_CMPXCHG_WIDE, 1 },
		{ ZYDIS_MNEMONIC_ADD, OP_ALU, ALU_OP_ADD }, { ZYDIS_MNEMONIC_OR, OP_ALU, ALU_OP_OR },
		{ ZYDIS_MNEMONIC_ADC, OP_ALU, ALU_OP_ADC }, { ZYDIS_MNEMONIC_SBB, OP_ALU, ALU_OP_SBB },
		{ ZYDIS_MNEMONIC_AND, OP_ALU, ALU_OP_AND }, { ZYDIS_MNEMONIC_SUB, OP_ALU, ALU_OP_SUB },
		{ ZYDIS_MNEMONIC_XOR, OP_ALU, ALU_OP_XOR }, { ZYDIS_MNEMONIC_CMP, OP_ALU, ALU_OP_CMP },
		{ ZYDIS_MNEMONIC_TEST, OP_ALU, ALU_OP_TEST },
		{ ZYDIS_MNEMONIC_INC, OP_UNARY, UN_INC }, { ZYDIS_MNEMONIC_DEC, OP_UNARY, UN_DEC },
		{ ZYDIS_MNEMONIC_NEG, OP_UNARY, UN_NEG }, { ZYDIS_MNEMONIC_NOT, OP_UNARY, UN_NOT },
		{ ZYDIS_MNEMONIC_ROL, OP_SHIFT, SH_ROL }, { ZYDIS_MNEMONIC_ROR, OP_SHIFT, SH_ROR },
		{ ZYDIS_MNEMONIC_RCL, OP_SHIFT, SH_RCL }, { ZYDIS_MNEMONIC_RCR, OP_SHIFT, SH_RCR },
		{ ZYDIS_MNEMONIC_SHL, OP_SHIFT, SH_SHL }, { ZYDIS_MNEMONIC_SHR, OP_SHIFT, SH_SHR },
		{ ZYDIS_MNEMONIC_SAR, OP_SHIFT, SH_SAR },
		{ ZYDIS_MNEMONIC_SHLD, OP_SHD, 0 }, { ZYDIS_MNEMONIC_SHRD, OP_SHD, 1 },
		{ ZYDIS_MNEMONIC_MUL, OP_MUL1, 0 }, { ZYDIS_MNEMONIC_DIV, OP_DIV, 0 },
		{ ZYDIS_MNEMONIC_IDIV, OP_DIV, 1 },
		{ ZYDIS_MNEMONIC_BT, OP_BT, BT_TEST }, { ZYDIS_MNEMONIC_BTS, OP_BT, BT_SET },
		{ ZYDIS_MNEMONIC_BTR, OP_BT, BT_RESET }, { ZYDIS_MNEMONIC_BTC, OP_BT, BT_COMPLEMENT },
		{ ZYDIS_MNEMONIC_BSF, OP_BITSCAN, BS_BSF }, { ZYDIS_MNEMONIC_BSR, OP_BITSCAN, BS_BSR },
		{ ZYDIS_MNEMONIC_TZCNT, OP_BITSCAN, BS_TZCNT },
		{ ZYDIS_MNEMONIC_LZCNT, OP_BITSCAN, BS_LZCNT },
		{ ZYDIS_MNEMONIC_POPCNT, OP_BITSCAN, BS_POPCNT },
		/* BMI1 and BMI2 (VEX-encoded general-purpose forms). */
		{ ZYDIS_MNEMONIC_ANDN, OP_BMI, BMI_ANDN }, { ZYDIS_MNEMONIC_BEXTR, OP_BMI, BMI_BEXTR },
		{ ZYDIS_MNEMONIC_BLSI, OP_BMI, BMI_BLSI }, { ZYDIS_MNEMONIC_BLSMSK, OP_BMI, BMI_BLSMSK },
		{ ZYDIS_MNEMONIC_BLSR, OP_BMI, BMI_BLSR }, { ZYDIS_MNEMONIC_BZHI, OP_BMI, BMI_BZHI },
		{ ZYDIS_MNEMONIC_MULX, OP_MULX, BMI_MULX }, { ZYDIS_MNEMONIC_PDEP, OP_BMI, BMI_PDEP },
		{ ZYDIS_MNEMONIC_PEXT, OP_BMI, BMI_PEXT }, { ZYDIS_MNEMONIC_RORX, OP_BMI, BMI_RORX },
		{ ZYDIS_MNEMONIC_SARX, OP_BMI, BMI_SARX }, { ZYDIS_MNEMONIC_SHLX, OP_BMI, BMI_SHLX },
		{ ZYDIS_MNEMONIC_SHRX, OP_BMI, BMI_SHRX },
		{ ZYDIS_MNEMONIC_MOVBE, OP_MOVBE, 0 }, { ZYDIS_MNEMONIC_ADCX, OP_ADX, 0 },
		{ ZYDIS_MNEMONIC_ADOX, OP_ADX, 1 },
		{ ZYDIS_MNEMONIC_BSWAP, OP_BSWAP, 0 },
		{ ZYDIS_MNEMONIC_CALL, OP_CALL, 0 }, { ZYDIS_MNEMONIC_RET, OP_RET, 0 },
		{ ZYDIS_MNEMONIC_JMP, OP_JMP, 0 },
		{ ZYDIS_MNEMONIC_LOOP, OP_LOOP, LOOP_ALWAYS }, { ZYDIS_MNEMONIC_LOOPE, OP_LOOP, LOOP_E },
		{ ZYDIS_MNEMONIC_LOOPNE, OP_LOOP, LOOP_NE }, { ZYDIS_MNEMONIC_JCXZ, OP_LOOP, LOOP_JCXZ },
		{ ZYDIS_MNEMONIC_JECXZ, OP_LOOP, LOOP_JCXZ }, { ZYDIS_MNEMONIC_JRCXZ, OP_LOOP, LOOP_JCXZ },
		{ ZYDIS_MNEMONIC_PUSH, OP_PUSH, 0 }, { ZYDIS_MNEMONIC_POP, OP_POP, 0 },
		{ ZYDIS_MNEMONIC_PUSHF, OP_PUSHF, 0 }, { ZYDIS_MNEMONIC_PUSHFD, OP_PUSHF, 0 },
		{ ZYDIS_MNEMONIC_PUSHFQ, OP_PUSHF, 0 }, { ZYDIS_MNEMONIC_POPF, OP_POPF, 0 },
		{ ZYDIS_MNEMONIC_POPFD, OP_POPF, 0 }, { ZYDIS_MNEMONIC_POPFQ, OP_POPF, 0 },
		{ ZYDIS_MNEMONIC_ENTER, OP_ENTER, 0 }, { ZYDIS_MNEMONIC_LEAVE, OP_LEAVE, 0 },
		{ ZYDIS_MNEMONIC_CBW, OP_CBW, 0 }, { ZYDIS_MNEMONIC_CWDE, OP_CBW, 0 },
		{ ZYDIS_MNEMONIC_CDQE, OP_CBW, 0 }, { ZYDIS_MNEMONIC_CWD, OP_CWD, 0 },
		{ ZYDIS_MNEMONIC_CDQ, OP_CWD, 0 }, { ZYDIS_MNEMONIC_CQO, OP_CWD, 0 },
		{ ZYDIS_MNEMONIC_CLC, OP_FLAGOP, FL_CLC }, { ZYDIS_MNEMONIC_STC, OP_FLAGOP, FL_STC },
		{ ZYDIS_MNEMONIC_CMC, OP_FLAGOP, FL_CMC }, { ZYDIS_MNEMONIC_CLD, OP_FLAGOP, FL_CLD },
		{ ZYDIS_MNEMONIC_STD, OP_FLAGOP, FL_STD },
		{ ZYDIS_MNEMONIC_LAHF, OP_LAHF, 0 }, { ZYDIS_MNEMONIC_SAHF, OP_SAHF, 0 },
		{ ZYDIS_MNEMONIC_NOP, OP_NOP, 0 }, { ZYDIS_MNEMONIC_PAUSE, OP_NOP, 0 },
		{ ZYDIS_MNEMONIC_ENDBR32, OP_NOP, 0 }, { ZYDIS_MNEMONIC_ENDBR64, OP_NOP, 0 },
		/* RDSSP is in the reserved-NOP space: a NOP while CET shadow
		 * stacks are off, always here (SDM Vol. 2 RDSSPD/RDSSPQ; CPUID
		 * reports no CET), so software that probes with it sees none. */
		{ ZYDIS_MNEMONIC_RDSSPD, OP_NOP, 0 }, { ZYDIS_MNEMONIC_RDSSPQ, OP_NOP, 0 },
		{ ZYDIS_MNEMONIC_HLT, OP_HLT, 0 }, { ZYDIS_MNEMONIC_XCHG, OP_XCHG, 0 },
		{ ZYDIS_MNEMONIC_IN, OP_IO, 0 }, { ZYDIS_MNEMONIC_OUT, OP_IO, 1 },
		{ ZYDIS_MNEMONIC_INVLPG, OP_INVLPG, 0 }, { ZYDIS_MNEMONIC_LGDT, OP_DTR, 0 },
		{ ZYDIS_MNEMONIC_LIDT, OP_DTR, 1 }, { ZYDIS_MNEMONIC_SGDT, OP_DTR, 2 },
		{ ZYDIS_MNEMONIC_SIDT, OP_DTR, 3 }, { ZYDIS_MNEMONIC_LTR, OP_LTR_LLDT, 0 },
		{ ZYDIS_MNEMONIC_LLDT, OP_LTR_LLDT, 1 }, { ZYDIS_MNEMONIC_CLI, OP_CLI_STI, 0 },
		{ ZYDIS_MNEMONIC_STI, OP_CLI_STI, 1 }, { ZYDIS_MNEMONIC_SWAPGS, OP_SWAPGS, 0 },
		{ ZYDIS_MNEMONIC_RDMSR, OP_MSR, 0 }, { ZYDIS_MNEMONIC_WRMSR, OP_MSR, 1 },
		{ ZYDIS_MNEMONIC_INT, OP_INT, 0 }, { ZYDIS_MNEMONIC_INT3, OP_INT, 0 },
		{ ZYDIS_MNEMONIC_INT1, OP_INT1, 0 },
		{ ZYDIS_MNEMONIC_IRET, OP_IRET, 0 }, { ZYDIS_MNEMONIC_IRETD, OP_IRET, 0 },
		{ ZYDIS_MNEMONIC_IRETQ, OP_IRET, 0 }, { ZYDIS_MNEMONIC_SYSCALL, OP_SYSCALL, 0 },
		{ ZYDIS_MNEMONIC_SYSRET, OP_SYSRET, 0 }, { ZYDIS_MNEMONIC_CPUID, OP_CPUID, 0 },
		{ ZYDIS_MNEMONIC_RDTSC, OP_RDTSC, 0 }, { ZYDIS_MNEMONIC_RDTSCP, OP_RDTSC, 1 },
		/* Ordering and cache hints: one in-order CPU with coherent
		 * caches needs none of them (no access, no fault). */
		{ ZYDIS_MNEMONIC_LFENCE, OP_NOP, 0 }, { ZYDIS_MNEMONIC_MFENCE, OP_NOP, 0 },
		{ ZYDIS_MNEMONIC_SFENCE, OP_NOP, 0 }, { ZYDIS_MNEMONIC_PREFETCH, OP_NOP, 0 },
		{ ZYDIS_MNEMONIC_PREFETCHNTA, OP_NOP, 0 }, { ZYDIS_MNEMONIC_PREFETCHT0, OP_NOP, 0 },
		{ ZYDIS_MNEMONIC_PREFETCHT1, OP_NOP, 0 }, { ZYDIS_MNEMONIC_PREFETCHT2, OP_NOP, 0 },
		{ ZYDIS_MNEMONIC_PREFETCHW, OP_NOP, 0 }, { ZYDIS_MNEMONIC_CLFLUSH, OP_NOP, 0 },
		{ ZYDIS_MNEMONIC_CLFLUSHOPT, OP_NOP, 0 },
		/* MOVNTI m32/m64, r: a store whose non-temporal hint a model
		 * without write-combining has no use for (SDM Vol. 2 MOVNTI). */
		{ ZYDIS_MNEMONIC_MOVNTI, OP_MOV, 0 },
		{ ZYDIS_MNEMONIC_WBINVD, OP_WBINVD, 0 }, { ZYDIS_MNEMONIC_INVD, OP_WBINVD, 0 },
		{ ZYDIS_MNEMONIC_CLTS, OP_CLTS, 0 }, { ZYDIS_MNEMONIC_STR, OP_STORE_SEL, 0 },
		{ ZYDIS_MNEMONIC_FNINIT, OP_X87_CONTROL, X87_INIT },
		{ ZYDIS_MNEMONIC_FNCLEX, OP_X87_CONTROL, X87_CLEX },
		{ ZYDIS_MNEMONIC_FNSTSW, OP_X87_CONTROL, X87_STSW },
		{ ZYDIS_MNEMONIC_FNSTCW, OP_X87_CONTROL, X87_STCW },
		{ ZYDIS_MNEMONIC_FLDCW, OP_X87_CONTROL, X87_LDCW },
		{ ZYDIS_MNEMONIC_FWAIT, OP_X87_CONTROL, X87_WAIT },
		{ ZYDIS_MNEMONIC_SLDT, OP_STORE_SEL, 1 }, { ZYDIS_MNEMONIC_INVPCID, OP_INVPCID, 0 },
		{ ZYDIS_MNEMONIC_INTO, OP_INTO, 0 }, { ZYDIS_MNEMONIC_DAA, OP_BCD, BCD_DAA },
		{ ZYDIS_MNEMONIC_DAS, OP_BCD, BCD_DAS }, { ZYDIS_MNEMONIC_AAA, OP_BCD, BCD_AAA },
		{ ZYDIS_MNEMONIC_AAS, OP_BCD, BCD_AAS }, { ZYDIS_MNEMONIC_AAM, OP_BCD, BCD_AAM },
		{ ZYDIS_MNEMONIC_AAD, OP_BCD, BCD_AAD }, { ZYDIS_MNEMONIC_PUSHA, OP_PUSHA, 0 },
		{ ZYDIS_MNEMONIC_PUSHAD, OP_PUSHA, 0 }, { ZYDIS_MNEMONIC_POPA, OP_POPA, 0 },
		{ ZYDIS_MNEMONIC_POPAD, OP_POPA, 0 }, { ZYDIS_MNEMONIC_LDS, OP_LOAD_FAR_PTR, SEG_DS },
		{ ZYDIS_MNEMONIC_LES, OP_LOAD_FAR_PTR, SEG_ES },
		{ ZYDIS_MNEMONIC_LFS, OP_LOAD_FAR_PTR, SEG_FS },
		{ ZYDIS_MNEMONIC_LGS, OP_LOAD_FAR_PTR, SEG_GS },
		{ ZYDIS_MNEMONIC_LSS, OP_LOAD_FAR_PTR, SEG_SS },
		{ ZYDIS_MNEMONIC_LAR, OP_LAR_LSL, 0 }, { ZYDIS_MNEMONIC_LSL, OP_LAR_LSL, 1 },
		{ ZYDIS_MNEMONIC_VERR, OP_VERR_VERW, 0 }, { ZYDIS_MNEMONIC_VERW, OP_VERR_VERW, 1 },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (map[i].m == m) {
			*op = map[i].op;
			*sub = map[i].sub;
			return true;
		}
	}
	return false;
}

/* Pick the internal opcode; OP_COUNT: not implemented. */
static enum insn_op choose_op(const ZydisDecodedInstruction *zi, unsigned *sub)
{
	ZydisMnemonic m = zi->mnemonic;
	enum insn_op op;
	*sub = 0;
	if (zi->meta.category == ZYDIS_CATEGORY_STRINGOP || zi->meta.category == ZYDIS_CATEGORY_IOSTRINGOP)
		return string_op(m);
	if (is_jcc(m)) {
		*sub = cond_of(zi);
		return OP_JCC;
	}
	if (is_range(m, ZYDIS_MNEMONIC_CMOVB, ZYDIS_MNEMONIC_CMOVZ)) {
		*sub = cond_of(zi);
		return OP_CMOV;
	}
	if (is_range(m, ZYDIS_MNEMONIC_SETB, ZYDIS_MNEMONIC_SETZ) && m != ZYDIS_MNEMONIC_SETSSBSY) {
		*sub = cond_of(zi);
		return OP_SETCC;
	}
	if (m == ZYDIS_MNEMONIC_IMUL)
		return zi->operand_count_visible == 1 ? OP_MUL1 : OP_IMUL;
	if (!simple_op(m, &op, sub))
		return OP_COUNT;
	if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
		switch (op) {
		case OP_JMP: return OP_JMP_FAR;
		case OP_CALL: return OP_CALL_FAR;
		case OP_RET: return OP_RET_FAR;
		default: return op;
		}
	}
	return op;
}

/* Register-destination ALU forms without a memory operand, by enum alu_op. */
static const enum insn_op alu_reg_op[] = {
	[ALU_OP_ADD] = OP_ADD_R, [ALU_OP_OR] = OP_OR_R, [ALU_OP_ADC] = OP_ADC_R,
	[ALU_OP_SBB] = OP_SBB_R, [ALU_OP_AND] = OP_AND_R, [ALU_OP_SUB] = OP_SUB_R,
	[ALU_OP_XOR] = OP_XOR_R, [ALU_OP_CMP] = OP_CMP_R, [ALU_OP_TEST] = OP_TEST_R,
};

/* Use a specialised handler for the form, if there is one (emu/exec.h). */
static void specialise(struct insn *d, insn_handler fn)
{
	if (fn)
		d->fn = fn;
}

/* Second pass over the chosen opcode: forms the handlers tell apart. */
static void refine(struct insn *d, const ZydisDecodedInstruction *zi)
{
	switch (d->op) {
	case OP_ALU:
		if (d->k0 == OPK_REG && d->k1 != OPK_MEM) {
			set_op(d, alu_reg_op[d->sub], d->sub);
			specialise(d, exec_alu_r_wide(d->sub, d->osz, d->k1 == OPK_IMM));
		}
		break;
	case OP_UNARY:
		if (d->k0 == OPK_REG && (d->sub == UN_INC || d->sub == UN_DEC)) {
			set_op(d, d->sub == UN_INC ? OP_INC_R : OP_DEC_R, d->sub);
			specialise(d, exec_incdec_r_wide(d->sub == UN_DEC, d->osz));
		}
		break;
	case OP_MOV:
		specialise(d, exec_mov_form(d));
		break;
	case OP_JCC:
		if (zi->machine_mode == ZYDIS_MACHINE_MODE_LONG_64 && d->osz == 8)
			specialise(d, exec_jcc_64(d->sub));
		break;
	case OP_MUL1:
		if (zi->mnemonic == ZYDIS_MNEMONIC_IMUL)
			d->flags |= INSN_SIGNED;
		break;
	case OP_DIV:
	case OP_MOVX:
		if (d->sub)
			d->flags |= INSN_SIGNED;
		break;
	case OP_JMP:
		if (d->k0 != OPK_IMM)
			set_op(d, OP_JMP_IND, 0);
		break;
	case OP_CALL:
		if (d->k0 != OPK_IMM)
			set_op(d, OP_CALL_IND, 0);
		break;
	case OP_XCHG:
		normalise_xchg(d);
		break;
	case OP_RET:
	case OP_RET_FAR:
		if (d->k0 != OPK_IMM)
			d->imm = 0;
		break;
	case OP_INT:
		if (zi->mnemonic == ZYDIS_MNEMONIC_INT3)
			d->imm = VEC_BP;
		d->imm &= 0xff;
		break;
	default:
		break;
	}
}


static void machine_of(enum cpu_mode mode, ZydisMachineMode *mm, ZydisStackWidth *sw)
{
	switch (mode) {
	case CPU_MODE_64:
		*mm = ZYDIS_MACHINE_MODE_LONG_64, *sw = ZYDIS_STACK_WIDTH_64;
		break;
	case CPU_MODE_COMPAT32:
		*mm = ZYDIS_MACHINE_MODE_LONG_COMPAT_32, *sw = ZYDIS_STACK_WIDTH_32;
		break;
	case CPU_MODE_COMPAT16:
		*mm = ZYDIS_MACHINE_MODE_LONG_COMPAT_16, *sw = ZYDIS_STACK_WIDTH_16;
		break;
	case CPU_MODE_PROT16:
	case CPU_MODE_REAL:
		*mm = ZYDIS_MACHINE_MODE_LEGACY_16, *sw = ZYDIS_STACK_WIDTH_16;
		break;
	default:
		*mm = ZYDIS_MACHINE_MODE_LEGACY_32, *sw = ZYDIS_STACK_WIDTH_32;
		break;
	}
}

/* Length, sizes, prefixes: what every decoded instruction carries. */
static void decode_common(struct insn *d, const ZydisDecodedInstruction *zi)
{
	memset(d, 0, sizeof *d);
	d->len = zi->length;
	d->mnemonic = (uint16_t)zi->mnemonic;
	d->r0 = d->r1 = d->r2 = d->base = d->index = REG_NONE;
	d->osz = (uint8_t)(zi->operand_width / 8);
	d->asz = (uint8_t)(zi->address_width / 8);
	if (d->osz == 0)
		d->osz = d->asz;
	d->w = (uint8_t)__builtin_ctz(d->osz);
	if (zi->attributes & ZYDIS_ATTRIB_HAS_LOCK)
		d->flags |= INSN_LOCK;
	if (zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE))
		d->flags |= INSN_REP;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_REPNE)
		d->flags |= INSN_REPNE;
}

/* Operands of the chosen opcode; false: a form mmulab does not handle. */
static bool decode_operands(struct insn *d, const ZydisDecodedInstruction *zi,
			    const ZydisDecodedOperand *ops, enum insn_op op)
{
	if (op == OP_MOV && zi->operand_count_visible == 2 &&
	    (is_cr_operand(&ops[0]) || is_cr_operand(&ops[1])))
		return decode_mov_cr(d, ops);
	if (op == OP_MOV && zi->operand_count_visible == 2 &&
	    (is_dr_operand(&ops[0]) || is_dr_operand(&ops[1])))
		return decode_mov_dr(d, ops);
	if (decode_sreg(d, zi, ops, op))
		return d->op != OP_UD;
	if (op_table[op].cls == CLS_STRING) {
		string_operands(d, zi, ops);
		return true;
	}
	bool vex = zi->encoding == ZYDIS_INSTRUCTION_ENCODING_VEX;
	if (vex && op != OP_BMI && op != OP_MULX)
		return false;
	for (unsigned i = 0; i < zi->operand_count_visible && i < 3; i++)
		if (!operand(d, i, &ops[i], vex))
			return false;
	if (zi->operand_count_visible >= 2 && ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
		d->ssz = (uint8_t)(ops[1].size / 8);
	refine(d, zi);
	return true;
}

static bool is_ud_mnemonic(ZydisMnemonic m)
{
	return m == ZYDIS_MNEMONIC_UD0 || m == ZYDIS_MNEMONIC_UD1 || m == ZYDIS_MNEMONIC_UD2;
}

enum decode_status decode_insn(enum cpu_mode mode, const uint8_t *buf, size_t n, struct insn *d)
{
	ZydisDecoder z;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisMachineMode mm;
	ZydisStackWidth sw;
	unsigned sub;
	machine_of(mode, &mm, &sw);
	ZyanStatus st = ZydisDecoderInit(&z, mm, sw);
	if (ZYAN_SUCCESS(st))
		st = ZydisDecoderDecodeFull(&z, buf, n, &zi, ops);
	if (st == ZYDIS_STATUS_NO_MORE_DATA && n < INSN_MAX_LEN)
		return DECODE_NEED_MORE;
	if (ZYAN_FAILED(st) || is_ud_mnemonic(zi.mnemonic)) {
		/* Architecturally #UD: not counted as unimplemented. */
		decode_as_ud(d, ZYDIS_MNEMONIC_INVALID, ZYAN_FAILED(st) ? 1 : zi.length);
		return DECODE_OK;
	}
	enum insn_op op = choose_op(&zi, &sub);
	decode_common(d, &zi);
	if (op == OP_COUNT) {
		decode_as_ud(d, zi.mnemonic, zi.length);
		return DECODE_OK;
	}
	set_op(d, op, sub);
	if (!decode_operands(d, &zi, ops, op))
		decode_as_ud(d, zi.mnemonic, zi.length);
	return DECODE_OK;
}

unsigned decode_mnemonic_count(void)
{
	return ZYDIS_MNEMONIC_MAX_VALUE + 1;
}

const char *decode_mnemonic_name(unsigned mnemonic)
{
	const char *s = ZydisMnemonicGetString((ZydisMnemonic)mnemonic);
	return s ? s : "invalid";
}
