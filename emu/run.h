/* The `mmulab run` and `mmulab disasm` commands: option parsing and the
 * process exit status (docs/machine.md). argv holds the options after the
 * command name. Every bad input gives one line "mmulab: ..." on stderr and
 * status RUN_STATUS_USAGE. */
#ifndef EMU_RUN_H
#define EMU_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUN_STATUS_USAGE 2

/* Parse a memory size: digits with an optional k, M or G suffix (binary
 * units; no suffix means MiB, as QEMU's -m). False for anything else, zero,
 * sizes not a multiple of 4 KiB, or above RUN_MAX_RAM. */
#define RUN_MAX_RAM (UINT64_C(16) << 30)
bool run_parse_size(const char *s, uint64_t *bytes);

int run_command(int argc, char **argv);
int disasm_command(int argc, char **argv);

#endif
