/* The x86-64 CPU model: state, the run loop and its stop reasons.
 *
 * One struct cpu is one processor with its MMU (struct mmu, which holds
 * CR0/CR3/CR4/EFER, the segment registers and descriptor tables) and its
 * guest RAM. Instructions are decoded once with Zydis into struct insn
 * (emu/insn.h) and cached by guest-physical address (emu/icache.h); the run
 * loop executes cached instructions through their handler pointers.
 *
 * Faults are values: a handler that faults returns EXEC_FAULT with
 * c->fault filled and has changed no architectural state (registers, RIP,
 * RFLAGS, memory). The loop then stops with CPU_STOP_EXCEPTION; IDT
 * delivery is not modelled yet (docs/cpu.md).
 */
#ifndef EMU_CPU_H
#define EMU_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/alu.h"
#include "emu/insn.h"
#include "mmu/mmu.h"

/* General-purpose registers in the SDM's encoding order (Vol. 2 §2.1.3,
 * Table 2-2, with REX.B/R/X extending to R8–R15). */
enum cpu_gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	CPU_NGPRS
};

/* Execution mode, derived from CR0.PE, IA32_EFER.LMA, CS.L and CS.D
 * (SDM Vol. 3A §2.2, §5.2.1). */
enum cpu_mode {
	CPU_MODE_REAL = 0,   /* not supported: the loop stops with a message */
	CPU_MODE_PROT16,     /* protected mode, CS.D = 0 */
	CPU_MODE_PROT32,     /* protected mode, CS.D = 1 */
	CPU_MODE_COMPAT16,   /* IA-32e compatibility mode, CS.D = 0 */
	CPU_MODE_COMPAT32,   /* IA-32e compatibility mode, CS.D = 1 */
	CPU_MODE_64,         /* IA-32e 64-bit mode (CS.L = 1) */
};

/* Why cpu_run/cpu_step returned. */
enum cpu_stop {
	CPU_STOP_LIMIT = 0,     /* max_insns executed */
	CPU_STOP_HLT,           /* HLT executed; RIP is after the HLT */
	CPU_STOP_EXCEPTION,     /* c->exc holds vector, error code, RIP */
	CPU_STOP_UNSUPPORTED,   /* a state mmulab does not model (c->stop_msg) */
	CPU_STOP_TRIPLE_FAULT,  /* shutdown; c->stop_msg has the diagnostic */
	CPU_STOP_YIELD,         /* an I/O instruction talked to the devices (emu/machine.h) */
};

/* An exception the loop stopped on. rip is the faulting instruction (the
 * SDM's "fault" class: RIP not advanced; Vol. 3A §6.5). */
struct cpu_exception {
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;           /* #PF only */
	uint64_t rip;
};

/* Model-specific registers the CPU keeps (SDM Vol. 4 Table 2-2). EFER and
 * FS/GS bases live in struct mmu. */
struct cpu_msrs {
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux, pat, apic_base;
};

struct icache;
struct code_page;
struct devices;

struct cpu {
	uint64_t gpr[CPU_NGPRS];
	uint64_t rip;
	/* RFLAGS and the pending lazy-flags operation (emu/flags.h). No two
	 * of lf_a, lf_b and lf_res are adjacent: the compiler would pair
	 * adjacent stores into one vector store, which takes more host
	 * instructions than the two scalar stores of every ALU handler. */
	uint64_t lf_a;
	uint64_t rflags;        /* status bits exact only when lf_op == 0 */
	uint64_t lf_b;
	uint8_t lf_op, lf_w;
	uint64_t lf_res;
	uint64_t cr2, cr8;
	uint64_t dr[8];         /* debug registers (SDM Vol. 3B §17.2): instruction,
				 * data and I/O breakpoints (bp_exec, bp_data, bp_io) */
#define DR6_BD BIT64(13)        /* DR6: MOV DRn while DR7.GD = 1 (general detect) */
#define DR6_BS BIT64(14)        /* DR6: single-step trap (SDM Vol. 3B §17.2.3) */
#define DR6_BT BIT64(15)        /* DR6: task-switch trap (the new TSS's T flag) */
#define DR6_B(n) BIT64(n)       /* DR6: breakpoint n (0..3) was hit */
#define DR7_LOCAL_ENABLES UINT64_C(0x55) /* L0..L3, cleared by a task switch (§17.2.4) */
#define DR7_GD BIT64(13)        /* DR7: general detect: MOV DRn raises #DB first */
#define DR6_RESET UINT64_C(0xffff0ff0) /* SDM Vol. 3A "Processor State After Reset" */
#define DR7_RESET UINT64_C(0x400)
	struct cpu_msrs msr;
	/* The x87 FPU's control, status and tag words (SDM Vol. 1 §8.1.5,
	 * §8.1.3, §8.1.7): what FNINIT, FNSTCW, FLDCW, FNSTSW and FNCLEX
	 * touch. No other x87 state is modelled. */
	uint16_t fpu_cw, fpu_sw, fpu_tw;
#define FPU_CW_RESET 0x0040u /* after RESET (SDM Vol. 3A Table 10-1); FSW is 0 */
#define FPU_TW_RESET 0x5555u

