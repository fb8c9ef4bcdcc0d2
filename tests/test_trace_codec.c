/* The trace encoding: varints, zigzag deltas, CRC-32, the hit predictor,
 * and a round trip of every record kind through the writer and reader. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmu/events.h"
#include "mmu/mmu.h"
#include "tests/trace_support.h"
#include "traces/trace.h"

Test(trace_codec, varint_round_trips_edge_values)
{
	static const uint64_t vals[] = {0, 1, 127, 128, 255, 16383, 16384, UINT32_MAX,
					UINT64_C(1) << 63, UINT64_MAX, UINT64_C(0x8000000000123067)};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		uint8_t buf[16];
		uint64_t back = 0;
		size_t n = trace_put_varint(buf, vals[i]);
		cr_assert_leq(n, 10);
		cr_assert_eq(trace_get_varint(buf, n, &back), n);
		cr_assert_eq(back, vals[i]);
		cr_assert_eq(trace_get_varint(buf, n - 1, &back), 0, "a cut varint is rejected");
	}
}

Test(trace_codec, varint_rejects_more_than_64_bits)
{
	uint8_t buf[11];
	uint64_t v;
	memset(buf, 0xff, sizeof buf);
	buf[10] = 0;
	cr_assert_eq(trace_get_varint(buf, sizeof buf, &v), 0);
	buf[9] = 0x02; /* bit 64 */
	cr_assert_eq(trace_get_varint(buf, 10, &v), 0);
}

/* The inline decoder either declines (0) or reads exactly what the general
 * one reads; it declines nothing up to nine bytes. */
static void expect_short_varint_agrees(const uint8_t *buf, size_t avail)
{
	uint64_t vs = 0, vg = 0;
	size_t ns = trace_get_short_varint(buf, avail, &vs);
	size_t ng = trace_get_varint(buf, avail, &vg);
	if (ns) {
		cr_assert_eq(ns, ng, "length of %zu-byte input", avail);
		cr_assert_eq(vs, vg);
	} else if (ng) {
		cr_assert_gt(ng, TRACE_SHORT_VARINT_MAX, "a %zu-byte varint declined", ng);
	}
}

Test(trace_codec, short_varint_agrees_with_the_general_decoder)
{
	uint8_t buf[16];
	for (unsigned bits = 0; bits <= 64; bits++) {
		uint64_t v = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
		memset(buf, 0xff, sizeof buf);
		size_t n = trace_put_varint(buf, v);
		for (size_t avail = 0; avail <= n + 2; avail++)
			expect_short_varint_agrees(buf, avail);
		uint64_t back;
		if (n <= TRACE_SHORT_VARINT_MAX)
			cr_assert(trace_get_short_varint(buf, n, &back) == n && back == v, "%u bits", bits);
	}
	uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
	for (unsigned i = 0; i < 20000; i++) { /* arbitrary bytes, continuation bits dense */
		for (size_t k = 0; k < sizeof buf; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[k] = (uint8_t)(x | (x >> 8 & 0x80));
		}
		expect_short_varint_agrees(buf, i % sizeof buf);
	}
}

Test(trace_codec, zigzag_round_trips_signed_deltas)
{
	static const int64_t vals[] = {0, -1, 1, -64, 63, INT64_MIN, INT64_MAX, -4096, 4096};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		cr_assert_eq(trace_unzigzag(trace_zigzag(vals[i])), vals[i]);
	cr_assert_eq(trace_zigzag(-1), 1, "small negatives stay small");
}

Test(trace_codec, crc32_matches_the_standard_check_value)
{
	struct trace_crc t;
	trace_crc_init(&t);
	cr_assert_eq(trace_crc32(&t, 0, "123456789", 9), 0xcbf43926u);
}

static struct trace_access l1_hit(uint64_t la, uint64_t pa, uint32_t cycles)
{
	struct trace_access a;
	memset(&a, 0, sizeof a);
	a.la = la;
	a.acc = ACC_READ;
	a.ok = true;
	a.pa = pa;
	a.source = SRC_L1;
	a.size = PG_4K;
	a.cycles = cycles;
	return a;
}

