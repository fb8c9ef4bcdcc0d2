/* Address spaces: not implemented yet; every entry point links. */
#include "guestos/mm/mmap.h"

#include "guestos/kernel/printk.h"

struct mm_struct init_mm;
struct mm_struct *active_mm = &init_mm;
unsigned long empty_zero_page_pfn;

void mm_init(void) {}
struct mm_struct *mm_alloc(void) { return NULL; }
void mmput(struct mm_struct *mm) {}
struct mm_struct *dup_mm(struct mm_struct *oldmm) { return NULL; }
void switch_mm(struct mm_struct *next) {}
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr) { return NULL; }
struct vm_area_struct *find_vma_prev(struct mm_struct *mm, unsigned long addr,
				     struct vm_area_struct **pprev) { *pprev = NULL; return NULL; }
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, unsigned long start,
					     unsigned long end) { return NULL; }
long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned long prot,
	     unsigned long flags, const char *name) { return -ENOSYS; }
int do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len) { return -ENOSYS; }
int do_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		unsigned long prot) { return -ENOSYS; }
unsigned long do_brk(struct mm_struct *mm, unsigned long newbrk) { return mm->brk; }
int setup_user_stack(struct mm_struct *mm, unsigned long top, unsigned long size_limit) { return -ENOSYS; }
long copy_to_user(void *to, const void *from, unsigned long n) { return -EFAULT; }
long copy_from_user(void *to, const void *from, unsigned long n) { return -EFAULT; }
int do_page_fault(struct pt_regs *regs, unsigned long error_code, unsigned long address) { return -EFAULT; }
__attribute__((weak)) void force_sigsegv(unsigned long address, const char *why)
{
	panic("segfault at %lx: %s", address, why);
}
void show_map(struct mm_struct *mm, int pid) {}
