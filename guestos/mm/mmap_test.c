/* Self-tests of address spaces: the VMA tree, merging and splitting,
 * demand paging, copy-on-write, the stack, user copies. They run in
 * kernel mode on a fresh mm made active with switch_mm, touching user
 * addresses directly: the accesses fault and take the same path as a
 * process's would (supervisor access to user pages: SMAP is off). */
#include "guestos/kernel/printk.h"
#include "guestos/kernel/selftest.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/vmalloc.h"

#define TEST_BASE 0x10000000UL /* a fixed user address for MAP_FIXED areas */
#define PG PAGE_SIZE
#define RW (PROT_READ | PROT_WRITE)
#define ANON_PRIVATE (MAP_ANONYMOUS | MAP_PRIVATE)
#define ANON_FIXED (MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED)

/* Stop at the first failed check with its message. */
#define CHECK(cond, msg)           \
	do {                           \
		if (!(cond)) {             \
			err = (msg);           \
			goto out;              \
		}                          \
	} while (0)

/* User accesses that may fault. The fault handler changes kernel state
 * (counters, page tables) behind the compiler's back: the barrier keeps
 * it from reusing values read before the access. */
#define barrier() __asm__ volatile("" : : : "memory")

static void poke(unsigned long addr, u8 v)
{
	*(volatile u8 *)addr = v;
	barrier();
}

static u8 peek(unsigned long addr)
{
	u8 v = *(volatile u8 *)addr;

	barrier();
	return v;
}

/* A new mm, active. */
static struct mm_struct *enter_test_mm(void)
{
	struct mm_struct *mm = mm_alloc();

	if (mm)
		switch_mm(mm);
	return mm;
}

static void leave_test_mm(struct mm_struct *mm)
{
	switch_mm(NULL);
	mmput(mm);
}

static bool map_fixed(struct mm_struct *mm, unsigned long addr, unsigned long pages,
		      unsigned long prot)
{
	return do_mmap(mm, addr, pages * PG, prot, ANON_FIXED, NULL) == (long)addr;
}

static bool vma_is(const struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	return vma && vma->vm_start == start && vma->vm_end == end;
}

static struct page *page_at(struct mm_struct *mm, unsigned long addr)
{
	pte_t *pte = follow_pte(mm, addr);

	return pte && pte_present(*pte) ? pfn_to_page(pte_pfn(*pte)) : NULL;
}

static bool pte_writable(struct mm_struct *mm, unsigned long addr)
{
	pte_t *pte = follow_pte(mm, addr);

	return pte && pte_present(*pte) && pte_write(*pte);
}

/* Adjacent areas with the same flags become one VMA; different flags do not. */
static const char *test_vma_insert_merge(void)
{
	struct mm_struct *mm = mm_alloc();
	const char *err = NULL;

	if (!mm)
		return "mm_alloc failed";
	CHECK(map_fixed(mm, TEST_BASE, 2, RW) && map_fixed(mm, TEST_BASE + 2 * PG, 2, RW),
	      "mmap failed");
	CHECK(mm->map_count == 1 && vma_is(find_vma(mm, TEST_BASE), TEST_BASE, TEST_BASE + 4 * PG),
	      "two adjacent RW areas were not merged");
	CHECK(map_fixed(mm, TEST_BASE - PG, 1, RW) && mm->map_count == 1 &&
	      vma_is(find_vma(mm, TEST_BASE), TEST_BASE - PG, TEST_BASE + 4 * PG),
	      "an area just below was not merged");
	CHECK(map_fixed(mm, TEST_BASE + 4 * PG, 1, PROT_READ) && mm->map_count == 2,
	      "areas with different protections were merged");
	CHECK(mm->total_vm == 6, "total_vm is not 6 pages");
	CHECK(!rb_check(&mm->mm_rb), "the VMA tree breaks a red-black rule");
out:
	mmput(mm);
	return err;
}

