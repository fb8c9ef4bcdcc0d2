/* libFuzzer target: page walks over random paging structures, checked
 * against the reference model (tests/ref_paging.c).
 *
 * One input describes one machine run:
 *
 *   header   paging mode, CR0/CR4/EFER flags, MAXPHYADDR, PKRU, CR3 choice,
 *            the seed and densities of the entry generator
 *   pokes    explicit entry values written over the generated ones
 *   ops      translations (linear address, access kind, CPL, implicit,
 *            RFLAGS.AC), INVLPG, MOV to CR3, WRPKRU, control reloads and
 *            entry writes after the fact
 *
 * Memory: RAM is 1 MiB. The paging structures live in REGION_FRAMES frames
 * filled with generated entries, whose addresses point back into the
 * region, at an all-zero frame, past the end of RAM, anywhere below
 * MAXPHYADDR, or are raw random values, with P, PS, R/W, U/S, XD, keys and
 * single reserved bits mixed in.
 *
 * What is checked, after every translation:
 *   - mmu_debug_translate (no side effects) against the reference computed
 *     from memory and the PDPTE registers as they are now: outcome, error
 *     code, CR2, physical address, page size, protection key and every
 *     entry read;
 *   - mmu_translate against the same reference, and the A/D flags in memory
 *     afterwards, whenever the TLBs and paging-structure caches cannot hold
 *     stale translations: from a control reload (mmu_set_control flushes
 *     everything) until an entry is rewritten, or CR3 is written while
 *     global pages or PCIDs can keep entries across it (SDM Vol. 3A
 *     §4.10.4). Memory otherwise changes only by A/D updates, which alter
 *     no translation. While stale, only the #GP outcome is compared;
 *   - MOV to CR3 under PAE paging faults exactly when the reference's
 *     PDPTE load finds a reserved bit (§4.4.1);
 *   - the zero frame is never written;
 *   - a twin machine, forced onto the generic miss path (struct mmu
 *     walk_generic), runs every operation too: each translation's outcome
 *     and cycles, the statistics, TLB and paging-structure-cache contents
 *     and frame flags after it, and at the end of the input RAM and the
 *     data-cache model, must equal the machine's own, which takes the
 *     IA-32e fast path (mmu/walk_fast.c) wherever it applies.
 * Any mismatch prints the state and aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"
#include "tests/mmu_compare.h"
#include "tests/ref_paging.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE PHYS_MIN_SIZE
#define REGION_BASE UINT64_C(0x40000)
#define REGION_FRAMES 8
#define ZERO_FRAME (REGION_BASE + REGION_FRAMES * PHYS_FRAME_SIZE)
#define MAX_OPS 200

static const unsigned maxphyaddrs[] = {36, 39, 40, 46, 52};
#define N_MACHINES (sizeof maxphyaddrs / sizeof maxphyaddrs[0])

/* ---- input ---------------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t in_u8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t in_bytes(struct input *in, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)in_u8(in) << (8 * i);
	return v;
}

/* The entry generator runs thousands of times per input; coverage of its
 * branches tells the fuzzer nothing and its comparison traces would swamp
 * libFuzzer's feature bookkeeping, so it is not instrumented. */
#ifdef __clang__
#define NOT_INSTRUMENTED __attribute__((no_sanitize("coverage")))
#else
#define NOT_INSTRUMENTED
#endif

/* xorshift64*: the entry generator, seeded from the input. */
NOT_INSTRUMENTED static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(0x2545f4914f6cdd1d);
}

/* ---- the machine under test --------------------------------------------- */

enum { FL_WP = 1, FL_SMEP = 2, FL_SMAP = 4, FL_NXE = 8, FL_PSE = 16, FL_PGE = 32, FL_PKE = 64,
       FL_PCIDE = 128 };

struct run {
	struct mmu *m;
	struct mmu *twin; /* the same operations on the generic miss path */
	enum mmu_paging_mode mode;
	unsigned maxphyaddr;
	uint8_t flags;
	struct ref_cpu cpu;
	struct ref_mem mem;
	bool stale;       /* TLB/PWC may hold translations memory no longer gives */
	bool pdpte_bad;   /* PAE: the registers were loaded without checks from a bad PDPT */
	uint64_t last_la;
	unsigned op;      /* index of the current op, for messages */
};

