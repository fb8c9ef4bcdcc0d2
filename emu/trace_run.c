/* The recording window around machine_run (emu/trace_run.h). The machine
 * runs to the window's first instruction with max_insns as the bound, the
 * recorder attaches, the window runs, the recorder detaches, and the run
 * continues to its own end. */
#include "emu/trace_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "traces/recorder.h"

#ifndef MMULAB_VERSION
#define MMULAB_VERSION "unknown"
#endif

/* The recorder's one-line errors, as the command's "mmulab: ..." line. */
static bool prefixed(char *err, size_t errlen)
{
	char why[300];
	snprintf(why, sizeof why, "%s", err);
	snprintf(err, errlen, "mmulab: %s", why);
	return false;
}

static uint64_t min_bound(uint64_t limit, uint64_t at)
{
	return limit && limit < at ? limit : at;
}

bool trace_run_machine(struct machine *m, const struct trace_run_opts *o, char *err,
		       size_t errlen)
{
	uint64_t limit = m->cfg.max_insns;
	struct cpu *c = &m->cpu;
	if (o->from) {
		m->cfg.max_insns = min_bound(limit, o->from);
		machine_run(m);
		m->cfg.max_insns = limit;
		if (m->stop != MACHINE_LIMIT || c->insns < o->from) {
			snprintf(err, errlen, "mmulab: the run stopped at instruction %" PRIu64
				 ", before the trace window at %" PRIu64, c->insns, o->from);
			return false;
		}
	}
	struct trace_recorder *r = calloc(1, sizeof *r);
	struct trace_client cl = {.insns = &c->insns, .cycles = &c->cycles, .cpl = &c->cpl,
				  .emu_version = MMULAB_VERSION};
	if (!r) {
		snprintf(err, errlen, "mmulab: out of memory");
		return false;
	}
	if (!trace_recorder_start(r, &c->mmu, o->file, &cl, err, errlen)) {
		free(r);
		return prefixed(err, errlen);
	}
	if (o->insns)
		m->cfg.max_insns = min_bound(limit, c->insns + o->insns);
	machine_run(m);
	bool ok = trace_recorder_stop(r, err, errlen) || prefixed(err, errlen);
	free(r);
	m->cfg.max_insns = limit;
	if (o->insns && m->stop == MACHINE_LIMIT && (!limit || c->insns < limit))
		machine_run(m);
	return ok;
}
