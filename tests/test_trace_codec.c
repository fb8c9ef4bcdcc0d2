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

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

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

/* LEB128 byte by byte (FORMAT.md "Records"), to check the writer's word
 * stores against. */
static size_t leb128_reference(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

Test(trace_codec, varint_writer_matches_leb128_at_every_length)
{
	uint64_t s = UINT64_C(0x13198a2e03707344);
	for (unsigned bits = 0; bits <= 64; bits++)
		for (unsigned k = 0; k < 64; k++) {
			uint64_t r = xorshift(&s), top = bits ? UINT64_C(1) << (bits - 1) : 0;
			uint64_t v = bits == 0 ? 0 : (bits == 64 ? r | top : (r & (top - 1)) | top);
			uint8_t want[16], got[16 + 4];
			memset(got, 0xa5, sizeof got);
			size_t n = leb128_reference(want, v);
			cr_assert_eq(trace_put_varint(got, v), n, "length of a %u-bit value", bits);
			cr_assert_eq(memcmp(got, want, n), 0, "bytes of %#llx", (unsigned long long)v);
			for (size_t i = TRACE_VARINT_MAX; i < sizeof got; i++)
				cr_assert_eq(got[i], 0xa5, "a write past TRACE_VARINT_MAX bytes");
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

/* The prediction of the slot that holds la's page, as the reader decodes a
 * slot access; false when no slot holds it. */
static bool slot_prediction(const struct trace_codec *c, uint64_t la, uint8_t acc,
			    struct trace_predicted *p, unsigned *k)
{
	return trace_codec_slot_of(c, la, acc, k) &&
	       trace_codec_slot_predict(c, *k, (unsigned)(la & TRACE_SLOT_OFFSET_MASK), acc, p);
}

Test(trace_codec, a_page_that_succeeded_takes_a_slot_for_its_class)
{
	struct trace_codec *c = malloc(sizeof *c);
	struct trace_access a = l1_hit(UINT64_C(0xffffffff80401000), 0x7000, 1);
	struct trace_predicted p;
	unsigned k;
	trace_codec_init(c);
	cr_assert_not(slot_prediction(c, a.la, ACC_READ, &p, &k), "every slot starts empty");
	trace_codec_update(c, &a);
	cr_assert(slot_prediction(c, a.la + 0xff8, ACC_WRITE, &p, &k), "reads and writes share it");
	cr_assert_eq(k, 0);
	cr_assert(p.la == a.la + 0xff8 && p.pa == 0x7ff8 && trace_predicted_cycles(&p) == 1 &&
		  trace_predicted_size(&p) == PG_4K);
	cr_assert_not(slot_prediction(c, a.la, ACC_FETCH, &p, &k), "fetches have their own slots");
	cr_assert_not(trace_codec_slot_predict(c, 0, 0, ACC_FETCH, &p),
		      "a fetch context naming a data page's slot");
	cr_assert_not(trace_codec_slot_predict(c, 1, 0, ACC_READ, &p), "an empty slot");
	free(c);
}

Test(trace_codec, slots_are_replaced_oldest_first_and_refreshed_in_place)
{
	struct trace_codec *c = malloc(sizeof *c);
	struct trace_predicted p;
	unsigned k;
	trace_codec_init(c);
	for (unsigned i = 0; i <= TRACE_SLOTS; i++) {
		struct trace_access a = l1_hit(0x400000 + i * 4096, 0x100000 + i * 4096, 1);
		trace_codec_update(c, &a);
	}
	cr_assert_not(slot_prediction(c, 0x400000, ACC_READ, &p, &k), "the first page was replaced");
	cr_assert(trace_codec_predict(c, 0x400000, ACC_READ, &(struct trace_access){0}),
		  "its table entry still predicts it");
	cr_assert(slot_prediction(c, 0x401000, ACC_READ, &p, &k) && k == 1, "the second stays");
	cr_assert(slot_prediction(c, 0x400000 + TRACE_SLOTS * 4096, ACC_READ, &p, &k) && k == 0,
		  "the newest took the oldest's slot");
	struct trace_access moved = l1_hit(0x401000, 0x9000, 7);
	moved.source = SRC_WALK;
	trace_codec_update(c, &moved);
	cr_assert(slot_prediction(c, 0x401010, ACC_READ, &p, &k) && k == 1, "refreshed in place");
	cr_assert_eq(p.pa, 0x9010, "with the new frame");
	cr_assert_eq(trace_predicted_cycles(&p), 1, "and the cycles of the last L1 hit");
	struct trace_access back = l1_hit(0x400000, 0x100000, 1);
	trace_codec_update(c, &back);
	cr_assert(slot_prediction(c, 0x400000, ACC_READ, &p, &k) && k == 1,
		  "a refresh keeps a page's place in the order: it goes next");
	cr_assert_not(slot_prediction(c, 0x401000, ACC_READ, &p, &k));
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

/* A kernel alternates between its image and its direct map: a repeat hit
 * far from the previous access is a three-byte slot access all the same,
 * decoded inline. */
Test(trace_codec, a_repeat_hit_far_from_the_last_is_a_three_byte_slot_access)
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
		size_t len = w->len;
		rec->access = l1_hit(la[i % 2] + i * 8, (la[i % 2] & 0x7fffff) + i * 8, 1);
		rec->access.size = PG_2M;
		trace_writer_put(w, rec);
		if (i >= 2)
			cr_assert_eq(w->len - len, TRACE_SLOT_RECORD_LEN, "access %u", i);
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
		cr_assert_eq(trace_predicted_size(&p), PG_2M);
	}
	cr_assert_eq(trace_reader_next(rd, rec), TRACE_READ_END, "%s", rd->err);
	trace_reader_close(rd);
	unlink(tmp_path);
	free(w);
	free(rd);
	free(rec);
}

/* ---- the writer's predicted-access path --------------------------------- */

static struct mmu_xlate xlate_of(const struct trace_access *a)
{
	struct mmu_xlate x;
	memset(&x, 0, sizeof x);
	x.pa = a->pa;
	x.cycles = a->cycles;
	x.source = a->source;
	x.size = a->size;
	x.walk_reads = a->walk_reads;
	x.pwc_level = a->pwc_level;
	return x;
}

/* An outcome like a kernel's: pages in its image and its direct map (far
 * apart), four access contexts, nearly all L1 hits on a fixed mapping; one
 * in eight is something else: other cycles, an L2 hit, another page size,
 * a remapped frame, a walk, a fault. */
static void kernel_like_access(uint64_t *s, unsigned pages, struct trace_access *a)
{
	static const uint64_t region[2] = {UINT64_C(0xffffffff80000000), UINT64_C(0xffff888000000000)};
	static const uint8_t accs[4] = {ACC_READ, ACC_WRITE, ACC_FETCH, ACC_READ | ACC_USER};
	uint64_t r = xorshift(s), page = (r >> 8) % pages, off = (r >> 16) % 4096;
	unsigned side = r & 1;
	*a = l1_hit(region[side] + page * 4096 + off, (side + 1) * 0x1000000 + page * 4096 + off, 1);
	a->acc = accs[(r >> 2) & 3];
	a->size = page < 16 ? PG_4K : PG_2M;
	switch ((r >> 40) % 48) {
	case 0: a->cycles = 2; break;
	case 1: a->source = SRC_L2; a->cycles = 9; break;
	case 2: a->size = PG_1G; break;
	case 3: a->pa ^= 0x40000; break;
	case 4:
		a->source = SRC_WALK;
		a->walk_reads = a->nsteps = 1;
		a->pwc_level = 2;
		a->step[0] = (struct trace_step){1, CACHE_L1D, 0x5000 + page * 8, a->pa | 3, 4};
		break;
	case 5:
		a->ok = false;
		a->pa = a->source = a->size = 0;
		a->vector = 14;
		a->error_code = (uint32_t)(r >> 4) & 7;
		break;
	}
}

/* Write n kernel-like accesses over pages pages per region (and a MODE
 * record every 1000) to path, offering each one without walk steps or a
 * fault to the fast path when fast; the number it took. */
static unsigned write_kernel_like(const char *path, unsigned n, unsigned pages, bool fast)
{
	struct trace_header h = {.ram_size = 1 << 27};
	struct trace_writer *w = malloc(sizeof *w);
	struct trace_record *rec = calloc(1, sizeof *rec);
	char err[300];
	uint64_t s = UINT64_C(0x243f6a8885a308d3);
	unsigned taken = 0;
	cr_assert(trace_writer_open(w, path, &h, err, sizeof err), "%s", err);
	for (unsigned i = 0; i < n; i++) {
		if (i % 1000 == 0) {
			rec->kind = TR_MODE;
			rec->mode.cpl = (uint8_t)(i / 1000 % 4);
			trace_writer_put(w, rec);
		}
		rec->kind = TR_ACCESS;
		kernel_like_access(&s, pages, &rec->access);
		struct mmu_xlate x = xlate_of(&rec->access);
		if (fast && rec->access.ok && !rec->access.nsteps &&
		    trace_writer_put_predicted(w, rec->access.la, rec->access.acc, &x)) {
			taken++;
			continue;
		}
		trace_writer_put(w, rec);
	}
	cr_assert(trace_writer_close(w, err, sizeof err), "%s", err);
	free(w);
	free(rec);
	return taken;
}

/* Writes the kernel-like trace both ways and requires the same bytes; the
 * fast path's share of the accesses is in [min, max] percent. */
static void expect_fast_path_bytes_equal(unsigned pages, unsigned min, unsigned max)
{
	enum { N = 200000 }; /* several blocks */
	char full_path[256];
	trace_test_tmpfile(full_path, sizeof full_path);
	tmp_file();
	cr_assert(full_path[0]);
	cr_assert_eq(write_kernel_like(full_path, N, pages, false), 0);
	unsigned taken = write_kernel_like(tmp_path, N, pages, true);
	cr_assert(taken >= N / 100 * min && taken <= N / 100 * max, "fast path took %u of %u", taken, N);
	size_t la, lb;
	uint8_t *a = trace_test_slurp(full_path, &la), *b = trace_test_slurp(tmp_path, &lb);
	cr_assert(a && b);
	cr_assert_gt(la, 3 * TRACE_BLOCK_TARGET, "spans several blocks");
	cr_assert_eq(la, lb, "file sizes");
	size_t diff = 0;
	while (diff < la && a[diff] == b[diff])
		diff++;
	cr_assert_eq(diff, la, "first difference at byte %zu", diff);
	unlink(full_path);
	unlink(tmp_path);
	free(a);
	free(b);
}

Test(trace_codec, predicted_fast_path_writes_the_bytes_of_the_full_record)
{
	expect_fast_path_bytes_equal(24, 50, 94); /* every page keeps its slot */
}

/* 2 x 200 pages and two classes share 128 slots: pages keep losing their
 * slots and come back through the table's prediction. */
Test(trace_codec, predicted_fast_path_writes_the_same_bytes_while_slots_are_replaced)
{
	expect_fast_path_bytes_equal(200, 5, 60);
}

/* After one explicit L1 hit on a page, the next hit there is the
 * prediction; any other outcome is declined and leaves the writer as it
 * was. */
Test(trace_codec, predicted_fast_path_declines_anything_but_the_prediction)
{
	struct trace_header h = {.ram_size = 1 << 20};
	struct trace_writer *w = malloc(sizeof *w);
	struct trace_record *rec = calloc(1, sizeof *rec);
	char err[300];
	tmp_file();
	cr_assert(trace_writer_open(w, tmp_path, &h, err, sizeof err), "%s", err);
	struct mmu_xlate x = xlate_of(&(struct trace_access){.pa = 0x7008, .cycles = 1, .source = SRC_L1});
	cr_assert_not(trace_writer_put_predicted(w, 0x401008, ACC_READ, &x), "nothing known yet");
	rec->kind = TR_ACCESS;
	rec->access = l1_hit(0x401000, 0x7000, 1);
	trace_writer_put(w, rec);
	size_t len = w->len;
	const struct {
		uint64_t la;
		uint8_t acc;
		struct trace_access out;
		const char *what;
	} no[] = {
		{0x401008, ACC_READ, {.pa = 0x8008, .cycles = 1, .source = SRC_L1}, "other frame"},
		{0x401008, ACC_READ, {.pa = 0x7008, .cycles = 2, .source = SRC_L1}, "other cycles"},
		{0x401008, ACC_READ, {.pa = 0x7008, .cycles = 1, .source = SRC_L2}, "L2 hit"},
		{0x401008, ACC_READ, {.pa = 0x7008, .cycles = 1, .source = SRC_L1, .size = PG_2M},
		 "other page size"},
		{0x401008, ACC_READ, {.pa = 0x7008, .cycles = 1, .source = SRC_L1, .walk_reads = 1},
		 "walk reads"},
		{0x401008, ACC_READ, {.pa = 0x7008, .cycles = 1, .source = SRC_L1, .pwc_level = 2},
		 "PWC level"},
		{0x401008, ACC_FETCH, {.pa = 0x7008, .cycles = 1, .source = SRC_L1}, "fetch class"},
		{0x402008, ACC_READ, {.pa = 0x7008, .cycles = 1, .source = SRC_L1}, "other page"},
	};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		x = xlate_of(&no[i].out);
		cr_assert_not(trace_writer_put_predicted(w, no[i].la, no[i].acc, &x), "%s", no[i].what);
		cr_assert(w->len == len && w->records == 1 && w->codec.la == 0x401000, "%s", no[i].what);
	}
	x = xlate_of(&(struct trace_access){.pa = 0x7ff8, .cycles = 1, .source = SRC_L1});
	cr_assert(trace_writer_put_predicted(w, 0x401ff8, ACC_WRITE, &x), "a write to the same page");
	cr_assert(w->len == len + 3 && w->records == 2 && w->accesses == 2);
	cr_assert(w->codec.la == 0x401ff8 && w->codec.pa == 0x7ff8);
	cr_assert(trace_writer_close(w, err, sizeof err), "%s", err);
	unlink(tmp_path);
	free(w);
	free(rec);
}
