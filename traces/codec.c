/* The codec state writer and reader keep in step, varints, CRC-32, names. */
#include "traces/trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mmu/access.h"
#include "mmu/mmu.h"

/* ---- prediction --------------------------------------------------------- */

void trace_codec_init(struct trace_codec *c)
{
	memset(c, 0, sizeof *c); /* every slot empty: no context is of its class */
}

/* The access contexts of a class (bit n: context n). */
static uint16_t class_contexts(unsigned cls)
{
	uint16_t m = 0;
	for (unsigned acc = 0; acc < TRACE_CONTEXTS; acc++)
		if (trace_pred_class((uint8_t)acc) == cls)
			m |= (uint16_t)(1u << acc);
	return m;
}

/* The page of a success whose table entry is e (already updated): its
 * slot is refreshed when it still holds the page (held_before: the entry
 * named this page before the update), else the page takes the next slot. */
static void codec_slot_learn(struct trace_codec *c, struct trace_pred_entry *e, bool held_before,
			     uint64_t la, unsigned cls)
{
	struct trace_slot *s = &c->slot[e->slot];
	uint64_t page = la & ~(uint64_t)(PHYS_FRAME_SIZE - 1);
	if (!held_before || s->page != page || s->cls != cls || !s->contexts) {
		e->slot = (uint8_t)c->next_slot;
		c->next_slot = (c->next_slot + 1) & (TRACE_SLOTS - 1);
		s = &c->slot[e->slot];
		s->page = page;
		s->cls = (uint8_t)cls;
		s->contexts = class_contexts(cls);
	}
	s->frame = e->frame;
	s->meta = (uint8_t)trace_meta_index(cls, e->size);
}

void trace_codec_update(struct trace_codec *c, const struct trace_access *a)
{
	c->la = a->la;
	if (!a->ok)
		return;
	c->pa = a->pa;
	unsigned cls = trace_pred_class(a->acc), size = a->size & 3;
	if (a->source == SRC_L1)
		c->l1_meta[trace_meta_index(cls, size)] = mmu_xlate_l1_meta(a->cycles, (uint8_t)size);
	uint64_t tag = trace_pred_tag(a->la, a->acc);
	struct trace_pred_entry *e = &c->pred[trace_pred_index(tag)];
	bool held = e->tag == tag;
	e->tag = tag;
	e->frame = a->pa & ~(uint64_t)(PHYS_FRAME_SIZE - 1);
	e->size = (uint8_t)size;
	codec_slot_learn(c, e, held, a->la, cls);
}

bool trace_access_equal(const struct trace_access *a, const struct trace_access *b)
{
	if (a->la != b->la || a->acc != b->acc || a->ok != b->ok || a->cycles != b->cycles ||
	    a->walk_reads != b->walk_reads || a->pwc_level != b->pwc_level ||
	    a->nsteps != b->nsteps || a->nad != b->nad)
		return false;
	if (a->ok ? (a->pa != b->pa || a->source != b->source || a->size != b->size)
		  : (a->vector != b->vector || a->error_code != b->error_code))
		return false;
	for (unsigned i = 0; i < a->nsteps; i++) {
		const struct trace_step *s = &a->step[i], *t = &b->step[i];
		if (s->level != t->level || s->cache != t->cache || s->entry_pa != t->entry_pa ||
		    s->entry != t->entry || s->cycles != t->cycles)
			return false;
	}
	for (unsigned i = 0; i < a->nad; i++)
		if (a->ad[i].step != b->ad[i].step || a->ad[i].value != b->ad[i].value)
			return false;
	return true;
}

/* ---- varints ------------------------------------------------------------ */