Test(trace_codec, predictor_predicts_a_repeat_hit_on_the_same_page)
{
	struct trace_codec *c = malloc(sizeof *c);
	struct trace_access p, a = l1_hit(0x401000, 0x7000, 1);
	trace_codec_init(c);
	cr_assert_not(trace_codec_predict(c, 0x401008, ACC_READ, &p), "nothing known yet");
	trace_codec_update(c, &a);
	cr_assert(trace_codec_predict(c, 0x401ff8, ACC_READ, &p));
	cr_assert_eq(p.pa, 0x7ff8);
	cr_assert_eq(p.cycles, 1);
	cr_assert_not(trace_codec_predict(c, 0x401000, ACC_FETCH, &p), "fetches are predicted apart");
	cr_assert_not(trace_codec_predict(c, 0x402000, ACC_READ, &p), "another page");
	free(c);
}

static char tmp_path[256];

static void tmp_file(void)
{
	trace_test_tmpfile(tmp_path, sizeof tmp_path);
	cr_assert(tmp_path[0], "cannot create a temporary file");
}

static void put_records(struct trace_writer *w, struct trace_record *r)
{
	r->kind = TR_MODE;
	r->mode.cpl = 3;
	r->mode.cs_l = 1;
	trace_writer_put(w, r);
	r->kind = TR_FRAME;
	memset(r->frame.word, 0, sizeof r->frame.word);
	r->frame.pfn = 5;
	r->frame.word[0] = 0x6003;
	r->frame.word[511] = UINT64_C(0x8000000000009063);
	trace_writer_put(w, r);
	r->kind = TR_STORE;
	r->store.pa = 0x5008;
	r->store.len = 8;
	memcpy(r->store.data, "\x67\x70\0\0\0\0\0\0", 8);
	trace_writer_put(w, r);
	r->kind = TR_CTL;
	r->ctl.op = CTL_INVPCID;
	r->ctl.ok = false;
	r->ctl.arg[0] = 9;
	r->ctl.arg[1] = 1;
	r->ctl.arg[2] = 0x1000;
	trace_writer_put(w, r);
	r->kind = TR_ACCESS;
	memset(&r->access, 0, sizeof r->access);
	r->access = l1_hit(0xffff800000001000, 0x1000, 4);
	r->access.source = SRC_WALK;
	r->access.walk_reads = 2;
	r->access.pwc_level = 3;
	r->access.nsteps = 2;
	r->access.step[0] = (struct trace_step){2, CACHE_L2, 0x5000, 0x6003, 12};
	r->access.step[1] = (struct trace_step){1, CACHE_DRAM, 0x6008, 0x1003, 250};
	r->access.nad = 1;
	r->access.ad[0] = (struct trace_ad){1, 0x1023};
	trace_writer_put(w, r);
	r->access = l1_hit(0xffff800000001040, 0x1040, 4);
	trace_writer_put(w, r); /* no L1 hit seen yet: explicit */
	r->access = l1_hit(0xffff800000001080, 0x1080, 4);
	trace_writer_put(w, r); /* predicted */
	memset(&r->access, 0, sizeof r->access);
	r->access.la = 0x2000;
	r->access.acc = ACC_WRITE | ACC_USER;
	r->access.vector = 14;
	r->access.error_code = 7;
	r->access.cycles = 30;
	trace_writer_put(w, r);
	r->kind = TR_CHECKPOINT;
	r->checkpoint.accesses = 4;
	r->checkpoint.insns = 100;
	r->checkpoint.cycles = 1000;
	r->checkpoint.hash = UINT64_C(0x0123456789abcdef);
	trace_writer_put(w, r);
}

