/* The TLB-miss path specialised for IA-32e paging (4-level and 5-level,
 * SDM Vol. 3A §4.5), taken when no observer is attached.
 *
 * Why: a TLB miss is the expensive event mmulab exists to model, and
 * workloads that touch many pages spend most host time here. The generic
 * path (walk.c) serves every paging mode in separate passes: TLB probes,
 * a pure walk into a record, then timing, statistics, permission, A/D
 * write-back and fills, each pass asking the mode again. This path does
 * the same work in one pass with IA-32e's geometry as constants: 8-byte
 * entries, 9 index bits per level, large pages at levels 3 and 2, no PDPTE
 * registers, XD in every entry.
 *
 * Contract: for every input it gives what walk_slow_path gives — physical
 * address or fault (vector, error code, CR2), the A/D flags in memory, the
 * TLB, PWC and data-cache contents and LRU order, every statistic and the
 * cycle count. Everything with an effect happens in the generic path's
 * order: data-cache accesses level by level, then A/D writes, PWC fills
 * (top down), the L1 then the L2 TLB fill. Rare cases (a hit in a larger
 * page size of the first L1 structure or in the L2 TLB, any fault) are
 * handed to the generic helpers at the point where both paths agree.
 * tests/test_walk_fast.c and tests/fuzz/fuzz_walk.c run both paths on the
 * same inputs and compare everything (struct mmu walk_generic forces the
 * generic one).
 */
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/mmu_internal.h"

#define FAST_MAX_LEVELS 5
#define FAST_INDEX_MASK ((UINT64_C(1) << PAGING64_INDEX_BITS) - 1)
#define FAST_RIGHTS_ALL (TLB_R_USER | TLB_R_WRITE | TLB_R_EXEC)
/* The rare outcomes of a walk (a fault, an A/D write, an entry outside
 * RAM, a rights check the table cannot settle) are cold helpers: out of
 * line, in the compiler's cold section, so the common path stays dense in
 * the host's instruction caches (mmu_walk 9.5 -> 9.7 Mwalks/s). */
#define FAST_COLD __attribute__((cold, noinline))

/* mmu_translate_miss clears struct mmu_xlate's meta word for "no source yet". */
_Static_assert(SRC_NOPAGING == 0 && PG_4K == 0, "a zero meta word: no source, 4K");

/* What the pass keeps of each entry it read: enough for the A/D updates
 * and the PWC fills that follow a successful walk. */
struct fast_entry {
	uint64_t pa, val;
	uint8_t rights; /* accumulated down to and including this entry */
};

/* The PWC slots of la by level, left by the lookups for the fills after the
 * walk: every level the walk reads below a PWC hit was looked up first and
 * missed, and nothing else touches that cache before the fill. */
struct fast_pwc_slots {
	struct pwc_slot slot[FAST_MAX_LEVELS + 1];
};

/* The ways the fills of the first L2 TLB structure would replace, by page
 * size, found by the L2 lookup's own pass over each set it probed (NULL:
 * that size was not probed). The lookup missed and nothing touches the L2
 * TLB before its fill, so each is the way a fresh scan would find. */
struct fast_l2_victims {
	struct tlb_entry *way[PG_NSIZES];
};

/* What the walk's reads add to struct mmu_xlate, to the L1D-served read
 * count and to the L1D's hits, kept in registers until the walk ends
 * (fast_flush): each read otherwise stored four counters, three of them
 * the same as the read before's, and those stores, not the
 * instructions, held a walk back (mmu_walk ran about 14% faster without
 * the walk's counters). */
struct fast_acc {
	uint32_t cycles;
	uint32_t reads;
	uint32_t l1d; /* reads the L1D served */
};

static inline void fast_flush(struct mmu *m, const struct fast_acc *a, struct mmu_xlate *x)
{
	x->cycles += a->cycles;
	x->walk_reads = (uint8_t)(x->walk_reads + a->reads);
	m->stats.walk_cache[CACHE_L1D] += a->l1d;
	m->dcache.lvl[CACHE_L1D].hits += a->l1d; /* cache_touch_cacheable leaves them to us */
}

