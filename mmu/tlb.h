/* Set-associative TLB structures with LRU replacement.
 *
 * A TLB entry caches one translation as the SDM describes it (Vol. 3A
 * §4.10.2.2): the page number, the physical frame, the access rights
 * combined over every level of the walk (R/W and U/S ANDed, XD ORed), the
 * dirty flag of the leaf, the global flag, the protection key and the PCID.
 *
 * The rights are packed in four bits (TLB_R_*) so that a permission check
 * on a hit is one table lookup in struct mmu (perm tables indexed by access
 * context, bit-indexed by rights).
 *
 * One structure may hold several page sizes (the unified L2 TLB holds 4K and
 * 2M). A lookup probes each size it holds, each with its own set index.
 * An entry may be a fragment of a larger page (a 4M page held as a 2M entry,
 * a 1G page in a structure without 1G entries): size says what the entry
 * covers, orig_size what the paging structures mapped, and invalidation by
 * address uses orig_size (SDM §4.10.4.2: INVLPG of any address in a large
 * page invalidates all of it).
 */
#ifndef MMU_TLB_H
#define MMU_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/model.h"

#include <emmintrin.h>
#include <stddef.h>

enum tlb_rights {
	TLB_R_USER = 1u << 0,  /* U/S = 1 at every level: a user-mode address */
	TLB_R_WRITE = 1u << 1, /* R/W = 1 at every level */
	TLB_R_EXEC = 1u << 2,  /* XD = 0 at every level (or XD not in effect) */
	TLB_R_DIRTY = 1u << 3, /* the leaf's D flag was 1 when cached */
};
#define TLB_RIGHTS_COMBOS 16

#define TLB_PCID_GLOBAL 0x8000u /* pcid field flag: a global entry (§4.10.2.4) */

/* Entry key: (la >> shift) << 16 | pcid << 4 | size << 1 | 1, so one compare
 * matches page, size and PCID. A global entry (which matches every PCID,
 * §4.10.2.4) has PCID bits 0 and TLB_KEY_GLOBAL set instead, so a lookup
 * compares each way against two keys. Linear addresses have at most 57 bits,
 * so the page number fits above bit 16. key == 0: invalid. */
#define TLB_KEY_GLOBAL (UINT64_C(1) << 3)
#define TLB_KEY_PCID_SHIFT 4
#define TLB_KEY_VPN_SHIFT 16
#define TLB_KEY_PCID_BITS (UINT64_C(0xfff) << TLB_KEY_PCID_SHIFT)

struct tlb_entry {
	uint64_t key;
	uint64_t pa;        /* physical base of what this entry covers */
	uint64_t lru;       /* last-use stamp; larger is more recent; 0 when empty */
	uint16_t pcid;      /* PCID, | TLB_PCID_GLOBAL for global entries */
	uint8_t rights;     /* TLB_R_* */
	uint8_t pkey;       /* protection key (0 unless IA-32e paging) */
	uint8_t size;       /* enum mmu_page_size covered by this entry */
	uint8_t orig_size;  /* enum mmu_page_size mapped by the paging structures */
};
_Static_assert(sizeof(struct tlb_entry) == 32, "two TLB entries per host cache line");

/* Region buckets: linear-address bits 26:21, a 2 MiB region each. */
#define TLB_REGION_SHIFT 21
#define TLB_REGIONS 64

static inline unsigned tlb_region(uint64_t la)
{
	return (unsigned)(la >> TLB_REGION_SHIFT) & (TLB_REGIONS - 1);
}

/* Evictions are fills that replaced a valid entry: fills - empty_fills
 * (tlb_evictions). Counting the rare fill into an empty way instead of
 * the common eviction keeps a store off the miss path. */
struct tlb_stats {
	uint64_t fast_hits, hits, misses, fills, empty_fills, invalidations;
};

static inline uint64_t tlb_evictions(const struct tlb_stats *st)
{
	return st->fills - st->empty_fills;
}

