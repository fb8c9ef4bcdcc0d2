/* replay, trace-dump, trace-stats. A command prints its result only after
 * the whole file has been read and found valid: a truncated or corrupt
 * trace gives one error line and status 2, never a partial result. */
#include "traces/tool.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/events.h"
#include "mmu/mmu.h"
#include "traces/replay.h"
#include "traces/trace.h"

#define TOOL_STATUS_DIVERGED 1
#define TOOL_STATUS_USAGE 2

static int usage(const char *cmd, const char *args)
{
	fprintf(stderr, "mmulab: %s: usage: mmulab %s %s\n", cmd, cmd, args);
	return TOOL_STATUS_USAGE;
}

/* ---- replay ------------------------------------------------------------- */

int trace_replay_command(int argc, char **argv, FILE *out)
{
	const char *path = NULL, *model_arg = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-model") && i + 1 < argc)
			model_arg = argv[++i];
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			return usage("replay", "FILE [-model M]");
	}
	if (!path)
		return usage("replay", "FILE [-model M]");
	struct mmu_model model;
	char err[300];
	if (model_arg && !mmu_model_resolve(&model, model_arg, err, sizeof err)) {
		fprintf(stderr, "mmulab: replay: %s\n", err);
		return TOOL_STATUS_USAGE;
	}
	struct trace_replay *r = calloc(1, sizeof *r);
	if (!r) {
		fprintf(stderr, "mmulab: replay: out of memory\n");
		return TOOL_STATUS_USAGE;
	}
	/* Checking needs the recording model; another model is a what-if study. */
	struct trace_reader rd;
	bool check = true;
	if (model_arg) {
		if (!trace_reader_open(&rd, path, err, sizeof err)) {
			fprintf(stderr, "mmulab: %s\n", err);
			free(r);
			return TOOL_STATUS_USAGE;
		}
		check = rd.h.model_hash == mmu_model_hash(&model);
		trace_reader_close(&rd);
	}
	enum trace_replay_result res = trace_replay_file(r, path, model_arg ? &model : NULL, check);
	int status = 0;
	if (res == TRACE_REPLAY_OK) {
		if (check)
			fprintf(out, "replay: %" PRIu64 " records, %" PRIu64 " accesses, %" PRIu64
				" checkpoints: every outcome matches\n", r->records, r->accesses,
				r->checkpoints);
		else
			fprintf(out, "replay: what-if under model '%s' (the trace was recorded with "
				"another model): outcomes not checked; %" PRIu64 " accesses\n",
				r->m.model.name, r->accesses);
		mmu_stats_print(&r->m, out);
	} else {
		fprintf(stderr, "mmulab: %s\n", r->msg);
		status = res == TRACE_REPLAY_DIVERGED ? TOOL_STATUS_DIVERGED : TOOL_STATUS_USAGE;
	}
	trace_replay_free(r);
	free(r);
	return status;
}

/* ---- reading a whole file first ----------------------------------------- */

typedef void (*record_fn)(void *ctx, const struct trace_record *rec, uint64_t n);

/* Read path to the end, calling fn for every record; false with the
 * reader's message printed. */
static bool for_each_record(const char *path, record_fn fn, void *ctx, struct trace_header *h,
			    uint64_t *bytes)
{
	struct trace_reader rd;
	char err[300];
	if (!trace_reader_open(&rd, path, err, sizeof err)) {
		fprintf(stderr, "mmulab: %s\n", err);
		return false;
	}
	struct trace_record *rec = malloc(sizeof *rec);
	enum trace_read_status st = TRACE_READ_ERROR;
	uint64_t n = 0;
	while (rec && (st = trace_reader_next(&rd, rec)) == TRACE_READ_RECORD)
		if (fn)
			fn(ctx, rec, n++);
	if (st != TRACE_READ_END)
		fprintf(stderr, "mmulab: %s\n", rec ? rd.err : "out of memory");
	if (h)
		*h = rd.h;
	if (bytes)
		*bytes = rd.file_pos;
	free(rec);
	trace_reader_close(&rd);
	return st == TRACE_READ_END;
}

static void print_header(FILE *out, const struct trace_header *h)
{
	fprintf(out, "# mmulab trace version %" PRIu32 ", mmulab %s, model %s (hash %016" PRIx64
		"), RAM %" PRIu64 " bytes\n", h->version, h->emu_version, h->model_name, h->model_hash,
		h->ram_size);
	fprintf(out, "# start: instruction %" PRIu64 ", cycle %" PRIu64 ", CR0=%#" PRIx64
		" CR3=%#" PRIx64 " CR4=%#" PRIx64 " EFER=%#" PRIx64 " PKRU=%#" PRIx32
		" CPL=%u CS.L=%u\n", h->start_insns, h->start_cycles, h->cr0, h->cr3, h->cr4, h->efer,
		h->pkru, h->cpl, h->cs_l);
}

/* ---- trace-dump --------------------------------------------------------- */

