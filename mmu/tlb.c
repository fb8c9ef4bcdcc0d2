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
	return t->e != NULL;
}

void tlb_free(struct tlb *t)
{
	free(t->e);
	t->e = NULL;
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
	for (uint32_t i = 0; i < t->sets * t->ways; i++) {
		struct tlb_entry *e = &t->e[i];
		if (e->key && tlb_scope_matches(e, scope, pcid)) {
			tlb_entry_clear(t, e);
			n++;
		}
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
