/* libFuzzer target: the trace reader, and the replay, on arbitrary bytes.
 *
 * Every input is read twice to its end: as it is, and with the header's
 * and every block's CRC recomputed, so that mutations reach the record
 * decoder instead of stopping at the checksums. Checked: the reader returns records
 * that respect the format's limits, then either the end (the end block's
 * counts matched) or an error with one non-empty line; it never reads out
 * of bounds (ASan) or overflows (UBSan). Inputs that read cleanly and whose
 * header asks for at most FUZZ_MAX_RAM are also replayed, in what-if mode
 * under the flat model, so that arbitrary control operations, frames and
 * accesses go through the MMU. Any violation prints what broke and aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/model.h"
#include "traces/replay.h"
#include "traces/trace.h"
#include "traces/wire.h"

#define FUZZ_MAX_RAM (UINT64_C(4) << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_trace: %s\n", what);
	abort();
}

static void check_record(const struct trace_record *r, uint64_t ram)
{
	switch (r->kind) {
	case TR_ACCESS:
		check(r->access.nsteps <= TRACE_MAX_STEPS && r->access.nad <= r->access.nsteps,
		      "access with too many steps");
		break;
	case TR_FRAME:
		check(r->frame.pfn < ram / 4096, "frame outside RAM");
		break;
	case TR_STORE:
		check(r->store.len >= 1 && r->store.len <= 4096 && r->store.pa < ram &&
			      r->store.len <= ram - r->store.pa, "store outside RAM");
		break;
	default:
		break;
	}
}

/* Read everything; true when the input is a valid trace. */
static bool read_all(const uint8_t *data, size_t size, uint64_t *ram)
{
	static struct trace_record rec;
	struct trace_reader rd;
	char err[300] = "";
	if (!trace_reader_open_mem(&rd, data, size, "fuzz", err, sizeof err)) {
		check(err[0] && !strchr(err, '\n'), "open failed without one line");
		return false;
	}
	enum trace_read_status st;
	while ((st = trace_reader_next(&rd, &rec)) == TRACE_READ_RECORD)
		check_record(&rec, rd.h.ram_size);
	check(st == TRACE_READ_END || (rd.err[0] && !strchr(rd.err, '\n')),
	      "error without one line");
	check(trace_reader_next(&rd, &rec) == st, "status not sticky");
	*ram = rd.h.ram_size;
	trace_reader_close(&rd);
	return st == TRACE_READ_END;
}

/* Recompute the header CRC and each block's CRC in place, following the
 * block lengths as far as they stay inside the buffer. */
static void fix_checksums(uint8_t *d, size_t size)
{
	static struct trace_crc crc;
	if (!crc.table[0][1])
		trace_crc_init(&crc);
	if (size < HDR_SIZE)
		return;
	wire_put32(d + HDR_CRC, trace_crc32(&crc, 0, d, HDR_CRC));
	for (size_t at = HDR_SIZE; at + BLK_HDR_SIZE <= size;) {
		uint32_t len = wire_get32(d + at + BLK_LEN);
		if (len > size - at - BLK_HDR_SIZE)
			return;
		uint32_t c = trace_crc32(&crc, 0, d + at, BLK_CRC);
		wire_put32(d + at + BLK_CRC, trace_crc32(&crc, c, d + at + BLK_HDR_SIZE, len));
		at += BLK_HDR_SIZE + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trace_replay r;
	uint64_t ram = 0;
	bool valid = read_all(data, size, &ram);
	uint8_t *fixed = malloc(size ? size : 1);
	check(fixed != NULL, "out of memory");
	memcpy(fixed, data, size);
	fix_checksums(fixed, size);
	if (!valid) {
		valid = read_all(fixed, size, &ram);
		data = fixed;
	}
	if (!valid || ram > FUZZ_MAX_RAM) {
		free(fixed);
		return 0;
	}
	struct mmu_model flat;
	mmu_model_flat(&flat);
	enum trace_replay_result res = trace_replay_mem(&r, data, size, "fuzz", &flat, false);
	check(res == TRACE_REPLAY_OK, "a valid trace failed in what-if mode");
	trace_replay_free(&r);
	free(fixed);
	return 0;
}