/* munmap of a middle page splits a VMA in two; of everything, leaves none. */
static const char *test_vma_split_munmap(void)
{
	struct mm_struct *mm = mm_alloc();
	struct vm_area_struct *prev, *vma;
	const char *err = NULL;

	if (!mm)
		return "mm_alloc failed";
	CHECK(map_fixed(mm, TEST_BASE, 4, RW), "mmap failed");
	CHECK(do_munmap(mm, TEST_BASE + PG, PG) == 0, "munmap failed");
	vma = find_vma_prev(mm, TEST_BASE + PG, &prev);
	CHECK(mm->map_count == 2 && vma_is(prev, TEST_BASE, TEST_BASE + PG) &&
	      vma_is(vma, TEST_BASE + 2 * PG, TEST_BASE + 4 * PG), "not split around the hole");
	CHECK(vma->vm_pgoff == (TEST_BASE + 2 * PG) >> PAGE_SHIFT, "upper part's vm_pgoff wrong");
	CHECK(mm->total_vm == 3, "total_vm is not 3 pages");
	CHECK(do_munmap(mm, TEST_BASE + PG / 2, PG) == -EINVAL, "misaligned munmap accepted");
	CHECK(do_munmap(mm, TEST_BASE, 4 * PG) == 0 && mm->map_count == 0 && mm->total_vm == 0,
	      "munmap of the whole range left VMAs");
out:
	mmput(mm);
	return err;
}

/* mprotect of the middle splits into three; undoing it merges back into one. */
static const char *test_vma_mprotect_split_merge(void)
{
	struct mm_struct *mm = mm_alloc();
	const char *err = NULL;

	if (!mm)
		return "mm_alloc failed";
	CHECK(map_fixed(mm, TEST_BASE, 4, RW), "mmap failed");
	CHECK(do_mprotect(mm, TEST_BASE + PG, 2 * PG, PROT_READ) == 0, "mprotect failed");
	CHECK(mm->map_count == 3 && vma_is(find_vma(mm, TEST_BASE + PG), TEST_BASE + PG,
					   TEST_BASE + 3 * PG) &&
	      find_vma(mm, TEST_BASE + PG)->vm_flags & VM_READ &&
	      !(find_vma(mm, TEST_BASE + PG)->vm_flags & VM_WRITE), "not split into three");
	CHECK(do_mprotect(mm, TEST_BASE + PG, 2 * PG, RW) == 0 && mm->map_count == 1 &&
	      vma_is(find_vma(mm, TEST_BASE), TEST_BASE, TEST_BASE + 4 * PG),
	      "not merged back into one");
	CHECK(do_mprotect(mm, TEST_BASE, 5 * PG, PROT_READ) == -ENOMEM,
	      "mprotect past the mapping accepted");
out:
	mmput(mm);
	return err;
}

/* find_vma: the first VMA ending above addr; _prev: and the one before;
 * _intersection: only one that overlaps. */
static const char *test_find_vma(void)
{
	struct mm_struct *mm = mm_alloc();
	unsigned long a = TEST_BASE, b = TEST_BASE + 3 * PG;
	struct vm_area_struct *prev;
	const char *err = NULL;

	if (!mm)
		return "mm_alloc failed";
	CHECK(map_fixed(mm, a, 1, RW) && map_fixed(mm, b, 1, RW), "mmap failed");
	CHECK(vma_is(find_vma(mm, a - PG), a, a + PG) && vma_is(find_vma(mm, a + PG / 2), a, a + PG),
	      "find_vma below or inside the first area");
	CHECK(vma_is(find_vma(mm, a + PG), b, b + PG), "find_vma in the gap: not the next area");
	CHECK(!find_vma(mm, b + PG), "find_vma above every area is not NULL");
	CHECK(vma_is(find_vma_prev(mm, a + 2 * PG, &prev), b, b + PG) && vma_is(prev, a, a + PG),
	      "find_vma_prev in the gap");
	CHECK(!find_vma_prev(mm, b + PG, &prev) && vma_is(prev, b, b + PG),
	      "find_vma_prev above every area");
	CHECK(!find_vma_intersection(mm, a + PG, b), "intersection found in the gap");
	CHECK(vma_is(find_vma_intersection(mm, a + PG, b + 1), b, b + PG), "intersection missed");
out:
	mmput(mm);
	return err;
}

/* Many VMAs inserted in a scrambled order and half removed: the tree stays
 * a red-black tree and the list stays in address order. */
