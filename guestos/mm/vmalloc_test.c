/* Self-tests of vmalloc. */
#include "guestos/kernel/sched.h"
#include "guestos/kernel/selftest.h"
#include "guestos/mm/gfp.h"
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

#define REUSE_TRIES 16 /* pages taken to get a freed frame back */

/* Take pages until frame comes back (up to REUSE_TRIES); the others go
 * back. Returns frame, now owned, or NULL. */
static struct page *take_frame_back(struct page *frame)
{
	struct page *got[REUSE_TRIES];
	unsigned n = 0;

	while (n < REUSE_TRIES && (got[n] = alloc_page(GFP_KERNEL)) && got[n] != frame)
		n++;
	bool found = n < REUSE_TRIES && got[n] == frame;
	while (n--)
		__free_page(got[n]);
	return found ? frame : NULL;
}

/* An address vfree gave back and vmalloc hands out again at once (first
 * fit) reaches the new area's frame, not the old one, even right after
 * the old translation was used: vfree leaves no stale TLB entry. The old
 * frame is held meanwhile and marked, so a stale entry would read it. */
static const char *test_vmalloc_reuse_no_stale_tlb(void)
{
	volatile u8 *a = vmalloc(PAGE_SIZE), *b = NULL;
	struct page *old = a ? find_vm_area((void *)a)->pages[0] : NULL, *held = NULL;
	const char *err = NULL;

	if (!a)
		return "vmalloc failed";
	a[0] = 0x11; /* the translation is in the TLB now */
	vfree((void *)a);
	held = take_frame_back(old);
	b = vmalloc(PAGE_SIZE);
	if (!held || b != a)
		err = !held ? "the freed frame did not come back" : "the freed range was not reused";
	else if ((*(volatile u8 *)page_to_virt(find_vm_area((void *)b)->pages[0]) = 0x22, b[0] != 0x22))
		err = "the reused address still reaches the freed frame";
	vfree((void *)b);
	if (held)
		__free_page(held);
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
	{"vmalloc_reuse_no_stale_tlb", test_vmalloc_reuse_no_stale_tlb},
	{"kernel_stack_vmapped", test_kernel_stack_vmapped},
};
const size_t nr_vmalloc_selftests = ARRAY_SIZE(vmalloc_selftests);
