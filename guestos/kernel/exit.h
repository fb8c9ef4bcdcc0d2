/* Ending processes and waiting for them (Linux kernel/exit.c,
 * kernel/signal.c's force_sig_fault, much reduced: the only "signal" is
 * the one a process dies of). */
#ifndef GUESTOS_KERNEL_EXIT_H
#define GUESTOS_KERNEL_EXIT_H

#include "guestos/arch/x86/traps.h"
#include "guestos/kernel/sched.h"

/* End the current task with the wait4 status word `status`: drop its mm,
 * hand its children to init, become a zombie, wake the parent, schedule.
 * When init (pid 1) exits, the machine stops (init_exited). */
void __noreturn do_exit(int status);
/* wait4: reap a zombie child (pid > 0: that one; -1: any), storing its
 * status word at stat_addr (a user pointer, may be NULL). Returns its pid,
 * 0 with WNOHANG and no zombie, -ECHILD without such a child, -EFAULT. */
long do_wait4(int pid, int *stat_addr, int options);
/* Kill the current process for a CPU exception raised in user mode:
 * "[pid N] comm: WHAT at ip ADDRESS", then do_exit with the signal. */
void __noreturn force_sig_fault(const struct pt_regs *regs, const char *what);

#endif
