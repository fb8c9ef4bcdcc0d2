/* Replays: every trace in traces/ matches the current MMU model exactly; a
 * live run and the replay of its own trace agree; a replay under a model
 * whose timing differs reports the first divergence. TRACES_DIR is the
 * source traces/ directory, GUEST_DIR the guest images' build directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/machine.h"
#include "tests/trace_support.h"
#include "traces/recorder.h"
#include "traces/replay.h"

Test(trace_replay, every_trace_in_traces_replays_exactly, .timeout = 120)
{
	DIR *d = opendir(TRACES_DIR);
	cr_assert(d, "cannot open %s", TRACES_DIR);
	struct dirent *e;
	unsigned n = 0;
	struct trace_replay *r = malloc(sizeof *r);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".mmt"))
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", TRACES_DIR, e->d_name);
		enum trace_replay_result res = trace_replay_file(r, path, NULL, true);
		cr_expect_eq(res, TRACE_REPLAY_OK, "%s: %s", e->d_name, r->msg);
		cr_expect_gt(r->accesses, 0, "%s holds accesses", e->d_name);
		trace_replay_free(r);
		n++;
	}
	closedir(d);
	free(r);
	cr_assert_geq(n, 5, "traces/ holds the regression traces");
}

static void record_guest(const char *image, const char *path, uint64_t *accesses,
			 uint64_t *final_hash)
{
	char kernel[512], err[400];
	snprintf(kernel, sizeof kernel, "%s/%s.elf", GUEST_DIR, image);
	struct machine_config cfg = {.kernel = kernel};
	struct machine *m = calloc(1, sizeof *m);
	struct trace_recorder *rec = calloc(1, sizeof *rec);
	cr_assert(m && rec);
	cr_assert(machine_init(m, &cfg, err, sizeof err), "%s", err);
	struct trace_client cl = {.insns = &m->cpu.insns, .cycles = &m->cpu.cycles,
				  .cpl = &m->cpu.cpl, .emu_version = "test"};
	cr_assert(trace_recorder_start(rec, &m->cpu.mmu, path, &cl, err, sizeof err), "%s", err);
	cr_assert_eq(machine_run(m), MACHINE_EXIT);
	*accesses = rec->w.accesses;
	*final_hash = trace_state_hash(&m->cpu.mmu, rec->base);
	cr_assert(trace_recorder_stop(rec, err, sizeof err), "%s", err);
	machine_free(m);
	free(m);
	free(rec);
}

Test(trace_replay, live_run_and_replay_of_its_trace_agree, .timeout = 60)
{
	char path[256];
	trace_test_tmpfile(path, sizeof path);
	cr_assert(path[0], "cannot create a temporary file");
	uint64_t accesses, live_hash;
	record_guest("tlb_thrash", path, &accesses, &live_hash);
	struct trace_replay *r = malloc(sizeof *r);
	enum trace_replay_result res = trace_replay_file(r, path, NULL, true);
	cr_assert_eq(res, TRACE_REPLAY_OK, "%s", r->msg);
	cr_assert_eq(r->accesses, accesses);
	cr_assert_eq(trace_state_hash(&r->m, NULL), live_hash,
		     "TLB contents and statistics equal the live run's at its end");
	cr_assert_gt(r->m.stats.walks, 100, "the thrashing loop walks");
	trace_replay_free(r);
	free(r);
	unlink(path);
}

Test(trace_replay, other_timing_is_reported_as_the_first_divergence)
{
	size_t len;
	uint8_t *data = trace_test_slurp(TRACES_DIR "/guest_tlb_thrash.mmt", &len);
	cr_assert(data);
	struct mmu_model model;
	mmu_model_default(&model);
	model.walk_start += 1; /* every walk one cycle slower */
	struct trace_replay *r = malloc(sizeof *r);
	enum trace_replay_result res = trace_replay_mem(r, data, len, "thrash", &model, true);
	cr_assert_eq(res, TRACE_REPLAY_DIVERGED);
	cr_assert(strstr(r->msg, "divergence at record"), "%s", r->msg);
	cr_assert(strstr(r->msg, "expected") && strstr(r->msg, "actual"), "%s", r->msg);
	trace_replay_free(r);
	res = trace_replay_mem(r, data, len, "thrash", &model, false);
	cr_assert_eq(res, TRACE_REPLAY_OK, "what-if mode checks nothing: %s", r->msg);
	cr_assert_gt(r->m.stats.walks, 0);
	trace_replay_free(r);
	mmu_model_default(&model);
	model.tlb[TLB_L1D][0].latency += 1; /* 4-KiB L1 DTLB hits one cycle slower */
	res = trace_replay_mem(r, data, len, "thrash", &model, true);
	cr_assert_eq(res, TRACE_REPLAY_DIVERGED, "a predicted L1 hit is checked too");
	cr_assert(strstr(r->msg, " L1 4k "), "%s", r->msg);
	trace_replay_free(r);
	free(r);
	free(data);
}

