/* The trace writer: header, records encoded into blocks, end block. */
#include "traces/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/events.h"
#include "traces/wire.h"

static void writer_fail(struct trace_writer *w, const char *what)
{
	if (!w->failed)
		snprintf(w->err, sizeof w->err, "trace: %s: %s", what, strerror(errno ? errno : EIO));
	w->failed = true;
}

static void writer_out(struct trace_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return;
	if (fwrite(p, 1, n, w->f) != n)
		writer_fail(w, "write failed");
	w->bytes += n;
}

static void writer_block(struct trace_writer *w, uint32_t kind, const uint8_t *payload, size_t len,
			 uint32_t nrecords)
{
	uint8_t h[BLK_HDR_SIZE];
	wire_put32(h + BLK_KIND, kind);
	wire_put32(h + BLK_LEN, (uint32_t)len);
	wire_put32(h + BLK_RECORDS, nrecords);
	uint32_t crc = trace_crc32(&w->crc, 0, h, BLK_CRC);
	wire_put32(h + BLK_CRC, trace_crc32(&w->crc, crc, payload, len));
	writer_out(w, h, sizeof h);
	writer_out(w, payload, len);
}

void trace_writer_end_block(struct trace_writer *w)
{
	if (!w->len)
		return;
	writer_block(w, TRACE_BLOCK_DATA, w->buf, w->len, w->block_records);
	w->len = 0;
	w->block_records = 0;
}

/* Largest encoding of each record kind (FORMAT.md "Records"): a FRAME of
 * 512 non-zero words (a gap of at most two bytes and a value each), a
 * STORE of a whole frame; the others are smaller. */
#define WRITER_FRAME_MAX (1 + 2 * TRACE_VARINT_MAX + TRACE_FRAME_WORDS * (2 + TRACE_VARINT_MAX))
#define WRITER_STORE_MAX (1 + 2 * TRACE_VARINT_MAX + PHYS_FRAME_SIZE)
#define WRITER_OTHER_MAX 64 /* CTL: 3 bytes and four varints; CHECKPOINT: 1 + 3 varints + 8 */
_Static_assert(WRITER_FRAME_MAX >= WRITER_STORE_MAX && WRITER_FRAME_MAX >= WIRE_ACCESS_MAX &&
		       WRITER_FRAME_MAX >= WRITER_OTHER_MAX && WRITER_FRAME_MAX >= TRACE_SLOT_RECORD_LEN,
	       "the largest record is a FRAME");
/* A block below TRACE_BLOCK_TARGET has room for any record. */
#define WRITER_BUF_SIZE (TRACE_BLOCK_TARGET + WRITER_FRAME_MAX)

static void header_encode(const struct trace_header *h, uint8_t *p)
{
	memset(p, 0, HDR_SIZE);
	memcpy(p + HDR_MAGIC, TRACE_MAGIC, TRACE_MAGIC_LEN);
	wire_put32(p + HDR_VERSION, TRACE_VERSION);
	wire_put32(p + HDR_LEN, HDR_SIZE);
	wire_put32(p + HDR_FLAGS, h->flags);
	wire_put64(p + HDR_RAM, h->ram_size);
	wire_put64(p + HDR_MODEL_HASH, h->model_hash);
	memcpy(p + HDR_MODEL_NAME, h->model_name, TRACE_MODEL_NAME_LEN);
	p[HDR_MODEL_NAME + TRACE_MODEL_NAME_LEN - 1] = '\0';
	memcpy(p + HDR_EMU_VERSION, h->emu_version, TRACE_EMU_VERSION_LEN);
	p[HDR_EMU_VERSION + TRACE_EMU_VERSION_LEN - 1] = '\0';
	wire_put64(p + HDR_CR0, h->cr0);
	wire_put64(p + HDR_CR3, h->cr3);
	wire_put64(p + HDR_CR4, h->cr4);
	wire_put64(p + HDR_EFER, h->efer);
	wire_put32(p + HDR_PKRU, h->pkru);
	p[HDR_CPL] = h->cpl;
	p[HDR_CS_L] = h->cs_l;
	wire_put64(p + HDR_START_INSNS, h->start_insns);
	wire_put64(p + HDR_START_CYCLES, h->start_cycles);
}

