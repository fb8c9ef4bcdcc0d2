/* Replay: records applied to a struct mmu, outcomes compared. */
#include "traces/replay.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "traces/recorder.h"

__attribute__((format(printf, 2, 3)))
static enum trace_replay_result diverged(struct trace_replay *r, const char *fmt, ...)
{
	int n = snprintf(r->msg, sizeof r->msg, "replay: divergence at record %" PRIu64
			 " (access %" PRIu64 ", after instruction %" PRIu64 "): ",
			 r->records, r->accesses, r->last_insns);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof r->msg)
		vsnprintf(r->msg + n, sizeof r->msg - (size_t)n, fmt, ap);
	va_end(ap);
	return TRACE_REPLAY_DIVERGED;
}

/* ---- the replay's observer: what the walk in progress read -------------- */

static void rp_walk_step(void *ctx, const struct mmu_walk_step *s)
{
	struct trace_replay *r = ctx;
	struct trace_access *a = &r->got;
	if (a->nsteps < TRACE_MAX_STEPS)
		a->step[a->nsteps++] = (struct trace_step){.level = s->level, .cache = s->cache,
							    .entry_pa = s->entry_pa, .entry = s->entry,
							    .cycles = s->cycles};
}

static void rp_ad_update(void *ctx, uint64_t entry_pa, uint64_t old, uint64_t new_)
{
	struct trace_replay *r = ctx;
	struct trace_access *a = &r->got;
	(void)old;
	for (unsigned i = 0; i < a->nsteps && a->nad < TRACE_MAX_STEPS; i++)
		if (a->step[i].entry_pa == entry_pa) {
			a->ad[a->nad++] = (struct trace_ad){.step = (uint8_t)i, .value = new_};
			return;
		}
}

/* ---- records ------------------------------------------------------------ */

/* Compare a translation's outcome (ok, x and the walk the observer saw)
 * with the recorded one. */
static enum trace_replay_result rp_compare(struct trace_replay *r, const struct trace_access *want,
					   bool ok, const struct mmu_xlate *x)
{
	struct trace_access *got = &r->got;
	got->la = want->la;
	got->acc = want->acc;
	got->ok = ok;
	got->cycles = x->cycles;
	got->walk_reads = x->walk_reads;
	got->pwc_level = x->pwc_level;
	got->pa = ok ? x->pa : 0;
	got->source = ok ? x->source : 0;
	got->size = ok ? x->size : 0;
	got->vector = ok ? 0 : x->fault.vector;
	got->error_code = ok ? 0 : x->fault.error_code;
	if (trace_access_equal(want, got))
		return TRACE_REPLAY_OK;
	char acc[4], e[400], g[400];
	trace_access_outcome_text(want, e, sizeof e);
	trace_access_outcome_text(got, g, sizeof g);
	return diverged(r, "%s la=%#" PRIx64 ": expected %s; actual %s",
			trace_acc_name(want->acc, acc), want->la, e, g);
}

static enum trace_replay_result rp_access(struct trace_replay *r, const struct trace_access *want)
{
	struct mmu_xlate x;
	r->got.nsteps = r->got.nad = 0;
	bool ok = mmu_translate(&r->m, want->la, want->acc, &x);
	r->accesses++;
	return r->check ? rp_compare(r, want, ok, &x) : TRACE_REPLAY_OK;
}

/* Translate a predicted access; true when the outcome is the predicted L1
 * hit, compared as one meta word and the physical address (or when not
 * checking). *ok and *x hold the outcome for the full comparison. */
static inline bool rp_predicted_holds(struct trace_replay *r, const struct trace_predicted *p,
				      bool *ok, struct mmu_xlate *x)
{
	r->got.nsteps = r->got.nad = 0;
	*ok = mmu_translate(&r->m, p->la, p->acc, x);
	return MMU_LIKELY((*ok && x->pa == p->pa && x->meta == p->meta &&
			   !r->got.nsteps) ||
			  !r->check);
}

/* Replay the run of predicted accesses at the reader's position (none,
 * one, or up to the block's end). Counts advance once, after the run, or
 * at a divergence, which names the access that diverged. */
