/* mprotect (Linux mm/mprotect.c): new permissions for a range that must
 * be mapped throughout; VMAs are split at its ends, their flags and PTEs
 * changed, and neighbours that now agree merged again. */
#include "guestos/mm/mmap.h"

/* Every page of [start, end) lies in some VMA. */
static bool range_mapped(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma = find_vma(mm, start);
	unsigned long covered = start;

	while (vma && vma->vm_start <= covered && covered < end) {
		covered = vma->vm_end;
		vma = find_vma(mm, covered);
	}
	return covered >= end;
}

static unsigned long mprotect_flags(unsigned long vm_flags, unsigned long prot)
{
	return (vm_flags & ~VM_ACCESS_FLAGS) | (prot & PROT_READ ? VM_READ : 0) |
	       (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
}

/* What mprotect may grant: VM_MAYREAD/MAYWRITE/MAYEXEC are the access
 * bits shifted by 4. */
static bool may_grant(unsigned long vm_flags, unsigned long newflags)
{
	return !((newflags & VM_ACCESS_FLAGS) & ~((vm_flags >> 4) & VM_ACCESS_FLAGS));
}

int do_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		unsigned long prot)
{
	unsigned long end;
	struct vm_area_struct *vma, *first;
	int err;

	if ((start & ~PAGE_MASK) || (prot & ~(unsigned long)(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	if (!len)
		return 0;
	if (len > TASK_SIZE || start > TASK_SIZE - len)
		return -ENOMEM;
	end = start + ALIGN_UP(len, (unsigned long)PAGE_SIZE);
	if (!range_mapped(mm, start, end))
		return -ENOMEM;
	for (vma = find_vma(mm, start); vma && vma->vm_start < end; vma = find_vma(mm, vma->vm_end))
		if (!may_grant(vma->vm_flags, mprotect_flags(vma->vm_flags, prot)))
			return -EACCES;
	first = split_range(mm, start, end, &err);
	if (err)
		return err;
	for (vma = first; vma && vma->vm_start < end; vma = find_vma(mm, vma->vm_end)) {
		unsigned long newflags = mprotect_flags(vma->vm_flags, prot);

		change_protection(vma, vma->vm_start, vma->vm_end, newflags);
		vma->vm_flags = newflags;
	}
	for (vma = find_vma(mm, start); vma && vma->vm_start < end; vma = find_vma(mm, vma->vm_end))
		vma = vma_merge(mm, vma);
	return 0;
}
