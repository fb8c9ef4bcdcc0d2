/* Damaged traces are rejected with one clear line and no result: a flipped
 * byte anywhere, every truncation, a wrong version, a wrong checksum, a
 * wrong magic, trailing data, a slot access with no prediction. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmu/access.h"
#include "mmu/events.h"
#include "mmu/model.h"
#include "tests/trace_support.h"
#include "traces/replay.h"
#include "traces/trace.h"
#include "traces/wire.h"

#define SAMPLE TRACES_DIR "/guest_smc.mmt"

static uint8_t *sample(size_t *len)
{
	uint8_t *d = trace_test_slurp(SAMPLE, len);
	cr_assert(d, "cannot read %s", SAMPLE);
	return d;
}

/* Reads data to its end and requires a rejection whose message contains
 * want: the reader never reaches the end of a damaged file. */
static void expect_rejected(const uint8_t *data, size_t len, const char *want)
{
	struct trace_reader rd;
	struct trace_record *rec = malloc(sizeof *rec);
	char err[300] = "";
	const char *msg = err;
	if (trace_reader_open_mem(&rd, data, len, "t", err, sizeof err)) {
		enum trace_read_status st;
		while ((st = trace_reader_next(&rd, rec)) == TRACE_READ_RECORD)
			;
		cr_assert_eq(st, TRACE_READ_ERROR, "accepted (len %zu)", len);
		msg = rd.err;
	}
	cr_assert(strstr(msg, want), "message '%s' lacks '%s'", msg, want);
	cr_assert_null(strchr(msg, '\n'), "one line");
	if (msg != err)
		trace_reader_close(&rd);
	free(rec);
}

Test(trace_reject, a_replay_of_a_damaged_file_gives_no_result)
{
	size_t len;
	uint8_t *d = sample(&len);
	struct trace_replay *r = malloc(sizeof *r);
	cr_assert_eq(trace_replay_mem(r, d, len - 1, "t", NULL, true), TRACE_REPLAY_BAD_TRACE);
	cr_assert(strstr(r->msg, "trace t: byte"), "%s", r->msg);
	trace_replay_free(r);
	free(r);
	free(d);
}

Test(trace_reject, the_intact_sample_is_accepted)
{
	size_t len;
	uint8_t *d = sample(&len);
	struct trace_replay *r = malloc(sizeof *r);
	cr_assert_eq(trace_replay_mem(r, d, len, "t", NULL, true), TRACE_REPLAY_OK, "%s", r->msg);
	trace_replay_free(r);
	free(r);
	free(d);
}

Test(trace_reject, every_truncation_is_rejected, .timeout = 60)
{
	size_t len;
	uint8_t *d = sample(&len);
	/* Every cut in the header and block headers, a stride elsewhere. */
	for (size_t cut = 0; cut < len; cut += cut < 256 || cut > len - 64 ? 1 : 97)
		expect_rejected(d, cut, "byte");
	free(d);
}

Test(trace_reject, a_flipped_byte_in_a_block_fails_its_checksum)
{
	size_t len;
	uint8_t *d = sample(&len);
	for (size_t at = HDR_SIZE + BLK_HDR_SIZE; at < len - 32; at += 1031) {
		d[at] ^= 0x10;
		expect_rejected(d, len, "checksum");
		d[at] ^= 0x10;
	}
	free(d);
}

/* d with its header's version set to version, its checksum valid. */
static void set_version(uint8_t *d, uint32_t version)
{
	struct trace_crc *crc = malloc(sizeof *crc);
	trace_crc_init(crc);
	wire_put32(d + HDR_VERSION, version);
	wire_put32(d + HDR_CRC, trace_crc32(crc, 0, d, HDR_CRC)); /* a valid header otherwise */
	free(crc);
}

Test(trace_reject, a_wrong_version_is_named)
{
	size_t len;
	uint8_t *d = sample(&len);
	char want[64];
	set_version(d, TRACE_VERSION + 1);
	snprintf(want, sizeof want, "version %d, this mmulab reads version %d", TRACE_VERSION + 1,
		 TRACE_VERSION);
	expect_rejected(d, len, want);
	set_version(d, TRACE_VERSION - 1);
	snprintf(want, sizeof want, "version %d, this mmulab reads version %d", TRACE_VERSION - 1,
		 TRACE_VERSION);
	expect_rejected(d, len, want);
	free(d);
}

/* A trace of one explicit L1 hit and n slot accesses to the same page;
 * *slot: the offset of the last slot access's tag byte (the last record of
 * the only data block). */
