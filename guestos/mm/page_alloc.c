/* The buddy allocator (Linux mm/page_alloc.c, simplified to one node and
 * one CPU, no locking: the kernel runs with interrupts off while it
 * allocates).
 *
 * Each zone keeps free blocks of 2^order frames, order 0..MAX_ORDER-1, in
 * free_area[order]. A free block's first struct page has PG_buddy set and
 * its order in page->private; the other pages of the block are untouched.
 * Order-0 traffic goes through the zone's per-CPU list first.
 */
#include "guestos/mm/gfp.h"

#include "guestos/kernel/printk.h"
#include "guestos/lib/string.h"
#include "guestos/lib/vsprintf.h"

struct pglist_data contig_page_data;

void bad_page(const struct page *page, const char *reason)
{
	printk(KERN_EMERG "BUG: Bad page state: pfn:0x%lx flags:0x%lx count:%d mapcount:%d\n",
	       page_to_pfn(page), page->flags, page->_refcount, page_mapcount(page));
	panic("bad page: %s", reason);
}

/* ---- free lists ------------------------------------------------------ */

static inline unsigned int buddy_order(const struct page *page)
{
	return (unsigned int)page->private;
}

static void add_to_free_list(struct page *page, struct zone *zone, unsigned int order)
{
	struct free_area *area = &zone->free_area[order];

	SetPageFlag(page, PG_buddy);
	page->private = order;
	list_add(&page->lru, &area->free_list);
	area->nr_free++;
	zone->free_pages += 1UL << order;
}

static void del_page_from_free_list(struct page *page, struct zone *zone, unsigned int order)
{
	list_del(&page->lru);
	ClearPageFlag(page, PG_buddy);
	page->private = 0;
	zone->free_area[order].nr_free--;
	zone->free_pages -= 1UL << order;
}

void zone_init_free_lists(struct zone *zone)
{
	for (unsigned int order = 0; order < MAX_ORDER; order++) {
		INIT_LIST_HEAD(&zone->free_area[order].free_list);
		zone->free_area[order].nr_free = 0;
	}
	INIT_LIST_HEAD(&zone->pcp.list);
}

/* ---- freeing: coalescing with the buddy ------------------------------- */

/* Is `buddy` the free buddy of the block being freed at `order`? It must be
 * a valid frame of the same zone, free, and a whole block of that same
 * order (a smaller free block there means the buddy is partly in use). */
static bool page_is_buddy(const struct zone *zone, unsigned long buddy_pfn, unsigned int order)
{
	const struct page *buddy;

	if (!pfn_valid(buddy_pfn) || !zone_spans_pfn(zone, buddy_pfn))
		return false;
	buddy = pfn_to_page(buddy_pfn);
	return PageBuddy(buddy) && buddy_order(buddy) == order;
}

/*
 * Freeing a block: the buddy-index arithmetic.
 *
 * A block of order n starts at a frame number that is a multiple of 2^n,
 * and it was made by splitting a block of order n+1 into two halves. The
 * two halves are "buddies": they differ only in bit n of their frame
 * numbers. So the buddy of the block at pfn is
 *
 *	buddy_pfn = pfn ^ (1 << n)
 *
 * (bit n set: the buddy is the lower half; clear: the upper half). If the
 * buddy is free as one whole order-n block, both halves are free, so they
 * are taken off the free list and merged into the order-(n+1) block that
 * starts at the lower of the two frame numbers,
 *
 *	combined_pfn = pfn & buddy_pfn		(bit n cleared)
 *
 * and the same question is asked again one order up. Merging stops at
 * MAX_ORDER-1, when the buddy is not free, or when it is free only as a
 * smaller block (part of it is in use). Then the block goes on the free
 * list of the order it reached.
 *
 * Because merging is eager, the free lists are always the unique
 * decomposition of the free frames into maximal aligned blocks: freeing
 * everything that was allocated restores exactly the same free lists.
 *
 * Example: freeing pfn 13 (order 0) when 12 is free: buddy 13^1 = 12,
 * merge to 12 (order 1); if the order-1 block at 14 is free too, buddy
 * 12^2 = 14, merge to 12 (order 2), and so on.
 *
 * Zones never merge with each other: a zone boundary at 16 MiB is aligned
 * far beyond MAX_ORDER, and page_is_buddy checks the zone anyway.
 */