/* Machine i, or its twin (generic miss path) when twin. */
static struct mmu *machine(unsigned i, bool twin)
{
	static struct mmu *all[2][N_MACHINES];
	struct mmu **machines = all[twin];
	if (!machines[i]) {
		struct mmu_model model;
		char err[256];
		mmu_model_flat(&model);
		model.maxphyaddr = maxphyaddrs[i];
		machines[i] = calloc(1, sizeof *machines[i]);
		if (!machines[i] || !mmu_init(machines[i], &model, RAM_SIZE, err, sizeof err)) {
			fprintf(stderr, "fuzz_walk: mmu_init: %s\n", err);
			abort();
		}
		machines[i]->walk_generic = twin;
	}
	return machines[i];
}

NOT_INSTRUMENTED static bool ia32e(const struct run *r)
{
	return r->mode == PAGING_4LEVEL || r->mode == PAGING_5LEVEL;
}

NOT_INSTRUMENTED static unsigned entry_bytes(const struct run *r)
{
	return r->mode == PAGING_32 ? 4 : 8;
}

NOT_INSTRUMENTED static uint64_t phys_mask(const struct run *r)
{
	return (UINT64_C(1) << r->maxphyaddr) - 1;
}

__attribute__((noreturn)) static void fail(const struct run *r, const char *what)
{
	fprintf(stderr,
		"fuzz_walk: %s\n  op %u, mode %s, MAXPHYADDR %u, CR0 %#llx CR3 %#llx CR4 %#llx "
		"EFER %#llx PKRU %#x, stale %d\n",
		what, r->op, mmu_paging_mode_name(r->mode), r->maxphyaddr,
		(unsigned long long)r->cpu.cr0, (unsigned long long)r->cpu.cr3,
		(unsigned long long)r->cpu.cr4, (unsigned long long)r->cpu.efer, r->cpu.pkru,
		r->stale);
	abort();
}

/* ---- building memory ------------------------------------------------------- */

/* Densities of the entry generator, from the input. */
struct gen {
	uint64_t seed;
	unsigned absent;    /* P = 0 in absent/32 of the entries */
	unsigned large;     /* PS = 1 in large/16 */
	unsigned closed;    /* R/W = 0, and independently U/S = 0, in closed/8 */
	unsigned reserved;  /* one random bit flipped in reserved/64 */
};

/* One generated entry from two random words: x decides, y supplies
 * addresses and raw values. x bits: 5:0 raw (1 in 64), 9:6 target, 12:10
 * region frame, 16:13 PS, 18:17 large-page alignment, 23:19 P, 26:24 R/W,
 * 29:27 U/S, 40:32 PWT/PCD/A/D/G, 42:41 XD, 46:43 key, 52:47 reserved-bit
 * flip, 58:53 which bit, 60:59 key present. */
NOT_INSTRUMENTED static uint64_t gen_entry(const struct run *r, const struct gen *g, uint64_t *s)
{
	uint64_t x = rng_next(s), y = rng_next(s);
	if ((x & 63) == 0)
		return y;
	uint64_t v, frames = y & phys_mask(r) & ~UINT64_C(0xfff);
	unsigned target = (x >> 6) & 15;
	if (target < 11) /* back into the region */
		v = REGION_BASE + ((x >> 10) & (REGION_FRAMES - 1)) * PHYS_FRAME_SIZE;
	else if (target < 12)
		v = ZERO_FRAME;
	else if (target < 14) /* past the end of RAM: reads return all ones */
		v = (RAM_SIZE + frames) & phys_mask(r) & ~UINT64_C(0xfff);
	else /* anywhere below MAXPHYADDR */
		v = frames;
	if (((x >> 13) & 15) < g->large) {
		/* A large page: often aligned, else with whatever lies in the
		 * (reserved) low address bits. */
		static const unsigned align[4] = {12, 21, 22, 30};
		v = (v & ~((UINT64_C(1) << align[(x >> 17) & 3]) - 1)) | PTE_PS;
	}
	if (((x >> 19) & 31) >= g->absent)
		v |= PTE_P;
	if (((x >> 24) & 7) >= g->closed)
		v |= PTE_RW;
	if (((x >> 27) & 7) >= g->closed)
		v |= PTE_US;
	v |= (x >> 32) & (PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_G);
	if (((x >> 41) & 3) == 0)
		v |= PTE_XD;
	if (((x >> 59) & 3) == 0) /* reserved in PAE paging: only now and then */
		v |= ((x >> 43) & 15) << PTE_PKEY_SHIFT;
	if (((x >> 47) & 63) < g->reserved) {
		/* Half the time a bit at the edge of a field. */
		unsigned edges[16] = {7, 12, 13, 20, 21, 22, 29, 30, r->maxphyaddr - 1,
				      r->maxphyaddr, 51, 52, 58, 59, 62, 63};
		unsigned b = (x >> 53) & 1 ? edges[(x >> 54) & 15] : (unsigned)(x >> 53);
		v ^= BIT64(b & (8 * entry_bytes(r) - 1));
	}
	return v;
}

