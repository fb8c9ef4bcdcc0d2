/* Self-tests of the buddy allocator. Each starts and ends with the per-CPU
 * lists drained, and checks that freeing everything it allocated restores
 * exactly the free lists it started from (merging is eager, so the free
 * lists are a function of the set of free frames). */
#include "guestos/kernel/selftest.h"
#include "guestos/lib/string.h"
#include "guestos/mm/gfp.h"

struct buddy_snapshot {
	unsigned long nr_free[MAX_NR_ZONES][MAX_ORDER];
	unsigned long free_pages[MAX_NR_ZONES];
};

static struct zone *zone_of(enum zone_type z)
{
	return &NODE_DATA(0)->node_zones[z];
}

static void take_snapshot(struct buddy_snapshot *s)
{
	drain_all_pages();
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		s->free_pages[z] = zone_of(z)->free_pages;
		for (unsigned o = 0; o < MAX_ORDER; o++)
			s->nr_free[z][o] = zone_of(z)->free_area[o].nr_free;
	}
}

static bool snapshot_restored(const struct buddy_snapshot *before)
{
	struct buddy_snapshot now;

	take_snapshot(&now);
	return !memcmp(before, &now, sizeof now);
}

/* Free every order-0 page on `list` (linked through page->lru). */
static void free_page_list(struct list_head *list)
{
	while (!list_empty(list)) {
		struct page *page = list_first_entry(list, struct page, lru);

		list_del(&page->lru);
		__free_page(page);
	}
}

/* Does any zone have a free block of at least `order`? */
static bool block_available(unsigned order)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		for (unsigned o = order; o < MAX_ORDER; o++)
			if (zone_of(z)->free_area[o].nr_free)
				return true;
	return false;
}

/* One block of each order that RAM has: aligned, one reference, exactly
 * 2^order pages fewer free, and everything merged back after the free. */
static const char *test_split_coalesce(void)
{
	struct buddy_snapshot before;

	take_snapshot(&before);
	for (unsigned order = 1; order < MAX_ORDER && block_available(order); order++) {
		unsigned long free_before = nr_free_pages();
		struct page *page = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);

		if (!page)
			return "an allocation failed with plenty of memory";
		if (page_to_pfn(page) & ((1UL << order) - 1))
			return "block not aligned to its order";
		if (page_count(page) != 1 || PageBuddy(page))
			return "new block has a wrong refcount or PG_buddy";
		if (nr_free_pages() + (1UL << order) != free_before)
			return "split lost or leaked pages";
		__free_pages(page, order);
		if (nr_free_pages() != free_before)
			return "free did not return every page";
	}
	return snapshot_restored(&before) ? NULL : "free lists differ after freeing";
}

/* Many single pages freed in a different order than allocated (even
 * positions first) still coalesce back into the original blocks. */
static const char *test_coalesce_order0(void)
{
	struct buddy_snapshot before;
	struct list_head evens, odds;
	unsigned long n;
	const char *err = NULL;

	take_snapshot(&before);
	n = MIN(1024UL, nr_free_pages() / 4);
	INIT_LIST_HEAD(&evens);
	INIT_LIST_HEAD(&odds);
	for (unsigned long i = 0; i < n && !err; i++) {
		struct page *page = alloc_page(GFP_KERNEL | __GFP_NOWARN);

		if (page)
			list_add_tail(&page->lru, i % 2 ? &odds : &evens);
		else
			err = "an allocation failed with a quarter of RAM free";
	}
	free_page_list(&evens);
	free_page_list(&odds);
	if (err)
		return err;
	return snapshot_restored(&before) ? NULL : "free lists differ after freeing";
}

/* get_page/put_page: the page is freed only with the last reference. */
static const char *test_refcount(void)
{
	struct page *page = alloc_page(GFP_KERNEL);
	struct zone *zone;
	int pcp_before;

	if (!page)
		return "allocation failed";
	zone = page_zone(page);
	get_page(page);
	if (page_count(page) != 2)
		return "get_page did not count";
	pcp_before = zone->pcp.count;
	__free_page(page);
	if (page_count(page) != 1 || zone->pcp.count != pcp_before)
		return "page freed while still referenced";
	put_page(page);
	if (page_count(page) != 0)
		return "last put_page did not free the page";
	return NULL;
}

/* A freed dirty page comes back (the per-CPU list is LIFO) zeroed. */
static const char *test_zeroed_page(void)
{
	unsigned long dirty = __get_free_page(GFP_KERNEL);
	unsigned long zeroed;
	const u8 *p;

	if (!dirty)
		return "allocation failed";
	memset((void *)dirty, 0xA5, PAGE_SIZE);
	free_page(dirty);
	zeroed = get_zeroed_page(GFP_KERNEL);
	if (zeroed != dirty)
		return "the per-CPU list did not return the last freed page";
	p = (const u8 *)zeroed;
	for (int i = 0; i < PAGE_SIZE; i++)
		if (p[i])
			return "get_zeroed_page returned a page with non-zero bytes";
	free_page(zeroed);
	return NULL;
}

