/* The IA-32e fast miss path (mmu/walk_fast.c) against the generic walk
 * (mmu/walk.c): two machines with the same model, RAM and control state,
 * one forced onto the generic path (struct mmu walk_generic), run the same
 * random operations — translations of every access kind and privilege,
 * INVLPG, MOV to CR3, rewrites of paging-structure entries — over random
 * paging structures. After every operation the outcomes (physical address
 * or fault, error code, CR2, cycles, source, page size, walk reads, PWC
 * level), the statistics, the paging structures in memory (A/D flags), and
 * the TLB and paging-structure-cache contents must be identical; the
 * data-cache model's contents are compared at the end of each run.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"
#include "tests/mmu_compare.h"

#define DIFF_RAM (UINT64_C(4) << 20)
#define REGION_BASE UINT64_C(0x100000)
#define REGION_FRAMES 16
#define RUNS 120
#define OPS_PER_RUN 400

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(0x2545f4914f6cdd1d);
}

struct pair {
	struct mmu fast, generic;
	uint64_t seed;
	unsigned op;
};

static void pair_init(struct pair *p, const char *model_name)
{
	struct mmu_model model;
	char err[256];
	cr_assert(mmu_model_resolve(&model, model_name, err, sizeof err), "%s", err);
	cr_assert(mmu_init(&p->fast, &model, DIFF_RAM, err, sizeof err), "%s", err);
	cr_assert(mmu_init(&p->generic, &model, DIFF_RAM, err, sizeof err), "%s", err);
	p->generic.walk_generic = true;
}

static void pair_free(struct pair *p)
{
	mmu_free(&p->fast);
	mmu_free(&p->generic);
}

/* One paging-structure entry: mostly present, pointing back into the
 * region, with random rights, A/D/G, PS, XD, keys and now and then one
 * flipped bit anywhere (reserved bits included). */
static uint64_t gen_entry(uint64_t *s)
{
	uint64_t x = rng_next(s), y = rng_next(s);
	uint64_t v = REGION_BASE + (x % REGION_FRAMES) * PHYS_FRAME_SIZE;
	if ((x >> 8) % 16 == 0)
		v |= PTE_PS;
	if ((x >> 12) % 16 != 0)
		v |= PTE_P;
	v |= ((x >> 16) % 4 ? PTE_RW : 0) | ((x >> 18) % 4 ? PTE_US : 0);
	v |= (x >> 20) & (PTE_A | PTE_D | PTE_G);
	if ((x >> 30) % 8 == 0)
		v |= PTE_XD;
	if ((x >> 33) % 8 == 0)
		v |= ((x >> 36) & 15) << PTE_PKEY_SHIFT;
	if ((x >> 40) % 32 == 0)
		v ^= BIT64(y % 64);
	return v;
}

static void poke_both(struct pair *p, uint64_t pa, uint64_t v)
{
	phys_write(&p->fast.phys, pa, v, 8);
	phys_write(&p->generic.phys, pa, v, 8);
}

static void fill_region(struct pair *p, uint64_t *s)
{
	for (uint64_t off = 0; off < REGION_FRAMES * PHYS_FRAME_SIZE; off += 8)
		poke_both(p, REGION_BASE + off, gen_entry(s));
}

/* Linear addresses from a small pool of indexes per level, so TLBs and
 * PWCs both hit and evict; sometimes anything at all (non-canonical). */
static uint64_t gen_la(uint64_t *s, bool la57)
{
	uint64_t x = rng_next(s);
	if (x % 64 == 0)
		return rng_next(s);
	uint64_t la = (x & 1) << 48 | ((x >> 1) & 3) << 39 | ((x >> 3) & 3) << 30 |
		      ((x >> 5) & 7) << 21 | ((x >> 8) & 31) << 12 | ((x >> 13) & 0xfff);
	if ((x >> 30) & 1) /* the upper half */
		la |= la57 ? ~((UINT64_C(1) << 56) - 1) : ~((UINT64_C(1) << 47) - 1);
	else if (!la57)
		la &= (UINT64_C(1) << 47) - 1;
	return la;
}

