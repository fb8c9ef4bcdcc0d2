/* Kernel memory-management models from guest memory (ui/kmodel.h).
 *
 * Every pointer read from the guest is only followed through
 * vmcore_read, which reads guest RAM bounds-checked, and every list walk
 * is bounded, so a corrupt or hostile kernel yields wrong numbers, never
 * a host fault or an endless loop. */
#include "ui/kmodel.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/pgtree.h"

#define KM_LIST_MAX 100000u   /* longest list followed */
#define KM_PAGE_SHIFT 12

static const char *const owner_names[KM_NOWNERS] = {
	[KM_UNKNOWN] = "unknown", [KM_NOT_RAM] = "not RAM", [KM_FREE] = "free",
	[KM_PCP] = "per-CPU list", [KM_SLAB] = "slab", [KM_PAGETABLE] = "page table",
	[KM_USER] = "user anon", [KM_ZERO] = "zero page", [KM_VMALLOC] = "vmalloc",
	[KM_KERNEL] = "kernel image", [KM_RESERVED] = "reserved", [KM_ALLOCATED] = "kernel alloc",
};

const char *km_owner_name(enum km_owner o)
{
	return o < KM_NOWNERS ? owner_names[o] : "?";
}

/* The layout of the kernel's structures, from VMCOREINFO. */
struct km_layout {
	uint64_t mem_map_sym, max_pfn_sym, pgdat, slab_caches, vmlist, page_size, max_order, nr_zones;
	uint64_t pg_buddy, pg_slab, pg_reserved, pg_head;
	uint64_t page_flags, page_lru, page_private, page_mapcount, page_refcount, page_slab_cache,
		page_inuse, page_objects;
	uint64_t node_zones, zone_size, zone_name, zone_start, zone_spanned, zone_present,
		zone_managed, zone_free, zone_pcp, zone_free_area, free_area_size, fa_nr_free,
		pcp_count, pcp_list;
	uint64_t kc_name, kc_object_size, kc_size, kc_order, kc_objects, kc_cpu_slab, kc_node, kc_list,
		kc_offset, kcc_freelist, kcn_partial, kcn_nr_slabs, kcn_total;
	uint64_t vm_next, vm_addr, vm_size, vm_pages, vm_nr_pages, vm_caller;
};

struct km_field {
	const char *kind, *name;
	size_t off; /* of the uint64_t in struct km_layout */
};

#define KF(kind, name, field) { kind, name, offsetof(struct km_layout, field) }
static const struct km_field km_fields[] = {
	KF("SYMBOL", "mem_map", mem_map_sym), KF("SYMBOL", "max_pfn", max_pfn_sym),
	KF("SYMBOL", "contig_page_data", pgdat), KF("SYMBOL", "slab_caches", slab_caches),
	KF("SYMBOL", "vmlist", vmlist), KF(NULL, "PAGESIZE", page_size),
	KF("NUMBER", "MAX_ORDER", max_order), KF("NUMBER", "MAX_NR_ZONES", nr_zones),
	KF("NUMBER", "PG_buddy", pg_buddy), KF("NUMBER", "PG_slab", pg_slab),
	KF("NUMBER", "PG_reserved", pg_reserved), KF("NUMBER", "PG_head", pg_head),
	KF("OFFSET", "page.flags", page_flags), KF("OFFSET", "page.lru", page_lru),
	KF("OFFSET", "page.private", page_private), KF("OFFSET", "page._mapcount", page_mapcount),
	KF("OFFSET", "page._refcount", page_refcount), KF("OFFSET", "page.slab_cache", page_slab_cache),
	KF("OFFSET", "page.inuse", page_inuse), KF("OFFSET", "page.objects", page_objects),
	KF("OFFSET", "pglist_data.node_zones", node_zones), KF("SIZE", "zone", zone_size),
	KF("OFFSET", "zone.name", zone_name), KF("OFFSET", "zone.zone_start_pfn", zone_start),
	KF("OFFSET", "zone.spanned_pages", zone_spanned), KF("OFFSET", "zone.present_pages", zone_present),
	KF("OFFSET", "zone.managed_pages", zone_managed), KF("OFFSET", "zone.free_pages", zone_free),
	KF("OFFSET", "zone.pcp", zone_pcp), KF("OFFSET", "zone.free_area", zone_free_area),
	KF("SIZE", "free_area", free_area_size), KF("OFFSET", "free_area.nr_free", fa_nr_free),
	KF("OFFSET", "per_cpu_pages.count", pcp_count), KF("OFFSET", "per_cpu_pages.list", pcp_list),
	KF("OFFSET", "kmem_cache.name", kc_name), KF("OFFSET", "kmem_cache.object_size", kc_object_size),
	KF("OFFSET", "kmem_cache.size", kc_size), KF("OFFSET", "kmem_cache.order", kc_order),
	KF("OFFSET", "kmem_cache.objects", kc_objects), KF("OFFSET", "kmem_cache.cpu_slab", kc_cpu_slab),
	KF("OFFSET", "kmem_cache.node", kc_node), KF("OFFSET", "kmem_cache.list", kc_list),
	KF("OFFSET", "kmem_cache.offset", kc_offset),
	KF("OFFSET", "kmem_cache_cpu.freelist", kcc_freelist),
	KF("OFFSET", "kmem_cache_node.partial", kcn_partial),
	KF("OFFSET", "kmem_cache_node.nr_slabs", kcn_nr_slabs),
	KF("OFFSET", "kmem_cache_node.total_objects", kcn_total),
	KF("OFFSET", "vm_struct.next", vm_next), KF("OFFSET", "vm_struct.addr", vm_addr),
	KF("OFFSET", "vm_struct.size", vm_size), KF("OFFSET", "vm_struct.pages", vm_pages),
	KF("OFFSET", "vm_struct.nr_pages", vm_nr_pages), KF("OFFSET", "vm_struct.caller", vm_caller),
};