static const char *test_vma_tree_balanced(void)
{
	struct mm_struct *mm = mm_alloc();
	const unsigned n = 64;
	const char *err = NULL;
	unsigned long last = 0;

	if (!mm)
		return "mm_alloc failed";
	for (unsigned i = 0; i < n; i++) /* 37 is odd: i*37 mod 64 visits all */
		CHECK(map_fixed(mm, TEST_BASE + ((i * 37) % n) * 2 * PG, 1, RW), "mmap failed");
	CHECK(mm->map_count == (int)n && !rb_check(&mm->mm_rb), "tree broken after inserts");
	for (unsigned i = 0; i < n; i += 2)
		CHECK(do_munmap(mm, TEST_BASE + ((i * 37) % n) * 2 * PG, PG) == 0 &&
		      !rb_check(&mm->mm_rb), "munmap failed or left the tree broken");
	CHECK(mm->map_count == (int)n / 2 && !rb_check(&mm->mm_rb), "tree broken after erases");
	for (struct list_head *p = mm->mmap_list.next; p != &mm->mmap_list; p = p->next) {
		struct vm_area_struct *vma = list_entry(p, struct vm_area_struct, vm_list);

		CHECK(vma->vm_start >= last && find_vma(mm, vma->vm_start) == vma,
		      "list out of order or not in the tree");
		last = vma->vm_end;
	}
out:
	mmput(mm);
	return err;
}

/* A read of untouched private memory maps the zero page, read-only, and
 * allocates nothing. */
static const char *test_demand_read_maps_zero_page(void)
{
	struct mm_struct *mm = enter_test_mm();
	unsigned long faults = vm_events.pgfault;
	const char *err = NULL;
	long addr;

	if (!mm)
		return "mm_alloc failed";
	addr = do_mmap(mm, 0, 4 * PG, RW, ANON_PRIVATE, NULL);
	CHECK(addr > 0 && (unsigned long)addr + 4 * PG <= TASK_UNMAPPED_BASE,
	      "mmap did not place the area below the mmap base");
	CHECK(!follow_pte(mm, (unsigned long)addr) || !pte_present(*follow_pte(mm, (unsigned long)addr)),
	      "mapped before the first access");
	CHECK(peek((unsigned long)addr + 8) == 0, "the zero page does not read as zero");
	CHECK(vm_events.pgfault == faults + 1, "the read did not fault exactly once");
	CHECK(page_at(mm, (unsigned long)addr) == ZERO_PAGE(addr), "not mapped to ZERO_PAGE");
	CHECK(!pte_writable(mm, (unsigned long)addr), "the zero page is mapped writable");
	CHECK(mm->rss == 0, "rss counts the zero page");
out:
	leave_test_mm(mm);
	return err;
}

/* A write to untouched memory gets a new zeroed page of its own; a write
 * after a read replaces the zero page. */
static const char *test_demand_write_allocates_zeroed(void)
{
	struct mm_struct *mm = enter_test_mm();
	const char *err = NULL;
	struct page *page;

	if (!mm)
		return "mm_alloc failed";
	CHECK(map_fixed(mm, TEST_BASE, 2, RW), "mmap failed");
	poke(TEST_BASE + 100, 0x5a);
	page = page_at(mm, TEST_BASE);
	CHECK(page && page != ZERO_PAGE(0) && pte_writable(mm, TEST_BASE), "no writable page mapped");
	CHECK(page_count(page) == 1 && page_mapcount(page) == 1 && mm->rss == 1,
	      "refcount, mapcount or rss is not 1");
	for (unsigned i = 0; i < PG; i++)
		CHECK(peek(TEST_BASE + i) == (i == 100 ? 0x5a : 0), "the new page is not zeroed");
	CHECK(peek(TEST_BASE + PG) == 0 && page_at(mm, TEST_BASE + PG) == ZERO_PAGE(0),
	      "read did not map ZERO_PAGE");
	poke(TEST_BASE + PG + 1, 1);
	CHECK(page_at(mm, TEST_BASE + PG) != ZERO_PAGE(0) && peek(TEST_BASE + PG) == 0 &&
	      peek(TEST_BASE + PG + 1) == 1 && mm->rss == 2,
	      "a write over the zero page did not get a page of its own");
	CHECK(*(u8 *)page_to_virt(ZERO_PAGE(0)) == 0, "the zero page was written");
out:
	leave_test_mm(mm);
	return err;
}