/* Longest PWC match, PDE cache first (§4.10.3.2): the level the walk
 * starts at, its table and the rights accumulated above it. */
static TLB_ALWAYS_INLINE unsigned fast_pwc_start(struct mmu *m, uint64_t la, unsigned top,
				      struct fast_pwc_slots *ps, uint64_t *table, uint8_t *rights,
				      struct mmu_xlate *x)
{
	uint64_t key_low = pwc_key_low(m->pcid);
	for (unsigned l = 2; l <= top; l++) {
		struct pwc *c = &m->pwc[paging_pwc_kind(l)];
		const uint64_t *e = pwc_lookup_la(c, la, paging64_shift(l), key_low, &ps->slot[l]);
		if (e) {
			*table = pwc_next(*e);
			*rights = pwc_rights(*e);
			x->cycles += c->latency;
			x->pwc_level = (uint8_t)l;
			return l - 1;
		}
	}
	/* CR3 holds the top structure's frame (Table 4-12). */
	*table = m->cr3 & m->addr_mask;
	*rights = FAST_RIGHTS_ALL;
	return top;
}

/* The L1 fill into t1 (an L1 structure: stamps, no order word) and the
 * L2 fill into way l2way of the first L2 structure, the victim its probe
 * named, of a page of size s taken whole by both. walk_fill_level with no
 * observer to tell, spelt out: through it the fill stayed a call, which
 * with the spills around it cost 3% of a walk (making it always inline
 * instead grew every caller). */
static TLB_ALWAYS_INLINE void fast_fill_tlbs(struct mmu *m, struct tlb *t1,
					     struct tlb_entry *l2way, uint64_t la, uint64_t pa,
					     enum mmu_page_size s, uint16_t pcid, uint8_t rights,
					     uint8_t pkey)
{
	struct tlb *t2 = &m->tlb[TLB_L2][0];
	(void)tlb_fill_stamped(t1, la, pa, s, s, pcid, rights, pkey, NULL);
	/* No L2 structure keeps region counts (mmu_init). */
	(void)tlb_fill_victim(t2, tlb_set_index(t2, la, s), l2way, la, pa, s, s, pcid, rights, pkey,
			      NULL, false);
}

/* The fills of a page of any size, as the fill plans say (fill_plan). */
static void fast_fill_tlbs_any(struct mmu *m, enum mmu_tlb_level l1, uint8_t plan1, uint8_t plan2,
			       const struct fast_l2_victims *l2v, uint64_t la, uint64_t pa,
			       enum mmu_page_size size, uint16_t pcid, uint8_t rights, uint8_t pkey)
{
	if (plan1 != FILL_NONE)
		(void)tlb_fill(&m->tlb[l1][plan1 >> FILL_STRUCT_SHIFT], la, pa,
			       (enum mmu_page_size)(plan1 & FILL_SIZE_MASK), size, pcid, rights, pkey,
			       NULL);
	enum mmu_page_size l2_size = (enum mmu_page_size)(plan2 & FILL_SIZE_MASK);
	if (plan2 != FILL_NONE && plan2 >> FILL_STRUCT_SHIFT == 0 && l2v->way[l2_size])
		(void)tlb_fill_way(&m->tlb[TLB_L2][0], l2v->way[l2_size], la, pa, l2_size, size, pcid,
				   rights, pkey, NULL);
	else
		walk_fill_level(m, TLB_L2, la, pa, size, size, pcid, rights, pkey);
}

/* The A flags of the n entries read, and the leaf's leaf_set flags (A, and
 * D on a write), written back where clear (§4.8), top down. */
static FAST_COLD void fast_set_ad(struct mmu *m, const struct fast_entry *ent, unsigned n,
				  uint64_t leaf_set, struct mmu_xlate *x)
{
	for (unsigned i = 0; i + 1 < n; i++)
		if (!(ent[i].val & PTE_A))
			walk_write_ad(m, ent[i].pa, ent[i].val | PTE_A, 8, x);
	if ((ent[n - 1].val & leaf_set) != leaf_set)
		walk_write_ad(m, ent[n - 1].pa, ent[n - 1].val | leaf_set, 8, x);
}

