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

/* The `run` options as a machine configuration, for commands that boot a
 * machine their own way (`mmulab gui`): the model is stored in *model,
 * *serial is the -serial value (COM1 output is the caller's). 0, or
 * RUN_STATUS_USAGE after one line on stderr. */
struct machine_config;
struct mmu_model;
int run_parse_config(int argc, char **argv, struct machine_config *mc, struct mmu_model *model,
		     const char **serial);
int disasm_command(int argc, char **argv);

#endif
