/* The architecture side of processes: the SYSCALL MSRs, the per-CPU
 * entry area SWAPGS reaches, the frame of a new task, and the kernel
 * stack switch. */
#include "guestos/arch/x86/process.h"

#include "guestos/arch/x86/desc.h"
#include "guestos/arch/x86/io.h"
#include "guestos/arch/x86/memlayout.h"
#include "guestos/arch/x86/processor-flags.h"
#include "guestos/lib/string.h"
#include "guestos/mm/mm_types.h"

/* The frame __switch_to_asm pops: callee-saved registers, then where it
 * returns to (SysV ABI: RBX, RBP, R12-R15 are callee-saved). */
struct inactive_task_frame {
	unsigned long r15, r14, r13, r12, bx, bp;
	unsigned long ret_addr;
};

struct cpu_entry_area cpu_entry_area;

extern char entry_SYSCALL_64[], ret_from_fork[];
void __switch_to_asm(unsigned long *prev_sp, unsigned long next_sp);

/* SDM Vol. 3A §5.8.8: SYSCALL loads CS from STAR[47:32], RIP from LSTAR
 * and clears the RFLAGS bits set in SFMASK (IF among them, so the entry
 * runs with interrupts off until it is on the kernel stack). */
void syscall_init(void)
{
	wrmsr(MSR_STAR, ((u64)__USER32_CS << STAR_USER_BASE_SHIFT) |
			((u64)__KERNEL_CS << STAR_KERNEL_CS_SHIFT));
	wrmsr(MSR_LSTAR, (u64)entry_SYSCALL_64);
	wrmsr(MSR_SYSCALL_MASK, X86_EFLAGS_TF | X86_EFLAGS_IF | X86_EFLAGS_DF | X86_EFLAGS_IOPL |
					X86_EFLAGS_NT | X86_EFLAGS_AC);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_GS_BASE, 0);
	wrmsr(MSR_KERNEL_GS_BASE, (u64)&cpu_entry_area); /* GS after the entry's SWAPGS */
}

void copy_thread(struct task_struct *tsk)
{
	struct inactive_task_frame *frame = (struct inactive_task_frame *)task_pt_regs(tsk) - 1;

	memset(frame, 0, sizeof *frame);
	frame->ret_addr = (unsigned long)ret_from_fork;
	tsk->thread.sp = (unsigned long)frame;
}

void switch_to(struct task_struct *prev, struct task_struct *next)
{
	if (next->stack) {
		unsigned long top = (unsigned long)next->stack + THREAD_SIZE;
		tss_set_sp0(top);
		cpu_entry_area.top_of_stack = top;
	}
	__switch_to_asm(&prev->thread.sp, next->thread.sp);
}

void start_thread(struct pt_regs *regs, unsigned long ip, unsigned long sp)
{
	memset(regs, 0, sizeof *regs);
	regs->ip = ip;
	regs->sp = sp;
	regs->cs = __USER_CS;
	regs->ss = __USER_DS;
	regs->flags = X86_EFLAGS_IF | X86_EFLAGS_FIXED;
}

/* SYSRET is only safe for the frame SYSCALL built, unchanged: RCX and R11
 * must still be RIP and RFLAGS (SYSRET reloads them from there), RIP must
 * be a user address (SYSRET with a non-canonical RCX raises #GP at CPL 0,
 * on the user's stack: SDM Vol. 2B SYSRET), and RF and TF, which SYSRET
 * cannot restore faithfully, must be clear. Anything else returns with
 * IRETQ. */
bool syscall_can_sysret(const struct pt_regs *regs)
{
	return regs->cx == regs->ip && regs->r11 == regs->flags && regs->ip < TASK_SIZE &&
	       regs->cs == __USER_CS && regs->ss == __USER_DS &&
	       !(regs->flags & (X86_EFLAGS_RF | X86_EFLAGS_TF));
}