/* A successful walk's effects (§4.8, §4.10.2, §4.10.3): A in every entry
 * read and D in the leaf on a write, PWC entries for the non-leaf entries
 * read, TLB entries in L1 and L2. all_a: the AND of the n entries. */
static TLB_ALWAYS_INLINE bool fast_commit(struct mmu *m, uint64_t la, unsigned acc, const struct fast_entry *ent,
			unsigned n, uint64_t all_a, unsigned start, const struct fast_pwc_slots *ps,
			const struct fast_l2_victims *l2v, uint64_t pa,
			enum mmu_page_size size, uint8_t rights, uint8_t pkey, bool global,
			const struct fast_acc *a, struct mmu_xlate *x)
{
	fast_flush(m, a, x);
	unsigned kind = acc & ACC_KIND_MASK;
	bool write = kind == ACC_WRITE;
	uint64_t leaf_set = PTE_A | (write ? PTE_D : 0);
	/* The common case, every A (and the leaf's D) already set, is one test. */
	if (MMU_UNLIKELY(!(all_a & PTE_A) || (ent[n - 1].val & leaf_set) != leaf_set))
		fast_set_ad(m, ent, n, leaf_set, x);
	if (write)
		rights |= TLB_R_DIRTY;
	/* ent[i] is level start - i, whose cache is the next kind down. A
	 * walk from a PDE-cache hit reads the leaf alone: nothing to fill. */
	if (n > 1) {
		struct pwc *c = &m->pwc[paging_pwc_kind(start)];
		const struct pwc_slot *slot = &ps->slot[start];
		for (unsigned i = 0; i + 1 < n; i++, c++, slot--)
			pwc_fill_slot(c, slot, ent[i].val & m->addr_mask, ent[i].rights);
	}
	uint16_t pcid = m->pcid | (global ? TLB_PCID_GLOBAL : 0);
	enum mmu_tlb_level l1 = kind == ACC_FETCH ? TLB_L1I : TLB_L1D;
	uint8_t plan1 = m->fill_plan[l1][size], plan2 = m->fill_plan[TLB_L2][size];
	/* A 4K page that both levels take as a 4K entry, the L2 in its first
	 * structure: the common case, with the page size a constant. */
	if (MMU_LIKELY(size == PG_4K && (plan1 & FILL_SIZE_MASK) == PG_4K &&
		       plan2 == (0 << FILL_STRUCT_SHIFT | PG_4K) && l2v->way[PG_4K]))
		fast_fill_tlbs(m, &m->tlb[l1][plan1 >> FILL_STRUCT_SHIFT], l2v->way[PG_4K], la, pa,
			       PG_4K, pcid, rights, pkey);
	else
		fast_fill_tlbs_any(m, l1, plan1, plan2, l2v, la, pa, size, pcid, rights, pkey);
	x->pa = pa;
	x->source = SRC_WALK;
	x->size = (uint8_t)size;
	m->stats.cycles += x->cycles;
	return true;
}

/* fast_read_entry past walk_read_limit (an entry outside RAM, or flat
 * walk timing). */
static FAST_COLD uint64_t fast_read_entry_other(struct mmu *m, unsigned level, uint64_t pa, bool flat,
						struct mmu_xlate *x)
{
	struct phys *p = &m->phys;
	uint64_t val;
	if (phys_in_ram(p, pa, PAGING64_ENTRY_BYTES)) {
		memcpy(&val, p->ram + pa, sizeof val);
		p->frame_flags[pa >> PHYS_FRAME_SHIFT] |= FRAME_WALKED;
	} else {
		val = phys_read(p, pa, PAGING64_ENTRY_BYTES);
		if (phys_in_ram(p, pa, 1))
			p->frame_flags[pa >> PHYS_FRAME_SHIFT] |= FRAME_WALKED;
	}
	uint8_t served;
	(void)walk_time_read(m, level, pa, flat, &served, x);
	return val;
}

