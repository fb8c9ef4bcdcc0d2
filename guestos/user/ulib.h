/* The mmulab user library: start code, raw system calls with Linux
 * x86-64 numbers, printf, malloc over brk and mmap, a few string
 * functions. Freestanding: no C library. The system-call wrappers return
 * the kernel's raw result (a negative errno on failure, no `errno`
 * variable), so they behave alike on mmulab's kernel and on Linux. */
#ifndef GUESTOS_USER_ULIB_H
#define GUESTOS_USER_ULIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guestos/include/errno.h"
#include "guestos/include/mman.h"
#include "guestos/include/unistd_64.h"
#include "guestos/lib/string.h"
#include "guestos/lib/vsprintf.h"

#define PAGE_SIZE 4096UL

extern char **environ;

/* Each wrapper is the system call of the same name (see unistd_64.h). */
long read(int fd, void *buf, size_t n);
long write(int fd, const void *buf, size_t n);
void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off);
int munmap(void *addr, size_t len);
int mprotect(void *addr, size_t len, int prot);
unsigned long brk(unsigned long newbrk); /* returns the new (or unchanged) break */
int sched_yield(void);
int getpid(void);
int fork(void);
int execve(const char *path, char *const argv[], char *const envp[]);
int wait4(int pid, int *status, int options, void *rusage);
__attribute__((noreturn)) void exit(int code); /* exit_group */
long mmulab_report(unsigned long which);
/* Any system call with up to three arguments. */
long syscall3(long nr, long a, long b, long c);
long mmulab_kstress(unsigned long n, unsigned long kind);
/* Whether a wrapper's result is an error (-4095..-1), as Linux's IS_ERR_VALUE. */
static inline bool sys_failed(long ret)
{
	return (unsigned long)ret >= (unsigned long)-4095L;
}

/* Output to fd 1, unbuffered: every call is one write. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int puts(const char *s);

/* malloc: first fit over a free list in the brk heap; blocks of
 * MMAP_THRESHOLD bytes or more get their own mmap. NULL when out of
 * memory. */
#define MMAP_THRESHOLD (128 * 1024)
void *malloc(size_t n);
void *calloc(size_t nmemb, size_t size);
void free(void *p);

/* The value of NAME in the environment, or NULL. */
const char *getenv(const char *name);
/* Parse a decimal number; def when s is NULL or empty. */
unsigned long atoul(const char *s, unsigned long def);

#endif
