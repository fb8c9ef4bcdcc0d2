/* SLUB-style slab allocator (Linux mm/slub.c, one CPU, one node, no
 * locking). See mm/slab.h for the picture.
 *
 * Slab states: the CPU slab is "frozen": its free objects live on
 * s->cpu_slab.freelist and page->freelist is NULL. A slab with some free
 * objects is on s->node.partial; a full slab is on no list and comes back
 * to the partial list when one of its objects is freed. An empty slab is
 * given back to the buddy allocator once MIN_PARTIAL slabs are partial.
 */
#include "guestos/mm/slab.h"

#include "guestos/kernel/printk.h"
#include "guestos/lib/string.h"
#include "guestos/lib/vsprintf.h"

#define MIN_PARTIAL 2
#define SLAB_MAX_ORDER 3    /* PAGE_ALLOC_COSTLY_ORDER */
#define SLAB_MIN_OBJECTS 8
#define CACHE_LINE_SIZE 64
#define ZERO_SIZE_PTR ((void *)16) /* kmalloc(0): not NULL, faults if used */

static struct kmem_cache kmem_cache_boot; /* the cache of struct kmem_cache */
struct list_head slab_caches;
static unsigned long slab_errors;

static const unsigned int kmalloc_sizes[] = {8, 16, 32, 64, 96, 128, 192, 256,
					     512, 1024, 2048, 4096, 8192};
static const char *const kmalloc_names[] = {
	"kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-96",
	"kmalloc-128", "kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1k",
	"kmalloc-2k", "kmalloc-4k", "kmalloc-8k"};
_Static_assert(ARRAY_SIZE(kmalloc_sizes) == ARRAY_SIZE(kmalloc_names), "one name per size");
static struct kmem_cache *kmalloc_caches[ARRAY_SIZE(kmalloc_sizes)];

static void slab_err(const struct kmem_cache *s, const char *fn, const void *x, const char *reason)
{
	slab_errors++;
	pr_err("slab error in %s(): cache `%s': %s (object %p)\n", fn, s ? s->name : "?", reason, x);
}

unsigned long slab_error_count(void)
{
	return slab_errors;
}

/* ---- objects ---------------------------------------------------------- */

static void *get_freepointer(const struct kmem_cache *s, const void *object)
{
	void *fp;

	memcpy(&fp, (const char *)object + s->offset, sizeof fp);
	return fp;
}

static void set_freepointer(const struct kmem_cache *s, void *object, void *fp)
{
	memcpy((char *)object + s->offset, &fp, sizeof fp);
}

static void poison_object(const struct kmem_cache *s, void *object)
{
	if (!(s->flags & SLAB_POISON))
		return;
	memset(object, POISON_FREE, s->object_size - 1);
	((u8 *)object)[s->object_size - 1] = POISON_END;
}

/* A free object about to be handed out must still hold its poison. */
static void check_poison(const struct kmem_cache *s, void *object)
{
	const u8 *p = object;

	if (!(s->flags & SLAB_POISON))
		return;
	for (unsigned int i = 0; i < s->object_size; i++) {
		u8 want = i == s->object_size - 1 ? POISON_END : POISON_FREE;

		if (p[i] != want) {
			slab_err(s, "kmem_cache_alloc", object, "poison overwritten (use after free)");
			return;
		}
	}
}

/* ---- slabs ------------------------------------------------------------- */

/* The first page of the slab holding `page` (slabs are aligned blocks). */
static struct page *slab_head(const struct kmem_cache *s, struct page *page)
{
	return pfn_to_page(page_to_pfn(page) & ~((1UL << s->order) - 1));
}

static void *slab_address(const struct page *slab)
{
	return page_to_virt(slab);
}

static struct page *allocate_slab(struct kmem_cache *s, gfp_t gfp)
{
	struct page *slab = alloc_pages(gfp & ~__GFP_ZERO, s->order);
	char *start;

