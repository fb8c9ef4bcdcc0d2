/* Filling the VMCOREINFO block (guestos/include/vmcoreinfo.h). Sizes and
 * offsets come from sizeof/offsetof, so the host always sees the layout
 * this kernel was compiled with. The macro names are Linux's
 * (include/linux/crash_core.h). */
#include "guestos/kernel/vmcoreinfo.h"

#include <stdarg.h>

#include "guestos/arch/x86/memlayout.h"
#include "guestos/include/vmcoreinfo.h"
#include "guestos/kernel/printk.h"
#include "guestos/kernel/sched.h"
#include "guestos/lib/string.h"
#include "guestos/lib/vsprintf.h"
#include "guestos/mm/mm.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/mmzone.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/slab.h"
#include "guestos/mm/vmalloc.h"

_Static_assert(VMCOREINFO_START_KERNEL_MAP == __START_KERNEL_map, "one kernel map base");

struct vmcoreinfo_header vmcoreinfo_header __aligned(16) = {
	.magic = VMCOREINFO_MAGIC,
	.version = VMCOREINFO_VERSION,
	.capacity = VMCOREINFO_CAPACITY,
};
static char vmcoreinfo_data[VMCOREINFO_CAPACITY];

/* What SYMBOL(page_offset_base) points at: the direct map's base. */
const unsigned long page_offset_base = PAGE_OFFSET;

extern char _text[];
extern u8 empty_zero_page[];

static void __printf(1, 2) vmcoreinfo_append_str(const char *fmt, ...)
{
	size_t used = vmcoreinfo_header.size;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(vmcoreinfo_data + used, sizeof vmcoreinfo_data - used, fmt, ap);
	va_end(ap);
	if (used + (size_t)n >= sizeof vmcoreinfo_data)
		panic("vmcoreinfo: more than %u bytes", VMCOREINFO_CAPACITY);
	vmcoreinfo_header.size += (u32)n;
}

