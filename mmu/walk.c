/* The translation slow path: TLB levels, paging-structure caches, the page
 * walk, A/D updates and fills (SDM Vol. 3A §4.3–§4.10).
 *
 * One walk loop serves every paging mode. A mode is a geometry (top level,
 * entry size, index shifts, where large pages may end the walk) plus the
 * reserved-bit masks computed in ctl.c. The walk itself (walk_run) is pure:
 * it reads entries and computes the outcome. Everything with an effect —
 * timing through the data-cache model, statistics, events, A/D write-back,
 * PWC and TLB fills, the invalidation a #PF causes — happens in
 * walk_translate, so mmu_debug_translate can reuse walk_run untouched.
 *
 * A/D rule (§4.8): a successful translation sets A in every entry it used
 * (entries above a PWC hit were already used and are not re-read) and D in
 * the leaf on a write. A translation that faults sets nothing, and nothing
 * is cached (§4.10.2.1, §4.10.3.1).
 */
#include "mmu/mmu.h"
#include "mmu/mmu_internal.h"

#include <string.h>

#define WALK_MAX_LEVELS 5
#define RIGHTS_ALL (TLB_R_USER | TLB_R_WRITE | TLB_R_EXEC)

struct walk_level_rec {
	uint8_t level;
	bool from_register;  /* PAE PDPTE register: no memory read */
	uint8_t rights_after;/* rights accumulated down to and including this entry */
	uint64_t pa;         /* entry address */
	uint64_t val;        /* entry value */
};

struct walk_rec {
	unsigned n;
	struct walk_level_rec lv[WALK_MAX_LEVELS];
	bool found;          /* a present leaf with no reserved bits */
	uint32_t pfec;       /* PFEC_P/PFEC_RSVD when !found */
	uint64_t pa;         /* physical address of la */
	enum mmu_page_size size;
	uint8_t rights;      /* TLB_R_* including TLB_R_DIRTY from the leaf */
	uint8_t pkey;
	bool global;
};

/* ---- mode geometry -------------------------------------------------------- */

/* May PS = 1 end the walk at this level? (§4.3: 4M with CR4.PSE; §4.4: 2M;
 * §4.5: 2M and 1G.) */
static bool walk_large_ok(const struct mmu *m, unsigned level)
{
	switch (m->mode) {
	case PAGING_32:
		return level == 2 && (m->cr4 & CR4_PSE);
	case PAGING_PAE:
		return level == 2;
	default:
		return level == 2 || level == 3;
	}
}

static enum mmu_page_size walk_leaf_size(enum mmu_paging_mode mode, unsigned level)
{
	if (level == 1)
		return PG_4K;
	if (level == 3)
		return PG_1G;
	return mode == PAGING_32 ? PG_4M : PG_2M;
}

static uint64_t walk_table_addr(const struct mmu *m, uint64_t entry)
{
	return m->mode == PAGING_32 ? (entry & PTE32_FRAME_MASK) : (entry & m->addr_mask);
}

static uint64_t walk_root(const struct mmu *m)
{
	/* CR3 holds the top structure's frame (Tables 4-3, 4-12). */
	if (m->mode == PAGING_32)
		return m->cr3 & PTE32_FRAME_MASK;
	return m->cr3 & m->addr_mask;
}

static uint64_t walk_page_base(const struct mmu *m, uint64_t entry, enum mmu_page_size size)
{
	if (size == PG_4M) {
		/* PSE-36: PA bits 39:32 in PDE bits 20:13 (Table 4-4). */
		uint64_t high = (entry >> PDE32_4M_HIGH_SHIFT) & ((1u << PDE32_4M_HIGH_BITS) - 1);
		return (entry & PDE32_4M_FRAME_MASK) | high << 32;
	}
	uint64_t mask = (UINT64_C(1) << mmu_page_shift(size)) - 1;
	return walk_table_addr(m, entry) & ~mask;
}

/* ---- the walk ------------------------------------------------------------- */