static FAST_COLD bool fast_fault(struct mmu *m, uint64_t la, unsigned acc, uint32_t ec,
				 struct fast_acc a, struct mmu_xlate *x)
{
	fast_flush(m, &a, x);
	return walk_fault(m, la, acc, VEC_PF, ec, x);
}

/* The leaf's rights when the rights table alone cannot allow the access
 * (protection keys, or a denial): the #PF error code, 0 if allowed. */
static FAST_COLD uint32_t fast_check_rights(const struct mmu *m, unsigned acc, uint8_t rights,
					    uint8_t pkey)
{
	return walk_check_rights(m, acc, rights, pkey);
}

/* Read the 8-byte entry at pa and account the read as walk_account_read
 * does. The common case, an entry in RAM read under cached walk timing,
 * is one bounds test (walk_read_limit) and an inline L1D probe. */
static TLB_ALWAYS_INLINE uint64_t fast_read_entry(struct mmu *m, unsigned level, uint64_t pa, bool flat,
						   struct fast_acc *a, struct mmu_xlate *x)
{
	struct phys *p = &m->phys;
	uint64_t val;
	if (MMU_LIKELY(pa < m->walk_read_limit)) {
		memcpy(&val, p->ram + pa, sizeof val);
		p->frame_flags[pa >> PHYS_FRAME_SHIFT] |= FRAME_WALKED;
		enum mmu_cache_level served = cache_touch_cacheable(&m->dcache, pa);
		/* walk_count_read, the L1D count and *x's fields kept in *a */
		a->cycles += m->dcache.served_latency[served];
		a->reads++;
		m->stats.walk_reads[level]++;
		if (MMU_LIKELY(served == CACHE_L1D))
			a->l1d++;
		else
			m->stats.walk_cache[served]++;
		return val;
	}
	return fast_read_entry_other(m, level, pa, flat, x);
}

/* Host-side only: after a walk ended at the PTE at pte_pa, ask the host to
 * prefetch the guest frame its neighbour in the same table maps, at la's
 * page offset (the next linear page, the same offset). A loop that steps
 * through memory a page at a time misses the TLB at every page, and its
 * data is a fresh host line each time; without the prefetch the host
 * waits on its own memory at every page (the page-touch benchmark: about
 * a fifth of its time). Nothing modelled is read or changed: the
 * neighbour's read is not a walk read (no statistics, no frame flag, no
 * data-cache model access), and a prefetch does not fault. */
static TLB_ALWAYS_INLINE void fast_prefetch_next_page(const struct mmu *m, uint64_t pte_pa,
						      uint64_t la)
{
	uint64_t next = pte_pa + PAGING64_ENTRY_BYTES;
	uint64_t v;
	if (!(next & (PHYS_FRAME_SIZE - 1)) || next >= m->walk_read_limit)
		return; /* the neighbour lies in another table, or outside RAM */
	memcpy(&v, m->phys.ram + next, sizeof v);
	uint64_t frame = v & m->addr_mask;
	if ((v & PTE_P) && frame < m->phys.size)
		__builtin_prefetch(m->phys.ram + frame + (la & (PHYS_FRAME_SIZE - 1)));
}

/* The walk from the PWC hit (or CR3) to the leaf (§4.5): each entry read
 * is timed as it is read; a not-present entry or a reserved bit ends it
 * with #PF (§4.7), then the leaf's rights are checked (§4.6). */
