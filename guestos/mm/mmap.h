/* The address-space API: creating, copying and tearing down an mm,
 * VMAs (mmap, munmap, mprotect, brk, the stack), demand paging and
 * copy-on-write, user copies, /proc/PID/maps. Named as Linux names them
 * (mm/mmap.c, mm/memory.c, mm/mprotect.c, kernel/fork.c,
 * arch/x86/mm/fault.c, fs/proc/task_mmu.c).
 *
 * Functions return 0 or a negative errno (guestos/include/errno.h)
 * unless stated. Addresses are user virtual addresses below TASK_SIZE;
 * the kernel half of every PGD is shared with init_mm's. */
#ifndef GUESTOS_MM_MMAP_H
#define GUESTOS_MM_MMAP_H

#include "guestos/arch/x86/traps.h"
#include "guestos/include/errno.h"
#include "guestos/include/mman.h"
#include "guestos/mm/mm_types.h"

/* The kernel's own address space (the boot page tables), and the one
 * whose PGD is in CR3. */
extern struct mm_struct init_mm;
extern struct mm_struct *active_mm;

/* Boot: set init_mm.pgd from CR3 and allocate the zero page. */
void mm_init(void);

/* A new mm: empty user half, the kernel half copied from init_mm; one
 * user (mm_users = 1). NULL when out of memory. */
struct mm_struct *mm_alloc(void);
/* Drop a user; at zero unmap every VMA, free the pages, the page tables
 * and the mm. switch_mm away from it first (it may not be active). */
void mmput(struct mm_struct *mm);
/* fork: a copy of oldmm. Private writable pages become read-only in both
 * and shared until one writes (copy-on-write); MAP_SHARED pages stay
 * shared. NULL when out of memory. */
struct mm_struct *dup_mm(struct mm_struct *oldmm);
/* Load next's PGD into CR3 (init_mm's for NULL) and make it active_mm. */
void switch_mm(struct mm_struct *next);

/* The first VMA with vm_end > addr, or NULL. */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
/* find_vma, and the VMA before it (or NULL) in *pprev. */
struct vm_area_struct *find_vma_prev(struct mm_struct *mm, unsigned long addr,
				     struct vm_area_struct **pprev);
/* The first VMA overlapping [start, end), or NULL. */
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, unsigned long start,
					     unsigned long end);

/* Map len bytes of anonymous memory (MAP_ANONYMOUS with MAP_PRIVATE or
 * MAP_SHARED, optionally MAP_FIXED, which replaces what was there; PROT_*
 * in prot). Without MAP_FIXED, addr is a hint; the area is taken
 * top-down below mm->mmap_base. Returns the address or -errno. */
long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned long prot,
	     unsigned long flags, const char *name);
/* Unmap [start, start+len), splitting VMAs that straddle its ends. */
int do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len);
/* Change the protection of [start, start+len) (all of it must be mapped),
 * splitting and merging VMAs, rewriting present PTEs. */
int do_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		unsigned long prot);
/* sys_brk: move the end of [heap] (which starts at mm->start_brk) to
 * newbrk; returns the new brk, or the unchanged one on failure. */
unsigned long do_brk(struct mm_struct *mm, unsigned long newbrk);
/* Make the [stack] VMA: one page ending at top, growing down on faults
 * (VM_GROWSDOWN) to at most size_limit bytes. */
int setup_user_stack(struct mm_struct *mm, unsigned long top, unsigned long size_limit);

/* Copy to/from user memory of active_mm, faulting pages in as needed.
 * 0, or -EFAULT when some byte is not accessible (bytes before it may
 * have been copied). */
long copy_to_user(void *to, const void *from, unsigned long n);
long copy_from_user(void *to, const void *from, unsigned long n);

/* Error-code bits the CPU pushes for #PF (SDM Vol. 3A §4.7, figure 4-12). */
#define X86_PF_PROT (1UL << 0)  /* 0: not present; 1: protection violation */
#define X86_PF_WRITE (1UL << 1) /* a write */
#define X86_PF_USER (1UL << 2)  /* in user mode (CPL 3) */
#define X86_PF_RSVD (1UL << 3)  /* a reserved bit was set in some entry */
#define X86_PF_INSTR (1UL << 4) /* an instruction fetch (only with NX or SMEP) */

/* The #PF handler (arch/x86/traps.c calls it for vector 14). Returns 0
 * when the fault is resolved (the access is retried). A bad user access
 * calls force_sigsegv and returns -EFAULT; a kernel access to a user
 * address that cannot be resolved returns -EFAULT (copy_*_user turn it
 * into their result); any other kernel fault returns -EFAULT and the
 * caller dumps the registers. */
