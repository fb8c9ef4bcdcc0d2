/* The console: printk to the serial port, panic, and leaving the machine.
 *
 * Messages start with an optional level, as Linux's KERN_* prefixes; a
 * message is printed when its level is below console_loglevel (set by
 * `loglevel=N` on the command line; default 7, so everything but debug).
 * Lines whose text may differ between two runs of the same image (times,
 * cycle counts) start with "[t] " so that outputs can be compared after
 * removing them. */
#ifndef GUESTOS_KERNEL_PRINTK_H
#define GUESTOS_KERNEL_PRINTK_H

#include "guestos/lib/types.h"

#define KERN_SOH "\001"
#define KERN_EMERG KERN_SOH "0"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"
#define MESSAGE_LOGLEVEL_DEFAULT 4
#define CONSOLE_LOGLEVEL_DEFAULT 7

#define TIMING_PREFIX "[t] "

void console_init(void);
void console_set_loglevel(int level);
/* Write n bytes to the console as they are (user write(2) on fd 1 and 2). */
void console_write(const char *buf, size_t n);
/* Read up to n bytes the UART has already received, without waiting;
 * 0 when none (user read(2) on fd 0 then sees end of file). */
size_t console_read(char *buf, size_t n);
int printk(const char *fmt, ...) __printf(1, 2);
#define pr_err(...) printk(KERN_ERR __VA_ARGS__)
#define pr_warn(...) printk(KERN_WARNING __VA_ARGS__)
#define pr_info(...) printk(KERN_INFO __VA_ARGS__)
#define pr_debug(...) printk(KERN_DEBUG __VA_ARGS__)

/* Stop the machine through isa-debug-exit with EXIT_CODE_* (see
 * arch/x86/processor-flags.h): the host sees status (code << 1) | 1. */
void __noreturn machine_exit(u32 code);
/* Print "Kernel panic - not syncing: <reason>" and exit with EXIT_CODE_PANIC. */
void __noreturn panic(const char *fmt, ...) __printf(1, 2);

#define BUG_ON(cond)                                                                  \
	do {                                                                          \
		if (cond)                                                             \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);         \
	} while (0)

#endif
