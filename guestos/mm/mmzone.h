/* Zones, free areas, per-CPU page lists and watermarks (Linux
 * include/linux/mmzone.h). One node, one CPU. */
#ifndef GUESTOS_MM_MMZONE_H
#define GUESTOS_MM_MMZONE_H

#include "guestos/mm/mm.h"

#define MAX_ORDER 11 /* orders 0..10: blocks of 1 page .. 4 MiB */
#define MAX_DMA_PFN (0x1000000 >> PAGE_SHIFT) /* ZONE_DMA ends at 16 MiB */

enum zone_type {
	ZONE_DMA,    /* below 16 MiB: what ISA DMA can reach */
	ZONE_NORMAL, /* the rest of RAM */
	MAX_NR_ZONES
};

struct free_area {
	struct list_head free_list; /* free blocks of this order (head = first page) */
	unsigned long nr_free;      /* blocks on free_list */
};

/* Order-0 pages kept off the buddy lists: allocation and freeing touch
 * only this list until it runs empty (refill `batch` pages) or grows past
 * `high` (return `batch` pages). */
struct per_cpu_pages {
	int count;
	int high;
	int batch;
	struct list_head list;
};

/* Below WMARK_LOW the allocator prefers other zones; below WMARK_MIN only
 * __GFP_HIGH callers may allocate, down to half of it. Linux would wake
 * kswapd at low and reclaim until high; there is no reclaim here, so
 * WMARK_HIGH is computed and reported only. */
enum zone_watermarks {
	WMARK_MIN,
	WMARK_LOW,
	WMARK_HIGH,
	NR_WMARK
};

struct zone {
	const char *name;
	unsigned long _watermark[NR_WMARK];
	unsigned long zone_start_pfn;
	unsigned long spanned_pages; /* frames in the zone's range, holes included */
	unsigned long present_pages; /* RAM frames in the range */
	unsigned long managed_pages; /* frames given to the buddy allocator */
	unsigned long free_pages;    /* in free_area (NR_FREE_PAGES); pcp excluded */
	struct per_cpu_pages pcp;
	struct free_area free_area[MAX_ORDER];
};

struct pglist_data {
	struct zone node_zones[MAX_NR_ZONES];
	int node_id;
};

extern struct pglist_data contig_page_data;
#define NODE_DATA(nid) (&contig_page_data)

static inline bool populated_zone(const struct zone *zone)
{
	return zone->present_pages != 0;
}

static inline bool zone_spans_pfn(const struct zone *zone, unsigned long pfn)
{
	return pfn >= zone->zone_start_pfn && pfn < zone->zone_start_pfn + zone->spanned_pages;
}

static inline enum zone_type pfn_zone_type(unsigned long pfn)
{
	return pfn < MAX_DMA_PFN ? ZONE_DMA : ZONE_NORMAL;
}

static inline struct zone *page_zone(const struct page *page)
{
	return &NODE_DATA(0)->node_zones[pfn_zone_type(page_to_pfn(page))];
}

static inline unsigned long min_wmark_pages(const struct zone *z)
{
	return z->_watermark[WMARK_MIN];
}

static inline unsigned long low_wmark_pages(const struct zone *z)
{
	return z->_watermark[WMARK_LOW];
}

static inline unsigned long high_wmark_pages(const struct zone *z)
{
	return z->_watermark[WMARK_HIGH];
}

#endif
