/* `mmulab run -trace FILE [-trace-from N] [-trace-insns M]`: run the
 * machine while recording an MMU trace (traces/recorder.h) of the whole run
 * or of the window of M instructions starting at instruction N. */
#ifndef EMU_TRACE_RUN_H
#define EMU_TRACE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/machine.h"

struct trace_run_opts {
	const char *file;   /* NULL: no trace */
	uint64_t from;      /* first instruction of the window (0: from the start) */
	uint64_t insns;     /* instructions in the window (0: to the end of the run) */
};

/* Run m as machine_run does (same stop, same max_insns bound), recording
 * the window into o->file. False with one line in err when the trace could
 * not be written or the run stopped before the window began; m->stop still
 * says how the run ended. */
bool trace_run_machine(struct machine *m, const struct trace_run_opts *o, char *err,
		       size_t errlen);

#endif
