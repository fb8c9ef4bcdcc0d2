/* The trace reader: every length checked against the bytes held, every
 * value against the format's limits; one-line errors with the byte offset
 * and record number. */
#include "traces/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/events.h"
#include "mmu/mmu.h"
#include "traces/wire.h"

__attribute__((format(printf, 3, 4)))
static bool fail_at(struct trace_reader *r, uint64_t offset, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof r->err, "trace %s: byte %" PRIu64 ", record %" PRIu64 ": %s",
		 r->name, offset, r->records, why);
	return false;
}

/* Read n bytes at the file position; false at end of data. */
static bool source_read(struct trace_reader *r, void *buf, size_t n)
{
	if (r->f)
		return fread(buf, 1, n, r->f) == n;
	if (r->file_pos > r->mem_len || n > r->mem_len - r->file_pos)
		return false;
	memcpy(buf, r->mem + r->file_pos, n);
	return true;
}

static bool source_at_end(struct trace_reader *r)
{
	if (!r->f)
		return r->file_pos == r->mem_len;
	int c = fgetc(r->f);
	return c == EOF;
}

static bool header_decode(struct trace_reader *r, const uint8_t *p)
{
	struct trace_header *h = &r->h;
	if (memcmp(p + HDR_MAGIC, TRACE_MAGIC, TRACE_MAGIC_LEN))
		return fail_at(r, 0, "not an mmulab trace (bad magic)");
	h->version = wire_get32(p + HDR_VERSION);
	if (h->version != TRACE_VERSION)
		return fail_at(r, HDR_VERSION, "format version %" PRIu32 ", this mmulab reads version %d",
			       h->version, TRACE_VERSION);
	if (wire_get32(p + HDR_LEN) != HDR_SIZE)
		return fail_at(r, HDR_LEN, "header length %" PRIu32 ", expected %d",
			       wire_get32(p + HDR_LEN), HDR_SIZE);
	if (wire_get32(p + HDR_CRC) != trace_crc32(&r->crc, 0, p, HDR_CRC))
		return fail_at(r, HDR_CRC, "header checksum mismatch");
	h->flags = wire_get32(p + HDR_FLAGS);
	if (h->flags)
		return fail_at(r, HDR_FLAGS, "unknown header flags %#" PRIx32, h->flags);
	h->ram_size = wire_get64(p + HDR_RAM);
	if (h->ram_size < PHYS_MIN_SIZE || h->ram_size > PHYS_MAX_SIZE || h->ram_size % PHYS_FRAME_SIZE)
		return fail_at(r, HDR_RAM, "bad RAM size %" PRIu64, h->ram_size);
	h->model_hash = wire_get64(p + HDR_MODEL_HASH);
	memcpy(h->model_name, p + HDR_MODEL_NAME, TRACE_MODEL_NAME_LEN);
	memcpy(h->emu_version, p + HDR_EMU_VERSION, TRACE_EMU_VERSION_LEN);
	if (h->model_name[TRACE_MODEL_NAME_LEN - 1] || h->emu_version[TRACE_EMU_VERSION_LEN - 1])
		return fail_at(r, HDR_MODEL_NAME, "unterminated name in header");
	h->cr0 = wire_get64(p + HDR_CR0);
	h->cr3 = wire_get64(p + HDR_CR3);
	h->cr4 = wire_get64(p + HDR_CR4);
	h->efer = wire_get64(p + HDR_EFER);
	h->pkru = wire_get32(p + HDR_PKRU);
	h->cpl = p[HDR_CPL];
	h->cs_l = p[HDR_CS_L];
	h->start_insns = wire_get64(p + HDR_START_INSNS);
	h->start_cycles = wire_get64(p + HDR_START_CYCLES);
	return true;
}

static bool reader_start(struct trace_reader *r, char *err, size_t errlen)
{
	uint8_t hdr[HDR_SIZE];
	trace_crc_init(&r->crc);
	trace_codec_init(&r->codec);
	bool ok = source_read(r, hdr, sizeof hdr);
	if (!ok)
		fail_at(r, 0, "truncated header (file shorter than %d bytes)", HDR_SIZE);
	else
		ok = header_decode(r, hdr);
	r->file_pos = HDR_SIZE;
	if (!ok) {
		snprintf(err, errlen, "%s", r->err);
		trace_reader_close(r);
	}
	return ok;
}

bool trace_reader_open(struct trace_reader *r, const char *path, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->name = path;
	r->f = fopen(path, "rb");
	if (!r->f) {
		snprintf(err, errlen, "trace %s: cannot open: %s", path, strerror(errno));
		return false;
	}
	return reader_start(r, err, errlen);
}

