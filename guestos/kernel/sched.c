/* The run queue and schedule(): round robin over the runnable tasks, the
 * boot context (init_task) idling with HLT when none is. */
#include "guestos/kernel/sched.h"

#include "guestos/arch/x86/io.h"
#include "guestos/kernel/printk.h"
#include "guestos/lib/string.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/slab.h"
#include "guestos/mm/vmalloc.h"

struct task_struct init_task = {
	.pid = 0,
	.state = TASK_RUNNING,
	.comm = "swapper",
};
struct task_struct *current = &init_task;
struct list_head task_list;
bool need_resched;

static struct list_head runqueue;
static struct kmem_cache *task_struct_cachep;
static int last_pid;

void sched_init(void)
{
	task_struct_cachep = kmem_cache_create("task_struct", sizeof(struct task_struct), 16, 0, NULL);
	if (!task_struct_cachep)
		panic("sched_init: no task_struct cache");
	INIT_LIST_HEAD(&task_list);
	INIT_LIST_HEAD(&runqueue);
	INIT_LIST_HEAD(&init_task.children);
	INIT_LIST_HEAD(&init_task.run_list);
}

void set_task_comm(struct task_struct *tsk, const char *name)
{
	size_t n = MIN(strlen(name), sizeof tsk->comm - 1);

	memcpy(tsk->comm, name, n);
	tsk->comm[n] = '\0';
}

/* Kernel stacks are vmalloc areas, as with Linux's CONFIG_VMAP_STACK:
 * THREAD_SIZE bytes, virtually contiguous over scattered frames. Stacks
 * grow down, and the page under an area is never mapped (vmalloc leaves
 * an unmapped guard page after every area, and nothing is mapped under
 * VMALLOC_START), so an overflow faults on its first byte instead of
 * silently overwriting what lies below (arch/x86/traps.c reports it).
 * While a process lives, its stack is a line of /proc/vmallocinfo. */
void *alloc_thread_stack(void)
{
	return vmalloc(THREAD_SIZE);
}

void free_thread_stack(void *stack)
{
	vfree(stack);
}

struct task_struct *alloc_task(const char *comm)
{
	struct task_struct *tsk = kmem_cache_alloc(task_struct_cachep, GFP_KERNEL);
	void *stack = tsk ? alloc_thread_stack() : NULL;

	if (!stack) {
		if (tsk)
			kmem_cache_free(task_struct_cachep, tsk);
		return NULL;
	}
	memset(tsk, 0, sizeof *tsk);
	tsk->stack = stack;
	tsk->pid = ++last_pid;
	tsk->state = TASK_INTERRUPTIBLE; /* not runnable until woken */
	tsk->parent = current;
	INIT_LIST_HEAD(&tsk->children);
	INIT_LIST_HEAD(&tsk->run_list);
	list_add_tail(&tsk->sibling, &current->children);
	list_add_tail(&tsk->tasks, &task_list);
	set_task_comm(tsk, comm);
	copy_thread(tsk);
	return tsk;
}

void free_task(struct task_struct *tsk)
{
	free_thread_stack(tsk->stack);
	kmem_cache_free(task_struct_cachep, tsk);
}

struct task_struct *find_task_by_pid(int pid)
{
	for (struct list_head *p = task_list.next; p != &task_list; p = p->next) {
		struct task_struct *t = list_entry(p, struct task_struct, tasks);
		if (t->pid == pid)
			return t;
	}
	return NULL;
}

void wake_up_process(struct task_struct *tsk)
{
	if (tsk->state != TASK_INTERRUPTIBLE)
		return;
	tsk->state = TASK_RUNNING;
	list_add_tail(&tsk->run_list, &runqueue);
}

void scheduler_tick(void)
{
	if (current == &init_task)
		return;
	if (current->time_slice)
		current->time_slice--;
	if (!current->time_slice)
		need_resched = true;
}

/* The next task: the head of the run queue, or idle. */
static struct task_struct *pick_next_task(void)
{
	if (list_empty(&runqueue))
		return &init_task;
	return list_first_entry(&runqueue, struct task_struct, run_list);
}

/* Switch address space (kernel threads keep the previous one) and stack. */
static void context_switch(struct task_struct *prev, struct task_struct *next)
{
	if (next->mm)
		switch_mm(next->mm);
	current = next;
	switch_to(prev, next);
}

void schedule(void)
{
	struct task_struct *prev = current;

	if (prev != &init_task) {
		list_del(&prev->run_list);
		if (prev->state == TASK_RUNNING)
			list_add_tail(&prev->run_list, &runqueue); /* round robin */
		else
			INIT_LIST_HEAD(&prev->run_list);
	}
	struct task_struct *next = pick_next_task();
	need_resched = false;
	next->time_slice = SCHED_TIMESLICE;
	if (next != prev)
		context_switch(prev, next);
}

void cpu_idle(void)
{
	for (;;) {
		local_irq_disable();
		if (!list_empty(&runqueue))
			schedule();
		else
			safe_halt();
	}
}
