/* Data-cache model (see cache.h). */
#include "mmu/cache.h"

#include <stdlib.h>
#include <string.h>

static bool cache_level_init(struct cache_level *l, const struct mmu_cache_geom *g)
{
	memset(l, 0, sizeof *l);
	if (g->size == 0)
		return true;
	uint32_t lines = g->size / g->line;
	if (g->ways == 0 || lines % g->ways)
		return false;
	l->sets = lines / g->ways;
	l->ways = g->ways;
	l->line_shift = (uint32_t)__builtin_ctz(g->line);
	l->latency = g->latency;
	l->tag = calloc(lines, sizeof *l->tag);
	l->lru = calloc(lines, sizeof *l->lru);
	return l->tag && l->lru;
}

bool cache_init(struct cache *c, const struct mmu_model *m)
{
	memset(c, 0, sizeof *c);
	c->dram_latency = m->dram_latency;
	for (unsigned i = 0; i < CACHE_NLEVELS; i++) {
		if (!cache_level_init(&c->lvl[i], &m->cache[i])) {
			cache_free(c);
			return false;
		}
		if (c->lvl[i].sets)
			c->nlevels = i + 1;
	}
	return true;
}

void cache_free(struct cache *c)
{
	for (unsigned i = 0; i < CACHE_NLEVELS; i++) {
		free(c->lvl[i].tag);
		free(c->lvl[i].lru);
	}
	memset(c, 0, sizeof *c);
}

/* Index of pa's way in level l, or -1. */
static int cache_find(const struct cache_level *l, uint64_t pa)
{
	uint64_t line = pa >> l->line_shift;
	uint64_t base = (line & (l->sets - 1)) * l->ways;
	for (uint32_t w = 0; w < l->ways; w++)
		if (l->tag[base + w] == line + 1)
			return (int)(base + w);
	return -1;
}

/* One pass over pa's set: on a hit refresh its LRU stamp and return true;
 * on a miss put the line in the LRU (or an invalid) way and return false. */
static bool cache_touch(struct cache_level *l, uint64_t pa)
{
	uint64_t line = pa >> l->line_shift;
	uint64_t base = (line & (l->sets - 1)) * l->ways, victim = base;
	uint64_t *tag = &l->tag[base], *lru = &l->lru[base];
	for (uint32_t w = 0; w < l->ways; w++) {
		if (tag[w] == line + 1) {
			lru[w] = ++l->clock;
			return true;
		}
		if (lru[w] < l->lru[victim])
			victim = base + w;
	}
	l->tag[victim] = line + 1;
	l->lru[victim] = ++l->clock;
	return false;
}

enum mmu_cache_level cache_access(struct cache *c, uint64_t pa, uint32_t *cycles)
{
	/* Inclusive on fill: every level looked at and missed takes the line. */
	for (unsigned i = 0; i < c->nlevels; i++) {
		struct cache_level *l = &c->lvl[i];
		if (cache_touch(l, pa)) {
			l->hits++;
			*cycles += l->latency;
			return (enum mmu_cache_level)i;
		}
		l->misses++;
	}
	c->dram_accesses++;
	*cycles += c->dram_latency;
	return CACHE_DRAM;
}

enum mmu_cache_level cache_probe(const struct cache *c, uint64_t pa)
{
	for (unsigned i = 0; i < c->nlevels; i++)
		if (c->lvl[i].sets && cache_find(&c->lvl[i], pa) >= 0)
			return (enum mmu_cache_level)i;
	return CACHE_DRAM;
}

void cache_flush(struct cache *c)
{
	for (unsigned i = 0; i < CACHE_NLEVELS; i++) {
		struct cache_level *l = &c->lvl[i];
		if (l->tag) {
			memset(l->tag, 0, (size_t)l->sets * l->ways * sizeof *l->tag);
			memset(l->lru, 0, (size_t)l->sets * l->ways * sizeof *l->lru);
		}
	}
}