static void dump_record(void *ctx, const struct trace_record *rec, uint64_t n)
{
	FILE *out = ctx;
	char acc[4], text[600];
	fprintf(out, "%8" PRIu64 " ", n);
	switch (rec->kind) {
	case TR_ACCESS:
		trace_access_outcome_text(&rec->access, text, sizeof text);
		fprintf(out, "access %-3s %#018" PRIx64 " %s%s\n", trace_acc_name(rec->access.acc, acc),
			rec->access.la, text, rec->access.predicted ? " (predicted)" : "");
		break;
	case TR_FRAME: {
		unsigned nz = 0;
		for (unsigned i = 0; i < TRACE_FRAME_WORDS; i++)
			nz += rec->frame.word[i] != 0;
		fprintf(out, "frame  %#" PRIx64 " (%u non-zero entries)\n",
			rec->frame.pfn << PHYS_FRAME_SHIFT, nz);
		break;
	}
	case TR_STORE: {
		uint64_t v = 0;
		memcpy(&v, rec->store.data, rec->store.len < 8 ? rec->store.len : 8);
		fprintf(out, "store  %#" PRIx64 " %" PRIu32 " bytes%s %#" PRIx64 "\n", rec->store.pa,
			rec->store.len, rec->store.len > 8 ? ", first 8:" : "", v);
		break;
	}
	case TR_CTL:
		fprintf(out, "ctl    %s", trace_ctl_op_name(rec->ctl.op));
		for (unsigned i = 0; i < 4; i++)
			if (rec->ctl.arg[i] || i == 0)
				fprintf(out, " %#" PRIx64, rec->ctl.arg[i]);
		fprintf(out, "%s\n", rec->ctl.ok ? "" : " -> #GP");
		break;
	case TR_MODE:
		fprintf(out, "mode   CPL=%u CS.L=%u\n", rec->mode.cpl, rec->mode.cs_l);
		break;
	case TR_CHECKPOINT:
		fprintf(out, "checkpoint accesses=%" PRIu64 " insns=%" PRIu64 " cycles=%" PRIu64
			" hash=%016" PRIx64 "\n", rec->checkpoint.accesses, rec->checkpoint.insns,
			rec->checkpoint.cycles, rec->checkpoint.hash);
		break;
	default:
		break;
	}
}

int trace_dump_command(int argc, char **argv, FILE *out)
{
	struct trace_header h;
	if (argc != 1 || argv[0][0] == '-')
		return usage("trace-dump", "FILE");
	if (!for_each_record(argv[0], NULL, NULL, &h, NULL))
		return TOOL_STATUS_USAGE; /* validate everything before printing anything */
	print_header(out, &h);
	return for_each_record(argv[0], dump_record, out, NULL, NULL) ? 0 : TOOL_STATUS_USAGE;
}

/* ---- trace-stats -------------------------------------------------------- */

struct stats_acc {
	uint64_t kinds[TR_NKINDS];
	uint64_t predicted, faults, by_source[4], walk_steps, ad_updates, pwc_hits;
	uint64_t by_vector[32], cycles;
	uint64_t first_insns, last_insns;
};

static void stats_record(void *ctx, const struct trace_record *rec, uint64_t n)
{
	struct stats_acc *s = ctx;
	(void)n;
	s->kinds[rec->kind]++;
	if (rec->kind == TR_CHECKPOINT)
		s->last_insns = rec->checkpoint.insns;
	if (rec->kind != TR_ACCESS)
		return;
	const struct trace_access *a = &rec->access;
	s->predicted += a->predicted;
	s->cycles += a->cycles;
	s->walk_steps += a->nsteps;
	s->ad_updates += a->nad;
	s->pwc_hits += a->pwc_level != 0;
	if (a->ok) {
		s->by_source[a->source & 3]++;
	} else {
		s->faults++;
		s->by_vector[a->vector & 31]++;
	}
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

int trace_stats_command(int argc, char **argv, FILE *out)
{
	struct trace_header h;
	struct stats_acc s;
	uint64_t bytes = 0;
	if (argc != 1 || argv[0][0] == '-')
		return usage("trace-stats", "FILE");
	memset(&s, 0, sizeof s);
	if (!for_each_record(argv[0], stats_record, &s, &h, &bytes))
		return TOOL_STATUS_USAGE;
	uint64_t acc = s.kinds[TR_ACCESS];
	print_header(out, &h);
	for (unsigned k = 0; k < TR_NKINDS; k++)
		fprintf(out, "records_%s %" PRIu64 "\n", trace_rec_kind_name((enum trace_rec_kind)k),
			s.kinds[k]);
	fprintf(out, "file_bytes %" PRIu64 "\nbytes_per_access %.3f\n", bytes,
		acc ? (double)bytes / (double)acc : 0.0);
	fprintf(out, "instructions %" PRIu64 "\n", s.last_insns - h.start_insns);
	fprintf(out, "predicted_accesses %" PRIu64 " (%.2f%%)\n", s.predicted, pct(s.predicted, acc));
	static const char *const src[4] = {"nopaging", "l1_hits", "l2_hits", "walks"};
	for (unsigned i = 0; i < 4; i++)
		fprintf(out, "%s %" PRIu64 " (%.2f%%)\n", src[i], s.by_source[i], pct(s.by_source[i], acc));
	fprintf(out, "walk_reads %" PRIu64 "\npwc_hits %" PRIu64 "\nad_updates %" PRIu64 "\n",
		s.walk_steps, s.pwc_hits, s.ad_updates);
	fprintf(out, "faults %" PRIu64 "\n", s.faults);
	for (unsigned v = 0; v < 32; v++)
		if (s.by_vector[v])
			fprintf(out, "faults_vector_%u %" PRIu64 "\n", v, s.by_vector[v]);
	fprintf(out, "translation_cycles %" PRIu64 "\n", s.cycles);
	return 0;
}