	if (!slab)
		return NULL;
	for (unsigned long i = 0; i < (1UL << s->order); i++) {
		SetPageFlag(slab + i, PG_slab);
		slab[i].slab_cache = s;
	}
	start = slab_address(slab);
	for (unsigned int i = 0; i < s->objects; i++) {
		void *object = start + (size_t)i * s->size;

		if (s->ctor)
			s->ctor(object);
		poison_object(s, object);
		set_freepointer(s, object, i + 1 < s->objects ? start + (size_t)(i + 1) * s->size : NULL);
	}
	slab->freelist = start;
	slab->inuse = 0;
	slab->objects = (u16)s->objects;
	slab->frozen = false;
	s->node.nr_slabs++;
	s->node.total_objects += s->objects;
	return slab;
}

static void discard_slab(struct kmem_cache *s, struct page *slab)
{
	for (unsigned long i = 0; i < (1UL << s->order); i++) {
		ClearPageFlag(slab + i, PG_slab);
		slab[i].slab_cache = NULL;
	}
	slab->freelist = NULL;
	slab->objects = 0;
	s->node.nr_slabs--;
	s->node.total_objects -= s->objects;
	__free_pages(slab, s->order);
}

static void add_partial(struct kmem_cache *s, struct page *slab)
{
	list_add_tail(&slab->lru, &s->node.partial);
	s->node.nr_partial++;
}

static void remove_partial(struct kmem_cache *s, struct page *slab)
{
	list_del(&slab->lru);
	s->node.nr_partial--;
}

static unsigned int count_free(const struct kmem_cache *s, const void *object)
{
	unsigned int n = 0;

	for (; object && n <= s->objects; object = get_freepointer(s, object))
		n++;
	return n;
}

/* Give the CPU slab back: its free objects return to the slab, which goes
 * on the partial list (some free), no list (full) or back to the buddy
 * allocator (empty, enough partial slabs already). */
static void deactivate_slab(struct kmem_cache *s)
{
	struct kmem_cache_cpu *c = &s->cpu_slab;
	struct page *slab = c->slab;

	if (!slab)
		return;
	slab->freelist = c->freelist;
	slab->inuse = (u16)(slab->objects - count_free(s, c->freelist));
	slab->frozen = false;
	c->slab = NULL;
	c->freelist = NULL;
	if (slab->inuse == 0 && s->node.nr_partial >= MIN_PARTIAL)
		discard_slab(s, slab);
	else if (slab->freelist)
		add_partial(s, slab);
}

/* Slow path: the CPU slab is empty. Take a partial slab, or a new one. */
static bool __slab_alloc(struct kmem_cache *s, gfp_t gfp)
{
	struct kmem_cache_cpu *c = &s->cpu_slab;
	struct page *slab;

	deactivate_slab(s);
	if (!list_empty(&s->node.partial)) {
		slab = list_first_entry(&s->node.partial, struct page, lru);
		remove_partial(s, slab);
	} else {
		slab = allocate_slab(s, gfp);
		if (!slab)
			return false;
	}
	c->slab = slab;
	c->freelist = slab->freelist;
	slab->freelist = NULL;
	slab->inuse = slab->objects;
	slab->frozen = true;
	return true;
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	struct kmem_cache_cpu *c = &s->cpu_slab;
	void *object = c->freelist;

	if (!object) {
		if (!__slab_alloc(s, gfp))
			return NULL;
		object = c->freelist;
	}
	c->freelist = get_freepointer(s, object); /* the fast path: one pop */
	check_poison(s, object);
	if (gfp & __GFP_ZERO)
		memset(object, 0, s->object_size);
	return object;
}

/* ---- freeing ------------------------------------------------------------ */

static bool on_freelist(const struct kmem_cache *s, const void *freelist, const void *x)
{
	unsigned int n = 0;

	for (const void *p = freelist; p && n <= s->objects; p = get_freepointer(s, p), n++)
		if (p == x)
			return true;
	return false;
}

/* The page of a direct-map address, or NULL if x is not one. */
static struct page *direct_map_page(const void *x)
{
	unsigned long va = (unsigned long)x;

	if (va < PAGE_OFFSET || va >= __START_KERNEL_map || !pfn_valid(PFN_DOWN(va - PAGE_OFFSET)))
		return NULL;
	return virt_to_page(x);
}

