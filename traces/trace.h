/* MMU traces: the file format's records, the writer and the reader
 * (traces/FORMAT.md is the specification).
 *
 * A trace holds a header (format version, model name and hash, RAM size,
 * control state at the start, emulator version) and a sequence of blocks,
 * each with a CRC-32 over its bytes, ending in an end block that counts the
 * records. Records are byte-oriented: a tag byte, then varints (LEB128) and
 * deltas against a small codec state that writer and reader keep in step
 * (struct trace_codec), including a predictor of TLB hits so that an access
 * whose outcome is "an L1 hit on a page it hit lately" costs three bytes:
 * the slot of the page in a table of recent pages, the offset in the page
 * and the access context.
 *
 * The reader checks every length and value against the buffer it holds and
 * the limits below; every problem is one line naming the byte offset and
 * the record number. It never returns a record from a block whose checksum
 * failed, and a file without its end block is truncated, not short.
 */
#ifndef TRACES_TRACE_H
#define TRACES_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmu/mmu.h"
#include "mmu/phys.h"

#define TRACE_MAGIC "MMUTRACE"
#define TRACE_MAGIC_LEN 8
#define TRACE_VERSION 2
#define TRACE_MODEL_NAME_LEN 32
#define TRACE_EMU_VERSION_LEN 16
#define TRACE_MAX_STEPS 5           /* a walk reads at most one entry per level */
#define TRACE_BLOCK_TARGET (64u * 1024) /* the writer closes a block past this size */
#define TRACE_BLOCK_MAX (1u << 20)  /* the reader rejects larger blocks */
#define TRACE_FRAME_WORDS (PHYS_FRAME_SIZE / 8)
#define TRACE_CHECKPOINT_EVERY 65536u /* accesses between checkpoints */

/* Block kinds: four ASCII bytes at the start of each block. */
#define TRACE_BLOCK_DATA 0x314b4c42u /* "BLK1" */
#define TRACE_BLOCK_END 0x31444e45u  /* "END1" */

struct trace_header {
	uint32_t version;
	uint32_t flags;                  /* no flags are defined in version 1: must be 0 */
	uint64_t ram_size;
	uint64_t model_hash;             /* mmu_model_hash of the recording model */
	char model_name[TRACE_MODEL_NAME_LEN];
	char emu_version[TRACE_EMU_VERSION_LEN];
	uint64_t cr0, cr3, cr4, efer;    /* control state at the start */
	uint32_t pkru;
	uint8_t cpl, cs_l;               /* CPL and CS.L at the start */
	uint64_t start_insns, start_cycles;
};

enum trace_rec_kind {
	TR_ACCESS = 0, TR_FRAME, TR_STORE, TR_CTL, TR_MODE, TR_CHECKPOINT, TR_NKINDS
};

/* Record tags (first byte). Access records use tags 0x00..0x2f: bits 5:4
 * the form, bits 3:0 the access context (mmu/access.h); and tags
 * 0x80..0xff, a slot access: bits 6:0 the slot, then a 16-bit
 * little-endian word of the offset in the page (bits 11:0) and the access
 * context (bits 15:12). */
#define TRACE_TAG_ACCESS_FORM_SHIFT 4
#define TRACE_TAG_ACC_MASK 0xfu
#define TRACE_TAG_SLOT 0x80u
#define TRACE_TAG_SLOT_MASK 0x7fu
#define TRACE_SLOT_OFFSET_MASK 0xfffu
#define TRACE_SLOT_ACC_SHIFT 12
#define TRACE_SLOT_RECORD_LEN 3
enum trace_access_form { TRACE_FORM_PREDICTED = 0, TRACE_FORM_OK = 1, TRACE_FORM_FAULT = 2 };
#define TRACE_TAG_FRAME 0x40
#define TRACE_TAG_STORE 0x41
#define TRACE_TAG_CTL 0x42
#define TRACE_TAG_MODE 0x43
#define TRACE_TAG_CHECKPOINT 0x44

struct trace_step {
	uint8_t level;      /* 5..1 */
	uint8_t cache;      /* enum mmu_cache_level that served the read */
	uint64_t entry_pa;
	uint64_t entry;     /* value read */
	uint32_t cycles;
};

struct trace_ad {
	uint8_t step;       /* index into steps of the entry updated */
	uint64_t value;     /* the entry after the update */
};

