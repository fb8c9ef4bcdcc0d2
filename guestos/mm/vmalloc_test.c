/* Self-tests of vmalloc. */
#include "guestos/kernel/sched.h"
#include "guestos/kernel/selftest.h"
#include "guestos/mm/vmalloc.h"

/* An area is usable end to end, its pages are mapped one by one (each
 * frame where its PTE says), its guard page is not mapped, and vfree
 * unmaps it all. */
static const char *test_vmalloc_area(void)
{
	const unsigned long size = 5 * PAGE_SIZE + 100;
	u8 *p = vmalloc(size);
	struct vm_struct *area = find_vm_area(p);
	enum pg_level level;
	const char *err = NULL;

	if (!p || !area || area->nr_pages != 6)
		return "vmalloc failed or area not recorded";
	for (unsigned long i = 0; i < size; i++)
		p[i] = (u8)i;
	for (unsigned int i = 0; i < area->nr_pages && !err; i++) {
		pte_t *pte = lookup_address((unsigned long)p + i * PAGE_SIZE, &level);

		if (!pte || level != PG_LEVEL_4K || pte_pfn(*pte) != page_to_pfn(area->pages[i]))
			err = "a page is not mapped to its frame";
		else if (((u8 *)page_to_virt(area->pages[i]))[7] != (u8)(i * PAGE_SIZE + 7))
			err = "the frame does not hold what was written through the area";
	}
	if (!err && lookup_address((unsigned long)p + 6 * PAGE_SIZE, &level))
		err = "the guard page is mapped";
	vfree(p);
	if (!err && lookup_address((unsigned long)p, &level))
		err = "still mapped after vfree";
	return err;
}

/* Areas do not overlap: each starts past the previous one's guard page,
 * and a freed gap is reused. */
static const char *test_vmalloc_ordering(void)
{
	u8 *a = vmalloc(PAGE_SIZE), *b = vmalloc(3 * PAGE_SIZE), *c;
	const char *err = NULL;

	if (!a || !b)
		err = "vmalloc failed";
	else if (b < a + 2 * PAGE_SIZE)
		err = "areas overlap or lack a guard page";
	vfree(a);
	c = vmalloc(PAGE_SIZE);
	if (!err && c != a)
		err = "the first fitting gap was not reused";
	vfree(c);
	vfree(b);
	return err;
}

/* Why the kernel stack at stack is not a usable vmapped stack, or NULL:
 * a vmalloc area of THREAD_SIZE, every page mapped and writable end to
 * end, the pages under and above it (its guard page) unmapped. */
static const char *check_vmapped_stack(u8 *stack)
{
	const struct vm_struct *area = find_vm_area(stack);
	unsigned long base = (unsigned long)stack;
	enum pg_level level;

	if (!area || area->nr_pages != THREAD_SIZE / PAGE_SIZE)
		return "the stack is not a vmalloc area of THREAD_SIZE";
	for (unsigned long off = 0; off < THREAD_SIZE; off += PAGE_SIZE)
		if (!lookup_address(base + off, &level) || level != PG_LEVEL_4K)
			return "a stack page is not mapped";
	if (lookup_address(base - PAGE_SIZE, &level))
		return "the page under the stack is mapped (no overflow guard)";
	if (lookup_address(base + THREAD_SIZE, &level))
		return "the guard page above the stack is mapped";
	stack[0] = stack[THREAD_SIZE - 1] = 0x5a;
	return NULL;
}

/* Two kernel stacks in a row (the second sits right above the first's
 * guard page) are each a guarded vmalloc area, and freeing one removes
 * its area and mapping. */
static const char *test_kernel_stack_vmapped(void)
{
	u8 *a = alloc_thread_stack(), *b = alloc_thread_stack();
	enum pg_level level;
	const char *err = !a || !b ? "alloc_thread_stack failed" : check_vmapped_stack(a);

	if (!err)
		err = check_vmapped_stack(b);
	free_thread_stack(b);
	if (!err && (find_vm_area(b) || lookup_address((unsigned long)b, &level)))
		err = "free_thread_stack left the area or its mapping";
	free_thread_stack(a);
	return err;
}

const struct selftest vmalloc_selftests[] = {
	{"vmalloc_area", test_vmalloc_area},
	{"vmalloc_ordering", test_vmalloc_ordering},
	{"kernel_stack_vmapped", test_kernel_stack_vmapped},
};
const size_t nr_vmalloc_selftests = ARRAY_SIZE(vmalloc_selftests);