/* Is x an allocated object of s? Reports the reason when it is not. */
static struct page *check_free(struct kmem_cache *s, void *x)
{
	struct page *page = direct_map_page(x);
	struct page *slab;

	if (!page || !PageFlag(page, PG_slab) || page->slab_cache != s) {
		slab_err(s, "kmem_cache_free", x, "not an object of this cache (bad pointer)");
		return NULL;
	}
	slab = slab_head(s, page);
	if (((char *)x - (char *)slab_address(slab)) % s->size) {
		slab_err(s, "kmem_cache_free", x, "pointer not at the start of an object");
		return NULL;
	}
	if (on_freelist(s, slab->frozen ? s->cpu_slab.freelist : slab->freelist, x)) {
		slab_err(s, "kmem_cache_free", x, "double free");
		return NULL;
	}
	return slab;
}

void kmem_cache_free(struct kmem_cache *s, void *x)
{
	struct kmem_cache_cpu *c = &s->cpu_slab;
	struct page *slab = x ? check_free(s, x) : NULL;
	bool was_full;

	if (!slab)
		return;
	poison_object(s, x);
	if (slab == c->slab) { /* fast path: push on the CPU freelist */
		set_freepointer(s, x, c->freelist);
		c->freelist = x;
		return;
	}
	was_full = !slab->freelist;
	set_freepointer(s, x, slab->freelist);
	slab->freelist = x;
	slab->inuse--;
	if (slab->inuse == 0 && s->node.nr_partial >= MIN_PARTIAL) {
		if (!was_full)
			remove_partial(s, slab);
		discard_slab(s, slab);
	} else if (was_full) {
		add_partial(s, slab);
	}
}

/* ---- caches ------------------------------------------------------------- */

/* Object layout: with a ctor or poisoning the free pointer goes after the
 * object (the object's bytes must stay as the ctor or poison left them);
 * otherwise it overlays the object's first word. Slab order: the smallest
 * giving SLAB_MIN_OBJECTS objects, at most SLAB_MAX_ORDER. */
static bool calculate_sizes(struct kmem_cache *s)
{
	unsigned int align = MAX(s->align, (unsigned int)sizeof(void *));

	if (s->flags & SLAB_HWCACHE_ALIGN)
		align = MAX(align, (unsigned int)CACHE_LINE_SIZE);
	if (s->ctor || (s->flags & SLAB_POISON)) {
		s->offset = ALIGN_UP(s->object_size, (unsigned int)sizeof(void *));
		s->size = s->offset + (unsigned int)sizeof(void *);
	} else {
		s->offset = 0;
		s->size = MAX(s->object_size, (unsigned int)sizeof(void *));
	}
	s->size = ALIGN_UP(s->size, align);
	s->align = align;
	for (s->order = 0; s->order < SLAB_MAX_ORDER; s->order++)
		if ((PAGE_SIZE << s->order) / s->size >= SLAB_MIN_OBJECTS)
			break;
	s->objects = (PAGE_SIZE << s->order) / s->size;
	return s->objects > 0;
}

static bool cache_init(struct kmem_cache *s, const char *name, unsigned int size,
		       unsigned int align, unsigned int flags, void (*ctor)(void *))
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->object_size = size;
	s->align = align;
	s->flags = flags;
	s->ctor = ctor;
	if (!size || (align & (align - 1)) || !calculate_sizes(s))
		return false;
	INIT_LIST_HEAD(&s->node.partial);
	list_add_tail(&s->list, &slab_caches);
	return true;
}

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned int flags, void (*ctor)(void *))
{
	struct kmem_cache *s = kmem_cache_alloc(&kmem_cache_boot, GFP_KERNEL);

	if (s && !cache_init(s, name, size, align, flags, ctor)) {
		kmem_cache_free(&kmem_cache_boot, s);
		s = NULL;
	}
	if (!s && (flags & SLAB_PANIC))
		panic("kmem_cache_create: cannot create cache %s", name);
	return s;
}

