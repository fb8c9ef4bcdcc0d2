/* Data-cache model through which every page-walk read is timed.
 *
 * Inclusive-on-fill L1D/L2/L3, physically indexed, set-associative, true
 * LRU. Only tags are modelled (no data): an access reports the level that
 * served it and its latency, then fills every level that missed. Levels with
 * size 0 are absent.
 *
 * Layout, chosen for the walk's miss path: a set holds 32-bit line tags
 * (tag 0: empty) and one 8-bit LRU age per way, ages forming a permutation
 * of 0..ways-1 (0 = most recent). Tags and ages are padded to 16 slots per
 * vector, so a lookup compares a whole set with a few SSE2 compares, a hit
 * ages every way younger than it by one, and a miss replaces the way whose
 * age is ways-1 and ages the rest: exact LRU with no search and no
 * timestamps. Padding slots hold an age no way can have.
 *
 * Only guest RAM is cacheable: a tag is the line number + 1, which fits in
 * 32 bits for RAM of up to 64 GiB with lines of 32 bytes or more. A read
 * outside RAM (a paging structure that points past RAM) is served by DRAM
 * latency and cached nowhere: there is no memory there to cache.
 */
#ifndef MMU_CACHE_H
#define MMU_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/model.h"

#include <emmintrin.h>
#include <stddef.h>

#define CACHE_VEC_SLOTS 16 /* slots per group of tag vectors and age vector */

struct cache_level {
	uint32_t *tag;     /* sets * slots tags, 64-byte aligned; 0 = empty */
	uint8_t *age;      /* sets * slots LRU ages */
	uint32_t sets, ways, slots, line_shift, latency;
	uint32_t slot_shift; /* log2(slots): 16 or 32 slots per set */
	uint32_t tvec;       /* vectors of four tags that hold the ways: 1, 2, 4 or 8 */
	uint64_t hits, misses;
};

struct cache {
	struct cache_level lvl[CACHE_NLEVELS];
	unsigned nlevels;
	uint32_t dram_latency;
	uint32_t served_latency[CACHE_NLEVELS + 1]; /* by serving level, CACHE_DRAM last */
	uint64_t cacheable;    /* physical addresses below this are cached (RAM size) */
	uint64_t dram_accesses;
	/* The L1D line number + 1 of the last cacheable access (0: none since
	 * the last flush). That line is the most recent way of its L1D set,
	 * so touching it again changes no LRU age: a repeat is a hit with
	 * nothing to update (consecutive PTEs of a page-touch loop share a
	 * line). */
	uint64_t last_l1d_line;
};

/* ram_size bounds what is cacheable (see above). */
bool cache_init(struct cache *c, const struct mmu_model *m, uint64_t ram_size);
void cache_free(struct cache *c);

/* Which level would serve pa now; no state change. */
enum mmu_cache_level cache_probe(const struct cache *c, uint64_t pa);
void cache_flush(struct cache *c);

/* The set of pa: its index (in slots) and pa's tag. */
static inline size_t cache_set(const struct cache_level *l, uint64_t pa, uint32_t *tag)
{
	uint64_t line = pa >> l->line_shift;
	*tag = (uint32_t)line + 1;
	return (size_t)(line & (l->sets - 1)) << l->slot_shift;
}

/* Bit w set: way w of the set holds tag. tvec: how many vectors of four
 * tags hold the ways (1, 2, 4 or 8); padding and empty slots hold tag 0,
 * which no line has, so they never match. */
static inline uint32_t cache_find_mask(const struct cache_level *l, unsigned tvec, size_t set,
					uint32_t tag)
{
	const __m128i *v = (const __m128i *)(const void *)&l->tag[set];
	__m128i t = _mm_set1_epi32((int)tag);
	if (tvec <= 2) {
		/* One sign bit per 32-bit compare result. */
		uint32_t mask = (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(v[0], t)));
		if (tvec == 2)
			mask |= (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(v[1], t))) << 4;
		return mask;
	}
	uint32_t mask = 0;
	/* Compare results are 0 or -1, which the saturating packs keep, so
	 * 16 slots narrow to one byte each for a single movemask. */
	for (uint32_t k = 0; k < tvec / 4; k++, v += 4) {
		__m128i lo = _mm_packs_epi32(_mm_cmpeq_epi32(v[0], t), _mm_cmpeq_epi32(v[1], t));
		__m128i hi = _mm_packs_epi32(_mm_cmpeq_epi32(v[2], t), _mm_cmpeq_epi32(v[3], t));
		mask |= (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(lo, hi)) << (k * CACHE_VEC_SLOTS);
	}
	return mask;
}
/* The way whose age is limit becomes the most recent (age 0), and every
 * way younger than it ages by one. Ages are a permutation, so exactly one
 * way has age limit (a hit passes the hit way's age; a miss passes
 * ways - 1, the victim's), and padding slots match neither test. */