static void set_control(struct pair *p, uint64_t *s)
{
	uint64_t x = rng_next(s);
	uint64_t cr0 = CR0_PE | CR0_PG | (x & 1 ? CR0_WP : 0);
	uint64_t cr4 = CR4_PAE | (x & 2 ? CR4_SMEP : 0) | (x & 4 ? CR4_SMAP : 0) |
		       (x & 8 ? CR4_PGE : 0) | (x & 16 ? CR4_PCIDE : 0) | (x & 32 ? CR4_LA57 : 0) |
		       ((x >> 6) % 8 == 0 ? CR4_PKE : 0);
	uint64_t efer = EFER_LME | EFER_LMA | ((x >> 9) % 4 ? EFER_NXE : 0);
	uint64_t cr3 = REGION_BASE + ((x >> 12) % REGION_FRAMES) * PHYS_FRAME_SIZE;
	if (cr4 & CR4_PCIDE)
		cr3 |= (x >> 20) % 4;
	mmu_set_control(&p->fast, cr0, cr3, cr4, efer);
	mmu_set_control(&p->generic, cr0, cr3, cr4, efer);
	mmu_write_pkru(&p->fast, (uint32_t)(x >> 32));
	mmu_write_pkru(&p->generic, (uint32_t)(x >> 32));
}

/* Everything but the data caches after each operation; those too at the
 * end of a run (they are large). */
static void expect_same_state(const struct pair *p, bool with_caches)
{
	char why[200];
	cr_assert(mmu_compare_state(&p->fast, &p->generic, with_caches, why, sizeof why),
		  "run %#llx op %u: %s differ", (unsigned long long)p->seed, p->op, why);
	cr_assert(!memcmp(p->fast.phys.ram + REGION_BASE, p->generic.phys.ram + REGION_BASE,
			  REGION_FRAMES * PHYS_FRAME_SIZE),
		  "run %#llx op %u: paging structures differ (A/D flags)",
		  (unsigned long long)p->seed, p->op);
}

static void translate_both(struct pair *p, uint64_t *s)
{
	uint64_t x = rng_next(s);
	unsigned acc = mmu_acc((enum mmu_access_kind)(x % 3), (x >> 2) & 1 ? 3 : 0, (x >> 3) % 8 == 0,
			       (x >> 6) & 1);
	uint64_t la = gen_la(s, p->fast.cr4 & CR4_LA57);
	struct mmu_xlate a, b;
	memset(&a, 0xa5, sizeof a);
	memset(&b, 0xa5, sizeof b);
	bool ok_a = mmu_translate(&p->fast, la, acc, &a);
	bool ok_b = mmu_translate(&p->generic, la, acc, &b);
	char why[200];
	cr_assert(mmu_compare_xlate(ok_a, &a, ok_b, &b, why, sizeof why),
		  "run %#llx op %u: la %#llx acc %#x: fast/generic: %s", (unsigned long long)p->seed,
		  p->op, (unsigned long long)la, acc, why);
}

static void other_op(struct pair *p, uint64_t *s, unsigned which)
{
	struct mmu_fault fa, fb;
	switch (which) {
	case 0: { /* INVLPG */
		uint64_t la = gen_la(s, p->fast.cr4 & CR4_LA57);
		cr_assert_eq(mmu_invlpg(&p->fast, la, &fa), mmu_invlpg(&p->generic, la, &fb));
		break;
	}
	case 1: { /* MOV to CR3, with a PCID and the no-flush bit when enabled */
		uint64_t x = rng_next(s);
		uint64_t cr3 = REGION_BASE + (x % REGION_FRAMES) * PHYS_FRAME_SIZE;
		if (p->fast.cr4 & CR4_PCIDE)
			cr3 |= ((x >> 8) % 4) | ((x >> 10) & 1 ? CR3_NOFLUSH : 0);
		cr_assert_eq(mmu_write_cr3(&p->fast, cr3, &fa), mmu_write_cr3(&p->generic, cr3, &fb));
		break;
	}
	default: { /* rewrite one entry; TLBs and PWCs may now be stale */
		uint64_t slot = rng_next(s) % (REGION_FRAMES * PHYS_FRAME_SIZE / 8);
		poke_both(p, REGION_BASE + slot * 8, gen_entry(s));
		break;
	}
	}
}

