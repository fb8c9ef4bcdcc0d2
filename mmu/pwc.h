/* Paging-structure caches (SDM Vol. 3A §4.10.3).
 *
 * A PWC entry of kind K caches a paging-structure entry that references
 * another paging structure: it maps the upper linear-address bits that
 * select that entry to the physical address of the next structure, with the
 * rights accumulated down to it (R/W and U/S ANDed, XD ORed), tagged with a
 * PCID. A TLB miss looks for the longest match (PDE cache first), and the
 * walk starts at the structure the hit points to (§4.10.3.2). Global pages
 * have no meaning here (§4.10.3.1): entries are always per PCID.
 *
 * Layout, chosen for the walk's miss path, where every level is looked up
 * and, after a miss, filled: a set is a block of its ways' keys followed by
 * their values (the next structure's address, 4-KByte aligned, with the
 * rights in its low byte), so a way is two words and a fill two stores.
 * Replacement is exact LRU kept as the set's way numbers in recency order
 * (most recent first): a hit moves its way to the front, a fill takes the
 * way at the back and moves it to the front. Empty ways are kept at the
 * back, the lowest-numbered last, so the way at the back is the first empty
 * way if there is one, else the least recently used: no victim search and
 * no timestamps.
 *
 * Caches of 1, 2 or 4 ways (every shipped model's) keep the order in their
 * block, after the values: one byte per position, repeated to fill 64 bits
 * (ways 1: aaaaaaaa, 2: abababab), so a fill is one rotate (the back byte,
 * byte 7 whatever the ways, becomes byte 0). Their blocks are padded to 4 ways
 * (padding keys are 0 and never chosen) and PWC_FAST_STRIDE words, so their
 * set scans unroll and a set's address is a shift. Other caches keep a
 * 16-bit way number per position after the values and take out-of-line
 * loops.
 */
#ifndef MMU_PWC_H
#define MMU_PWC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/fault.h" /* MMU_LIKELY */
#include "mmu/model.h"

/* Entry key: (la >> shift) << 13 | pcid << 1 | 1, so one compare matches
 * both the linear-address bits and the PCID. 0 = invalid. */
#define PWC_KEY_PCID_SHIFT 1
#define PWC_KEY_TAG_SHIFT 13
#define PWC_KEY_PCID_MASK 0xfffu

/* A value: the next structure's address | the accumulated rights
 * (TLB_R_USER | TLB_R_WRITE | TLB_R_EXEC). Paging structures are
 * 4-KByte aligned (§4.3, §4.4.1, §4.5), so the low byte is free. */
#define PWC_VAL_RIGHTS 0xffu

#define PWC_FAST_WAYS 4   /* the unrolled path: 1, 2 or 4 ways, padded to 4 */
#define PWC_FAST_ORD 8    /* the word of a block that holds its order there */
#define PWC_FAST_STRIDE 16 /* words per block there: 4 keys, 4 values, the order */

/* One way as pwc_read reports it: the cache itself stores keys, values and
 * recency orders (see above). */
struct pwc_entry {
	uint64_t key;      /* 0: empty */
	uint64_t next;     /* physical address of the next paging structure */
	uint32_t age;      /* rank in its set's LRU order: 0 = most recent */
	uint16_t pcid;
	uint8_t rights;    /* TLB_R_USER | TLB_R_WRITE | TLB_R_EXEC, accumulated */
	uint8_t pad;
};

/* A key's low bits (PCID and valid), which a walk computes once for every
 * level it looks up. */
static inline uint64_t pwc_key_low(uint16_t pcid)
{
	return (uint64_t)(pcid & PWC_KEY_PCID_MASK) << PWC_KEY_PCID_SHIFT | 1;
}

static inline uint64_t pwc_key(uint64_t la, unsigned shift, uint16_t pcid)
{
	return (la >> shift) << PWC_KEY_TAG_SHIFT | pwc_key_low(pcid);
}

static inline uint64_t pwc_next(uint64_t val)
{
	return val & ~(uint64_t)PWC_VAL_RIGHTS;
}

static inline uint8_t pwc_rights(uint64_t val)
{
	return (uint8_t)val;
}

/* Evictions are fills that replaced a valid entry: fills - empty_fills
 * (pwc_evictions). Counting the rare fill into an empty way instead of
 * the common eviction keeps a store off the walk's path. */
struct pwc_stats {
	uint64_t lookups, hits, fills, empty_fills, invalidations;
};

static inline uint64_t pwc_evictions(const struct pwc_stats *st)
{
	return st->fills - st->empty_fills;
}

struct pwc {
	uint64_t *slot;        /* sets blocks of stride words: keys (0 = empty), values, order */
	uint64_t set_mask;     /* sets - 1 */
	bool fast;             /* 1, 2 or 4 ways: the unrolled path (see above) */
	uint32_t sets, ways;   /* sets == 0: this cache is absent */
	uint32_t stride;       /* words per set block: PWC_FAST_STRIDE, or see pwc_init */
	uint64_t ord_low;      /* fast: the bytes of one copy of the order */
	uint64_t ord_rep;      /* fast: 1 in the low byte of each copy */
	uint32_t latency;
	struct pwc_stats st;
};

bool pwc_init(struct pwc *c, const struct mmu_pwc_geom *g);
void pwc_free(struct pwc *c);

/* What a lookup leaves for the fill of the same entry after a miss: the
 * walk fills only levels it looked up and missed, and nothing else touches
 * the cache in between. */
struct pwc_slot {
	uint64_t *set;         /* a fast cache's block of the set, else NULL */
	uint64_t key;          /* which also names the set, for other caches */
};