static bool walk_run(const struct mmu *m, uint64_t la, unsigned level, uint64_t table,
		     uint8_t rights, struct walk_rec *w)
{
	unsigned esize = paging_entry_bytes(m->mode);
	w->n = 0;
	w->found = false;
	for (;; level--) {
		struct walk_level_rec *r = &w->lv[w->n++];
		uint64_t idx = paging_index(m->mode, la, level);
		r->level = (uint8_t)level;
		r->from_register = m->mode == PAGING_PAE && level == 3;
		if (r->from_register) {
			r->pa = (m->cr3 & CR3_PAE_PDPT_MASK) + idx * PAGING64_ENTRY_BYTES;
			r->val = m->pdpte[idx];
		} else {
			r->pa = table + idx * esize;
			r->val = phys_read(&m->phys, r->pa, esize);
		}
		if (!(r->val & PTE_P)) {
			w->pfec = 0;
			return false;
		}
		bool leaf = level == 1 || ((r->val & PTE_PS) && walk_large_ok(m, level));
		uint64_t rsvd = r->from_register ? 0 : (leaf && level > 1) ? m->rsvd_leaf[level]
									   : m->rsvd_table[level];
		if (r->val & rsvd) {
			w->pfec = PFEC_P | PFEC_RSVD;
			return false;
		}
		if (!r->from_register) /* PDPTE registers carry no rights (§4.4.2) */
			rights = walk_rights(rights, r->val, m->mode != PAGING_32 && (m->efer & EFER_NXE));
		r->rights_after = rights;
		if (leaf) {
			w->found = true;
			w->size = walk_leaf_size(m->mode, level);
			uint64_t off = la & ((UINT64_C(1) << mmu_page_shift(w->size)) - 1);
			w->pa = walk_page_base(m, r->val, w->size) | off;
			w->rights = rights | ((r->val & PTE_D) ? TLB_R_DIRTY : 0);
			w->global = (r->val & PTE_G) && (m->cr4 & CR4_PGE);
			w->pkey = m->pk_active ? (uint8_t)((r->val & PTE_PKEY_MASK) >> PTE_PKEY_SHIFT) : 0;
			return true;
		}
		table = walk_table_addr(m, r->val);
	}
}

/* ---- permission outcome --------------------------------------------------- */

/* Protection keys (§4.6.2): data accesses to user-mode addresses under
 * IA-32e paging with CR4.PKE. This is also the PK error-code condition. */
static bool walk_pk_denies(const struct mmu *m, unsigned acc, uint8_t rights, uint8_t pkey)
{
	unsigned kind = acc & ACC_KIND_MASK;
	if (!m->pk_active || kind == ACC_FETCH || !(rights & TLB_R_USER))
		return false;
	bool ad = (m->pkru >> (2 * pkey)) & 1, wd = (m->pkru >> (2 * pkey + 1)) & 1;
	if (ad)
		return true;
	return kind == ACC_WRITE && wd && ((acc & ACC_USER) || (m->cr0 & CR0_WP));
}

/* Error-code bits that describe the access itself (§4.7). */
uint32_t walk_pfec_access(const struct mmu *m, unsigned acc)
{
	unsigned kind = acc & ACC_KIND_MASK;
	uint32_t ec = 0;
	if (kind == ACC_WRITE)
		ec |= PFEC_WR;
	if (acc & ACC_USER)
		ec |= PFEC_US;
	if (kind == ACC_FETCH &&
	    ((m->cr4 & CR4_SMEP) || ((m->cr4 & CR4_PAE) && (m->efer & EFER_NXE))))
		ec |= PFEC_ID;
	return ec;
}

/* Returns 0 if allowed, else the protection-fault error code. */
uint32_t walk_check_rights(const struct mmu *m, unsigned acc, uint8_t rights, uint8_t pkey)
{
	bool pk = walk_pk_denies(m, acc, rights, pkey);
	if (((m->perm_ok[acc] >> rights) & 1) && !pk)
		return 0;
	return PFEC_P | walk_pfec_access(m, acc) | (pk ? PFEC_PK : 0);
}

/* ---- outcomes ------------------------------------------------------------- */