static bool load_layout(char *why, size_t whylen, const struct vmcore *v, struct km_layout *L)
{
	for (size_t i = 0; i < sizeof km_fields / sizeof km_fields[0]; i++) {
		const struct km_field *f = &km_fields[i];
		if (!vmcore_get(v, f->kind, f->name, (uint64_t *)((char *)L + f->off))) {
			snprintf(why, whylen, "VMCOREINFO has no %s(%s)", f->kind ? f->kind : "",
				 f->name);
			return false;
		}
	}
	if (L->page_size != (1u << KM_PAGE_SHIFT) || L->max_order > KM_MAX_ORDER ||
	    L->nr_zones > KM_MAX_ZONES) {
		snprintf(why, whylen, "unsupported page size, MAX_ORDER or zone count");
		return false;
	}
	return true;
}

/* Guest reads that give 0 on failure: the models tolerate a bad pointer. */
struct km_ctx {
	const struct vmcore *v;
	const struct snapshot *s;
	struct km_layout L;
	uint64_t page_size_bytes; /* SIZE(page) */
};

static uint64_t rd(const struct km_ctx *c, uint64_t va, unsigned n)
{
	uint64_t x = 0;
	if (!vmcore_read(c->v, c->s, va, n, &x))
		return 0;
	return x;
}

static uint64_t page_va(const struct km_ctx *c, const struct km_model *k, uint64_t pfn)
{
	return k->mem_map + pfn * c->page_size_bytes;
}

/* ---- zones ---------------------------------------------------------------- */

static void read_zone(const struct km_ctx *c, struct km_model *k, uint64_t zva, struct km_zone *z)
{
	const struct km_layout *L = &c->L;
	uint64_t name = rd(c, zva + L->zone_name, 8);
	if (!vmcore_read_str(c->v, c->s, name, z->name, sizeof z->name))
		snprintf(z->name, sizeof z->name, "?");
	z->start_pfn = rd(c, zva + L->zone_start, 8);
	z->spanned = rd(c, zva + L->zone_spanned, 8);
	z->present = rd(c, zva + L->zone_present, 8);
	z->managed = rd(c, zva + L->zone_managed, 8);
	z->free_pages = rd(c, zva + L->zone_free, 8);
	z->pcp_count = (int32_t)rd(c, zva + L->zone_pcp + L->pcp_count, 4);
	for (unsigned o = 0; o < k->norders; o++)
		z->nr_free[o] = rd(c, zva + L->zone_free_area + o * L->free_area_size + L->fa_nr_free, 8);
}

