/* Exception handling. IRQs go to do_IRQ (and may end the time slice of
 * the interrupted user task); page faults to do_page_fault. Any other
 * exception from user mode kills the process; from the kernel it is a
 * bug, reported with the full register state, and the machine stops with
 * EXIT_CODE_EXCEPTION. */
#include "guestos/arch/x86/traps.h"

#include "guestos/arch/x86/i8259.h"
#include "guestos/arch/x86/io.h"
#include "guestos/arch/x86/processor-flags.h"
#include "guestos/kernel/exit.h"
#include "guestos/kernel/printk.h"
#include "guestos/kernel/sched.h"
#include "guestos/mm/mmap.h"

static const char *const exception_names[NR_EXCEPTION_VECTORS] = {
	[X86_TRAP_DE] = "divide error",
	[X86_TRAP_DB] = "debug",
	[X86_TRAP_NMI] = "NMI",
	[X86_TRAP_BP] = "breakpoint",
	[X86_TRAP_OF] = "overflow",
	[X86_TRAP_BR] = "bound range exceeded",
	[X86_TRAP_UD] = "invalid opcode",
	[X86_TRAP_NM] = "device not available",
	[X86_TRAP_DF] = "double fault",
	[X86_TRAP_OLD_MF] = "coprocessor segment overrun",
	[X86_TRAP_TS] = "invalid TSS",
	[X86_TRAP_NP] = "segment not present",
	[X86_TRAP_SS] = "stack segment fault",
	[X86_TRAP_GP] = "general protection fault",
	[X86_TRAP_PF] = "page fault",
	[X86_TRAP_SPURIOUS] = "reserved (15)",
	[X86_TRAP_MF] = "x87 floating-point error",
	[X86_TRAP_AC] = "alignment check",
	[X86_TRAP_MC] = "machine check",
	[X86_TRAP_XF] = "SIMD floating-point exception",
	[X86_TRAP_VE] = "virtualization exception",
	[X86_TRAP_CP] = "control protection",
	[X86_TRAP_HV] = "hypervisor injection",
	[X86_TRAP_VC] = "VMM communication",
	[X86_TRAP_SX] = "security exception",
};

static const char *exception_name(unsigned long vector)
{
	if (vector < NR_EXCEPTION_VECTORS && exception_names[vector])
		return exception_names[vector];
	return "reserved";
}

void show_regs(const struct pt_regs *regs)
{
	printk(KERN_EMERG "RIP: %04lx:%016lx RFLAGS: %08lx\n", regs->cs, regs->ip, regs->flags);
	printk(KERN_EMERG "RSP: %04lx:%016lx CR2: %016lx CR3: %016lx\n", regs->ss, regs->sp,
	       read_cr2(), read_cr3());
	printk(KERN_EMERG "RAX: %016lx RBX: %016lx RCX: %016lx\n", regs->ax, regs->bx, regs->cx);
	printk(KERN_EMERG "RDX: %016lx RSI: %016lx RDI: %016lx\n", regs->dx, regs->si, regs->di);
	printk(KERN_EMERG "RBP: %016lx R08: %016lx R09: %016lx\n", regs->bp, regs->r8, regs->r9);
	printk(KERN_EMERG "R10: %016lx R11: %016lx R12: %016lx\n", regs->r10, regs->r11, regs->r12);
	printk(KERN_EMERG "R13: %016lx R14: %016lx R15: %016lx\n", regs->r13, regs->r14, regs->r15);
}

static bool user_mode(const struct pt_regs *regs)
{
	return (regs->cs & SEGMENT_RPL_MASK) == USER_RPL;
}

static void __noreturn die(struct pt_regs *regs)
{
	console_set_loglevel(CONSOLE_LOGLEVEL_DEFAULT + 1);
	printk(KERN_EMERG "unexpected exception %lu (%s), error code 0x%lx\n", regs->vector,
	       exception_name(regs->vector), regs->error_code);
	show_regs(regs);
	machine_exit(EXIT_CODE_EXCEPTION);
}

/* An IRQ; on the way back to user mode, the scheduler may switch tasks
 * (never on the way back into the kernel: it is not preemptible). */
static void handle_irq(struct pt_regs *regs)
{
	do_IRQ((unsigned int)(regs->vector - FIRST_EXTERNAL_VECTOR));
	if (need_resched && user_mode(regs))
		schedule();
}

/* Whether a kernel-mode fault at address hit the page below tsk's kernel
 * stack. Stacks grow down and are vmalloc areas (kernel/sched.c), so that
 * page is never mapped: it is the guard page of the area below, or the
 * unmapped page under VMALLOC_START. */
static bool hit_stack_guard(const struct task_struct *tsk, unsigned long address)
{
	unsigned long bottom = (unsigned long)tsk->stack;

	return bottom && address < bottom && bottom - address <= PAGE_SIZE;
}

/* The kernel ran off the bottom of its stack. This handler runs on its own
 * stack (#PF has an IST entry, arch/x86/desc.c: SDM Vol. 3A §6.14.5), so
 * it can still report; it never returns to the overflowing code. */
static void __noreturn handle_stack_overflow(struct pt_regs *regs, unsigned long address)
{
	unsigned long bottom = (unsigned long)current->stack;

	console_set_loglevel(CONSOLE_LOGLEVEL_DEFAULT + 1);
	printk(KERN_EMERG "BUG: kernel stack overflow: guard page hit at %016lx, stack of pid %d (%s) "
	       "is %016lx-%016lx\n", address, current->pid, current->comm, bottom, bottom + THREAD_SIZE);
	die(regs);
}

/* #PF: CR2 holds the address (SDM Vol. 3A §4.7). do_page_fault kills the
 * process itself for a bad user access (force_sigsegv). */
static void handle_page_fault(struct pt_regs *regs)
{
	unsigned long address = read_cr2();

	if (!user_mode(regs) && hit_stack_guard(current, address))
		handle_stack_overflow(regs, address);
	current->thread.fault_regs = regs;
	if (do_page_fault(regs, regs->error_code, address) == 0)
		return;
	if (user_mode(regs))
		force_sigsegv(address, "unresolved fault");
	die(regs);
}

void do_exception(struct pt_regs *regs)
{
	if (regs->vector >= FIRST_EXTERNAL_VECTOR &&
	    regs->vector < FIRST_EXTERNAL_VECTOR + NR_LEGACY_IRQS)
		handle_irq(regs);
	else if (regs->vector == X86_TRAP_PF)
		handle_page_fault(regs);
	else if (user_mode(regs))
		force_sig_fault(regs, exception_name(regs->vector));
	else
		die(regs);
}
