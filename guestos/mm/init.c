/* From the boot memory map to a running buddy allocator: the direct map of
 * all RAM, mem_map, the zones, and handing free RAM over (Linux
 * arch/x86/mm/init_64.c, mm/mm_init.c, mm/memblock.c memblock_free_all). */
#include "guestos/mm/init.h"

#include "guestos/arch/x86/io.h"
#include "guestos/arch/x86/processor-flags.h"
#include "guestos/kernel/printk.h"
#include "guestos/lib/string.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/memblock.h"

struct page *mem_map;
unsigned long max_pfn;

/* Boot page tables, from arch/x86/head.S. */
extern u64 boot_pgd[PTRS_PER_TABLE];
extern u64 pud_direct[PTRS_PER_TABLE];
extern u64 pd_direct[DIRECT_MAP_GIB][PTRS_PER_TABLE];

#define PTE_TABLE (_PAGE_PRESENT | _PAGE_RW)
#define PDE_LARGE (_PAGE_PRESENT | _PAGE_RW | _PAGE_PSE)
#define PGD_INDEX(va) (((va) >> PGDIR_SHIFT) & (PTRS_PER_TABLE - 1))

/* Map [0, end) at PAGE_OFFSET with 2 MiB pages in pd_direct, replacing the
 * boot stub's first-GiB mapping, then remove the boot identity map. The
 * CR3 reload flushes the old translations (SDM Vol. 3A §4.10.4.1). */
void init_direct_mapping(phys_addr_t end)
{
	for (unsigned long gib = 0; gib < DIRECT_MAP_GIB; gib++) {
		for (unsigned long i = 0; i < PTRS_PER_TABLE; i++) {
			phys_addr_t pa = ((phys_addr_t)gib << PUD_SHIFT) + ((phys_addr_t)i << PMD_SHIFT);

			pd_direct[gib][i] = pa < end ? pa | PDE_LARGE : 0;
		}
		pud_direct[gib] = ((phys_addr_t)gib << PUD_SHIFT) < end ? __pa(pd_direct[gib]) | PTE_TABLE : 0;
	}
	boot_pgd[PGD_INDEX(0UL)] = 0;
	write_cr3(read_cr3());
}

/* Every frame starts reserved with one reference, as Linux's
 * memmap_init(); memblock_free_all() releases the free ones. */
static void alloc_node_mem_map(void)
{
	phys_addr_t size = ALIGN_UP(max_pfn * sizeof(struct page), (phys_addr_t)PAGE_SIZE);

	mem_map = __va(memblock_phys_alloc(size, PAGE_SIZE));
	for (unsigned long pfn = 0; pfn < max_pfn; pfn++) {
		struct page *page = &mem_map[pfn];

		memset(page, 0, sizeof(*page));
		page->flags = 1UL << PG_reserved;
		page->_mapcount = -1;
		page->_refcount = 1;
		INIT_LIST_HEAD(&page->lru);
	}
	pr_info("mem_map: %lu struct page of %lu bytes at %p\n", max_pfn,
		(unsigned long)sizeof(struct page), (void *)mem_map);
}

static bool pfn_is_ram(unsigned long pfn)
{
	for (unsigned long i = 0; i < memblock.memory.cnt; i++) {
		const struct memblock_region *r = &memblock.memory.regions[i];

		if (PFN_PHYS(pfn) >= r->base && PFN_PHYS(pfn) < r->base + r->size)
			return true;
	}
	return false;
}

static void zone_init(struct zone *zone, const char *name, unsigned long start, unsigned long end)
{
	zone->name = name;
	zone->zone_start_pfn = start;
	zone->spanned_pages = end > start ? end - start : 0;
	zone->present_pages = 0;
	for (unsigned long pfn = start; pfn < end; pfn++)
		zone->present_pages += pfn_is_ram(pfn);
	zone_init_free_lists(zone);
}

static void free_area_init(void)
{
	struct pglist_data *pgdat = NODE_DATA(0);

	pgdat->node_id = 0;
	zone_init(&pgdat->node_zones[ZONE_DMA], "DMA", 0, MIN(max_pfn, MAX_DMA_PFN));
	zone_init(&pgdat->node_zones[ZONE_NORMAL], "Normal", MAX_DMA_PFN, max_pfn);
}

static bool pfn_is_free(unsigned long pfn)
{
	return pfn_is_ram(pfn) && !memblock_is_reserved(PFN_PHYS(pfn), PAGE_SIZE);
}

/* Free [start, end) in the largest aligned blocks that fit, so the buddy
 * lists start out already coalesced. A block never crosses a zone edge:
 * 16 MiB is aligned far beyond MAX_ORDER. */
static void free_pfn_range(unsigned long start, unsigned long end)
{
	while (start < end) {
		unsigned int order = MAX_ORDER - 1;

		while ((start & ((1UL << order) - 1)) || start + (1UL << order) > end)
			order--;
		__free_pages_core(pfn_to_page(start), order);
		start += 1UL << order;
	}
}

static void memblock_free_all(void)
{
	for (unsigned long pfn = 0; pfn < max_pfn;) {
		unsigned long end = pfn;

		while (end < max_pfn && pfn_is_free(end))
			end++;
		free_pfn_range(pfn, end);
		pfn = end + 1;
	}
}

static void print_zones(void)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zone = &NODE_DATA(0)->node_zones[z];

		if (!populated_zone(zone))
			continue;
		pr_info("  %-8s [mem 0x%016lx-0x%016lx] present %lu managed %lu\n", zone->name,
			(unsigned long)PFN_PHYS(zone->zone_start_pfn),
			(unsigned long)PFN_PHYS(zone->zone_start_pfn + zone->spanned_pages) - 1,
			zone->present_pages, zone->managed_pages);
		pr_info("  %-8s watermarks min %lu low %lu high %lu, pcp high %d batch %d\n",
			zone->name, min_wmark_pages(zone), low_wmark_pages(zone),
			high_wmark_pages(zone), zone->pcp.high, zone->pcp.batch);
	}
}

void mem_init(void)
{
	unsigned long total = 0;

	max_pfn = PFN_DOWN(memblock_end_of_DRAM());
	alloc_node_mem_map();
	free_area_init();
	memblock_free_all();
	setup_per_zone_pageset();
	setup_per_zone_wmarks();
	for (int z = 0; z < MAX_NR_ZONES; z++)
		total += NODE_DATA(0)->node_zones[z].present_pages;
	pr_info("Zone ranges:\n");
	print_zones();
	pr_info("Memory: %luK/%luK available\n", nr_free_pages() * (PAGE_SIZE / 1024),
		total * (PAGE_SIZE / 1024));
}