static void walk_notify_access(struct mmu *m, uint64_t la, unsigned acc, const struct mmu_xlate *x)
{
	if (MMU_UNLIKELY(m->obs && m->obs->access))
		m->obs->access(m->obs->ctx, la, acc, x);
}

bool walk_fault(struct mmu *m, uint64_t la, unsigned acc, uint8_t vector, uint32_t ec,
		struct mmu_xlate *x)
{
	mmu_fault_set(&x->fault, vector, true, ec);
	if (vector == VEC_PF) {
		x->fault.cr2 = la;
		m->stats.faults_pf++;
		/* A #PF invalidates what would be used for la (§4.10.4.1). */
		mmu_invalidate_addr(m, la, m->pcid, true);
	} else {
		m->stats.faults_gp++;
	}
	m->stats.cycles += x->cycles;
	if (MMU_UNLIKELY(m->obs && m->obs->fault))
		m->obs->fault(m->obs->ctx, la, acc, vector, ec);
	walk_notify_access(m, la, acc, x);
	return false;
}

bool walk_success(struct mmu *m, uint64_t la, unsigned acc, uint64_t pa, enum mmu_source src,
		  enum mmu_page_size size, struct mmu_xlate *x)
{
	x->pa = pa;
	x->source = (uint8_t)src;
	x->size = (uint8_t)size;
	m->stats.cycles += x->cycles;
	walk_notify_access(m, la, acc, x);
	return true;
}

/* ---- TLB fills, splintering large pages where a level lacks their size -- */

/* Which structure of a level takes a page of a given size, and as what
 * size: the largest size the level holds that is not larger than the page
 * (a 4M page only as 4M, 2M or 4K), in the first structure holding it.
 * Computed once per model by walk_plan_fills. */

void walk_plan_fills(struct mmu *m)
{
	static const enum mmu_page_size order[] = {PG_1G, PG_4M, PG_2M, PG_4K};
	for (unsigned lvl = 0; lvl < TLB_NLEVELS; lvl++) {
		for (unsigned max = 0; max < PG_NSIZES; max++) {
			m->fill_plan[lvl][max] = FILL_NONE;
			for (unsigned o = 0; o < 4 && m->fill_plan[lvl][max] == FILL_NONE; o++) {
				enum mmu_page_size s = order[o];
				if (mmu_page_shift(s) > mmu_page_shift(max) || (s == PG_4M && max != PG_4M))
					continue;
				for (unsigned i = 0; i < m->ntlb[lvl]; i++)
					if (m->tlb[lvl][i].sizes & PG_SIZE_BIT(s)) {
						m->fill_plan[lvl][max] = (uint8_t)(i << FILL_STRUCT_SHIFT | s);
						break;
					}
			}
		}
	}
}

/* Drop every entry for la of the current PCID (and global ones) from one
 * TLB level, so a refill cannot duplicate it. */
static void walk_drop_page(struct mmu *m, enum mmu_tlb_level lvl, uint64_t la)
{
	for (unsigned i = 0; i < m->ntlb[lvl]; i++) {
		struct tlb_entry *e;
		while ((e = tlb_probe(&m->tlb[lvl][i], la, m->pcid)))
			tlb_entry_clear(&m->tlb[lvl][i], e);
	}
}

/* ---- the slow path -------------------------------------------------------- */

/* Account the memory reads of a walk: timing, statistics, watch flags, events. */
static void walk_account_reads(struct mmu *m, const struct walk_rec *w, struct mmu_xlate *x)
{
	for (unsigned i = 0; i < w->n; i++) {
		const struct walk_level_rec *r = &w->lv[i];
		if (r->from_register)
			continue;
		uint8_t served;
		uint32_t cycles = walk_account_read(m, r->level, r->pa, &served, x);
		if (MMU_UNLIKELY(m->obs && m->obs->walk_step)) {
			struct mmu_walk_step s = {.level = r->level, .entry_pa = r->pa, .entry = r->val,
						  .cycles = cycles, .cache = served};
			m->obs->walk_step(m->obs->ctx, &s);
		}
	}
}

