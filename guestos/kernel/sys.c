/* The system-call table: Linux x86-64 numbers and semantics
 * (guestos/include/unistd_64.h), plus mmulab_report and mmulab_kstress.
 * Handlers read their arguments from the saved user registers (RDI, RSI,
 * RDX, R10, R8, R9) as Linux's __x64_sys_* do; user pointers are only
 * touched through copy_from_user/copy_to_user, so a bad one is -EFAULT. */
#include "guestos/arch/x86/process.h"
#include "guestos/include/errno.h"
#include "guestos/include/unistd_64.h"
#include "guestos/kernel/exec.h"
#include "guestos/kernel/exit.h"
#include "guestos/kernel/fork.h"
#include "guestos/kernel/printk.h"
#include "guestos/kernel/report.h"
#include "guestos/lib/string.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/slab.h"
#include "guestos/mm/vmalloc.h"

typedef long (*sys_call_fn)(const struct pt_regs *regs);

#define IO_CHUNK 256 /* bytes copied per step of read/write */
#define KSTRESS_MAX_ROUNDS 10000
#define KSTRESS_MAX_AREAS 16
#define KSTRESS_FRAME 256 /* stack bytes each level of stack_eater holds, at least */
#define KSTRESS_BATCH 16 /* objects of one size held at once */
#define KSTRESS_TOUCH 64 /* bytes written into each */

static long sys_read(const struct pt_regs *regs)
{
	char buf[IO_CHUNK];
	size_t n = MIN(regs->dx, sizeof buf);

	if (regs->di != 0)
		return -EBADF;
	n = console_read(buf, n);
	if (n && copy_to_user((void *)regs->si, buf, n))
		return -EFAULT;
	return (long)n;
}

static long sys_write(const struct pt_regs *regs)
{
	char buf[IO_CHUNK];
	const char *src = (const char *)regs->si;
	size_t done = 0, count = regs->dx;

	if (regs->di != 1 && regs->di != 2)
		return -EBADF;
	while (done < count) {
		size_t n = MIN(count - done, sizeof buf);
		if (copy_from_user(buf, src + done, n))
			return done ? (long)done : -EFAULT;
		console_write(buf, n);
		done += n;
	}
	return (long)done;
}

static long sys_exit(const struct pt_regs *regs)
{
	do_exit(W_EXITCODE((int)regs->di));
}

static long sys_getpid(const struct pt_regs *regs)
{
	return current->pid;
}

static long sys_sched_yield(const struct pt_regs *regs)
{
	schedule();
	return 0;
}

static long sys_brk(const struct pt_regs *regs)
{
	return (long)do_brk(current->mm, regs->di);
}

static long sys_mmap(const struct pt_regs *regs)
{
	unsigned long len = regs->si, flags = regs->r10, off = regs->r9;

	if (!(flags & MAP_ANONYMOUS))
		return -EBADF; /* no files */
	if (!len || (off & (PAGE_SIZE - 1)))
		return -EINVAL;
	return do_mmap(current->mm, regs->di, len, regs->dx, flags, NULL);
}

static long sys_munmap(const struct pt_regs *regs)
{
	return do_munmap(current->mm, regs->di, regs->si);
}

static long sys_mprotect(const struct pt_regs *regs)
{
	return do_mprotect(current->mm, regs->di, regs->si, regs->dx);
}

static long sys_fork(const struct pt_regs *regs)
{
	return kernel_clone();
}

static long sys_execve_regs(const struct pt_regs *regs)
{
	return sys_execve((const char *)regs->di, (const char *const *)regs->si,
			  (const char *const *)regs->dx);
}

static long sys_wait4(const struct pt_regs *regs)
{
	return do_wait4((int)regs->di, (int *)regs->si, (int)regs->dx);
}

static long sys_mmulab_report(const struct pt_regs *regs)
{
	if (regs->di & ~(unsigned long)REPORT_ALL)
		return -EINVAL;
	show_selected_reports((unsigned)regs->di, current->mm, current->pid);
	return 0;
}

/* KSTRESS_BATCH kmalloc objects of one size, written to, then freed in
 * reverse order (so slabs go full, partial, empty). False on failure. */
