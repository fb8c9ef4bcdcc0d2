#include "guestos/mm/vmalloc.h"

#include "guestos/kernel/printk.h"
#include "guestos/mm/slab.h"

struct vm_struct *vmlist; /* sorted by addr */

/* As Linux x86-64 does (arch/x86/mm/init_64.c), the top-level entries
 * over the whole window get their next-level table at boot, before the
 * first mm copies the kernel half of the PGD. Every mm then shares the
 * tables below them, so an area mapped later is seen through every
 * address space at once and no page fault has to copy a slot in (what
 * Linux's vmalloc_fault did before it preallocated). Kernel stacks are
 * vmalloc areas: a task switch lands on a stack that must already be
 * mapped in whatever CR3 holds. The cost: one page per slot, 64 slots of
 * 512 GiB for this 32 TiB window. */
void preallocate_vmalloc_pages(void)
{
	if (!preallocate_kernel_pgds(VMALLOC_START, VMALLOC_END))
		panic("preallocate_vmalloc_pages: out of memory for the vmalloc page tables");
}

/* First address in the window where size bytes fit between areas. */
static unsigned long find_gap(unsigned long size, struct vm_struct ***link)
{
	unsigned long addr = VMALLOC_START;
	struct vm_struct **p;

	for (p = &vmlist; *p; p = &(*p)->next) {
		if ((unsigned long)(*p)->addr - addr >= size)
			break;
		addr = (unsigned long)(*p)->addr + (*p)->size;
	}
	*link = p;
	return VMALLOC_END - addr + 1 >= size ? addr : 0;
}

/* Unmap and free the first n pages of an area. */
static void vunmap_pages(struct vm_struct *area, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unmap_kernel_page((unsigned long)area->addr + (unsigned long)i * PAGE_SIZE);
		__free_page(area->pages[i]);
	}
}

static bool vmap_pages(struct vm_struct *area)
{
	for (unsigned int i = 0; i < area->nr_pages; i++) {
		unsigned long va = (unsigned long)area->addr + (unsigned long)i * PAGE_SIZE;

		area->pages[i] = alloc_page(GFP_KERNEL);
		if (area->pages[i] && map_kernel_page(va, area->pages[i], PAGE_KERNEL))
			continue;
		if (area->pages[i])
			__free_page(area->pages[i]);
		vunmap_pages(area, i);
		return false;
	}
	return true;
}

void *vmalloc(unsigned long size)
{
	unsigned int n = (unsigned int)PFN_UP(size);
	struct vm_struct *area, **link;
	unsigned long addr;

	if (!size || PFN_UP(size) > 0xFFFFFFF)
		return NULL;
	addr = find_gap(((unsigned long)n + 1) * PAGE_SIZE, &link);
	area = addr ? kzalloc(sizeof(*area), GFP_KERNEL) : NULL;
	if (!area)
		return NULL;
	area->addr = (void *)addr;
	area->size = ((unsigned long)n + 1) * PAGE_SIZE;
	area->nr_pages = n;
	area->caller = __builtin_return_address(0);
	area->pages = kmalloc(n * sizeof(*area->pages), GFP_KERNEL);
	if (!area->pages || !vmap_pages(area)) {
		kfree(area->pages);
		kfree(area);
		return NULL;
	}
	area->next = *link;
	*link = area;
	return area->addr;
}

struct vm_struct *find_vm_area(const void *addr)
{
	for (struct vm_struct *v = vmlist; v; v = v->next)
		if (v->addr == addr)
			return v;
	return NULL;
}

void vfree(const void *addr)
{
	struct vm_struct **p;

	if (!addr)
		return;
	for (p = &vmlist; *p && (*p)->addr != addr; p = &(*p)->next)
		;
	if (!*p) {
		pr_err("vfree: bad address %p (not a vmalloc area)\n", addr);
		return;
	}
	struct vm_struct *area = *p;
	*p = area->next;
	vunmap_pages(area, area->nr_pages);
	/* The range may be handed out again at once (first fit), so no stale
	 * translation of it may survive: vunmap_pages INVLPGs each page, as
	 * the SDM asks (self-test vmalloc_reuse_no_stale_tlb checks it). */
	kfree(area->pages);
	kfree(area);
}

void show_vmallocinfo(void)
{
	for (const struct vm_struct *v = vmlist; v; v = v->next)
		pr_info("0x%016lx-0x%016lx %7lu 0x%lx pages=%u vmalloc\n", (unsigned long)v->addr,
			(unsigned long)v->addr + v->size, v->size, (unsigned long)v->caller, v->nr_pages);
}
