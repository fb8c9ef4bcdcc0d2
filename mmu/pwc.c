/* Paging-structure caches (see pwc.h). */
#include "mmu/pwc.h"

#include <stdlib.h>
#include <string.h>

bool pwc_init(struct pwc *c, const struct mmu_pwc_geom *g)
{
	memset(c, 0, sizeof *c);
	if (g->entries == 0)
		return true; /* absent */
	if (g->ways == 0 || g->entries % g->ways)
		return false;
	c->sets = g->entries / g->ways;
	if (c->sets & (c->sets - 1))
		return false;
	c->ways = g->ways;
	c->latency = g->latency;
	c->e = calloc(g->entries, sizeof *c->e);
	return c->e != NULL;
}

void pwc_free(struct pwc *c)
{
	free(c->e);
	c->e = NULL;
}

static struct pwc_entry *pwc_set(const struct pwc *c, uint64_t la, unsigned shift)
{
	return &c->e[((la >> shift) & (c->sets - 1)) * c->ways];
}

struct pwc_entry *pwc_probe(const struct pwc *c, uint64_t la, unsigned shift, uint16_t pcid)
{
	if (!c->sets)
		return NULL;
	struct pwc_entry *set = pwc_set(c, la, shift);
	uint64_t key = pwc_key(la, shift, pcid);
	for (uint32_t w = 0; w < c->ways; w++)
		if (set[w].key == key)
			return &set[w];
	return NULL;
}

struct pwc_entry *pwc_lookup(struct pwc *c, uint64_t la, unsigned shift, uint16_t pcid)
{
	if (!c->sets)
		return NULL;
	c->st.lookups++;
	struct pwc_entry *e = pwc_probe(c, la, shift, pcid);
	if (e) {
		c->st.hits++;
		e->lru = ++c->clock;
	}
	return e;
}

void pwc_fill(struct pwc *c, uint64_t la, unsigned shift, uint16_t pcid, uint64_t next,
	      uint8_t rights)
{
	if (!c->sets)
		return;
	/* An empty way (lru 0), else the least recently used. */
	struct pwc_entry *set = pwc_set(c, la, shift), *e = set;
	for (uint32_t w = 1; w < c->ways; w++)
		if (set[w].lru < e->lru)
			e = &set[w];
	if (e->key)
		c->st.evictions++;
	e->key = pwc_key(la, shift, pcid);
	e->next = next;
	e->pcid = pcid;
	e->rights = rights;
	e->lru = ++c->clock;
	c->st.fills++;
}

static unsigned pwc_invalidate_if(struct pwc *c, bool all, uint16_t pcid)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < c->sets * c->ways; i++) {
		if (c->e[i].key && (all || c->e[i].pcid == pcid)) {
			c->e[i].key = 0;
			c->e[i].lru = 0;
			n++;
		}
	}
	c->st.invalidations += n;
	return n;
}

unsigned pwc_invalidate_all(struct pwc *c)
{
	return pwc_invalidate_if(c, true, 0);
}

unsigned pwc_invalidate_pcid(struct pwc *c, uint16_t pcid)
{
	return pwc_invalidate_if(c, false, pcid);
}
