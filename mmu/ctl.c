/* Control state: lifetime, derived tables, MOV to CR0/CR3/CR4, WRMSR
 * IA32_EFER, and the TLB/PWC invalidation rules of SDM Vol. 3A §4.10.4.
 */
#include "mmu/mmu.h"
#include "mmu/mmu_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- derived state -------------------------------------------------------- */

static enum mmu_paging_mode ctl_paging_mode(const struct mmu *m)
{
	if (!(m->cr0 & CR0_PG))
		return PAGING_NONE;
	if (!(m->cr4 & CR4_PAE))
		return PAGING_32;
	if (!(m->efer & EFER_LMA))
		return PAGING_PAE;
	return (m->cr4 & CR4_LA57) ? PAGING_5LEVEL : PAGING_4LEVEL;
}

/* Is an access with context acc allowed to a page with rights r?
 * SDM Vol. 3A §4.6.1 ("Determination of Access Rights"). Protection keys
 * are checked separately (they depend on the page's key). TLB_R_EXEC
 * already folds in whether XD is in effect (set at fill time). */
static bool ctl_rights_allow(const struct mmu *m, unsigned acc, unsigned r)
{
	unsigned kind = acc & ACC_KIND_MASK;
	bool user_page = r & TLB_R_USER, writable = r & TLB_R_WRITE, exec = r & TLB_R_EXEC;
	if (acc & ACC_USER) {
		/* User-mode accesses: user-mode addresses only. */
		if (!user_page)
			return false;
		return kind == ACC_READ || (kind == ACC_WRITE ? writable : exec);
	}
	/* Supervisor-mode accesses. SMAP: data accesses to user-mode addresses
	 * are allowed only for explicit accesses with RFLAGS.AC = 1. */
	bool smap_blocks = user_page && (m->cr4 & CR4_SMAP) && !(acc & ACC_AC);
	switch (kind) {
	case ACC_READ:
		return !smap_blocks;
	case ACC_WRITE:
		return !smap_blocks && (writable || !(m->cr0 & CR0_WP));
	default: /* fetch: SMEP forbids user-mode addresses */
		if (user_page && (m->cr4 & CR4_SMEP))
			return false;
		return exec;
	}
}

static void ctl_perm_tables(struct mmu *m)
{
	for (unsigned acc = 0; acc < ACC_CONTEXTS; acc++) {
		uint16_t ok = 0, fast = 0;
		for (unsigned r = 0; r < TLB_RIGHTS_COMBOS; r++) {
			if (!ctl_rights_allow(m, acc, r))
				continue;
			ok |= (uint16_t)(1u << r);
			/* A write through an entry cached with D = 0 must go back
			 * to the paging structures to set D (§4.8). */
			if ((acc & ACC_KIND_MASK) != ACC_WRITE || (r & TLB_R_DIRTY))
				fast |= (uint16_t)(1u << r);
		}
		m->perm_ok[acc] = ok;
		m->perm_fast[acc] = fast;
	}
}

static uint64_t bits_range(unsigned hi, unsigned lo)
{
	if (hi < lo)
		return 0;
	uint64_t top = hi >= 63 ? ~UINT64_C(0) : (BIT64(hi + 1) - 1);
	return top & ~(BIT64(lo) - 1);
}