/* Fill the region straight in RAM (no frame is watched). */
NOT_INSTRUMENTED static void fill_region(const struct run *r, const struct gen *g)
{
	uint64_t s = g->seed | 1;
	uint8_t *ram = r->m->phys.ram + REGION_BASE;
	for (size_t off = 0; off < REGION_FRAMES * PHYS_FRAME_SIZE;) {
		uint64_t v = gen_entry(r, g, &s);
		if (r->mode == PAGING_32) {
			uint32_t v32 = (uint32_t)v;
			memcpy(ram + off, &v32, 4);
			off += 4;
		} else {
			memcpy(ram + off, &v, 8);
			off += 8;
		}
	}
}

/* Entry write: frame and slot are reduced into the region. */
static void poke(struct run *r, struct input *in)
{
	uint64_t frame = in_u8(in) % REGION_FRAMES;
	uint64_t slot = in_bytes(in, 2) % (PHYS_FRAME_SIZE / entry_bytes(r));
	uint64_t v = in_bytes(in, 8);
	uint64_t pa = REGION_BASE + frame * PHYS_FRAME_SIZE + slot * entry_bytes(r);
	phys_write(&r->m->phys, pa, v, entry_bytes(r));
	phys_write(&r->twin->phys, pa, v, entry_bytes(r));
}

/* ---- control state ------------------------------------------------------------ */

/* A CR3 value the mode allows (MOV to CR3 would take it): its table in the
 * region, at the zero frame, just past RAM or at the top of the physical
 * address space; PAE: a PDPT anywhere 32-byte aligned; with CR4.PCIDE a
 * PCID, else PWT/PCD. */
static uint64_t choose_cr3(const struct run *r, uint8_t sel, uint16_t low)
{
	uint64_t base;
	if (sel % 16 < 12)
		base = REGION_BASE + (sel % REGION_FRAMES) * PHYS_FRAME_SIZE;
	else if (sel % 16 < 14)
		base = ZERO_FRAME;
	else if (sel % 16 < 15)
		base = RAM_SIZE + ((uint64_t)low << 12);
	else
		base = (ia32e(r) ? phys_mask(r) : UINT64_C(0xffffffff)) & ~UINT64_C(0xfff);
	if (r->mode == PAGING_PAE)
		return base | (low & 0xfe0);
	if (ia32e(r) && (r->flags & FL_PCIDE))
		return base | (low & CR3_PCID_MASK);
	return base | (low & (CR3_PWT | CR3_PCD));
}

/* Control registers for the run's mode and flags, consistent as MOV to CR0,
 * CR4 and WRMSR would keep them. */
static void compose_control(const struct run *r, uint64_t *cr0, uint64_t *cr4, uint64_t *efer)
{
	uint8_t fl = r->flags;
	*cr0 = CR0_PE | CR0_ET | (r->mode != PAGING_NONE ? CR0_PG : 0) | ((fl & FL_WP) ? CR0_WP : 0);
	*cr4 = ((fl & FL_SMEP) ? CR4_SMEP : 0) | ((fl & FL_SMAP) ? CR4_SMAP : 0) |
	       ((fl & FL_PSE) ? CR4_PSE : 0) | ((fl & FL_PGE) ? CR4_PGE : 0) |
	       ((fl & FL_PKE) ? CR4_PKE : 0);
	*efer = (fl & FL_NXE) ? EFER_NXE : 0;
	if (r->mode == PAGING_PAE || ia32e(r))
		*cr4 |= CR4_PAE;
	if (ia32e(r)) {
		*efer |= EFER_LME | EFER_LMA;
		if (fl & FL_PCIDE)
			*cr4 |= CR4_PCIDE;
	}
	if (r->mode == PAGING_5LEVEL)
		*cr4 |= CR4_LA57;
}

/* PAE: clear the reserved bits of the four PDPTEs CR3 points at (Table 4-8),
 * so that most runs get past the PDPTE load; the PDPTEs of generated
 * memory nearly always have R/W or U/S set. */