bool trace_writer_open(struct trace_writer *w, const char *path, const struct trace_header *h,
		       char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	trace_crc_init(&w->crc);
	trace_codec_init(&w->codec);
	w->buf = malloc(WRITER_BUF_SIZE);
	if (!w->buf) {
		snprintf(err, errlen, "trace: out of memory");
		return false;
	}
	w->f = fopen(path, "wb");
	if (!w->f) {
		free(w->buf);
		w->buf = NULL;
		snprintf(err, errlen, "trace: cannot create '%s': %s", path, strerror(errno));
		return false;
	}
	uint8_t hdr[HDR_SIZE];
	header_encode(h, hdr);
	wire_put32(hdr + HDR_CRC, trace_crc32(&w->crc, 0, hdr, HDR_CRC));
	writer_out(w, hdr, sizeof hdr);
	if (w->failed) {
		snprintf(err, errlen, "%s", w->err);
		fclose(w->f);
		w->f = NULL;
		free(w->buf);
		w->buf = NULL;
		return false;
	}
	return true;
}

/* ---- record encoders ---------------------------------------------------- */

static size_t encode_detail(const struct trace_codec *c, const struct trace_access *a, uint8_t *p)
{
	size_t n = 0;
	p[n++] = (uint8_t)((a->source & 3) | (a->size & 3) << 2);
	p[n++] = (uint8_t)((a->walk_reads & 0xf) | (a->pwc_level & 0xf) << 4);
	n += trace_put_varint(p + n, a->cycles);
	if (a->ok) {
		n += trace_put_varint(p + n, trace_zigzag((int64_t)(a->pa - c->pa)));
	} else {
		p[n++] = a->vector;
		n += trace_put_varint(p + n, a->error_code);
	}
	p[n++] = (uint8_t)(a->nsteps | a->nad << 4);
	for (unsigned i = 0; i < a->nsteps; i++) {
		const struct trace_step *s = &a->step[i];
		p[n++] = (uint8_t)(s->level | s->cache << 4);
		n += trace_put_varint(p + n, s->entry_pa);
		n += trace_put_varint(p + n, s->entry);
		n += trace_put_varint(p + n, s->cycles);
	}
	for (unsigned i = 0; i < a->nad; i++) {
		p[n++] = a->ad[i].step;
		n += trace_put_varint(p + n, a->ad[i].value ^ a->step[a->ad[i].step].entry);
	}
	return n;
}

/* A success that is exactly the prediction of its page's recent-page
 * slot: its slot access record, learning only the previous addresses; 0
 * when it is not one. */
static size_t encode_slot_access(struct trace_codec *c, const struct trace_access *a, uint8_t *p)
{
	struct trace_predicted sp;
	struct trace_access pred;
	unsigned k;
	if (!a->ok || !trace_codec_slot_of(c, a->la, a->acc, &k) ||
	    !trace_codec_slot_predict(c, k, (unsigned)(a->la & TRACE_SLOT_OFFSET_MASK), a->acc, &sp))
		return 0;
	trace_predicted_access(&sp, &pred);
	if (!trace_access_equal(a, &pred))
		return 0;
	trace_put_slot_access(p, k, a->la, a->acc);
	c->la = a->la;
	c->pa = a->pa;
	return TRACE_SLOT_RECORD_LEN;
}

