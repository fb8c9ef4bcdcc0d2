/* Programs: the Multiboot modules (each a static ELF64 executable, named
 * by the file name in its module string) and execve, which replaces a
 * task's address space with one (Linux fs/exec.c, fs/binfmt_elf.c). */
#ifndef GUESTOS_KERNEL_EXEC_H
#define GUESTOS_KERNEL_EXEC_H

#include "guestos/kernel/multiboot.h"
#include "guestos/kernel/sched.h"

#define MAX_MODULES 16
#define MAX_ARG_STRINGS 32 /* argv and envp entries together */
#define MODULE_NAME_LEN 64 /* a process's comm keeps the first 15 bytes */

/* A module: the last path component of the first word of its string is
 * its name, the other words its default arguments. */
struct boot_module {
	char name[MODULE_NAME_LEN];
	char args[128];
	const u8 *data;
	size_t size;
};

/* The arguments of an execve, copied into the kernel: argc strings, then
 * envc strings, each NUL-terminated, in buf (one page). */
struct linux_binprm {
	char *buf;
	size_t len;
	int argc, envc;
};

/* Boot: record the Multiboot modules. */
void modules_init(const struct multiboot_info *mbi);
unsigned int nr_modules(void);
const struct boot_module *find_module(const char *name);
/* sys_execve: filename, argv and envp are user pointers. 0 (in the new
 * program), or -ENOENT (no such module), -ENOEXEC (not a valid ELF64
 * executable, said on the console), -E2BIG, -EFAULT, -ENOMEM; on error the
 * caller's address space is untouched. */
long sys_execve(const char *filename, const char *const *argv, const char *const *envp);
/* Boot: start module `name` as the first process (pid 1) with the
 * module's arguments and the command line's name=value words as its
 * environment. False (with a message) if it cannot. */
bool start_init(const char *name);

#endif
