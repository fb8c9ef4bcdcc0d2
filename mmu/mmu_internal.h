/* Functions shared between mmu/ files, not part of the public API. */
#ifndef MMU_INTERNAL_H
#define MMU_INTERNAL_H

#include "mmu/mmu.h"

/* Invalidate TLB entries whose page contains la (non-global ones of pcid;
 * global ones too if with_global) and every PWC entry of pcid. */
unsigned mmu_invalidate_addr(struct mmu *m, uint64_t la, uint16_t pcid, bool with_global);

/* ---- the miss path: pieces shared by the generic walk (walk.c) and the
 * IA-32e fast path (walk_fast.c) ------------------------------------------ */

/* Which structure of a TLB level takes a page of a given size, and as what
 * size (struct mmu fill_plan): structure index << FILL_STRUCT_SHIFT | size. */
#define FILL_NONE 0xff
#define FILL_STRUCT_SHIFT 4
#define FILL_SIZE_MASK 0xfu

/* Plan which TLB structure takes each page size (walk.c); after the TLBs
 * are set up. */
void walk_plan_fills(struct mmu *m);

/* Error-code bits that describe the access itself (SDM Vol. 3A §4.7). */
uint32_t walk_pfec_access(const struct mmu *m, unsigned acc);
/* 0 if rights (TLB_R_*) and pkey allow the access, else the #PF error code
 * (§4.6: U/S, R/W, XD, CR0.WP, SMEP, SMAP, protection keys). */
uint32_t walk_check_rights(const struct mmu *m, unsigned acc, uint8_t rights, uint8_t pkey);
/* Report a fault: statistics, cycles, the #PF invalidation (§4.10.4.1),
 * events. Returns false. */
bool walk_fault(struct mmu *m, uint64_t la, unsigned acc, uint8_t vector, uint32_t ec,
		struct mmu_xlate *x);
/* Report a translation: pa, source, size, cycles, events. Returns true. */
bool walk_success(struct mmu *m, uint64_t la, unsigned acc, uint64_t pa, enum mmu_source src,
		  enum mmu_page_size size, struct mmu_xlate *x);
/* A TLB hit found after the inline probe: rights, dirty assist, L1 refill. */
bool walk_tlb_hit(struct mmu *m, uint64_t la, unsigned acc, struct tlb *t, struct tlb_entry *e,
		  struct mmu_xlate *x);
/* The generic miss path, every mode (probed0: see mmu_translate_miss). */
bool walk_slow_path(struct mmu *m, uint64_t la, unsigned acc, bool probed0, struct mmu_xlate *x);
/* Probe the L1 structures after the first (uncounted): the entry that
 * holds la and its structure in *t, or NULL. */
static inline struct tlb_entry *walk_probe_later_l1(struct mmu *m, enum mmu_tlb_level l1,
						    uint64_t la, struct tlb **t)
{
	for (unsigned i = 1; i < m->ntlb[l1]; i++) {
		*t = &m->tlb[l1][i];
		struct tlb_entry *e = (*t)->live ? tlb_probe(*t, la, m->pcid) : NULL;
		if (e)
			return e;
	}
	return NULL;
}

/* A hit in L1 structure t, not the first, after the inline probe of the
 * first missed (walk.c). */
bool walk_l1_other_hit(struct mmu *m, uint64_t la, unsigned acc, struct tlb *t,
		       struct tlb_entry *e, struct mmu_xlate *x);
/* The miss path of every mode after the inline probe missed (walk.c): the
 * other L1 structures, then walk_slow_path. mmu_translate_miss
 * (walk_fast.c) serves IA-32e paging with no observer itself and hands
 * everything else here. */
bool walk_miss_rest(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x);

/* Rights after one more entry: R/W and U/S ANDed, XD ORed where XD is in
 * effect (PAE and IA-32e paging with IA32_EFER.NXE = 1, §4.6.1). */
