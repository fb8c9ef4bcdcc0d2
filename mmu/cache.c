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

static void cache_insert(struct cache_level *l, uint64_t pa)
{
	uint64_t line = pa >> l->line_shift;
	uint64_t base = (line & (l->sets - 1)) * l->ways, v = base;
	for (uint32_t w = 0; w < l->ways; w++) {
		if (!l->tag[base + w]) {
			v = base + w;
			break;
		}
		if (l->lru[base + w] < l->lru[v])
			v = base + w;
	}
	l->tag[v] = line + 1;
	l->lru[v] = ++l->clock;
}

enum mmu_cache_level cache_access(struct cache *c, uint64_t pa, uint32_t *cycles)
{
	enum mmu_cache_level served = CACHE_DRAM;
	for (unsigned i = 0; i < c->nlevels; i++) {
		struct cache_level *l = &c->lvl[i];
		if (!l->sets)
			continue;
		int way = cache_find(l, pa);
		if (way >= 0) {
			l->hits++;
			l->lru[way] = ++l->clock;
			served = (enum mmu_cache_level)i;
			break;
		}
		l->misses++;
	}
	if (served == CACHE_DRAM) {
		c->dram_accesses++;
		*cycles += c->dram_latency;
	} else {
		*cycles += c->lvl[served].latency;
	}
	/* Inclusive hierarchy: the line now lives in every level above. */
	for (unsigned i = 0; i < (unsigned)served && i < c->nlevels; i++)
		if (c->lvl[i].sets)
			cache_insert(&c->lvl[i], pa);
	return served;
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
		if (l->tag)
			memset(l->tag, 0, (size_t)l->sets * l->ways * sizeof *l->tag);
	}
}
