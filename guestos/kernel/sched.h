/* Processes: struct task_struct, the run queue and the round-robin
 * scheduler (Linux include/linux/sched.h, kernel/sched/core.c, much
 * reduced: one CPU, one policy).
 *
 * Every process has a kernel stack of THREAD_SIZE bytes, a vmalloc area
 * (alloc_thread_stack); while it runs in user mode, the top of that stack
 * is TSS.RSP0 and the SYSCALL entry stack, so the struct pt_regs saved on
 * any entry from user mode sits at the top (task_pt_regs). The kernel is not preemptible: a task switch
 * happens only in schedule(), called when a task blocks or exits, yields,
 * or on the way back to user mode once its time slice is used up. All
 * of it runs with interrupts disabled. */
#ifndef GUESTOS_KERNEL_SCHED_H
#define GUESTOS_KERNEL_SCHED_H

#include "guestos/arch/x86/traps.h"
#include "guestos/lib/list.h"
#include "guestos/mm/mm.h"

#define TASK_COMM_LEN 16
#define THREAD_SIZE_ORDER 2
#define THREAD_SIZE (PAGE_SIZE << THREAD_SIZE_ORDER)
#define SCHED_TIMESLICE 2 /* timer ticks a task runs before another gets the CPU */

enum task_state {
	TASK_RUNNING,       /* on the run queue (or the idle task) */
	TASK_INTERRUPTIBLE, /* waiting (wait4) until wake_up_process */
	EXIT_ZOMBIE,        /* exited; the parent has not reaped it yet */
};

struct mm_struct;

/* What context_switch saves: the kernel RSP, pointing at the callee-saved
 * registers and the return address __switch_to_asm pushed. */
struct thread_struct {
	unsigned long sp;
	struct pt_regs *fault_regs; /* the user frame of the fault being handled */
};

struct task_struct {
	int pid;
	enum task_state state;
	void *stack; /* THREAD_SIZE bytes, vmapped; NULL for the idle task (boot stack) */
	struct thread_struct thread;
	struct mm_struct *mm; /* NULL for the idle task */
	struct task_struct *parent;
	struct list_head children; /* tasks whose parent this is */
	struct list_head sibling;  /* in parent->children */
	struct list_head run_list; /* on the run queue while TASK_RUNNING */
	struct list_head tasks;    /* every task but idle, in pid order */
	int exit_code;             /* the wait4 status word once EXIT_ZOMBIE */
	unsigned int time_slice;   /* ticks left */
	char comm[TASK_COMM_LEN];
};

/* The running task; init_task (pid 0, the boot context, which idles)
 * until the first process runs. */
extern struct task_struct *current;
extern struct task_struct init_task;
extern struct list_head task_list;
/* Set by the timer tick when the time slice is used up. */
extern bool need_resched;

/* The registers saved on entry from user mode. */
static inline struct pt_regs *task_pt_regs(struct task_struct *tsk)
{
	return (struct pt_regs *)((char *)tsk->stack + THREAD_SIZE) - 1;
}

/* A kernel stack of THREAD_SIZE bytes, a vmalloc area with an unmapped
 * page under it (its lowest address; NULL when out of memory), and its
 * release. */
void *alloc_thread_stack(void);
void free_thread_stack(void *stack);
/* Boot: the task_struct cache, init_task as current. */
void sched_init(void);
/* A new task: kernel stack, pid, parent = current, not yet runnable; its
 * first switch-in enters user mode through ret_from_fork with the
 * registers at task_pt_regs. NULL when out of memory. */
struct task_struct *alloc_task(const char *comm);
/* Free a task's stack and struct (it must no longer be on any list). */
void free_task(struct task_struct *tsk);
/* Give the CPU to the next runnable task (round robin), or idle. */
void schedule(void);
/* Make tsk runnable (at the tail of the run queue). */
void wake_up_process(struct task_struct *tsk);
/* Timer interrupt: count down the time slice. */
void scheduler_tick(void);
/* The boot context's last job: run tasks, halt when none is runnable. */
void __noreturn cpu_idle(void);
struct task_struct *find_task_by_pid(int pid);
void set_task_comm(struct task_struct *tsk, const char *name);

/* arch/x86/process.c. */
/* Build the frame a new task's first switch_to returns through:
 * ret_from_fork, then to user mode with the registers at task_pt_regs. */
void copy_thread(struct task_struct *tsk);
/* Make next's kernel stack the entry stack (TSS.RSP0, SYSCALL) and switch
 * kernel stacks; returns when prev is switched back in. */
void switch_to(struct task_struct *prev, struct task_struct *next);
/* Set the user registers for a fresh program: ip, sp, flags with IF set,
 * every other register zero. */
void start_thread(struct pt_regs *regs, unsigned long ip, unsigned long sp);

#endif
