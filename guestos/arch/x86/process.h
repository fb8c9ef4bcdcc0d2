/* SYSCALL entry setup and the per-CPU area the entry reaches through GS. */
#ifndef GUESTOS_ARCH_X86_PROCESS_H
#define GUESTOS_ARCH_X86_PROCESS_H

#include "guestos/kernel/sched.h"

/* What entry_SYSCALL_64 finds at %gs:0 after SWAPGS (offsets fixed: the
 * assembly uses them). */
struct cpu_entry_area {
	unsigned long user_rsp;     /* %gs:0, the user RSP while the entry saves it */
	unsigned long top_of_stack; /* %gs:8, the running task's kernel stack top */
};
#define CPU_ENTRY_USER_RSP 0
#define CPU_ENTRY_TOP_OF_STACK 8

/* Program STAR, LSTAR, SFMASK, EFER.SCE and the GS bases. */
void syscall_init(void);
/* Whether the syscall return may use SYSRET (otherwise IRETQ). */
bool syscall_can_sysret(const struct pt_regs *regs);
/* kernel/sys.c: run system call regs->orig (saved in the error_code slot)
 * and store the result in regs->ax; returns syscall_can_sysret(regs). */
bool do_syscall_64(struct pt_regs *regs);

#endif
