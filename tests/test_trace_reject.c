/* Damaged traces are rejected with one clear line and no result: a flipped
 * byte anywhere, every truncation, a wrong version, a wrong checksum, a
 * wrong magic, trailing data. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

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

Test(trace_reject, a_wrong_version_is_named)
{
	size_t len;
	uint8_t *d = sample(&len);
	struct trace_crc crc;
	trace_crc_init(&crc);
	wire_put32(d + HDR_VERSION, TRACE_VERSION + 1);
	wire_put32(d + HDR_CRC, trace_crc32(&crc, 0, d, HDR_CRC)); /* a valid header otherwise */
	expect_rejected(d, len, "version 2");
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