static void __free_one_page(struct page *page, unsigned long pfn, struct zone *zone,
			    unsigned int order)
{
	while (order < MAX_ORDER - 1) {
		unsigned long buddy_pfn = pfn ^ (1UL << order);

		if (!page_is_buddy(zone, buddy_pfn, order))
			break;
		del_page_from_free_list(pfn_to_page(buddy_pfn), zone, order);
		pfn &= buddy_pfn;
		page = pfn_to_page(pfn);
		order++;
	}
	add_to_free_list(page, zone, order);
}

/* Checks every freed page passes; a failure names the broken invariant. */
static void free_pages_check(const struct page *page)
{
	if (PageBuddy(page))
		bad_page(page, "page already free (double free)");
	if (page->_mapcount != -1)
		bad_page(page, "nonzero mapcount");
	if (page->_refcount != 0)
		bad_page(page, "nonzero _refcount");
	if (PageReserved(page))
		bad_page(page, "PG_reserved set");
	if (PageFlag(page, PG_slab) || PageFlag(page, PG_lru) || PageFlag(page, PG_locked))
		bad_page(page, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set");
}

static void free_pages_prepare(struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page);

	if (pfn & ((1UL << order) - 1))
		bad_page(page, "freed block not aligned to its order");
	if (order && (!PageFlag(page, PG_head) || page->private != order))
		bad_page(page, "freed with an order other than the allocation's");
	ClearPageFlag(page, PG_head);
	page->private = 0;
	page->flags &= ~(1UL << PG_dirty | 1UL << PG_referenced | 1UL << PG_uptodate);
	free_pages_check(page);
}

void __free_pages_core(struct page *page, unsigned int order)
{
	struct zone *zone = page_zone(page);

	for (unsigned long i = 0; i < (1UL << order); i++) {
		ClearPageFlag(page + i, PG_reserved);
		page[i]._refcount = 0;
	}
	zone->managed_pages += 1UL << order;
	__free_one_page(page, page_to_pfn(page), zone, order);
}

/* ---- per-CPU lists ---------------------------------------------------- */

/* Give the `count` oldest pages on the zone's per-CPU list back to the
 * buddy lists. */
static void free_pcppages_bulk(struct zone *zone, int count)
{
	struct per_cpu_pages *pcp = &zone->pcp;

	for (; count > 0 && pcp->count > 0; count--, pcp->count--) {
		struct page *page = list_entry(pcp->list.prev, struct page, lru);

		list_del(&page->lru);
		__free_one_page(page, page_to_pfn(page), zone, 0);
	}
}

static void free_unref_page(struct page *page, struct zone *zone)
{
	struct per_cpu_pages *pcp = &zone->pcp;

	list_add(&page->lru, &pcp->list);
	if (++pcp->count >= pcp->high)
		free_pcppages_bulk(zone, pcp->batch);
}

void drain_all_pages(void)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &NODE_DATA(0)->node_zones[z];

		free_pcppages_bulk(zone, zone->pcp.count);
	}
}

/* ---- allocation: splitting --------------------------------------------- */

/* A block of order `high` was taken to satisfy a request of order `low`:
 * put its unused upper halves back, one per order from high-1 down to low. */
static void expand(struct zone *zone, struct page *page, unsigned int low, unsigned int high)
{
	while (high > low) {
		high--;
		add_to_free_list(page + (1UL << high), zone, high);
	}
}