/* Populated zones only, as buddyinfo lists them. */
static void read_zones(const struct km_ctx *c, struct km_model *k)
{
	k->nzones = 0;
	for (unsigned i = 0; i < c->L.nr_zones; i++) {
		uint64_t zva = c->L.pgdat + c->L.node_zones + i * c->L.zone_size;
		struct km_zone z = { 0 };
		read_zone(c, k, zva, &z);
		if (z.present)
			k->zone[k->nzones++] = z;
	}
}

/* ---- slab ----------------------------------------------------------------- */

/* Objects on a freelist: each free object holds the next at offset. */
static uint64_t count_freelist(const struct km_ctx *c, uint64_t obj, uint64_t offset, uint64_t max)
{
	uint64_t n = 0;
	for (; obj && n <= max; obj = rd(c, obj + offset, 8))
		n++;
	return n;
}

static uint64_t cache_free_objects(const struct km_ctx *c, uint64_t kc, unsigned objects)
{
	const struct km_layout *L = &c->L;
	uint64_t offset = rd(c, kc + L->kc_offset, 4);
	uint64_t n = count_freelist(c, rd(c, kc + L->kc_cpu_slab + L->kcc_freelist, 8), offset, objects);
	uint64_t head = kc + L->kc_node + L->kcn_partial;
	uint64_t l = rd(c, head, 8);
	for (unsigned i = 0; l && l != head && i < KM_LIST_MAX; i++, l = rd(c, l, 8)) {
		uint64_t page = l - L->page_lru;
		n += rd(c, page + L->page_objects, 2) - rd(c, page + L->page_inuse, 2);
	}
	return n;
}

static void read_cache(const struct km_ctx *c, uint64_t kc, struct km_cache *o, uint64_t *pages)
{
	const struct km_layout *L = &c->L;
	if (!vmcore_read_str(c->v, c->s, rd(c, kc + L->kc_name, 8), o->name, sizeof o->name))
		snprintf(o->name, sizeof o->name, "?");
	unsigned order = (unsigned)rd(c, kc + L->kc_order, 4) & 31;
	o->objsize = (unsigned)rd(c, kc + L->kc_size, 4);
	o->objperslab = (unsigned)rd(c, kc + L->kc_objects, 4);
	o->pagesperslab = 1u << order;
	o->num_objs = rd(c, kc + L->kc_node + L->kcn_total, 8);
	o->active_objs = o->num_objs - cache_free_objects(c, kc, o->objperslab);
	o->num_slabs = o->active_slabs = rd(c, kc + L->kc_node + L->kcn_nr_slabs, 8);
	*pages += o->num_slabs << order;
}

static void read_caches(const struct km_ctx *c, struct km_model *k, uint64_t *slab_pages)
{
	uint64_t head = c->L.slab_caches, l = rd(c, head, 8);
	k->ncaches = 0;
	*slab_pages = 0;
	while (l && l != head && k->ncaches < KM_MAX_CACHES) {
		read_cache(c, l - c->L.kc_list, &k->cache[k->ncaches++], slab_pages);
		l = rd(c, l, 8);
	}
}

/* ---- vmalloc -------------------------------------------------------------- */

static void read_vmalloc(const struct km_ctx *c, struct km_model *k)
{
	const struct km_layout *L = &c->L;
	k->nvm = 0;
	for (uint64_t a = rd(c, L->vmlist, 8); a && k->nvm < KM_MAX_VMAREAS; a = rd(c, a + L->vm_next, 8)) {
		struct km_vmarea *o = &k->vm[k->nvm++];
		o->start = rd(c, a + L->vm_addr, 8);
		o->size = rd(c, a + L->vm_size, 8);
		o->end = o->start + o->size;
		o->caller = rd(c, a + L->vm_caller, 8);
		o->nr_pages = (unsigned)rd(c, a + L->vm_nr_pages, 4);
		o->stack_of = -1;
	}
}

/* Which areas are kernel stacks (a kernel with vmapped stacks, as Linux's
 * CONFIG_VMAP_STACK): the area a task's stack pointer field points at. */