static bool stress_one_size(unsigned size)
{
	void *held[KSTRESS_BATCH];
	unsigned n;

	for (n = 0; n < KSTRESS_BATCH; n++) {
		held[n] = kmalloc(size, GFP_KERNEL);
		if (!held[n])
			break;
		memset(held[n], (int)n, MIN(size, KSTRESS_TOUCH));
	}
	bool ok = n == KSTRESS_BATCH;
	while (n--)
		kfree(held[n]);
	return ok;
}

/* Every kmalloc size class, rounds times: the number of objects, or -ENOMEM. */
static long kmalloc_stress(unsigned long rounds)
{
	static const unsigned sizes[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
	long count = 0;

	for (unsigned long r = 0; r < rounds; r++)
		for (unsigned s = 0; s < ARRAY_SIZE(sizes); s++) {
			if (!stress_one_size(sizes[s]))
				return -ENOMEM;
			count += KSTRESS_BATCH;
		}
	return count;
}

/* n vmalloc areas of 1..n pages, written end to end, shown in
 * vmallocinfo while all exist, then freed: n, or -ENOMEM. */
static long vmalloc_stress(unsigned long n)
{
	u8 *held[KSTRESS_MAX_AREAS];
	unsigned long i;

	for (i = 0; i < n; i++) {
		held[i] = vmalloc((i + 1) * PAGE_SIZE);
		if (!held[i])
			break;
		memset(held[i], (int)i, (i + 1) * PAGE_SIZE);
	}
	if (i == n)
		show_selected_reports(REPORT_VMALLOCINFO, NULL, 0);
	long ret = i == n ? (long)n : -ENOMEM;
	while (i--)
		vfree(held[i]);
	return ret;
}

/* depth levels of recursion, each holding a KSTRESS_FRAME-byte buffer
 * that it reads after the call returns, so the compiler can neither drop
 * the buffer nor turn the call into a jump. */
static __attribute__((noinline)) unsigned long stack_eater(unsigned long depth)
{
	volatile u8 buf[KSTRESS_FRAME];

	for (unsigned i = 0; i < KSTRESS_FRAME; i++)
		buf[i] = (u8)depth;
	return depth ? stack_eater(depth - 1) + buf[KSTRESS_FRAME - 1] : buf[0];
}

/* Twice as deep as the kernel stack can hold: the guard page under it
 * stops this (arch/x86/traps.c), so returning means it is missing. */
static long stack_stress(void)
{
	pr_info("kstress: recursing on the kernel stack of pid %d\n", current->pid);
	(void)stack_eater(2 * THREAD_SIZE / KSTRESS_FRAME);
	return -EFAULT;
}

static long sys_mmulab_kstress(const struct pt_regs *regs)
{
	switch (regs->si) {
	case KSTRESS_KMALLOC:
		return regs->di > KSTRESS_MAX_ROUNDS ? -EINVAL : kmalloc_stress(regs->di);
	case KSTRESS_VMALLOC:
		return regs->di > KSTRESS_MAX_AREAS ? -EINVAL : vmalloc_stress(regs->di);
	case KSTRESS_STACK:
		return stack_stress();
	default:
		return -EINVAL;
	}
}

static const sys_call_fn sys_call_table[] = {
	[__NR_read] = sys_read,
	[__NR_write] = sys_write,
	[__NR_mmap] = sys_mmap,
	[__NR_mprotect] = sys_mprotect,
	[__NR_munmap] = sys_munmap,
	[__NR_brk] = sys_brk,
	[__NR_sched_yield] = sys_sched_yield,
	[__NR_getpid] = sys_getpid,
	[__NR_fork] = sys_fork,
	[__NR_execve] = sys_execve_regs,
	[__NR_exit] = sys_exit,
	[__NR_wait4] = sys_wait4,
	[__NR_exit_group] = sys_exit,
};

static sys_call_fn find_syscall(unsigned long nr)
{
	if (nr < ARRAY_SIZE(sys_call_table))
		return sys_call_table[nr];
	if (nr == __NR_mmulab_report)
		return sys_mmulab_report;
	if (nr == __NR_mmulab_kstress)
		return sys_mmulab_kstress;
	return NULL;
}

bool do_syscall_64(struct pt_regs *regs)
{
	sys_call_fn fn = find_syscall(regs->error_code);

	regs->ax = fn ? (unsigned long)fn(regs) : (unsigned long)-ENOSYS;
	if (need_resched)
		schedule();
	return syscall_can_sysret(regs);
}