/* Reserved bits per level (SDM Vol. 3A Tables 4-4 … 4-20, §4.3–§4.5). */
static void ctl_reserved_masks(struct mmu *m)
{
	unsigned maxpa = m->model.maxphyaddr;
	memset(m->rsvd_table, 0, sizeof m->rsvd_table);
	memset(m->rsvd_leaf, 0, sizeof m->rsvd_leaf);
	memset(m->rsvd_ps, 0, sizeof m->rsvd_ps);
	m->addr_mask = bits_range(maxpa - 1, 12);
	uint64_t xd = (m->efer & EFER_NXE) ? 0 : PTE_XD;
	switch (m->mode) {
	case PAGING_32: {
		/* Only a 4-MByte PDE has reserved bits: bit 21 and the PSE-36
		 * address bits above min(MAXPHYADDR, 40). */
		unsigned m40 = maxpa < 40 ? maxpa : 40;
		m->rsvd_leaf[2] = PDE32_4M_RSVD21 | bits_range(20, PDE32_4M_HIGH_SHIFT + (m40 - 32));
		break;
	}
	case PAGING_PAE: {
		/* Tables 4-8…4-11: bits 62:M reserved; a 2-MByte PDE also
		 * 20:13 (bit 12 is PAT). */
		uint64_t hi = bits_range(62, maxpa) | xd;
		m->rsvd_table[2] = m->rsvd_table[1] = hi;
		m->rsvd_leaf[2] = hi | bits_range(20, 13);
		break;
	}
	case PAGING_4LEVEL:
	case PAGING_5LEVEL: {
		/* Tables 4-14…4-20: bits 51:M reserved (62:52 ignored); PS
		 * reserved in PML5Es and PML4Es; a 1-GByte PDPTE also 29:13, a
		 * 2-MByte PDE 20:13 (bit 12 is PAT). */
		uint64_t hi = bits_range(51, maxpa) | xd;
		for (unsigned l = 1; l <= 5; l++)
			m->rsvd_table[l] = hi;
		m->rsvd_table[4] |= PTE_PS;
		m->rsvd_table[5] |= PTE_PS;
		m->rsvd_leaf[3] = hi | bits_range(29, 13);
		m->rsvd_leaf[2] = hi | bits_range(20, 13);
		for (unsigned l = 1; l <= 5; l++)
			m->rsvd_ps[l] = l == 2 || l == 3 ? m->rsvd_leaf[l] : m->rsvd_table[l];
		break;
	}
	case PAGING_NONE:
		break;
	}
}

static void ctl_recompute(struct mmu *m)
{
	m->mode = ctl_paging_mode(m);
	m->pcid = (m->cr4 & CR4_PCIDE) ? (uint16_t)(m->cr3 & CR3_PCID_MASK) : 0;
	m->pk_active = (m->cr4 & CR4_PKE) && (m->efer & EFER_LMA) && m->mode >= PAGING_4LEVEL;
	/* An observer of every access needs the slow path, which reports
	 * them; an inline hit has no other event, so observers without an
	 * access callback (a trace replay) keep the fast path. */
	m->fast_off = m->mode == PAGING_NONE || m->pk_active || (m->obs && m->obs->access);
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < m->ntlb[l]; i++)
			tlb_set_pcid(&m->tlb[l][i], m->pcid);
	ctl_perm_tables(m);
	ctl_reserved_masks(m);
}

void mmu_set_observer(struct mmu *m, const struct mmu_observer *obs)
{
	m->obs = obs;
	ctl_recompute(m);
}

/* ---- invalidation --------------------------------------------------------- */

static void ctl_notify_flush(struct mmu *m, enum mmu_flush_kind k, uint64_t arg, unsigned n)
{
	m->stats.flushes++;
	if (MMU_UNLIKELY(m->obs && m->obs->flush))
		m->obs->flush(m->obs->ctx, k, arg, n);
}

static unsigned ctl_tlb_invalidate(struct mmu *m, enum tlb_inv_scope scope, uint16_t pcid)
{
	unsigned n = 0;
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < m->ntlb[l]; i++)
			n += tlb_invalidate(&m->tlb[l][i], scope, pcid);
	return n;
}

static unsigned ctl_pwc_invalidate(struct mmu *m, bool all, uint16_t pcid)
{
	unsigned n = 0;
	for (unsigned k = 0; k < PWC_NKINDS; k++)
		n += all ? pwc_invalidate_all(&m->pwc[k]) : pwc_invalidate_pcid(&m->pwc[k], pcid);
	return n;
}

/* Everything, global entries and all PCIDs included. */
static unsigned ctl_flush_everything(struct mmu *m)
{
	return ctl_tlb_invalidate(m, TLB_INV_ALL, 0) + ctl_pwc_invalidate(m, true, 0);
}