static void link_stacks(struct km_model *k)
{
	for (unsigned t = 0; t < k->ntasks; t++)
		for (unsigned i = 0; i < k->nvm && k->task[t].stack; i++)
			if (k->vm[i].start == k->task[t].stack)
				k->vm[i].stack_of = (int)t;
}

/* ---- the frame map ---------------------------------------------------------- */

static void mark(struct km_model *k, uint64_t pfn, uint64_t n, enum km_owner o, uint8_t order)
{
	for (uint64_t i = pfn; i < pfn + n && i < k->nframes; i++) {
		k->owner[i] = (uint8_t)o;
		k->order[i] = order;
	}
}

static bool in_kernel_image(const struct snapshot *s, uint64_t pfn)
{
	uint64_t pa = pfn << KM_PAGE_SHIFT;
	return pa + (1u << KM_PAGE_SHIFT) > s->kernel_start && pa < s->kernel_end;
}

/* One struct page: its owner, and how many frames that owner covers. */
static uint64_t classify_page(const struct km_ctx *c, struct km_model *k, uint64_t pfn,
			      unsigned zone)
{
	const struct km_layout *L = &c->L;
	uint64_t pg = page_va(c, k, pfn), flags = rd(c, pg + L->page_flags, 8);
	uint64_t priv = rd(c, pg + L->page_private, 8);
	if (flags & (UINT64_C(1) << L->pg_buddy)) {
		unsigned o = priv < k->norders ? (unsigned)priv : 0;
		if (zone < k->nzones)
			k->zone[zone].heads[o]++;
		mark(k, pfn, UINT64_C(1) << o, KM_FREE, (uint8_t)o);
		return UINT64_C(1) << o;
	}
	enum km_owner own = KM_ALLOCATED;
	if (flags & (UINT64_C(1) << L->pg_slab))
		own = KM_SLAB;
	else if (flags & (UINT64_C(1) << L->pg_reserved))
		own = in_kernel_image(c->s, pfn) ? KM_KERNEL : KM_RESERVED;
	else if ((int32_t)rd(c, pg + L->page_mapcount, 4) >= 0)
		own = KM_USER;
	uint64_t n = (flags & (UINT64_C(1) << L->pg_head)) && priv < k->norders ? UINT64_C(1) << priv : 1;
	mark(k, pfn, n, own, 0);
	return n;
}

static unsigned zone_of(const struct km_model *k, uint64_t pfn)
{
	for (unsigned z = 0; z < k->nzones; z++)
		if (pfn >= k->zone[z].start_pfn && pfn - k->zone[z].start_pfn < k->zone[z].spanned)
			return z;
	return KM_MAX_ZONES;
}

static void mark_pcp(const struct km_ctx *c, struct km_model *k)
{
	const struct km_layout *L = &c->L;
	for (unsigned i = 0; i < L->nr_zones; i++) {
		uint64_t head = L->pgdat + L->node_zones + i * L->zone_size + L->zone_pcp + L->pcp_list;
		uint64_t l = rd(c, head, 8);
		for (unsigned n = 0; l && l != head && n < KM_LIST_MAX; n++, l = rd(c, l, 8)) {
			uint64_t pfn = (l - L->page_lru - k->mem_map) / c->page_size_bytes;
			mark(k, pfn, 1, KM_PCP, 0);
		}
	}
}

static void mark_vmalloc(const struct km_ctx *c, struct km_model *k)
{
	const struct km_layout *L = &c->L;
	uint64_t a = rd(c, L->vmlist, 8);
	for (unsigned n = 0; a && n < KM_MAX_VMAREAS; n++, a = rd(c, a + L->vm_next, 8)) {
		uint64_t pages = rd(c, a + L->vm_pages, 8);
		unsigned np = (unsigned)rd(c, a + L->vm_nr_pages, 4);
		for (unsigned i = 0; i < np && i < KM_LIST_MAX; i++) {
			uint64_t page = rd(c, pages + 8 * i, 8);
			if (page >= k->mem_map)
				mark(k, (page - k->mem_map) / c->page_size_bytes, 1, KM_VMALLOC, 0);
		}
	}
}