bool trace_reader_open_mem(struct trace_reader *r, const void *data, size_t len, const char *name,
			   char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->name = name;
	r->mem = data;
	r->mem_len = len;
	return reader_start(r, err, errlen);
}

void trace_reader_close(struct trace_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
	free(r->buf);
	r->buf = NULL;
}

/* ---- blocks ------------------------------------------------------------- */

static bool block_end_counts(struct trace_reader *r)
{
	uint64_t records, accesses;
	size_t a = trace_get_varint(r->buf, r->len, &records);
	size_t b = a ? trace_get_varint(r->buf + a, r->len - a, &accesses) : 0;
	if (!a || !b || a + b != r->len)
		return fail_at(r, r->block_offset, "malformed end block");
	if (records != r->records || accesses != r->accesses)
		return fail_at(r, r->block_offset,
			       "end block counts %" PRIu64 " records, %" PRIu64
			       " accesses; the file holds %" PRIu64 " and %" PRIu64,
			       records, accesses, r->records, r->accesses);
	r->file_pos += r->len;
	if (!source_at_end(r))
		return fail_at(r, r->file_pos, "data after the end block");
	r->ended = true;
	return true;
}

/* Load the next block; false on error (r->err set). */
static bool block_load(struct trace_reader *r)
{
	uint8_t h[BLK_HDR_SIZE];
	uint64_t at = r->file_pos;
	if (!source_read(r, h, sizeof h))
		return fail_at(r, at, "truncated: the file ends before its end block");
	uint32_t kind = wire_get32(h + BLK_KIND), len = wire_get32(h + BLK_LEN);
	if (kind != TRACE_BLOCK_DATA && kind != TRACE_BLOCK_END)
		return fail_at(r, at, "bad block marker %#" PRIx32, kind);
	if (len > TRACE_BLOCK_MAX || (kind == TRACE_BLOCK_DATA && len == 0))
		return fail_at(r, at, "bad block length %" PRIu32, len);
	if (len > r->cap) {
		uint8_t *b = realloc(r->buf, len);
		if (!b)
			return fail_at(r, at, "out of memory");
		r->buf = b;
		r->cap = len;
	}
	r->file_pos += BLK_HDR_SIZE;
	if (len && !source_read(r, r->buf, len))
		return fail_at(r, r->file_pos, "truncated block (%" PRIu32 " bytes announced)", len);
	uint32_t crc = trace_crc32(&r->crc, trace_crc32(&r->crc, 0, h, BLK_CRC), r->buf, len);
	if (crc != wire_get32(h + BLK_CRC))
		return fail_at(r, at, "block checksum mismatch");
	r->block_offset = r->file_pos;
	r->pos = 0;
	r->len = len;
	r->block_records = wire_get32(h + BLK_RECORDS);
	r->block_seen = 0;
	if (kind == TRACE_BLOCK_END)
		return block_end_counts(r);
	r->file_pos += len;
	if (r->block_records == 0)
		return fail_at(r, at, "data block with no records");
	return true;
}

/* ---- records ------------------------------------------------------------ */

struct cursor {
	struct trace_reader *r;
	uint64_t start;  /* file offset of the record */
	bool bad;
};

static uint64_t cur_offset(const struct cursor *c)
{
	return c->r->block_offset + c->r->pos;
}

static bool cur_fail(struct cursor *c, const char *what)
{
	if (!c->bad)
		fail_at(c->r, cur_offset(c), "%s", what);
	c->bad = true;
	return false;
}

static uint64_t get_var(struct cursor *c)
{
	uint64_t v = 0;
	struct trace_reader *r = c->r;
	if (c->bad)
		return 0;
	size_t n = trace_get_varint(r->buf + r->pos, r->len - r->pos, &v);
	if (!n)
		return cur_fail(c, "truncated or over-long varint"), 0;
	r->pos += n;
	return v;
}

static uint8_t get_byte(struct cursor *c)
{
	struct trace_reader *r = c->r;
	if (c->bad)
		return 0;
	if (r->pos >= r->len)
		return cur_fail(c, "record runs past the end of its block"), 0;
	return r->buf[r->pos++];
}

static uint64_t get_var_max(struct cursor *c, uint64_t max, const char *what)
{
	uint64_t v = get_var(c);
	if (!c->bad && v > max)
		cur_fail(c, what);
	return c->bad ? 0 : v;
}

