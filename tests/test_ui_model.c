/* The visualizer's panel models against the guest kernel's own reports:
 * boot the bundled kernel in-process, stop right after it printed
 * buddyinfo, slabinfo, vmallocinfo and meminfo, and compare those
 * numbers with what the models read from guest memory at that point.
 * GUEST_KERNEL_PATH is the kernel image; LONG_MODE_IMAGE a small test
 * kernel without VMCOREINFO. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/machine.h"
#include "emu/snapshot.h"
#include "mmu/paging.h"
#include "ui/hwmodel.h"
#include "ui/kmodel.h"
#include "ui/pgtree.h"
#include "ui/vmcore.h"

#define OUT_MAX (1u << 20)
#define REPORT_END "\nSUnreclaim:"
#define SLICE 2000u /* instructions between looks at the output */

struct capture {
	char *buf;
	size_t n;
};

static void capture_sink(void *ctx, uint8_t byte)
{
	struct capture *cap = ctx;
	if (cap->n + 1 < OUT_MAX)
		cap->buf[cap->n++] = (char)byte;
	cap->buf[cap->n] = '\0';
}

struct run {
	struct machine *m;
	struct capture cap;
	struct snapshot snap;
	struct vmcore vc;
	struct km_model km;
};

static struct run *boot_modules(const char *image, const char *initrd, const char *append)
{
	char err[400];
	struct run *r = calloc(1, sizeof *r);
	cr_assert(r);
	r->cap.buf = calloc(1, OUT_MAX);
	r->m = calloc(1, sizeof *r->m);
	cr_assert(r->cap.buf && r->m);
	struct machine_config cfg = { .kernel = image, .initrd = initrd, .append = append,
				      .serial_sink = capture_sink, .serial_ctx = &r->cap };
	cr_assert(machine_init(r->m, &cfg, err, sizeof err), "%s", err);
	snapshot_init(&r->snap);
	km_init(&r->km);
	return r;
}

static struct run *boot(const char *image, const char *append)
{
	return boot_modules(image, NULL, append);
}

static void done(struct run *r)
{
	km_free(&r->km);
	snapshot_free(&r->snap);
	machine_free(r->m);
	free(r->m);
	free(r->cap.buf);
	free(r);
}

/* Run n more instructions; false once the machine stopped for good. */
static bool run_for(struct run *r, uint64_t n)
{
	r->m->cfg.max_insns = r->m->cpu.insns + n;
	return machine_run(r->m) == MACHINE_LIMIT;
}

static bool report_done(const struct run *r)
{
	const char *end = strstr(r->cap.buf, REPORT_END);
	return end && strchr(end + 1, '\n');
}

/* Run until the meminfo report's last line is out, in short slices, so
 * the models see the state the kernel printed (or the state it stopped
 * in, when the report was its last act). */
static void run_to_report_end(struct run *r)
{
	while (!report_done(r))
		cr_assert(run_for(r, SLICE) || report_done(r), "machine stopped before the report: %s",
			  r->m->msg);
}

static void build_models(struct run *r)
{
	cr_assert(snapshot_take(&r->snap, r->m, NULL));
	vmcore_update(&r->vc, &r->snap);
	km_build(&r->km, &r->vc, &r->snap);
}

/* ---- the kernel's report text ------------------------------------------- */

/* The lines of the last report with this title. */
static const char *section(const struct run *r, const char *title)
{
	const char *p = strstr(r->cap.buf, title), *next;
	cr_assert(p, "no '%s' in the output", title);
	while ((next = strstr(p + 1, title)))
		p = next;
	return strchr(p, '\n') + 1;
}

static const struct km_zone *zone_named(const struct km_model *k, const char *name)
{
	for (unsigned z = 0; z < k->nzones; z++)
		if (!strcmp(k->zone[z].name, name))
			return &k->zone[z];
	cr_assert_fail("no zone %s in the model", name);
	return NULL;
}

