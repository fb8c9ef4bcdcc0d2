/* struct page, page flags, reference counts and address conversions,
 * named as Linux names them (include/linux/mm_types.h, page-flags.h,
 * mm.h, arch/x86/include/asm/page.h). */
#ifndef GUESTOS_MM_MM_H
#define GUESTOS_MM_MM_H

#include "guestos/arch/x86/memlayout.h"
#include "guestos/lib/list.h"
#include "guestos/lib/types.h"

/* One bit each in page->flags. Linux keeps PageBuddy in a separate
 * page_type field; here it is an ordinary flag. */
enum pageflags {
	PG_locked,     /* under I/O or otherwise pinned by its owner */
	PG_referenced, /* recently accessed (reclaim's second chance) */
	PG_uptodate,
	PG_dirty,      /* contents differ from backing store */
	PG_lru,        /* on an LRU list */
	PG_active,
	PG_slab,       /* owned by the slab allocator */
	PG_reserved,   /* never handed to the buddy allocator */
	PG_private,
	PG_writeback,
	PG_head,       /* first page of a block allocated with order > 0 */
	PG_buddy,      /* free, in a buddy free list; private = its order */
	NR_PAGEFLAGS
};

struct kmem_cache;

/* One per physical frame, in mem_map[pfn]. */
struct page {
	unsigned long flags;   /* enum pageflags bits */
	struct list_head lru;  /* free list, per-CPU list, slab partial list, or the owner's */
	unsigned long private; /* PG_buddy: order; PG_head: allocation order */
	int _mapcount;         /* page-table mappings - 1 (-1: unmapped) */
	int _refcount;         /* users; 0 = free */
	/* PG_slab (Linux overlays these as struct slab): */
	struct kmem_cache *slab_cache; /* every page of the slab */
	void *freelist;                /* first page: first free object */
	u16 inuse;                     /* first page: objects allocated */
	u16 objects;                   /* first page: objects in the slab */
	bool frozen;                   /* first page: it is the CPU slab */
};

extern struct page *mem_map;
extern unsigned long max_pfn; /* one past the highest frame with a struct page */

static inline bool PageFlag(const struct page *page, enum pageflags flag)
{
	return page->flags & (1UL << flag);
}

static inline void SetPageFlag(struct page *page, enum pageflags flag)
{
	page->flags |= 1UL << flag;
}

static inline void ClearPageFlag(struct page *page, enum pageflags flag)
{
	page->flags &= ~(1UL << flag);
}

static inline bool PageBuddy(const struct page *page)
{
	return PageFlag(page, PG_buddy);
}

static inline bool PageReserved(const struct page *page)
{
	return PageFlag(page, PG_reserved);
}

/* Address conversions. __pa accepts both kernel-image addresses
 * (__START_KERNEL_map + pa) and direct-map addresses (PAGE_OFFSET + pa). */
static inline phys_addr_t __pa(const void *va)
{
	unsigned long x = (unsigned long)va;

	return x >= __START_KERNEL_map ? x - __START_KERNEL_map : x - PAGE_OFFSET;
}

static inline void *__va(phys_addr_t pa)
{
	return (void *)(pa + PAGE_OFFSET);
}

#define PFN_UP(x) (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)
#define PFN_PHYS(pfn) ((phys_addr_t)(pfn) << PAGE_SHIFT)

static inline bool pfn_valid(unsigned long pfn)
{
	return pfn < max_pfn;
}

static inline struct page *pfn_to_page(unsigned long pfn)
{
	return mem_map + pfn;
}

static inline unsigned long page_to_pfn(const struct page *page)
{
	return (unsigned long)(page - mem_map);
}

static inline void *page_to_virt(const struct page *page)
{
	return __va(PFN_PHYS(page_to_pfn(page)));
}

static inline struct page *virt_to_page(const void *va)
{
	return pfn_to_page(PFN_DOWN(__pa(va)));
}

/* Reference counts: a page is freed when its last reference goes. */
static inline int page_count(const struct page *page)
{
	return page->_refcount;
}

static inline void get_page(struct page *page)
{
	page->_refcount++;
}

static inline int page_mapcount(const struct page *page)
{
	return page->_mapcount + 1;
}

/* Drop a reference; free the page (its whole allocation) at zero. */
void put_page(struct page *page);
/* Report a page whose state breaks an invariant, with the reason, and panic. */
void __noreturn bad_page(const struct page *page, const char *reason);

#endif