/* Set A in every entry read, D in the leaf on a write (§4.8). */
static void walk_update_ad(struct mmu *m, const struct walk_rec *w, bool write, struct mmu_xlate *x)
{
	unsigned esize = paging_entry_bytes(m->mode);
	for (unsigned i = 0; i < w->n; i++) {
		const struct walk_level_rec *r = &w->lv[i];
		if (r->from_register)
			continue;
		uint64_t v = r->val | PTE_A;
		if (i == w->n - 1 && write)
			v |= PTE_D;
		if (v == r->val)
			continue;
		walk_write_ad(m, r->pa, v, esize, x);
		if (MMU_UNLIKELY(m->obs && m->obs->ad_update))
			m->obs->ad_update(m->obs->ctx, r->pa, r->val, v);
	}
}

static void walk_fill_pwcs(struct mmu *m, uint64_t la, const struct walk_rec *w)
{
	for (unsigned i = 0; i + 1 < w->n; i++) {
		const struct walk_level_rec *r = &w->lv[i];
		if (r->from_register || r->level < 2)
			continue;
		struct pwc *c = &m->pwc[paging_pwc_kind(r->level)];
		pwc_fill(c, la, paging_shift(m->mode, r->level), m->pcid, walk_table_addr(m, r->val),
			 r->rights_after);
	}
}

/* Longest PWC match (§4.10.3.2): sets the starting level, table and rights. */
static void walk_pwc_start(struct mmu *m, uint64_t la, unsigned *level, uint64_t *table,
			   uint8_t *rights, struct mmu_xlate *x)
{
	unsigned top = paging_top_level(m->mode);
	for (unsigned l = 2; l <= top; l++) {
		if (m->mode == PAGING_PAE && l == 3)
			break;
		const uint64_t *e = pwc_lookup(&m->pwc[paging_pwc_kind(l)], la, paging_shift(m->mode, l), m->pcid);
		if (e) {
			*level = l - 1;
			*table = pwc_next(*e);
			*rights = pwc_rights(*e);
			x->cycles += m->pwc[paging_pwc_kind(l)].latency;
			x->pwc_level = (uint8_t)l;
			return;
		}
	}
	*level = top;
	*table = walk_root(m);
	*rights = RIGHTS_ALL;
}

static bool walk_translate(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x)
{
	unsigned kind = acc & ACC_KIND_MASK, level;
	uint64_t table;
	uint8_t rights;
	struct walk_rec w;
	m->stats.walks++;
	x->cycles += m->l2_miss_latency + m->model.walk_start;
	walk_pwc_start(m, la, &level, &table, &rights, x);
	walk_run(m, la, level, table, rights, &w);
	walk_account_reads(m, &w, x);
	if (!w.found)
		return walk_fault(m, la, acc, VEC_PF, w.pfec | walk_pfec_access(m, acc), x);
	uint32_t ec = walk_check_rights(m, acc, w.rights, w.pkey);
	if (ec)
		return walk_fault(m, la, acc, VEC_PF, ec, x);
	walk_update_ad(m, &w, kind == ACC_WRITE, x);
	if (kind == ACC_WRITE)
		w.rights |= TLB_R_DIRTY;
	walk_fill_pwcs(m, la, &w);
	uint16_t pcid = m->pcid | (w.global ? TLB_PCID_GLOBAL : 0);
	walk_fill_level(m, kind == ACC_FETCH ? TLB_L1I : TLB_L1D, la, w.pa, w.size, w.size, pcid,
			w.rights, w.pkey);
	walk_fill_level(m, TLB_L2, la, w.pa, w.size, w.size, pcid, w.rights, w.pkey);
	return walk_success(m, la, acc, w.pa, SRC_WALK, w.size, x);
}