static void check_buddyinfo(const struct run *r)
{
	const char *p = section(r, "# cat /proc/buddyinfo");
	unsigned zones = 0;
	char name[16];
	int used;
	while (sscanf(p, "Node 0, zone %15s%n", name, &used) == 1) {
		const struct km_zone *z = zone_named(&r->km, name);
		p += used;
		for (unsigned o = 0; o < r->km.norders; o++) {
			unsigned long v;
			cr_assert_eq(sscanf(p, "%lu%n", &v, &used), 1);
			p += used;
			cr_assert_eq(z->nr_free[o], v, "zone %s order %u: model %" PRIu64 ", kernel %lu",
				     name, o, z->nr_free[o], v);
			cr_assert_eq(z->heads[o], v, "zone %s order %u: %" PRIu64 " PG_buddy heads in mem_map",
				     name, o, z->heads[o]);
		}
		p = strchr(p, '\n') + 1;
		zones++;
	}
	cr_assert_eq(zones, r->km.nzones);
	cr_assert_gt(zones, 0);
}

static const struct km_cache *cache_named(const struct km_model *k, const char *name)
{
	for (unsigned i = 0; i < k->ncaches; i++)
		if (!strcmp(k->cache[i].name, name))
			return &k->cache[i];
	cr_assert_fail("no cache %s in the model", name);
	return NULL;
}

static void check_slabinfo(const struct run *r)
{
	const char *p = strchr(section(r, "# cat /proc/slabinfo"), '\n') + 1; /* version line */
	p = strchr(p, '\n') + 1;                                             /* header */
	unsigned n = 0;
	char name[32];
	unsigned long act, num, slabs, aslabs;
	unsigned size, per, pages;
	while (sscanf(p, "%31s %lu %lu %u %u %u : tunables %*u %*u %*u : slabdata %lu %lu", name, &act,
		      &num, &size, &per, &pages, &aslabs, &slabs) == 8) {
		const struct km_cache *c = cache_named(&r->km, name);
		cr_assert_eq(c->active_objs, act, "%s active_objs", name);
		cr_assert_eq(c->num_objs, num, "%s num_objs", name);
		cr_assert_eq(c->objsize, size, "%s objsize", name);
		cr_assert_eq(c->objperslab, per, "%s objperslab", name);
		cr_assert_eq(c->pagesperslab, pages, "%s pagesperslab", name);
		cr_assert_eq(c->active_slabs, aslabs, "%s active_slabs", name);
		cr_assert_eq(c->num_slabs, slabs, "%s num_slabs", name);
		p = strchr(p, '\n') + 1;
		n++;
	}
	cr_assert_eq(n, r->km.ncaches);
	cr_assert_gt(n, 0);
}

/* The vmallocinfo lines from body on against the model, area by area;
 * returns the number of areas. The frames of the areas are the ones the
 * map colours as vmalloc. */
static unsigned check_vmallocinfo(const struct run *r, const char *body)
{
	const char *p = body;
	unsigned n = 0;
	uint64_t pages_total = 0;
	unsigned long start, end, size, caller;
	unsigned pages;
	while (sscanf(p, "0x%lx-0x%lx %lu 0x%lx pages=%u", &start, &end, &size, &caller, &pages) == 5) {
		cr_assert_lt(n, r->km.nvm, "the kernel lists more areas than the model's %u", r->km.nvm);
		const struct km_vmarea *a = &r->km.vm[n++];
		cr_assert_eq(a->start, start);
		cr_assert_eq(a->end, end);
		cr_assert_eq(a->size, size);
		cr_assert_eq(a->caller, caller);
		cr_assert_eq(a->nr_pages, pages);
		pages_total += pages;
		p = strchr(p, '\n') + 1;
	}
	cr_assert_eq(n, r->km.nvm);
	cr_assert_eq(r->km.owner_count[KM_VMALLOC], pages_total, "%" PRIu64 " frames coloured vmalloc",
		     r->km.owner_count[KM_VMALLOC]);
	return n;
}

static uint64_t meminfo_kb(const struct run *r, const char *label)
{
	const char *p = strstr(section(r, "# cat /proc/meminfo"), label);
	unsigned long v;
	cr_assert(p && sscanf(p + strlen(label), "%lu kB", &v) == 1, "no %s", label);
	return v;
}