struct tlb {
	struct tlb_entry *e;  /* sets * ways entries, set-major */
	uint32_t sets, ways;
	uint8_t sizes;        /* PG_SIZE_BIT mask */
	/* Fast-path constants for the smallest size held (mmu_translate). */
	uint8_t shift0;       /* its page shift */
	uint8_t size0;        /* enum mmu_page_size */
	uint64_t set_mask;    /* sets - 1 */
	uint64_t offset_mask; /* (1 << shift0) - 1 */
	uint32_t way_shift;   /* log2(ways); the fast path needs ways a power of two */
	uint64_t key_low;     /* current PCID and size0 bits of a key (tlb_set_pcid) */
	uint64_t key_global;  /* size0 bits of a global entry's key */
	uint64_t hit_meta;    /* struct mmu_xlate meta word of a hit */
	uint32_t latency;
	uint32_t splinters;   /* fills of fragments of larger pages since the last full flush */
	uint32_t nvalid[PG_NSIZES]; /* valid entries per size */
	uint8_t live;         /* PG_SIZE_BIT of each size with valid entries: lookups skip the rest */
	uint8_t has_next;     /* another structure follows at this level (tlb[level][i + 1]) */
	uint8_t track_regions; /* region[] is kept (the first L1I and L1D structures) */
	enum mmu_tlb_level level;
	/* Valid entries (any PCID) per 2 MiB region bucket, linear-address
	 * bits 26:21; an entry larger than 2M counts in every bucket. A zero
	 * bucket proves the structure holds nothing for an address there, so
	 * the inline path may skip it (mmu_translate). */
	uint16_t region[TLB_REGIONS];
	uint64_t clock;       /* LRU stamp source */
	/* L2 structures of up to 16 ways: per set, its ways from the most
	 * to the least recently used, 4 bits each (position 0 the most
	 * recent), so the victim is read, not searched. The stamps stay the
	 * reference: the order is the one they give, empty ways last with
	 * the lowest index at the back (tlb_consistent). NULL: victims
	 * are found by comparing stamps. */
	uint64_t *order;
	uint32_t order_back;  /* bit position of the back (least recent) way */
	uint64_t order_mask;  /* the 4 * ways bits an order word uses */
	/* With an order word, a tag byte per entry, in entry order (then 16
	 * zero bytes of padding): 0 when the way is empty, else tlb_tag of
	 * its key. A probe compares a set's tags in one SSE2 compare and
	 * reads the keys of matching ways alone (tlb_scan_tagged_n). NULL
	 * without an order word. */
	uint8_t *tag;
	struct tlb_stats st;
};

/* The set index of la for size s, and of a valid entry (from its key). */
static inline uint64_t tlb_set_index(const struct tlb *t, uint64_t la, enum mmu_page_size s)
{
	return (la >> mmu_page_shift(s)) & (t->sets - 1);
}

static inline uint64_t tlb_entry_set_index(const struct tlb *t, const struct tlb_entry *e)
{
	return (e->key >> TLB_KEY_VPN_SHIFT) & (t->sets - 1);
}

#define TLB_ORDER_NIBBLES UINT64_C(0x1111111111111111)
#define TLB_ORDER_HIGH_BITS UINT64_C(0x8888888888888888)

/* Way w moved to the front of an order word: the ways before it move
 * back one place. The lowest nibble equal to w is found with the
 * zero-nibble test (exact for the lowest match); positions past the last
 * way hold 0 but lie above w's own position. */
static inline uint64_t tlb_order_front(uint64_t ord, unsigned w)
{
	uint64_t x = ord ^ (TLB_ORDER_NIBBLES * w);
	uint64_t z = (x - TLB_ORDER_NIBBLES) & ~x & TLB_ORDER_HIGH_BITS;
	unsigned at = (unsigned)__builtin_ctzll(z) - 3; /* first bit of w's nibble */
	uint64_t before = ord & ((UINT64_C(1) << at) - 1);
	uint64_t after = ord >> at >> 4 << 4 << at;
	return after | before << 4 | w;
}

/* A valid entry's tag byte: bit 7 set, bits 6:0 a multiplicative hash of
 * the key's page number (a key and its global form share it). The hash,
 * not the low bits, because the page numbers that share a set often
 * share their next bits too (a loop's pages a fixed stride apart). */
#define TLB_TAG_VALID 0x80u
static inline uint8_t tlb_tag(uint64_t key)
{
	return (uint8_t)((((key >> TLB_KEY_VPN_SHIFT) * UINT64_C(0x9e3779b97f4a7c15)) >> 57) |
			 TLB_TAG_VALID);
}

