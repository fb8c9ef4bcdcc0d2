/* The page-table panel's model (ui/pgtree.h). Geometry per paging mode
 * from SDM Vol. 3A §4.3 (32-bit), §4.4 (PAE) and §4.5 (4- and 5-level). */
#include "ui/pgtree.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mmu/paging.h"

#define PGT_CR3_PAE_MASK UINT64_C(0xffffffe0) /* §4.4.1: the PDPT at CR3[31:5] */

struct pgt_geom {
	enum mmu_paging_mode mode;
	unsigned top, bytes;
};

static unsigned entries_at(const struct pgt_geom *g, unsigned level)
{
	if (g->mode == PAGING_32)
		return 1u << PAGING32_INDEX_BITS;
	if (g->mode == PAGING_PAE && level == 3)
		return 1u << PAE_PDPTE_INDEX_BITS;
	return 1u << PAGING64_INDEX_BITS;
}

static uint64_t top_table(enum mmu_paging_mode mode, uint64_t cr3)
{
	if (mode == PAGING_PAE)
		return cr3 & PGT_CR3_PAE_MASK;
	if (mode == PAGING_32)
		return cr3 & PTE32_FRAME_MASK;
	return cr3 & PGT_FRAME_MASK_64;
}

/* A leaf: level 1, or PS = 1 where the mode allows large pages (a PDE;
 * a PDPTE under IA-32e paging). */
static bool is_leaf(const struct pgt_geom *g, unsigned level, uint64_t e)
{
	if (level == 1)
		return true;
	bool ps_level = level == 2 || (level == 3 && g->top >= 4);
	return ps_level && (e & PTE_PS);
}

static uint64_t entry_target(const struct pgt_geom *g, unsigned level, uint64_t e, bool leaf)
{
	if (g->mode == PAGING_32)
		return leaf && level == 2 ? e & PDE32_4M_FRAME_MASK : e & PTE32_FRAME_MASK;
	uint64_t a = e & PGT_FRAME_MASK_64;
	if (leaf && level > 1)
		a &= ~((UINT64_C(1) << paging_shift(g->mode, level)) - 1); /* drop PAT (bit 12) */
	return a;
}

static bool read_entry(const struct snapshot *s, const struct pgt_geom *g, uint64_t table,
		       unsigned i, uint64_t *e)
{
	uint64_t v = 0;
	if (!snapshot_read_phys(s, table + (uint64_t)i * g->bytes, &v, g->bytes))
		return false;
	*e = v;
	return true;
}

static uint64_t canon(const struct pgt_geom *g, uint64_t va)
{
	return pgtree_canonical(g->mode, va);
}

uint64_t pgtree_canonical(enum mmu_paging_mode mode, uint64_t va)
{
	unsigned bits = mode == PAGING_5LEVEL ? 57 : mode == PAGING_4LEVEL ? 48 : 64;
	if (bits == 64)
		return va;
	return (uint64_t)((int64_t)(va << (64 - bits)) >> (64 - bits));
}

/* ---- rows ----------------------------------------------------------------- */

static bool is_expanded(const struct pgtree *t, uint64_t table)
{
	for (unsigned i = 0; i < t->nexp; i++)
		if (t->expanded[i] == table)
			return true;
	return false;
}

/* Whether the table at table_pa (of the given level) has no present entry.
 * A kernel may allocate tables ahead of use (Linux x86-64 gives every
 * top-level slot of its vmalloc window one at boot), so such runs are
 * common. */
static bool table_empty(const struct snapshot *s, const struct pgt_geom *g, uint64_t table_pa,
			unsigned level)
{
	unsigned n = entries_at(g, level);
	uint64_t e;
	for (unsigned i = 0; i < n; i++)
		if (!read_entry(s, g, table_pa, i, &e) || (e & PTE_P))
			return false;
	return true;
}

/* Whether e is a present non-leaf entry whose table is empty. */
static bool points_to_empty_table(const struct snapshot *s, const struct pgt_geom *g,
				  unsigned level, uint64_t e)
{
	return (e & PTE_P) && level > 1 && !is_leaf(g, level, e) &&
	       table_empty(s, g, entry_target(g, level, e, false), level - 1);
}

/* Entries i+1.. that continue a run of entries pointing at empty tables
 * with the flags of e0 (Accessed aside: the CPU sets it on any walk). */