#define VMCOREINFO_SYMBOL(name) vmcoreinfo_append_str("SYMBOL(%s)=%lx\n", #name, (unsigned long)&name)
#define VMCOREINFO_SYMBOL_ARRAY(name) vmcoreinfo_append_str("SYMBOL(%s)=%lx\n", #name, (unsigned long)name)
#define VMCOREINFO_SIZE(type) vmcoreinfo_append_str("SIZE(%s)=%lu\n", #type, (unsigned long)sizeof(struct type))
#define VMCOREINFO_OFFSET(type, field) \
	vmcoreinfo_append_str("OFFSET(%s.%s)=%lu\n", #type, #field, (unsigned long)offsetof(struct type, field))
#define VMCOREINFO_NUMBER(name) vmcoreinfo_append_str("NUMBER(%s)=%ld\n", #name, (long)(name))

static void vmcoreinfo_symbols(void)
{
	VMCOREINFO_SYMBOL_ARRAY(_text);
	VMCOREINFO_SYMBOL(page_offset_base);
	VMCOREINFO_SYMBOL(mem_map);
	VMCOREINFO_SYMBOL(max_pfn);
	VMCOREINFO_SYMBOL(contig_page_data);
	VMCOREINFO_SYMBOL(slab_caches);
	VMCOREINFO_SYMBOL_ARRAY(boot_pgd);
}

static void vmcoreinfo_page(void)
{
	VMCOREINFO_SIZE(page);
	VMCOREINFO_OFFSET(page, flags);
	VMCOREINFO_OFFSET(page, lru);
	VMCOREINFO_OFFSET(page, private);
	VMCOREINFO_OFFSET(page, _mapcount);
	VMCOREINFO_OFFSET(page, _refcount);
	VMCOREINFO_OFFSET(page, slab_cache);
	VMCOREINFO_OFFSET(page, freelist);
	VMCOREINFO_OFFSET(page, inuse);
	VMCOREINFO_OFFSET(page, objects);
	VMCOREINFO_SIZE(list_head);
	VMCOREINFO_OFFSET(list_head, next);
	VMCOREINFO_OFFSET(list_head, prev);
}

static void vmcoreinfo_zones(void)
{
	VMCOREINFO_SIZE(pglist_data);
	VMCOREINFO_OFFSET(pglist_data, node_zones);
	VMCOREINFO_SIZE(zone);
	VMCOREINFO_OFFSET(zone, name);
	VMCOREINFO_OFFSET(zone, _watermark);
	VMCOREINFO_OFFSET(zone, zone_start_pfn);
	VMCOREINFO_OFFSET(zone, spanned_pages);
	VMCOREINFO_OFFSET(zone, present_pages);
	VMCOREINFO_OFFSET(zone, managed_pages);
	VMCOREINFO_OFFSET(zone, free_pages);
	VMCOREINFO_OFFSET(zone, pcp);
	VMCOREINFO_OFFSET(zone, free_area);
	VMCOREINFO_SIZE(free_area);
	VMCOREINFO_OFFSET(free_area, free_list);
	VMCOREINFO_OFFSET(free_area, nr_free);
	VMCOREINFO_OFFSET(per_cpu_pages, count);
	VMCOREINFO_OFFSET(per_cpu_pages, list);
}

static void vmcoreinfo_slab(void)
{
	VMCOREINFO_SIZE(kmem_cache);
	VMCOREINFO_OFFSET(kmem_cache, name);
	VMCOREINFO_OFFSET(kmem_cache, object_size);
	VMCOREINFO_OFFSET(kmem_cache, size);
	VMCOREINFO_OFFSET(kmem_cache, order);
	VMCOREINFO_OFFSET(kmem_cache, objects);
	VMCOREINFO_OFFSET(kmem_cache, cpu_slab);
	VMCOREINFO_OFFSET(kmem_cache, node);
	VMCOREINFO_OFFSET(kmem_cache, list);
}

/* What a host needs to recount slabinfo's columns (free objects on the
 * CPU freelist and the partial slabs), list vmalloc areas and stop at the
 * buddy allocator's entry point. */
static void vmcoreinfo_slab_detail(void)
{
	VMCOREINFO_OFFSET(kmem_cache, offset);
	VMCOREINFO_OFFSET(kmem_cache_cpu, freelist);
	VMCOREINFO_OFFSET(kmem_cache_cpu, slab);
	VMCOREINFO_OFFSET(kmem_cache_node, partial);
	VMCOREINFO_OFFSET(kmem_cache_node, nr_partial);
	VMCOREINFO_OFFSET(kmem_cache_node, nr_slabs);
	VMCOREINFO_OFFSET(kmem_cache_node, total_objects);
}

static void vmcoreinfo_vmalloc(void)
{
	VMCOREINFO_SYMBOL(vmlist);
	VMCOREINFO_SIZE(vm_struct);
	VMCOREINFO_OFFSET(vm_struct, next);
	VMCOREINFO_OFFSET(vm_struct, addr);
	VMCOREINFO_OFFSET(vm_struct, size);
	VMCOREINFO_OFFSET(vm_struct, pages);
	VMCOREINFO_OFFSET(vm_struct, nr_pages);
	VMCOREINFO_OFFSET(vm_struct, caller);
	VMCOREINFO_SYMBOL_ARRAY(alloc_pages);
}

/* Address spaces: the kernel's (init_mm), the one in CR3 (active_mm, a
 * pointer), the zero page, and the layouts to walk an mm's VMAs through
 * the list (mmap_list -> vm_list) or the red-black tree (mm_rb -> vm_rb). */
static void vmcoreinfo_mm(void)
{
	VMCOREINFO_SYMBOL(init_mm);
	VMCOREINFO_SYMBOL(active_mm);
	VMCOREINFO_SYMBOL_ARRAY(empty_zero_page);
	VMCOREINFO_SIZE(mm_struct);
	VMCOREINFO_OFFSET(mm_struct, pgd);
	VMCOREINFO_OFFSET(mm_struct, mm_rb);
	VMCOREINFO_OFFSET(mm_struct, mmap_list);
	VMCOREINFO_OFFSET(mm_struct, map_count);
	VMCOREINFO_OFFSET(mm_struct, start_code);
	VMCOREINFO_OFFSET(mm_struct, start_brk);
	VMCOREINFO_OFFSET(mm_struct, brk);
	VMCOREINFO_OFFSET(mm_struct, start_stack);
	VMCOREINFO_OFFSET(mm_struct, total_vm);
	VMCOREINFO_OFFSET(mm_struct, rss);
	VMCOREINFO_OFFSET(mm_struct, mm_users);
	VMCOREINFO_SIZE(vm_area_struct);
	VMCOREINFO_OFFSET(vm_area_struct, vm_start);
	VMCOREINFO_OFFSET(vm_area_struct, vm_end);
	VMCOREINFO_OFFSET(vm_area_struct, vm_mm);
	VMCOREINFO_OFFSET(vm_area_struct, vm_flags);
	VMCOREINFO_OFFSET(vm_area_struct, vm_pgoff);
	VMCOREINFO_OFFSET(vm_area_struct, vm_name);
	VMCOREINFO_OFFSET(vm_area_struct, vm_rb);
	VMCOREINFO_OFFSET(vm_area_struct, vm_list);
	VMCOREINFO_OFFSET(rb_root, rb_node);
	VMCOREINFO_OFFSET(rb_node, rb_parent);
	VMCOREINFO_OFFSET(rb_node, rb_left);
	VMCOREINFO_OFFSET(rb_node, rb_right);
	VMCOREINFO_OFFSET(rb_node, rb_color);
	VMCOREINFO_NUMBER(RB_BLACK);
	VMCOREINFO_NUMBER(VM_READ);
	VMCOREINFO_NUMBER(VM_WRITE);
	VMCOREINFO_NUMBER(VM_EXEC);
	VMCOREINFO_NUMBER(VM_SHARED);
	VMCOREINFO_NUMBER(VM_MAYSHARE);
	VMCOREINFO_NUMBER(VM_GROWSDOWN);
}

/* Processes: the idle task, the running one (current, a pointer), every
 * other task on task_list (through task_struct.tasks). */
static void vmcoreinfo_tasks(void)
{
	VMCOREINFO_SYMBOL(init_task);
	VMCOREINFO_SYMBOL(current);
	VMCOREINFO_SYMBOL(task_list);
	VMCOREINFO_SIZE(task_struct);
	VMCOREINFO_OFFSET(task_struct, pid);
	VMCOREINFO_OFFSET(task_struct, state);
	VMCOREINFO_OFFSET(task_struct, stack);
	VMCOREINFO_OFFSET(task_struct, mm);
	VMCOREINFO_OFFSET(task_struct, parent);
	VMCOREINFO_OFFSET(task_struct, tasks);
	VMCOREINFO_OFFSET(task_struct, comm);
	VMCOREINFO_NUMBER(TASK_COMM_LEN);
	VMCOREINFO_NUMBER(THREAD_SIZE);
}

static void vmcoreinfo_numbers(void)
{
	vmcoreinfo_append_str("PAGESIZE=%d\n", PAGE_SIZE);
	VMCOREINFO_NUMBER(PAGE_SHIFT);
	/* The image runs where it is linked: __pa(x) = x - __START_KERNEL_map. */
	vmcoreinfo_append_str("NUMBER(phys_base)=%d\n", 0);
	VMCOREINFO_NUMBER(MAX_ORDER);
	VMCOREINFO_NUMBER(MAX_NR_ZONES);
	VMCOREINFO_NUMBER(PG_locked);
	VMCOREINFO_NUMBER(PG_dirty);
	VMCOREINFO_NUMBER(PG_lru);
	VMCOREINFO_NUMBER(PG_slab);
	VMCOREINFO_NUMBER(PG_reserved);
	VMCOREINFO_NUMBER(PG_head);
	VMCOREINFO_NUMBER(PG_buddy);
}

void vmcoreinfo_init(void)
{
	vmcoreinfo_header.size = 0;
	vmcoreinfo_symbols();
	vmcoreinfo_page();
	vmcoreinfo_zones();
	vmcoreinfo_slab();
	vmcoreinfo_slab_detail();
	vmcoreinfo_vmalloc();
	vmcoreinfo_mm();
	vmcoreinfo_tasks();
	vmcoreinfo_numbers();
	vmcoreinfo_header.data_pa = __pa(vmcoreinfo_data);
	vmcoreinfo_header.ready = 1;
}

void show_vmcoreinfo(void)
{
	const char *line = vmcoreinfo_data;

	pr_info("VMCOREINFO (%u bytes):\n", vmcoreinfo_header.size);
	while (*line) {
		char buf[128];
		size_t n = 0;

		while (line[n] && line[n] != '\n' && n < sizeof buf - 1)
			n++;
		memcpy(buf, line, n);
		buf[n] = '\0';
		pr_info("%s\n", buf);
		line += line[n] == '\n' ? n + 1 : n;
	}
}