/* e's tag byte after its key changed, where t keeps tags. */
static inline void tlb_tag_set(struct tlb *t, const struct tlb_entry *e)
{
	if (t->tag)
		t->tag[e - t->e] = e->key ? tlb_tag(e->key) : 0;
}

/* The least recently used way of set idx (the victim: an empty way if
 * any, the lowest-indexed first). */
static inline unsigned tlb_order_back(const struct tlb *t, uint64_t idx)
{
	return (unsigned)(t->order[idx] >> t->order_back) & 15;
}

/* Way e of set idx was just used (filled or hit). */
static inline void tlb_order_use(struct tlb *t, uint64_t idx, const struct tlb_entry *e)
{
	if (t->order)
		t->order[idx] = tlb_order_front(t->order[idx], (unsigned)(e - &t->e[idx * t->ways]));
}

/* The counts, LRU stamp and order word of a counted hit on e. */
static inline void tlb_count_hit(struct tlb *t, struct tlb_entry *e)
{
	t->st.hits++;
	e->lru = ++t->clock;
	tlb_order_use(t, tlb_entry_set_index(t, e), e);
}

/* Re-establish set idx's order after entries in it were dropped: the
 * valid ways keep their order, the empty ones go to the back, the lowest
 * index last. */
void tlb_order_settle(struct tlb *t, uint64_t idx);
/* Whether everything kept alongside the entries matches them: each set's
 * order word the order its stamps give, each tag byte its entry's key,
 * the per-size counts and live mask, and the region counts where kept
 * (tests). */
bool tlb_consistent(const struct tlb *t);

/* pcid may carry TLB_PCID_GLOBAL: then the global form of the key. */
static inline uint64_t tlb_key(uint64_t la, enum mmu_page_size s, uint16_t pcid)
{
	uint64_t low = (pcid & TLB_PCID_GLOBAL) ? TLB_KEY_GLOBAL
						: (uint64_t)(pcid & 0xfff) << TLB_KEY_PCID_SHIFT;
	return (la >> mmu_page_shift(s)) << TLB_KEY_VPN_SHIFT | low | (uint64_t)s << 1 | 1;
}

static inline struct tlb_entry *tlb_set(const struct tlb *t, uint64_t la, enum mmu_page_size s)
{
	return &t->e[tlb_set_index(t, la, s) * t->ways];
}


/* Set scans are written once with the way count as a parameter and
 * instantiated for the common counts, where it is a constant the compiler
 * unrolls (the miss path scans several sets per walk). */
#define TLB_ALWAYS_INLINE inline __attribute__((always_inline))
#define TLB_WAYS_DISPATCH(ways, call)                                                      \
	switch (ways) {                                                                     \
	case 4: return call(4);                                                             \
	case 8: return call(8);                                                             \
	case 12: return call(12);                                                           \
	case 16: return call(16);                                                           \
	default: return call(ways);                                                         \
	}

/* key and key_g (its global form) of PCID 0 differ only in
 * TLB_KEY_GLOBAL, so one compare of a way's key with that bit set matches
 * either: a non-global entry of PCID 0 or a global entry. */
static inline bool tlb_keys_pcid0(uint64_t key, uint64_t key_g)
{
	return (key | TLB_KEY_GLOBAL) == key_g;
}

static TLB_ALWAYS_INLINE struct tlb_entry *tlb_scan_n(struct tlb_entry *set, uint32_t ways,
						      uint64_t key, uint64_t key_g)
{
	for (uint32_t w = 0; w < ways; w++)
		if (set[w].key == key || set[w].key == key_g)
			return &set[w];
	return NULL;
}

/* tlb_scan_n in a structure with tag bytes (set: entry first): one
 * compare of the set's tags, then the keys of the ways whose tag matched
 * (a 12-way L2 set's keys span six host cache lines; its tags, 12 bytes).
 * Padding and the next set's tags past the last way are masked off. */
