/* User page tables and demand paging (Linux mm/memory.c): the levels of
 * an mm's tables allocated on demand, the anonymous-page fault paths
 * (zero page, new zeroed page, copy-on-write), and the bulk operations
 * over a VMA's range (zap_page_range for munmap and exit,
 * copy_page_range for fork).
 *
 * Page accounting. A frame mapped by user PTEs has one reference
 * (_refcount) and one mapping (_mapcount) per PTE that maps it, and
 * counts once in each mapping mm's rss. The shared zero page is not
 * counted at all (Linux's vm_normal_page() skips it). */
#include "guestos/mm/mmap.h"

#include "guestos/lib/string.h"
#include "guestos/mm/gfp.h"

/* The zero page: one page of zeros in the kernel image, mapped read-only
 * wherever anonymous memory is read before it is written. */
u8 empty_zero_page[PAGE_SIZE] __aligned(PAGE_SIZE);
unsigned long empty_zero_page_pfn;
struct vm_event_state vm_events;

static bool is_zero_pfn(unsigned long pfn)
{
	return pfn == empty_zero_page_pfn;
}

/* A PTE that holds a frame: present, or kept under PROT_NONE. */
static bool pte_has_page(pte_t pte)
{
	return pte.pte & (_PAGE_PRESENT | _PAGE_PROTNONE);
}

/* Linux's page_add_anon_rmap / page_remove_rmap, without the reverse map:
 * only the count of mappings. */
static void page_add_rmap(struct page *page)
{
	page->_mapcount++;
}

static void page_remove_rmap(struct page *page)
{
	if (page->_mapcount < 0)
		bad_page(page, "unmapping a page that is not mapped");
	page->_mapcount--;
}

/* The hardware bits for a VMA's pages. Private writable areas map pages
 * read-only until a write fault decides between a fresh page and
 * copy-on-write; shared writable areas map them writable. Areas without
 * VM_EXEC map their pages execute-disable (the boot code sets EFER.NXE;
 * SDM Vol. 3A §4.6.1), so a fetch from them faults with the I/D bit. */
u64 vm_get_page_prot(unsigned long vm_flags)
{
	u64 prot = _PAGE_PRESENT | _PAGE_USER;

	if (!(vm_flags & VM_ACCESS_FLAGS))
		return _PAGE_PROTNONE;
	if ((vm_flags & (VM_WRITE | VM_SHARED)) == (VM_WRITE | VM_SHARED))
		prot |= _PAGE_RW;
	if (!(vm_flags & VM_EXEC))
		prot |= _PAGE_NX;
	return prot;
}

/* Drop addr's translation if this mm's tables are the ones in CR3; other
 * mms' entries leave the TLB at their next CR3 load (user entries are
 * never global). */
void flush_tlb_page(struct mm_struct *mm, unsigned long addr)
{
	if (mm == active_mm)
		__flush_tlb_one_kernel(addr);
}

/* Not-present entries are never cached (SDM Vol. 3A §4.10.2.3), so only
 * replacing a present one needs the flush. */
void set_pte_at(struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pte)
{
	pte_t old = *ptep;

	set_pte(ptep, pte);
	if (pte_present(old))
		flush_tlb_page(mm, addr);
}

pgd_t *pgd_offset(struct mm_struct *mm, unsigned long addr)
{
	return mm->pgd + pgd_index(addr);
}

/* Fill an empty upper-level entry with a new zeroed table. */
static int user_table_alloc(struct mm_struct *mm, u64 *entry)
{
	unsigned long table;

	if (*entry & _PAGE_PRESENT)
		return 0;
	table = get_zeroed_page(GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	*entry = __pa((void *)table) | _PAGE_TABLE;
	mm->nr_ptes++;
	return 0;
}

pud_t *pud_alloc(struct mm_struct *mm, p4d_t *p4d, unsigned long addr)
{
	return user_table_alloc(mm, &p4d->pgd.pgd) ? NULL : pud_offset(p4d, addr);
}

pmd_t *pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long addr)
{
	return user_table_alloc(mm, &pud->pud) ? NULL : pmd_offset(pud, addr);
}

int __pte_alloc(struct mm_struct *mm, pmd_t *pmd)
{
	return user_table_alloc(mm, &pmd->pmd);
}

pte_t *pte_offset_map(pmd_t *pmd, unsigned long addr)
{
	return pte_offset_kernel(pmd, addr);
}

/* The PTE for addr, allocating the levels above it; NULL when out of
 * memory. */
static pte_t *pte_alloc_map(struct mm_struct *mm, unsigned long addr)
{
	pud_t *pud = pud_alloc(mm, p4d_offset(pgd_offset(mm, addr), addr), addr);
	pmd_t *pmd = pud ? pmd_alloc(mm, pud, addr) : NULL;

	if (!pmd || __pte_alloc(mm, pmd))
		return NULL;
	return pte_offset_map(pmd, addr);
}

/* The PTE for addr without allocating. When a level is missing: NULL,
 * and *next is the first address past the hole that level leaves, so
 * range walks skip it whole. */
