/* The paging permission matrix, checked case by case against the
 * independent reference in tests/ref_paging.c.
 *
 * Each case builds one mapping, sets the rights of every entry on its path,
 * loads control state with mmu_set_control() (which drops every TLB and
 * paging-structure-cache entry) and translates one access. mmu/ and the
 * reference must agree on the outcome, the error code, CR2, the physical
 * address, the entries the walk read (mmu_debug_translate) and the A/D
 * flags left in memory. The same access is then translated again (the TLB
 * hit path), and a read that succeeded is followed by a write to the same
 * clean page (the dirty-after-read-fill case).
 *
 * The matrix covers every combination of U/S, R/W and XD at each level for
 * 4K, 2M, 1G and 4M pages, CPL 0 and 3, reads, writes, fetches and implicit
 * supervisor-mode accesses, CR0.WP, CR4.SMEP, CR4.SMAP, RFLAGS.AC and
 * IA32_EFER.NXE (SDM Vol. 3A §4.6.1), in 32-bit, PAE, 4-level and 5-level
 * paging. Then protection keys (§4.6.2), reserved bits one position at a
 * time at every level (Tables 4-4 … 4-20), the PAE PDPTE registers (§4.4.1)
 * and canonical addresses.
 *
 * Every test ends by asserting how many cases it checked, so a loop that
 * silently skips cases fails.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/ptbuild.h"
#include "tests/ref_paging.h"

#define LAB_RAM (UINT64_C(32) << 20)
#define LAB_POOL UINT64_C(0x100000)
#define LAB_POOL_END UINT64_C(0x400000)

/* Rights of one entry in a case: bits of a small code. */
#define R_US 1u /* U/S = 1 */
#define R_RW 2u /* R/W = 1 */
#define R_XD 4u /* XD = 1 */
#define R_OPEN (R_US | R_RW)
#define PT_OPEN_FLAGS (PTE_P | PTE_RW | PTE_US)

/* ---- the lab: one machine, one mapping, the entries on its path ---------- */

struct lab_entry {
	unsigned level;
	uint64_t pa;
	uint64_t frame;  /* the entry as built, with P, R/W, U/S and PS cleared */
	bool has_rights; /* false for a PAE PDPTE: it has no R/W, U/S or XD */
	bool leaf;
};

struct lab {
	struct mmu m;
	struct mmu_model model;
	struct ptb pt;
	enum mmu_paging_mode mode;
	enum mmu_page_size size;
	uint64_t la, pa, offset; /* the mapped page, and where in it cases access */
	unsigned esize;
	unsigned n;              /* entries on the path, top level first */
	struct lab_entry e[5];
	struct ref_cpu cpu;      /* control state of the current case, for the reference */
	struct ref_mem mem;
};

/* A control-state combination. */
struct ctl {
	bool wp, smep, smap, nxe, pke, pse;
	uint32_t pkru;
};

/* An access as the instruction makes it. */
struct access {
	enum ref_kind kind;
	unsigned cpl;
	bool implicit;
	bool ac;
};

static unsigned top_level(enum mmu_paging_mode mode)
{
	switch (mode) {
	case PAGING_32:
		return 2;
	case PAGING_PAE:
		return 3;
	case PAGING_4LEVEL:
		return 4;
	case PAGING_5LEVEL:
		return 5;
	default:
		return 0;
	}
}

static unsigned leaf_level(enum mmu_page_size size)
{
	return size == PG_4K ? 1 : size == PG_1G ? 3 : 2;
}

static struct lab *lab_new(const char *model, unsigned maxphyaddr, enum mmu_paging_mode mode,
			   enum mmu_page_size size, uint64_t la, uint64_t pa, uint64_t offset)
{
	struct lab *l = calloc(1, sizeof *l);
	char err[256];
	cr_assert(l, "out of memory");
	cr_assert(mmu_model_resolve(&l->model, model, err, sizeof err), "%s", err);
	if (maxphyaddr)
		l->model.maxphyaddr = maxphyaddr;
	cr_assert(mmu_init(&l->m, &l->model, LAB_RAM, err, sizeof err), "%s", err);
#ifdef MMU_TEST_GENERIC_WALK
	l->m.walk_generic = true; /* test_perm_matrix_generic: no IA-32e fast path */
#endif
	cr_assert(ptb_init(&l->pt, &l->m.phys, mode, LAB_POOL, LAB_POOL_END));
	cr_assert(ptb_map(&l->pt, la, pa, size, PT_OPEN_FLAGS, PT_OPEN_FLAGS), "ptb_map %s %#llx -> %#llx",
		  mmu_page_size_name(size), (unsigned long long)la, (unsigned long long)pa);
	l->mode = mode;
	l->size = size;
	l->la = la;
	l->pa = pa;
	l->offset = offset;
	l->esize = mode == PAGING_32 ? 4 : 8;
	for (unsigned level = top_level(mode); level >= leaf_level(size); level--) {
		struct lab_entry *e = &l->e[l->n++];
		e->level = level;
		e->pa = ptb_entry_pa(&l->pt, la, level);
		cr_assert(e->pa, "no entry at level %u", level);
		e->frame = phys_read(&l->m.phys, e->pa, l->esize) & ~(PTE_P | PTE_RW | PTE_US | PTE_PS);
		e->has_rights = !(mode == PAGING_PAE && level == 3);
		e->leaf = level == leaf_level(size);
	}
	l->mem.ram = l->m.phys.ram;
	l->mem.size = l->m.phys.size;
	l->cpu.maxphyaddr = l->model.maxphyaddr;
	return l;
}

static void lab_free(struct lab *l)
{
	mmu_free(&l->m);
	free(l);
}

static uint64_t rights_flags(unsigned r)
{
	return ((r & R_US) ? PTE_US : 0) | ((r & R_RW) ? PTE_RW : 0) | ((r & R_XD) ? PTE_XD : 0);
}

/* Rewrite every entry on the path: present, with rights[i], the leaf with
 * leaf_extra (a protection key), then flip bit flip_bit of entry flip_at
 * (flip_at < 0: none). A/D flags start clear. */