/* Run r to the end of its last report and compare every model with it. */
static void check_reports_of(struct run *r)
{
	run_to_report_end(r);
	build_models(r);
	cr_assert(r->km.ok, "%s", r->km.why);
	check_buddyinfo(r);
	check_slabinfo(r);
	check_vmallocinfo(r, section(r, "# cat /proc/vmallocinfo"));
	cr_assert_eq(r->km.mem_total_kb, meminfo_kb(r, "MemTotal:"));
	cr_assert_eq(r->km.mem_free_kb, meminfo_kb(r, "MemFree:"));
	cr_assert_eq(r->km.slab_kb, meminfo_kb(r, "Slab:"));
	/* Frames on the map: free ones add up to MemFree, slab ones to Slab. */
	cr_assert_eq(r->km.owner_count[KM_FREE] * 4, r->km.mem_free_kb);
	cr_assert_eq(r->km.owner_count[KM_SLAB] * 4, r->km.slab_kb);
	cr_assert_gt(r->km.owner_count[KM_PAGETABLE], 0);
	cr_assert_gt(r->km.owner_count[KM_KERNEL], 0);
	done(r);
}

Test(ui_model, models_match_reports_printed_after_boot)
{
	check_reports_of(boot(GUEST_KERNEL_PATH, "report"));
}

Test(ui_model, models_match_reports_printed_after_selftests)
{
	check_reports_of(boot(GUEST_KERNEL_PATH, "selftest report"));
}

#if defined(USER_INIT_PATH) && defined(USER_KSTRESS_PATH)
/* After a process came and went (init forked kstress, which had the kernel
 * hold vmalloc areas), the reports printed when init exits match too;
 * vmallocinfo then lists init's kernel stack. */
Test(ui_model, models_match_reports_printed_when_init_exits)
{
	check_reports_of(boot_modules(GUEST_KERNEL_PATH, USER_INIT_PATH "," USER_KSTRESS_PATH,
				      "run=kstress:vmalloc:3 report"));
}
#endif

/* ---- page tables, TLB, hover ---------------------------------------------- */

/* Every present leaf row maps its first address where the walker says. */
static void check_leaf_rows(struct run *r, struct pgtree *t)
{
	unsigned leaves = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct pgt_row *row = &t->row[i];
		if (!row->present || !row->leaf)
			continue;
		struct mmu_debug_walk w;
		cr_assert(snapshot_probe(&r->snap, row->va, mmu_acc(ACC_READ, 0, false, false), &w),
			  "row va %#" PRIx64, row->va);
		cr_assert_eq(w.pa, row->target, "va %#" PRIx64 ": walk %#" PRIx64 ", row %#" PRIx64,
			     row->va, w.pa, row->target);
		leaves++;
	}
	cr_assert_gt(leaves, 0);
}

Test(ui_model, page_table_rows_agree_with_the_walker_when_opened)
{
	struct run *r = boot(GUEST_KERNEL_PATH, "report");
	cr_assert(run_for(r, 3000000));
	build_models(r);
	static struct pgtree t;
	pgtree_init(&t);
	pgtree_build(&t, &r->snap, r->snap.cr3, r->snap.paging);
	size_t top_rows = t.n;
	cr_assert_gt(top_rows, 0);
	for (size_t pass = 0; pass < 3; pass++) {   /* open every table, three levels deep */
		for (size_t i = 0; i < t.n; i++)
			if (t.row[i].present && !t.row[i].leaf && !t.row[i].expanded)
				pgtree_toggle(&t, &t.row[i]);
		pgtree_build(&t, &r->snap, r->snap.cr3, r->snap.paging);
	}
	cr_assert_gt(t.n, top_rows);
	check_leaf_rows(r, &t);
	char lines[8][96];
	struct mmu_debug_walk w;
	cr_assert(snapshot_probe(&r->snap, r->snap.rip, mmu_acc(ACC_FETCH, 0, false, false), &w));
	unsigned n = pgtree_explain(&r->snap, r->snap.rip, lines, 8);
	cr_assert_eq(n, w.nlevels + 2, "header, one line per level, outcome");
	cr_assert(strstr(lines[1], "PML4E"), "%s", lines[1]);
	cr_assert(strstr(lines[n - 1], "-> PA"), "%s", lines[n - 1]);
	done(r);
}