/* Entries that would be used for la under the current PCID, global ones too,
 * and all PWC entries of the current PCID (INVLPG, and #PF, §4.10.4.1). */
unsigned mmu_invalidate_addr(struct mmu *m, uint64_t la, uint16_t pcid, bool with_global)
{
	unsigned n = 0;
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < m->ntlb[l]; i++)
			n += tlb_invalidate_addr(&m->tlb[l][i], la, pcid, with_global);
	return n + ctl_pwc_invalidate(m, false, pcid);
}

static void ctl_flush_all(struct mmu *m)
{
	unsigned n = ctl_flush_everything(m);
	cache_flush(&m->dcache);
	ctl_notify_flush(m, FLUSH_API, 0, n);
}

/* ---- lifetime ------------------------------------------------------------- */

bool mmu_init(struct mmu *m, const struct mmu_model *model, uint64_t ram_size, char *err,
	      size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->model = *model;
	if (!phys_init(&m->phys, ram_size, err, errlen))
		return false;
	bool ok = cache_init(&m->dcache, model, ram_size);
	for (unsigned l = 0; l < TLB_NLEVELS && ok; l++) {
		m->ntlb[l] = model->ntlb[l];
		for (unsigned i = 0; i < model->ntlb[l] && ok; i++) {
			ok = tlb_init(&m->tlb[l][i], &model->tlb[l][i], (enum mmu_tlb_level)l);
			m->tlb[l][i].has_next = i + 1 < model->ntlb[l];
			m->tlb[l][i].track_regions = i == 0 && l != TLB_L2;
		}
	}
	for (unsigned k = 0; k < PWC_NKINDS && ok; k++)
		ok = pwc_init(&m->pwc[k], &model->pwc[k]);
	for (unsigned i = 0; i < model->ntlb[TLB_L2]; i++)
		if (model->tlb[TLB_L2][i].latency > m->l2_miss_latency)
			m->l2_miss_latency = model->tlb[TLB_L2][i].latency;
	if (!ok) {
		mmu_free(m);
		snprintf(err, errlen, "model '%s': bad geometry or out of memory", model->name);
		return false;
	}
	walk_plan_fills(m);
	/* Cacheable is RAM (cache.h); one bound covers both tests. */
	uint64_t ram_cached = m->phys.size < m->dcache.cacheable ? m->phys.size : m->dcache.cacheable;
	if (model->walk_timing == WALK_TIMING_CACHED && m->dcache.nlevels &&
	    ram_cached >= PAGING64_ENTRY_BYTES)
		m->walk_read_limit = ram_cached - (PAGING64_ENTRY_BYTES - 1);
	seg_reset(&m->seg);
	mmu_set_control(m, CR0_ET, 0, 0, 0);
	return true;
}

void mmu_free(struct mmu *m)
{
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < MMU_MAX_TLBS_PER_LEVEL; i++)
			tlb_free(&m->tlb[l][i]);
	for (unsigned k = 0; k < PWC_NKINDS; k++)
		pwc_free(&m->pwc[k]);
	cache_free(&m->dcache);
	phys_free(&m->phys);
}

/* ---- PAE PDPTE registers (SDM Vol. 3A §4.4.1) ----------------------------- */

/* Table 4-8: a present PAE PDPTE reserves bits 2:1, 8:5 and 63:M. */
#define PDPTE_RSVD_LOW (bits_range(2, 1) | bits_range(8, 5))

static bool ctl_load_pdptes(struct mmu *m, uint64_t cr3, uint64_t pdpte[4])
{
	uint64_t base = cr3 & CR3_PAE_PDPT_MASK;
	uint64_t rsvd = PDPTE_RSVD_LOW | bits_range(63, m->model.maxphyaddr);
	for (unsigned i = 0; i < 4; i++) {
		pdpte[i] = phys_read(&m->phys, base + 8 * i, 8);
		if ((pdpte[i] & PTE_P) && (pdpte[i] & rsvd))
			return false;
	}
	return true;
}