static enum trace_replay_result rp_predicted_run(struct trace_replay *r, struct trace_reader *rd)
{
	struct trace_pred_run run;
	struct trace_predicted p = {0};
	struct mmu_xlate x;
	bool ok;
	enum trace_replay_result res = TRACE_REPLAY_OK;
	uint64_t records = r->records, accesses = r->accesses;
	trace_pred_run_begin(rd, &run);
	while (trace_pred_run_next(&run, &rd->codec, &p)) {
		if (rp_predicted_holds(r, &p, &ok, &x))
			continue;
		uint32_t taken = trace_pred_run_taken(&run);
		r->records = records + taken - 1; /* this access's record number */
		r->accesses = accesses + taken;
		struct trace_access want;
		trace_predicted_access(&p, &want);
		res = rp_compare(r, &want, ok, &x);
		break;
	}
	trace_pred_run_end(rd, &run, &p);
	r->records = records + trace_pred_run_taken(&run);
	r->accesses = accesses + trace_pred_run_taken(&run);
	return res;
}

static enum trace_replay_result rp_ctl(struct trace_replay *r, const struct trace_record *rec)
{
	struct mmu *m = &r->m;
	struct mmu_fault f;
	const uint64_t *a = rec->ctl.arg;
	bool ok = true;
	switch (rec->ctl.op) {
	case CTL_SET_CONTROL: mmu_set_control(m, a[0], a[1], a[2], a[3]); break;
	case CTL_CR0: ok = mmu_write_cr0(m, a[0], &f); break;
	case CTL_CR3: ok = mmu_write_cr3(m, a[0], &f); break;
	case CTL_CR4: ok = mmu_write_cr4(m, a[0], &f); break;
	case CTL_EFER: ok = mmu_write_efer(m, a[0], &f); break;
	case CTL_PKRU: mmu_write_pkru(m, (uint32_t)a[0]); break;
	case CTL_INVLPG: ok = mmu_invlpg(m, a[0], &f); break;
	case CTL_INVPCID: ok = mmu_invpcid(m, a[0], a[1], a[2], &f); break;
	default: mmu_flush_all(m); break;
	}
	if (rec->ctl.op == CTL_SET_CONTROL && !r->started) {
		r->started = true; /* checkpoints count from the start state on */
		mmu_stats_reset(m);
	}
	if (r->check && ok != rec->ctl.ok)
		return diverged(r, "%s %#" PRIx64 ": expected %s, actual %s",
				trace_ctl_op_name(rec->ctl.op), a[0], rec->ctl.ok ? "success" : "#GP",
				ok ? "success" : "#GP");
	return TRACE_REPLAY_OK;
}

static enum trace_replay_result rp_checkpoint(struct trace_replay *r, const struct trace_record *rec)
{
	r->checkpoints++;
	r->last_insns = rec->checkpoint.insns;
	if (!r->check)
		return TRACE_REPLAY_OK;
	uint64_t h = trace_state_hash(&r->m, NULL);
	if (h != rec->checkpoint.hash)
		return diverged(r, "checkpoint at instruction %" PRIu64 ": TLB contents or statistics differ"
				" (hash %016" PRIx64 ", recorded %016" PRIx64 ")",
				rec->checkpoint.insns, h, rec->checkpoint.hash);
	return TRACE_REPLAY_OK;
}

static enum trace_replay_result rp_record(struct trace_replay *r, const struct trace_record *rec)
{
	struct phys *p = &r->m.phys;
	switch (rec->kind) {
	case TR_ACCESS:
		return rp_access(r, &rec->access);
	case TR_FRAME: /* the reader checked pfn < RAM frames */
		memcpy(p->ram + (rec->frame.pfn << PHYS_FRAME_SHIFT), rec->frame.word, PHYS_FRAME_SIZE);
		return TRACE_REPLAY_OK;
	case TR_STORE: /* the reader checked the range lies in RAM */
		memcpy(p->ram + rec->store.pa, rec->store.data, rec->store.len);
		return TRACE_REPLAY_OK;
	case TR_CTL:
		return rp_ctl(r, rec);
	case TR_MODE:
		r->cpl = rec->mode.cpl;
		r->m.seg.sr[SEG_CS].l = rec->mode.cs_l; /* mmu_write_cr0 reads CS.L */
		return TRACE_REPLAY_OK;
	case TR_CHECKPOINT:
		return rp_checkpoint(r, rec);
	default:
		return TRACE_REPLAY_OK;
	}
}