int do_page_fault(struct pt_regs *regs, unsigned long error_code, unsigned long address);
/* Kill the current process for a bad access. The default (weak) one
 * panics with the reason; the process code provides the real one. */
void force_sigsegv(unsigned long address, const char *why);

/* Print mm's VMAs as /proc/PID/maps does. */
void show_map(struct mm_struct *mm, int pid);

/* The levels below, named as Linux names them. */
struct page;
pgd_t *pgd_offset(struct mm_struct *mm, unsigned long addr);
pud_t *pud_alloc(struct mm_struct *mm, p4d_t *p4d, unsigned long addr);
pmd_t *pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long addr);
int __pte_alloc(struct mm_struct *mm, pmd_t *pmd);
pte_t *pte_offset_map(pmd_t *pmd, unsigned long addr);
/* Walk mm's tables for addr without allocating: the PTE, or NULL. */
pte_t *follow_pte(struct mm_struct *mm, unsigned long addr);
void set_pte_at(struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pte);
/* Resolve a fault at address in vma; flags are FAULT_FLAG_*. 0 or
 * VM_FAULT_* bits. */
#define FAULT_FLAG_WRITE 0x01
#define FAULT_FLAG_USER 0x02
#define VM_FAULT_OOM 0x0001
#define VM_FAULT_SIGSEGV 0x0002
int handle_mm_fault(struct vm_area_struct *vma, unsigned long address, unsigned int flags);
/* Remove the mappings of [start, end) in vma, dropping the pages. */
void zap_page_range(struct vm_area_struct *vma, unsigned long start, unsigned long end);
/* fork: copy vma's PTEs from src to dst (write-protecting private ones). */
int copy_page_range(struct mm_struct *dst, struct mm_struct *src, struct vm_area_struct *vma);

/* VMA surgery (mm/mmap.c). vma_merge joins vma with compatible
 * neighbours and returns the VMA now covering it; __split_vma cuts at
 * addr, vma keeping the lower part, and returns the upper (NULL on OOM);
 * split_range splits the VMAs straddling start and end and returns the
 * first VMA inside [start, end) (NULL if none, *err -ENOMEM on OOM). */
struct vm_area_struct *vma_merge(struct mm_struct *mm, struct vm_area_struct *vma);
/* Link a filled-in VMA into mm's tree and list (counting it in total_vm);
 * -ENOMEM if it overlaps an existing one. */
int insert_vm_struct(struct mm_struct *mm, struct vm_area_struct *vma);
struct vm_area_struct *__split_vma(struct mm_struct *mm, struct vm_area_struct *vma,
				   unsigned long addr);
struct vm_area_struct *split_range(struct mm_struct *mm, unsigned long start, unsigned long end,
				   int *err);

/* The hardware PTE bits for pages of an area with these vm_flags. */
u64 vm_get_page_prot(unsigned long vm_flags);
/* INVLPG addr if mm is the active mm. */
void flush_tlb_page(struct mm_struct *mm, unsigned long addr);
/* mprotect: rewrite the PTEs of [start, end) in vma for newflags. */
void change_protection(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		       unsigned long newflags);
/* Free all user page tables of mm (every VMA must be zapped). */
void free_pgtables(struct mm_struct *mm);
/* Free the page tables overlapping [start, end) that map nothing. */
void free_pgd_range(struct mm_struct *mm, unsigned long start, unsigned long end);
/* Grow a VM_GROWSDOWN vma down to cover addr (within the stack limit). */
int expand_stack(struct vm_area_struct *vma, unsigned long addr);

/* Counters since boot (Linux's vm_event_item names, in part). */
struct vm_event_state {
	unsigned long pgfault;        /* handle_mm_fault calls */
	unsigned long zero_page_maps; /* read faults answered with the zero page */
	unsigned long anon_pages;     /* new zeroed pages mapped on faults */
	unsigned long cow_copies;     /* do_wp_page copied the page */
	unsigned long cow_reuses;     /* do_wp_page reused an exclusive page */
	unsigned long stack_expands;  /* expand_stack calls that grew [stack] */
};
extern struct vm_event_state vm_events;

/* The shared zero page: every read fault on untouched anonymous memory
 * maps it read-only. */
extern unsigned long empty_zero_page_pfn;
#define ZERO_PAGE(vaddr) pfn_to_page(empty_zero_page_pfn)

#endif
