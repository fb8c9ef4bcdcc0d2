/* The page-fault handler and user copies (Linux arch/x86/mm/fault.c,
 * arch/x86/lib/usercopy).
 *
 * do_page_fault, for a fault at a user address in active_mm:
 *   find_vma -> below a VM_GROWSDOWN VMA: expand_stack (within the limit)
 *            -> access check against vm_flags (write to a read-only area,
 *               any access to PROT_NONE)
 *            -> handle_mm_fault -> page tables allocated -> handle_pte_fault
 *               -> empty PTE:              do_anonymous_page (zero page / new page)
 *               -> read-only PTE, a write: do_wp_page (copy or reuse)
 * Anything else is a bad access: in user mode the process is killed
 * (force_sigsegv), in kernel mode the caller dumps the registers. Kernel
 * accesses to user memory (copy_to_user, the self-tests) take the same
 * path: supervisor access to user pages is allowed as SMAP is off. */
#include "guestos/mm/mmap.h"

#include "guestos/kernel/printk.h"
#include "guestos/lib/string.h"

/* Kill the current process. There is none yet in this default: report
 * and stop. The process code provides the real one. */
__attribute__((weak)) void force_sigsegv(unsigned long address, const char *why)
{
	panic("segfault at %lx: %s", address, why);
}

/* The VMA for a user address, growing the stack down to it if needed. */
static struct vm_area_struct *vma_for_fault(struct mm_struct *mm, unsigned long address)
{
	struct vm_area_struct *vma = find_vma(mm, address);

	if (vma && vma->vm_start > address && expand_stack(vma, address))
		return NULL;
	return vma;
}

/* Why vma does not allow the access, or NULL. An instruction fetch is
 * reported as such (I/D, bit 4 of the error code) because the kernel runs
 * with EFER.NXE (SDM Vol. 3A §4.7). */
static const char *access_error(unsigned long error_code, const struct vm_area_struct *vma)
{
	if (error_code & X86_PF_WRITE)
		return vma->vm_flags & VM_WRITE ? NULL : "write to a read-only area";
	if ((error_code & X86_PF_INSTR) && !(vma->vm_flags & VM_EXEC))
		return "execution of a non-executable area";
	if (!(vma->vm_flags & VM_ACCESS_FLAGS))
		return "access to a PROT_NONE area";
	if (error_code & X86_PF_PROT)
		return "protection violation";
	return NULL;
}

static const char *user_fault(struct mm_struct *mm, unsigned long error_code, unsigned long address)
{
	struct vm_area_struct *vma;
	const char *why;
	int fault;

	if (error_code & X86_PF_RSVD)
		return "reserved bit set in a page-table entry";
	vma = vma_for_fault(mm, address);
	if (!vma)
		return "no mapping at this address";
	why = access_error(error_code, vma);
	if (why)
		return why;
	fault = handle_mm_fault(vma, address, (error_code & X86_PF_WRITE ? FAULT_FLAG_WRITE : 0) |
				(error_code & X86_PF_USER ? FAULT_FLAG_USER : 0));
	if (fault & VM_FAULT_OOM)
		return "out of memory";
	return fault ? "no access" : NULL;
}

int do_page_fault(struct pt_regs *regs, unsigned long error_code, unsigned long address)
{
	const char *why;

	if (address >= TASK_SIZE) {
		/* Every kernel mapping is in every mm (the vmalloc window's
		 * PGD slots are preallocated, mm/vmalloc.c): nothing to fix. */
		why = "kernel address";
	} else {
		why = user_fault(active_mm, error_code, address);
		if (!why)
			return 0;
	}
	if (error_code & X86_PF_USER)
		force_sigsegv(address, why);
	else
		printk(KERN_EMERG "BUG: unable to handle page fault for address %016lx: %s\n", address, why);
	return -EFAULT;
}

/* Make one user page ready for the access (fault it in as the CPU's fault
 * would), without touching it: 0 or -EFAULT. */
static int fault_in_user_page(unsigned long addr, bool write)
{
	unsigned long error_code = write ? X86_PF_WRITE : 0;
	pte_t *pte = follow_pte(active_mm, addr);

	if (pte && pte_present(*pte) && (!write || pte_write(*pte)))
		return 0;
	if (pte && pte_present(*pte))
		error_code |= X86_PF_PROT;
	return user_fault(active_mm, error_code, addr) ? -EFAULT : 0;
}

/* Copy n bytes page by page, each user page faulted in first, so that a
 * bad address is found before it is touched. */
static long copy_user(void *to, const void *from, unsigned long n, unsigned long uaddr, bool write)
{
	unsigned long done = 0;

	if (uaddr >= TASK_SIZE || n > TASK_SIZE - uaddr)
		return -EFAULT;
	while (done < n) {
		unsigned long chunk = MIN(n - done, PAGE_SIZE - ((uaddr + done) & ~PAGE_MASK));

		if (fault_in_user_page(uaddr + done, write))
			return -EFAULT;
		memcpy((char *)to + done, (const char *)from + done, chunk);
		done += chunk;
	}
	return 0;
}

long copy_to_user(void *to, const void *from, unsigned long n)
{
	return copy_user(to, from, n, (unsigned long)to, true);
}

long copy_from_user(void *to, const void *from, unsigned long n)
{
	return copy_user(to, from, n, (unsigned long)from, false);
}