static void ctl_set_control(struct mmu *m, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	m->cr0 = cr0;
	m->cr3 = cr3;
	m->cr4 = cr4;
	m->efer = efer;
	ctl_recompute(m);
	if (m->mode == PAGING_PAE && !ctl_load_pdptes(m, cr3, m->pdpte))
		memset(m->pdpte, 0, sizeof m->pdpte); /* reserved bits: treat as not present */
	unsigned n = ctl_flush_everything(m);
	cache_flush(&m->dcache);
	ctl_notify_flush(m, FLUSH_API, 0, n);
}

static bool ctl_gp0(struct mmu_fault *f)
{
	mmu_fault_set(f, VEC_GP, true, 0);
	return false;
}

/* ---- MOV to CR0 (SDM Vol. 2 "MOV—Move to/from Control Registers",
 * Vol. 3A §2.5, §4.1.1, §4.10.4.1) ---------------------------------------- */

#define CR0_DEFINED (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
		     CR0_NW | CR0_CD | CR0_PG)
#define PDPTE_RELOAD_CR0 (CR0_CD | CR0_NW | CR0_PG)
#define PDPTE_RELOAD_CR4 (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)

/* Apply new CR0/CR4 values, reloading PAE PDPTEs when §4.4.1 says so. */
static bool ctl_apply(struct mmu *m, uint64_t cr0, uint64_t cr4, bool reload, struct mmu_fault *f)
{
	uint64_t pdpte[4];
	bool pae_after = (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(m->efer & EFER_LME);
	if (pae_after && reload && !ctl_load_pdptes(m, m->cr3, pdpte))
		return ctl_gp0(f);
	if (pae_after && reload)
		memcpy(m->pdpte, pdpte, sizeof pdpte);
	m->cr0 = cr0;
	m->cr4 = cr4;
	/* IA32_EFER.LMA = CR0.PG && IA32_EFER.LME (§9.8.5). */
	if ((cr0 & CR0_PG) && (m->efer & EFER_LME))
		m->efer |= EFER_LMA;
	else
		m->efer &= ~EFER_LMA;
	ctl_recompute(m);
	return true;
}

static bool ctl_write_cr0(struct mmu *m, uint64_t v, struct mmu_fault *f)
{
	if (v >> 32)
		return ctl_gp0(f);
	v = (v & CR0_DEFINED) | CR0_ET;
	uint64_t old = m->cr0;
	bool in_64bit = (m->efer & EFER_LMA) && m->seg.sr[SEG_CS].l;
	if ((v & CR0_PG) && !(v & CR0_PE))
		return ctl_gp0(f);
	if ((v & CR0_NW) && !(v & CR0_CD))
		return ctl_gp0(f);
	if ((old & CR0_PG) && !(v & CR0_PG) && (in_64bit || (m->cr4 & CR4_PCIDE)))
		return ctl_gp0(f);
	if (!(old & CR0_PG) && (v & CR0_PG) && (m->efer & EFER_LME) && !(m->cr4 & CR4_PAE))
		return ctl_gp0(f);
	if (!ctl_apply(m, v, m->cr4, (old ^ v) & PDPTE_RELOAD_CR0, f))
		return false;
	if ((old & CR0_PG) && !(v & CR0_PG))
		ctl_notify_flush(m, FLUSH_CR0, v, ctl_flush_everything(m));
	return true;
}

/* ---- MOV to CR4 ----------------------------------------------------------- */

#define CR4_SUPPORTED (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | \
		       CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_LA57 | CR4_FSGSBASE | \
		       CR4_PCIDE | CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | CR4_PKE)