/* Take the smallest free block of at least `order` and split it down. */
static struct page *__rmqueue_smallest(struct zone *zone, unsigned int order)
{
	for (unsigned int o = order; o < MAX_ORDER; o++) {
		struct free_area *area = &zone->free_area[o];
		struct page *page;

		if (list_empty(&area->free_list))
			continue;
		page = list_first_entry(&area->free_list, struct page, lru);
		del_page_from_free_list(page, zone, o);
		expand(zone, page, order, o);
		return page;
	}
	return NULL;
}

static struct page *rmqueue_pcplist(struct zone *zone)
{
	struct per_cpu_pages *pcp = &zone->pcp;
	struct page *page;

	for (; pcp->count < pcp->batch; pcp->count++) {
		page = __rmqueue_smallest(zone, 0);
		if (!page)
			break;
		list_add_tail(&page->lru, &pcp->list);
	}
	if (list_empty(&pcp->list))
		return NULL;
	page = list_first_entry(&pcp->list, struct page, lru);
	list_del(&page->lru);
	pcp->count--;
	return page;
}

static struct page *rmqueue(struct zone *zone, unsigned int order)
{
	return order == 0 ? rmqueue_pcplist(zone) : __rmqueue_smallest(zone, order);
}

/* ---- watermarks and the zone fallback list ------------------------------ */

#define ALLOC_WMARK_MIN WMARK_MIN
#define ALLOC_WMARK_LOW WMARK_LOW
#define ALLOC_WMARK_MASK 0x3u
#define ALLOC_HIGH 0x10u /* __GFP_HIGH: may use half of the reserve below min */

/* May `zone` give 2^order pages and stay above the watermark? The free
 * pages left must exceed the mark, and a block of at least that order must
 * exist. */
static bool zone_watermark_ok(const struct zone *zone, unsigned int order,
			      unsigned int alloc_flags)
{
	long mark = (long)zone->_watermark[alloc_flags & ALLOC_WMARK_MASK];
	long free = (long)zone->free_pages - (1L << order) + 1;

	if (alloc_flags & ALLOC_HIGH)
		mark -= mark / 2;
	if (free <= mark)
		return false;
	for (unsigned int o = order; o < MAX_ORDER; o++)
		if (zone->free_area[o].nr_free)
			return true;
	return false;
}

static enum zone_type gfp_zone(gfp_t gfp)
{
	return (gfp & __GFP_DMA) ? ZONE_DMA : ZONE_NORMAL;
}

/* Try the zones from the highest allowed one down to ZONE_DMA. */
static struct page *get_page_from_freelist(gfp_t gfp, unsigned int order,
					   unsigned int alloc_flags)
{
	for (int z = (int)gfp_zone(gfp); z >= ZONE_DMA; z--) {
		struct zone *zone = &NODE_DATA(0)->node_zones[z];
		struct page *page;

		if (!populated_zone(zone) || !zone_watermark_ok(zone, order, alloc_flags))
			continue;
		page = rmqueue(zone, order);
		if (page)
			return page;
	}
	return NULL;
}

/* Checks every page leaving the allocator passes. */
static void check_new_page(const struct page *page)
{
	if (page->_mapcount != -1)
		bad_page(page, "nonzero mapcount");
	if (page->_refcount != 0)
		bad_page(page, "nonzero _refcount");
	if (PageReserved(page) || PageBuddy(page) || PageFlag(page, PG_slab))
		bad_page(page, "PAGE_FLAGS_CHECK_AT_PREP flag(s) set");
}

static void prep_new_page(struct page *page, unsigned int order, gfp_t gfp)
{
	check_new_page(page);
	page->_refcount = 1;
	if (order) {
		SetPageFlag(page, PG_head);
		page->private = order;
	}
	if (gfp & __GFP_ZERO)
		memset(page_to_virt(page), 0, (size_t)PAGE_SIZE << order);
}