/* The lookup and fill of a present cache of other ways (pwc.c). */
const uint64_t *pwc_lookup_slow(struct pwc *c, uint64_t key);
void pwc_fill_slow(struct pwc *c, uint64_t key, uint64_t val);

/* The way of a fast block that holds key, or PWC_FAST_WAYS. */
static inline unsigned pwc_find_fast(const uint64_t *s, uint64_t key)
{
	for (unsigned w = 0; w < PWC_FAST_WAYS; w++)
		if (s[w] == key)
			return w;
	return PWC_FAST_WAYS;
}

/* Move way w to the front of a fast block's order: the positions in front
 * of its own shift back by one. Its position is the lowest byte equal to w
 * (the first copy holds every way), found by the zero-byte test on
 * ord ^ w's bytes, whose lowest flagged byte is exact; the first copy, so
 * rearranged, is repeated again. */
static inline uint64_t pwc_ord_touch(const struct pwc *c, uint64_t ord, unsigned w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t x = ord ^ (ones * w);
	uint64_t z = (x - ones) & ~x & (ones << 7);
	unsigned at = (unsigned)__builtin_ctzll(z) & ~7u; /* 8 * position */
	uint64_t upto = (UINT64_C(0x100) << at) - 1;      /* positions 0 .. w's */
	uint64_t first = (ord & ~upto) | ((ord << 8) & upto) | w;
	return (first & c->ord_low) * c->ord_rep;
}

/* A counted lookup of la's entry, whose key's low bits (pwc_key_low) the
 * caller has computed: statistics and LRU are updated on a hit, which
 * returns the way's value (pwc_next, pwc_rights); *slot is left for a
 * fill (pwc_fill_slot, with the same c) after a miss. shift: see
 * pwc_probe. An absent cache misses and counts nothing. */
static inline const uint64_t *pwc_lookup_la(struct pwc *c, uint64_t la, unsigned shift,
					    uint64_t key_low, struct pwc_slot *slot)
{
	uint64_t tag = la >> shift;
	slot->key = tag << PWC_KEY_TAG_SHIFT | key_low;
	if (MMU_LIKELY(c->fast)) {
		uint64_t *s = c->slot + (tag & c->set_mask) * PWC_FAST_STRIDE;
		slot->set = s;
		c->st.lookups++;
		unsigned w = pwc_find_fast(s, slot->key);
		if (w == PWC_FAST_WAYS)
			return NULL;
		c->st.hits++;
		/* Hits come in runs on one entry (a 2-MByte region's pages):
		 * the front way needs no move. */
		if ((s[PWC_FAST_ORD] & 0xff) != w)
			s[PWC_FAST_ORD] = pwc_ord_touch(c, s[PWC_FAST_ORD], w);
		return &s[PWC_FAST_WAYS + w];
	}
	slot->set = NULL;
	return c->sets ? pwc_lookup_slow(c, slot->key) : NULL;
}

/* Fill the entry a lookup missed, in the way at the back of its set's
 * order (see above); nothing in an absent cache. Precondition: nothing
 * has touched the cache since that lookup (so the set holds no entry for
 * the key and no search for a duplicate is made); next is 4-KByte
 * aligned. */
static inline void pwc_fill_slot(struct pwc *c, const struct pwc_slot *slot, uint64_t next,
				 uint8_t rights)
{
	uint64_t *s = slot->set;
	if (MMU_LIKELY(s)) {
		uint64_t ord = s[PWC_FAST_ORD];
		ord = ord << 8 | ord >> 56;
		s[PWC_FAST_ORD] = ord;
		uint64_t *way = s + (ord & 0xff);
		if (!*way)
			c->st.empty_fills++;
		way[0] = slot->key;
		way[PWC_FAST_WAYS] = next | rights;
		c->st.fills++;
		return;
	}
	if (c->sets)
		pwc_fill_slow(c, slot->key, next | rights);
}

/* shift: the low bit of the linear-address bits that select the cached entry's
 * successor region (21 for a PDE under 4-level paging, 22 under 32-bit).
 * An absent cache (sets == 0) holds nothing and takes nothing. A hit
 * returns the way's value (pwc_next, pwc_rights). */
const uint64_t *pwc_probe(const struct pwc *c, uint64_t la, unsigned shift, uint16_t pcid);

static inline const uint64_t *pwc_lookup(struct pwc *c, uint64_t la, unsigned shift,
					 uint16_t pcid)
{
	struct pwc_slot slot;
	return pwc_lookup_la(c, la, shift, pwc_key_low(pcid), &slot);
}

/* The slot of la's entry without a lookup. */
static inline struct pwc_slot pwc_slot_of(struct pwc *c, uint64_t la, unsigned shift, uint16_t pcid)
{
	uint64_t tag = la >> shift;
	return (struct pwc_slot){ .key = tag << PWC_KEY_TAG_SHIFT | pwc_key_low(pcid),
				  .set = c->fast ? c->slot + (tag & c->set_mask) * PWC_FAST_STRIDE : NULL };
}

/* Precondition as pwc_fill_slot's: la's entry was looked up and missed. */
static inline void pwc_fill(struct pwc *c, uint64_t la, unsigned shift, uint16_t pcid,
			    uint64_t next, uint8_t rights)
{
	struct pwc_slot slot = pwc_slot_of(c, la, shift, pcid);
	pwc_fill_slot(c, &slot, next, rights);
}

/* Invalidate every entry (all PCIDs), or those of one PCID. */
unsigned pwc_invalidate_all(struct pwc *c);
unsigned pwc_invalidate_pcid(struct pwc *c, uint16_t pcid);

/* Copy out all sets * ways ways, set by set, with their LRU ranks. */
void pwc_read(const struct pwc *c, struct pwc_entry *out);

#endif
