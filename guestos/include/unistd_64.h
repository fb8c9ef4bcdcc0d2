/* System call numbers: Linux x86-64's (arch/x86/entry/syscalls/
 * syscall_64.tbl), plus two mmulab-only calls at 1000 and up. Shared by
 * the kernel's syscall table and the user library. */
#ifndef GUESTOS_INCLUDE_UNISTD_64_H
#define GUESTOS_INCLUDE_UNISTD_64_H

#define __NR_read 0
#define __NR_write 1
#define __NR_mmap 9
#define __NR_mprotect 10
#define __NR_munmap 11
#define __NR_brk 12
#define __NR_sched_yield 24
#define __NR_getpid 39
#define __NR_fork 57
#define __NR_execve 59
#define __NR_exit 60
#define __NR_wait4 61
#define __NR_exit_group 231

/* mmulab_report(which): print the kernel reports selected by the
 * REPORT_* bits of which; returns 0, or -EINVAL for unknown bits. */
#define __NR_mmulab_report 1000
/* mmulab_kstress(n, kind): exercise the kernel's memory from inside it.
 *   KSTRESS_KMALLOC: allocate and free kmalloc objects of every size class
 *     n times (n <= 10000); returns the number of objects, or -ENOMEM.
 *   KSTRESS_VMALLOC: vmalloc n areas of 1, 2, ... n pages (n <= 16), print
 *     /proc/vmallocinfo while they exist, vfree them; returns n, or -ENOMEM.
 *   KSTRESS_STACK: recurse on the kernel stack until it runs into the page
 *     under it (n is ignored); the kernel reports the overflow and stops,
 *     so the call returns only if the stack did not overflow (-EFAULT).
 * Any other kind, or n too large: -EINVAL. */
#define __NR_mmulab_kstress 1001
#define KSTRESS_KMALLOC 0
#define KSTRESS_VMALLOC 1
#define KSTRESS_STACK 2

#define REPORT_BUDDYINFO 0x01
#define REPORT_SLABINFO 0x02
#define REPORT_MAPS 0x04 /* /proc/PID/maps of the caller */
#define REPORT_VMALLOCINFO 0x08
#define REPORT_MEMINFO 0x10
#define REPORT_ALL 0x1f

/* wait4 status words (Linux's encoding): exited with code, killed by signal. */
#define WNOHANG 1
#define W_EXITCODE(code) (((code) & 0xff) << 8)
#define WIFEXITED(status) (((status) & 0x7f) == 0)
#define WEXITSTATUS(status) (((status) >> 8) & 0xff)
#define WIFSIGNALED(status) (((status) & 0x7f) != 0 && ((status) & 0x7f) != 0x7f)
#define WTERMSIG(status) ((status) & 0x7f)
#define SIGSEGV 11

#endif