static inline void cache_age(struct cache_level *l, unsigned nvec, size_t set, uint8_t limit)
{
	__m128i *a = (__m128i *)(void *)&l->age[set];
	__m128i lim = _mm_set1_epi8((char)limit);
	for (uint32_t k = 0; k < nvec; k++) {
		__m128i young = _mm_cmplt_epi8(a[k], lim);
		__m128i self = _mm_cmpeq_epi8(a[k], lim);
		a[k] = _mm_andnot_si128(self, _mm_sub_epi8(a[k], young));
	}
}

/* The LRU way: the one whose age is ways - 1. */
static inline uint32_t cache_victim(const struct cache_level *l, unsigned nvec, size_t set)
{
	const __m128i *a = (const __m128i *)(const void *)&l->age[set];
	__m128i oldest = _mm_set1_epi8((char)(l->ways - 1));
	uint32_t mask = 0;
	for (uint32_t k = 0; k < nvec; k++)
		mask |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a[k], oldest)) << (k * CACHE_VEC_SLOTS);
	return (uint32_t)__builtin_ctz(mask);
}

/* One level: true on a hit (its LRU updated), else the line is filled.
 * tvec (see cache_find_mask) is a constant at each call site, so the
 * compiler unrolls every set operation; ages take one vector of 16 slots
 * per four tag vectors. */
static inline bool cache_level_touch(struct cache_level *l, unsigned tvec, uint64_t pa,
				     bool count_hit)
{
	unsigned nvec = (tvec + 3) / 4;
	uint32_t tag;
	size_t set = cache_set(l, pa, &tag);
	uint32_t hit = cache_find_mask(l, tvec, set, tag);
	if (hit) {
		uint32_t w = (uint32_t)__builtin_ctz(hit);
		uint8_t age = l->age[set + w];
		if (age) /* the most recent way already: no age changes */
			cache_age(l, nvec, set, age);
		if (count_hit)
			l->hits++;
		return true;
	}
	uint32_t v = cache_victim(l, nvec, set);
	l->tag[set + v] = tag;
	cache_age(l, nvec, set, (uint8_t)(l->ways - 1));
	l->misses++;
	return false;
}

/* cache_level_touch with l's tag-vector count made a constant. count_hit:
 * count a hit in l->hits (false: the caller counts it). */
static inline __attribute__((always_inline)) bool
cache_level_touch_counted(struct cache_level *l, uint64_t pa, bool count_hit)
{
	switch (l->tvec) {
	case 1: return cache_level_touch(l, 1, pa, count_hit);
	case 2: return cache_level_touch(l, 2, pa, count_hit);
	case 4: return cache_level_touch(l, 4, pa, count_hit);
	default: return cache_level_touch(l, 8, pa, count_hit);
	}
}

static inline bool cache_level_touch_any(struct cache_level *l, uint64_t pa)
{
	return cache_level_touch_counted(l, pa, true);
}

/* The levels below the L1D for a read the L1D missed (and has filled):
 * cache_touch_cacheable from the L2 on. Out of line: walks whose tables
 * stay cached never get here. */
enum mmu_cache_level cache_touch_below_l1d(struct cache *c, uint64_t pa);

/* Access a pa below c->cacheable, the walk's common case, with the L1D
 * probe inline; the serving level (its latency: served_latency). Fills
 * the levels that missed. An L1D hit is not counted: the caller adds its
 * hits to lvl[CACHE_L1D].hits (the walk counts them in a register).
 * Precondition: the L1D is present (a model that times walks through the
 * caches has one). */
static inline __attribute__((always_inline)) enum mmu_cache_level
cache_touch_cacheable(struct cache *c, uint64_t pa)
{
	struct cache_level *l = &c->lvl[CACHE_L1D];
	uint64_t line = (pa >> l->line_shift) + 1;
	if (line == c->last_l1d_line)
		return CACHE_L1D;
	c->last_l1d_line = line;
	if (__builtin_expect(cache_level_touch_counted(l, pa, false), 1))
		return CACHE_L1D;
	return cache_touch_below_l1d(c, pa);
}

/* Access one physical address: returns the serving level (CACHE_L1D ..
 * CACHE_DRAM) and adds its latency to *cycles. Fills the levels that missed.
 * Inline: every walk read is timed here. */
static inline enum mmu_cache_level cache_access(struct cache *c, uint64_t pa, uint32_t *cycles)
{
	if (pa >= c->cacheable || !c->nlevels) {
		c->dram_accesses++;
		*cycles += c->dram_latency;
		return CACHE_DRAM;
	}
	enum mmu_cache_level served = cache_touch_cacheable(c, pa);
	if (served == CACHE_L1D)
		c->lvl[CACHE_L1D].hits++;
	*cycles += c->served_latency[served];
	return served;
}

#endif
