/* The kernel command line from Multiboot: "<kernel path> <parameters>", as
 * QEMU and mmulab pass it. The first word (the path) is skipped; each
 * following word is a flag (`selftest`) or `name=value` (`loglevel=7`). */
#ifndef GUESTOS_KERNEL_CMDLINE_H
#define GUESTOS_KERNEL_CMDLINE_H

#include "guestos/lib/types.h"

#define COMMAND_LINE_SIZE 256

/* Copy the parameters (after the path) into the kernel's own buffer. */
void cmdline_init(const char *multiboot_cmdline);
/* The parameters, without the path. */
const char *cmdline_params(void);
/* Whether the word `name` appears on its own. */
bool cmdline_has_flag(const char *name);
/* The value of `name=value` as a number; def when absent. */
unsigned long cmdline_get_ulong(const char *name, unsigned long def);
/* Copy the value of `name=value` into buf (truncated to size - 1 bytes);
 * def when absent. */
void cmdline_get_string(const char *name, char *buf, size_t size, const char *def);

#endif