static void warn_alloc(gfp_t gfp, unsigned int order)
{
	if (gfp & __GFP_NOWARN)
		return;
	pr_warn("page allocation failure: order:%u, mode:0x%x\n", order, gfp);
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	unsigned int min_flags = ALLOC_WMARK_MIN | ((gfp & __GFP_HIGH) ? ALLOC_HIGH : 0);
	struct page *page;

	if (order >= MAX_ORDER) {
		warn_alloc(gfp, order);
		return NULL;
	}
	/* Fast path: any zone still above its low mark. Slow path: Linux would
	 * wake kswapd and reclaim here; with nothing to reclaim, try again
	 * down to the min mark, then fail. */
	page = get_page_from_freelist(gfp, order, ALLOC_WMARK_LOW);
	if (!page)
		page = get_page_from_freelist(gfp, order, min_flags);
	if (!page) {
		warn_alloc(gfp, order);
		return NULL;
	}
	prep_new_page(page, order, gfp);
	return page;
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	struct page *page = alloc_pages(gfp, order);

	return page ? (unsigned long)page_to_virt(page) : 0;
}

unsigned long get_zeroed_page(gfp_t gfp)
{
	return __get_free_pages(gfp | __GFP_ZERO, 0);
}

/* The last reference is gone: back to the per-CPU list or the buddy lists. */
static void free_the_page(struct page *page, unsigned int order)
{
	struct zone *zone = page_zone(page);

	free_pages_prepare(page, order);
	if (order == 0)
		free_unref_page(page, zone);
	else
		__free_one_page(page, page_to_pfn(page), zone, order);
}

static bool put_page_testzero(struct page *page)
{
	if (page->_refcount <= 0)
		bad_page(page, PageBuddy(page) ? "page already free (double free)"
					       : "page refcount underflow");
	return --page->_refcount == 0;
}

void __free_pages(struct page *page, unsigned int order)
{
	if (put_page_testzero(page))
		free_the_page(page, order);
}

void free_pages(unsigned long addr, unsigned int order)
{
	if (addr)
		__free_pages(virt_to_page((void *)addr), order);
}

void put_page(struct page *page)
{
	unsigned int order = PageFlag(page, PG_head) ? (unsigned int)page->private : 0;

	__free_pages(page, order);
}

/* Linux split_page(): the block from alloc_pages(gfp, order) becomes
 * 2^order order-0 pages with one reference each, freed one by one. */
void split_page(struct page *page, unsigned int order)
{
	if (!order)
		return;
	if (!PageFlag(page, PG_head) || page->private != order)
		bad_page(page, "split_page with an order other than the allocation's");
	ClearPageFlag(page, PG_head);
	page->private = 0;
	for (unsigned long i = 1; i < (1UL << order); i++)
		page[i]._refcount = 1;
}

/* ---- consistency ------------------------------------------------------ */

static const char *check_free_area(const struct zone *zone, unsigned int order,
				   unsigned long *pages)
{
	const struct free_area *area = &zone->free_area[order];
	unsigned long n = 0;

	for (const struct list_head *l = area->free_list.next; l != &area->free_list; l = l->next) {
		const struct page *page = list_entry(l, struct page, lru);
		unsigned long pfn = page_to_pfn(page);

		if (!PageBuddy(page) || buddy_order(page) != order)
			return "a free-list page without PG_buddy or with another order";
		if ((pfn & ((1UL << order) - 1)) || !zone_spans_pfn(zone, pfn))
			return "a free block misaligned or outside its zone";
		if (order < MAX_ORDER - 1 && page_is_buddy(zone, pfn ^ (1UL << order), order))
			return "two free buddies left unmerged";
		n++;
	}
	*pages += n << order;
	return n == area->nr_free ? NULL : "nr_free differs from the free list's length";
}

static const char *check_pcp(const struct zone *zone)
{
	const struct per_cpu_pages *pcp = &zone->pcp;
	int n = 0;

	for (const struct list_head *l = pcp->list.next; l != &pcp->list; l = l->next) {
		const struct page *page = list_entry(l, struct page, lru);

		if (PageBuddy(page) || page->_refcount || page_zone(page) != zone)
			return "a per-CPU page in use, in a buddy list, or of another zone";
		n++;
	}
	return n == pcp->count ? NULL : "per-CPU count differs from its list's length";
}