/* One translation and its outcome. */
struct trace_access {
	uint64_t la;
	uint8_t acc;        /* access context: kind, ACC_USER, ACC_AC */
	bool ok;
	bool predicted;     /* encoded as the codec's prediction */
	uint64_t pa;        /* ok */
	uint8_t vector;     /* !ok */
	uint32_t error_code;
	uint32_t cycles;
	uint8_t source, size, walk_reads, pwc_level;
	uint8_t nsteps, nad;
	struct trace_step step[TRACE_MAX_STEPS];
	struct trace_ad ad[TRACE_MAX_STEPS];
};

struct trace_record {
	enum trace_rec_kind kind;
	union {
		struct trace_access access;
		struct {
			uint64_t pfn;
			uint64_t word[TRACE_FRAME_WORDS];
		} frame;            /* a frame's contents when the walker first read it */
		struct {
			uint64_t pa;
			uint32_t len;   /* 1 .. PHYS_FRAME_SIZE */
			uint8_t data[PHYS_FRAME_SIZE];
		} store;            /* a later store to such a frame */
		struct {
			uint8_t op;     /* enum mmu_ctl_op */
			bool ok;
			uint64_t arg[4];
		} ctl;
		struct {
			uint8_t cpl, cs_l;
		} mode;
		struct {
			uint64_t accesses, insns, cycles, hash;
		} checkpoint;
	};
};

/* ---- codec state shared by writer and reader ---------------------------- */

#define TRACE_PRED_ENTRIES 4096u /* power of two */

struct trace_pred_entry {
	uint64_t tag;       /* (4K page number << 1 | fetch) + 1; 0: empty */
	uint64_t frame;     /* physical address of the 4-KiB frame of the last success there */
	uint8_t size;       /* page size of that success */
	uint8_t slot;       /* the recent-page slot given to the page (valid while it holds it) */
};

/* The recent-page table: TRACE_SLOTS pages (with their class) that
 * succeeded lately, replaced first in, first out. A slot access names one
 * and costs three bytes whatever the distance from the previous access. */
#define TRACE_SLOTS 128u /* power of two; TRACE_TAG_SLOT_MASK + 1 */
#define TRACE_CONTEXTS 16u /* access contexts: the four bits of mmu/access.h */

struct trace_slot {
	uint64_t page;      /* linear address of the 4-KiB page (bits 11:0 clear) */
	uint64_t frame;     /* physical address of its 4-KiB frame at its last success */
	uint16_t contexts;  /* bit n: context n is of the page's class; 0 while empty */
	uint8_t cls;        /* trace_pred_class of its accesses */
	uint8_t meta;       /* trace_meta_index of its class and page size */
};

struct trace_codec {
	uint64_t la, pa;    /* previous access's linear address, last success's pa */
	/* Comparing a meta word (struct mmu_xlate, mmu_xlate_l1_meta) and the
	 * physical address compares every field trace_access_equal reads of an
	 * outcome without walk steps: how the recorder and the replay check a
	 * prediction.
	 * The last L1 hit's meta word (mmu_xlate_l1_meta: its cycles) by
	 * trace_meta_index (fetch, page size); 0 while there was none. */
	uint64_t l1_meta[8];
	struct trace_slot slot[TRACE_SLOTS];
	unsigned next_slot;  /* the slot the next new page takes */
	struct trace_pred_entry pred[TRACE_PRED_ENTRIES];
};

void trace_codec_init(struct trace_codec *c);

static inline unsigned trace_pred_class(uint8_t acc)
{
	return (acc & ACC_KIND_MASK) == ACC_FETCH;
}

static inline uint64_t trace_pred_tag(uint64_t la, uint8_t acc)
{
	return ((la >> PHYS_FRAME_SHIFT) << 1 | trace_pred_class(acc)) + 1;
}

/* Where the codec keeps the last L1 hit's meta word of a class and page size. */
static inline unsigned trace_meta_index(unsigned cls, unsigned size)
{
	return cls << 2 | (size & 3);
}

static inline unsigned trace_pred_index(uint64_t tag)
{
	/* Fibonacci hashing: neighbouring pages spread over the table. */
	return (unsigned)((tag * UINT64_C(0x9e3779b97f4a7c15)) >> 52) & (TRACE_PRED_ENTRIES - 1);
}

/* A predicted access: an L1 hit on the frame this 4-KiB page (and fetch or
 * data class) mapped to at its last success (as its table entry or its
 * recent-page slot holds it), with the cycles of the last
 * L1 hit of that class and page size (meta: the same as a meta word). */
struct trace_predicted {
	uint64_t la, pa, meta;
	uint8_t acc;
};