static void clean_pdpt(struct run *r, uint64_t cr3)
{
	uint64_t rsvd = BIT64(1) | BIT64(2) | (UINT64_C(0xf) << 5) | ~phys_mask(r);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t pa = (cr3 & CR3_PAE_PDPT_MASK) + 8 * i;
		if (phys_in_ram(&r->m->phys, pa, 8))
			phys_write(&r->m->phys, pa, phys_read(&r->m->phys, pa, 8) & ~rsvd, 8);
	}
}

/* Reload everything with mmu_set_control: every TLB and PWC entry dropped. */
static void reload(struct run *r, uint64_t cr3)
{
	uint64_t cr0, cr4, efer;
	compose_control(r, &cr0, &cr4, &efer);
	mmu_set_control(r->m, cr0, cr3, cr4, efer);
	mmu_set_control(r->twin, cr0, cr3, cr4, efer);
	r->cpu.cr0 = cr0;
	r->cpu.cr3 = cr3;
	r->cpu.cr4 = cr4;
	r->cpu.efer = efer;
	r->stale = false;
	r->pdpte_bad = false;
	if (r->mode == PAGING_PAE)
		r->pdpte_bad = !ref_load_pdptes(&r->mem, cr3, r->maxphyaddr, r->cpu.pdpte);
}

static void mov_cr3(struct run *r, struct input *in)
{
	uint8_t sel = in_u8(in);
	uint16_t low = (uint16_t)in_bytes(in, 2);
	uint64_t v = choose_cr3(r, sel, low);
	bool noflush = ia32e(r) && (r->flags & FL_PCIDE) && (sel & 0x80);
	if (noflush)
		v |= CR3_NOFLUSH;
	uint64_t regs[4];
	bool expect_ok = true;
	if (r->mode == PAGING_PAE)
		expect_ok = ref_load_pdptes(&r->mem, v, r->maxphyaddr, regs);
	struct mmu_fault f = {0}, ft = {0};
	bool ok = mmu_write_cr3(r->m, v, &f);
	if (mmu_write_cr3(r->twin, v, &ft) != ok)
		fail(r, "MOV to CR3 differs on the generic miss path");
	if (ok != expect_ok)
		fail(r, ok ? "MOV to CR3 loaded PDPTEs with reserved bits" : "MOV to CR3 faulted");
	if (!ok) {
		if (f.vector != VEC_GP || f.error_code != 0)
			fail(r, "MOV to CR3 raised something other than #GP(0)");
		return;
	}
	r->cpu.cr3 = v & ~CR3_NOFLUSH;
	if (r->mode == PAGING_PAE) {
		memcpy(r->cpu.pdpte, regs, sizeof regs);
		r->pdpte_bad = false;
	}
	/* Global entries (CR4.PGE) and other PCIDs' entries survive. */
	if (r->flags & (FL_PGE | FL_PCIDE))
		r->stale = true;
}

/* ---- translations ---------------------------------------------------------- */

static uint64_t canonical(const struct run *r, uint64_t la)
{
	unsigned bits = r->mode == PAGING_5LEVEL ? 57 : 48;
	return (uint64_t)((int64_t)(la << (64 - bits)) >> (64 - bits));
}

static uint64_t read_la(struct run *r, struct input *in, uint8_t how)
{
	uint64_t la = (how & 0x80) ? r->last_la : in_bytes(in, 8);
	if (ia32e(r) && !(how & 0x40))
		la = canonical(r, la);
	if (!ia32e(r))
		la &= UINT64_C(0xffffffff);
	r->last_la = la;
	return la;
}

static void check_debug(struct run *r, uint64_t la, unsigned acc, const struct ref_result *ref)
{
	struct mmu_debug_walk w;
	bool ok = mmu_debug_translate(r->m, la, acc, &w);
	char buf[256], rs[128];
	bool same = ok == (ref->outcome == REF_OK);
	if (same && ok)
		same = w.pa == ref->pa && w.pkey == ref->pkey &&
		       (ref->nentries == 0 ||
			mmu_page_shift((enum mmu_page_size)w.size) == ref->page_shift);
	if (same && !ok)
		same = ref->outcome == REF_PF ? w.fault.vector == VEC_PF &&
							w.fault.error_code == ref->error_code &&
							w.fault.cr2 == ref->cr2
					      : w.fault.vector == VEC_GP;
	same = same && w.nlevels == ref->nentries;
	for (unsigned i = 0; same && i < ref->nentries; i++)
		same = w.lv[i].level == ref->entry[i].level && w.lv[i].entry_pa == ref->entry[i].pa &&
		       w.lv[i].entry == ref->entry[i].value;
	if (!same) {
		snprintf(buf, sizeof buf,
			 "la %#llx acc %#x: mmu_debug_translate %s pa %#llx ec %#x (%u entries), "
			 "reference %s (%u entries)",
			 (unsigned long long)la, acc, ok ? "ok" : "fault", (unsigned long long)w.pa,
			 w.fault.error_code, w.nlevels, ref_result_str(ref, rs, sizeof rs),
			 ref->nentries);
		fail(r, buf);
	}
}