/* After dup_mm both share the page read-only (count 2); the parent's write
 * copies it; the child still sees the old data. */
static const char *test_cow_after_dup_mm(void)
{
	struct mm_struct *parent = enter_test_mm(), *child = NULL;
	unsigned long copies = vm_events.cow_copies;
	struct page *old;
	const char *err = NULL;

	if (!parent)
		return "mm_alloc failed";
	CHECK(map_fixed(parent, TEST_BASE, 1, RW), "mmap failed");
	poke(TEST_BASE, 0x11);
	old = page_at(parent, TEST_BASE);
	child = dup_mm(parent);
	CHECK(child, "dup_mm failed");
	CHECK(page_at(child, TEST_BASE) == old && page_count(old) == 2 && page_mapcount(old) == 2 &&
	      child->rss == 1, "the page is not shared with count and mapcount 2");
	CHECK(!pte_writable(parent, TEST_BASE) && !pte_writable(child, TEST_BASE),
	      "not write-protected on both sides");
	poke(TEST_BASE, 0x22);
	CHECK(vm_events.cow_copies == copies + 1, "the write did not copy");
	CHECK(page_at(parent, TEST_BASE) != old && pte_writable(parent, TEST_BASE) &&
	      page_count(old) == 1 && page_mapcount(old) == 1, "the parent did not get its own copy");
	switch_mm(child);
	CHECK(peek(TEST_BASE) == 0x11, "the child sees the parent's write");
	switch_mm(parent);
	CHECK(peek(TEST_BASE) == 0x22, "the parent lost its write");
out:
	if (child)
		mmput(child);
	leave_test_mm(parent);
	return err;
}

/* Once the child's mm is gone, the parent holds the page alone: its write
 * reuses the page instead of copying. */
static const char *test_cow_reuse_exclusive(void)
{
	struct mm_struct *parent = enter_test_mm(), *child;
	unsigned long copies = vm_events.cow_copies, reuses = vm_events.cow_reuses;
	struct page *page;
	const char *err = NULL;

	if (!parent)
		return "mm_alloc failed";
	CHECK(map_fixed(parent, TEST_BASE, 1, RW), "mmap failed");
	poke(TEST_BASE, 0x33);
	page = page_at(parent, TEST_BASE);
	child = dup_mm(parent);
	CHECK(child, "dup_mm failed");
	mmput(child);
	CHECK(page_count(page) == 1 && !pte_writable(parent, TEST_BASE),
	      "count not back to 1, or the PTE is writable again");
	poke(TEST_BASE, 0x44);
	CHECK(vm_events.cow_copies == copies && vm_events.cow_reuses == reuses + 1 &&
	      page_at(parent, TEST_BASE) == page && pte_writable(parent, TEST_BASE),
	      "the exclusive page was copied, not reused");
out:
	leave_test_mm(parent);
	return err;
}

/* MAP_SHARED memory stays shared across dup_mm: a write in one is seen by
 * the other, no copy. */
static const char *test_shared_survives_dup_mm(void)
{
	struct mm_struct *parent = enter_test_mm(), *child = NULL;
	const char *err = NULL;

	if (!parent)
		return "mm_alloc failed";
	CHECK(do_mmap(parent, TEST_BASE, PG, RW, MAP_ANONYMOUS | MAP_SHARED | MAP_FIXED, NULL) ==
	      (long)TEST_BASE, "mmap failed");
	child = dup_mm(parent);
	CHECK(child, "dup_mm failed");
	switch_mm(child);
	poke(TEST_BASE, 0x55);
	switch_mm(parent);
	CHECK(peek(TEST_BASE) == 0x55 && page_at(parent, TEST_BASE) == page_at(child, TEST_BASE),
	      "the child's write is not seen by the parent");
out:
	if (child)
		mmput(child);
	leave_test_mm(parent);
	return err;
}