static TLB_ALWAYS_INLINE struct tlb_entry *tlb_scan_tagged_n(const struct tlb *t,
							     struct tlb_entry *set, size_t first,
							     uint32_t ways, uint64_t key,
							     uint64_t key_g)
{
	__m128i tags = _mm_loadu_si128((const __m128i *)(const void *)(t->tag + first));
	__m128i want = _mm_set1_epi8((char)tlb_tag(key));
	unsigned hit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(tags, want));
	for (hit &= (1u << ways) - 1; hit; hit &= hit - 1) {
		struct tlb_entry *e = &set[__builtin_ctz(hit)];
		if (e->key == key || e->key == key_g)
			return e;
	}
	return NULL;
}

/* The way holding key or key_g in a set of t, or NULL. */
static inline struct tlb_entry *tlb_scan(const struct tlb *t, struct tlb_entry *set,
					 uint64_t key, uint64_t key_g)
{
	if (t->tag)
		return tlb_scan_tagged_n(t, set, (size_t)(set - t->e), t->ways, key, key_g);
#define TLB_SCAN_CALL(n) tlb_scan_n(set, n, key, key_g)
	TLB_WAYS_DISPATCH(t->ways, TLB_SCAN_CALL)
#undef TLB_SCAN_CALL
}

/* Probe one page size; no statistics, no LRU update. */
static inline struct tlb_entry *tlb_probe_size(const struct tlb *t, uint64_t la,
					       enum mmu_page_size s, uint16_t pcid)
{
	return tlb_scan(t, tlb_set(t, la, s), tlb_key(la, s, pcid), tlb_key(la, s, TLB_PCID_GLOBAL));
}

/* Probe the structure's smallest size with the constants the inline path
 * keeps (tlb_set_pcid), as mmu_translate does for the first structure;
 * no statistics, no LRU update. */
static inline struct tlb_entry *tlb_probe_size0(const struct tlb *t, uint64_t la)
{
	if (!(t->live & PG_SIZE_BIT(t->size0)))
		return NULL;
	uint64_t vpn = la >> t->shift0;
	return tlb_scan(t, &t->e[(vpn & t->set_mask) * t->ways],
			vpn << TLB_KEY_VPN_SHIFT | t->key_low, vpn << TLB_KEY_VPN_SHIFT | t->key_global);
}

/* Probe the page sizes from first on that this structure holds; no
 * statistics, no LRU update. */
static inline struct tlb_entry *tlb_probe_from(const struct tlb *t, uint64_t la, uint16_t pcid,
					       unsigned first)
{
	for (unsigned sizes = t->live & ~((1u << first) - 1); sizes; sizes &= sizes - 1) {
		unsigned s = (unsigned)__builtin_ctz(sizes);
		struct tlb_entry *e = tlb_probe_size(t, la, (enum mmu_page_size)s, pcid);
		if (e)
			return e;
	}
	return NULL;
}

static inline struct tlb_entry *tlb_probe(const struct tlb *t, uint64_t la, uint16_t pcid)
{
	return tlb_probe_from(t, la, pcid, 0);
}

/* A counted lookup of the sizes from first on: statistics and LRU are
 * updated on a hit. pcid must be the current PCID (the one tlb_set_pcid
 * was given): the smallest size is probed with the inline path's keys. */
static inline struct tlb_entry *tlb_lookup_from(struct tlb *t, uint64_t la, uint16_t pcid,
						unsigned first)
{
	struct tlb_entry *e = first == 0 ? tlb_probe_size0(t, la) : NULL;
	if (!e)
		e = tlb_probe_from(t, la, pcid, first > t->size0 ? first : t->size0 + 1u);
	if (e)
		tlb_count_hit(t, e);
	else
		t->st.misses++;
	return e;
}

static inline struct tlb_entry *tlb_lookup(struct tlb *t, uint64_t la, uint16_t pcid)
{
	return tlb_lookup_from(t, la, pcid, 0);
}

bool tlb_init(struct tlb *t, const struct mmu_tlb_geom *g, enum mmu_tlb_level level);
/* Refresh the fast-path key bits after the current PCID changed. */
static inline void tlb_set_pcid(struct tlb *t, uint16_t pcid)
{
	t->key_low = (uint64_t)(pcid & 0xfff) << TLB_KEY_PCID_SHIFT | (uint64_t)t->size0 << 1 | 1;
	t->key_global = TLB_KEY_GLOBAL | (uint64_t)t->size0 << 1 | 1;
}
void tlb_free(struct tlb *t);