void kmem_cache_destroy(struct kmem_cache *s)
{
	struct page *slab;

	if (!s)
		return;
	deactivate_slab(s);
	for (struct list_head *l = s->node.partial.next; l != &s->node.partial; l = l->next) {
		if (list_entry(l, struct page, lru)->inuse) {
			slab_err(s, "kmem_cache_destroy", s, "objects remaining in the cache");
			return;
		}
	}
	while (!list_empty(&s->node.partial)) {
		slab = list_first_entry(&s->node.partial, struct page, lru);
		remove_partial(s, slab);
		discard_slab(s, slab);
	}
	if (s->node.nr_slabs) { /* full slabs are on no list */
		slab_err(s, "kmem_cache_destroy", s, "objects remaining in the cache");
		return;
	}
	list_del(&s->list);
	kmem_cache_free(&kmem_cache_boot, s);
}

void kmem_cache_init(void)
{
	INIT_LIST_HEAD(&slab_caches);
	if (!cache_init(&kmem_cache_boot, "kmem_cache", sizeof(struct kmem_cache), 0,
			SLAB_HWCACHE_ALIGN, NULL))
		panic("kmem_cache_init: bootstrap cache");
	for (size_t i = 0; i < ARRAY_SIZE(kmalloc_sizes); i++)
		kmalloc_caches[i] = kmem_cache_create(kmalloc_names[i], kmalloc_sizes[i], 0,
						      SLAB_POISON | SLAB_PANIC, NULL);
}

/* ---- kmalloc ------------------------------------------------------------ */

static unsigned int get_order(size_t size)
{
	unsigned int order = 0;

	while (((size_t)PAGE_SIZE << order) < size)
		order++;
	return order;
}

void *kmalloc(size_t size, gfp_t gfp)
{
	if (!size)
		return ZERO_SIZE_PTR;
	if (size > KMALLOC_MAX_CACHE_SIZE) { /* kmalloc_large: whole pages */
		struct page *page = alloc_pages(gfp, get_order(size));

		return page ? page_to_virt(page) : NULL;
	}
	for (size_t i = 0;; i++)
		if (kmalloc_sizes[i] >= size)
			return kmem_cache_alloc(kmalloc_caches[i], gfp);
}

void *kzalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp | __GFP_ZERO);
}

void kfree(const void *x)
{
	struct page *page;

	if ((unsigned long)x <= (unsigned long)ZERO_SIZE_PTR)
		return;
	page = direct_map_page(x);
	if (page && PageFlag(page, PG_slab)) {
		kmem_cache_free(page->slab_cache, (void *)x);
	} else if (page && PageFlag(page, PG_head) && x == page_to_virt(page)) {
		__free_pages(page, (unsigned int)page->private);
	} else {
		slab_err(NULL, "kfree", x, "not a kmalloc pointer");
	}
}

/* ---- /proc/slabinfo ----------------------------------------------------- */

static unsigned long free_objects(const struct kmem_cache *s)
{
	unsigned long n = count_free(s, s->cpu_slab.freelist);

	for (const struct list_head *l = s->node.partial.next; l != &s->node.partial; l = l->next) {
		const struct page *slab = list_entry(l, struct page, lru);

		n += slab->objects - slab->inuse;
	}
	return n;
}

unsigned long slab_pages(void)
{
	unsigned long n = 0;

	for (const struct list_head *l = slab_caches.next; l != &slab_caches; l = l->next) {
		const struct kmem_cache *s = list_entry(l, struct kmem_cache, list);

		n += s->node.nr_slabs << s->order;
	}
	return n;
}

/* Linux mm/slab_common.c cache_show(), SLUB flavour: no tunables, every
 * slab counted as active. */
void show_slabinfo(void)
{
	pr_info("slabinfo - version: 2.1\n");
	pr_info("# name            <active_objs> <num_objs> <objsize> <objperslab> "
		"<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
		"<active_slabs> <num_slabs> <sharedavail>\n");
	for (const struct list_head *l = slab_caches.next; l != &slab_caches; l = l->next) {
		const struct kmem_cache *s = list_entry(l, struct kmem_cache, list);

		pr_info("%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu\n",
			s->name, s->node.total_objects - free_objects(s), s->node.total_objects,
			s->size, s->objects, 1 << s->order, 0u, 0u, 0u, s->node.nr_slabs,
			s->node.nr_slabs, 0UL);
	}
}