static unsigned empty_run_end(const struct snapshot *s, const struct pgt_geom *g, uint64_t table,
			      unsigned level, unsigned i, uint64_t e0)
{
	unsigned n = entries_at(g, level), j = i + 1;
	uint64_t fmask = (g->mode == PAGING_32 ? PTE32_FRAME_MASK : PGT_FRAME_MASK_64) | PTE_A;
	for (uint64_t e; j < n && read_entry(s, g, table, j, &e); j++)
		if ((e & ~fmask) != (e0 & ~fmask) || !points_to_empty_table(s, g, level, e))
			break;
	return j - 1;
}

/* Entries i+1.. that continue the run started by entry e0 at i. */
static unsigned run_end(const struct snapshot *s, const struct pgt_geom *g, uint64_t table,
			unsigned level, unsigned i, uint64_t e0)
{
	unsigned n = entries_at(g, level), j = i + 1;
	bool leaf0 = (e0 & PTE_P) && is_leaf(g, level, e0);
	uint64_t size = UINT64_C(1) << paging_shift(g->mode, level);
	uint64_t t0 = entry_target(g, level, e0, leaf0);
	uint64_t fmask = g->mode == PAGING_32 ? PTE32_FRAME_MASK : PGT_FRAME_MASK_64;
	for (uint64_t e; j < n && read_entry(s, g, table, j, &e); j++) {
		if (!(e0 & PTE_P)) {
			if (e & PTE_P)
				break;
			continue;
		}
		if (!leaf0 || !(e & PTE_P) || !is_leaf(g, level, e) || (e & ~fmask) != (e0 & ~fmask) ||
		    entry_target(g, level, e, true) != t0 + (j - i) * size)
			break;
	}
	return j - 1;
}

static void add_rows(struct pgtree *t, const struct snapshot *s, const struct pgt_geom *g,
		     uint64_t table, unsigned level, uint64_t va_base, unsigned depth)
{
	unsigned n = entries_at(g, level);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e;
		if (!read_entry(s, g, table, i, &e))
			return;
		if (t->n >= PGT_MAX_ROWS) {
			t->truncated = true;
			return;
		}
		struct pgt_row *r = &t->row[t->n++];
		bool leaf = (e & PTE_P) && is_leaf(g, level, e);
		bool empty = !leaf && points_to_empty_table(s, g, level, e);
		unsigned last = empty ? empty_run_end(s, g, table, level, i, e)
			      : (e & PTE_P) && !leaf ? i : run_end(s, g, table, level, i, e);
		*r = (struct pgt_row){ .level = (uint8_t)level, .depth = (uint8_t)depth,
				       .present = e & PTE_P, .leaf = leaf, .empty = empty,
				       .first = (uint16_t)i,
				       .last = (uint16_t)last, .table_pa = table, .entry = e,
				       .va = canon(g, va_base + ((uint64_t)i << paging_shift(g->mode, level))),
				       .target = entry_target(g, level, e, leaf) };
		if (r->present && !leaf && level > 1 && is_expanded(t, r->target)) {
			r->expanded = true;
			add_rows(t, s, g, r->target, level - 1,
				 va_base + ((uint64_t)i << paging_shift(g->mode, level)), depth + 1);
		}
		i = last;
	}
}

void pgtree_init(struct pgtree *t)
{
	memset(t, 0, sizeof *t);
}

void pgtree_build(struct pgtree *t, const struct snapshot *s, uint64_t cr3,
		  enum mmu_paging_mode mode)
{
	struct pgt_geom g = { mode, paging_top_level(mode), paging_entry_bytes(mode) };
	t->n = 0;
	t->truncated = false;
	t->mode = mode;
	if (mode == PAGING_NONE)
		return;
	t->root = top_table(mode, cr3);
	add_rows(t, s, &g, t->root, g.top, 0, 0);
}

void pgtree_toggle(struct pgtree *t, const struct pgt_row *r)
{
	if (!r->present || r->leaf)
		return;
	for (unsigned i = 0; i < t->nexp; i++) {
		if (t->expanded[i] == r->target) {
			t->expanded[i] = t->expanded[--t->nexp];
			return;
		}
	}
	if (t->nexp < PGT_MAX_EXPANDED)
		t->expanded[t->nexp++] = r->target;
}