static TLB_ALWAYS_INLINE struct tlb_entry *tlb_victim_n(struct tlb_entry *set, uint32_t ways)
{
	struct tlb_entry *v = set;
	for (uint32_t w = 1; w < ways; w++)
		if (set[w].lru < v->lru)
			v = &set[w];
	return v;
}

/* The way to replace: an empty one (lru 0), else the least recently used;
 * the first such way. */
static inline struct tlb_entry *tlb_victim(const struct tlb *t, struct tlb_entry *set)
{
#define TLB_VICTIM_CALL(n) tlb_victim_n(set, n)
	TLB_WAYS_DISPATCH(t->ways, TLB_VICTIM_CALL)
#undef TLB_VICTIM_CALL
}

/* The linear base address an entry covers. A 4K key holds linear-address
 * bits 59:12 only (bits 63:60 are shifted out), and every cached page is
 * canonical, so bits 63:60 are copies of bit 59 (SDM Vol. 1 §3.3.7.1):
 * the key's top bit is sign-extended into them. Keys of larger pages hold
 * every bit above the page offset. */
static inline uint64_t tlb_entry_la(const struct tlb_entry *e)
{
	unsigned shift = mmu_page_shift((enum mmu_page_size)e->size);
	int64_t vpn_bits = (int64_t)(e->key & ~((UINT64_C(1) << TLB_KEY_VPN_SHIFT) - 1));
	if (shift >= TLB_KEY_VPN_SHIFT)
		return (uint64_t)vpn_bits << (shift - TLB_KEY_VPN_SHIFT);
	return (uint64_t)(vpn_bits >> (TLB_KEY_VPN_SHIFT - shift));
}

/* Count e (valid) in or out of the region buckets, in the structures that
 * keep them (the first of each L1 level: the inline path reads them). The
 * key of a 4K or 2M entry holds the bucket's bits; an entry larger than a
 * region counts in every bucket. */
static inline void tlb_region_add(struct tlb *t, const struct tlb_entry *e, int delta)
{
	if (e->size <= PG_2M) {
		unsigned b = tlb_region((e->key >> TLB_KEY_VPN_SHIFT)
					<< mmu_page_shift((enum mmu_page_size)e->size));
		t->region[b] = (uint16_t)(t->region[b] + delta);
		return;
	}
	for (unsigned b = 0; b < TLB_REGIONS; b++)
		t->region[b] = (uint16_t)(t->region[b] + delta);
}

static inline void tlb_region_count(struct tlb *t, const struct tlb_entry *e, int delta)
{
	if (t->track_regions)
		tlb_region_add(t, e, delta);
}

/* One pass over a set for a lookup that, on a miss, also names the way
 * tlb_fill would replace in that set (*victim). With an order word and
 * tag bytes (idx: the set's index) the pass is tlb_scan_tagged_n and the
 * victim is read from the word. Without, the victim is the oldest stamp;
 * the two stamp loops differ only in the key compare (one loop with both
 * compares cost the walk's miss path about 35 host instructions more). */
static TLB_ALWAYS_INLINE struct tlb_entry *tlb_scan_victim_n(const struct tlb *t,
							     struct tlb_entry *set, uint64_t idx,
							     uint32_t ways, uint64_t key,
							     uint64_t key_g,
							     struct tlb_entry **victim)
{
	if (t->order) { /* and tags */
		struct tlb_entry *e = tlb_scan_tagged_n(t, set, idx * ways, ways, key, key_g);
		if (e)
			return e;
		*victim = &set[tlb_order_back(t, idx)];
		return NULL;
	}
	uint32_t v = 0;
	uint64_t oldest = set[0].lru;
	if (tlb_keys_pcid0(key, key_g)) {
		for (uint32_t w = 0; w < ways; w++) {
			if ((set[w].key | TLB_KEY_GLOBAL) == key_g)
				return &set[w];
			if (set[w].lru < oldest) {
				oldest = set[w].lru;
				v = w;
			}
		}
	} else {
		for (uint32_t w = 0; w < ways; w++) {
			if (set[w].key == key || set[w].key == key_g)
				return &set[w];
			if (set[w].lru < oldest) {
				oldest = set[w].lru;
				v = w;
			}
		}
	}
	*victim = &set[v];
	return NULL;
}