static void run_pairs(const char *model_name, uint64_t seed0)
{
	struct pair *p = calloc(1, sizeof *p);
	cr_assert(p);
	pair_init(p, model_name);
	uint64_t walks = 0;
	for (unsigned run = 0; run < RUNS; run++) {
		uint64_t s = seed0 + run * UINT64_C(0x9e3779b97f4a7c15);
		p->seed = s;
		fill_region(p, &s);
		set_control(p, &s);
		for (p->op = 0; p->op < OPS_PER_RUN; p->op++) {
			uint64_t x = rng_next(&s) % 32;
			if (x < 28)
				translate_both(p, &s);
			else
				other_op(p, &s, (unsigned)(x - 28) % 3);
			expect_same_state(p, false);
		}
		expect_same_state(p, true);
		walks += p->fast.stats.walks;
	}
	/* The scenario must exercise the fast path: many walks, not only hits. */
	cr_assert_gt(walks, RUNS * OPS_PER_RUN / 8, "only %llu walks", (unsigned long long)walks);
	pair_free(p);
	free(p);
}

Test(walk_fast, matches_generic_walk_under_the_cached_model)
{
	run_pairs("skylake", 1);
}

Test(walk_fast, matches_generic_walk_under_the_flat_model)
{
	run_pairs("flat", 2);
}

/* A hand-built 4-level walk from CR3 (every TLB and PWC empty), a user
 * write: the fast path's result is the architectural one (A in every
 * entry, D in the PTE) and equal to the generic path's in every respect. */
Test(walk_fast, serves_a_full_walk_with_the_generic_outcome)
{
	struct pair *p = calloc(1, sizeof *p);
	cr_assert(p);
	pair_init(p, "skylake");
	/* CR3 -> PML4 at +0 -> PDPT at +1 -> PD at +2 -> PT at +3 -> page. */
	uint64_t t = REGION_BASE, flags = PTE_P | PTE_RW | PTE_US;
	poke_both(p, t, (t + PHYS_FRAME_SIZE) | flags);
	poke_both(p, t + PHYS_FRAME_SIZE, (t + 2 * PHYS_FRAME_SIZE) | flags);
	poke_both(p, t + 2 * PHYS_FRAME_SIZE, (t + 3 * PHYS_FRAME_SIZE) | flags);
	poke_both(p, t + 3 * PHYS_FRAME_SIZE + 8 * 5, UINT64_C(0x300000) | flags);
	mmu_set_control(&p->fast, CR0_PE | CR0_PG | CR0_WP, t, CR4_PAE, EFER_LME | EFER_LMA);
	mmu_set_control(&p->generic, CR0_PE | CR0_PG | CR0_WP, t, CR4_PAE, EFER_LME | EFER_LMA);
	struct mmu_xlate a;
	cr_assert(mmu_translate(&p->fast, 0x5123, mmu_acc(ACC_WRITE, 3, false, false), &a));
	cr_assert_eq(a.pa, 0x300123);
	cr_assert_eq(a.source, SRC_WALK);
	cr_assert_eq(a.walk_reads, 4);
	cr_assert_eq(p->fast.stats.ad_updates, 4, "A in four entries, D in the PTE");
	cr_assert_eq(phys_read(&p->fast.phys, t + 3 * PHYS_FRAME_SIZE + 8 * 5, 8),
		     UINT64_C(0x300000) | flags | PTE_A | PTE_D);
	struct mmu_xlate b;
	cr_assert(mmu_translate(&p->generic, 0x5123, mmu_acc(ACC_WRITE, 3, false, false), &b));
	char why[200];
	cr_assert(mmu_compare_xlate(true, &a, true, &b, why, sizeof why), "%s", why);
	expect_same_state(p, true);
	pair_free(p);
	free(p);
}
