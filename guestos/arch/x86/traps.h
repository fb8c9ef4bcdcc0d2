/* CPU exceptions: vector numbers, the saved register frame, the handler. */
#ifndef GUESTOS_ARCH_X86_TRAPS_H
#define GUESTOS_ARCH_X86_TRAPS_H

#include "guestos/lib/types.h"

/* SDM Vol. 3A §6.15, table 6-1. */
enum x86_trap {
	X86_TRAP_DE = 0,  /* divide error */
	X86_TRAP_DB = 1,  /* debug */
	X86_TRAP_NMI = 2, /* non-maskable interrupt */
	X86_TRAP_BP = 3,  /* breakpoint */
	X86_TRAP_OF = 4,  /* overflow */
	X86_TRAP_BR = 5,  /* bound range exceeded */
	X86_TRAP_UD = 6,  /* invalid opcode */
	X86_TRAP_NM = 7,  /* device not available */
	X86_TRAP_DF = 8,  /* double fault */
	X86_TRAP_OLD_MF = 9, /* coprocessor segment overrun */
	X86_TRAP_TS = 10, /* invalid TSS */
	X86_TRAP_NP = 11, /* segment not present */
	X86_TRAP_SS = 12, /* stack-segment fault */
	X86_TRAP_GP = 13, /* general protection */
	X86_TRAP_PF = 14, /* page fault */
	X86_TRAP_SPURIOUS = 15,
	X86_TRAP_MF = 16, /* x87 floating-point error */
	X86_TRAP_AC = 17, /* alignment check */
	X86_TRAP_MC = 18, /* machine check */
	X86_TRAP_XF = 19, /* SIMD floating-point */
	X86_TRAP_VE = 20, /* virtualization */
	X86_TRAP_CP = 21, /* control protection */
	X86_TRAP_HV = 28, /* hypervisor injection */
	X86_TRAP_VC = 29, /* VMM communication */
	X86_TRAP_SX = 30, /* security */
};
#define NR_EXCEPTION_VECTORS 32
#define NR_ENTRY_VECTORS 48 /* exceptions and legacy IRQs, as entry.S builds them */

/* The frame entry.S builds: general registers (pushed by the stub), the
 * vector and error code (0 when the CPU pushes none), then what the CPU
 * pushed (SDM Vol. 3A §6.14.2, figure 6-9). */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di;
	unsigned long vector, error_code;
	unsigned long ip, cs, flags, sp, ss;
};

/* Called by entry.S for every exception and IRQ. Returns only if it was
 * handled (an IRQ); an exception dumps the registers and stops the
 * machine. */
void do_exception(struct pt_regs *regs);
/* Print the register dump (used for unexpected exceptions). */
void show_regs(const struct pt_regs *regs);

#endif