/* The cycles and the page size a prediction's meta word holds. */
static inline uint32_t trace_predicted_cycles(const struct trace_predicted *p)
{
	return (uint32_t)p->meta;
}

static inline uint8_t trace_predicted_size(const struct trace_predicted *p)
{
	return (uint8_t)(p->meta >> MMU_XLATE_META_SIZE_SHIFT);
}

/* The prediction for an access to la with context acc; false when there
 * is none. Inline: the replay's inner loop and the recorder's. */
static inline bool trace_codec_lookup(const struct trace_codec *c, uint64_t la, uint8_t acc,
				      struct trace_predicted *p)
{
	uint64_t tag = trace_pred_tag(la, acc);
	const struct trace_pred_entry *e = &c->pred[trace_pred_index(tag)];
	uint64_t meta = c->l1_meta[trace_meta_index(trace_pred_class(acc), e->size)];
	if (e->tag != tag || !meta)
		return false;
	p->la = la;
	p->acc = acc;
	p->pa = e->frame | (la & (PHYS_FRAME_SIZE - 1));
	p->meta = meta;
	return true;
}

/* The full outcome a prediction stands for: every field
 * trace_access_equal reads (the step arrays stay unused). */
static inline void trace_predicted_access(const struct trace_predicted *p, struct trace_access *out)
{
	out->la = p->la;
	out->acc = p->acc;
	out->ok = true;
	out->predicted = true;
	out->pa = p->pa;
	out->vector = 0;
	out->error_code = 0;
	out->cycles = trace_predicted_cycles(p);
	out->source = SRC_L1;
	out->size = trace_predicted_size(p);
	out->walk_reads = out->pwc_level = out->nsteps = out->nad = 0;
}

static inline bool trace_codec_predict(const struct trace_codec *c, uint64_t la, uint8_t acc,
				       struct trace_access *out)
{
	struct trace_predicted p;
	if (!trace_codec_lookup(c, la, acc, &p))
		return false;
	trace_predicted_access(&p, out);
	return true;
}

/* The slot that holds la's 4-KiB page for acc's class, found through the
 * page's table entry: true with *k set, false when no slot holds it. */
static inline bool trace_codec_slot_of(const struct trace_codec *c, uint64_t la, uint8_t acc,
				       unsigned *k)
{
	uint64_t tag = trace_pred_tag(la, acc);
	const struct trace_pred_entry *e = &c->pred[trace_pred_index(tag)];
	const struct trace_slot *s = &c->slot[e->slot];
	*k = e->slot;
	return e->tag == tag && s->page == (la & ~(uint64_t)(PHYS_FRAME_SIZE - 1)) &&
	       ((s->contexts >> (acc & TRACE_TAG_ACC_MASK)) & 1);
}

/* The prediction slot k makes for an access at offset off in its page in
 * context acc: an L1 hit on the slot's frame with the cycles of the last
 * L1 hit of that class and page size. False when the slot is empty or
 * holds the other class, or no such L1 hit was seen. Inline: the replay's
 * inner loop and the recorder's. */
static inline bool trace_codec_slot_predict(const struct trace_codec *c, unsigned k, unsigned off,
					    uint8_t acc, struct trace_predicted *p)
{
	const struct trace_slot *s = &c->slot[k];
	uint64_t meta = c->l1_meta[s->meta]; /* trace_meta_index: below 8 */
	if (!((s->contexts >> (acc & TRACE_TAG_ACC_MASK)) & 1) || !meta)
		return false;
	p->la = s->page | off;
	p->pa = s->frame | off;
	p->meta = meta;
	p->acc = acc;
	return true;
}

/* A slot access's record: tag, then offset and context as one word. */
static inline void trace_put_slot_access(uint8_t *out, unsigned k, uint64_t la, uint8_t acc)
{
	unsigned word = (unsigned)(la & TRACE_SLOT_OFFSET_MASK) |
			(unsigned)(acc & TRACE_TAG_ACC_MASK) << TRACE_SLOT_ACC_SHIFT;
	out[0] = (uint8_t)(TRACE_TAG_SLOT | k);
	out[1] = (uint8_t)word;
	out[2] = (uint8_t)(word >> 8);
}

/* Learn from an access's full outcome (both sides call it in record order
 * for every access that is not a slot access; a slot access changes only
 * the previous addresses). */
void trace_codec_update(struct trace_codec *c, const struct trace_access *a);
/* Whether two outcomes are the same (every field the format holds). */
bool trace_access_equal(const struct trace_access *a, const struct trace_access *b);

