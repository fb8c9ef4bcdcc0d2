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