static void classify_frames(const struct km_ctx *c, struct km_model *k)
{
	uint64_t lim = k->max_pfn < k->nframes ? k->max_pfn : k->nframes;
	for (uint64_t pfn = 0; pfn < lim;)
		pfn += classify_page(c, k, pfn, zone_of(k, pfn));
	mark(k, lim, k->nframes - lim, KM_NOT_RAM, 0);
	mark_pcp(c, k);
	mark_vmalloc(c, k);
	uint64_t zero;
	if (vmcore_get(c->v, "SYMBOL", "empty_zero_page", &zero) && vmcore_pa(c->v, zero, &zero))
		mark(k, zero >> KM_PAGE_SHIFT, 1, KM_ZERO, 0);
}

static void mark_table(void *ctx, uint64_t table_pa, unsigned level)
{
	struct km_model *k = ctx;
	mark(k, table_pa >> KM_PAGE_SHIFT, 1, KM_PAGETABLE, 0);
}

/* ---- address spaces --------------------------------------------------------- */

static uint64_t mm_pgd_pa(const struct km_ctx *c, uint64_t mm)
{
	uint64_t off, pa;
	if (!mm || !vmcore_get(c->v, "OFFSET", "mm_struct.pgd", &off) ||
	    !vmcore_pa(c->v, rd(c, mm + off, 8), &pa))
		return 0;
	return pa;
}

static void read_kernel_pgd(const struct km_ctx *c, struct km_model *k)
{
	uint64_t sym, pa;
	k->kernel_pgd = 0;
	if (vmcore_get(c->v, "SYMBOL", "init_mm", &sym))
		k->kernel_pgd = mm_pgd_pa(c, sym);
	if (!k->kernel_pgd && vmcore_get(c->v, "SYMBOL", "boot_pgd", &sym) && vmcore_pa(c->v, sym, &pa))
		k->kernel_pgd = pa;
}

/* The task list: Linux links every task through task_struct.tasks with
 * init_task as the head; a kernel may instead keep a separate head
 * (SYMBOL(task_list)). */
static void read_tasks(const struct km_ctx *c, struct km_model *k)
{
	uint64_t tasks, pid, comm, mm, head, stack;
	k->ntasks = 0;
	bool has_stack = vmcore_get(c->v, "OFFSET", "task_struct.stack", &stack);
	if (!vmcore_get(c->v, "OFFSET", "task_struct.tasks", &tasks) ||
	    !vmcore_get(c->v, "OFFSET", "task_struct.pid", &pid) ||
	    !vmcore_get(c->v, "OFFSET", "task_struct.comm", &comm) ||
	    !vmcore_get(c->v, "OFFSET", "task_struct.mm", &mm))
		return;
	if (!vmcore_get(c->v, "SYMBOL", "task_list", &head)) {
		if (!vmcore_get(c->v, "SYMBOL", "init_task", &head))
			return;
		head += tasks;
	}
	uint64_t l = rd(c, head, 8);
	for (unsigned n = 0; l && l != head && n < KM_LIST_MAX && k->ntasks < KM_MAX_TASKS;
	     n++, l = rd(c, l, 8)) {
		uint64_t t = l - tasks;
		struct km_task *o = &k->task[k->ntasks++];
		o->pid = (int)(int32_t)rd(c, t + pid, 4);
		if (!vmcore_read_str(c->v, c->s, t + comm, o->comm, sizeof o->comm))
			snprintf(o->comm, sizeof o->comm, "?");
		o->mm = rd(c, t + mm, 8);
		o->pgd_pa = mm_pgd_pa(c, o->mm);
		o->stack = has_stack ? rd(c, t + stack, 8) : 0;
	}
}

/* ---- /proc/PID/maps --------------------------------------------------------- */

/* The kernel's show_map: start-end, rwx and s/p, offset, device 00:00,
 * inode 0, then the name from column 73 (Linux pads the same way). */
#define MAPS_NAME_COLUMN (25 + 6 * 8 - 1)

struct maps_layout {
	uint64_t head, vm_list, start, end, flags, pgoff, name;
	uint64_t vm_read, vm_write, vm_exec, vm_mayshare;
};