static pte_t *walk_pte(struct mm_struct *mm, unsigned long addr, unsigned long *next)
{
	p4d_t *p4d = p4d_offset(pgd_offset(mm, addr), addr);
	pud_t *pud;
	pmd_t *pmd;

	if (p4d_none(*p4d)) {
		*next = (addr | (PGDIR_SIZE - 1)) + 1;
		return NULL;
	}
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud)) {
		*next = (addr | (PUD_SIZE - 1)) + 1;
		return NULL;
	}
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd)) {
		*next = (addr | (PMD_SIZE - 1)) + 1;
		return NULL;
	}
	*next = (addr & PAGE_MASK) + PAGE_SIZE;
	return pte_offset_map(pmd, addr);
}

pte_t *follow_pte(struct mm_struct *mm, unsigned long addr)
{
	unsigned long next;

	return walk_pte(mm, addr, &next);
}

/* A fault on a PTE that maps nothing. A read of private memory maps the
 * zero page read-only (nothing allocated, rss unchanged); a write, or any
 * access to shared memory (whose page must be the same for every mm that
 * shares it), gets a new zeroed page. */
static int do_anonymous_page(struct vm_area_struct *vma, unsigned long addr, pte_t *ptep,
			     unsigned int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	u64 prot = vm_get_page_prot(vma->vm_flags);
	struct page *page;

	if (!(flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED)) {
		set_pte_at(mm, addr, ptep, pfn_pte(empty_zero_page_pfn, prot));
		vm_events.zero_page_maps++;
		return 0;
	}
	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return VM_FAULT_OOM;
	page_add_rmap(page);
	mm->rss++;
	vm_events.anon_pages++;
	if (flags & FAULT_FLAG_WRITE)
		prot |= _PAGE_RW | _PAGE_DIRTY;
	set_pte_at(mm, addr, ptep, mk_pte(page, prot | _PAGE_ACCESSED));
	return 0;
}

/* A write to a present read-only PTE in a writable VMA: copy-on-write.
 *  - shared memory: the page is everyone's; just make it writable;
 *  - a page nobody else holds (page_count 1): reuse it, make it writable;
 *  - the zero page: a new zeroed page;
 *  - otherwise: copy into a new page, map that, drop the old one. */
static int do_wp_page(struct vm_area_struct *vma, unsigned long addr, pte_t *ptep, pte_t orig)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long pfn = pte_pfn(orig);
	struct page *old = is_zero_pfn(pfn) ? NULL : pfn_to_page(pfn);
	u64 prot = vm_get_page_prot(vma->vm_flags) | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
	struct page *new;

	if (old && ((vma->vm_flags & VM_SHARED) || page_count(old) == 1)) {
		set_pte_at(mm, addr, ptep, pfn_pte(pfn, prot));
		vm_events.cow_reuses++;
		return 0;
	}
	new = alloc_page(GFP_KERNEL | (old ? 0 : __GFP_ZERO));
	if (!new)
		return VM_FAULT_OOM;
	if (old)
		memcpy(page_to_virt(new), page_to_virt(old), PAGE_SIZE);
	else
		mm->rss++;
	page_add_rmap(new);
	set_pte_at(mm, addr, ptep, mk_pte(new, prot));
	if (old) {
		page_remove_rmap(old);
		put_page(old);
		vm_events.cow_copies++;
	} else {
		vm_events.anon_pages++;
	}
	return 0;
}

static int handle_pte_fault(struct vm_area_struct *vma, unsigned long addr, pte_t *ptep,
			    unsigned int flags)
{
	pte_t entry = *ptep;

	if (!pte_has_page(entry))
		return do_anonymous_page(vma, addr, ptep, flags);
	if (!pte_present(entry))
		return VM_FAULT_SIGSEGV; /* PROT_NONE: the VMA check lets no access through */
	if ((flags & FAULT_FLAG_WRITE) && !pte_write(entry))
		return do_wp_page(vma, addr, ptep, entry);
	/* Already resolved: the TLB held an older entry. */
	flush_tlb_page(vma->vm_mm, addr);
	return 0;
}

static int __handle_mm_fault(struct vm_area_struct *vma, unsigned long addr, unsigned int flags)
{
	pte_t *ptep = pte_alloc_map(vma->vm_mm, addr);

	return ptep ? handle_pte_fault(vma, addr, ptep, flags) : VM_FAULT_OOM;
}

int handle_mm_fault(struct vm_area_struct *vma, unsigned long address, unsigned int flags)
{
	if ((flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_WRITE))
		return VM_FAULT_SIGSEGV;
	vm_events.pgfault++;
	return __handle_mm_fault(vma, address & PAGE_MASK, flags);
}

void zap_page_range(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long next;

	for (unsigned long addr = start; addr < end; addr = next) {
		pte_t *ptep = walk_pte(mm, addr, &next);
		pte_t old;

		if (!ptep || !pte_has_page(*ptep))
			continue;
		old = *ptep;
		pte_clear(ptep);
		if (pte_present(old))
			flush_tlb_page(mm, addr);
		if (!is_zero_pfn(pte_pfn(old))) {
			struct page *page = pfn_to_page(pte_pfn(old));

			page_remove_rmap(page);
			put_page(page);
			mm->rss--;
		}
	}
}

