/* Paging-structure caches (SDM Vol. 3A §4.10.3).
 *
 * A PWC entry of kind K caches a paging-structure entry that references
 * another paging structure: it maps the upper linear-address bits that
 * select that entry to the physical address of the next structure, with the
 * rights accumulated down to it (R/W and U/S ANDed, XD ORed), tagged with a
 * PCID. A TLB miss looks for the longest match (PDE cache first), and the
 * walk starts at the structure the hit points to (§4.10.3.2). Global pages
 * have no meaning here (§4.10.3.1): entries are always per PCID.
 */
#ifndef MMU_PWC_H
#define MMU_PWC_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/model.h"

/* Entry key: (la >> shift) << 13 | pcid << 1 | 1, so one compare matches
 * both the linear-address bits and the PCID. 0 = invalid. */
#define PWC_KEY_PCID_SHIFT 1
#define PWC_KEY_TAG_SHIFT 13

struct pwc_entry {
	uint64_t key;
	uint64_t next;     /* physical address of the next paging structure */
	uint64_t lru;
	uint16_t pcid;
	uint8_t rights;    /* TLB_R_USER | TLB_R_WRITE | TLB_R_EXEC, accumulated */
	uint8_t pad[5];
};

static inline uint64_t pwc_key(uint64_t la, unsigned shift, uint16_t pcid)
{
	return (la >> shift) << PWC_KEY_TAG_SHIFT | (uint64_t)(pcid & 0xfff) << PWC_KEY_PCID_SHIFT | 1;
}

struct pwc_stats {
	uint64_t lookups, hits, fills, evictions, invalidations;
};

struct pwc {
	struct pwc_entry *e;
	uint32_t sets, ways;   /* sets == 0: this cache is absent */
	uint32_t latency;
	uint64_t clock;
	struct pwc_stats st;
};

bool pwc_init(struct pwc *c, const struct mmu_pwc_geom *g);
void pwc_free(struct pwc *c);

static inline struct pwc_entry *pwc_set(const struct pwc *c, uint64_t la, unsigned shift)
{
	return &c->e[((la >> shift) & (c->sets - 1)) * c->ways];
}

/* The _at forms take the set and key a caller has computed once for a
 * lookup and, after a miss, the fill of the same entry (the walk's miss
 * path). Precondition: the cache is present (sets != 0). */
static inline struct pwc_entry *pwc_probe_at(const struct pwc *c, struct pwc_entry *set,
					     uint64_t key)
{
	for (uint32_t w = 0; w < c->ways; w++)
		if (set[w].key == key)
			return &set[w];
	return NULL;
}

/* A counted lookup: statistics and LRU are updated on a hit. */
static inline struct pwc_entry *pwc_lookup_at(struct pwc *c, struct pwc_entry *set, uint64_t key)
{
	c->st.lookups++;
	struct pwc_entry *e = pwc_probe_at(c, set, key);
	if (e) {
		c->st.hits++;
		e->lru = ++c->clock;
	}
	return e;
}

/* Precondition: the set holds no entry for key (the caller has just looked
 * it up and missed), so no search for a duplicate is made. The victim is
 * an empty way (lru 0), else the least recently used. */
static inline void pwc_fill_at(struct pwc *c, struct pwc_entry *set, uint64_t key, uint16_t pcid,
			       uint64_t next, uint8_t rights)
{
	struct pwc_entry *e = set;
	for (uint32_t w = 1; w < c->ways; w++)
		if (set[w].lru < e->lru)
			e = &set[w];
	if (e->key)
		c->st.evictions++;
	e->key = key;
	e->next = next;
	e->pcid = pcid;
	e->rights = rights;
	e->lru = ++c->clock;
	c->st.fills++;
}

/* shift: the low bit of the linear-address bits that select the cached entry's
 * successor region (21 for a PDE under 4-level paging, 22 under 32-bit).
 * An absent cache (sets == 0) holds nothing and takes nothing. */
static inline struct pwc_entry *pwc_probe(const struct pwc *c, uint64_t la, unsigned shift,
					  uint16_t pcid)
{
	return c->sets ? pwc_probe_at(c, pwc_set(c, la, shift), pwc_key(la, shift, pcid)) : NULL;
}

static inline struct pwc_entry *pwc_lookup(struct pwc *c, uint64_t la, unsigned shift,
					   uint16_t pcid)
{
	return c->sets ? pwc_lookup_at(c, pwc_set(c, la, shift), pwc_key(la, shift, pcid)) : NULL;
}

static inline void pwc_fill(struct pwc *c, uint64_t la, unsigned shift, uint16_t pcid,
			    uint64_t next, uint8_t rights)
{
	if (c->sets)
		pwc_fill_at(c, pwc_set(c, la, shift), pwc_key(la, shift, pcid), pcid, next, rights);
}

/* Invalidate every entry (all PCIDs), or those of one PCID. */
unsigned pwc_invalidate_all(struct pwc *c);
unsigned pwc_invalidate_pcid(struct pwc *c, uint16_t pcid);

#endif