static void lab_write_entries(struct lab *l, const unsigned rights[5], uint64_t leaf_extra,
			      int flip_at, unsigned flip_bit)
{
	for (unsigned i = 0; i < l->n; i++) {
		const struct lab_entry *e = &l->e[i];
		uint64_t v = e->frame | PTE_P;
		if (e->has_rights)
			v |= rights_flags(rights[i]);
		if (e->leaf && l->size != PG_4K)
			v |= PTE_PS;
		if (e->leaf)
			v |= leaf_extra;
		if ((int)i == flip_at)
			v ^= BIT64(flip_bit);
		phys_write(&l->m.phys, e->pa, v, l->esize);
	}
}

/* Load control state for the lab's mode: mmu_set_control (flushing every
 * TLB and PWC entry), PKRU, and the same state for the reference. */
static void lab_control(struct lab *l, const struct ctl *c)
{
	uint64_t cr0 = CR0_PE | CR0_ET | CR0_PG | (c->wp ? CR0_WP : 0);
	uint64_t cr4 = (c->smep ? CR4_SMEP : 0) | (c->smap ? CR4_SMAP : 0) | (c->pke ? CR4_PKE : 0) |
		       (c->pse ? CR4_PSE : 0);
	uint64_t efer = c->nxe ? EFER_NXE : 0;
	switch (l->mode) {
	case PAGING_PAE:
		cr4 |= CR4_PAE;
		break;
	case PAGING_5LEVEL:
		cr4 |= CR4_LA57;
		/* fall through */
	case PAGING_4LEVEL:
		cr4 |= CR4_PAE;
		efer |= EFER_LME | EFER_LMA;
		break;
	default:
		break;
	}
	uint64_t cr3 = ptb_cr3(&l->pt, 0);
	mmu_set_control(&l->m, cr0, cr3, cr4, efer);
	mmu_write_pkru(&l->m, c->pkru);
	l->cpu.cr0 = cr0;
	l->cpu.cr3 = cr3;
	l->cpu.cr4 = cr4;
	l->cpu.efer = efer;
	l->cpu.pkru = c->pkru;
	if (l->mode == PAGING_PAE)
		cr_assert(ref_load_pdptes(&l->mem, cr3, l->cpu.maxphyaddr, l->cpu.pdpte),
			  "PDPTEs of the lab's PDPT have reserved bits");
}

/* ---- the current case, for messages ------------------------------------- */

static struct {
	const char *layout;
	const struct lab *lab;
	unsigned rights[5];
	uint64_t leaf_extra;
	int flip_at;
	unsigned flip_bit;
	struct ctl ctl;
	struct access acc;
	uint64_t la; /* of the translation being checked */
} cur;

static const char *kind_name(enum ref_kind k)
{
	return k == REF_READ ? "read" : k == REF_WRITE ? "write" : "fetch";
}