/* ---- driver ------------------------------------------------------------- */

static bool rp_model(struct trace_replay *r, const struct trace_header *h,
		     const struct mmu_model *model, struct mmu_model *out)
{
	char err[300];
	if (model) {
		*out = *model;
		return true;
	}
	if (!mmu_model_resolve(out, h->model_name, err, sizeof err)) {
		snprintf(r->msg, sizeof r->msg, "replay: the trace's model '%s' is not available (%s); "
			 "give it with -model FILE", h->model_name, err);
		return false;
	}
	if (mmu_model_hash(out) != h->model_hash) {
		snprintf(r->msg, sizeof r->msg, "replay: model '%s' here differs from the recording's "
			 "(hash %016" PRIx64 ", trace %016" PRIx64 "); give the recording model with -model",
			 h->model_name, mmu_model_hash(out), h->model_hash);
		return false;
	}
	return true;
}

static enum trace_replay_result rp_run(struct trace_replay *r, struct trace_reader *rd,
				       const struct mmu_model *model, bool check)
{
	struct mmu_model mdl;
	char err[300];
	static const struct mmu_observer obs_proto = {.walk_step = rp_walk_step,
						      .ad_update = rp_ad_update};
	struct mmu_observer obs = obs_proto;
	obs.ctx = r;
	r->check = check;
	if (!rp_model(r, &rd->h, model, &mdl))
		return TRACE_REPLAY_BAD_TRACE;
	if (!mmu_init(&r->m, &mdl, rd->h.ram_size, err, sizeof err)) {
		snprintf(r->msg, sizeof r->msg, "replay: %s", err);
		return TRACE_REPLAY_BAD_TRACE;
	}
	mmu_stats_reset(&r->m);
	mmu_set_observer(&r->m, &obs);
	struct trace_record *rec = malloc(sizeof *rec);
	enum trace_replay_result res = TRACE_REPLAY_OK;
	enum trace_read_status st = TRACE_READ_ERROR;
	if (!rec)
		snprintf(rd->err, sizeof rd->err, "replay: out of memory");
	while (rec && (res = rp_predicted_run(r, rd)) == TRACE_REPLAY_OK) {
		if ((st = trace_reader_next(rd, rec)) != TRACE_READ_RECORD)
			break;
		res = rp_record(r, rec);
		r->records++;
		if (res != TRACE_REPLAY_OK)
			break;
	}
	free(rec);
	mmu_set_observer(&r->m, NULL);
	if (res != TRACE_REPLAY_OK)
		return res;
	if (st != TRACE_READ_END) {
		snprintf(r->msg, sizeof r->msg, "%s", rd->err);
		return TRACE_REPLAY_BAD_TRACE;
	}
	return TRACE_REPLAY_OK;
}

enum trace_replay_result trace_replay_file(struct trace_replay *r, const char *path,
					   const struct mmu_model *model, bool check)
{
	struct trace_reader rd;
	memset(r, 0, sizeof *r);
	if (!trace_reader_open(&rd, path, r->msg, sizeof r->msg))
		return TRACE_REPLAY_BAD_TRACE;
	enum trace_replay_result res = rp_run(r, &rd, model, check);
	trace_reader_close(&rd);
	return res;
}

enum trace_replay_result trace_replay_mem(struct trace_replay *r, const void *data, size_t len,
					  const char *name, const struct mmu_model *model,
					  bool check)
{
	struct trace_reader rd;
	memset(r, 0, sizeof *r);
	if (!trace_reader_open_mem(&rd, data, len, name, r->msg, sizeof r->msg))
		return TRACE_REPLAY_BAD_TRACE;
	enum trace_replay_result res = rp_run(r, &rd, model, check);
	trace_reader_close(&rd);
	return res;
}

void trace_replay_free(struct trace_replay *r)
{
	if (r->m.phys.ram)
		mmu_free(&r->m);
	memset(&r->m, 0, sizeof r->m);
}