/* A TLB hit found in the slow path (any L1 structure, or L2). */
bool walk_tlb_hit(struct mmu *m, uint64_t la, unsigned acc, struct tlb *t, struct tlb_entry *e,
		  struct mmu_xlate *x)
{
	x->cycles += t->latency;
	/* perm_fast allows only what walk_check_rights allows, with no dirty
	 * assist; protection keys are outside it. */
	if (MMU_LIKELY(!m->pk_active && ((m->perm_fast[acc] >> e->rights) & 1)))
		goto allowed;
	uint32_t ec = walk_check_rights(m, acc, e->rights, e->pkey);
	if (ec) {
		/* Rights come from the TLB entry, stale or not (§4.10.2.3); the
		 * fault then invalidates it, so a retry walks afresh. */
		return walk_fault(m, la, acc, VEC_PF, ec, x);
	}
	if (!((m->perm_fast[acc] >> e->rights) & 1)) {
		/* A write through an entry with D = 0: walk to set D (§4.8). */
		m->stats.dirty_assists++;
		walk_drop_page(m, (acc & ACC_KIND_MASK) == ACC_FETCH ? TLB_L1I : TLB_L1D, la);
		walk_drop_page(m, TLB_L2, la);
		return walk_translate(m, la, acc, x);
	}
allowed:;
	uint64_t pa = tlb_entry_pa(e, la);
	if (t->level == TLB_L2) {
		enum mmu_tlb_level l1 = (acc & ACC_KIND_MASK) == ACC_FETCH ? TLB_L1I : TLB_L1D;
		walk_fill_level(m, l1, la, pa, (enum mmu_page_size)e->size,
				(enum mmu_page_size)e->orig_size, e->pcid, e->rights, e->pkey);
	}
	return walk_success(m, la, acc, pa, t->level == TLB_L2 ? SRC_L2 : SRC_L1,
			    (enum mmu_page_size)e->size, x);
}

/* probed0: the inline fast path has already probed the first L1 structure
 * for its smallest page size and found nothing. */
bool walk_slow_path(struct mmu *m, uint64_t la, unsigned acc, bool probed0, struct mmu_xlate *x)
{
	unsigned kind = acc & ACC_KIND_MASK;
	x->cycles = 0;
	x->walk_reads = 0;
	x->pwc_level = 0;
	x->source = SRC_NOPAGING;
	x->size = PG_4K;
	m->stats.translations++;
	if (m->mode == PAGING_NONE)
		return walk_success(m, la, acc, la & UINT64_C(0xffffffff), SRC_NOPAGING, PG_4K, x);
	if (m->mode >= PAGING_4LEVEL && !mmu_canonical(m, la))
		return walk_fault(m, la, acc, VEC_GP, 0, x);
	if (m->mode < PAGING_4LEVEL)
		la &= UINT64_C(0xffffffff);
	enum mmu_tlb_level l1 = kind == ACC_FETCH ? TLB_L1I : TLB_L1D;
	for (unsigned i = 0; i < m->ntlb[l1]; i++) {
		struct tlb *t = &m->tlb[l1][i];
		struct tlb_entry *e = tlb_lookup_from(t, la, m->pcid, probed0 && i == 0 ? t->size0 + 1 : 0);
		if (e)
			return walk_tlb_hit(m, la, acc, t, e, x);
	}
	for (unsigned i = 0; i < m->ntlb[TLB_L2]; i++) {
		struct tlb_entry *e = tlb_lookup(&m->tlb[TLB_L2][i], la, m->pcid);
		if (e)
			return walk_tlb_hit(m, la, acc, &m->tlb[TLB_L2][i], e, x);
	}
	return walk_translate(m, la, acc, x);
}

/* The counts, LRU update and cost of a hit in L1 structure t after the
 * level's first structure t0 missed, as walk_tlb_hit counts them. */
static inline void walk_count_later_l1_hit(struct mmu *m, struct tlb *t0, struct tlb *t,
					   struct tlb_entry *e)
{
	t0->st.misses++;
	t->st.hits++;
	e->lru = ++t->clock;
	m->stats.translations++;
	m->stats.cycles += t->latency;
}

bool mmu_translate_second_hit(struct mmu *m, struct tlb *t, struct tlb_entry *e, uint64_t la,
			      struct mmu_xlate *x)
{
	x->pa = e->pa | (la & t->offset_mask);
	x->meta = t->hit_meta;
	walk_count_later_l1_hit(m, t - 1, t, e);
	return true;
}

