/* Self-tests of the page-table helpers on the live kernel page tables. */
#include "guestos/kernel/selftest.h"
#include "guestos/lib/string.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/pgtable.h"

extern char _text[];

/* The direct map and the kernel image are 2 MiB pages translating to the
 * addresses __pa computes. */
static const char *check_large_mapping(const void *addr)
{
	enum pg_level level;
	pte_t *pte = lookup_address((unsigned long)addr, &level);
	phys_addr_t pa;

	if (!pte || level != PG_LEVEL_2M || !pte_write(*pte))
		return "not mapped by a present, writable 2 MiB page";
	pa = (pte->pte & PTE_PFN_MASK & ~((u64)PMD_SIZE - 1)) + ((unsigned long)addr & (PMD_SIZE - 1));
	return pa == __pa(addr) ? NULL : "walk and __pa disagree";
}

static const char *test_lookup_address(void)
{
	unsigned long page = __get_free_page(GFP_KERNEL);
	enum pg_level level;
	const char *err;

	if (!page)
		return "allocation failed";
	err = check_large_mapping((void *)(page + 123));
	if (!err)
		err = check_large_mapping(_text + 45);
	if (!err && lookup_address(VMALLOC_START, &level))
		err = "VMALLOC_START mapped at boot";
	free_page(page);
	return err;
}

/* A page mapped at VMALLOC_START with set_pte is the same memory as its
 * direct-map alias; the CPU sets Accessed and Dirty in the PTE; after
 * unmapping, the walk finds nothing. */
static const char *test_map_kernel_page(void)
{
	struct page *page = alloc_page(GFP_KERNEL);
	volatile u64 *alias = (volatile u64 *)VMALLOC_START;
	enum pg_level level;
	pte_t *pte;
	const char *err = NULL;

	if (!page)
		return "allocation failed";
	if (!map_kernel_page(VMALLOC_START, page, _PAGE_PRESENT | _PAGE_RW)) {
		__free_page(page);
		return "map_kernel_page failed";
	}
	*alias = 0x1122334455667788ULL;
	pte = lookup_address(VMALLOC_START, &level);
	if (*(u64 *)page_to_virt(page) != 0x1122334455667788ULL)
		err = "the mapping does not reach the page";
	else if (!pte || level != PG_LEVEL_4K || pte_pfn(*pte) != page_to_pfn(page))
		err = "lookup_address does not find the new PTE";
	else if (!pte_young(*pte) || !pte_dirty(*pte))
		err = "the CPU did not set Accessed and Dirty";
	unmap_kernel_page(VMALLOC_START);
	if (!err && lookup_address(VMALLOC_START, &level))
		err = "still mapped after unmap_kernel_page";
	__free_page(page);
	return err;
}

const struct selftest pgtable_selftests[] = {
	{"pgtable_lookup_address", test_lookup_address},
	{"pgtable_map_kernel_page", test_map_kernel_page},
};
const size_t nr_pgtable_selftests = ARRAY_SIZE(pgtable_selftests);