Test(trace_codec, every_record_kind_round_trips_through_a_file)
{
	struct trace_header h = {.ram_size = 1 << 20, .model_hash = 42, .cr0 = 0x80000011,
				 .cr3 = 0x5000, .cr4 = 0x20, .efer = 0x500, .cpl = 3, .cs_l = 1};
	snprintf(h.model_name, sizeof h.model_name, "flat");
	struct trace_writer *w = malloc(sizeof *w);
	struct trace_reader *rd = malloc(sizeof *rd);
	struct trace_record *in = calloc(1, sizeof *in), *out = calloc(1, sizeof *out);
	char err[300];
	tmp_file();
	cr_assert(trace_writer_open(w, tmp_path, &h, err, sizeof err), "%s", err);
	put_records(w, in);
	cr_assert(trace_writer_close(w, err, sizeof err), "%s", err);

	cr_assert(trace_reader_open(rd, tmp_path, err, sizeof err), "%s", err);
	cr_assert_eq(rd->h.cr3, 0x5000);
	cr_assert_str_eq(rd->h.model_name, "flat");
	enum trace_rec_kind kinds[] = {TR_MODE, TR_FRAME, TR_STORE, TR_CTL, TR_ACCESS, TR_ACCESS,
				       TR_ACCESS, TR_ACCESS, TR_CHECKPOINT};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		cr_assert_eq(trace_reader_next(rd, out), TRACE_READ_RECORD, "record %zu: %s", i, rd->err);
		cr_assert_eq(out->kind, kinds[i], "record %zu", i);
		if (i == 1)
			cr_assert_eq(out->frame.word[511], UINT64_C(0x8000000000009063));
		if (i == 3)
			cr_assert(out->ctl.op == CTL_INVPCID && !out->ctl.ok && out->ctl.arg[2] == 0x1000);
		if (i == 4) {
			cr_assert_eq(out->access.step[1].entry_pa, 0x6008);
			cr_assert_eq(out->access.ad[0].value, 0x1023);
			cr_assert_eq(out->access.pwc_level, 3);
		}
		if (i == 6)
			cr_assert(out->access.predicted && out->access.pa == 0x1080);
		if (i == 7)
			cr_assert(!out->access.ok && out->access.error_code == 7 &&
				  out->access.acc == (ACC_WRITE | ACC_USER));
		if (i == 8)
			cr_assert_eq(out->checkpoint.hash, UINT64_C(0x0123456789abcdef));
	}
	cr_assert_eq(trace_reader_next(rd, out), TRACE_READ_END, "%s", rd->err);
	trace_reader_close(rd);
	unlink(tmp_path);
	free(w);
	free(rd);
	free(in);
	free(out);
}

/* A kernel alternates between its image and its direct map: predicted hits
 * whose address deltas take seven bytes are decoded inline too. */
Test(trace_codec, a_predicted_access_far_from_the_last_is_decoded_inline)
{
	static const uint64_t la[2] = {UINT64_C(0xffffffff80123458), UINT64_C(0xffff888007e60780)};
	struct trace_header h = {.ram_size = 1 << 27};
	snprintf(h.model_name, sizeof h.model_name, "skylake");
	struct trace_writer *w = malloc(sizeof *w);
	struct trace_reader *rd = malloc(sizeof *rd);
	struct trace_record *rec = calloc(1, sizeof *rec);
	char err[300];
	tmp_file();
	cr_assert(trace_writer_open(w, tmp_path, &h, err, sizeof err), "%s", err);
	rec->kind = TR_ACCESS;
	for (unsigned i = 0; i < 8; i++) {
		rec->access = l1_hit(la[i % 2] + i * 8, (la[i % 2] & 0x7fffff) + i * 8, 1);
		rec->access.size = PG_2M;
		trace_writer_put(w, rec);
	}
	cr_assert(trace_writer_close(w, err, sizeof err), "%s", err);
	cr_assert(trace_reader_open(rd, tmp_path, err, sizeof err), "%s", err);
	for (unsigned i = 0; i < 2; i++) /* each page's first hit is explicit */
		cr_assert_eq(trace_reader_next(rd, rec), TRACE_READ_RECORD, "%s", rd->err);
	for (unsigned i = 2; i < 8; i++) {
		struct trace_predicted p;
		cr_assert(trace_reader_next_predicted(rd, &p), "access %u", i);
		cr_assert_eq(p.la, la[i % 2] + i * 8);
		cr_assert_eq(p.pa, (la[i % 2] & 0x7fffff) + i * 8);
		cr_assert_eq(p.size, PG_2M);
	}
	cr_assert_eq(trace_reader_next(rd, rec), TRACE_READ_END, "%s", rd->err);
	trace_reader_close(rd);
	unlink(tmp_path);
	free(w);
	free(rd);
	free(rec);
}