/* A touch below [stack] grows it down; copies stay within the 8 MiB limit. */
static const char *test_stack_grows_down(void)
{
	struct mm_struct *mm = enter_test_mm();
	const char *err = NULL;
	struct vm_area_struct *vma;

	if (!mm)
		return "mm_alloc failed";
	CHECK(setup_user_stack(mm, STACK_TOP, STACK_SIZE_LIMIT) == 0, "setup_user_stack failed");
	poke(STACK_TOP - 5 * PG + 8, 7);
	vma = find_vma(mm, STACK_TOP - 1);
	CHECK(vma_is(vma, STACK_TOP - 5 * PG, STACK_TOP) && vma->vm_flags & VM_GROWSDOWN,
	      "[stack] did not grow down to the touched page");
	CHECK(mm->total_vm == 5 && mm->rss == 1, "total_vm or rss wrong after growth");
out:
	leave_test_mm(mm);
	return err;
}

static const char *test_stack_limit(void)
{
	struct mm_struct *mm = enter_test_mm();
	const char *err = NULL;
	u64 v = 1;

	if (!mm)
		return "mm_alloc failed";
	CHECK(setup_user_stack(mm, STACK_TOP, STACK_SIZE_LIMIT) == 0, "setup_user_stack failed");
	CHECK(copy_to_user((void *)(STACK_TOP - STACK_SIZE_LIMIT), &v, sizeof(v)) == 0,
	      "the last page within the limit is refused");
	CHECK(copy_to_user((void *)(STACK_TOP - STACK_SIZE_LIMIT - 8), &v, sizeof(v)) == -EFAULT,
	      "the stack grew past its limit");
	CHECK(find_vma(mm, 0)->vm_start == STACK_TOP - STACK_SIZE_LIMIT, "[stack] bounds wrong");
out:
	leave_test_mm(mm);
	return err;
}

/* Map, fault in, unmap, mmput: every page and page table comes back. */
static unsigned long mm_cycle(void)
{
	struct mm_struct *mm = enter_test_mm();
	long addr;

	if (!mm)
		return 1;
	addr = do_mmap(mm, 0, 16 * PG, RW, ANON_PRIVATE, NULL);
	if (addr > 0) {
		for (unsigned i = 0; i < 16; i++)
			poke((unsigned long)addr + i * PG, (u8)i);
		(void)do_munmap(mm, (unsigned long)addr, 8 * PG);
	}
	leave_test_mm(mm);
	return addr > 0 ? 0 : 1;
}

static const char *test_munmap_frees_pages(void)
{
	unsigned long before;

	if (mm_cycle()) /* warm the slab caches up */
		return "mmap failed";
	drain_all_pages();
	before = nr_free_pages();
	if (mm_cycle())
		return "mmap failed";
	drain_all_pages();
	return nr_free_pages() == before ? NULL : "free pages not back to where they were";
}

/* munmap frees the page tables that map nothing any more, and only those. */
static const char *test_munmap_frees_page_tables(void)
{
	struct mm_struct *mm = enter_test_mm();
	const char *err = NULL;

	if (!mm)
		return "mm_alloc failed";
	CHECK(map_fixed(mm, TEST_BASE, 1, RW) && map_fixed(mm, TEST_BASE + PMD_SIZE, 1, RW),
	      "mmap failed");
	poke(TEST_BASE, 1);
	poke(TEST_BASE + PMD_SIZE, 2);
	CHECK(mm->nr_ptes == 4, "not PUD, PMD and two PTE tables");
	CHECK(do_munmap(mm, TEST_BASE, PG) == 0 && mm->nr_ptes == 3, "the empty PTE table stayed");
	CHECK(peek(TEST_BASE + PMD_SIZE) == 2, "the other mapping was lost");
	CHECK(do_munmap(mm, TEST_BASE + PMD_SIZE, PG) == 0 && mm->nr_ptes == 0,
	      "tables left after unmapping everything");
	CHECK(map_fixed(mm, TEST_BASE, 1, RW) && peek(TEST_BASE) == 0 && mm->nr_ptes == 3,
	      "tables not built again on the next fault");
out:
	leave_test_mm(mm);
	return err;
}

/* copy_*_user refuse unmapped, read-only (for writes) and kernel addresses
 * with -EFAULT, and the kernel goes on. */