#define TABLE_ENTRIES (1u << PAGING64_INDEX_BITS)

/* Whether the paging structure at table_pa has no present entry. */
static bool table_has_no_present_entry(const struct run *r, uint64_t table_pa)
{
	for (unsigned i = 0; i < TABLE_ENTRIES; i++) {
		uint64_t e;
		cr_assert(snapshot_read_phys(&r->snap, table_pa + PAGING64_ENTRY_BYTES * i, &e, sizeof e));
		if (e & PTE_P)
			return false;
	}
	return true;
}

/* Whether entry i of the table at table_pa points at an empty table. */
static bool entry_points_to_empty_table(const struct run *r, uint64_t table_pa, unsigned i)
{
	uint64_t e;
	cr_assert(snapshot_read_phys(&r->snap, table_pa + PAGING64_ENTRY_BYTES * i, &e, sizeof e));
	return (e & PTE_P) && table_has_no_present_entry(r, e & PGT_FRAME_MASK_64);
}

/* The kernel gives every top-level slot of its vmalloc window a table at
 * boot; with no area mapped yet those tables are empty, and the tree
 * shows them as one row. Every row said to be empty points at empty
 * tables only, and at least one such row is a run. */
Test(ui_model, entries_pointing_at_empty_tables_are_one_row)
{
	struct run *r = boot(GUEST_KERNEL_PATH, "report");
	run_to_report_end(r);
	build_models(r);
	cr_assert_neq(r->km.kernel_pgd, 0);
	static struct pgtree t;
	pgtree_init(&t);
	pgtree_build(&t, &r->snap, r->km.kernel_pgd, r->snap.paging);
	unsigned runs = 0;
	for (size_t n = 0; n < t.n; n++) {
		const struct pgt_row *row = &t.row[n];
		for (unsigned i = row->first; i <= row->last && row->present && !row->leaf; i++)
			cr_assert_eq(entry_points_to_empty_table(r, row->table_pa, i), row->empty,
				     "row %zu, entry %u", n, i);
		runs += row->empty && row->last > row->first;
	}
	cr_assert_gt(runs, 0, "no run of empty tables in the kernel's top table");
	done(r);
}

Test(ui_model, tlb_rows_hold_the_translation_just_used)
{
	struct run *r = boot(GUEST_KERNEL_PATH, "report");
	cr_assert(run_for(r, 2000000));
	build_models(r);
	static struct hw_model h;
	hw_init(&h);
	cr_assert(hw_build(&h, &r->snap, -1));
	cr_assert_gt(h.nstruct, 3);
	struct mmu_debug_walk w;
	cr_assert(snapshot_probe(&r->snap, r->snap.rip, mmu_acc(ACC_FETCH, 0, false, false), &w));
	cr_assert_geq(w.tlb_level_now, 0, "the code page is in a TLB");
	bool found = false;
	for (unsigned i = 0; i < h.nstruct; i++) {
		const struct hw_struct *st = &h.st[i];
		for (size_t j = 0; j < st->n && !st->pwc; j++) {
			const struct hw_entry *e = &h.e[st->first + j];
			uint64_t span = UINT64_C(1) << mmu_page_shift((enum mmu_page_size)e->size);
			if (r->snap.rip - e->la < span && e->pa == (w.pa & ~(span - 1)))
				found = true;
		}
	}
	cr_assert(found, "no TLB row maps RIP %#" PRIx64, r->snap.rip);
	cr_assert_gt(h.cpi, 0.5);
	hw_free(&h);
	done(r);
}

Test(ui_model, struct_page_of_a_slab_frame_names_its_cache)
{
	struct run *r = boot(GUEST_KERNEL_PATH, "report");
	run_to_report_end(r);
	build_models(r);
	uint64_t pfn = 0;
	while (pfn < r->km.nframes && r->km.owner[pfn] != KM_SLAB)
		pfn++;
	cr_assert_lt(pfn, r->km.nframes, "a slab frame on the map");
	struct km_page pg;
	cr_assert(km_page(&r->km, &r->vc, &r->snap, pfn, &pg));
	cr_assert_neq(pg.slab_cache, 0);
	cr_assert_not_null(cache_named(&r->km, pg.slab_name));
	done(r);
}