static bool maps_layout(const struct vmcore *v, struct maps_layout *m)
{
	return vmcore_get(v, "OFFSET", "mm_struct.mmap_list", &m->head) &&
	       vmcore_get(v, "OFFSET", "vm_area_struct.vm_list", &m->vm_list) &&
	       vmcore_get(v, "OFFSET", "vm_area_struct.vm_start", &m->start) &&
	       vmcore_get(v, "OFFSET", "vm_area_struct.vm_end", &m->end) &&
	       vmcore_get(v, "OFFSET", "vm_area_struct.vm_flags", &m->flags) &&
	       vmcore_get(v, "OFFSET", "vm_area_struct.vm_pgoff", &m->pgoff) &&
	       vmcore_get(v, "OFFSET", "vm_area_struct.vm_name", &m->name) &&
	       vmcore_get(v, "NUMBER", "VM_READ", &m->vm_read) &&
	       vmcore_get(v, "NUMBER", "VM_WRITE", &m->vm_write) &&
	       vmcore_get(v, "NUMBER", "VM_EXEC", &m->vm_exec) &&
	       vmcore_get(v, "NUMBER", "VM_MAYSHARE", &m->vm_mayshare);
}

static size_t maps_line(const struct km_ctx *c, const struct maps_layout *L, uint64_t vma,
			char *buf, size_t len)
{
	uint64_t f = rd(c, vma + L->flags, 8), name_va = rd(c, vma + L->name, 8);
	char name[64] = "";
	int n = snprintf(buf, len, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %lu ",
			 rd(c, vma + L->start, 8), rd(c, vma + L->end, 8), f & L->vm_read ? 'r' : '-',
			 f & L->vm_write ? 'w' : '-', f & L->vm_exec ? 'x' : '-',
			 f & L->vm_mayshare ? 's' : 'p', (uint64_t)0, 0, 0, 0UL);
	if (n < 0 || (size_t)n >= len)
		return len ? len - 1 : 0;
	if (name_va && vmcore_read_str(c->v, c->s, name_va, name, sizeof name) && name[0])
		n += snprintf(buf + n, len - (size_t)n, "%*s%s\n",
			      n < MAPS_NAME_COLUMN ? MAPS_NAME_COLUMN - n + 1 : 1, " ", name);
	else {
		/* show_map prints the line with its trailing space, then the newline. */
		n += snprintf(buf + n, len - (size_t)n, "\n");
	}
	return (size_t)n < len ? (size_t)n : len - 1;
}

int km_format_maps(const struct vmcore *v, const struct snapshot *s, uint64_t mm, char *buf,
		   size_t len)
{
	struct km_ctx c = { .v = v, .s = s };
	struct maps_layout L;
	if (!len)
		return -1;
	buf[0] = '\0';
	if (!mm || !maps_layout(v, &L))
		return -1;
	uint64_t head = mm + L.head, l = rd(&c, head, 8);
	size_t used = 0;
	int n = 0;
	for (; l && l != head && (unsigned)n < KM_LIST_MAX; n++, l = rd(&c, l, 8))
		used += maps_line(&c, &L, l - L.vm_list, buf + used, len - used);
	return l == head ? n : -1;
}

/* ---- the model -------------------------------------------------------------- */

void km_init(struct km_model *k)
{
	memset(k, 0, sizeof *k);
}

void km_free(struct km_model *k)
{
	free(k->owner);
	free(k->order);
	km_init(k);
}

static bool size_frames(struct km_model *k, const struct snapshot *s)
{
	uint64_t n = s->ram_size >> KM_PAGE_SHIFT;
	if (n > KM_MAX_FRAMES)
		n = KM_MAX_FRAMES;
	if (n != k->nframes || !k->owner) {
		free(k->owner);
		free(k->order);
		k->owner = malloc(n ? n : 1);
		k->order = malloc(n ? n : 1);
		k->nframes = (k->owner && k->order) ? n : 0;
	}
	return k->nframes == n;
}