static bool ctl_write_cr4(struct mmu *m, uint64_t v, struct mmu_fault *f)
{
	uint64_t old = m->cr4, changed = old ^ v;
	bool lma = m->efer & EFER_LMA;
	if (v & ~CR4_SUPPORTED)
		return ctl_gp0(f);
	if (lma && !(v & CR4_PAE))
		return ctl_gp0(f); /* cannot leave IA-32e mode this way (§4.1.2) */
	if (lma && (changed & CR4_LA57))
		return ctl_gp0(f);
	if ((v & CR4_PCIDE) && !(old & CR4_PCIDE) && (!lma || (m->cr3 & CR3_PCID_MASK)))
		return ctl_gp0(f); /* §4.10.1 */
	uint16_t old_pcid = m->pcid;
	if (!ctl_apply(m, m->cr0, v, changed & PDPTE_RELOAD_CR4, f))
		return false;
	/* §4.10.4.1, MOV to CR4. */
	if ((changed & CR4_PGE) || ((old & CR4_PCIDE) && !(v & CR4_PCIDE))) {
		ctl_notify_flush(m, FLUSH_CR4, v, ctl_flush_everything(m));
	} else if ((changed & CR4_PAE) || ((v & CR4_SMEP) && !(old & CR4_SMEP))) {
		unsigned n = ctl_tlb_invalidate(m, TLB_INV_PCID_NONGLOBAL, old_pcid) +
			     ctl_pwc_invalidate(m, false, old_pcid);
		ctl_notify_flush(m, FLUSH_CR4, v, n);
	}
	return true;
}

/* ---- MOV to CR3 ----------------------------------------------------------- */

static bool ctl_write_cr3(struct mmu *m, uint64_t v, struct mmu_fault *f)
{
	bool lma = m->efer & EFER_LMA;
	bool noflush = lma && (m->cr4 & CR4_PCIDE) && (v & CR3_NOFLUSH);
	if (lma)
		v &= ~CR3_NOFLUSH;
	else
		v &= UINT64_C(0xffffffff);
	/* CR3 bits 62:M are reserved in IA-32e mode (Table 4-12). */
	if (lma && (v & bits_range(62, m->model.maxphyaddr)))
		return ctl_gp0(f);
	if (m->mode == PAGING_PAE) {
		uint64_t pdpte[4];
		if (!ctl_load_pdptes(m, v, pdpte))
			return ctl_gp0(f);
		memcpy(m->pdpte, pdpte, sizeof pdpte);
	}
	m->cr3 = v;
	ctl_recompute(m);
	if (!noflush) {
		unsigned n = ctl_tlb_invalidate(m, TLB_INV_PCID_NONGLOBAL, m->pcid) +
			     ctl_pwc_invalidate(m, false, m->pcid);
		ctl_notify_flush(m, FLUSH_CR3, v, n);
	}
	return true;
}

/* ---- WRMSR IA32_EFER (SDM Vol. 3A §2.2.1, §9.8.5) ------------------------- */

static bool ctl_write_efer(struct mmu *m, uint64_t v, struct mmu_fault *f)
{
	if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return ctl_gp0(f);
	if ((m->cr0 & CR0_PG) && ((v ^ m->efer) & EFER_LME))
		return ctl_gp0(f);
	uint64_t changed = (v ^ m->efer) & EFER_NXE;
	m->efer = (v & ~EFER_LMA) | (m->efer & EFER_LMA); /* LMA is read-only */
	ctl_recompute(m);
	/* TLB entries fold XD into their rights; a change of NXE drops them
	 * (the processor may always invalidate more, §4.10.4.3). */
	if (changed)
		ctl_notify_flush(m, FLUSH_API, v, ctl_flush_everything(m));
	return true;
}

static void ctl_write_pkru(struct mmu *m, uint32_t v)
{
	m->pkru = v;
}

/* ---- INVLPG and INVPCID (SDM Vol. 3A §4.10.4.1, Vol. 2 INVLPG, INVPCID) -- */

static bool ctl_invlpg(struct mmu *m, uint64_t la, struct mmu_fault *f)
{
	(void)f;
	if ((m->efer & EFER_LMA) && !mmu_canonical(m, la))
		return true; /* a non-canonical INVLPG is a no-op */
	if (!(m->efer & EFER_LMA))
		la &= UINT64_C(0xffffffff);
	ctl_notify_flush(m, FLUSH_INVLPG, la, mmu_invalidate_addr(m, la, m->pcid, true));
	return true;
}