/* Allocate until NULL: every zone ends at or below its min watermark, a
 * larger order fails too, __GFP_HIGH may still dip into the reserve, and
 * everything comes back afterwards. */
static const char *test_exhaustion(void)
{
	struct buddy_snapshot before;
	struct list_head pages;
	unsigned long n = 0;
	struct page *page;

	take_snapshot(&before);
	INIT_LIST_HEAD(&pages);
	while ((page = alloc_page(GFP_KERNEL | __GFP_NOWARN))) {
		list_add(&page->lru, &pages);
		n++;
	}
	if (!n)
		return "nothing could be allocated";
	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (populated_zone(zone_of(z)) && zone_of(z)->free_pages > min_wmark_pages(zone_of(z)))
			return "NULL while a zone was above its min watermark";
	if (alloc_pages(GFP_KERNEL | __GFP_NOWARN, 3))
		return "an order-3 block after order 0 ran out";
	page = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
	if (!page)
		return "GFP_ATOMIC could not use the reserve below min";
	list_add(&page->lru, &pages);
	free_page_list(&pages);
	return snapshot_restored(&before) ? NULL : "free lists differ after freeing";
}

/* Orders the allocator cannot have fail cleanly. */
static const char *test_order_too_large(void)
{
	return alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER) ? "order MAX_ORDER succeeded" : NULL;
}

/* GFP_KERNEL takes ZONE_NORMAL until it is down to its low watermark, then
 * falls back to ZONE_DMA; GFP_DMA never gets a ZONE_NORMAL page. */
static const char *test_zone_fallback(void)
{
	struct buddy_snapshot before;
	struct list_head pages;
	struct zone *normal = zone_of(ZONE_NORMAL);
	struct page *page;

	if (!populated_zone(normal) || !populated_zone(zone_of(ZONE_DMA)))
		return NULL; /* nothing to fall back between */
	take_snapshot(&before);
	INIT_LIST_HEAD(&pages);
	for (int i = 0; i < 16; i++) {
		page = alloc_page(GFP_DMA | __GFP_NOWARN);
		if (!page || page_zone(page) != zone_of(ZONE_DMA))
			return "GFP_DMA gave no page or a page outside ZONE_DMA";
		list_add(&page->lru, &pages);
	}
	while ((page = alloc_page(GFP_KERNEL | __GFP_NOWARN))) {
		list_add(&page->lru, &pages);
		if (page_zone(page) == zone_of(ZONE_DMA))
			break;
	}
	if (!page)
		return "GFP_KERNEL never fell back to ZONE_DMA";
	if (normal->free_pages > low_wmark_pages(normal))
		return "fell back while ZONE_NORMAL was above its low watermark";
	free_page_list(&pages);
	return snapshot_restored(&before) ? NULL : "free lists differ after freeing";
}

/* Free every other page of a split order-6 block: no freed page has a free
 * buddy, so nothing merges and an order-1 request must come from
 * elsewhere; freeing the rest merges the block back. */
static const char *test_fragmentation(void)
{
	const unsigned order = 6, n = 1u << order;
	struct buddy_snapshot start, mid, odd_freed;
	struct page *block, *pair;
	long zi;

	take_snapshot(&start);
	block = alloc_pages(GFP_KERNEL, order);
	if (!block)
		return "allocation failed";
	zi = page_zone(block) - zone_of(0);
	split_page(block, order);
	take_snapshot(&mid);
	for (unsigned i = 1; i < n; i += 2)
		__free_page(block + i);
	take_snapshot(&odd_freed);
	for (unsigned o = 0; o < MAX_ORDER; o++)
		if (odd_freed.nr_free[zi][o] != mid.nr_free[zi][o] + (o == 0 ? n / 2 : 0))
			return "freed pages merged although every buddy is in use";
	pair = alloc_pages(GFP_KERNEL, 1);
	if (!pair || (pair >= block && pair < block + n))
		return "an order-1 block came from the fragmented block";
	__free_pages(pair, 1);
	for (unsigned i = 0; i < n; i += 2)
		__free_page(block + i);
	if (!snapshot_restored(&start))
		return "the block did not merge back";
	return check_free_lists();
}

/* The free lists hold what their counters say, nothing unmerged. */
static const char *test_free_lists_consistent(void)
{
	drain_all_pages();
	return check_free_lists();
}

const struct selftest buddy_selftests[] = {
	{"buddy_free_lists_consistent", test_free_lists_consistent},
	{"buddy_split_coalesce", test_split_coalesce},
	{"buddy_coalesce_order0", test_coalesce_order0},
	{"buddy_refcount", test_refcount},
	{"buddy_zeroed_page", test_zeroed_page},
	{"buddy_order_too_large", test_order_too_large},
	{"buddy_zone_fallback", test_zone_fallback},
	{"buddy_fragmentation", test_fragmentation},
	{"buddy_exhaustion", test_exhaustion},
	{"buddy_free_lists_consistent_after", test_free_lists_consistent},
};
const size_t nr_buddy_selftests = ARRAY_SIZE(buddy_selftests);
