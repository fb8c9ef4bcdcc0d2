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
#include "mmu/tlb.h" /* TLB_WAYS_DISPATCH */

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
static TLB_ALWAYS_INLINE struct pwc_entry *pwc_probe_n(struct pwc_entry *set, uint32_t ways,
							uint64_t key)
{
	for (uint32_t w = 0; w < ways; w++)
		if (set[w].key == key)
			return &set[w];
	return NULL;
}

static inline struct pwc_entry *pwc_probe_at(const struct pwc *c, struct pwc_entry *set,
					     uint64_t key)
{
#define PWC_PROBE_CALL(n) pwc_probe_n(set, n, key)
	TLB_WAYS_DISPATCH(c->ways, PWC_PROBE_CALL)
#undef PWC_PROBE_CALL
}

/* The way pwc_fill_at replaces: the first empty one (lru 0), else the
 * least recently used. */
static TLB_ALWAYS_INLINE struct pwc_entry *pwc_victim_n(struct pwc_entry *set, uint32_t ways)
{
	struct pwc_entry *e = set;
	for (uint32_t w = 1; w < ways; w++)
		if (set[w].lru < e->lru)
			e = &set[w];
	return e;
}

static inline struct pwc_entry *pwc_victim(const struct pwc *c, struct pwc_entry *set)
{
#define PWC_VICTIM_CALL(n) pwc_victim_n(set, n)
	TLB_WAYS_DISPATCH(c->ways, PWC_VICTIM_CALL)
#undef PWC_VICTIM_CALL
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

/* A counted lookup that, on a miss, also names the way a fill of the same
 * key would replace (*victim), in the same pass over the set. */
static TLB_ALWAYS_INLINE struct pwc_entry *pwc_lookup_victim_n(struct pwc *c, struct pwc_entry *set,
							      uint32_t ways, uint64_t key,
							      struct pwc_entry **victim)
{
	c->st.lookups++;
	struct pwc_entry *v = set;
	for (uint32_t w = 0; w < ways; w++) {
		if (set[w].key == key) {
			c->st.hits++;
			set[w].lru = ++c->clock;
			return &set[w];
		}
		if (set[w].lru < v->lru)
			v = &set[w];
	}
	*victim = v;
	return NULL;
}

static inline struct pwc_entry *pwc_lookup_victim_at(struct pwc *c, struct pwc_entry *set,
						     uint64_t key, struct pwc_entry **victim)
{
#define PWC_LOOKUP_VICTIM_CALL(n) pwc_lookup_victim_n(c, set, n, key, victim)
	TLB_WAYS_DISPATCH(c->ways, PWC_LOOKUP_VICTIM_CALL)
#undef PWC_LOOKUP_VICTIM_CALL
}

/* Fill way e (the victim for key's set) with a new entry. */
static inline void pwc_fill_way(struct pwc *c, struct pwc_entry *e, uint64_t key, uint16_t pcid,
				uint64_t next, uint8_t rights)
{
	if (e->key)
		c->st.evictions++;
	e->key = key;
	e->next = next;
	e->pcid = pcid;
	e->rights = rights;
	e->lru = ++c->clock;
	c->st.fills++;
}

/* Precondition: the set holds no entry for key (the caller has just looked
 * it up and missed), so no search for a duplicate is made. The victim is
 * an empty way (lru 0), else the least recently used. */
static inline void pwc_fill_at(struct pwc *c, struct pwc_entry *set, uint64_t key, uint16_t pcid,
			       uint64_t next, uint8_t rights)
{
	pwc_fill_way(c, pwc_victim(c, set), key, pcid, next, rights);
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