static bool read_kernel(struct km_model *k, const struct vmcore *v, const struct snapshot *s)
{
	struct km_ctx c = { .v = v, .s = s };
	if (!v->ready) {
		snprintf(k->why, sizeof k->why, "no VMCOREINFO (yet): hardware view only");
		return false;
	}
	if (!load_layout(k->why, sizeof k->why, v, &c.L) || !vmcore_get(v, "SIZE", "page", &c.page_size_bytes))
		return false;
	k->norders = (unsigned)c.L.max_order;
	k->mem_map = rd(&c, c.L.mem_map_sym, 8);
	k->max_pfn = rd(&c, c.L.max_pfn_sym, 8);
	if (!vmcore_get(v, "SYMBOL", "alloc_pages", &k->alloc_pages))
		k->alloc_pages = 0;
	read_zones(&c, k);
	uint64_t slab_pages;
	read_caches(&c, k, &slab_pages);
	read_vmalloc(&c, k);
	k->mem_total_kb = k->mem_free_kb = 0;
	for (unsigned z = 0; z < k->nzones; z++) {
		k->mem_total_kb += k->zone[z].managed * 4;
		k->mem_free_kb += k->zone[z].free_pages * 4;
	}
	k->slab_kb = slab_pages * 4;
	read_kernel_pgd(&c, k);
	read_tasks(&c, k);
	link_stacks(k);
	classify_frames(&c, k);
	return true;
}

void km_build(struct km_model *k, const struct vmcore *v, const struct snapshot *s)
{
	k->why[0] = '\0';
	if (!size_frames(k, s)) {
		k->ok = false;
		snprintf(k->why, sizeof k->why, "out of memory");
		return;
	}
	memset(k->owner, KM_UNKNOWN, k->nframes);
	memset(k->order, 0, k->nframes);
	k->ok = read_kernel(k, v, s);
	if (!k->ok) {
		k->nzones = k->ncaches = k->nvm = k->ntasks = 0;
		k->kernel_pgd = 0;
		mark(k, s->kernel_start >> KM_PAGE_SHIFT,
		     ((s->kernel_end + (1u << KM_PAGE_SHIFT) - 1) >> KM_PAGE_SHIFT) -
			     (s->kernel_start >> KM_PAGE_SHIFT), KM_KERNEL, 0);
	}
	pgtree_for_each_table(s, s->cr3, s->paging, mark_table, k);
	memset(k->owner_count, 0, sizeof k->owner_count);
	for (uint64_t i = 0; i < k->nframes; i++)
		k->owner_count[k->owner[i] < KM_NOWNERS ? k->owner[i] : 0]++;
}

bool km_page(const struct km_model *k, const struct vmcore *v, const struct snapshot *s,
	     uint64_t pfn, struct km_page *out)
{
	struct km_ctx c = { .v = v, .s = s };
	char why[120];
	if (!k->ok || pfn >= k->max_pfn || !load_layout(why, sizeof why, v, &c.L) ||
	    !vmcore_get(v, "SIZE", "page", &c.page_size_bytes))
		return false;
	const struct km_layout *L = &c.L;
	uint64_t pg = page_va(&c, k, pfn);
	memset(out, 0, sizeof *out);
	out->pfn = pfn;
	out->flags = rd(&c, pg + L->page_flags, 8);
	out->private_ = rd(&c, pg + L->page_private, 8);
	out->mapcount = (int32_t)rd(&c, pg + L->page_mapcount, 4);
	out->refcount = (int32_t)rd(&c, pg + L->page_refcount, 4);
	out->slab_cache = rd(&c, pg + L->page_slab_cache, 8);
	out->inuse = (unsigned)rd(&c, pg + L->page_inuse, 2);
	out->objects = (unsigned)rd(&c, pg + L->page_objects, 2);
	if (out->slab_cache)
		vmcore_read_str(v, s, rd(&c, out->slab_cache + L->kc_name, 8), out->slab_name,
				sizeof out->slab_name);
	return true;
}

double km_unusable_index(const struct km_zone *z, unsigned order, unsigned norders)
{
	uint64_t total = 0, usable = 0;
	for (unsigned o = 0; o < norders && o < KM_MAX_ORDER; o++) {
		uint64_t pages = z->nr_free[o] << o;
		total += pages;
		if (o >= order)
			usable += pages;
	}
	return total ? (double)(total - usable) / (double)total : 0.0;
}