static void get_steps(struct cursor *c, struct trace_access *a)
{
	uint8_t counts = get_byte(c);
	a->nsteps = counts & 0xf;
	a->nad = counts >> 4;
	if (a->nsteps > TRACE_MAX_STEPS || a->nad > a->nsteps) {
		cur_fail(c, "bad walk step or A/D count");
		return;
	}
	for (unsigned i = 0; i < a->nsteps; i++) {
		struct trace_step *s = &a->step[i];
		uint8_t b = get_byte(c);
		s->level = b & 0xf;
		s->cache = b >> 4;
		if (!c->bad && (s->level < 1 || s->level > 5 || s->cache > CACHE_DRAM))
			cur_fail(c, "bad walk step level or cache level");
		s->entry_pa = get_var(c);
		s->entry = get_var(c);
		s->cycles = (uint32_t)get_var_max(c, UINT32_MAX, "walk step cycles out of range");
	}
	for (unsigned i = 0; i < a->nad; i++) {
		a->ad[i].step = get_byte(c);
		if (!c->bad && a->ad[i].step >= a->nsteps)
			cur_fail(c, "A/D update names a step the walk does not have");
		if (c->bad)
			return;
		a->ad[i].value = get_var(c) ^ a->step[a->ad[i].step].entry;
	}
}

static void get_detail(struct cursor *c, struct trace_access *a)
{
	uint8_t b = get_byte(c);
	a->source = b & 3;
	a->size = (b >> 2) & 3;
	if (!c->bad && (b >> 4))
		cur_fail(c, "bad source/size byte");
	b = get_byte(c);
	a->walk_reads = b & 0xf;
	a->pwc_level = b >> 4;
	if (!c->bad && (a->walk_reads > TRACE_MAX_STEPS || a->pwc_level > 5))
		cur_fail(c, "bad walk-read count or PWC level");
	a->cycles = (uint32_t)get_var_max(c, UINT32_MAX, "cycles out of range");
	if (a->ok) {
		a->pa = c->r->codec.pa + (uint64_t)trace_unzigzag(get_var(c));
	} else {
		a->vector = get_byte(c);
		a->error_code = (uint32_t)get_var_max(c, UINT32_MAX, "error code out of range");
	}
	get_steps(c, a);
}

static void get_access(struct cursor *c, uint8_t tag, struct trace_record *rec)
{
	struct trace_reader *r = c->r;
	struct trace_access *a = &rec->access;
	unsigned form = tag >> TRACE_TAG_ACCESS_FORM_SHIFT;
	uint8_t acc = tag & TRACE_TAG_ACC_MASK;
	uint64_t la = r->codec.la + (uint64_t)trace_unzigzag(get_var(c));
	if (c->bad)
		return;
	if (form == TRACE_FORM_PREDICTED) {
		if (!trace_codec_predict(&r->codec, la, acc, a)) {
			cur_fail(c, "predicted access with no prediction for its page");
			return;
		}
		a->predicted = true;
	} else {
		memset(a, 0, sizeof *a);
		a->la = la;
		a->acc = acc;
		a->ok = form == TRACE_FORM_OK;
		get_detail(c, a);
		if (c->bad)
			return;
	}
	trace_codec_update(&r->codec, a);
	r->accesses++;
}

/* A slot access the inline path declined: truncated, or naming a slot
 * with no prediction for its context. */
static void get_slot_access(struct cursor *c, uint8_t tag, struct trace_record *rec)
{
	struct trace_reader *r = c->r;
	struct trace_predicted p;
	unsigned word = get_byte(c);
	word |= (unsigned)get_byte(c) << 8;
	if (c->bad)
		return;
	if (!trace_codec_slot_predict(&r->codec, tag & TRACE_TAG_SLOT_MASK,
				      word & TRACE_SLOT_OFFSET_MASK,
				      (uint8_t)(word >> TRACE_SLOT_ACC_SHIFT), &p))
		return (void)cur_fail(c, "slot access with no prediction (an empty slot, a context "
				     "of the other class, or no L1 hit of its class and page "
				     "size yet)");
	trace_predicted_access(&p, &rec->access);
	r->codec.la = p.la;
	r->codec.pa = p.pa;
	r->accesses++;
}

static void get_frame(struct cursor *c, struct trace_record *rec)
{
	uint64_t limit = c->r->h.ram_size >> PHYS_FRAME_SHIFT;
	rec->frame.pfn = get_var_max(c, limit ? limit - 1 : 0, "frame outside RAM");
	uint64_t count = get_var_max(c, TRACE_FRAME_WORDS, "frame word count above 512");
	memset(rec->frame.word, 0, sizeof rec->frame.word);
	uint64_t next = 0;
	for (uint64_t i = 0; i < count && !c->bad; i++) {
		next += get_var_max(c, TRACE_FRAME_WORDS, "frame word index out of range");
		if (!c->bad && next >= TRACE_FRAME_WORDS)
			cur_fail(c, "frame word index out of range");
		if (!c->bad)
			rec->frame.word[next++] = get_var(c);
	}
}