static TLB_ALWAYS_INLINE bool fast_walk_from(struct mmu *m, uint64_t la, unsigned acc,
					     const struct fast_l2_victims *l2v,
					     const struct fast_pwc_slots *ps, unsigned start,
					     uint64_t table, uint8_t rights, struct mmu_xlate *x)
{
	struct fast_entry ent[FAST_MAX_LEVELS];
	struct fast_acc a = {0, 0, 0};
	unsigned n = 0, level;
	uint64_t val, all_a = ~UINT64_C(0);
	bool xd_on = m->efer & EFER_NXE;
	bool flat = m->model.walk_timing == WALK_TIMING_FLAT;
	uint64_t addr_mask = m->addr_mask;
	/* level 1 always ends the loop (a PTE is a leaf). */
#pragma GCC unroll 5
	for (level = start; level >= 1; level--) {
		uint64_t pa = table + ((la >> paging64_shift(level)) & FAST_INDEX_MASK) * PAGING64_ENTRY_BYTES;
		val = fast_read_entry(m, level, pa, flat, &a, x);
		if (!(val & PTE_P))
			return fast_fault(m, la, acc, walk_pfec_access(m, acc), a, x);
		/* PS = 1 ends the walk at a PDPTE (1G) or PDE (2M); it is
		 * reserved in PML5Es and PML4Es (rsvd_ps), and bit 7 of a PTE
		 * is PAT. */
		uint64_t bit7 = val & PTE_PS;
		if (val & (bit7 ? m->rsvd_ps[level] : m->rsvd_table[level]))
			return fast_fault(m, la, acc, PFEC_P | PFEC_RSVD | walk_pfec_access(m, acc), a, x);
		bool leaf = bit7 || level == 1;
		rights = walk_rights(rights, val, xd_on);
		all_a &= val;
		ent[n].pa = pa;
		ent[n].val = val;
		ent[n++].rights = rights;
		if (leaf)
			break;
		table = val & addr_mask;
	}
	if (level == 1)
		fast_prefetch_next_page(m, ent[n - 1].pa, la);
	static const enum mmu_page_size leaf_size[4] = {PG_4K, PG_4K, PG_2M, PG_1G};
	uint64_t off_mask = (UINT64_C(1) << paging64_shift(level)) - 1;
	uint64_t pa = (val & m->addr_mask & ~off_mask) | (la & off_mask);
	uint8_t leaf_rights = rights | ((val & PTE_D) ? TLB_R_DIRTY : 0);
	uint8_t pkey = m->pk_active ? (uint8_t)((val & PTE_PKEY_MASK) >> PTE_PKEY_SHIFT) : 0;
	/* Without protection keys the rights table decides alone (§4.6). */
	if (MMU_UNLIKELY(m->pk_active || !((m->perm_ok[acc] >> leaf_rights) & 1))) {
		uint32_t ec = fast_check_rights(m, acc, leaf_rights, pkey);
		if (ec)
			return fast_fault(m, la, acc, ec, a, x);
	}
	bool global = (val & PTE_G) && (m->cr4 & CR4_PGE);
	return fast_commit(m, la, acc, ent, n, all_a, start, ps, l2v, pa, leaf_size[level], leaf_rights, pkey,
			   global, &a, x);
}

static bool fast_walk(struct mmu *m, uint64_t la, unsigned acc, const struct fast_l2_victims *l2v,
		      struct mmu_xlate *x)
{
	struct fast_pwc_slots ps;
	uint64_t table;
	uint8_t rights;
	m->stats.walks++;
	x->cycles += m->l2_miss_latency + m->model.walk_start;
	/* The top level as a constant, so the PWC probes unroll. */
	unsigned start = m->mode == PAGING_5LEVEL
				 ? fast_pwc_start(m, la, 5, &ps, &table, &rights, x)
				 : fast_pwc_start(m, la, 4, &ps, &table, &rights, x);
	/* The start level as a constant too: the walk loop unrolls, with
	 * each level's shift, reserved-bit mask and PWC slot known. */
	if (start == 1)
		return fast_walk_from(m, la, acc, l2v, &ps, 1, table, rights, x);
	if (start == 4)
		return fast_walk_from(m, la, acc, l2v, &ps, 4, table, rights, x);
	return fast_walk_from(m, la, acc, l2v, &ps, start, table, rights, x);
}

/* tlb_probe of the first L2 structure, recording the fill victims. Its
 * smallest size comes first, with the keys and set mask tlb_set_pcid
 * keeps (as tlb_probe_size0). */