/* tlb_scan_victim_n with t's way count made a constant for common counts. */
static TLB_ALWAYS_INLINE struct tlb_entry *tlb_scan_victim(const struct tlb *t,
							   struct tlb_entry *set, uint64_t idx,
							   uint64_t key, uint64_t key_g,
							   struct tlb_entry **victim)
{
#define TLB_SCAN_VICTIM_CALL(n) tlb_scan_victim_n(t, set, idx, n, key, key_g, victim)
	TLB_WAYS_DISPATCH(t->ways, TLB_SCAN_VICTIM_CALL)
#undef TLB_SCAN_VICTIM_CALL
}

/* Probe one page size; on a miss *victim gets the way a fill of this size
 * would replace. No statistics, no LRU update. */
static inline struct tlb_entry *tlb_probe_size_victim(const struct tlb *t, uint64_t la,
						      enum mmu_page_size s, uint16_t pcid,
						      struct tlb_entry **victim)
{
	return tlb_scan_victim(t, tlb_set(t, la, s), tlb_set_index(t, la, s), tlb_key(la, s, pcid),
			       tlb_key(la, s, TLB_PCID_GLOBAL), victim);
}

/* Fill way e of la's set for size, leaving the set's order word and tag
 * byte (if any) to the caller. Returns the evicted entry's copy in
 * *victim if a valid entry was evicted. Replacing an entry of the same
 * size (the common eviction) leaves the per-size counts as they are and
 * moves one region count. track: t->track_regions, or a constant false
 * where the caller knows t keeps no region counts. */
static TLB_ALWAYS_INLINE bool tlb_fill_entry(struct tlb *t, struct tlb_entry *e, uint64_t la, uint64_t pa,
				enum mmu_page_size size, enum mmu_page_size orig_size,
				uint16_t pcid, uint8_t rights, uint8_t pkey,
				struct tlb_entry *victim, bool track)
{
	bool evicted = e->key != 0;
	bool recount = track; /* region counts still to move */
	if (evicted) {
		if (victim)
			*victim = *e;
		if (e->size != size) {
			if (!--t->nvalid[e->size])
				t->live &= (uint8_t)~PG_SIZE_BIT(e->size);
			t->nvalid[size]++;
			t->live |= (uint8_t)PG_SIZE_BIT(size);
		} else if (track && size <= PG_2M) {
			/* The common eviction: one bucket each. */
			unsigned from = tlb_region(e->key >> TLB_KEY_VPN_SHIFT << mmu_page_shift(size));
			unsigned to = tlb_region(la);
			if (from != to) {
				t->region[from]--;
				t->region[to]++;
			}
			recount = false;
		}
		if (recount)
			tlb_region_add(t, e, -1);
	} else {
		t->st.empty_fills++;
		t->nvalid[size]++;
		t->live |= (uint8_t)PG_SIZE_BIT(size);
	}
	uint64_t mask = (UINT64_C(1) << mmu_page_shift(size)) - 1;
	e->key = tlb_key(la, size, pcid);
	e->pa = pa & ~mask;
	e->lru = ++t->clock;
	e->pcid = pcid;
	e->rights = rights;
	e->pkey = pkey;
	e->size = (uint8_t)size;
	e->orig_size = (uint8_t)orig_size;
	if (orig_size != size)
		t->splinters++;
	if (recount)
		tlb_region_add(t, e, 1);
	t->st.fills++;
	return evicted;
}

/* The back way of an order word moved to the front: the order after a
 * fill of the victim. */
static inline uint64_t tlb_order_rotate(const struct tlb *t, uint64_t ord)
{
	return (ord << 4 & t->order_mask) | ord >> t->order_back;
}

/* tlb_fill_entry of e, the victim of set idx: with an order word, its
 * back way, which comes to the front, and its tag byte set. */
static TLB_ALWAYS_INLINE bool tlb_fill_victim(struct tlb *t, uint64_t idx, struct tlb_entry *e,
					      uint64_t la, uint64_t pa, enum mmu_page_size size,
					      enum mmu_page_size orig_size, uint16_t pcid,
					      uint8_t rights, uint8_t pkey, struct tlb_entry *victim,
					      bool track)
{
	bool evicted = tlb_fill_entry(t, e, la, pa, size, orig_size, pcid, rights, pkey, victim, track);
	if (t->order) { /* and tags */
		t->order[idx] = tlb_order_rotate(t, t->order[idx]);
		t->tag[e - t->e] = tlb_tag(e->key);
	}
	return evicted;
}