int copy_page_range(struct mm_struct *dst, struct mm_struct *src, struct vm_area_struct *vma)
{
	bool cow = !(vma->vm_flags & VM_SHARED);
	unsigned long next;

	for (unsigned long addr = vma->vm_start; addr < vma->vm_end; addr = next) {
		pte_t *src_pte = walk_pte(src, addr, &next);
		pte_t *dst_pte;
		pte_t pte;

		if (!src_pte || !pte_has_page(*src_pte))
			continue;
		dst_pte = pte_alloc_map(dst, addr);
		if (!dst_pte)
			return -ENOMEM;
		pte = *src_pte;
		if (cow && pte_write(pte)) {
			pte.pte &= ~(u64)_PAGE_RW;
			set_pte_at(src, addr, src_pte, pte);
		}
		if (!is_zero_pfn(pte_pfn(pte))) {
			struct page *page = pfn_to_page(pte_pfn(pte));

			get_page(page);
			page_add_rmap(page);
			dst->rss++;
		}
		set_pte(dst_pte, pte);
	}
	return 0;
}

/* Rewrite the present (or PROT_NONE) PTEs of [start, end) for new vm_flags
 * (Linux change_protection). A private page keeps write access only if it
 * had it and the area stays writable: read-only ones may be shared
 * copy-on-write, and the next write fault decides. */
void change_protection(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		       unsigned long newflags)
{
	struct mm_struct *mm = vma->vm_mm;
	u64 prot = vm_get_page_prot(newflags);
	const u64 keep = _PAGE_ACCESSED | _PAGE_DIRTY;
	unsigned long next;

	for (unsigned long addr = start; addr < end; addr = next) {
		pte_t *ptep = walk_pte(mm, addr, &next);
		u64 bits = prot;

		if (!ptep || !pte_has_page(*ptep))
			continue;
		if ((newflags & VM_WRITE) && pte_write(*ptep))
			bits |= _PAGE_RW;
		if (bits & _PAGE_PRESENT)
			bits |= ptep->pte & keep;
		set_pte_at(mm, addr, ptep, pfn_pte(pte_pfn(*ptep), bits));
	}
}

/* Free the table an upper-level entry points to, and every table below it
 * (levels_below more levels). The leaf pages must be unmapped already. */
static void free_table(struct mm_struct *mm, u64 *entry, int levels_below)
{
	u64 *table = __va(*entry & PTE_PFN_MASK);

	if (levels_below > 0)
		for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
			if (table[i] & _PAGE_PRESENT)
				free_table(mm, &table[i], levels_below - 1);
	free_page((unsigned long)table);
	*entry = 0;
	mm->nr_ptes--;
}

/* How much one entry maps in a table at each depth below the PGD: PUD
 * table, PMD table, PTE table. */
static const unsigned table_entry_shift[] = {PUD_SHIFT, PMD_SHIFT, PAGE_SHIFT};

/* entry points at the table of the given depth mapping from base: prune
 * its sub-tables overlapping [start, end), then free the table itself if
 * it maps nothing at all. True when it was freed. */
static bool prune_table(struct mm_struct *mm, u64 *entry, unsigned long base, int depth,
			unsigned long start, unsigned long end)
{
	u64 *table = __va(*entry & PTE_PFN_MASK);
	unsigned long size = 1UL << table_entry_shift[depth];
	bool empty = true, freed = false;

	for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
		unsigned long a = base + i * size;

		if (depth < 2 && (table[i] & _PAGE_PRESENT) && a < end && a + size > start)
			freed |= prune_table(mm, &table[i], a, depth + 1, start, end);
		empty = empty && !table[i];
	}
	if (!empty)
		return freed;
	free_page((unsigned long)table);
	*entry = 0;
	mm->nr_ptes--;
	return true;
}

/* After munmap of [start, end): free the page tables there that map
 * nothing any more (Linux free_pgd_range). Upper-level entries may sit in
 * the paging-structure caches, so a CR3 reload drops them before the
 * freed tables are reused (SDM Vol. 3A §4.10.4.1). */
void free_pgd_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	bool freed = false;

	for (unsigned long i = pgd_index(start); i < KERNEL_PGD_BOUNDARY && i << PGDIR_SHIFT < end;
	     i++)
		if (mm->pgd[i].pgd & _PAGE_PRESENT)
			freed |= prune_table(mm, &mm->pgd[i].pgd, i << PGDIR_SHIFT, 0, start, end);
	if (freed && mm == active_mm)
		write_cr3(read_cr3());
}

/* Free every page table of the user half (the PGD itself stays). */
void free_pgtables(struct mm_struct *mm)
{
	for (unsigned i = 0; i < KERNEL_PGD_BOUNDARY; i++)
		if (mm->pgd[i].pgd & _PAGE_PRESENT)
			free_table(mm, &mm->pgd[i].pgd, 2); /* PUD, PMD, PTE tables */
}
