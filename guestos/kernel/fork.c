/* fork (Linux kernel/fork.c: kernel_clone, copy_process): a new task with
 * a copy of the address space (copy-on-write, dup_mm) and of the user
 * registers, returning 0 in the child. */
#include "guestos/kernel/fork.h"

#include "guestos/include/errno.h"
#include "guestos/mm/mmap.h"

static struct task_struct *copy_process(void)
{
	struct mm_struct *mm = dup_mm(current->mm);
	if (!mm)
		return NULL;
	struct task_struct *p = alloc_task(current->comm);
	if (!p) {
		mmput(mm);
		return NULL;
	}
	p->mm = mm;
	*task_pt_regs(p) = *task_pt_regs(current);
	task_pt_regs(p)->ax = 0; /* fork returns 0 in the child */
	return p;
}

long kernel_clone(void)
{
	struct task_struct *p = copy_process();

	if (!p)
		return -ENOMEM;
	wake_up_process(p);
	return p->pid;
}