static inline uint8_t walk_rights(uint8_t rights, uint64_t entry, bool xd_on)
{
	if (!(entry & PTE_US))
		rights &= (uint8_t)~TLB_R_USER;
	if (!(entry & PTE_RW))
		rights &= (uint8_t)~TLB_R_WRITE;
	if (xd_on && (entry & PTE_XD))
		rights &= (uint8_t)~TLB_R_EXEC;
	return rights;
}

/* The statistics of one walk read: served by level served, c cycles. */
static inline void walk_count_read(struct mmu *m, unsigned level, unsigned served, uint32_t c,
				   struct mmu_xlate *x)
{
	x->cycles += c;
	x->walk_reads++;
	m->stats.walk_reads[level]++;
	m->stats.walk_cache[served]++;
}

/* Time one walk read of the entry at pa: its latency through the
 * data-cache model (or the flat cost, flat: the model's walk timing is
 * WALK_TIMING_FLAT), and its statistics. Returns the latency; *served gets
 * the level that served it. */
static inline uint32_t walk_time_read(struct mmu *m, unsigned level, uint64_t pa, bool flat,
				      uint8_t *served, struct mmu_xlate *x)
{
	uint32_t c = 0;
	if (flat) {
		*served = CACHE_DRAM;
		c = m->model.walk_level_cycles;
	} else {
		*served = (uint8_t)cache_access(&m->dcache, pa, &c);
	}
	walk_count_read(m, level, *served, c, x);
	return c;
}

/* Account one walk read of the entry at pa: walk_time_read, and the
 * frame's watch flag. */
static inline uint32_t walk_account_read(struct mmu *m, unsigned level, uint64_t pa,
					 uint8_t *served, struct mmu_xlate *x)
{
	if (phys_in_ram(&m->phys, pa, 1))
		m->phys.frame_flags[pa >> PHYS_FRAME_SHIFT] |= FRAME_WALKED;
	return walk_time_read(m, level, pa, m->model.walk_timing == WALK_TIMING_FLAT, served, x);
}

/* Write back an entry whose A or D flag the walk sets (§4.8): a locked
 * update, charged its model cost. */
static inline void walk_write_ad(struct mmu *m, uint64_t pa, uint64_t v, unsigned esize,
				 struct mmu_xlate *x)
{
	phys_write(&m->phys, pa, v, esize);
	x->cycles += m->model.ad_update;
	m->stats.ad_updates++;
}

/* Fill one TLB level for a page of size max (fragmenting it as the level's
 * plan says), reporting fill and eviction to an observer.
 * Precondition of tlb_fill: the level holds no entry for la (just missed). */
static inline void walk_fill_level(struct mmu *m, enum mmu_tlb_level lvl, uint64_t la,
				   uint64_t pa, enum mmu_page_size max, enum mmu_page_size orig,
				   uint16_t pcid, uint8_t rights, uint8_t pkey)
{
	uint8_t plan = m->fill_plan[lvl][max];
	if (plan == FILL_NONE)
		return;
	unsigned i = plan >> FILL_STRUCT_SHIFT;
	enum mmu_page_size s = (enum mmu_page_size)(plan & FILL_SIZE_MASK);
	struct tlb *t = &m->tlb[lvl][i];
	if (MMU_LIKELY(!m->obs || !m->obs->tlb)) {
		(void)tlb_fill(t, la, pa, s, orig, pcid, rights, pkey, NULL);
		return;
	}
	struct tlb_entry victim = {0};
	if (tlb_fill(t, la, pa, s, orig, pcid, rights, pkey, &victim))
		m->obs->tlb(m->obs->ctx, TLB_EV_EVICT, lvl, i, tlb_entry_la(&victim), victim.pa,
			    (enum mmu_page_size)victim.size);
	m->obs->tlb(m->obs->ctx, TLB_EV_FILL, lvl, i, la, pa, s);
}

#endif