static bool ctl_invpcid(struct mmu *m, uint64_t type, uint64_t pcid, uint64_t la,
			struct mmu_fault *f)
{
	if (type > INVPCID_ALL_NONGLOBAL)
		return ctl_gp0(f);
	bool per_pcid = type == INVPCID_ADDR || type == INVPCID_SINGLE;
	if (per_pcid && (pcid > CR3_PCID_MASK || (!(m->cr4 & CR4_PCIDE) && pcid != 0)))
		return ctl_gp0(f);
	if (type == INVPCID_ADDR && !mmu_canonical(m, la))
		return ctl_gp0(f);
	unsigned n = 0;
	switch (type) {
	case INVPCID_ADDR: /* not global translations (§4.10.4.1) */
		n = mmu_invalidate_addr(m, la, (uint16_t)pcid, false);
		break;
	case INVPCID_SINGLE:
		n = ctl_tlb_invalidate(m, TLB_INV_PCID_NONGLOBAL, (uint16_t)pcid) +
		    ctl_pwc_invalidate(m, false, (uint16_t)pcid);
		break;
	case INVPCID_ALL_GLOBAL:
		n = ctl_flush_everything(m);
		break;
	default:
		n = ctl_tlb_invalidate(m, TLB_INV_NONGLOBAL, 0) + ctl_pwc_invalidate(m, true, 0);
		break;
	}
	ctl_notify_flush(m, FLUSH_INVPCID, type, n);
	return true;
}

/* ---- public entry points: run the operation, then tell the observer ----- */

static bool ctl_notify(struct mmu *m, enum mmu_ctl_op op, bool ok, uint64_t a0, uint64_t a1,
		       uint64_t a2, uint64_t a3)
{
	if (MMU_UNLIKELY(m->obs && m->obs->ctl)) {
		struct mmu_ctl_event e = {.op = op, .arg = {a0, a1, a2, a3}, .ok = ok};
		m->obs->ctl(m->obs->ctx, &e);
	}
	return ok;
}

void mmu_flush_all(struct mmu *m)
{
	ctl_flush_all(m);
	(void)ctl_notify(m, CTL_FLUSH_ALL, true, 0, 0, 0, 0);
}

void mmu_set_control(struct mmu *m, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	ctl_set_control(m, cr0, cr3, cr4, efer);
	(void)ctl_notify(m, CTL_SET_CONTROL, true, cr0, cr3, cr4, efer);
}

bool mmu_write_cr0(struct mmu *m, uint64_t v, struct mmu_fault *f)
{
	return ctl_notify(m, CTL_CR0, ctl_write_cr0(m, v, f), v, 0, 0, 0);
}

bool mmu_write_cr3(struct mmu *m, uint64_t v, struct mmu_fault *f)
{
	return ctl_notify(m, CTL_CR3, ctl_write_cr3(m, v, f), v, 0, 0, 0);
}

bool mmu_write_cr4(struct mmu *m, uint64_t v, struct mmu_fault *f)
{
	return ctl_notify(m, CTL_CR4, ctl_write_cr4(m, v, f), v, 0, 0, 0);
}

bool mmu_write_efer(struct mmu *m, uint64_t v, struct mmu_fault *f)
{
	return ctl_notify(m, CTL_EFER, ctl_write_efer(m, v, f), v, 0, 0, 0);
}

void mmu_write_pkru(struct mmu *m, uint32_t v)
{
	ctl_write_pkru(m, v);
	(void)ctl_notify(m, CTL_PKRU, true, v, 0, 0, 0);
}

bool mmu_invlpg(struct mmu *m, uint64_t la, struct mmu_fault *f)
{
	return ctl_notify(m, CTL_INVLPG, ctl_invlpg(m, la, f), la, 0, 0, 0);
}

bool mmu_invpcid(struct mmu *m, uint64_t type, uint64_t pcid, uint64_t la, struct mmu_fault *f)
{
	return ctl_notify(m, CTL_INVPCID, ctl_invpcid(m, type, pcid, la, f), type, pcid, la, 0);
}
