/* Data-cache model (see cache.h for the set layout and the LRU ages). */
#include "mmu/cache.h"

#include <emmintrin.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SET_ALIGN 64
#define CACHE_VEC_SLOTS 16      /* slots per group of tag vectors and age vector */
#define CACHE_AGE_PAD 0x7f      /* age of a padding slot: never < or == a real age */

/* Every set: empty tags, ages 0..ways-1, padding slots CACHE_AGE_PAD. */
static void cache_level_reset(struct cache_level *l)
{
	memset(l->tag, 0, (size_t)l->sets * l->slots * sizeof *l->tag);
	for (uint32_t s = 0; s < l->sets; s++)
		for (uint32_t w = 0; w < l->slots; w++)
			l->age[(size_t)s * l->slots + w] = w < l->ways ? (uint8_t)w : CACHE_AGE_PAD;
}

/* aligned_alloc needs a size that is a multiple of the alignment (C17 7.22.3.1). */
static void *cache_alloc(size_t bytes)
{
	return aligned_alloc(CACHE_SET_ALIGN, (bytes + CACHE_SET_ALIGN - 1) / CACHE_SET_ALIGN * CACHE_SET_ALIGN);
}

static bool cache_level_init(struct cache_level *l, const struct mmu_cache_geom *g)
{
	memset(l, 0, sizeof *l);
	if (g->size == 0)
		return true;
	uint32_t lines = g->size / g->line;
	if (g->ways == 0 || g->ways > CACHE_MAX_WAYS || lines % g->ways ||
	    (lines / g->ways) & (lines / g->ways - 1))
		return false;
	l->sets = lines / g->ways;
	l->ways = g->ways;
	l->slots = g->ways <= CACHE_VEC_SLOTS ? CACHE_VEC_SLOTS : 2 * CACHE_VEC_SLOTS;
	l->slot_shift = (uint32_t)__builtin_ctz(l->slots);
	l->way_mask = (uint32_t)((UINT64_C(1) << g->ways) - 1);
	l->line_shift = (uint32_t)__builtin_ctz(g->line);
	l->latency = g->latency;
	size_t n = (size_t)l->sets * l->slots;
	l->tag = cache_alloc(n * sizeof *l->tag);
	l->age = cache_alloc(n);
	if (!l->tag || !l->age)
		return false;
	cache_level_reset(l);
	return true;
}

bool cache_init(struct cache *c, const struct mmu_model *m, uint64_t ram_size)
{
	memset(c, 0, sizeof *c);
	c->dram_latency = m->dram_latency;
	c->cacheable = ram_size;
	for (unsigned i = 0; i < CACHE_NLEVELS; i++) {
		if (!cache_level_init(&c->lvl[i], &m->cache[i])) {
			cache_free(c);
			return false;
		}
		if (c->lvl[i].sets)
			c->nlevels = i + 1;
	}
	/* Tags must fit in 32 bits (see cache.h). */
	for (unsigned i = 0; i < c->nlevels; i++)
		if ((ram_size >> c->lvl[i].line_shift) >= UINT32_MAX) {
			cache_free(c);
			return false;
		}
	return true;
}

void cache_free(struct cache *c)
{
	for (unsigned i = 0; i < CACHE_NLEVELS; i++) {
		free(c->lvl[i].tag);
		free(c->lvl[i].age);
	}
	memset(c, 0, sizeof *c);
}

/* The set of pa: its index (in slots) and pa's tag. */
static inline size_t cache_set(const struct cache_level *l, uint64_t pa, uint32_t *tag)
{
	uint64_t line = pa >> l->line_shift;
	*tag = (uint32_t)line + 1;
	return (size_t)(line & (l->sets - 1)) << l->slot_shift;
}

/* Bit w set: way w of the set holds tag. */
static inline uint32_t cache_find_mask(const struct cache_level *l, unsigned nvec, size_t set,
					uint32_t tag)
{
	const __m128i *v = (const __m128i *)(const void *)&l->tag[set];
	__m128i t = _mm_set1_epi32((int)tag);
	uint32_t mask = 0;
	for (uint32_t i = 0; i < nvec * CACHE_VEC_SLOTS / 4; i++)
		mask |= (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(v[i], t))) << (4 * i);
	return mask & l->way_mask;
}

/* Way w becomes the most recent: every way younger than w ages by one.
 * Young is "age < limit"; a miss passes limit = ways - 1 for the victim,
 * so every way but the victim ages. */
static inline void cache_age(struct cache_level *l, unsigned nvec, size_t set, uint32_t w,
			     uint8_t limit)
{
	__m128i *a = (__m128i *)(void *)&l->age[set];
	__m128i lim = _mm_set1_epi8((char)limit);
	__m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	for (uint32_t k = 0; k < nvec; k++) {
		__m128i young = _mm_cmplt_epi8(a[k], lim);
		__m128i self = _mm_cmpeq_epi8(iota, _mm_set1_epi8((char)(w - k * CACHE_VEC_SLOTS)));
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
 * nvec (vectors of 16 slots per set) is a constant at each call site, so
 * the compiler unrolls every set operation. */
static inline bool cache_level_touch(struct cache_level *l, unsigned nvec, uint64_t pa)
{
	uint32_t tag;
	size_t set = cache_set(l, pa, &tag);
	uint32_t hit = cache_find_mask(l, nvec, set, tag);
	if (hit) {
		uint32_t w = (uint32_t)__builtin_ctz(hit);
		cache_age(l, nvec, set, w, l->age[set + w]);
		l->hits++;
		return true;
	}
	uint32_t v = cache_victim(l, nvec, set);
	l->tag[set + v] = tag;
	cache_age(l, nvec, set, v, (uint8_t)(l->ways - 1));
	l->misses++;
	return false;
}

enum mmu_cache_level cache_access(struct cache *c, uint64_t pa, uint32_t *cycles)
{
	if (pa >= c->cacheable) {
		c->dram_accesses++;
		*cycles += c->dram_latency;
		return CACHE_DRAM;
	}
	/* Inclusive on fill: every level looked at and missed takes the line. */
	for (unsigned i = 0; i < c->nlevels; i++) {
		struct cache_level *l = &c->lvl[i];
		bool hit = l->slots == CACHE_VEC_SLOTS ? cache_level_touch(l, 1, pa)
						       : cache_level_touch(l, 2, pa);
		if (hit) {
			*cycles += l->latency;
			return (enum mmu_cache_level)i;
		}
	}
	c->dram_accesses++;
	*cycles += c->dram_latency;
	return CACHE_DRAM;
}

enum mmu_cache_level cache_probe(const struct cache *c, uint64_t pa)
{
	if (pa >= c->cacheable)
		return CACHE_DRAM;
	for (unsigned i = 0; i < c->nlevels; i++) {
		uint32_t tag;
		size_t set = cache_set(&c->lvl[i], pa, &tag);
		if (cache_find_mask(&c->lvl[i], c->lvl[i].slots / CACHE_VEC_SLOTS, set, tag))
			return (enum mmu_cache_level)i;
	}
	return CACHE_DRAM;
}

void cache_flush(struct cache *c)
{
	for (unsigned i = 0; i < CACHE_NLEVELS; i++)
		if (c->lvl[i].tag)
			cache_level_reset(&c->lvl[i]);
}