	/* The one cycle counter and the retired-instruction counter. Every
	 * instruction adds its class's base cost and the MMU cycles of its
	 * accesses (docs/cpu.md). */
	uint64_t cycles;
	uint64_t insns;

	struct mmu mmu;

	/* Derived state, refreshed by cpu_refresh_mode() after anything that
	 * changes CR0, EFER or CS. */
	enum cpu_mode mode;
	unsigned cpl;
	uint64_t ip_mask;       /* RIP wrap: 2^64, 2^32 or 2^16 */
	uint64_t sp_mask;       /* stack-pointer width from SS.B (or 64-bit) */
	unsigned sp_size;       /* bytes of a stack slot by default (2, 4, 8) */

	/* Per-instruction scratch, valid while a handler runs. */
	uint64_t next_rip;
	struct mmu_fault fault;

	/* Fetch cache: the linear page the loop last entered, its physical
	 * frame's decoded code, and whether the whole page is inside CS. */
	uint64_t fetch_page;    /* linear address >> 12, or FETCH_NONE */
	struct code_page *fetch_cp;
	uint64_t fetch_base;    /* CS base outside 64-bit mode, else 0 */
	uint64_t la_mask;       /* linear-address wrap: 2^64 or 2^32 */
	bool fetch_whole_pages; /* every offset in a page is inside CS */
	/* fetch_whole_pages, and CS base page-aligned, so RIP wraps only at
	 * page boundaries: chained instructions may follow each other
	 * (emu/icache.h, "Chaining"). */
	bool fetch_chains;
	struct insn scratch;    /* an instruction that is not cached */

	struct icache *icache;
	uint64_t decode_count;  /* Zydis decodes done (statistics) */
	uint64_t *unimpl;       /* #UD count per Zydis mnemonic not implemented */

	/* false: an exception stops the loop (CPU_STOP_EXCEPTION) for the
	 * caller to inspect; true: it is delivered through the IDT (64-bit
	 * mode), and only a triple fault stops the loop. */
	bool deliver_exceptions;
	/* Interrupt shadow (SDM Vol. 2 STI, MOV SS): counts down as
	 * instructions retire; interrupts are held off while it is non-zero. */
	uint8_t intr_shadow;
	/* The instruction just run loaded SS (MOV SS, POP SS), which also
	 * holds a single-step trap off until the next instruction has run
	 * (SDM Vol. 3A §6.8.3). Set by the SS load, read and cleared by the
	 * traced step (emu/cpu.c run_traced). */
	bool ss_loaded;
	/* A repeated string instruction stopped between iterations with
	 * more to do (RIP still on it): an interrupt or single-step trap
	 * taken there pushes RF = 1 (SDM Vol. 3B §17.3.1.1). Cleared when
	 * the instruction runs again or the event is delivered. */
	bool rep_partial;
	/* DR6 bits of a debug trap due before the next instruction (a task
	 * switch into a TSS with T = 1); 0: none. The run loop delivers it
	 * before fetching, merged with a single-step trap when both are due. */
	uint64_t db_pending;
	/* Bit n: DR7 enables breakpoint n (L or G) as an instruction
	 * breakpoint (R/W = 00), a data breakpoint (R/W = 01 writes, 11
	 * reads and writes: bp_data) or an I/O breakpoint (R/W = 10:
	 * bp_io, matched only while CR4.DE = 1); kept by cpu_debug_update.
	 * bp_read holds the data breakpoints reads match too (R/W = 11).
	 * bp_watch is their union: while it is non-zero every instruction
	 * runs outside the fast loop (run_traced), an instruction
	 * breakpoint checked before it, data and I/O matches after it. */
	uint8_t bp_exec, bp_data, bp_read, bp_io, bp_watch;
	/* 64-bit mode with no data breakpoint armed: the memory path's
	 * inline shortcut applies (emu/mem.h mem_flat); otherwise every
	 * data access goes through mem_xlate_slow, which matches them. */
	bool mem_flat64;
	/* DR6 bits of the data and I/O breakpoints the current instruction
	 * matched (a trap once it completes), and of those a MOV SS or POP
	 * SS matched, held until after the next instruction (§6.8.3). */
	uint64_t db_hits, db_held;

