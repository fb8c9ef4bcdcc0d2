#include "guestos/kernel/exit.h"

#include "guestos/arch/x86/i8259.h"
#include "guestos/arch/x86/io.h"
#include "guestos/arch/x86/processor-flags.h"
#include "guestos/include/unistd_64.h"
#include "guestos/kernel/cmdline.h"
#include "guestos/kernel/printk.h"
#include "guestos/kernel/report.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/mmap.h"

#define SIGILL 4
#define SIGFPE 8

/* Give back the exiting task's address space. */
static void exit_mm(struct task_struct *tsk)
{
	if (!tsk->mm)
		return;
	switch_mm(NULL); /* off the mm before dropping it */
	mmput(tsk->mm);
	tsk->mm = NULL;
}

/* The end of the run: init has exited. Its memory and the per-CPU page
 * lists go back to the buddy allocator first, so that the reports show
 * the state with no process left, whatever order timer ticks gave the
 * processes' allocations. Then stop the machine with init's status. */
static void __noreturn init_exited(struct task_struct *tsk, int status)
{
	pr_info("init exited with status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	exit_mm(tsk);
	drain_all_pages();
	if (cmdline_has_flag("report"))
		show_reports();
	pr_info(TIMING_PREFIX "boot to exit: %lu timer ticks\n", jiffies);
	machine_exit(status == 0 ? EXIT_CODE_OK : EXIT_CODE_INIT_FAILED);
}

/* Orphans go to init, which may reap them (Linux's reparenting). */
static void forget_original_parent(struct task_struct *tsk)
{
	struct task_struct *reaper = find_task_by_pid(1);

	while (!list_empty(&tsk->children)) {
		struct task_struct *child = list_first_entry(&tsk->children, struct task_struct, sibling);
		list_del(&child->sibling);
		child->parent = reaper ? reaper : &init_task;
		list_add_tail(&child->sibling, &child->parent->children);
	}
}

void do_exit(int status)
{
	struct task_struct *tsk = current;

	if (tsk->pid == 1)
		init_exited(tsk, status);
	exit_mm(tsk);
	forget_original_parent(tsk);
	tsk->exit_code = status;
	tsk->state = EXIT_ZOMBIE;
	wake_up_process(tsk->parent);
	schedule();
	panic("do_exit: zombie %d scheduled again", tsk->pid);
}

static bool child_matches(const struct task_struct *child, int pid)
{
	return pid == -1 || child->pid == pid;
}

/* Unlink and free a zombie; its status word goes to stat_addr. */
static long release_task(struct task_struct *child, int *stat_addr)
{
	int pid = child->pid, status = child->exit_code;

	if (stat_addr && copy_to_user(stat_addr, &status, sizeof status))
		return -EFAULT;
	list_del(&child->sibling);
	list_del(&child->tasks);
	free_task(child);
	return pid;
}

long do_wait4(int pid, int *stat_addr, int options)
{
	if (pid < -1 || pid == 0)
		return -EINVAL; /* process groups: not implemented */
	for (;;) {
		bool any = false;
		for (struct list_head *p = current->children.next; p != &current->children; p = p->next) {
			struct task_struct *child = list_entry(p, struct task_struct, sibling);
			if (!child_matches(child, pid))
				continue;
			if (child->state == EXIT_ZOMBIE)
				return release_task(child, stat_addr);
			any = true;
		}
		if (!any)
			return -ECHILD;
		if (options & WNOHANG)
			return 0;
		current->state = TASK_INTERRUPTIBLE; /* do_exit of a child wakes us */
		schedule();
	}
}

static int signal_for(unsigned long vector)
{
	switch (vector) {
	case X86_TRAP_UD:
		return SIGILL;
	case X86_TRAP_DE:
	case X86_TRAP_MF:
	case X86_TRAP_XF:
		return SIGFPE;
	default:
		return SIGSEGV;
	}
}

void force_sig_fault(const struct pt_regs *regs, const char *what)
{
	pr_info("[pid %d] %s: %s at ip 0x%lx, error code 0x%lx\n", current->pid, current->comm, what,
		regs->ip, regs->error_code);
	do_exit(signal_for(regs->vector));
}

/* The mm side's verdict on a user access (see mm/mmap.h). */
void force_sigsegv(unsigned long address, const char *why)
{
	const struct pt_regs *regs = current->thread.fault_regs;

	pr_info("[pid %d] %s: segfault at 0x%lx ip 0x%lx (%s)\n", current->pid, current->comm, address,
		regs ? regs->ip : 0, why);
	do_exit(SIGSEGV);
}