static void check_outcome(struct run *r, uint64_t la, unsigned acc, bool ok,
			  const struct mmu_xlate *x, const struct ref_result *ref)
{
	bool same = false;
	switch (ref->outcome) {
	case REF_OK:
		same = ok && x->pa == ref->pa;
		break;
	case REF_PF:
		same = !ok && x->fault.vector == VEC_PF && x->fault.error_code == ref->error_code &&
		       x->fault.cr2 == ref->cr2;
		break;
	case REF_GP:
		same = !ok && x->fault.vector == VEC_GP && x->fault.error_code == 0;
		break;
	}
	if (!same) {
		char buf[256], rs[128];
		snprintf(buf, sizeof buf,
			 "la %#llx acc %#x: mmu_translate %s pa %#llx vector %u ec %#x, reference %s",
			 (unsigned long long)la, acc, ok ? "ok" : "fault", (unsigned long long)x->pa,
			 x->fault.vector, x->fault.error_code, ref_result_str(ref, rs, sizeof rs));
		fail(r, buf);
	}
}

static void check_flags(struct run *r, const struct ref_result *ref, const uint64_t *before)
{
	for (unsigned i = 0; i < ref->nentries; i++) {
		const struct ref_entry *e = &ref->entry[i];
		if (e->reg)
			continue;
		uint64_t want = before[i];
		if (ref->outcome == REF_OK)
			for (unsigned j = 0; j < ref->nentries; j++)
				if (!ref->entry[j].reg && ref->entry[j].pa == e->pa)
					want |= ref->entry[j].set;
		uint64_t have = phys_read(&r->m->phys, e->pa, e->bytes);
		if (have != want) {
			char buf[200];
			snprintf(buf, sizeof buf,
				 "level-%u entry at %#llx is %#llx after the access, expected %#llx",
				 e->level, (unsigned long long)e->pa, (unsigned long long)have,
				 (unsigned long long)want);
			fail(r, buf);
		}
	}
}

/* The generic miss path gave the same outcome and left the same state. */
static void check_twin(struct run *r, uint64_t la, unsigned acc, bool ok, const struct mmu_xlate *x,
		       bool ok_twin, const struct mmu_xlate *xt)
{
	char why[160], buf[256];
	if (!mmu_compare_xlate(ok, x, ok_twin, xt, why, sizeof why) ||
	    !mmu_compare_state(r->m, r->twin, false, why, sizeof why)) {
		snprintf(buf, sizeof buf, "la %#llx acc %#x: fast/generic miss path: %s",
			 (unsigned long long)la, acc, why);
		fail(r, buf);
	}
}

static void translate(struct run *r, struct input *in)
{
	uint8_t how = in_u8(in);
	enum mmu_access_kind kind = (enum mmu_access_kind)((how & 3) % 3);
	unsigned cpl = (how >> 2) & 3;
	bool implicit = (how >> 4) & 1, ac = (how >> 5) & 1;
	uint64_t la = read_la(r, in, how);
	unsigned acc = mmu_acc(kind, cpl, implicit, ac);
	struct ref_access ra = {.la = la, .kind = (enum ref_kind)kind, .cpl = cpl,
				.implicit = implicit, .ac = ac};
	struct ref_result ref;
	uint64_t before[REF_MAX_ENTRIES] = {0};
	bool compare = !r->pdpte_bad;
	if (compare) {
		ref_translate(&r->cpu, &r->mem, &ra, &ref);
		for (unsigned i = 0; i < ref.nentries; i++)
			if (!ref.entry[i].reg)
				before[i] = phys_read(&r->m->phys, ref.entry[i].pa, ref.entry[i].bytes);
		check_debug(r, la, acc, &ref);
	}
	struct mmu_xlate x, xt;
	bool ok = mmu_translate(r->m, la, acc, &x);
	bool ok_twin = mmu_translate(r->twin, la, acc, &xt);
	check_twin(r, la, acc, ok, &x, ok_twin, &xt);
	if (ok && (x.pa >> 52))
		fail(r, "physical address beyond 52 bits");
	if (!compare)
		return;
	if (!r->stale) {
		check_outcome(r, la, acc, ok, &x, &ref);
		check_flags(r, &ref, before);
	} else if ((ref.outcome == REF_GP) != (!ok && x.fault.vector == VEC_GP)) {
		fail(r, "#GP outcome differs with stale TLBs");
	}
}