void pgtree_flags_text(uint64_t e, unsigned level, bool leaf, char *buf, size_t len)
{
	if (!(e & PTE_P)) {
		snprintf(buf, len, "not present");
		return;
	}
	snprintf(buf, len, "P %s %s%s%s%s%s%s%s", e & PTE_RW ? "RW" : "RO", e & PTE_US ? "U" : "S",
		 e & PTE_A ? " A" : "", leaf && (e & PTE_D) ? " D" : "", leaf && (e & PTE_G) ? " G" : "",
		 e & PTE_PCD ? " PCD" : "", e & PTE_XD ? " XD" : "", leaf && level > 1 ? " PS" : "");
}

const char *pgtree_level_name(enum mmu_paging_mode mode, unsigned level)
{
	static const char *const names64[] = { "?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };
	if (mode == PAGING_32)
		return level == 2 ? "PDE" : "PTE";
	return level <= 5 ? names64[level] : "?";
}

/* ---- every table ------------------------------------------------------------ */

struct pgt_visit {
	const struct snapshot *s;
	struct pgt_geom g;
	pgt_table_fn fn;
	void *ctx;
	unsigned calls;
};

static void visit_table(struct pgt_visit *v, uint64_t table, unsigned level)
{
	if (v->calls >= PGT_MAX_TABLES)
		return;
	v->calls++;
	v->fn(v->ctx, table, level);
	if (level == 1)
		return;
	unsigned n = entries_at(&v->g, level);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e;
		if (!read_entry(v->s, &v->g, table, i, &e))
			return;
		if ((e & PTE_P) && !is_leaf(&v->g, level, e))
			visit_table(v, entry_target(&v->g, level, e, false), level - 1);
	}
}

void pgtree_for_each_table(const struct snapshot *s, uint64_t cr3, enum mmu_paging_mode mode,
			   pgt_table_fn fn, void *ctx)
{
	if (mode == PAGING_NONE)
		return;
	struct pgt_visit v = { s, { mode, paging_top_level(mode), paging_entry_bytes(mode) }, fn, ctx, 0 };
	visit_table(&v, top_table(mode, cr3), v.g.top);
}

/* ---- one address's walk ------------------------------------------------------ */

static const char *cache_name(unsigned c)
{
	static const char *const n[] = { "L1D", "L2", "L3", "DRAM" };
	return c < 4 ? n[c] : "?";
}

unsigned pgtree_explain(const struct snapshot *s, uint64_t la, char (*lines)[96], unsigned max)
{
	struct mmu_debug_walk w;
	unsigned n = 0;
	if (!max)
		return 0;
	bool ok = snapshot_probe(s, la, mmu_acc(ACC_READ, 0, false, false), &w);
	snprintf(lines[n++], 96, "VA %#" PRIx64 ": TLB %s, PWC %s", la,
		 w.tlb_level_now >= 0 ? mmu_tlb_level_name((enum mmu_tlb_level)w.tlb_level_now) : "miss",
		 w.pwc_level_now ? pgtree_level_name(w.mode, (unsigned)w.pwc_level_now) : "miss");
	for (unsigned i = 0; i < w.nlevels && n < max; i++) {
		const struct mmu_debug_level *l = &w.lv[i];
		char fl[48];
		bool cached = w.pwc_level_now && l->level >= w.pwc_level_now;
		pgtree_flags_text(l->entry, l->level, i + 1 == w.nlevels && ok, fl, sizeof fl);
		snprintf(lines[n++], 96, "%-5s[%3" PRIu64 "] @%#" PRIx64 " = %016" PRIx64 " %s  %s",
			 pgtree_level_name(w.mode, l->level), paging_index(w.mode, la, l->level),
			 l->entry_pa, l->entry, fl, cached ? "(PWC)" : cache_name(l->cache_now));
	}
	if (n < max) {
		if (ok)
			snprintf(lines[n++], 96, "-> PA %#" PRIx64 " (%s page)", w.pa,
				 mmu_page_size_name((enum mmu_page_size)w.size));
		else
			snprintf(lines[n++], 96, "-> fault: vector %u, error code %#x", w.fault.vector,
				 w.fault.error_code);
	}
	return n;
}
