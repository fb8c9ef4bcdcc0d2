/* Raw system calls. The x86-64 Linux convention: number in RAX,
 * arguments in RDI, RSI, RDX, R10, R8, R9, result in RAX; SYSCALL
 * clobbers RCX (return address) and R11 (RFLAGS). */
#include "guestos/user/ulib.h"

static long syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define SYSCALL3(nr, a, b, c) syscall6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

long syscall3(long nr, long a, long b, long c)
{
	return syscall6(nr, a, b, c, 0, 0, 0);
}

long read(int fd, void *buf, size_t n) { return SYSCALL3(__NR_read, fd, buf, n); }
long write(int fd, const void *buf, size_t n) { return SYSCALL3(__NR_write, fd, buf, n); }
int munmap(void *addr, size_t len) { return (int)SYSCALL3(__NR_munmap, addr, len, 0); }
int mprotect(void *addr, size_t len, int prot) { return (int)SYSCALL3(__NR_mprotect, addr, len, prot); }
unsigned long brk(unsigned long newbrk) { return (unsigned long)SYSCALL3(__NR_brk, newbrk, 0, 0); }
int sched_yield(void) { return (int)SYSCALL3(__NR_sched_yield, 0, 0, 0); }
int getpid(void) { return (int)SYSCALL3(__NR_getpid, 0, 0, 0); }
int fork(void) { return (int)SYSCALL3(__NR_fork, 0, 0, 0); }
long mmulab_report(unsigned long which) { return SYSCALL3(__NR_mmulab_report, which, 0, 0); }
long mmulab_kstress(unsigned long n, unsigned long kind) { return SYSCALL3(__NR_mmulab_kstress, n, kind, 0); }

void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	return (void *)syscall6(__NR_mmap, (long)addr, (long)len, prot, flags, fd, off);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	return (int)SYSCALL3(__NR_execve, path, argv, envp);
}

int wait4(int pid, int *status, int options, void *rusage)
{
	return (int)syscall6(__NR_wait4, pid, (long)status, options, (long)rusage, 0, 0);
}

void exit(int code)
{
	for (;;)
		SYSCALL3(__NR_exit_group, code, 0, 0);
}
