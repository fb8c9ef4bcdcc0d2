/* Set-associative TLB structures (see tlb.h). */
#include "mmu/tlb.h"
#include "mmu/mmu.h" /* mmu_xlate_l1_meta */

#include <stdlib.h>
#include <string.h>

bool tlb_init(struct tlb *t, const struct mmu_tlb_geom *g, enum mmu_tlb_level level)
{
	memset(t, 0, sizeof *t);
	if (g->ways == 0 || g->entries % g->ways)
		return false;
	t->sets = g->entries / g->ways;
	if (t->sets & (t->sets - 1))
		return false;
	t->ways = g->ways;
	t->sizes = g->sizes;
	t->size0 = (uint8_t)__builtin_ctz(g->sizes);
	t->shift0 = (uint8_t)mmu_page_shift((enum mmu_page_size)t->size0);
	t->set_mask = t->sets - 1;
	t->offset_mask = (UINT64_C(1) << t->shift0) - 1;
	t->way_shift = (uint32_t)__builtin_ctz(t->ways);
	t->hit_meta = mmu_xlate_l1_meta(g->latency, t->size0);
	t->latency = g->latency;
	t->level = level;
	tlb_set_pcid(t, 0);
	t->e = calloc(g->entries, sizeof *t->e);
	if (!t->e)
		return false;
	/* The L1 structures keep stamps alone: their hits are the inline
	 * path's, which an order update would slow down. */
	if (level == TLB_L2 && t->ways <= 16) {
		t->order = malloc(t->sets * sizeof *t->order);
		t->tag = calloc((size_t)g->entries + 16, 1); /* all empty, then padding */
		if (!t->order || !t->tag)
			return false;
		t->order_back = 4 * (t->ways - 1);
		t->order_mask = t->ways == 16 ? ~UINT64_C(0) : (UINT64_C(1) << (4 * t->ways)) - 1;
		/* Every way empty: way 0 at the back, the highest in front. */
		uint64_t empty = 0;
		for (uint32_t w = 0; w < t->ways; w++)
			empty |= (uint64_t)w << (t->order_back - 4 * w);
		for (uint32_t i = 0; i < t->sets; i++)
			t->order[i] = empty;
	}
	return true;
}

void tlb_free(struct tlb *t)
{
	free(t->e);
	free(t->order);
	free(t->tag);
	t->e = NULL;
	t->order = NULL;
	t->tag = NULL;
}

void tlb_order_settle(struct tlb *t, uint64_t idx)
{
	const struct tlb_entry *set = &t->e[idx * t->ways];
	uint64_t ord = t->order[idx], out = 0;
	unsigned n = 0;
	for (uint32_t p = 0; p < t->ways; p++) {
		unsigned w = (unsigned)(ord >> (4 * p)) & 15;
		if (set[w].key)
			out |= (uint64_t)w << (4 * n++);
	}
	for (uint32_t w = t->ways; w-- > 0;)
		if (!set[w].key)
			out |= (uint64_t)w << (4 * n++);
	t->order[idx] = out;
}

/* The order the stamps give: most recent first; empty ways (stamp 0)
 * last, in falling index order, so that the lowest is at the back, as
 * tlb_victim picks it. Stamps of valid entries are distinct. */
static bool tlb_order_matches(const struct tlb *t)
{
	for (uint32_t i = 0; i < t->sets; i++) {
		const struct tlb_entry *set = &t->e[i * t->ways];
		uint64_t ord = t->order[i];
		if (t->ways < 16 && ord >> (4 * t->ways))
			return false;
		for (uint32_t p = 0; p + 1 < t->ways; p++) {
			unsigned a = (unsigned)(ord >> (4 * p)) & 15, b = (unsigned)(ord >> (4 * p + 4)) & 15;
			if (a >= t->ways || b >= t->ways)
				return false;
			bool ok = set[a].lru > set[b].lru || (set[a].lru == 0 && set[b].lru == 0 && a > b);
			if (!ok)
				return false;
		}
		struct tlb_entry *v = tlb_victim(t, (struct tlb_entry *)set);
		if (((unsigned)(ord >> t->order_back) & 15) != (unsigned)(v - set))
			return false;
	}
	return true;
}

