/* Page-table entries and the helpers that walk them, named as Linux names
 * them (arch/x86/include/asm/pgtable*.h). 4-level paging: the p4d level is
 * folded into the pgd (a p4d_t * is the pgd entry itself).
 *
 * SDM Vol. 3A §4.5, figure 4-11 and tables 4-14..4-20: every level's entry
 * holds Present, R/W, U/S, Accessed at the same bits; PS in a PDE (or
 * PDPTE) makes it map a 2 MiB (1 GiB) page; Dirty is set by the CPU in
 * leaf entries; bits 51:12 hold the physical frame address. */
#ifndef GUESTOS_MM_PGTABLE_H
#define GUESTOS_MM_PGTABLE_H

#include "guestos/arch/x86/io.h"
#include "guestos/arch/x86/processor-flags.h"
#include "guestos/mm/mm.h"

#define _PAGE_ACCESSED (1 << 5) /* "young": set by the CPU on any access */
#define _PAGE_DIRTY (1 << 6)    /* set by the CPU on a write (leaf entries) */
#define _PAGE_GLOBAL (1 << 8)   /* survives CR3 writes when CR4.PGE is set */
#define _PAGE_NX (1ULL << 63)   /* execute-disable, with EFER.NXE (SDM Vol. 3A §4.6) */
#define PTE_PFN_MASK (((1ULL << 52) - 1) & ~((u64)PAGE_SIZE - 1)) /* bits 51:12 */
#define PAGE_KERNEL ((u64)(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY))
/* Bit 9 is ignored by the CPU (SDM Vol. 3A §4.5, table 4-20). A user PTE
 * whose VMA is PROT_NONE keeps its frame with Present clear and this bit
 * set, so that a later mprotect can make it accessible again (Linux's
 * _PAGE_PROTNONE). */
#define _PAGE_PROTNONE (1 << 9)
/* Upper-level entries of user page tables: present, writable, user. The
 * leaf PTE decides, as access rights combine across levels, the most
 * restrictive winning (SDM Vol. 3A §4.6.1). */
#define _PAGE_TABLE ((u64)(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER))
#define PAGE_MASK (~((unsigned long)PAGE_SIZE - 1))
#define PGDIR_SIZE (1UL << PGDIR_SHIFT)
#define PUD_SIZE (1UL << PUD_SHIFT)
/* PGD slots from here up map the kernel half, shared by every mm. */
#define KERNEL_PGD_BOUNDARY (PTRS_PER_TABLE / 2)

/* VMALLOC_START..VMALLOC_END: kernel virtual space mapped page by page
 * (Linux's x86-64 values, 4-level paging). */
#define VMALLOC_START 0xffffc90000000000UL
#define VMALLOC_END 0xffffe8ffffffffffUL

typedef struct { u64 pgd; } pgd_t;
typedef struct { pgd_t pgd; } p4d_t;
typedef struct { u64 pud; } pud_t;
typedef struct { u64 pmd; } pmd_t;
typedef struct { u64 pte; } pte_t;

static inline unsigned long pgd_index(unsigned long addr) { return (addr >> PGDIR_SHIFT) & (PTRS_PER_TABLE - 1); }
static inline unsigned long pud_index(unsigned long addr) { return (addr >> PUD_SHIFT) & (PTRS_PER_TABLE - 1); }
static inline unsigned long pmd_index(unsigned long addr) { return (addr >> PMD_SHIFT) & (PTRS_PER_TABLE - 1); }
static inline unsigned long pte_index(unsigned long addr) { return (addr >> PAGE_SHIFT) & (PTRS_PER_TABLE - 1); }

/* CR3 bits 51:12: the top-level table's physical address (SDM Vol. 3A
 * §4.5, table 4-12). */
static inline phys_addr_t read_cr3_pa(void)
{
	return read_cr3() & PTE_PFN_MASK;
}

/* The kernel's top-level table (init_mm.pgd), built by arch/x86/head.S.
 * Kernel mappings are made here whichever mm is active; every mm copies
 * its kernel half when it is created. The slots of the vmalloc window are
 * filled at boot (preallocate_vmalloc_pages), before any mm exists, so
 * no kernel slot appears later and no mm needs to catch up with one. */
extern u64 boot_pgd[PTRS_PER_TABLE];
#define swapper_pg_dir ((pgd_t *)boot_pgd)

