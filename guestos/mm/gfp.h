/* The page allocator's interface (Linux include/linux/gfp.h). The flag
 * values are mmulab's own. */
#ifndef GUESTOS_MM_GFP_H
#define GUESTOS_MM_GFP_H

#include "guestos/mm/mmzone.h"

typedef unsigned int gfp_t;

#define __GFP_DMA 0x01u     /* only ZONE_DMA */
#define __GFP_HIGH 0x20u    /* may dip below WMARK_MIN (to half of it) */
#define __GFP_RECLAIM 0x40u /* may sleep and reclaim: accepted, nothing to reclaim */
#define __GFP_ZERO 0x100u   /* return zeroed pages */
#define __GFP_NOWARN 0x200u /* no warning when the allocation fails */

#define GFP_KERNEL __GFP_RECLAIM
#define GFP_ATOMIC __GFP_HIGH
#define GFP_DMA __GFP_DMA

/* Allocate 2^order contiguous frames, aligned to their size, from the
 * highest zone the flags allow, falling back to lower zones (NORMAL ->
 * DMA). The first page has _refcount 1. NULL when no zone can satisfy the
 * request within its watermarks: never blocks, never loops. */
struct page *alloc_pages(gfp_t gfp, unsigned int order);
static inline struct page *alloc_page(gfp_t gfp)
{
	return alloc_pages(gfp, 0);
}
/* alloc_pages returning the direct-map address; 0 on failure. */
unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
static inline unsigned long __get_free_page(gfp_t gfp)
{
	return __get_free_pages(gfp, 0);
}
unsigned long get_zeroed_page(gfp_t gfp);

/* Drop a reference to a block from alloc_pages; at zero, free it. The
 * order must be the one it was allocated with. */
void __free_pages(struct page *page, unsigned int order);
void free_pages(unsigned long addr, unsigned int order);
#define __free_page(page) __free_pages((page), 0)
#define free_page(addr) free_pages((addr), 0)

/* Make an allocated block of 2^order frames 2^order separately freeable
 * order-0 pages (each with one reference). */
void split_page(struct page *page, unsigned int order);

/* Boot: hand a block of frames (PG_reserved cleared) to the buddy
 * allocator directly. */
void __free_pages_core(struct page *page, unsigned int order);
/* Boot, after all memory is free: per-CPU list sizes and watermarks. */
void setup_per_zone_pageset(void);
void setup_per_zone_wmarks(void);
void zone_init_free_lists(struct zone *zone);

/* Return every per-CPU list page to the buddy lists. */
void drain_all_pages(void);
/* Walk every free list and per-CPU list and check the allocator's
 * invariants; NULL when they hold, else the one that broke. */
const char *check_free_lists(void);
/* Free pages in the buddy lists of all zones. */
unsigned long nr_free_pages(void);
/* Pages given to the buddy allocator (meminfo's MemTotal). */
unsigned long totalram_pages(void);
/* Print the zones' free blocks per order as /proc/buddyinfo does. */
void show_buddyinfo(void);

#endif