static size_t encode_access(struct trace_codec *c, const struct trace_access *a, uint8_t *p)
{
	struct trace_access pred;
	size_t slot_len = encode_slot_access(c, a, p);
	if (slot_len)
		return slot_len;
	unsigned form = !a->ok ? TRACE_FORM_FAULT : TRACE_FORM_OK;
	if (a->ok && trace_codec_predict(c, a->la, a->acc, &pred) && trace_access_equal(a, &pred))
		form = TRACE_FORM_PREDICTED;
	size_t n = 0;
	p[n++] = (uint8_t)(form << TRACE_TAG_ACCESS_FORM_SHIFT | (a->acc & TRACE_TAG_ACC_MASK));
	n += trace_put_varint(p + n, trace_zigzag((int64_t)(a->la - c->la)));
	if (form != TRACE_FORM_PREDICTED)
		n += encode_detail(c, a, p + n);
	trace_codec_update(c, a);
	return n;
}

static size_t encode_frame(const struct trace_record *r, uint8_t *p)
{
	size_t n = 0, count = 0;
	for (unsigned i = 0; i < TRACE_FRAME_WORDS; i++)
		count += r->frame.word[i] != 0;
	p[n++] = TRACE_TAG_FRAME;
	n += trace_put_varint(p + n, r->frame.pfn);
	n += trace_put_varint(p + n, count);
	unsigned next = 0;
	for (unsigned i = 0; i < TRACE_FRAME_WORDS; i++) {
		if (!r->frame.word[i])
			continue;
		n += trace_put_varint(p + n, i - next); /* gap since the last non-zero word */
		n += trace_put_varint(p + n, r->frame.word[i]);
		next = i + 1;
	}
	return n;
}

static size_t encode_other(const struct trace_record *r, uint8_t *p)
{
	size_t n = 0;
	switch (r->kind) {
	case TR_STORE:
		p[n++] = TRACE_TAG_STORE;
		n += trace_put_varint(p + n, r->store.pa);
		n += trace_put_varint(p + n, r->store.len);
		memcpy(p + n, r->store.data, r->store.len);
		return n + r->store.len;
	case TR_CTL:
		p[n++] = TRACE_TAG_CTL;
		p[n++] = r->ctl.op;
		p[n++] = r->ctl.ok;
		for (unsigned i = 0; i < wire_ctl_nargs(r->ctl.op); i++)
			n += trace_put_varint(p + n, r->ctl.arg[i]);
		return n;
	case TR_MODE:
		p[n++] = TRACE_TAG_MODE;
		p[n++] = r->mode.cpl;
		p[n++] = r->mode.cs_l;
		return n;
	case TR_CHECKPOINT:
		p[n++] = TRACE_TAG_CHECKPOINT;
		n += trace_put_varint(p + n, r->checkpoint.accesses);
		n += trace_put_varint(p + n, r->checkpoint.insns);
		n += trace_put_varint(p + n, r->checkpoint.cycles);
		wire_put64(p + n, r->checkpoint.hash);
		return n + 8;
	default:
		return 0;
	}
}

void trace_writer_put(struct trace_writer *w, const struct trace_record *r)
{
	if (w->failed || (r->kind == TR_STORE && (r->store.len == 0 || r->store.len > PHYS_FRAME_SIZE)))
		return;
	uint8_t *p = w->buf + w->len; /* room for any record: WRITER_BUF_SIZE */
	size_t n;
	if (r->kind == TR_ACCESS) {
		n = encode_access(&w->codec, &r->access, p);
		w->accesses++;
	} else {
		n = r->kind == TR_FRAME ? encode_frame(r, p) : encode_other(r, p);
	}
	w->len += n;
	w->block_records++;
	w->records++;
	if (w->len >= TRACE_BLOCK_TARGET)
		trace_writer_end_block(w);
}

bool trace_writer_close(struct trace_writer *w, char *err, size_t errlen)
{
	uint8_t end[20];
	size_t n = 0;
	trace_writer_end_block(w);
	n += trace_put_varint(end + n, w->records);
	n += trace_put_varint(end + n, w->accesses);
	writer_block(w, TRACE_BLOCK_END, end, n, 0);
	if (w->f && fclose(w->f) != 0)
		writer_fail(w, "close failed");
	w->f = NULL;
	free(w->buf);
	w->buf = NULL;
	if (w->failed) {
		snprintf(err, errlen, "%s", w->err);
		return false;
	}
	return true;
}