static inline struct tlb_entry *fast_l2_probe(const struct tlb *t, uint64_t la, uint16_t pcid,
					      struct fast_l2_victims *l2v)
{
	unsigned sizes = t->live;
	if (MMU_LIKELY(sizes & PG_SIZE_BIT(t->size0))) {
		uint64_t vpn = la >> t->shift0;
		uint64_t idx = vpn & t->set_mask;
		struct tlb_entry *set = &t->e[idx * t->ways];
		uint64_t key = vpn << TLB_KEY_VPN_SHIFT | t->key_low;
		uint64_t key_g = vpn << TLB_KEY_VPN_SHIFT | t->key_global;
		struct tlb_entry *e = tlb_scan_victim(t, set, idx, key, key_g, &l2v->way[t->size0]);
		if (e)
			return e;
		sizes &= ~PG_SIZE_BIT(t->size0);
	}
	for (; sizes; sizes &= sizes - 1) {
		enum mmu_page_size s = (enum mmu_page_size)__builtin_ctz(sizes);
		struct tlb_entry *e = tlb_probe_size_victim(t, la, s, pcid, &l2v->way[s]);
		if (e)
			return e;
	}
	return NULL;
}

/* The miss path after the inline probe of the first L1 structure's
 * smallest size missed (mmu.h). IA-32e paging with no observer is served
 * here in one pass: the other L1 structures (large pages: a kernel's
 * direct map hits the second), the first structure's other sizes, the L2
 * TLB, then the walk. The fused path reports no walk steps, A/D or TLB
 * events: any observer (a trace recorder, a replayer, the visualizer)
 * keeps the generic path (walk_miss_rest), which reports them all. */
bool mmu_translate_miss(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x)
{
	if (MMU_UNLIKELY(m->mode < PAGING_4LEVEL || m->walk_generic || m->obs))
		return walk_miss_rest(m, la, acc, x);
	enum mmu_tlb_level l1 = (acc & ACC_KIND_MASK) == ACC_FETCH ? TLB_L1I : TLB_L1D;
	struct tlb *t1 = m->tlb[l1];
	unsigned n1 = m->ntlb[l1];
	/* Only a canonical la can hit (cached pages are canonical), so the
	 * probes may come first. The structures a level does not have are
	 * zeroed (mmu_init): none is live, so one test covers them all. */
	_Static_assert(MMU_MAX_TLBS_PER_LEVEL == 4, "the live test below names every structure");
	if (t1[1].live | t1[2].live | t1[3].live) {
		struct tlb *t;
		struct tlb_entry *e = walk_probe_later_l1(m, l1, la, &t);
		if (e)
			return walk_l1_other_hit(m, la, acc, t, e, x);
	}
	/* The inline probe covered only the first structure's smallest size. */
	if (MMU_UNLIKELY(!mmu_canonical(m, la) ||
			 ((t1->live & ~PG_SIZE_BIT(t1->size0)) &&
			  tlb_probe_from(t1, la, m->pcid, t1->size0 + 1u))))
		return walk_slow_path(m, la, acc, true, x);
	x->meta = 0; /* cycles, walk_reads, pwc_level 0; SRC_NOPAGING, PG_4K until known */
	m->stats.translations++;
	/* A miss in every L1 structure (n1 is 1..4), without a loop. */
	switch (n1) {
	case 4: t1[3].st.misses++; /* fall through */
	case 3: t1[2].st.misses++; /* fall through */
	case 2: t1[1].st.misses++; /* fall through */
	default: t1[0].st.misses++;
	}
	struct fast_l2_victims l2v = {{NULL}};
	unsigned n2 = m->ntlb[TLB_L2];
	for (unsigned i = 0; i < n2; i++) {
		struct tlb *t = &m->tlb[TLB_L2][i];
		struct tlb_entry *e = i == 0 ? fast_l2_probe(t, la, m->pcid, &l2v)
					     : t->live ? tlb_probe(t, la, m->pcid) : NULL;
		if (e) { /* counted as tlb_lookup counts */
			tlb_count_hit(t, e);
			return walk_tlb_hit(m, la, acc, t, e, x);
		}
		t->st.misses++;
	}
	return fast_walk(m, la, acc, &l2v, x);
}