bool tlb_consistent(const struct tlb *t)
{
	uint32_t nvalid[PG_NSIZES] = {0};
	uint32_t region[TLB_REGIONS] = {0};
	size_t n = (size_t)t->sets * t->ways;
	for (size_t i = 0; i < n; i++) {
		const struct tlb_entry *e = &t->e[i];
		if (t->tag && t->tag[i] != (e->key ? tlb_tag(e->key) : 0))
			return false;
		if (!e->key)
			continue;
		nvalid[e->size]++;
		if (e->size > PG_2M) {
			for (unsigned b = 0; b < TLB_REGIONS; b++)
				region[b]++;
		} else {
			region[tlb_region(tlb_entry_la(e))]++;
		}
	}
	for (unsigned s = 0; s < PG_NSIZES; s++)
		if (nvalid[s] != t->nvalid[s] || !nvalid[s] != !(t->live & PG_SIZE_BIT(s)))
			return false;
	if (t->track_regions)
		for (unsigned b = 0; b < TLB_REGIONS; b++)
			if (region[b] != t->region[b])
				return false;
	return !t->order || tlb_order_matches(t);
}

static bool tlb_scope_matches(const struct tlb_entry *e, enum tlb_inv_scope scope, uint16_t pcid)
{
	bool global = e->pcid & TLB_PCID_GLOBAL;
	switch (scope) {
	case TLB_INV_ALL:
		return true;
	case TLB_INV_NONGLOBAL:
		return !global;
	case TLB_INV_PCID_NONGLOBAL:
		return !global && e->pcid == pcid;
	}
	return false;
}

unsigned tlb_invalidate(struct tlb *t, enum tlb_inv_scope scope, uint16_t pcid)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < t->sets; i++) {
		unsigned dropped = 0;
		for (uint32_t w = 0; w < t->ways; w++) {
			struct tlb_entry *e = &t->e[i * t->ways + w];
			if (e->key && tlb_scope_matches(e, scope, pcid)) {
				tlb_entry_drop(t, e);
				dropped++;
			}
		}
		if (dropped && t->order)
			tlb_order_settle(t, i);
		n += dropped;
	}
	t->st.invalidations += n;
	if (scope == TLB_INV_ALL)
		t->splinters = 0;
	return n;
}

static bool tlb_addr_matches(const struct tlb_entry *e, uint64_t la, uint16_t pcid,
			     bool with_global)
{
	if (!e->key)
		return false;
	unsigned shift = mmu_page_shift((enum mmu_page_size)e->orig_size);
	if ((tlb_entry_la(e) >> shift) != (la >> shift))
		return false;
	return (e->pcid & TLB_PCID_GLOBAL) ? with_global : e->pcid == pcid;
}

/* Without fragments of larger pages, an entry for la can only sit in the
 * set la indexes for each size held; otherwise every entry is examined. */
unsigned tlb_invalidate_addr(struct tlb *t, uint64_t la, uint16_t pcid, bool with_global)
{
	unsigned n = 0;
	if (t->splinters) {
		for (uint32_t i = 0; i < t->sets * t->ways; i++)
			if (tlb_addr_matches(&t->e[i], la, pcid, with_global))
				tlb_entry_clear(t, &t->e[i]), n++;
	} else {
		for (unsigned s = 0; s < PG_NSIZES; s++) {
			if (!t->nvalid[s])
				continue;
			struct tlb_entry *set = tlb_set(t, la, (enum mmu_page_size)s);
			for (uint32_t w = 0; w < t->ways; w++)
				if (tlb_addr_matches(&set[w], la, pcid, with_global))
					tlb_entry_clear(t, &set[w]), n++;
		}
	}
	t->st.invalidations += n;
	return n;
}