Test(ui_model, kernel_without_vmcoreinfo_still_has_hardware_views)
{
	struct run *r = boot(LONG_MODE_IMAGE, NULL);
	run_for(r, 100000);
	build_models(r);
	cr_assert_not(r->vc.found);
	cr_assert_not(r->km.ok);
	cr_assert_eq(r->km.nzones, 0);
	cr_assert_gt(r->km.owner_count[KM_KERNEL], 0);
	done(r);
}

#if defined(USER_INIT_PATH) && defined(USER_MPROT_PATH)
#define MAPS_HEADER "# cat /proc/"

static uint64_t mm_of_pid(const struct km_model *k, int pid)
{
	for (unsigned i = 0; i < k->ntasks; i++)
		if (k->task[i].pid == pid)
			return k->task[i].mm;
	cr_assert_fail("pid %d is not in the model's task list", pid);
	return 0;
}

/* mprot shows its maps three times (after mmap, mprotect and munmap). When
 * a report's header is out the kernel is still inside the report, so the
 * areas the model reads then are the ones it prints next. */
Test(ui_model, maps_model_matches_each_proc_pid_maps_report)
{
	struct run *r = boot_modules(GUEST_KERNEL_PATH, USER_INIT_PATH "," USER_MPROT_PATH, "run=mprot");
	static char model[4096];
	const char *from = r->cap.buf;
	for (int i = 0; i < 3; i++) {
		const char *h;
		while (!(h = strstr(from, MAPS_HEADER)) || !strchr(h, '\n'))
			cr_assert(run_for(r, 100), "report %d: machine stopped: %s", i, r->m->msg);
		build_models(r);
		int pid = atoi(h + strlen(MAPS_HEADER));
		int n = km_format_maps(&r->vc, &r->snap, mm_of_pid(&r->km, pid), model, sizeof model);
		cr_assert_geq(n, 3, "report %d: %d areas read", i, n);
		const char *body = strchr(h, '\n') + 1, *end;
		while (!(end = strstr(body, "mprot:")))
			cr_assert(run_for(r, SLICE), "report %d: machine stopped: %s", i, r->m->msg);
		cr_assert(strlen(model) == (size_t)(end - body) && !memcmp(model, body, strlen(model)),
			  "report %d: model\n%s\nkernel\n%.*s", i, model, (int)(end - body), body);
		from = end;
	}
	done(r);
}
#endif

#if defined(USER_INIT_PATH) && defined(USER_KSTRESS_PATH)
#define VMALLOCINFO_HEADER "# cat /proc/vmallocinfo\n"
#define VMALLOC_REPORTS 3

/* The first complete line after body that is not an area line: the
 * report has ended there. NULL while it is still being printed. */
static const char *vmallocinfo_end(const char *body)
{
	for (const char *p = body, *nl; (nl = strchr(p, '\n')); p = nl + 1)
		if (strncmp(p, "0x", 2))
			return p;
	return NULL;
}

/* Run until a vmallocinfo header is out after from, in short slices, and
 * build the models there; returns where the report's lines start. */
static const char *run_to_vmallocinfo(struct run *r, const char *from)
{
	const char *h;
	while (!(h = strstr(from, VMALLOCINFO_HEADER)))
		cr_assert(run_for(r, 100), "machine stopped before vmallocinfo: %s", r->m->msg);
	build_models(r);
	return h + strlen(VMALLOCINFO_HEADER);
}

/* The areas of a vmallocinfo report that are no task's kernel stack,
 * after checking that every task's stack is one area of THREAD_SIZE. */
