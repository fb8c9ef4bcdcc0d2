/* vmalloc: virtually contiguous kernel memory from scattered frames
 * (Linux include/linux/vmalloc.h). Areas live in VMALLOC_START..
 * VMALLOC_END, each followed by one unmapped guard page, and are kept in a
 * list sorted by address; a new area takes the first gap that fits. */
#ifndef GUESTOS_MM_VMALLOC_H
#define GUESTOS_MM_VMALLOC_H

#include "guestos/mm/pgtable.h"

struct vm_struct {
	struct vm_struct *next; /* next area by address */
	void *addr;
	unsigned long size;     /* bytes, the guard page included */
	struct page **pages;
	unsigned int nr_pages;
	const void *caller;
};

/* Every area, sorted by address (for vmallocinfo and hosts). */
extern struct vm_struct *vmlist;

/* Boot, after mem_init and before the first mm_alloc: fill the kernel
 * PGD slots over VMALLOC_START..VMALLOC_END (panics without memory). */
void preallocate_vmalloc_pages(void);
/* NULL for size 0 or when memory or address space runs out. */
void *vmalloc(unsigned long size);
/* Unmap and free an area from vmalloc; NULL does nothing; anything else
 * that is not an area's start is reported and ignored. */
void vfree(const void *addr);
/* The area starting at addr, or NULL. */
struct vm_struct *find_vm_area(const void *addr);
/* /proc/vmallocinfo: "0x<start>-0x<end> <size> <caller> pages=<n> vmalloc". */
void show_vmallocinfo(void);

#endif