/* ---- the run ---------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero_frame[PHYS_FRAME_SIZE];
	struct input in = {data, size};
	struct run r = {0};
	static const enum mmu_paging_mode modes[] = {PAGING_NONE, PAGING_32, PAGING_PAE,
						     PAGING_4LEVEL, PAGING_5LEVEL};
	r.mode = modes[in_u8(&in) % 5];
	r.flags = in_u8(&in);
	unsigned mi = in_u8(&in) % N_MACHINES;
	r.m = machine(mi, false);
	r.twin = machine(mi, true);
	r.maxphyaddr = maxphyaddrs[mi];
	r.mem.ram = r.m->phys.ram;
	r.mem.size = r.m->phys.size;
	r.cpu.maxphyaddr = r.maxphyaddr;
	r.cpu.pkru = (uint32_t)in_bytes(&in, 4);
	uint8_t cr3_sel = in_u8(&in);
	uint16_t cr3_low = (uint16_t)in_bytes(&in, 2);
	struct gen g = {.seed = in_bytes(&in, 4)};
	uint8_t d = in_u8(&in);
	g.absent = d & 7;
	g.large = (d >> 3) & 7;
	g.closed = d >> 6;
	uint8_t rb = in_u8(&in);
	g.reserved = rb & 7;
	if (!ia32e(&r))
		r.flags &= (uint8_t)~FL_PCIDE;

	fill_region(&r, &g);
	for (unsigned n = in_u8(&in) % 32; n; n--)
		poke(&r, &in);
	uint64_t cr3 = choose_cr3(&r, cr3_sel, cr3_low);
	if (r.mode == PAGING_PAE && !(rb & 0x80))
		clean_pdpt(&r, cr3);
	/* The twin starts from the same memory: the region and its PDPT clean-up. */
	memcpy(r.twin->phys.ram, r.m->phys.ram, RAM_SIZE);
	reload(&r, cr3);
	mmu_write_pkru(r.m, r.cpu.pkru);
	mmu_write_pkru(r.twin, r.cpu.pkru);

	for (r.op = 0; in.left && r.op < MAX_OPS; r.op++) {
		switch (in_u8(&in) % 12) {
		case 0: case 1: case 2: case 3: case 4: case 5:
			translate(&r, &in);
			break;
		case 6: {
			struct mmu_fault f;
			uint64_t la = read_la(&r, &in, in_u8(&in));
			bool ok = mmu_invlpg(r.m, la, &f) && mmu_invlpg(r.twin, la, &f);
			if (!ok)
				fail(&r, "INVLPG faulted");
			break;
		}
		case 7:
			mov_cr3(&r, &in);
			break;
		case 8:
			r.cpu.pkru = (uint32_t)in_bytes(&in, 4);
			mmu_write_pkru(r.m, r.cpu.pkru);
			mmu_write_pkru(r.twin, r.cpu.pkru);
			break;
		case 9:
			r.flags = in_u8(&in);
			if (!ia32e(&r))
				r.flags &= (uint8_t)~FL_PCIDE;
			reload(&r, r.cpu.cr3);
			break;
		case 10:
			poke(&r, &in);
			r.stale = true;
			break;
		default:
			reload(&r, r.cpu.cr3);
			break;
		}
	}

	if (memcmp(r.m->phys.ram + ZERO_FRAME, zero_frame, sizeof zero_frame) != 0)
		fail(&r, "the zero frame was written");
	char why[160];
	if (memcmp(r.m->phys.ram, r.twin->phys.ram, RAM_SIZE) != 0)
		fail(&r, "RAM differs on the generic miss path (A/D flags)");
	if (!mmu_compare_state(r.m, r.twin, true, why, sizeof why))
		fail(&r, why);
	/* The region is rebuilt by the next input; nothing else was written. */
	return 0;
}
