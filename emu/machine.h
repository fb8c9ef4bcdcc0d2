/* The machine: one CPU, its devices and a Multiboot kernel, run under a
 * modelled clock (docs/machine.md).
 *
 * Time is the CPU's cycle counter and nothing else: the devices advance
 * to it, the host clock is never read, so the same inputs give the same
 * instruction count, cycle count and output on every host.
 *
 * A struct machine must not move after machine_init (the devices and the
 * CPU point into it). Several machines may live in one process.
 */
#ifndef EMU_MACHINE_H
#define EMU_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/cpu.h"
#include "emu/devices.h"
#include "emu/disasm.h"
#include "emu/multiboot.h"

#define MACHINE_DEFAULT_RAM (UINT64_C(128) << 20)

struct machine_config {
	uint64_t ram_size;               /* bytes; 0 = MACHINE_DEFAULT_RAM */
	const struct mmu_model *model;   /* NULL = the default model */
	const char *kernel;              /* Multiboot image (required) */
	const char *initrd;              /* modules, QEMU's -initrd syntax; NULL = none */
	const char *append;              /* kernel command line; NULL = "" */
	uart_sink_fn serial_sink;        /* COM1 output; NULL = discarded */
	void *serial_ctx;
	FILE *warn;                      /* one-line notes (unimplemented features); NULL = silent */
	uint64_t max_insns;              /* stop after this many instructions; 0 = no bound */
	FILE *insn_log;                  /* `-d insn`: one line per instruction; NULL = off */
};

/* Why machine_run returned. */
enum machine_stop {
	MACHINE_EXIT = 0,        /* the guest wrote the debug-exit port */
	MACHINE_LIMIT,           /* max_insns instructions executed */
	MACHINE_HALTED,          /* HLT that nothing can ever wake */
	MACHINE_TRIPLE_FAULT,    /* shutdown */
	MACHINE_UNSUPPORTED,     /* a state mmulab does not model (real mode ...) */
};

/* Process exit statuses of `mmulab run` for the stops other than
 * MACHINE_EXIT, whose status is the guest's (v << 1) | 1, always odd. */
#define MACHINE_STATUS_LIMIT 0
#define MACHINE_STATUS_HALTED 4
#define MACHINE_STATUS_TRIPLE_FAULT 6
#define MACHINE_STATUS_UNSUPPORTED 8

struct machine {
	struct cpu cpu;
	struct devices dev;
	struct machine_config cfg;
	struct multiboot_boot_state boot;
	struct disasm dis;               /* open only with cfg.insn_log */
	enum machine_stop stop;
	uint64_t exit_value;             /* MACHINE_EXIT: (v << 1) | 1 */
	char msg[300];                   /* one-line diagnostic for the other stops */
};

/* Build the machine and load the kernel: RAM, devices as a PC BIOS leaves
 * them, the kernel with its modules and command line, and the CPU in the
 * Multiboot entry state. False with one line "mmulab: ..." in err. */
MMU_WUR bool machine_init(struct machine *m, const struct machine_config *cfg, char *err,
			  size_t errlen);
void machine_free(struct machine *m);

/* Run until the guest exits, halts for good, triple-faults or reaches
 * max_insns. m->msg holds the diagnostic of a stop other than an exit or
 * the limit. */
enum machine_stop machine_run(struct machine *m);

/* The process exit status for the stop (docs/machine.md). */
int machine_exit_status(const struct machine *m);

/* `-stats`: instructions, cycles, CPI, host MIPS over host_seconds, the
 * MMU statistics and the instructions that raised #UD as not implemented. */
void machine_print_stats(const struct machine *m, double host_seconds, FILE *out);

#endif