size_t trace_get_varint(const uint8_t *in, size_t avail, uint64_t *v)
{
	uint64_t r = 0;
	for (size_t i = 0; i < avail && i < 10; i++) {
		uint64_t b = in[i] & 0x7f;
		if (i == 9 && b > 1)
			return 0; /* more than 64 bits */
		r |= b << (7 * i);
		if (!(in[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

/* ---- CRC-32 ------------------------------------------------------------- */

#define TRACE_CRC_POLY 0xedb88320u /* IEEE 802.3, bit-reversed */

void trace_crc_init(struct trace_crc *t)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ TRACE_CRC_POLY : c >> 1;
		t->table[0][i] = c;
	}
	for (unsigned k = 1; k < TRACE_CRC_SLICES; k++)
		for (unsigned i = 0; i < 256; i++)
			t->table[k][i] = t->table[0][t->table[k - 1][i] & 0xff] ^ (t->table[k - 1][i] >> 8);
}

/* Fold the four bytes of w, the last of them n bytes before the end of
 * the slice being folded: byte i of w moves through table n + 3 - i. */
static inline uint32_t crc_fold4(const struct trace_crc *t, uint32_t w, unsigned n)
{
	return t->table[n + 3][w & 0xff] ^ t->table[n + 2][(w >> 8) & 0xff] ^
	       t->table[n + 1][(w >> 16) & 0xff] ^ t->table[n][w >> 24];
}

uint32_t trace_crc32(const struct trace_crc *t, uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	crc = ~crc;
	for (; len >= TRACE_CRC_SLICES; len -= TRACE_CRC_SLICES, p += TRACE_CRC_SLICES) {
		uint32_t w[4];
		memcpy(w, p, sizeof w); /* little-endian host (mmu/phys.h) */
		crc = crc_fold4(t, w[0] ^ crc, 12) ^ crc_fold4(t, w[1], 8) ^ crc_fold4(t, w[2], 4) ^
		      crc_fold4(t, w[3], 0);
	}
	for (; len; len--, p++)
		crc = t->table[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- names -------------------------------------------------------------- */

const char *trace_rec_kind_name(enum trace_rec_kind k)
{
	static const char *const names[TR_NKINDS] = {
		[TR_ACCESS] = "access", [TR_FRAME] = "frame", [TR_STORE] = "store",
		[TR_CTL] = "ctl", [TR_MODE] = "mode", [TR_CHECKPOINT] = "checkpoint",
	};
	return (unsigned)k < TR_NKINDS ? names[k] : "?";
}

const char *trace_ctl_op_name(unsigned op)
{
	static const char *const names[CTL_NOPS] = {
		[CTL_SET_CONTROL] = "set-control", [CTL_CR0] = "cr0", [CTL_CR3] = "cr3",
		[CTL_CR4] = "cr4", [CTL_EFER] = "efer", [CTL_PKRU] = "pkru",
		[CTL_INVLPG] = "invlpg", [CTL_INVPCID] = "invpcid", [CTL_FLUSH_ALL] = "flush-all",
	};
	return op < CTL_NOPS ? names[op] : "?";
}

const char *trace_acc_name(uint8_t acc, char *buf)
{
	static const char kinds[4] = {'R', 'W', 'X', '?'};
	size_t n = 0;
	buf[n++] = kinds[acc & ACC_KIND_MASK];
	if (acc & ACC_USER)
		buf[n++] = 'u';
	if (acc & ACC_AC)
		buf[n++] = 'a';
	buf[n] = '\0';
	return buf;
}

static const char *source_name(uint8_t s)
{
	static const char *const names[4] = {"nopaging", "L1", "L2", "walk"};
	return names[s & 3];
}

void trace_access_outcome_text(const struct trace_access *a, char *buf, size_t len)
{
	int n;
	if (a->ok)
		n = snprintf(buf, len, "pa=%#" PRIx64 " %s %s %" PRIu32 "c", a->pa,
			     source_name(a->source), mmu_page_size_name((enum mmu_page_size)(a->size & 3)),
			     a->cycles);
	else
		n = snprintf(buf, len, "fault vec=%u ec=%#" PRIx32 " %" PRIu32 "c", a->vector,
			     a->error_code, a->cycles);
	if (n < 0 || (size_t)n >= len || (!a->nsteps && !a->pwc_level))
		return;
	size_t at = (size_t)n;
	at += (size_t)snprintf(buf + at, len - at, " pwc=%u reads=%u", a->pwc_level, a->walk_reads);
	for (unsigned i = 0; i < a->nsteps && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, " [L%u %#" PRIx64 "=%#" PRIx64 " %s %uc]",
				       a->step[i].level, a->step[i].entry_pa, a->step[i].entry,
				       mmu_cache_level_name((enum mmu_cache_level)(a->step[i].cache & 3)),
				       a->step[i].cycles);
	for (unsigned i = 0; i < a->nad && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, " ad[%u]=%#" PRIx64, a->ad[i].step,
				       a->ad[i].value);
}
