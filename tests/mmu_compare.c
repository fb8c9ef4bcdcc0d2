/* Comparing two machines (see mmu_compare.h). */
#include "tests/mmu_compare.h"

#include <stdio.h>
#include <string.h>

bool mmu_compare_xlate(bool ok_a, const struct mmu_xlate *a, bool ok_b, const struct mmu_xlate *b,
		       char *why, size_t len)
{
	if (ok_a != ok_b || a->meta != b->meta) {
		snprintf(why, len, "%s/%s, cycles %u/%u, source %u/%u, size %u/%u, reads %u/%u, pwc %u/%u",
			 ok_a ? "ok" : "fault", ok_b ? "ok" : "fault", a->cycles, b->cycles, a->source,
			 b->source, a->size, b->size, a->walk_reads, b->walk_reads, a->pwc_level,
			 b->pwc_level);
		return false;
	}
	if (ok_a && a->pa != b->pa) {
		snprintf(why, len, "pa %#llx/%#llx", (unsigned long long)a->pa, (unsigned long long)b->pa);
		return false;
	}
	if (!ok_a && (a->fault.vector != b->fault.vector || a->fault.error_code != b->fault.error_code ||
		      a->fault.has_error_code != b->fault.has_error_code || a->fault.cr2 != b->fault.cr2)) {
		snprintf(why, len, "vector %u/%u, error code %#x/%#x, CR2 %#llx/%#llx", a->fault.vector,
			 b->fault.vector, a->fault.error_code, b->fault.error_code,
			 (unsigned long long)a->fault.cr2, (unsigned long long)b->fault.cr2);
		return false;
	}
	return true;
}

static bool compare_tlbs(const struct mmu *a, const struct mmu *b, char *why, size_t len)
{
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < a->ntlb[l]; i++) {
			const struct tlb *ta = &a->tlb[l][i], *tb = &b->tlb[l][i];
			/* Order words, tag bytes and counts are derived from the
			 * entries: check them on both sides, then the entries
			 * compare. */
			if (!tlb_consistent(ta) || !tlb_consistent(tb)) {
				snprintf(why, len, "TLB %s/%u: order, tags or counts differ from the entries",
					 mmu_tlb_level_name((enum mmu_tlb_level)l), i);
				return false;
			}
			if (memcmp(ta->e, tb->e, (size_t)ta->sets * ta->ways * sizeof *ta->e) ||
			    memcmp(&ta->st, &tb->st, sizeof ta->st) || ta->clock != tb->clock ||
			    ta->live != tb->live || ta->splinters != tb->splinters ||
			    memcmp(ta->nvalid, tb->nvalid, sizeof ta->nvalid)) {
				snprintf(why, len, "TLB %s/%u: entries, counters or LRU clock",
					 mmu_tlb_level_name((enum mmu_tlb_level)l), i);
				return false;
			}
		}
	for (unsigned k = 0; k < PWC_NKINDS; k++) {
		const struct pwc *pa = &a->pwc[k], *pb = &b->pwc[k];
		/* Blocks hold keys, values and the LRU order. */
		if (memcmp(pa->slot, pb->slot, (size_t)pa->sets * pa->stride * sizeof *pa->slot) ||
		    memcmp(&pa->st, &pb->st, sizeof pa->st)) {
			snprintf(why, len, "PWC kind %u: entries, counters or LRU order", k);
			return false;
		}
	}
	return true;
}

static bool compare_caches(const struct mmu *a, const struct mmu *b, char *why, size_t len)
{
	for (unsigned i = 0; i < a->dcache.nlevels; i++) {
		const struct cache_level *ca = &a->dcache.lvl[i], *cb = &b->dcache.lvl[i];
		size_t n = (size_t)ca->sets * ca->slots;
		if (memcmp(ca->tag, cb->tag, n * sizeof *ca->tag) || memcmp(ca->age, cb->age, n) ||
		    ca->hits != cb->hits || ca->misses != cb->misses) {
			snprintf(why, len, "data-cache level %s", mmu_cache_level_name((enum mmu_cache_level)i));
			return false;
		}
	}
	if (a->dcache.dram_accesses != b->dcache.dram_accesses) {
		snprintf(why, len, "DRAM accesses of the data-cache model");
		return false;
	}
	return true;
}

bool mmu_compare_state(const struct mmu *a, const struct mmu *b, bool with_caches, char *why,
		       size_t len)
{
	if (memcmp(&a->stats, &b->stats, sizeof a->stats)) {
		snprintf(why, len, "statistics (walks %llu/%llu, cycles %llu/%llu)",
			 (unsigned long long)a->stats.walks, (unsigned long long)b->stats.walks,
			 (unsigned long long)a->stats.cycles, (unsigned long long)b->stats.cycles);
		return false;
	}
	if (a->phys.nframes != b->phys.nframes ||
	    memcmp(a->phys.frame_flags, b->phys.frame_flags, a->phys.nframes)) {
		snprintf(why, len, "frame watch flags");
		return false;
	}
	if (!compare_tlbs(a, b, why, len))
		return false;
	return !with_caches || compare_caches(a, b, why, len);
}
