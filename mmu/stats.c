/* Statistics printing and names for messages. */
#include "mmu/mmu.h"

#include <stdio.h>
#include <string.h>

const char *mmu_paging_mode_name(enum mmu_paging_mode mode)
{
	static const char *const names[] = {"none", "32-bit", "PAE", "4-level", "5-level"};
	return (unsigned)mode < 5 ? names[mode] : "?";
}

const char *mmu_tlb_level_name(enum mmu_tlb_level l)
{
	static const char *const names[] = {"l1i", "l1d", "l2"};
	return (unsigned)l < TLB_NLEVELS ? names[l] : "?";
}

const char *mmu_page_size_name(enum mmu_page_size s)
{
	static const char *const names[] = {"4k", "2m", "4m", "1g"};
	return (unsigned)s < PG_NSIZES ? names[s] : "?";
}

const char *mmu_cache_level_name(enum mmu_cache_level l)
{
	static const char *const names[] = {"l1d", "l2", "l3", "dram"};
	return (unsigned)l <= CACHE_DRAM ? names[l] : "?";
}

static const char *const pwc_names[PWC_NKINDS] = {"pml5e", "pml4e", "pdpte", "pde"};

void mmu_stats_reset(struct mmu *m)
{
	memset(&m->stats, 0, sizeof m->stats);
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < m->ntlb[l]; i++)
			memset(&m->tlb[l][i].st, 0, sizeof m->tlb[l][i].st);
	for (unsigned k = 0; k < PWC_NKINDS; k++)
		memset(&m->pwc[k].st, 0, sizeof m->pwc[k].st);
	for (unsigned c = 0; c < CACHE_NLEVELS; c++)
		m->dcache.lvl[c].hits = m->dcache.lvl[c].misses = 0;
	m->dcache.dram_accesses = 0;
}

uint64_t mmu_stats_cycles(const struct mmu *m)
{
	uint64_t c = m->stats.cycles;
	for (unsigned l = TLB_L1I; l <= TLB_L1D; l++)
		for (unsigned i = 0; i < m->ntlb[l]; i++)
			c += m->tlb[l][i].st.fast_hits * m->tlb[l][i].latency;
	return c;
}

static void stats_size_list(const struct tlb *t, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (unsigned s = 0; s < PG_NSIZES; s++)
		if (t->sizes & PG_SIZE_BIT(s))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "+" : "",
					      mmu_page_size_name((enum mmu_page_size)s));
}

void mmu_stats_print(const struct mmu *m, void *file)
{
	FILE *f = file;
	const struct mmu_stats *s = &m->stats;
	for (unsigned l = 0; l < TLB_NLEVELS; l++) {
		for (unsigned i = 0; i < m->ntlb[l]; i++) {
			const struct tlb *t = &m->tlb[l][i];
			char sizes[32];
			stats_size_list(t, sizes, sizeof sizes);
			uint64_t hits = t->st.fast_hits + t->st.hits, lookups = hits + t->st.misses;
			fprintf(f, "tlb.%s.%s  lookups %llu hits %llu misses %llu hit%% %.2f fills %llu evictions %llu invalidations %llu\n",
				mmu_tlb_level_name((enum mmu_tlb_level)l), sizes,
				(unsigned long long)lookups, (unsigned long long)hits,
				(unsigned long long)t->st.misses,
				lookups ? 100.0 * (double)hits / (double)lookups : 0.0,
				(unsigned long long)t->st.fills, (unsigned long long)tlb_evictions(&t->st),
				(unsigned long long)t->st.invalidations);
		}
	}
	for (unsigned k = 0; k < PWC_NKINDS; k++) {
		const struct pwc *c = &m->pwc[k];
		if (!c->sets)
			continue;
		fprintf(f, "pwc.%s  lookups %llu hits %llu fills %llu evictions %llu invalidations %llu\n",
			pwc_names[k], (unsigned long long)c->st.lookups, (unsigned long long)c->st.hits,
			(unsigned long long)c->st.fills, (unsigned long long)pwc_evictions(&c->st),
			(unsigned long long)c->st.invalidations);
	}
	fprintf(f, "walk  walks %llu reads pml5e %llu pml4e %llu pdpte %llu pde %llu pte %llu\n",
		(unsigned long long)s->walks, (unsigned long long)s->walk_reads[5],
		(unsigned long long)s->walk_reads[4], (unsigned long long)s->walk_reads[3],
		(unsigned long long)s->walk_reads[2], (unsigned long long)s->walk_reads[1]);
	fprintf(f, "walk.served  l1d %llu l2 %llu l3 %llu dram %llu\n",
		(unsigned long long)s->walk_cache[0], (unsigned long long)s->walk_cache[1],
		(unsigned long long)s->walk_cache[2], (unsigned long long)s->walk_cache[3]);
	fprintf(f, "mmu  translations %llu ad_updates %llu dirty_assists %llu faults_pf %llu faults_gp %llu flushes %llu cycles %llu\n",
		(unsigned long long)s->translations, (unsigned long long)s->ad_updates,
		(unsigned long long)s->dirty_assists, (unsigned long long)s->faults_pf,
		(unsigned long long)s->faults_gp, (unsigned long long)s->flushes,
		(unsigned long long)mmu_stats_cycles(m));
}