static uint8_t *slot_sample(unsigned n, size_t *len, size_t *slot)
{
	struct trace_header h = {.ram_size = 1 << 20};
	struct trace_writer *w = malloc(sizeof *w);
	struct trace_record *rec = calloc(1, sizeof *rec);
	char path[256], err[300];
	trace_test_tmpfile(path, sizeof path);
	cr_assert(path[0] && trace_writer_open(w, path, &h, err, sizeof err), "%s", err);
	rec->kind = TR_ACCESS;
	rec->access = (struct trace_access){.la = 0x401000, .acc = ACC_READ, .ok = true,
					    .pa = 0x7000, .source = SRC_L1, .cycles = 1};
	trace_writer_put(w, rec);
	for (unsigned i = 1; i <= n; i++) {
		rec->access.la = 0x401000 + 8 * i;
		rec->access.pa = 0x7000 + 8 * i;
		trace_writer_put(w, rec);
	}
	cr_assert(trace_writer_close(w, err, sizeof err), "%s", err);
	uint8_t *d = trace_test_slurp(path, len);
	cr_assert(d);
	*slot = HDR_SIZE + BLK_HDR_SIZE + wire_get32(d + HDR_SIZE + BLK_LEN) - TRACE_SLOT_RECORD_LEN;
	cr_assert_eq(d[*slot] & ~TRACE_TAG_SLOT_MASK, TRACE_TAG_SLOT, "a slot access");
	unlink(path);
	free(w);
	free(rec);
	return d;
}

/* Recompute the first data block's checksum after an edit. */
static void reseal_first_block(uint8_t *d)
{
	struct trace_crc *crc = malloc(sizeof *crc);
	uint8_t *b = d + HDR_SIZE;
	trace_crc_init(crc);
	uint32_t c = trace_crc32(crc, 0, b, BLK_CRC);
	wire_put32(b + BLK_CRC, trace_crc32(crc, c, b + BLK_HDR_SIZE, wire_get32(b + BLK_LEN)));
	free(crc);
}

Test(trace_reject, a_slot_access_with_no_prediction_is_named)
{
	size_t len, at;
	uint8_t *d = slot_sample(1, &len, &at);
	uint8_t good[TRACE_SLOT_RECORD_LEN];
	memcpy(good, d + at, sizeof good);
	d[at] = TRACE_TAG_SLOT | 1; /* slot 1 is empty */
	reseal_first_block(d);
	expect_rejected(d, len, "slot access with no prediction");
	memcpy(d + at, good, sizeof good);
	d[at + 2] = (uint8_t)((d[at + 2] & 0x0f) | ACC_FETCH << (TRACE_SLOT_ACC_SHIFT - 8));
	reseal_first_block(d);
	expect_rejected(d, len, "slot access with no prediction");
	memcpy(d + at, good, sizeof good);
	reseal_first_block(d);
	struct trace_reader rd;
	struct trace_record *rec = malloc(sizeof *rec);
	char err[300];
	cr_assert(trace_reader_open_mem(&rd, d, len, "t", err, sizeof err), "%s", err);
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(trace_reader_next(&rd, rec), TRACE_READ_RECORD, "%s", rd.err);
	cr_assert(rec->access.predicted && rec->access.la == 0x401008 && rec->access.pa == 0x7008,
		  "the edits undone, it reads");
	cr_assert_eq(trace_reader_next(&rd, rec), TRACE_READ_END, "%s", rd.err);
	trace_reader_close(&rd);
	free(rec);
	free(d);
}

Test(trace_reject, a_wrong_header_checksum_is_named)
{
	size_t len;
	uint8_t *d = sample(&len);
	d[HDR_CRC] ^= 1;
	expect_rejected(d, len, "header checksum");
	free(d);
}

Test(trace_reject, a_wrong_block_checksum_field_is_named)
{
	size_t len;
	uint8_t *d = sample(&len);
	d[HDR_SIZE + BLK_CRC] ^= 0x80;
	expect_rejected(d, len, "block checksum");
	free(d);
}

Test(trace_reject, not_a_trace_and_trailing_data_are_named)
{
	size_t len;
	uint8_t *d = sample(&len);
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, d, len);
	longer[len] = 0;
	expect_rejected(longer, len + 1, "after the end block");
	d[0] = 'X';
	expect_rejected(d, len, "bad magic");
	free(longer);
	free(d);
}

/* The replay's inline run of slot accesses stops where the block's
 * announced records end, so that the general decoder names a block holding
 * more records than it announces, as it does for any other record. */
Test(trace_reject, a_run_of_slot_accesses_stops_at_the_announced_count)
{
	size_t len, at;
	uint8_t *d = slot_sample(3, &len, &at);
	struct trace_replay *r = malloc(sizeof *r);
	struct mmu_model flat;
	mmu_model_flat(&flat);
	wire_put32(d + HDR_SIZE + BLK_RECORDS, 3); /* it holds four */
	reseal_first_block(d);
	expect_rejected(d, len, "more records than announced");
	cr_assert_eq(trace_replay_mem(r, d, len, "t", &flat, false), TRACE_REPLAY_BAD_TRACE);
	cr_assert(strstr(r->msg, "more records than announced"), "%s", r->msg);
	trace_replay_free(r);
	wire_put32(d + HDR_SIZE + BLK_RECORDS, 5);
	reseal_first_block(d);
	expect_rejected(d, len, "block holds 4 records, announced 5");
	cr_assert_eq(trace_replay_mem(r, d, len, "t", &flat, false), TRACE_REPLAY_BAD_TRACE);
	cr_assert(strstr(r->msg, "block holds 4 records, announced 5"), "%s", r->msg);
	trace_replay_free(r);
	free(r);
	free(d);
}