static const char *test_bad_address_is_efault(void)
{
	struct mm_struct *mm = enter_test_mm();
	const char *err = NULL;
	u64 v = 0;

	if (!mm)
		return "mm_alloc failed";
	CHECK(copy_from_user(&v, (void *)0x1000, sizeof(v)) == -EFAULT, "unmapped read accepted");
	CHECK(map_fixed(mm, TEST_BASE, 1, PROT_READ), "mmap failed");
	CHECK(copy_from_user(&v, (void *)TEST_BASE, sizeof(v)) == 0 && v == 0,
	      "read of a read-only area refused");
	CHECK(copy_to_user((void *)TEST_BASE, &v, sizeof(v)) == -EFAULT, "write to read-only accepted");
	CHECK(copy_to_user((void *)(TEST_BASE + PG - 4), &v, sizeof(v)) == -EFAULT,
	      "a copy running past the mapping accepted");
	CHECK(copy_from_user(&v, (void *)PAGE_OFFSET, sizeof(v)) == -EFAULT,
	      "a kernel address accepted");
	CHECK(do_mprotect(mm, TEST_BASE, PG, PROT_NONE) == 0 &&
	      copy_from_user(&v, (void *)TEST_BASE, sizeof(v)) == -EFAULT, "PROT_NONE read accepted");
out:
	leave_test_mm(mm);
	return err;
}

/* mprotect write-protects present pages; making them writable again keeps
 * the data. */
static const char *test_mprotect_changes_ptes(void)
{
	struct mm_struct *mm = enter_test_mm();
	const char *err = NULL;

	if (!mm)
		return "mm_alloc failed";
	CHECK(map_fixed(mm, TEST_BASE, 1, RW), "mmap failed");
	poke(TEST_BASE, 9);
	CHECK(do_mprotect(mm, TEST_BASE, PG, PROT_READ) == 0 && !pte_writable(mm, TEST_BASE),
	      "the PTE stayed writable");
	CHECK(do_mprotect(mm, TEST_BASE, PG, PROT_NONE) == 0 && !page_at(mm, TEST_BASE) &&
	      mm->rss == 1, "PROT_NONE left the page present or dropped it");
	CHECK(do_mprotect(mm, TEST_BASE, PG, RW) == 0 && peek(TEST_BASE) == 9, "the data was lost");
	poke(TEST_BASE + 1, 10);
	CHECK(pte_writable(mm, TEST_BASE) && mm->rss == 1, "write after mprotect RW not mapped in place");
out:
	leave_test_mm(mm);
	return err;
}

/* brk grows [heap] as one VMA and shrinks it; MAP_FIXED replaces a mapping. */
static const char *test_brk_and_map_fixed(void)
{
	struct mm_struct *mm = enter_test_mm();
	const unsigned long base = TEST_BASE + 0x100000;
	const char *err = NULL;

	if (!mm)
		return "mm_alloc failed";
	mm->start_brk = mm->brk = base + 123;
	CHECK(do_brk(mm, base + 3 * PG) == base + 3 * PG && do_brk(mm, base + 6 * PG) == base + 6 * PG,
	      "brk did not grow");
	CHECK(mm->map_count == 1 && vma_is(find_vma(mm, base), base + PG, base + 6 * PG),
	      "[heap] is not one VMA from the page after start_brk");
	poke(base + 5 * PG, 1);
	CHECK(do_brk(mm, base + 2 * PG) == base + 2 * PG &&
	      vma_is(find_vma(mm, base), base + PG, base + 2 * PG) && mm->rss == 0,
	      "brk did not shrink and free");
	CHECK(do_brk(mm, base) == base + 2 * PG, "brk below start_brk accepted");
	CHECK(map_fixed(mm, TEST_BASE, 2, RW), "mmap failed");
	poke(TEST_BASE, 1);
	CHECK(map_fixed(mm, TEST_BASE, 1, PROT_READ) && peek(TEST_BASE) == 0 &&
	      mm->map_count == 3, "MAP_FIXED did not replace the old mapping");
out:
	leave_test_mm(mm);
	return err;
}

/* Whether every PGD slot of the vmalloc window in mm points at the same
 * table as init_mm's. */
