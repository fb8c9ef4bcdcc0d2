/* SLUB-style object caches and kmalloc (Linux include/linux/slab.h).
 *
 * A cache hands out objects of one size from slabs: blocks of 2^order
 * pages from the buddy allocator, cut into objects. Each free object holds
 * a pointer to the next free one (the free pointer). The CPU's current
 * slab ("CPU slab") serves the fast path: pop/push on its freelist. When
 * it runs out, the slow path takes a slab from the node's partial list
 * or a new one from the buddy allocator. Full slabs are on no list (as in
 * SLUB); empty slabs beyond a few are given back.
 *
 * Errors the cache can see (double free, a pointer that is not an object
 * of this cache, a freed object written to) are reported with a named
 * reason and the operation is refused; the kernel continues. */
#ifndef GUESTOS_MM_SLAB_H
#define GUESTOS_MM_SLAB_H

#include "guestos/mm/gfp.h"

#define SLAB_POISON 0x00000800u        /* fill free objects with POISON_FREE */
#define SLAB_HWCACHE_ALIGN 0x00002000u /* align objects to cache lines */
#define SLAB_PANIC 0x00040000u         /* panic if the cache cannot be created */

#define POISON_FREE 0x6b /* a free object's bytes */
#define POISON_END 0xa5  /* its last byte */
#define KMALLOC_MAX_CACHE_SIZE 8192

struct kmem_cache_cpu {
	void *freelist;    /* free objects of the CPU slab */
	struct page *slab; /* the CPU slab (first page), or NULL */
};

struct kmem_cache_node {
	struct list_head partial; /* slabs with some objects free */
	unsigned long nr_partial;
	unsigned long nr_slabs;
	unsigned long total_objects;
};

struct kmem_cache {
	const char *name;
	unsigned int object_size; /* what the user asked for */
	unsigned int size;        /* object + free pointer, aligned */
	unsigned int align;
	unsigned int offset;      /* of the free pointer in an object */
	unsigned int flags;
	unsigned int order;       /* of each slab */
	unsigned int objects;     /* per slab */
	void (*ctor)(void *);
	struct kmem_cache_cpu cpu_slab;
	struct kmem_cache_node node;
	struct list_head list;    /* all caches, for slabinfo */
};

/* Every cache, linked through kmem_cache.list (for slabinfo and hosts). */
extern struct list_head slab_caches;

void kmem_cache_init(void);
/* NULL on failure (bad size or no memory), unless SLAB_PANIC. */
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned int flags, void (*ctor)(void *));
/* Free the cache; refused (with a report) while objects are allocated. */
void kmem_cache_destroy(struct kmem_cache *s);
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp);
void kmem_cache_free(struct kmem_cache *s, void *x);

/* 8..8192 bytes from the kmalloc-N caches, larger straight from the buddy
 * allocator. kfree(NULL) does nothing. */
void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);
void kfree(const void *x);

/* Errors reported since boot (for the self-tests). */
unsigned long slab_error_count(void);
/* Pages held by all slabs (meminfo's Slab). */
unsigned long slab_pages(void);
/* /proc/slabinfo, version 2.1. */
void show_slabinfo(void);

#endif
