/* Walking and filling the kernel page tables (Linux
 * arch/x86/mm/pat/set_memory.c lookup_address, mm/memory.c
 * __pte_alloc_kernel and friends). */
#include "guestos/mm/pgtable.h"

#include "guestos/mm/gfp.h"

pte_t *lookup_address(unsigned long addr, enum pg_level *level)
{
	p4d_t *p4d = p4d_offset(pgd_offset_k(addr), addr);
	pud_t *pud;
	pmd_t *pmd;
	pte_t *pte;

	*level = PG_LEVEL_NONE;
	if (p4d_none(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud))
		return NULL;
	*level = PG_LEVEL_1G;
	if (pud_large(*pud))
		return (pte_t *)pud;
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd)) {
		*level = PG_LEVEL_NONE;
		return NULL;
	}
	*level = PG_LEVEL_2M;
	if (pmd_large(*pmd))
		return (pte_t *)pmd;
	pte = pte_offset_kernel(pmd, addr);
	*level = pte_present(*pte) ? PG_LEVEL_4K : PG_LEVEL_NONE;
	return pte_present(*pte) ? pte : NULL;
}

/* Make sure *entry points at a page table; allocate a zeroed one if it is
 * empty. Upper-level entries are kernel, writable: the leaf decides. */
static bool table_alloc(u64 *entry)
{
	unsigned long table;

	if (*entry & _PAGE_PRESENT)
		return !(*entry & _PAGE_PSE);
	table = get_zeroed_page(GFP_KERNEL);
	if (!table)
		return false;
	*entry = __pa((void *)table) | _PAGE_PRESENT | _PAGE_RW;
	return true;
}

bool map_kernel_page(unsigned long addr, struct page *page, u64 prot)
{
	p4d_t *p4d = p4d_offset(pgd_offset_k(addr), addr);
	pud_t *pud;
	pmd_t *pmd;

	if (!table_alloc(&p4d->pgd.pgd))
		return false;
	pud = pud_offset(p4d, addr);
	if (!table_alloc(&pud->pud))
		return false;
	pmd = pmd_offset(pud, addr);
	if (!table_alloc(&pmd->pmd))
		return false;
	set_pte(pte_offset_kernel(pmd, addr), mk_pte(page, prot));
	return true;
}

bool preallocate_kernel_pgds(unsigned long start, unsigned long end)
{
	unsigned long n = pgd_index(end) - pgd_index(start) + 1;

	for (unsigned long i = 0; i < n; i++)
		if (!table_alloc(&pgd_offset_k(start + i * PGDIR_SIZE)->pgd))
			return false;
	return true;
}

void unmap_kernel_page(unsigned long addr)
{
	enum pg_level level;
	pte_t *pte = lookup_address(addr, &level);

	if (pte && level == PG_LEVEL_4K) {
		pte_clear(pte);
		__flush_tlb_one_kernel(addr);
	}
}