	/* The machine's devices (emu/machine.c); NULL: ports read all-ones
	 * and ignore writes, all physical memory is RAM. Physical accesses at
	 * or above mmio_floor take the device path (emu/io.h), which also
	 * serves addresses past the end of RAM: the floor is page-aligned and
	 * never above the RAM size, so the memory path (emu/mem.h) copies
	 * accesses below it straight from RAM. */
	struct devices *dev;
	uint64_t mmio_floor;
	bool irq_waiting;           /* the machine has an interrupt pending (emu/io.h) */

	struct cpu_exception exc;   /* the last exception raised */
	const char *stop_msg;       /* valid after CPU_STOP_UNSUPPORTED/TRIPLE_FAULT */
	char diag[160];             /* storage for stop_msg */
};

#define FETCH_NONE UINT64_MAX

/* Create a CPU with ram_size bytes of guest RAM and the given MMU model.
 * State after init: protected mode off (as at RESET); tests and loaders set
 * the mode with cpu_setup_flat64 or by writing the state and calling
 * cpu_refresh_mode. False with a reason in err on failure. */
MMU_WUR bool cpu_init(struct cpu *c, const struct mmu_model *model, uint64_t ram_size, char *err,
		      size_t errlen);
void cpu_free(struct cpu *c);

/* Load flat 64-bit code/data segments at CPL cpl (CS.L = 1, DPL = cpl; SS
 * and the data segments base 0), as a loader that entered long mode would.
 * Paging must already be on (mmu_set_control). */
void cpu_setup_flat64(struct cpu *c, unsigned cpl);
/* Load flat 32-bit protected-mode segments (base 0, limit 4 GiB). */
void cpu_setup_flat32(struct cpu *c, unsigned cpl);

/* Recompute the derived state after CR0/EFER/CS/SS changes; drops the
 * fetch cache. */
void cpu_refresh_mode(struct cpu *c);
/* Recompute the breakpoint masks after a write to DR0..DR3 or DR7. */
void cpu_debug_update(struct cpu *c);
/* Record in db_hits the data breakpoints a translated data access (a
 * read or a write) of size bytes at linear address la matches (SDM Vol.
 * 3B §17.2.5): R/W = 01 for writes, 11 for reads and writes, over DRn's LENn bytes (1, 2, 8
 * or 4 for LEN = 00, 01, 10, 11; DRn's low bits below the length
 * ignored). Called while bp_data is non-zero. */
void cpu_data_breakpoints(struct cpu *c, uint64_t la, unsigned size, enum mmu_access_kind kind);
/* The same for an access to size ports from port (R/W = 10, CR4.DE = 1). */
void cpu_io_breakpoints(struct cpu *c, uint16_t port, unsigned size);
/* Forget the fetch cache: call after any change to paging control state,
 * TLB invalidation or CS made from outside the CPU. */
static inline void cpu_invalidate_fetch(struct cpu *c)
{
	c->fetch_page = FETCH_NONE;
	c->fetch_cp = NULL;
}

/* Run up to max_insns instructions; returns why it stopped. */
enum cpu_stop cpu_run(struct cpu *c, uint64_t max_insns);
static inline enum cpu_stop cpu_step(struct cpu *c)
{
	return cpu_run(c, 1);
}

/* Whether an external maskable interrupt may be taken now, between
 * instructions: RFLAGS.IF = 1 and no STI / MOV SS shadow (SDM Vol. 3A
 * §6.8.3). */
static inline bool cpu_interrupts_enabled(const struct cpu *c)
{
	return (c->rflags & RFLAGS_IF) && c->intr_shadow == 0;
}

/* Deliver an external interrupt (a device's vector) through the IDT at
 * the current instruction boundary; the caller has checked
 * cpu_interrupts_enabled (NMIs and exceptions do not). A fault during
 * delivery is handled like any exception (it may become #DF). False on a
 * triple fault (c->stop_msg says why). */
bool cpu_interrupt(struct cpu *c, uint8_t vector);

const char *cpu_mode_name(enum cpu_mode m);
const char *cpu_stop_name(enum cpu_stop s);

/* Instructions that raised #UD because mmulab does not implement them:
 * distinct mnemonics (Zydis names) with counts, printed as lines
 * "unimplemented <mnemonic> <count>". */
void cpu_print_unimplemented(const struct cpu *c, void *file /* FILE * */);
/* How many times mnemonic (a Zydis name) raised #UD as unimplemented. */
uint64_t cpu_unimplemented_count(const struct cpu *c, const char *mnemonic);

#endif