static const char *entry_name(unsigned level)
{
	static const char *const names[] = {"?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
	return level <= 5 ? names[level] : "?";
}

__attribute__((format(printf, 4, 5))) static void appendf(char *buf, size_t len, size_t *n,
							  const char *fmt, ...)
{
	if (*n >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n += (size_t)k;
}

/* The whole case in words: layout, entries, control state, access. */
static const char *describe(void)
{
	static char buf[1024];
	size_t n = 0;
	const struct lab *l = cur.lab;
	appendf(buf, sizeof buf, &n, "%s (MAXPHYADDR %u) la=%#llx", cur.layout, l->model.maxphyaddr,
		(unsigned long long)cur.la);
	for (unsigned i = 0; i < l->n; i++) {
		const struct lab_entry *e = &l->e[i];
		if (!e->has_rights) {
			appendf(buf, sizeof buf, &n, " %s[register]", entry_name(e->level));
			continue;
		}
		unsigned r = cur.rights[i];
		appendf(buf, sizeof buf, &n, " %s%s[%s %s %s]", entry_name(e->level),
			e->leaf && l->size != PG_4K ? "(PS)" : "", (r & R_US) ? "U" : "S",
			(r & R_RW) ? "W" : "R", (r & R_XD) ? "XD" : "X");
	}
	if (cur.leaf_extra & PTE_PKEY_MASK)
		appendf(buf, sizeof buf, &n, " pkey=%u",
			(unsigned)((cur.leaf_extra & PTE_PKEY_MASK) >> PTE_PKEY_SHIFT));
	if (cur.flip_at >= 0)
		appendf(buf, sizeof buf, &n, " with bit %u of the %s flipped", cur.flip_bit,
			entry_name(l->e[cur.flip_at].level));
	const struct ctl *c = &cur.ctl;
	appendf(buf, sizeof buf, &n,
		" | CR0.WP=%d CR4.SMEP=%d CR4.SMAP=%d CR4.PKE=%d CR4.PSE=%d EFER.NXE=%d PKRU=%#x",
		c->wp, c->smep, c->smap, c->pke, c->pse, c->nxe, c->pkru);
	const struct access *a = &cur.acc;
	appendf(buf, sizeof buf, &n, " | CPL%u %s%s AC=%d", a->cpl,
		a->implicit ? "implicit-supervisor " : "", kind_name(a->kind), a->ac);
	return buf;
}

static const char *xlate_str(bool ok, const struct mmu_xlate *x, char *buf, size_t len)
{
	char ec[40];
	if (ok)
		snprintf(buf, len, "ok pa=%#llx", (unsigned long long)x->pa);
	else if (x->fault.vector == VEC_PF)
		snprintf(buf, len, "#PF ec=%#x (%s) cr2=%#llx", x->fault.error_code,
			 ref_error_code_str(x->fault.error_code, ec, sizeof ec),
			 (unsigned long long)x->fault.cr2);
	else
		snprintf(buf, len, "vector %u ec=%#x", x->fault.vector, x->fault.error_code);
	return buf;
}

/* ---- one access, compared ------------------------------------------------- */

static unsigned access_ctx(const struct access *a)
{
	enum mmu_access_kind k = a->kind == REF_READ ? ACC_READ : a->kind == REF_WRITE ? ACC_WRITE
										       : ACC_FETCH;
	return mmu_acc(k, a->cpl, a->implicit, a->ac);
}

struct checked {
	bool ok;
	struct mmu_xlate x;
	struct ref_result r;
};

static void check_outcome(bool ok, const struct mmu_xlate *x, const struct ref_result *r,
			  const char *step)
{
	bool same = false;
	switch (r->outcome) {
	case REF_OK:
		same = ok && x->pa == r->pa;
		break;
	case REF_PF:
		same = !ok && x->fault.vector == VEC_PF && x->fault.has_error_code &&
		       x->fault.error_code == r->error_code && x->fault.cr2 == r->cr2;
		break;
	case REF_GP:
		same = !ok && x->fault.vector == VEC_GP && x->fault.error_code == 0;
		break;
	}
	if (!same) {
		char ms[128], rs[128];
		cr_assert_fail("case: %s; step '%s': mmu_translate %s, reference %s", describe(), step,
			       xlate_str(ok, x, ms, sizeof ms), ref_result_str(r, rs, sizeof rs));
	}
}

/* mmu_debug_translate reads what the walker reads and must decide alike,
 * including not-present faults whose error code is 0. */

static void check_debug(const struct lab *l, uint64_t la, unsigned ctx, const struct ref_result *r,
			const char *step)
{
	struct mmu_debug_walk w;
	bool ok = mmu_debug_translate(&l->m, la, ctx, &w);
	bool same = ok == (r->outcome == REF_OK);
	if (same && ok)
		same = w.pa == r->pa && w.pkey == r->pkey &&
		       (r->nentries == 0 || mmu_page_shift((enum mmu_page_size)w.size) == r->page_shift);
	if (same && !ok)
		same = r->outcome == REF_PF ? w.fault.vector == VEC_PF &&
						      w.fault.error_code == r->error_code &&
						      w.fault.cr2 == r->cr2
					    : w.fault.vector == VEC_GP;
	same = same && w.nlevels == r->nentries;
	for (unsigned i = 0; same && i < r->nentries; i++)
		same = w.lv[i].level == r->entry[i].level && w.lv[i].entry_pa == r->entry[i].pa &&
		       w.lv[i].entry == r->entry[i].value;
	if (!same) {
		char rs[128];
		cr_assert_fail("case: %s; step '%s': mmu_debug_translate %s (%u entries, pa %#llx, "
			       "ec %#x), reference %s (%u entries)",
			       describe(), step, ok ? "ok" : "fault", w.nlevels,
			       (unsigned long long)w.pa, w.fault.error_code,
			       ref_result_str(r, rs, sizeof rs), r->nentries);
	}
}

/* After the access each entry the reference read holds what it held
 * before, plus A (and D) if the translation succeeded (§4.8). */
static void check_flags(const struct lab *l, const struct ref_result *r, const uint64_t *before,
			const char *step)
{
	for (unsigned i = 0; i < r->nentries; i++) {
		const struct ref_entry *e = &r->entry[i];
		if (e->reg)
			continue;
		uint64_t want = before[i];
		for (unsigned j = 0; j < r->nentries; j++)
			if (!r->entry[j].reg && r->entry[j].pa == e->pa)
				want |= r->entry[j].set;
		uint64_t have = phys_read(&l->m.phys, e->pa, e->bytes);
		if (have != want) {
			char rs[128];
			cr_assert_fail("case: %s; step '%s': %s at %#llx is %#llx after the access, "
				       "expected %#llx (reference %s)",
				       describe(), step, entry_name(e->level), (unsigned long long)e->pa,
				       (unsigned long long)have, (unsigned long long)want,
				       ref_result_str(r, rs, sizeof rs));
		}
	}
}

static void check_access(struct lab *l, uint64_t la, const struct access *a, const char *step,
			 struct checked *out)
{
	struct ref_access ra = {.la = la, .kind = a->kind, .cpl = a->cpl, .implicit = a->implicit,
				.ac = a->ac};
	cur.la = la;
	ref_translate(&l->cpu, &l->mem, &ra, &out->r);
	uint64_t before[REF_MAX_ENTRIES] = {0};
	for (unsigned i = 0; i < out->r.nentries; i++)
		if (!out->r.entry[i].reg)
			before[i] = phys_read(&l->m.phys, out->r.entry[i].pa, out->r.entry[i].bytes);
	unsigned ctx = access_ctx(a);
	check_debug(l, la, ctx, &out->r, step);
	out->ok = mmu_translate(&l->m, la, ctx, &out->x);
	check_outcome(out->ok, &out->x, &out->r, step);
	check_flags(l, &out->r, before, step);
}

/* One case on freshly written entries and freshly loaded control state:
 * the access, the same access again (a TLB hit when it succeeded), and for
 * a read that succeeded a write to the still-clean page. Returns the first
 * translation's result in first. */
static void run_case(struct lab *l, const struct access *a, struct checked *first)
{
	struct checked again, write;
	uint64_t la = l->la + l->offset;
	cur.acc = *a;
	check_access(l, la, a, "first", first);
	check_access(l, la, a, "again", &again);
	if (again.ok && again.x.source == SRC_WALK)
		cr_assert_fail("case: %s; step 'again': walked again instead of hitting the TLB",
			       describe());
	if (a->kind == REF_READ && first->ok) {
		struct access w = *a;
		w.kind = REF_WRITE;
		check_access(l, la, &w, "write after read fill", &write);
	}
}

/* The access contexts of the matrix: reads and writes at CPL 0 and 3,
 * explicit or implicit supervisor-mode, RFLAGS.AC 0 or 1; fetches at CPL 0
 * and 3 with RFLAGS.AC 0 or 1 (fetches are never implicit accesses). */
#define N_CONTEXTS 20
static unsigned all_contexts(struct access out[N_CONTEXTS])
{
	unsigned n = 0;
	const enum ref_kind kinds[] = {REF_READ, REF_WRITE, REF_FETCH};
	for (unsigned k = 0; k < 3; k++)
		for (unsigned cpl = 0; cpl <= 3; cpl += 3)
			for (unsigned imp = 0; imp < (kinds[k] == REF_FETCH ? 1u : 2u); imp++)
				for (unsigned ac = 0; ac < 2; ac++)
					out[n++] = (struct access){kinds[k], cpl, imp, ac};
	cr_assert_eq(n, N_CONTEXTS);
	return n;
}

/* ---- the rights matrix ---------------------------------------------------- */

struct layout {
	const char *name;
	const char *model;
	enum mmu_paging_mode mode;
	enum mmu_page_size size;
	uint64_t la, pa, offset;
	unsigned vary;       /* bit i: entry i (top level first) takes every rights combination */
	unsigned rights_bits;/* 3 (U/S, R/W, XD) or 2 (32-bit paging has no XD) */
};

/* Every rights combination of the varied entries (the others U/S = R/W = 1,
 * XD = 0) x 16 control states (CR0.WP, CR4.SMEP, CR4.SMAP, EFER.NXE) x
 * every access context. Returns the number of cases. */
static unsigned long long run_matrix(const struct layout *ly)
{
	struct lab *l = lab_new(ly->model, 0, ly->mode, ly->size, ly->la, ly->pa, ly->offset);
	struct access ctx[N_CONTEXTS];
	unsigned nctx = all_contexts(ctx);
	unsigned varied = 0;
	for (unsigned i = 0; i < l->n; i++)
		if (ly->vary & (1u << i))
			varied++;
	unsigned long long cases = 0, combos = 1ull << (ly->rights_bits * varied);
	memset(&cur, 0, sizeof cur);
	cur.layout = ly->name;
	cur.lab = l;
	cur.flip_at = -1;
	for (unsigned long long k = 0; k < combos; k++) {
		unsigned long long rest = k;
		for (unsigned i = 0; i < l->n; i++) {
			cur.rights[i] = R_OPEN;
			if (ly->vary & (1u << i)) {
				cur.rights[i] = (unsigned)(rest & ((1u << ly->rights_bits) - 1));
				rest >>= ly->rights_bits;
			}
		}
		for (unsigned cbits = 0; cbits < 16; cbits++) {
			cur.ctl = (struct ctl){.wp = cbits & 1, .smep = cbits & 2, .smap = cbits & 4,
					       .nxe = cbits & 8, .pse = ly->size == PG_4M};
			for (unsigned c = 0; c < nctx; c++) {
				struct checked first;
				lab_write_entries(l, cur.rights, 0, -1, 0);
				lab_control(l, &cur.ctl);
				run_case(l, &ctx[c], &first);
				cases++;
			}
		}
	}
	lab_free(l);
	return cases;
}

/* Linear addresses chosen so that every level uses a different, non-zero
 * index; offsets so that the page offset shows in the physical address. */
#define LA_4L_4K UINT64_C(0x00007f8a4c6e1000)
#define LA_4L_2M UINT64_C(0x00007f8a4c600000)
#define LA_4L_1G UINT64_C(0x00007f8a40000000)
#define LA_5L_4K UINT64_C(0x00ab7f8a4c6e1000)
#define LA_5L_2M UINT64_C(0x00ab7f8a4c600000)
#define LA_5L_1G UINT64_C(0x00ab7f8a40000000)

Test(perm_matrix, four_level_4k_every_rights_combination_at_every_level)
{
	const struct layout ly = {"4-level 4K", "flat", PAGING_4LEVEL, PG_4K, LA_4L_4K, 0xabc000,
				  0x123, 0xf, 3};
	/* 8^4 rights combinations x 16 control states x 20 contexts. */
	cr_assert_eq(run_matrix(&ly), 4096ull * 16 * 20);
}

Test(perm_matrix, four_level_2m_and_1g_every_rights_combination)
{
	const struct layout lys[] = {
		{"4-level 2M", "flat", PAGING_4LEVEL, PG_2M, LA_4L_2M, 0x1e00000, 0x12345, 0x7, 3},
		{"4-level 1G", "flat", PAGING_4LEVEL, PG_1G, LA_4L_1G, 0x80000000, 0x1234567, 0x3, 3},
		/* The Skylake-like model holds each size in its own structures
		 * and splinters 1G pages in the ITLB; flushing its caches is
		 * slow, so only the leaf varies. */
		{"4-level 2M", "skylake", PAGING_4LEVEL, PG_2M, LA_4L_2M, 0x1e00000, 0x12345, 0x4, 3},
		{"4-level 1G", "skylake", PAGING_4LEVEL, PG_1G, LA_4L_1G, 0x80000000, 0x1234567, 0x2, 3},
	};
	unsigned long long cases = 0;
	for (unsigned i = 0; i < sizeof lys / sizeof lys[0]; i++)
		cases += run_matrix(&lys[i]);
	/* (8^3 + 8^2) combinations with the flat model, 8 + 8 with the
	 * Skylake-like one, x 16 control states x 20 contexts. */
	cr_assert_eq(cases, (512ull + 64 + 8 + 8) * 16 * 20);
}

Test(perm_matrix, five_level_walks_with_la57)
{
	/* PML5E, PML4E and the leaf take every combination; the entries in
	 * between are open (the four-level tests cover them). */
	const struct layout lys[] = {
		{"5-level 4K", "flat", PAGING_5LEVEL, PG_4K, LA_5L_4K, 0x5000, 0x321, 0x13, 3},
		{"5-level 2M", "flat", PAGING_5LEVEL, PG_2M, LA_5L_2M, 0x600000, 0x54321, 0x9, 3},
		{"5-level 1G", "flat", PAGING_5LEVEL, PG_1G, LA_5L_1G, 0x40000000, 0x3ffffff, 0x7, 3},
	};
	unsigned long long cases = 0;
	for (unsigned i = 0; i < 3; i++)
		cases += run_matrix(&lys[i]);
	cr_assert_eq(cases, (512ull + 64 + 512) * 16 * 20);
}

Test(perm_matrix, pae_4k_and_2m_every_rights_combination)
{
	/* The PDPTE is a register without rights (§4.4.1); PDE and PTE vary. */
	const struct layout lys[] = {
		{"PAE 4K", "flat", PAGING_PAE, PG_4K, 0xc0345000, 0x7654000, 0xabc, 0x6, 3},
		{"PAE 2M", "flat", PAGING_PAE, PG_2M, 0x80600000, 0x1200000, 0x1abcd, 0x2, 3},
		{"PAE 2M", "skylake", PAGING_PAE, PG_2M, 0x80600000, 0x1200000, 0x1abcd, 0x2, 3},
	};
	unsigned long long cases = 0;
	for (unsigned i = 0; i < 3; i++)
		cases += run_matrix(&lys[i]);
	cr_assert_eq(cases, (64ull + 8 + 8) * 16 * 20);
}

Test(perm_matrix, bit32_4k_and_4m_every_rights_combination)
{
	/* 32-bit paging has no XD; the 4M page lies above 4 GiB (PSE-36). */
	const struct layout lys[] = {
		{"32-bit 4K", "flat", PAGING_32, PG_4K, 0x12345000, 0xabc000, 0x678, 0x3, 2},
		{"32-bit 4M", "flat", PAGING_32, PG_4M, 0x12400000, UINT64_C(0x53fc00000), 0x2bcdef,
		 0x1, 2},
		{"32-bit 4M", "skylake", PAGING_32, PG_4M, 0x12400000, UINT64_C(0x53fc00000),
		 0x2bcdef, 0x1, 2},
	};
	unsigned long long cases = 0;
	for (unsigned i = 0; i < 3; i++)
		cases += run_matrix(&lys[i]);
	cr_assert_eq(cases, (16ull + 4 + 4) * 16 * 20);
}

/* ---- protection keys (§4.6.2) ---------------------------------------------- */

Test(perm_matrix, protection_keys_on_user_and_supervisor_pages)
{
	static const uint32_t pkru_values[] = {
		0x00000000, /* everything allowed */
		0x55555555, /* AD for every key */
		0xaaaaaaaa, /* WD for every key */
		0xffffffff, /* AD and WD for every key */
		0x12345678, 0x9abcdef0, /* mixed per key */
		0x00000004, /* AD for key 1 only */
		0x80000000, /* WD for key 15 only */
	};
	struct {
		struct layout ly;
		bool keys; /* false: legacy paging, the key bits stay 0 (they are reserved in PAE) */
	} lys[] = {
		{{"4-level 4K", "flat", PAGING_4LEVEL, PG_4K, LA_4L_4K, 0xabc000, 0x123, 0, 3}, true},
		{{"4-level 1G", "flat", PAGING_4LEVEL, PG_1G, LA_4L_1G, 0x80000000, 0x1234567, 0, 3},
		 true},
		{{"5-level 2M", "flat", PAGING_5LEVEL, PG_2M, LA_5L_2M, 0x600000, 0x54321, 0, 3}, true},
		{{"PAE 4K", "flat", PAGING_PAE, PG_4K, 0xc0345000, 0x7654000, 0xabc, 0, 3}, false},
		{{"32-bit 4K", "flat", PAGING_32, PG_4K, 0x12345000, 0xabc000, 0x678, 0, 2}, false},
	};
	struct access ctx[N_CONTEXTS];
	unsigned nctx = all_contexts(ctx);
	unsigned long long cases = 0;
	for (unsigned li = 0; li < sizeof lys / sizeof lys[0]; li++) {
		const struct layout *ly = &lys[li].ly;
		struct lab *l = lab_new(ly->model, 0, ly->mode, ly->size, ly->la, ly->pa, ly->offset);
		memset(&cur, 0, sizeof cur);
		cur.layout = ly->name;
		cur.lab = l;
		cur.flip_at = -1;
		for (unsigned key = 0; key < (lys[li].keys ? 16u : 1u); key++)
			for (unsigned leaf = 0; leaf < 4; leaf++)
				for (unsigned p = 0; p < sizeof pkru_values / sizeof pkru_values[0]; p++)
					for (unsigned cbits = 0; cbits < 8; cbits++)
						for (unsigned c = 0; c < nctx; c++) {
							for (unsigned i = 0; i < l->n; i++)
								cur.rights[i] = R_OPEN;
							cur.rights[l->n - 1] = leaf; /* U/S and R/W of the leaf */
							cur.leaf_extra = (uint64_t)key << PTE_PKEY_SHIFT;
							cur.ctl = (struct ctl){.wp = cbits & 1, .smap = cbits & 2,
									       .pke = cbits & 4, .nxe = true,
									       .pse = false,
									       .pkru = pkru_values[p]};
							lab_write_entries(l, cur.rights, cur.leaf_extra, -1, 0);
							lab_control(l, &cur.ctl);
							struct checked first, after;
							run_case(l, &ctx[c], &first);
							/* WRPKRU takes effect at once, without any
							 * TLB invalidation (§4.6.2). */
							uint32_t other = ~pkru_values[p];
							mmu_write_pkru(&l->m, other);
							l->cpu.pkru = other;
							cur.ctl.pkru = other;
							check_access(l, l->la + l->offset, &ctx[c],
								     "after WRPKRU, TLB kept", &after);
							cases++;
						}
		lab_free(l);
	}
	/* 3 IA-32e layouts x 16 keys + 2 legacy layouts x key 0; 4 leaf
	 * rights x 8 PKRU values x 8 control states x 20 contexts. */
	cr_assert_eq(cases, (3ull * 16 + 2) * 4 * 8 * 8 * 20);
}

/* ---- reserved bits, one position at a time --------------------------------- */

enum bit_class {
	BIT_RESERVED, /* must fault with P|RSVD at this entry */
	BIT_HARMLESS, /* a supervisor read still succeeds, same physical address */
	BIT_OTHER,    /* P, PS or an address bit: only the reference decides */
};

/* The reserved-bit positions, written out from the SDM's entry tables
 * independently of the reference (which must agree, and is also compared). */
static enum bit_class classify(const struct lab *l, unsigned i, unsigned b, bool nxe, bool pse)
{
	const struct lab_entry *e = &l->e[i];
	unsigned m = l->model.maxphyaddr, level = e->level;
	bool large = e->leaf && level > 1;
	if (b == 0)
		return BIT_OTHER; /* P */
	if (l->mode == PAGING_32) {
		/* Tables 4-4 … 4-6. */
		if (level == 2 && b == 7)
			return pse ? BIT_OTHER : BIT_HARMLESS; /* PS is ignored without CR4.PSE */
		if (large) {
			unsigned m40 = m < 40 ? m : 40;
			if (b == 21)
				return BIT_RESERVED;
			if (b >= 13 && b <= 20) /* physical-address bits 39:32 */
				return b - 13 + 32 < m40 ? BIT_OTHER : BIT_RESERVED;
			return b >= 22 ? BIT_OTHER : BIT_HARMLESS;
		}
		return b >= 12 ? BIT_OTHER : BIT_HARMLESS;
	}
	if (b == 63) /* XD: reserved unless IA32_EFER.NXE = 1 */
		return nxe ? BIT_HARMLESS : BIT_RESERVED;
	unsigned top_rsvd = l->mode == PAGING_PAE ? 62 : 51; /* PAE 62:M, IA-32e 51:M */
	if (b >= m && b <= top_rsvd)
		return BIT_RESERVED;
	if (b > top_rsvd)
		return BIT_HARMLESS; /* IA-32e bits 62:52: ignored (no CR4.PKE here) */
	if (b == 7) {
		if (level >= 4)
			return BIT_RESERVED; /* PS in a PML4E or PML5E */
		return level == 1 ? BIT_HARMLESS : BIT_OTHER; /* PAT in a PTE; PS above */
	}
	if (large) {
		unsigned page_shift = level == 3 ? 30 : 21;
		if (b >= 13 && b < page_shift)
			return BIT_RESERVED; /* 1G: 29:13, 2M: 20:13 */
		return b >= page_shift ? BIT_OTHER : BIT_HARMLESS; /* bit 12: PAT */
	}
	return b >= 12 ? BIT_OTHER : BIT_HARMLESS;
}

/* How many (entry, bit) positions of these layouts are reserved, counted
 * from the SDM's tables in closed form. */
static unsigned expected_reserved_positions(unsigned m, bool nxe)
{
	unsigned m40 = m < 40 ? m : 40;
	unsigned c = (52 - m) + !nxe; /* IA-32e: 51:M and XD, in every entry */
	unsigned p = (63 - m) + !nxe; /* PAE: 62:M and XD */
	unsigned bit32 = 1 + (40 - m40);        /* 4M PDE: bit 21 and PSE-36 bits above M */
	unsigned pae = 2 * p + (p + 8);         /* 4K: PDE, PTE; 2M: PDE + 20:13 */
	unsigned l4 = (4 * c + 1) + (3 * c + 1 + 8) + (2 * c + 1 + 17);  /* + PS in the PML4E */
	unsigned l5 = (5 * c + 2) + (4 * c + 2 + 8) + (3 * c + 2 + 17);  /* + PS in PML5E, PML4E */
	return bit32 + pae + l4 + l5;
}

Test(perm_matrix, reserved_bits_each_position_each_level_each_mode)
{
	static const unsigned maxphyaddrs[] = {36, 39, 40, 46, 52};
	struct rlayout {
		struct layout ly;
		bool pse;
	} lys[] = {
		{{"32-bit 4K", "flat", PAGING_32, PG_4K, 0x12345000, 0xabc000, 0x678, 0, 2}, false},
		{{"32-bit 4K", "flat", PAGING_32, PG_4K, 0x12345000, 0xabc000, 0x678, 0, 2}, true},
		{{"32-bit 4M", "flat", PAGING_32, PG_4M, 0x12400000, UINT64_C(0x53fc00000), 0x2bcdef, 0,
		  2}, true},
		{{"PAE 4K", "flat", PAGING_PAE, PG_4K, 0xc0345000, 0x7654000, 0xabc, 0, 3}, false},
		{{"PAE 2M", "flat", PAGING_PAE, PG_2M, 0x80600000, 0x1200000, 0x1abcd, 0, 3}, false},
		{{"4-level 4K", "flat", PAGING_4LEVEL, PG_4K, LA_4L_4K, 0xabc000, 0x123, 0, 3}, false},
		{{"4-level 2M", "flat", PAGING_4LEVEL, PG_2M, LA_4L_2M, 0x1e00000, 0x12345, 0, 3}, false},
		{{"4-level 1G", "flat", PAGING_4LEVEL, PG_1G, LA_4L_1G, 0x80000000, 0x1234567, 0, 3},
		 false},
		{{"5-level 4K", "flat", PAGING_5LEVEL, PG_4K, LA_5L_4K, 0x5000, 0x321, 0, 3}, false},
		{{"5-level 2M", "flat", PAGING_5LEVEL, PG_2M, LA_5L_2M, 0x600000, 0x54321, 0, 3}, false},
		{{"5-level 1G", "flat", PAGING_5LEVEL, PG_1G, LA_5L_1G, 0x40000000, 0x3ffffff, 0, 3},
		 false},
	};
	/* The independent check uses a supervisor read (CR4.SMAP = 0), which
	 * no R/W, U/S or XD flag can deny; the others are compared with the
	 * reference only. */
	const struct access ctx[] = {
		{REF_READ, 0, false, false}, {REF_READ, 3, false, false}, {REF_WRITE, 3, false, false},
		{REF_WRITE, 0, true, false}, {REF_FETCH, 0, false, false},
	};
	unsigned long long cases = 0, reserved_seen = 0, reserved_expected = 0;
	for (unsigned mi = 0; mi < sizeof maxphyaddrs / sizeof maxphyaddrs[0]; mi++) {
		unsigned m = maxphyaddrs[mi];
		reserved_expected += expected_reserved_positions(m, false) +
				     expected_reserved_positions(m, true);
		for (unsigned li = 0; li < sizeof lys / sizeof lys[0]; li++) {
			const struct layout *ly = &lys[li].ly;
			struct lab *l = lab_new(ly->model, m, ly->mode, ly->size, ly->la, ly->pa,
						ly->offset);
			memset(&cur, 0, sizeof cur);
			cur.layout = ly->name;
			cur.lab = l;
			for (unsigned i = 0; i < l->n; i++)
				cur.rights[i] = R_OPEN;
			for (unsigned i = 0; i < l->n; i++) {
				if (!l->e[i].has_rights)
					continue; /* PAE PDPTE register: see the next test */
				for (unsigned b = 0; b < 8 * l->esize; b++) {
					for (unsigned nxe = 0; nxe < 2; nxe++) {
						cur.flip_at = (int)i;
						cur.flip_bit = b;
						cur.ctl = (struct ctl){.wp = true, .nxe = nxe,
								       .pse = lys[li].pse};
						enum bit_class cls = classify(l, i, b, nxe, lys[li].pse);
						for (unsigned c = 0; c < sizeof ctx / sizeof ctx[0]; c++) {
							struct checked first;
							lab_write_entries(l, cur.rights, 0, (int)i, b);
							lab_control(l, &cur.ctl);
							run_case(l, &ctx[c], &first);
							cases++;
							if (c != 0)
								continue;
							if (cls == BIT_RESERVED) {
								cr_assert(!first.ok && first.x.fault.vector == VEC_PF &&
										  first.x.fault.error_code ==
											  (PFEC_P | PFEC_RSVD) &&
										  first.r.nentries == i + 1,
									  "case: %s: expected #PF P|RSVD at this entry",
									  describe());
								reserved_seen++;
							} else if (cls == BIT_HARMLESS) {
								cr_assert(first.ok && first.x.pa == l->pa + l->offset,
									  "case: %s: expected the bit to be ignored",
									  describe());
							}
						}
					}
				}
			}
			lab_free(l);
		}
	}
	/* Per MAXPHYADDR: (1696 entry bits of these layouts) x 2 NXE x 5 contexts. */
	cr_assert_eq(cases, 5ull * 1696 * 2 * 5);
	cr_assert_eq(reserved_seen, reserved_expected, "reserved positions checked");
}

/* §4.4.1: MOV to CR3 in PAE paging loads the four PDPTEs and raises #GP(0)
 * if a present one has a reserved bit set (bits 2:1, 8:5, 63:M, Table 4-8). */
Test(perm_matrix, pae_pdpte_reserved_bits_fault_the_cr3_load)
{
	static const unsigned maxphyaddrs[] = {36, 40, 52};
	const struct access rd = {REF_READ, 3, false, false};
	unsigned long long cases = 0, gp = 0, gp_expected = 0;
	for (unsigned mi = 0; mi < 3; mi++) {
		unsigned m = maxphyaddrs[mi];
		struct lab *l = lab_new("flat", m, PAGING_PAE, PG_4K, 0xc0345000, 0x7654000, 0xabc);
		memset(&cur, 0, sizeof cur);
		cur.layout = "PAE 4K, MOV to CR3";
		cur.la = l->la + l->offset;
		cur.lab = l;
		cur.flip_at = 0;
		cur.acc = rd;
		for (unsigned i = 0; i < l->n; i++)
			cur.rights[i] = R_OPEN;
		gp_expected += 6 + (64 - m);
		for (unsigned b = 0; b < 64; b++) {
			cur.flip_bit = b;
			cur.ctl = (struct ctl){.nxe = true};
			lab_write_entries(l, cur.rights, 0, -1, 0);
			lab_control(l, &cur.ctl);
			uint64_t pdpte_pa = l->e[0].pa, good = phys_read(&l->m.phys, pdpte_pa, 8);
			phys_write(&l->m.phys, pdpte_pa, good ^ BIT64(b), 8);
			struct mmu_fault f = {0};
			uint64_t regs[4];
			bool ok = mmu_write_cr3(&l->m, l->cpu.cr3, &f);
			bool ref_ok = ref_load_pdptes(&l->mem, l->cpu.cr3, m, regs);
			bool reserved = (b >= 1 && b <= 2) || (b >= 5 && b <= 8) || b >= m;
			cr_assert_eq(ok, ref_ok, "case: %s: MOV to CR3 %s, reference %s", describe(),
				     ok ? "loaded" : "faulted", ref_ok ? "loads" : "faults");
			cr_assert_eq(ok, !reserved, "case: %s: MOV to CR3 %s", describe(),
				     ok ? "loaded" : "faulted");
			if (!ok) {
				cr_assert(f.vector == VEC_GP && f.error_code == 0, "case: %s: vector %u ec %#x",
					  describe(), f.vector, f.error_code);
				gp++;
			} else {
				/* The registers now hold the changed PDPTE. */
				memcpy(l->cpu.pdpte, regs, sizeof regs);
				struct checked c;
				check_access(l, l->la + l->offset, &rd, "after MOV to CR3", &c);
			}
			cases++;
		}
		lab_free(l);
	}
	cr_assert_eq(cases, 3 * 64);
	cr_assert_eq(gp, gp_expected);
}

/* ---- canonical addresses (Vol. 1 §3.3.7.1) ----------------------------------- */

struct la_case {
	uint64_t la;
	bool canonical;
};


Test(perm_matrix, non_canonical_addresses_raise_gp_in_4_and_5_level_paging)
{
	struct access ctx[N_CONTEXTS];
	unsigned nctx = all_contexts(ctx);
	unsigned long long cases = 0, gp = 0;
	for (unsigned five = 0; five < 2; five++) {
		unsigned width = five ? 57 : 48;
		enum mmu_paging_mode mode = five ? PAGING_5LEVEL : PAGING_4LEVEL;
		/* The highest page of the lower half and the lowest of the upper. */
		uint64_t low = (BIT64(width - 1) - 1) & ~UINT64_C(0xfff);
		uint64_t high = ~(BIT64(width - 1) - 1);
		struct lab *l = lab_new("flat", 0, mode, PG_4K, low, 0x3000, 0x10);
		cr_assert(ptb_map(&l->pt, high, 0x4000, PG_4K, PT_OPEN_FLAGS, PT_OPEN_FLAGS));
		/* Under LA57, an address with bit 47 set is canonical too. */
		uint64_t mid = BIT64(47);
		if (five)
			cr_assert(ptb_map(&l->pt, mid, 0x6000, PG_4K, PT_OPEN_FLAGS, PT_OPEN_FLAGS));
		memset(&cur, 0, sizeof cur);
		cur.layout = five ? "5-level canonical" : "4-level canonical";
		cur.lab = l;
		cur.flip_at = -1;
		for (unsigned i = 0; i < l->n; i++)
			cur.rights[i] = R_OPEN;
		struct la_case las[2 + 2 * 17 + 1];
		unsigned n = 0;
		las[n++] = (struct la_case){low + 0x10, true};
		las[n++] = (struct la_case){high + 0x10, true};
		/* Any one bit from width-1 up changed: not canonical. */
		for (unsigned b = width - 1; b < 64; b++) {
			las[n++] = (struct la_case){(low + 0x10) | BIT64(b), false};
			las[n++] = (struct la_case){(high + 0x10) & ~BIT64(b), false};
		}
		las[n++] = (struct la_case){mid + 0x10, five}; /* canonical only with LA57 */
		for (unsigned i = 0; i < n; i++) {
			for (unsigned c = 0; c < nctx; c++) {
				struct checked first;
				cur.ctl = (struct ctl){.nxe = true};
				lab_control(l, &cur.ctl);
				cur.acc = ctx[c];
				check_access(l, las[i].la, &ctx[c], "first", &first);
				if (las[i].canonical) {
					/* Open user pages, no SMEP or SMAP: everything is allowed. */
					cr_assert(first.ok, "case: %s: canonical la %#llx faulted", describe(),
						  (unsigned long long)las[i].la);
				} else {
					cr_assert(!first.ok && first.x.fault.vector == VEC_GP &&
							  first.x.fault.error_code == 0,
						  "case: %s: la %#llx must raise #GP(0)", describe(),
						  (unsigned long long)las[i].la);
					gp++;
				}
				cases++;
			}
		}
		/* With the canonical pages cached, every non-canonical alias of
		 * them that keeps bits 59:0 still raises #GP(0). */
		for (unsigned i = 0; i < 2; i++) {
			for (unsigned c = 0; c < nctx; c++) {
				struct checked warm, alias;
				cur.ctl = (struct ctl){.nxe = true};
				lab_control(l, &cur.ctl);
				cur.acc = ctx[c];
				check_access(l, las[i].la, &ctx[c], "fill the TLB", &warm);
				check_access(l, las[i].la ^ (UINT64_C(0xf) << 60), &ctx[c],
					     "non-canonical alias of a cached page", &alias);
			}
		}
		lab_free(l);
	}
	/* 4-level: 2 + 2*17 + 1 addresses; 5-level: 2 + 2*8 + 1; x 20 contexts. */
	cr_assert_eq(cases, (37ull + 19) * 20);
	cr_assert_eq(gp, (35ull + 16) * 20);
}

/* ---- the dirty-after-read-fill case, spelled out --------------------------- */

Test(perm_matrix, write_after_read_fill_sets_dirty_in_every_mode)
{
	const struct layout lys[] = {
		{"32-bit 4K", "flat", PAGING_32, PG_4K, 0x12345000, 0xabc000, 0x678, 0, 2},
		{"32-bit 4M", "skylake", PAGING_32, PG_4M, 0x12400000, 0x3fc00000, 0x2bcdef, 0, 2},
		{"PAE 2M", "skylake", PAGING_PAE, PG_2M, 0x80600000, 0x1200000, 0x1abcd, 0, 3},
		{"4-level 4K", "skylake", PAGING_4LEVEL, PG_4K, LA_4L_4K, 0xabc000, 0x123, 0, 3},
		{"4-level 1G", "flat", PAGING_4LEVEL, PG_1G, LA_4L_1G, 0x80000000, 0x1234567, 0, 3},
		{"5-level 2M", "skylake", PAGING_5LEVEL, PG_2M, LA_5L_2M, 0x600000, 0x54321, 0, 3},
	};
	unsigned long long cases = 0;
	for (unsigned li = 0; li < sizeof lys / sizeof lys[0]; li++) {
		const struct layout *ly = &lys[li];
		struct lab *l = lab_new(ly->model, 0, ly->mode, ly->size, ly->la, ly->pa, ly->offset);
		unsigned rights[5] = {R_OPEN, R_OPEN, R_OPEN, R_OPEN, R_OPEN};
		struct ctl c = {.wp = true, .pse = ly->size == PG_4M};
		for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
			lab_write_entries(l, rights, 0, -1, 0);
			lab_control(l, &c);
			uint64_t leaf_pa = l->e[l->n - 1].pa, la = ly->la + ly->offset;
			struct mmu_xlate x;
			unsigned rd = mmu_acc(ACC_READ, cpl, false, false);
			unsigned wr = mmu_acc(ACC_WRITE, cpl, false, false);
			cr_assert(mmu_translate(&l->m, la, rd, &x), "%s CPL%u read", ly->name, cpl);
			cr_assert(mmu_translate(&l->m, la, rd, &x), "%s CPL%u read again", ly->name, cpl);
			uint64_t leaf = phys_read(&l->m.phys, leaf_pa, l->esize);
			cr_assert((leaf & PTE_A) && !(leaf & PTE_D), "%s CPL%u: leaf %#llx after reads",
				  ly->name, cpl, (unsigned long long)leaf);
			cr_assert(mmu_translate(&l->m, la, wr, &x), "%s CPL%u write", ly->name, cpl);
			cr_assert_eq(x.pa, ly->pa + ly->offset);
			leaf = phys_read(&l->m.phys, leaf_pa, l->esize);
			cr_assert(leaf & PTE_D, "%s CPL%u: D not set by a write after a read fill (%#llx)",
				  ly->name, cpl, (unsigned long long)leaf);
			for (unsigned i = 0; i + 1 < l->n; i++) {
				uint64_t v = phys_read(&l->m.phys, l->e[i].pa, l->esize);
				if (l->e[i].has_rights)
					cr_assert((v & PTE_A) && !(v & PTE_D), "%s CPL%u: %s %#llx", ly->name,
						  cpl, entry_name(l->e[i].level), (unsigned long long)v);
			}
			cases++;
		}
		lab_free(l);
	}
	cr_assert_eq(cases, 6 * 2);
}