static unsigned areas_besides_stacks(const struct run *r, int report)
{
	uint64_t thread_size, page_size;
	cr_assert(vmcore_get(&r->vc, "NUMBER", "THREAD_SIZE", &thread_size));
	cr_assert(vmcore_get(&r->vc, NULL, "PAGESIZE", &page_size));
	unsigned stacks = 0;
	for (unsigned t = 0; t < r->km.ntasks; t++) {
		const struct km_task *task = &r->km.task[t];
		cr_assert_neq(task->stack, 0, "report %d: pid %d has no stack", report, task->pid);
		unsigned found = 0;
		for (unsigned i = 0; i < r->km.nvm; i++)
			if (r->km.vm[i].stack_of == (int)t) {
				cr_assert_eq(r->km.vm[i].nr_pages * page_size, thread_size);
				found++;
			}
		cr_assert_eq(found, 1, "report %d: pid %d's stack is in %u areas", report, task->pid, found);
		stacks++;
	}
	return r->km.nvm - stacks;
}

/* kstress has the kernel hold three vmalloc areas while it prints
 * vmallocinfo, then prints it again once they are freed, and the run ends
 * with the report printed when init exits. Every live process's kernel
 * stack is an area too: the lists hold init's and kstress's stacks plus
 * three, then the two stacks, then init's alone. Each list is compared
 * with the model read when its header was out (the kernel is then inside
 * the report, so the areas are the ones it prints next). */
Test(ui_model, vmalloc_model_matches_each_vmallocinfo_report)
{
	static const unsigned held[VMALLOC_REPORTS] = { 3, 0, 0 }, tasks[VMALLOC_REPORTS] = { 2, 2, 1 };
	struct run *r = boot_modules(GUEST_KERNEL_PATH, USER_INIT_PATH "," USER_KSTRESS_PATH,
				     "run=kstress:vmalloc:3 report");
	const char *from = r->cap.buf;
	for (int i = 0; i < VMALLOC_REPORTS; i++) {
		const char *body = run_to_vmallocinfo(r, from);
		while (!(from = vmallocinfo_end(body)))
			cr_assert(run_for(r, SLICE), "report %d: machine stopped: %s", i, r->m->msg);
		unsigned n = check_vmallocinfo(r, body);
		cr_assert_eq(r->km.ntasks, tasks[i], "report %d: %u processes", i, r->km.ntasks);
		cr_assert_eq(n, tasks[i] + held[i], "report %d: %u areas", i, n);
		cr_assert_eq(areas_besides_stacks(r, i), held[i]);
	}
	done(r);
}

/* Whether la lies in one of the model's vmalloc areas. */
static bool in_vmalloc_area(const struct km_model *k, uint64_t la)
{
	for (unsigned i = 0; i < k->nvm; i++)
		if (la >= k->vm[i].start && la < k->vm[i].end)
			return true;
	return false;
}

/* While kstress's areas exist the kernel has just written them through
 * their 4-KByte pages, on a vmapped stack: the TLB rows show those pages
 * at their canonical kernel addresses, each mapping the frame the walker
 * finds now. */
Test(ui_model, tlb_rows_of_vmalloc_pages_carry_their_kernel_address)
{
	struct run *r = boot_modules(GUEST_KERNEL_PATH, USER_INIT_PATH "," USER_KSTRESS_PATH,
				     "run=kstress:vmalloc:3");
	(void)run_to_vmallocinfo(r, r->cap.buf);
	static struct hw_model h;
	hw_init(&h);
	cr_assert(hw_build(&h, &r->snap, -1));
	unsigned found = 0;
	for (unsigned i = 0; i < h.nstruct; i++) {
		const struct hw_struct *st = &h.st[i];
		for (size_t j = 0; j < st->n && !st->pwc; j++) {
			const struct hw_entry *e = &h.e[st->first + j];
			cr_assert_eq(pgtree_canonical(r->snap.paging, e->la), e->la, "%s row la %#" PRIx64,
				     st->name, e->la);
			if (e->size != PG_4K || !in_vmalloc_area(&r->km, e->la))
				continue;
			struct mmu_debug_walk w;
			cr_assert(snapshot_probe(&r->snap, e->la, mmu_acc(ACC_READ, 0, false, false), &w),
				  "la %#" PRIx64, e->la);
			cr_assert_eq(w.pa, e->pa, "la %#" PRIx64, e->la);
			found++;
		}
	}
	cr_assert_gt(found, 0, "no TLB row for a vmalloc page");
	hw_free(&h);
	done(r);
}
#endif