/* The record number, access number and address in a divergence message
 * name the record the reader finds there. */
static void expect_divergence_names_its_record(const uint8_t *data, size_t len, const char *msg)
{
	uint64_t record, access, la;
	const char *at = strstr(msg, "la=");
	cr_assert(sscanf(msg, "replay: divergence at record %" SCNu64 " (access %" SCNu64, &record,
			 &access) == 2 && at && sscanf(at, "la=%" SCNx64, &la) == 1, "%s", msg);
	struct trace_reader *rd = malloc(sizeof *rd);
	struct trace_record *rec = malloc(sizeof *rec);
	char err[300];
	cr_assert(trace_reader_open_mem(rd, data, len, "trace", err, sizeof err), "%s", err);
	for (uint64_t i = 0; i <= record; i++)
		cr_assert_eq(trace_reader_next(rd, rec), TRACE_READ_RECORD, "%s", rd->err);
	cr_assert_eq(rec->kind, TR_ACCESS, "record %" PRIu64 " is an access", record);
	cr_assert_eq(rec->access.la, la);
	cr_assert_eq(rd->accesses, access, "the access count includes it");
	trace_reader_close(rd);
	free(rd);
	free(rec);
}

/* The kernel runs on 2-MiB pages: its hits, most of them predicted and
 * many far from the access before (its image and its direct map are
 * terabytes apart), are checked like any other. With one 2-MiB L1 DTLB
 * entry, the second 2-MiB data page evicts the first. */
Test(trace_replay, a_kernel_trace_under_a_smaller_2m_dtlb_diverges_at_a_hit, .timeout = 60)
{
	size_t len;
	uint8_t *data = trace_test_slurp(TRACES_DIR "/kernel_boot.mmt", &len);
	cr_assert(data);
	struct mmu_model model;
	mmu_model_default(&model);
	model.tlb[TLB_L1D][1].entries = model.tlb[TLB_L1D][1].ways = 1; /* one entry */
	struct trace_replay *r = malloc(sizeof *r);
	enum trace_replay_result res = trace_replay_mem(r, data, len, "kernel", &model, true);
	cr_assert_eq(res, TRACE_REPLAY_DIVERGED, "%s", r->msg);
	cr_assert(strstr(r->msg, " L1 2m ") && strstr(r->msg, " L2 2m "),
		  "an L1 hit of the recording is an L2 hit here: %s", r->msg);
	expect_divergence_names_its_record(data, len, r->msg);
	trace_replay_free(r);
	free(r);
	free(data);
}

/* guest_exceptions runs an instruction from the last canonical page into
 * the non-canonical hole: the fetch of its second part is a #GP(0)
 * translation fault (no other regression trace holds one), and its replay
 * reports the same fault. */
Test(trace_replay, a_fetch_into_the_non_canonical_hole_replays_as_a_gp_fault)
{
	struct trace_replay *r = malloc(sizeof *r);
	enum trace_replay_result res =
		trace_replay_file(r, TRACES_DIR "/guest_exceptions.mmt", NULL, true);
	cr_assert_eq(res, TRACE_REPLAY_OK, "%s", r->msg);
	cr_assert_eq(r->m.stats.faults_gp, 1, "one #GP translation fault");
	trace_replay_free(r);
	free(r);
}
