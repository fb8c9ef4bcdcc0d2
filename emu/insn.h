/* The decoded-instruction form: what Zydis found, resolved once.
 *
 * A struct insn is built by decode_insn (emu/decode.c) and cached by
 * guest-physical address (emu/icache.h). It holds the handler to call and
 * every operand already resolved to register numbers, an immediate, and a
 * memory operand as base/index/scale/displacement/segment, so a handler
 * never looks at instruction bytes or Zydis structures.
 *
 * The internal opcodes and their handlers come from one list
 * (emu/insn_list.h): the enum below and the handler table in decode.c are
 * both generated from it.
 */
#ifndef EMU_INSN_H
#define EMU_INSN_H

#include <stdint.h>

struct cpu;
struct insn;

/* Result of one instruction handler (contract in emu/exec.h). */
enum exec_result {
	EXEC_OK = 0,      /* commit: RIP = next_rip */
	EXEC_FAULT,       /* c->fault holds the exception; nothing changed */
	EXEC_HLT,         /* HLT: commit RIP, then stop */
	EXEC_YIELD,       /* commit RIP, then return to the machine (device I/O done) */
	/* A task switch passed its commit point, then c->fault was raised in
	 * the new task (emu/task.h): RIP = next_rip (the new task's EIP), the
	 * instruction retired, then the fault is delivered. */
	EXEC_FAULT_NEW_TASK,
};

typedef enum exec_result (*insn_handler)(struct cpu *c, const struct insn *d);

/* Base cost classes (cycles charged per instruction, docs/cpu.md). */
enum insn_class {
	CLS_SIMPLE,   /* register moves, ALU, flags, NOP, LEA */
	CLS_BRANCH,   /* jumps, calls, returns, loops */
	CLS_STACK,    /* PUSH/POP/ENTER/LEAVE and flag pushes */
	CLS_MUL,      /* MUL/IMUL */
	CLS_DIV,      /* DIV/IDIV */
	CLS_BITSCAN,  /* BSF/BSR/TZCNT/LZCNT/POPCNT, BT* */
	CLS_LOCKED,   /* XCHG with memory, CMPXCHG, XADD */
	CLS_STRING,   /* string instructions: per iteration */
	CLS_SYSTEM,   /* HLT, UD2 and other system instructions */
	CLS_NCLASSES
};

/* Internal opcodes: X(name, handler, class). */
#define X(name, handler, cls) OP_##name,
enum insn_op {
#include "emu/insn_list.h"
	OP_COUNT
};
#undef X

/* Register operand numbers: 0..15 are the GPRs (enum cpu_gpr); the legacy
 * high-byte registers AH, CH, DH, BH are REG_AH + 0..3 and name bits 15:8
 * of RAX, RCX, RDX, RBX (SDM Vol. 1 §3.4.1.1). */
#define REG_AH 16u
#define REG_RIP 0xfeu   /* memory base: RIP-relative (Vol. 2 §2.2.1.6) */
#define REG_NONE 0xffu

/* Operand kinds. */
enum opk { OPK_NONE = 0, OPK_REG, OPK_MEM, OPK_IMM };

/* struct insn flags. */
#define INSN_LOCK 0x01u   /* LOCK prefix (accepted where legal: Zydis rejects the rest) */
#define INSN_REP 0x02u    /* REP / REPE */
#define INSN_REPNE 0x04u  /* REPNE */
#define INSN_SIGNED 0x08u /* MOVSX/IMUL/IDIV/SAR flavour of a handler */
/* On EXEC_OK the instruction has changed nothing the fetch depends on
 * (CS, mode, paging state, the fetch page, the interrupt shadow) and has
 * not yielded: the run loop may look its successor up in the same page
 * without leaving (near branches, strings, INSN_PLAIN). From the opcode. */
#define INSN_LOCAL 0x40u
/* INSN_LOCAL, and on EXEC_OK it always continues at the next instruction
 * (it never writes next_rip). From the opcode. */
#define INSN_PLAIN 0x10u
/* Set by the decoded-instruction cache on a cached INSN_PLAIN instruction
 * whose successor in the page's instruction array is the instruction that
 * starts where it ends, in the same frame: the run loop may go from one to
 * the next without looking RIP up (emu/cpu.c, emu/icache.h). Cleared on
 * every instruction of a page when its decoded code is invalidated. */
#define INSN_CHAIN 0x20u
/* The memory operand has the 64-bit address size: its effective address
 * needs no masking (emu/exec.h insn_ea). */
#define INSN_EA64 0x80u

struct insn {
	insn_handler fn;
	uint64_t imm;       /* immediate (sign-extended to 64 bits where the SDM says so);
			     * relative branches: the displacement */
	int64_t disp;       /* memory displacement (64-bit for moffs forms) */
	uint8_t len;        /* instruction length in bytes */
	uint8_t op;         /* enum insn_op */
	uint8_t osz;        /* operand size in bytes: 1, 2, 4, 8 */
	uint8_t w;          /* log2(osz): the ALU width (emu/alu.h) */
	uint8_t asz;        /* address size in bytes: 2, 4, 8 */
	uint8_t k0, k1, k2; /* enum opk of operands 0, 1, 2 */
	uint8_t r0, r1;     /* register numbers of register operands 0 and 1 */
	uint8_t r2;         /* a VEX form's third register operand (BMI), else REG_NONE */
	uint8_t base, index, scale; /* memory operand; scale as a shift 0..3 */
	uint8_t seg;        /* enum seg_reg of the memory operand */
	uint8_t flags;      /* INSN_* */
	uint8_t sub;        /* handler sub-operation (ALU op, condition code, ...) */
	uint8_t ssz;        /* source operand size (MOVZX/MOVSX, shift count) */
	uint8_t cost;       /* base cycles of the instruction's class */
	uint16_t mnemonic;  /* ZydisMnemonic, for #UD notices and tests */
};
/* Small enough that a page's decoded code stays compact (docs/cpu.md). */
_Static_assert(sizeof(struct insn) <= 48, "struct insn grew");

#endif