static inline pgd_t *pgd_offset_k(unsigned long addr)
{
	return swapper_pg_dir + pgd_index(addr);
}

static inline p4d_t *p4d_offset(pgd_t *pgd, unsigned long addr)
{
	return (p4d_t *)pgd; /* folded */
}

static inline bool p4d_none(p4d_t p4d) { return !(p4d.pgd.pgd & _PAGE_PRESENT); }
static inline bool pud_none(pud_t pud) { return !(pud.pud & _PAGE_PRESENT); }
static inline bool pmd_none(pmd_t pmd) { return !(pmd.pmd & _PAGE_PRESENT); }
static inline bool pte_none(pte_t pte) { return !pte.pte; }
static inline bool pud_large(pud_t pud) { return pud.pud & _PAGE_PSE; }
static inline bool pmd_large(pmd_t pmd) { return pmd.pmd & _PAGE_PSE; }

static inline pud_t *pud_offset(p4d_t *p4d, unsigned long addr)
{
	return (pud_t *)__va(p4d->pgd.pgd & PTE_PFN_MASK) + pud_index(addr);
}

static inline pmd_t *pmd_offset(pud_t *pud, unsigned long addr)
{
	return (pmd_t *)__va(pud->pud & PTE_PFN_MASK) + pmd_index(addr);
}

static inline pte_t *pte_offset_kernel(pmd_t *pmd, unsigned long addr)
{
	return (pte_t *)__va(pmd->pmd & PTE_PFN_MASK) + pte_index(addr);
}

static inline bool pte_present(pte_t pte) { return pte.pte & _PAGE_PRESENT; }
static inline bool pte_write(pte_t pte) { return pte.pte & _PAGE_RW; }
static inline bool pte_dirty(pte_t pte) { return pte.pte & _PAGE_DIRTY; }
static inline bool pte_young(pte_t pte) { return pte.pte & _PAGE_ACCESSED; }
static inline unsigned long pte_pfn(pte_t pte) { return (pte.pte & PTE_PFN_MASK) >> PAGE_SHIFT; }

static inline pte_t pfn_pte(unsigned long pfn, u64 prot)
{
	return (pte_t){((u64)pfn << PAGE_SHIFT) | prot};
}

static inline pte_t mk_pte(const struct page *page, u64 prot)
{
	return pfn_pte(page_to_pfn(page), prot);
}

static inline void set_pte(pte_t *ptep, pte_t pte)
{
	*(volatile u64 *)&ptep->pte = pte.pte;
}

static inline void pte_clear(pte_t *ptep)
{
	set_pte(ptep, (pte_t){0});
}

/* Drop one page's translation from the TLB (SDM Vol. 2A, INVLPG). */
static inline void __flush_tlb_one_kernel(unsigned long addr)
{
	__asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

/* Drop every translation from the TLB and the paging-structure caches:
 * reload CR3 (kernel mappings are not global: CR4.PGE stays clear). */
static inline void __flush_tlb_local(void)
{
	write_cr3(read_cr3());
}

enum pg_level { PG_LEVEL_NONE, PG_LEVEL_4K, PG_LEVEL_2M, PG_LEVEL_1G };

/* Walk the kernel page tables for addr (Linux lookup_address): the leaf
 * entry mapping it and its level, or NULL with PG_LEVEL_NONE when some
 * level is not present. For a large page the returned entry is the PMD or
 * PUD, viewed as a pte_t. */
pte_t *lookup_address(unsigned long addr, enum pg_level *level);
/* Map one page at the kernel virtual address addr, allocating missing
 * page-table levels with GFP_KERNEL. False when a table page could not be
 * allocated or addr lies inside a large page. */
bool map_kernel_page(unsigned long addr, struct page *page, u64 prot);
/* Give every top-level slot of the kernel range [start, end] a page
 * directory pointer table now (a zeroed one where the slot is empty), so
 * that every mm created afterwards shares what is mapped below it later.
 * start and end lie in the kernel half; false when a table page could
 * not be allocated (the slots filled so far stay). */
bool preallocate_kernel_pgds(unsigned long start, unsigned long end);
/* Remove the 4 KiB mapping at addr and flush it from the TLB. */
void unmap_kernel_page(unsigned long addr);

#endif