const char *check_free_lists(void)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zone = &NODE_DATA(0)->node_zones[z];
		unsigned long pages = 0;
		const char *err = check_pcp(zone);

		for (unsigned int o = 0; o < MAX_ORDER && !err; o++)
			err = check_free_area(zone, o, &pages);
		if (!err && pages != zone->free_pages)
			err = "free_pages differs from the pages on the free lists";
		if (err)
			return err;
	}
	return NULL;
}

/* ---- sizing: per-CPU lists and watermarks ------------------------------- */

/* Linux's zone_batchsize(): about a thousandth of the zone, at most 1 MiB,
 * a quarter of that, rounded to 2^n - 1 (so that batches of different
 * zones do not align in cache). */
static int zone_batchsize(const struct zone *zone)
{
	unsigned long batch = MIN(zone->managed_pages / 1024, (1UL << 20) / PAGE_SIZE) / 4;
	unsigned long pow2 = 1;

	batch = MAX(batch, 1UL);
	batch += batch / 2;
	while (pow2 * 2 <= batch)
		pow2 *= 2;
	return (int)MAX(pow2 - 1, 1UL);
}

void setup_per_zone_pageset(void)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &NODE_DATA(0)->node_zones[z];

		zone->pcp.batch = zone_batchsize(zone);
		zone->pcp.high = 6 * zone->pcp.batch;
		zone->pcp.count = 0;
	}
}

static unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

/* Linux's init_per_zone_wmark_min() and __setup_per_zone_wmarks():
 * min_free_kbytes = sqrt(16 * lowmem KiB), clamped to [128, 65536]; each
 * zone gets a share of it proportional to its size as WMARK_MIN, and
 * low/high are min + 1/4 and min + 1/2 of that share. */
void setup_per_zone_wmarks(void)
{
	unsigned long lowmem_pages = 0, min_free_kbytes, pages_min;

	for (int z = 0; z < MAX_NR_ZONES; z++)
		lowmem_pages += NODE_DATA(0)->node_zones[z].managed_pages;
	min_free_kbytes = int_sqrt(lowmem_pages * (PAGE_SIZE / 1024) * 16);
	min_free_kbytes = MAX(128UL, MIN(min_free_kbytes, 65536UL));
	pages_min = min_free_kbytes / (PAGE_SIZE / 1024);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &NODE_DATA(0)->node_zones[z];
		unsigned long tmp = lowmem_pages ? pages_min * zone->managed_pages / lowmem_pages : 0;

		zone->_watermark[WMARK_MIN] = tmp;
		zone->_watermark[WMARK_LOW] = tmp + tmp / 4;
		zone->_watermark[WMARK_HIGH] = tmp + tmp / 2;
	}
}

/* ---- reports ------------------------------------------------------------ */

unsigned long nr_free_pages(void)
{
	unsigned long n = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++)
		n += NODE_DATA(0)->node_zones[z].free_pages;
	return n;
}

unsigned long totalram_pages(void)
{
	unsigned long n = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++)
		n += NODE_DATA(0)->node_zones[z].managed_pages;
	return n;
}

/* /proc/buddyinfo (mm/vmstat.c frag_show_print): populated zones only,
 * "Node %d, zone %8s " then "%6lu " per order, then a newline. */
void show_buddyinfo(void)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct zone *zone = &NODE_DATA(0)->node_zones[z];
		char line[160];
		int n;

		if (!populated_zone(zone))
			continue;
		n = snprintf(line, sizeof line, "Node %d, zone %8s ", NODE_DATA(0)->node_id, zone->name);
		for (unsigned int o = 0; o < MAX_ORDER; o++)
			n += snprintf(line + n, sizeof line - (size_t)n, "%6lu ", zone->free_area[o].nr_free);
		printk(KERN_INFO "%s\n", line);
	}
}
