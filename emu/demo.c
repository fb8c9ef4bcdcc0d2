/* The MMU demonstration: builds 4-level page tables in guest RAM, runs a
 * scripted sequence of accesses through the model and prints, for each one,
 * the outcome, where it was served (TLB level or walk), every walk read with
 * the data-cache level that served it, and the cycles; then the statistics.
 */
#include "emu/demo.h"

#include <inttypes.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/ptbuild.h"

struct demo {
	struct mmu m;
	struct ptb pt;
	FILE *out;
	struct mmu_observer obs;
	unsigned steps;
	struct mmu_walk_step step[6];
	unsigned ad;
};

static void demo_on_step(void *ctx, const struct mmu_walk_step *s)
{
	struct demo *d = ctx;
	if (d->steps < 6)
		d->step[d->steps++] = *s;
}

static void demo_on_ad(void *ctx, uint64_t pa, uint64_t old, uint64_t new_)
{
	struct demo *d = ctx;
	(void)pa, (void)old, (void)new_;
	d->ad++;
}

static const char *demo_level_name(unsigned level)
{
	static const char *const names[] = {"", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
	return level <= 5 ? names[level] : "?";
}

static const char *demo_acc_name(unsigned acc)
{
	static const char *const kind[] = {"read", "write", "fetch", "?"};
	static char buf[32];
	snprintf(buf, sizeof buf, "%s %s", (acc & ACC_USER) ? "user" : "kern", kind[acc & 3]);
	return buf;
}

static void demo_access(struct demo *d, const char *what, uint64_t la, unsigned acc)
{
	static const char *const src[] = {"no paging", "L1 TLB hit", "L2 TLB hit", "page walk"};
	struct mmu_xlate x;
	d->steps = 0;
	d->ad = 0;
	bool ok = mmu_translate(&d->m, la, acc, &x);
	fprintf(d->out, "\n%s\n  %-10s la %#018" PRIx64 "  ", what, demo_acc_name(acc), la);
	if (ok)
		fprintf(d->out, "-> pa %#" PRIx64 " (%s page), %s", x.pa,
			mmu_page_size_name((enum mmu_page_size)x.size), src[x.source]);
	else
		fprintf(d->out, "-> #%s error code %#x%s", x.fault.vector == VEC_PF ? "PF" : "GP",
			x.fault.error_code, x.fault.vector == VEC_PF ? "" : " (non-canonical)");
	fprintf(d->out, ", %u cycles\n", x.cycles);
	if (x.pwc_level)
		fprintf(d->out, "    paging-structure cache hit: %s cache\n",
			demo_level_name(x.pwc_level));
	for (unsigned i = 0; i < d->steps; i++) {
		const struct mmu_walk_step *s = &d->step[i];
		fprintf(d->out, "    %-6s @ %#010" PRIx64 " = %#018" PRIx64 "  %-4s %3u cycles\n",
			demo_level_name(s->level), s->entry_pa, s->entry,
			d->m.model.walk_timing == WALK_TIMING_FLAT
				? "flat"
				: mmu_cache_level_name((enum mmu_cache_level)s->cache),
			s->cycles);
	}
	if (d->ad)
		fprintf(d->out, "    accessed/dirty flags written back: %u\n", d->ad);
}

#define KERN(k) mmu_acc(k, 0, false, false)
#define USER(k) mmu_acc(k, 3, false, false)

static bool demo_build(struct demo *d)
{
	/* Layout: tables from 1 MiB; user pages at 0x400000; a 2M page; a
	 * 1G page; a global kernel page in the upper half. */
	const uint64_t urw = PTE_P | PTE_RW | PTE_US, tbl = PTE_P | PTE_RW | PTE_US;
	bool ok = ptb_init(&d->pt, &d->m.phys, PAGING_4LEVEL, 0x100000, 0x200000);
	ok = ok && ptb_map(&d->pt, 0x400000, 0x300000, PG_4K, urw | PTE_A, tbl);
	ok = ok && ptb_map(&d->pt, 0x401000, 0x301000, PG_4K, urw, tbl);
	ok = ok && ptb_map(&d->pt, 0x402000, 0x302000, PG_4K, PTE_P | PTE_US | PTE_XD, tbl);
	ok = ok && ptb_map(&d->pt, 0x600000, 0x800000, PG_2M, urw, tbl);
	ok = ok && ptb_map(&d->pt, 0x40000000, 0x0, PG_1G, PTE_P | PTE_RW, tbl);
	ok = ok && ptb_map(&d->pt, UINT64_C(0xffffffff80000000), 0x200000, PG_4K,
			   PTE_P | PTE_RW | PTE_G, PTE_P | PTE_RW);
	/* A PTE with a reserved bit (bit 51) set, for the RSVD fault. */
	ok = ok && ptb_map(&d->pt, 0x403000, 0x303000 | BIT64(51), PG_4K, urw, tbl);
	return ok;
}

int demo_run(const struct mmu_model *model, FILE *out)
{
	static struct demo d;
	char err[200];
	memset(&d, 0, sizeof d);
	d.out = out;
	if (!mmu_init(&d.m, model, 16 << 20, err, sizeof err)) {
		fprintf(stderr, "mmulab: %s\n", err);
		return 1;
	}
	if (!demo_build(&d)) {
		fprintf(stderr, "mmulab: mmu-demo: page-table pool exhausted\n");
		mmu_free(&d.m);
		return 1;
	}
	d.obs = (struct mmu_observer){.ctx = &d, .walk_step = demo_on_step, .ad_update = demo_on_ad};
	mmu_set_observer(&d.m, &d.obs);
	mmu_set_control(&d.m, CR0_PE | CR0_PG | CR0_WP, ptb_cr3(&d.pt, 0),
			CR4_PAE | CR4_PGE, EFER_LME | EFER_LMA | EFER_NXE);
	fprintf(out, "mmulab mmu-demo: model '%s', 4-level paging, CR0.WP=1, CR4.PGE=1, EFER.NXE=1\n",
		model->name);

	demo_access(&d, "1. First touch of a user page: a full walk, every read from DRAM", 0x400010, USER(ACC_READ));
	demo_access(&d, "2. The same page again: served by the L1 DTLB", 0x400020, USER(ACC_READ));
	demo_access(&d, "3. Fetch from the same page: the L1 ITLB misses, the L2 TLB hits", 0x400030, USER(ACC_FETCH));
	demo_access(&d, "4. The next page: the PDE cache skips three levels", 0x401000, USER(ACC_READ));
	demo_access(&d, "5. A write to it: the entry was cached clean, so the walker sets D", 0x401008, USER(ACC_WRITE));
	demo_access(&d, "6. A write to a read-only page from user mode", 0x402000, USER(ACC_WRITE));
	demo_access(&d, "7. A fetch from an execute-disable page", 0x402000, USER(ACC_FETCH));
	demo_access(&d, "8. A PTE with a reserved bit set", 0x403000, USER(ACC_READ));
	demo_access(&d, "9. A hole: no PTE", 0x404000, USER(ACC_READ));
	demo_access(&d, "10. A 2-MByte page", 0x6abcde, USER(ACC_WRITE));
	demo_access(&d, "11. A 1-GByte supervisor page, read from user mode", 0x40001000, USER(ACC_READ));
	demo_access(&d, "12. The same page from the kernel", 0x40001000, KERN(ACC_READ));
	demo_access(&d, "13. A global kernel page", UINT64_C(0xffffffff80000123), KERN(ACC_WRITE));
	demo_access(&d, "14. A non-canonical address", UINT64_C(0x0000800000000000), KERN(ACC_READ));

	struct mmu_fault f;
	if (!mmu_write_cr3(&d.m, ptb_cr3(&d.pt, 0), &f))
		fprintf(out, "unexpected #GP from MOV to CR3\n");
	fprintf(out, "\n-- MOV to CR3: non-global TLB entries and the paging-structure caches are flushed --\n");
	demo_access(&d, "15. The global kernel page survives the CR3 write", UINT64_C(0xffffffff80000456), KERN(ACC_READ));
	demo_access(&d, "16. The user page does not: a walk, now served by the data caches", 0x400040, USER(ACC_READ));

	fprintf(out, "\nstatistics:\n");
	mmu_stats_print(&d.m, out);
	mmu_free(&d.m);
	return 0;
}