static void get_store(struct cursor *c, struct trace_record *rec)
{
	struct trace_reader *r = c->r;
	rec->store.pa = get_var(c);
	rec->store.len = (uint32_t)get_var_max(c, PHYS_FRAME_SIZE, "store longer than a frame");
	if (c->bad)
		return;
	if (rec->store.len == 0 || rec->store.pa >= r->h.ram_size ||
	    rec->store.len > r->h.ram_size - rec->store.pa)
		return (void)cur_fail(c, "store outside RAM or empty");
	if (rec->store.len > r->len - r->pos)
		return (void)cur_fail(c, "store data runs past the end of its block");
	memcpy(rec->store.data, r->buf + r->pos, rec->store.len);
	r->pos += rec->store.len;
}

static void get_ctl(struct cursor *c, struct trace_record *rec)
{
	rec->ctl.op = get_byte(c);
	uint8_t ok = get_byte(c);
	if (!c->bad && (rec->ctl.op >= CTL_NOPS || ok > 1))
		return (void)cur_fail(c, "unknown control operation");
	rec->ctl.ok = ok;
	memset(rec->ctl.arg, 0, sizeof rec->ctl.arg);
	for (unsigned i = 0; i < wire_ctl_nargs(rec->ctl.op); i++)
		rec->ctl.arg[i] = get_var(c);
}

static void get_checkpoint(struct cursor *c, struct trace_record *rec)
{
	struct trace_reader *r = c->r;
	rec->checkpoint.accesses = get_var(c);
	rec->checkpoint.insns = get_var(c);
	rec->checkpoint.cycles = get_var(c);
	if (c->bad)
		return;
	if (r->len - r->pos < 8)
		return (void)cur_fail(c, "truncated checkpoint");
	rec->checkpoint.hash = wire_get64(r->buf + r->pos);
	r->pos += 8;
	if (rec->checkpoint.accesses != r->accesses)
		cur_fail(c, "checkpoint access count disagrees with the records before it");
}

static void get_record(struct cursor *c, struct trace_record *rec)
{
	uint8_t tag = get_byte(c);
	if (c->bad)
		return;
	if (tag < (3u << TRACE_TAG_ACCESS_FORM_SHIFT)) {
		rec->kind = TR_ACCESS;
		get_access(c, tag, rec);
		return;
	}
	if (tag >= TRACE_TAG_SLOT) {
		rec->kind = TR_ACCESS;
		get_slot_access(c, tag, rec);
		return;
	}
	switch (tag) {
	case TRACE_TAG_FRAME: rec->kind = TR_FRAME; get_frame(c, rec); break;
	case TRACE_TAG_STORE: rec->kind = TR_STORE; get_store(c, rec); break;
	case TRACE_TAG_CTL: rec->kind = TR_CTL; get_ctl(c, rec); break;
	case TRACE_TAG_MODE:
		rec->kind = TR_MODE;
		rec->mode.cpl = get_byte(c);
		rec->mode.cs_l = get_byte(c);
		if (!c->bad && (rec->mode.cpl > 3 || rec->mode.cs_l > 1))
			cur_fail(c, "bad CPL or CS.L");
		break;
	case TRACE_TAG_CHECKPOINT: rec->kind = TR_CHECKPOINT; get_checkpoint(c, rec); break;
	default:
		cur_fail(c, "unknown record tag");
	}
}

enum trace_read_status trace_reader_next(struct trace_reader *r, struct trace_record *rec)
{
	if (r->ended)
		return TRACE_READ_END;
	if (r->err[0])
		return TRACE_READ_ERROR;
	if (r->pos >= r->len) {
		if (r->buf && r->block_seen != r->block_records)
			return fail_at(r, r->block_offset, "block holds %" PRIu32 " records, announced %" PRIu32,
				       r->block_seen, r->block_records), TRACE_READ_ERROR;
		if (!block_load(r))
			return TRACE_READ_ERROR;
		if (r->ended)
			return TRACE_READ_END;
	}
	struct trace_predicted pr;
	if (trace_reader_next_predicted(r, &pr)) {
		rec->kind = TR_ACCESS;
		trace_predicted_access(&pr, &rec->access);
		return TRACE_READ_RECORD;
	}
	struct cursor c = {.r = r, .start = r->block_offset + r->pos};
	get_record(&c, rec);
	if (c.bad)
		return TRACE_READ_ERROR;
	if (++r->block_seen > r->block_records)
		return fail_at(r, c.start, "block holds more records than announced"), TRACE_READ_ERROR;
	r->records++;
	return TRACE_READ_RECORD;
}