/* An L1 hit in the first or second structure's smallest size, under
 * IA-32e paging without protection keys, that perm_fast allows: what
 * walk_slow_path would do for it (the same counts, LRU update, cycles and
 * observer call), without its general set-up. Returns false, having
 * changed nothing, for anything else. The first structure must hold
 * entries of its smallest size only, so that the size0 probe is its whole
 * lookup; a hit implies a canonical la once bits 63:59 agree (see
 * mmu_translate_miss). */
static bool translate_observed_hit(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x)
{
	enum mmu_tlb_level l1 = (acc & ACC_KIND_MASK) == ACC_FETCH ? TLB_L1I : TLB_L1D;
	struct tlb *t0 = &m->tlb[l1][0];
	if (m->mode < PAGING_4LEVEL || m->pk_active || (t0->live & ~PG_SIZE_BIT(t0->size0)) ||
	    (uint64_t)(((int64_t)la >> 59) + 1) > 1)
		return false;
	unsigned n = m->ntlb[l1] < 2 ? m->ntlb[l1] : 2;
	for (unsigned i = 0; i < n; i++) {
		struct tlb *t = &m->tlb[l1][i];
		struct tlb_entry *e = tlb_probe_size0(t, la);
		if (!e)
			continue;
		if (!((m->perm_fast[acc] >> e->rights) & 1))
			return false;
		if (i == 1) {
			(void)mmu_translate_second_hit(m, t, e, la, x);
			walk_notify_access(m, la, acc, x);
			return true;
		}
		m->stats.translations++;
		t->st.hits++;
		e->lru = ++t->clock;
		x->meta = t->hit_meta; /* latency, SRC_L1, size0, no walk reads */
		return walk_success(m, la, acc, e->pa | (la & t->offset_mask), SRC_L1,
				    (enum mmu_page_size)t->size0, x);
	}
	return false;
}

bool mmu_translate_slow(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x)
{
	/* With an observer of every access the inline path is off; its
	 * common case, an L1 hit, is served first. */
	if (translate_observed_hit(m, la, acc, x))
		return true;
	return walk_slow_path(m, la, acc, false, x);
}

/* A hit in L1 structure t (not the first) after the inline path missed
 * the first: served with the same checks, counts and cost as walk_tlb_hit
 * gives it, without the general path's set-up. The inline path runs only
 * with paging on, no observer and no protection keys, so perm_fast
 * decides; an access it does not allow takes the generic path. */
bool walk_l1_other_hit(struct mmu *m, uint64_t la, unsigned acc, struct tlb *t,
		       struct tlb_entry *e, struct mmu_xlate *x)
{
	enum mmu_tlb_level l1 = (acc & ACC_KIND_MASK) == ACC_FETCH ? TLB_L1I : TLB_L1D;
	if (!((m->perm_fast[acc] >> e->rights) & 1))
		return walk_slow_path(m, la, acc, true, x);
	x->pa = tlb_entry_pa(e, la);
	x->meta = mmu_xlate_l1_meta(t->latency, e->size);
	walk_count_later_l1_hit(m, &m->tlb[l1][0], t, e);
	return true;
}

bool walk_miss_rest(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x)
{
	enum mmu_tlb_level l1 = (acc & ACC_KIND_MASK) == ACC_FETCH ? TLB_L1I : TLB_L1D;
	if (m->mode < PAGING_4LEVEL)
		la &= UINT64_C(0xffffffff);
	else if (!mmu_canonical(m, la))
		return walk_slow_path(m, la, acc, true, x);
	struct tlb *t;
	struct tlb_entry *e = walk_probe_later_l1(m, l1, la, &t);
	if (e)
		return walk_l1_other_hit(m, la, acc, t, e, x);
	return walk_slow_path(m, la, acc, true, x);
}

/* ---- side-effect-free translation ---------------------------------------- */

static int debug_tlb_level(const struct mmu *m, uint64_t la, unsigned acc)
{
	enum mmu_tlb_level order[2] = {(acc & ACC_KIND_MASK) == ACC_FETCH ? TLB_L1I : TLB_L1D, TLB_L2};
	for (unsigned o = 0; o < 2; o++)
		for (unsigned i = 0; i < m->ntlb[order[o]]; i++)
			if (tlb_probe(&m->tlb[order[o]][i], la, m->pcid))
				return (int)order[o];
	return -1;
}

