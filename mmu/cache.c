/* Data-cache model (see cache.h for the set layout and the LRU ages). */
#include "mmu/cache.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_SET_ALIGN 64
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
	l->tvec = g->ways <= 4 ? 1 : g->ways <= 8 ? 2 : g->ways <= 16 ? 4 : 8;
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
		c->served_latency[i] = c->lvl[i].latency;
	}
	c->served_latency[CACHE_DRAM] = c->dram_latency;
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

enum mmu_cache_level cache_probe(const struct cache *c, uint64_t pa)
{
	if (pa >= c->cacheable)
		return CACHE_DRAM;
	for (unsigned i = 0; i < c->nlevels; i++) {
		uint32_t tag;
		size_t set = cache_set(&c->lvl[i], pa, &tag);
		if (cache_find_mask(&c->lvl[i], c->lvl[i].tvec, set, tag))
			return (enum mmu_cache_level)i;
	}
	return CACHE_DRAM;
}

enum mmu_cache_level cache_touch_below_l1d(struct cache *c, uint64_t pa)
{
	for (unsigned i = CACHE_L1D + 1; i < c->nlevels; i++)
		if (cache_level_touch_any(&c->lvl[i], pa))
			return (enum mmu_cache_level)i;
	c->dram_accesses++;
	return CACHE_DRAM;
}

void cache_flush(struct cache *c)
{
	c->last_l1d_line = 0;
	for (unsigned i = 0; i < CACHE_NLEVELS; i++)
		if (c->lvl[i].tag)
			cache_level_reset(&c->lvl[i]);
}
