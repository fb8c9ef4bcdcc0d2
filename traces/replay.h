/* Replaying a trace through mmu/ alone.
 *
 * The replay builds a struct mmu with the trace's RAM size and a model,
 * then applies the records in order: frames and stores write its RAM,
 * control operations call the same mmu_* function with the same
 * arguments, accesses call mmu_translate. In checking mode every outcome
 * (success or fault, physical address, source, page size, cycles, walk
 * reads with their entry addresses, values, cache levels and cycles, PWC
 * level, A/D updates), every control operation's success and every
 * checkpoint hash must equal the recorded ones; the first difference stops
 * the replay with a one-line report. In what-if mode (a model other than
 * the recording one) nothing is checked and the statistics are the result.
 */
#ifndef TRACES_REPLAY_H
#define TRACES_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmu/mmu.h"
#include "traces/trace.h"

enum trace_replay_result {
	TRACE_REPLAY_OK = 0,        /* every record applied (and matched, when checking) */
	TRACE_REPLAY_DIVERGED = 1,  /* an outcome differed: msg says where and how */
	TRACE_REPLAY_BAD_TRACE = 2, /* the file is not a valid trace: msg says why */
};

struct trace_replay {
	struct mmu m;
	bool check;                 /* false: what-if statistics only */
	bool started;               /* the start state (first set-control) is applied */
	uint64_t records, accesses, checkpoints;
	uint64_t last_insns;        /* instruction count at the last checkpoint */
	uint8_t cpl;
	char msg[1024];             /* the divergence or the reader's error */
	/* The walk of the translation in progress (replay observer). */
	struct trace_access got;
};

/* Replay path. model NULL: the recording model, found by name ('skylake',
 * 'flat', or a model file of that name) and checked against the header's
 * hash. check false: what-if mode. The result and r->msg say what
 * happened; r->m holds the final state for statistics (call
 * trace_replay_free afterwards in every case). */
enum trace_replay_result trace_replay_file(struct trace_replay *r, const char *path,
					   const struct mmu_model *model, bool check);
/* The same for a trace held in memory (tests, fuzzing). */
enum trace_replay_result trace_replay_mem(struct trace_replay *r, const void *data, size_t len,
					  const char *name, const struct mmu_model *model,
					  bool check);
void trace_replay_free(struct trace_replay *r);

#endif
