/* Panel models of the guest kernel's memory management, computed from
 * guest memory through VMCOREINFO (ui/vmcore.h): the frame ownership
 * map, the buddy free lists per zone and order, the slab caches with
 * slabinfo's columns, the vmalloc areas and meminfo's totals. Pure data,
 * no SDL: the visualizer draws it and tests compare it with the kernel's
 * own reports. */
#ifndef UI_KMODEL_H
#define UI_KMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/snapshot.h"
#include "ui/vmcore.h"

#define KM_MAX_ZONES 4
#define KM_MAX_ORDER 16
#define KM_MAX_CACHES 64
#define KM_MAX_VMAREAS 128
#define KM_MAX_TASKS 64
#define KM_MAX_FRAMES (UINT64_C(1) << 22) /* frames drawn: 16 GiB of 4 KiB pages */

/* Who owns a frame, as the map colours it. */
enum km_owner {
	KM_UNKNOWN = 0,   /* no VMCOREINFO: only hardware knowledge */
	KM_NOT_RAM,
	KM_FREE,          /* in a buddy free list (km_model.order holds the block order) */
	KM_PCP,           /* on the per-CPU free list */
	KM_SLAB,
	KM_PAGETABLE,     /* a paging structure reachable from CR3 */
	KM_USER,          /* mapped by page tables (user anonymous) */
	KM_ZERO,          /* the shared zero page */
	KM_VMALLOC,
	KM_KERNEL,        /* the kernel image */
	KM_RESERVED,      /* never given to the buddy allocator */
	KM_ALLOCATED,     /* allocated by the kernel for something else */
	KM_NOWNERS
};
const char *km_owner_name(enum km_owner o);

struct km_zone {
	char name[16];
	uint64_t start_pfn, spanned, present, managed, free_pages;
	uint64_t nr_free[KM_MAX_ORDER];   /* free_area[o].nr_free, as buddyinfo prints */
	uint64_t heads[KM_MAX_ORDER];     /* PG_buddy block heads of order o in mem_map */
	int64_t pcp_count;
};

struct km_cache {
	char name[32];
	uint64_t active_objs, num_objs;
	unsigned objsize, objperslab, pagesperslab;
	uint64_t active_slabs, num_slabs;
};

struct km_vmarea {
	uint64_t start, end, size, caller;
	unsigned nr_pages;
	int stack_of;         /* index in km_model.task of the task whose kernel stack
			       * this area is (task_struct.stack == start); -1: none */
};

/* A process whose page tables can be shown. */
struct km_task {
	int pid;
	char comm[16];
	uint64_t pgd_pa;      /* its top-level page table; 0: none (a kernel thread) */
	uint64_t mm;          /* kernel address of its mm_struct; 0: none */
	uint64_t stack;       /* task_struct.stack, its kernel stack's lowest address;
			       * 0: none, or the kernel does not publish the field */
};

/* The fields of one struct page (hover text). */
struct km_page {
	uint64_t pfn, flags, private_, slab_cache;
	int32_t mapcount, refcount;
	unsigned inuse, objects;
	char slab_name[32];
};

struct km_model {
	bool ok;                 /* the kernel structures were read */
	char why[120];           /* when not ok: what is missing */
	unsigned norders, nzones, ncaches, nvm;
	struct km_zone zone[KM_MAX_ZONES];
	struct km_cache cache[KM_MAX_CACHES];
	struct km_vmarea vm[KM_MAX_VMAREAS];
	uint64_t mem_total_kb, mem_free_kb, slab_kb;
	uint64_t max_pfn, mem_map, alloc_pages; /* alloc_pages: 0 if unknown */
	uint64_t nframes;        /* entries in owner/order: RAM frames, at most KM_MAX_FRAMES */
	uint8_t *owner;          /* enum km_owner per frame (owned) */
	uint8_t *order;          /* free: block order; otherwise 0 */
	uint64_t owner_count[KM_NOWNERS];
	/* Processes, when the kernel describes them (SYMBOL(init_task) or
	 * SYMBOL(task_list), OFFSET(task_struct.tasks/pid/comm/mm),
	 * OFFSET(mm_struct.pgd)); empty otherwise. */
	unsigned ntasks;
	struct km_task task[KM_MAX_TASKS];
	uint64_t kernel_pgd;     /* init_mm's (or the boot) top-level table, 0: unknown */
};

void km_init(struct km_model *k);
void km_free(struct km_model *k);
/* Recompute everything from the snapshot. Frames that are paging
 * structures reachable from cr3 are marked KM_PAGETABLE (cr3 = 0: none).
 * Without VMCOREINFO, k->ok is false and only the frame map's hardware
 * part (RAM, page tables, kernel image) is filled. */
void km_build(struct km_model *k, const struct vmcore *v, const struct snapshot *s);
/* struct page of one frame; false without VMCOREINFO or past max_pfn. */
bool km_page(const struct km_model *k, const struct vmcore *v, const struct snapshot *s,
	     uint64_t pfn, struct km_page *out);
/* Fraction of a zone's free memory in blocks smaller than 2^order pages
 * (Linux's unusable free space index): 0 = none unusable, 1 = all. */
double km_unusable_index(const struct km_zone *z, unsigned order, unsigned norders);

/* The text of /proc/PID/maps for the mm_struct at kernel address mm,
 * line for line as the kernel's show_map prints it, read from guest memory
 * through VMCOREINFO (mm_struct.mmap_list, vm_area_struct fields, the VM_*
 * numbers). Returns the number of areas, or -1 when the kernel publishes
 * no such layout or the list cannot be read. buf is always terminated. */
int km_format_maps(const struct vmcore *v, const struct snapshot *s, uint64_t mm, char *buf,
		   size_t len);

#endif
