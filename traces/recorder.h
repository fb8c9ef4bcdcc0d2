/* Recording a trace from a live struct mmu.
 *
 * The recorder attaches an mmu_observer and a phys write hook (chained
 * before any hook already installed, which keeps being called). It writes:
 * a MODE record and the start state as a set-control operation, which
 * drops every TLB, PWC and data-cache entry, so the replay starts from the
 * same cold state; then every translation with its outcome, each
 * paging-structure frame when the walker first reads it, later stores to
 * those frames (the walker's own A/D updates excepted: a replay redoes
 * them), control operations, CPL and CS.L changes, and a checkpoint every
 * TRACE_CHECKPOINT_EVERY accesses.
 *
 * The client supplies the instruction and cycle counters (for checkpoints)
 * and the CPL; mmu/ knows neither.
 */
#ifndef TRACES_RECORDER_H
#define TRACES_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/mmu.h"
#include "traces/trace.h"

struct trace_client {
	const uint64_t *insns;  /* may be NULL */
	const uint64_t *cycles; /* may be NULL */
	const unsigned *cpl;    /* may be NULL: CPL 0 */
	const char *emu_version;
};

struct trace_recorder {
	struct trace_writer w;
	struct mmu *m;
	struct mmu_observer obs;
	struct trace_client cl;
	phys_write_hook prev_hook;
	void *prev_ctx;
	bool in_walk;           /* between a walk's first step and its access event */
	bool fault_pending;     /* the translation in progress reported a fault */
	uint8_t cpl, cs_l;      /* as last recorded */
	const unsigned *cpl_now; /* the client's CPL, or cpl_zero */
	const bool *cs_l_now;   /* CS.L in the MMU's segment state */
	unsigned cpl_zero;      /* CPL 0 for a client without one */
	uint64_t next_checkpoint;
	uint64_t *base;         /* statistics at the start (trace_state_hash) */
	struct trace_record acc; /* the access being gathered */
	struct trace_record rec; /* scratch for the other records */
};

/* Start recording m into path. False with one line in err (nothing attached). */
bool trace_recorder_start(struct trace_recorder *r, struct mmu *m, const char *path,
			  const struct trace_client *cl, char *err, size_t errlen);
/* Write a final checkpoint, detach, close the file. False with one line in
 * err if any write failed (the file is then not a valid trace). */
bool trace_recorder_stop(struct trace_recorder *r, char *err, size_t errlen);

/* Checkpoint hash: every TLB entry that is valid (tag, frame, rights, sizes,
 * PCID; not its LRU stamp) and every statistic's change since base. base
 * NULL: against zero. trace_state_stats fills a vector of
 * trace_state_nstats(m) counters. */
size_t trace_state_nstats(const struct mmu *m);
void trace_state_stats(const struct mmu *m, uint64_t *out);
uint64_t trace_state_hash(const struct mmu *m, const uint64_t *base);

#endif