static int debug_pwc_level(const struct mmu *m, uint64_t la)
{
	unsigned top = paging_top_level(m->mode);
	for (unsigned l = 2; l <= top; l++) {
		if (m->mode == PAGING_PAE && l == 3)
			break;
		if (pwc_probe(&m->pwc[paging_pwc_kind(l)], la, paging_shift(m->mode, l), m->pcid))
			return (int)l;
	}
	return 0;
}

bool mmu_debug_translate(const struct mmu *m, uint64_t la, unsigned acc, struct mmu_debug_walk *dw)
{
	memset(dw, 0, sizeof *dw);
	dw->mode = m->mode;
	dw->tlb_level_now = -1;
	if (m->mode == PAGING_NONE) {
		dw->ok = true;
		dw->pa = la & UINT64_C(0xffffffff);
		return true;
	}
	if (m->mode >= PAGING_4LEVEL && !mmu_canonical(m, la)) {
		mmu_fault_set(&dw->fault, VEC_GP, true, 0);
		return false;
	}
	if (m->mode < PAGING_4LEVEL)
		la &= UINT64_C(0xffffffff);
	struct walk_rec w;
	walk_run(m, la, paging_top_level(m->mode), walk_root(m), RIGHTS_ALL, &w);
	dw->nlevels = w.n;
	for (unsigned i = 0; i < w.n; i++) {
		dw->lv[i].level = w.lv[i].level;
		dw->lv[i].entry_pa = w.lv[i].pa;
		dw->lv[i].entry = w.lv[i].val;
		dw->lv[i].cache_now = m->model.walk_timing == WALK_TIMING_FLAT
					      ? CACHE_DRAM
					      : (uint8_t)cache_probe(&m->dcache, w.lv[i].pa);
	}
	dw->tlb_level_now = debug_tlb_level(m, la, acc);
	dw->pwc_level_now = debug_pwc_level(m, la);
	uint32_t ec = w.found ? walk_check_rights(m, acc, w.rights, w.pkey)
			      : (w.pfec | walk_pfec_access(m, acc));
	/* A not-present fault can have error code 0 (a supervisor read). */
	if (!w.found || ec) {
		mmu_fault_set(&dw->fault, VEC_PF, true, ec);
		dw->fault.cr2 = la;
		return false;
	}
	dw->ok = true;
	dw->pa = w.pa;
	dw->size = (uint8_t)w.size;
	dw->rights = w.rights;
	dw->pkey = w.pkey;
	return true;
}

/* ---- linear reads and writes ---------------------------------------------- */

static bool linear_copy(struct mmu *m, uint64_t la, uint8_t *buf, size_t len, unsigned acc,
			bool write, struct mmu_fault *f)
{
	while (len) {
		size_t chunk = PHYS_FRAME_SIZE - (la & (PHYS_FRAME_SIZE - 1));
		if (chunk > len)
			chunk = len;
		struct mmu_xlate x;
		if (!mmu_translate(m, la, acc, &x)) {
			*f = x.fault;
			return false;
		}
		if (write)
			phys_write_bytes(&m->phys, x.pa, buf, chunk);
		else
			phys_read_bytes(&m->phys, x.pa, buf, chunk);
		la += chunk;
		buf += chunk;
		len -= chunk;
	}
	return true;
}

bool mmu_read_linear(struct mmu *m, uint64_t la, void *buf, size_t len, unsigned acc,
		     struct mmu_fault *f)
{
	return linear_copy(m, la, buf, len, (acc & ~ACC_KIND_MASK) | ACC_READ, false, f);
}

bool mmu_write_linear(struct mmu *m, uint64_t la, const void *buf, size_t len, unsigned acc,
		      struct mmu_fault *f)
{
	return linear_copy(m, la, (uint8_t *)(uintptr_t)buf, len, (acc & ~ACC_KIND_MASK) | ACC_WRITE,
			   true, f);
}