/* tlb_fill_entry of any way e of la's set, the order word and tag byte
 * updated. */
static TLB_ALWAYS_INLINE bool tlb_fill_way(struct tlb *t, struct tlb_entry *e, uint64_t la, uint64_t pa,
					   enum mmu_page_size size, enum mmu_page_size orig_size,
					   uint16_t pcid, uint8_t rights, uint8_t pkey,
					   struct tlb_entry *victim)
{
	bool evicted = tlb_fill_entry(t, e, la, pa, size, orig_size, pcid, rights, pkey, victim,
				      t->track_regions);
	tlb_order_use(t, tlb_set_index(t, la, size), e);
	tlb_tag_set(t, e);
	return evicted;
}

/* tlb_fill of a structure without an order word (an L1 structure). */
static TLB_ALWAYS_INLINE bool tlb_fill_stamped(struct tlb *t, uint64_t la, uint64_t pa,
					       enum mmu_page_size size, enum mmu_page_size orig_size,
					       uint16_t pcid, uint8_t rights, uint8_t pkey,
					       struct tlb_entry *victim)
{
	return tlb_fill_entry(t, tlb_victim(t, tlb_set(t, la, size)), la, pa, size, orig_size, pcid,
			      rights, pkey, victim, t->track_regions);
}

/* Insert (replacing an invalid way, else the LRU one). Returns the evicted
 * entry's copy in *victim if a valid entry was evicted.
 * Precondition: t holds no entry for this page, size and PCID (the caller
 * has just looked it up and missed, or cleared it), so no search for a
 * duplicate is made. Inline: the walk's miss path fills two levels. */
static TLB_ALWAYS_INLINE bool tlb_fill(struct tlb *t, uint64_t la, uint64_t pa, enum mmu_page_size size,
			    enum mmu_page_size orig_size, uint16_t pcid, uint8_t rights,
			    uint8_t pkey, struct tlb_entry *victim)
{
	if (!t->order)
		return tlb_fill_stamped(t, la, pa, size, orig_size, pcid, rights, pkey, victim);
	uint64_t idx = tlb_set_index(t, la, size);
	return tlb_fill_victim(t, idx, &t->e[idx * t->ways + tlb_order_back(t, idx)], la, pa, size,
			       orig_size, pcid, rights, pkey, victim, t->track_regions);
}

/* Drop one valid entry (keeps the per-size counts right), leaving its
 * set's order to the caller (tlb_order_settle). */
static inline void tlb_entry_drop(struct tlb *t, struct tlb_entry *e)
{
	if (!--t->nvalid[e->size])
		t->live &= (uint8_t)~PG_SIZE_BIT(e->size);
	tlb_region_count(t, e, -1);
	e->key = 0;
	e->lru = 0; /* empty ways are the first victims */
	tlb_tag_set(t, e);
}

/* Drop one entry and settle its set's order. */
static inline void tlb_entry_clear(struct tlb *t, struct tlb_entry *e)
{
	if (e->key) {
		uint64_t idx = tlb_entry_set_index(t, e);
		tlb_entry_drop(t, e);
		if (t->order)
			tlb_order_settle(t, idx);
	}
}

/* The physical address of la through an entry that covers it. */
static inline uint64_t tlb_entry_pa(const struct tlb_entry *e, uint64_t la)
{
	return e->pa | (la & ((UINT64_C(1) << mmu_page_shift((enum mmu_page_size)e->size)) - 1));
}


/* Invalidation. Each returns the number of entries invalidated. */
enum tlb_inv_scope {
	TLB_INV_ALL,              /* every entry, global too */
	TLB_INV_NONGLOBAL,        /* every non-global entry, all PCIDs */
	TLB_INV_PCID_NONGLOBAL,   /* non-global entries of one PCID */
};
unsigned tlb_invalidate(struct tlb *t, enum tlb_inv_scope scope, uint16_t pcid);
/* Entries whose original page contains la: those of pcid, and global ones
 * too if with_global. */
unsigned tlb_invalidate_addr(struct tlb *t, uint64_t la, uint16_t pcid, bool with_global);

#endif