/* CRC-32 (IEEE 802.3 polynomial, reflected), tables held by the caller:
 * table[0] is the bytewise table, table[k] advances a byte k positions
 * further, so sixteen bytes are folded per step ("slicing by 16"). */
#define TRACE_CRC_SLICES 16
struct trace_crc { uint32_t table[TRACE_CRC_SLICES][256]; };
void trace_crc_init(struct trace_crc *t);
uint32_t trace_crc32(const struct trace_crc *t, uint32_t crc, const void *buf, size_t len);

/* LEB128 varints and zigzag signed deltas. put returns bytes written (at most
 * 10; inline: the recorder's per-access path); get returns bytes read, 0 for
 * a truncated or over-long varint. */
#define TRACE_VARINT_MAX 10
static inline size_t trace_put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}
size_t trace_get_varint(const uint8_t *in, size_t avail, uint64_t *v);
static inline uint64_t trace_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t trace_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- writer ------------------------------------------------------------- */

struct trace_writer {
	FILE *f;
	/* The open block's payload: len < TRACE_BLOCK_TARGET between records
	 * (a block closes at the first record boundary past it), and buf has
	 * room for the largest record beyond that. */
	uint8_t *buf;
	size_t len;
	uint32_t block_records;
	uint64_t records, accesses, bytes;
	struct trace_codec codec;
	struct trace_crc crc;
	bool failed;
	char err[256];
};

/* Create path and write the header. False with one line in err. */
bool trace_writer_open(struct trace_writer *w, const char *path, const struct trace_header *h,
		       char *err, size_t errlen);
/* Append one record (an access record is encoded against the codec state).
 * Errors are sticky and reported by trace_writer_close. */
void trace_writer_put(struct trace_writer *w, const struct trace_record *r);
/* Close the open block (trace_writer_put does so past TRACE_BLOCK_TARGET). */
void trace_writer_end_block(struct trace_writer *w);

/* Append the translation of la in context acc whose outcome is x, if it
 * succeeded without a walk step, an A/D update or a fault (the caller
 * knows), its page holds a recent-page slot and the outcome is exactly
 * that slot's prediction: then its record is the slot access
 * trace_writer_put would write, written without building a struct
 * trace_access, and learning from it changes only the codec's previous
 * addresses. False when it is not: nothing changed, and the caller puts
 * the record. After a write error the block is still encoded but never
 * written (errors are sticky). Only between trace_writer_open and
 * trace_writer_close (it needs the block buffer). Inline: the recorder
 * calls it for every translation. */
static inline bool trace_writer_put_predicted(struct trace_writer *w, uint64_t la, uint8_t acc,
					      const struct mmu_xlate *x)
{
	struct trace_predicted p;
	unsigned k;
	if (!trace_codec_slot_of(&w->codec, la, acc, &k) ||
	    !trace_codec_slot_predict(&w->codec, k, (unsigned)(la & TRACE_SLOT_OFFSET_MASK), acc, &p) ||
	    x->pa != p.pa || x->meta != p.meta)
		return false;
	trace_put_slot_access(w->buf + w->len, k, la, acc);
	w->len += TRACE_SLOT_RECORD_LEN;
	w->codec.la = la;
	w->codec.pa = p.pa;
	w->block_records++;
	w->records++;
	w->accesses++;
	if (w->len >= TRACE_BLOCK_TARGET)
		trace_writer_end_block(w);
	return true;
}

/* Flush, write the end block and close. False with one line in err. */
bool trace_writer_close(struct trace_writer *w, char *err, size_t errlen);

/* ---- reader ------------------------------------------------------------- */

enum trace_read_status { TRACE_READ_RECORD = 0, TRACE_READ_END = 1, TRACE_READ_ERROR = 2 };

struct trace_reader {
	FILE *f;                /* NULL when reading from memory */
	const uint8_t *mem;     /* the whole file, when reading from memory */
	size_t mem_len;
	const char *name;       /* for messages */
	uint8_t *buf;           /* the current block's payload */
	size_t cap;
	size_t pos, len;        /* within buf */
	uint64_t block_offset;  /* file offset of the current block's payload */
	uint64_t file_pos;      /* file offset of the next block */
	uint32_t block_records, block_seen;
	uint64_t records, accesses;
	bool ended;
	struct trace_header h;
	struct trace_codec codec;
	struct trace_crc crc;
	char err[300];
};

