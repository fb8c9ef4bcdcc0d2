/* The address space of a process: struct mm_struct and its virtual memory
 * areas (Linux include/linux/mm_types.h, mm.h for the VM_* flags). */
#ifndef GUESTOS_MM_MM_TYPES_H
#define GUESTOS_MM_MM_TYPES_H

#include "guestos/lib/list.h"
#include "guestos/lib/rbtree.h"
#include "guestos/mm/pgtable.h"

/* vm_flags (Linux's values). VM_MAY* say what mprotect may grant later. */
#define VM_NONE 0x00000000UL
#define VM_READ 0x00000001UL
#define VM_WRITE 0x00000002UL
#define VM_EXEC 0x00000004UL
#define VM_SHARED 0x00000008UL
#define VM_MAYREAD 0x00000010UL
#define VM_MAYWRITE 0x00000020UL
#define VM_MAYEXEC 0x00000040UL
#define VM_MAYSHARE 0x00000080UL
#define VM_GROWSDOWN 0x00000100UL
#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)

struct mm_struct;

/* One VMA: the pages [vm_start, vm_end) with one set of permissions. */
struct vm_area_struct {
	unsigned long vm_start, vm_end;
	struct mm_struct *vm_mm;
	unsigned long vm_flags;
	unsigned long vm_pgoff;   /* vm_start >> PAGE_SHIFT for anonymous areas */
	const char *vm_name;      /* "[heap]", "[stack]", a module name, or NULL */
	struct rb_node vm_rb;     /* in mm->mm_rb, keyed by vm_start */
	struct list_head vm_list; /* in mm->mmap_list, in address order */
};

struct mm_struct {
	pgd_t *pgd;                  /* top-level table (direct-map address) */
	struct rb_root mm_rb;        /* the VMAs, a red-black tree by vm_start */
	struct list_head mmap_list;  /* the same VMAs, in address order */
	int map_count;               /* number of VMAs */
	unsigned long mmap_base;     /* top-down mmap allocations start below this */
	unsigned long start_code, end_code, start_data, end_data;
	unsigned long start_brk, brk, start_stack;
	unsigned long stack_limit;   /* lowest address [stack] may grow down to */
	unsigned long total_vm, rss; /* pages: in VMAs; mapped to private/shared frames */
	unsigned long nr_ptes;       /* page-table pages below the PGD (all levels) */
	int mm_users;
};

/* User address-space layout (see guestos/README.md, "Virtual memory"). */
#define TASK_SIZE 0x00007ffffffff000UL  /* the top of user space, exclusive */
#define STACK_TOP TASK_SIZE             /* [stack] ends here */
#define STACK_SIZE_LIMIT (8UL << 20)    /* RLIMIT_STACK's default: 8 MiB */
#define TASK_UNMAPPED_BASE 0x00007f0000000000UL /* mmap allocates top-down below */
#define MMAP_MIN_ADDR 0x10000UL         /* nothing is mapped below (mmap_min_addr) */
#define ELF_ET_EXEC_BASE 0x400000UL     /* link address of user programs */

#endif