static bool vmalloc_slots_shared(struct mm_struct *mm)
{
	unsigned long n = pgd_index(VMALLOC_END) - pgd_index(VMALLOC_START) + 1;

	for (unsigned long i = 0; i < n; i++) {
		unsigned long addr = VMALLOC_START + i * PGDIR_SIZE;
		u64 mine = pgd_offset(mm, addr)->pgd, kernel = pgd_offset_k(addr)->pgd;

		/* The CPU may have set Accessed in either copy. */
		if (!(mine & _PAGE_PRESENT) || (mine & PTE_PFN_MASK) != (kernel & PTE_PFN_MASK))
			return false;
	}
	return true;
}

/* A new mm shares the kernel's tables under the whole vmalloc window
 * (preallocated at boot), so an area made after the mm reads through it
 * at once: nothing has to copy a PGD slot in on a fault. */
static const char *test_vmalloc_pgds_shared(void)
{
	struct mm_struct *mm = enter_test_mm();
	u8 *area = NULL;
	const char *err = NULL;

	CHECK(mm, "mm_alloc failed");
	CHECK(vmalloc_slots_shared(mm), "a vmalloc PGD slot is not init_mm's");
	area = vmalloc(PG);
	CHECK(area, "vmalloc failed");
	((u8 *)page_to_virt(find_vm_area(area)->pages[0]))[5] = 0x77;
	CHECK(peek((unsigned long)area + 5) == 0x77, "the area reads wrong through the mm");
out:
	vfree(area);
	if (mm)
		leave_test_mm(mm);
	return err;
}

/* An address space like a process's, printed as /proc/1/maps. */
static const char *test_maps_report(void)
{
	struct mm_struct *mm = enter_test_mm();
	const char *err = NULL;

	if (!mm)
		return "mm_alloc failed";
	CHECK(do_mmap(mm, ELF_ET_EXEC_BASE, PG, PROT_READ | PROT_EXEC, ANON_FIXED, "selftest") > 0 &&
	      do_mmap(mm, ELF_ET_EXEC_BASE + PG, PG, RW, ANON_FIXED, "selftest") > 0,
	      "mmap of the image failed");
	mm->start_brk = mm->brk = ELF_ET_EXEC_BASE + 2 * PG;
	CHECK(do_brk(mm, mm->brk + 3 * PG) == ELF_ET_EXEC_BASE + 5 * PG, "brk failed");
	CHECK(do_mmap(mm, 0, 2 * PG, RW, ANON_PRIVATE, NULL) > 0 &&
	      do_mmap(mm, 0, PG, PROT_READ, MAP_ANONYMOUS | MAP_SHARED, NULL) > 0, "mmap failed");
	CHECK(setup_user_stack(mm, STACK_TOP, STACK_SIZE_LIMIT) == 0, "setup_user_stack failed");
	CHECK(mm->map_count == 6, "not six VMAs");
	pr_info("# cat /proc/1/maps\n");
	show_map(mm, 1);
out:
	leave_test_mm(mm);
	return err;
}

const struct selftest mmap_selftests[] = {
	{"vma_insert_merge", test_vma_insert_merge},
	{"vma_split_munmap", test_vma_split_munmap},
	{"vma_mprotect_split_merge", test_vma_mprotect_split_merge},
	{"find_vma_prev_intersection", test_find_vma},
	{"vma_tree_balanced", test_vma_tree_balanced},
	{"demand_read_maps_zero_page", test_demand_read_maps_zero_page},
	{"demand_write_allocates_zeroed", test_demand_write_allocates_zeroed},
	{"cow_after_dup_mm", test_cow_after_dup_mm},
	{"cow_reuse_exclusive", test_cow_reuse_exclusive},
	{"shared_survives_dup_mm", test_shared_survives_dup_mm},
	{"stack_grows_down", test_stack_grows_down},
	{"stack_limit", test_stack_limit},
	{"munmap_frees_pages", test_munmap_frees_pages},
	{"munmap_frees_page_tables", test_munmap_frees_page_tables},
	{"bad_address_is_efault", test_bad_address_is_efault},
	{"mprotect_changes_ptes", test_mprotect_changes_ptes},
	{"brk_and_map_fixed", test_brk_and_map_fixed},
	{"vmalloc_pgds_shared", test_vmalloc_pgds_shared},
	{"maps_report", test_maps_report},
};
const size_t nr_mmap_selftests = ARRAY_SIZE(mmap_selftests);