/* Open a file (or a buffer of len bytes, name used in messages) and check
 * its header. False with one line in err. */
bool trace_reader_open(struct trace_reader *r, const char *path, char *err, size_t errlen);
bool trace_reader_open_mem(struct trace_reader *r, const void *data, size_t len, const char *name,
			   char *err, size_t errlen);
/* Next record into rec. TRACE_READ_END after the end block (whose counts
 * were checked), TRACE_READ_ERROR with r->err set. */
enum trace_read_status trace_reader_next(struct trace_reader *r, struct trace_record *rec);
void trace_reader_close(struct trace_reader *r);

/* A run of slot accesses read in place, the common record: three bytes
 * decoded inline, with no varint and no table probe. Only the reader's
 * cursor moves in the loop (in a register, in a loop that also
 * translates): the count of accesses taken follows from it, and the
 * codec's previous addresses from the last one taken, and they are
 * written back once by trace_pred_run_end. Learning from a slot access
 * changes only the previous addresses. Anything else (another record, a
 * block's end, an error) stops the run; trace_reader_next takes it. */
struct trace_pred_run {
	/* The first record of the run; the next one; where the run must stop:
	 * a slot access starting below stop lies whole within the block's
	 * payload and within the records the block still holds (one comparison
	 * checks both). */
	const uint8_t *start, *p, *stop;
};

static inline void trace_pred_run_begin(const struct trace_reader *r, struct trace_pred_run *run)
{
	static const uint8_t none[1]; /* no block open: an empty run */
	run->start = run->p = run->stop = none;
	if (r->buf && !r->ended && r->block_seen < r->block_records) {
		size_t left = r->block_records - r->block_seen;
		size_t fit = (r->len - r->pos) / TRACE_SLOT_RECORD_LEN; /* whole records */
		run->start = run->p = run->stop = r->buf + r->pos;
		if (fit)
			run->stop += (left < fit ? left - 1 : fit - 1) * TRACE_SLOT_RECORD_LEN + 1;
	}
}

/* The slot accesses taken so far. */
static inline uint32_t trace_pred_run_taken(const struct trace_pred_run *run)
{
	return (uint32_t)((size_t)(run->p - run->start) / TRACE_SLOT_RECORD_LEN);
}

/* The next slot access into pr; false at the first record that is not
 * one, or that names a slot with no prediction (the general decoder then
 * rejects it), leaving pr as it was. */
static inline bool trace_pred_run_next(struct trace_pred_run *run, const struct trace_codec *c,
				       struct trace_predicted *pr)
{
	const uint8_t *p = run->p;
	if (p >= run->stop || p[0] < TRACE_TAG_SLOT)
		return false;
	unsigned word = (unsigned)p[1] | (unsigned)p[2] << 8;
	if (!trace_codec_slot_predict(c, p[0] & TRACE_TAG_SLOT_MASK, word & TRACE_SLOT_OFFSET_MASK,
				      (uint8_t)(word >> TRACE_SLOT_ACC_SHIFT), pr))
		return false;
	run->p = p + TRACE_SLOT_RECORD_LEN;
	return true;
}

/* Write the run back; last: the last access it took (unread when none). */
static inline void trace_pred_run_end(struct trace_reader *r, const struct trace_pred_run *run,
				      const struct trace_predicted *last)
{
	uint32_t taken = trace_pred_run_taken(run);
	if (!taken)
		return;
	r->pos = (size_t)(run->p - r->buf);
	r->block_seen += taken;
	r->records += taken;
	r->accesses += taken;
	r->codec.la = last->la;
	r->codec.pa = last->pa;
}

/* One slot access, if the next record is one (trace_reader_next calls
 * this first). */
static inline bool trace_reader_next_predicted(struct trace_reader *r, struct trace_predicted *pr)
{
	struct trace_pred_run run;
	trace_pred_run_begin(r, &run);
	bool ok = trace_pred_run_next(&run, &r->codec, pr);
	trace_pred_run_end(r, &run, pr);
	return ok;
}

/* ---- names -------------------------------------------------------------- */

const char *trace_rec_kind_name(enum trace_rec_kind k);
const char *trace_ctl_op_name(unsigned op);
/* "R", "W" or "X" then "u" for user, "a" for AC: "Wu". buf >= 4 bytes. */
const char *trace_acc_name(uint8_t acc, char *buf);
/* One line of text (no newline) describing an access's outcome. */
void trace_access_outcome_text(const struct trace_access *a, char *buf, size_t len);

#endif
