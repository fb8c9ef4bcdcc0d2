/* Self-tests of the slab allocator and kmalloc. */
#include "guestos/kernel/selftest.h"
#include "guestos/lib/string.h"
#include "guestos/mm/slab.h"

/* Linux's kmalloc size classes, written out independently of slub.c. */
static const unsigned int size_classes[] = {8, 16, 32, 64, 96, 128, 192, 256,
					    512, 1024, 2048, 4096, 8192};

/* kmalloc(size) for size = every class and one past it (and 1): the
 * object is writable, aligned, and from exactly the smallest class that
 * holds it. */
static const char *kmalloc_one_size(size_t size)
{
	unsigned int want = 0;
	u8 *p;

	for (size_t i = 0; i < ARRAY_SIZE(size_classes) && !want; i++)
		if (size_classes[i] >= size)
			want = size_classes[i];
	p = kmalloc(size, GFP_KERNEL);
	if (!p)
		return "kmalloc failed";
	if (!PageFlag(virt_to_page(p), PG_slab) || virt_to_page(p)->slab_cache->object_size != want)
		return "object not from the smallest class that holds it";
	if ((unsigned long)p % sizeof(void *))
		return "object not aligned";
	memset(p, 0x5a, size);
	kfree(p);
	return NULL;
}

static const char *test_kmalloc_sizes(void)
{
	const char *err = kmalloc_one_size(1);

	for (size_t i = 0; i < ARRAY_SIZE(size_classes) && !err; i++) {
		err = kmalloc_one_size(size_classes[i]);
		if (!err && size_classes[i] < KMALLOC_MAX_CACHE_SIZE)
			err = kmalloc_one_size(size_classes[i] + 1);
	}
	return err;
}

/* Above 8192 bytes kmalloc hands out whole pages, and kfree returns them. */
static const char *test_kmalloc_large(void)
{
	unsigned long before;
	void *p;

	drain_all_pages();
	before = nr_free_pages();
	p = kmalloc(3 * PAGE_SIZE, GFP_KERNEL);
	if (!p || ((unsigned long)p & (PAGE_SIZE - 1)))
		return "large kmalloc failed or not page-aligned";
	kfree(p);
	drain_all_pages();
	return nr_free_pages() == before ? NULL : "large kfree did not return the pages";
}

static const char *test_kzalloc(void)
{
	u8 *p = kmalloc(100, GFP_KERNEL);

	if (!p)
		return "kmalloc failed";
	memset(p, 0xff, 100);
	kfree(p);
	p = kzalloc(100, GFP_KERNEL);
	if (!p)
		return "kzalloc failed";
	for (int i = 0; i < 100; i++)
		if (p[i])
			return "kzalloc returned non-zero bytes";
	kfree(p);
	return NULL;
}

#define CTOR_MAGIC 0x1234abcdu

static void test_ctor(void *object)
{
	*(u32 *)object = CTOR_MAGIC;
}

/* The constructor runs when a slab is made; objects come back as the user
 * left them constructed (no poisoning in a cache with a ctor). */
static const char *test_ctor_and_lifecycle(void)
{
	struct kmem_cache *s = kmem_cache_create("selftest_ctor", 200, 0, 0, test_ctor);
	u32 *objs[40];
	unsigned long errors = slab_error_count();

	if (!s)
		return "kmem_cache_create failed";
	for (int i = 0; i < 40; i++) {
		objs[i] = kmem_cache_alloc(s, GFP_KERNEL);
		if (!objs[i] || *objs[i] != CTOR_MAGIC)
			return "object missing or not constructed";
	}
	if (s->node.nr_slabs < 2)
		return "40 objects of 200 bytes fit in one slab";
	kmem_cache_destroy(s); /* refused: objects are live */
	if (slab_error_count() != errors + 1)
		return "destroying a cache with live objects was not reported";
	for (int i = 0; i < 40; i++)
		kmem_cache_free(s, objs[i]);
	objs[0] = kmem_cache_alloc(s, GFP_KERNEL);
	if (*objs[0] != CTOR_MAGIC)
		return "a reused object lost its constructed state";
	kmem_cache_free(s, objs[0]);
	kmem_cache_destroy(s);
	return slab_error_count() == errors + 1 ? NULL : "unexpected slab error";
}

/* A freed kmalloc object is filled with POISON_FREE (last byte
 * POISON_END); writing to it after the free is reported when the object
 * is handed out again. */
static const char *test_poison(void)
{
	u8 *p = kmalloc(64, GFP_KERNEL), *q;
	unsigned long errors = slab_error_count();

	if (!p)
		return "kmalloc failed";
	kfree(p);
	for (int i = 0; i < 63; i++)
		if (p[i] != POISON_FREE)
			return "freed object not poisoned";
	if (p[63] != POISON_END)
		return "freed object's last byte not POISON_END";
	p[10] = 0; /* use after free */
	q = kmalloc(64, GFP_KERNEL);
	if (q != p)
		return "the CPU freelist did not return the last freed object";
	if (slab_error_count() != errors + 1)
		return "overwritten poison was not reported";
	kfree(q);
	return NULL;
}

/* A double free is reported and ignored: the freelist stays sound. */
static const char *test_double_free(void)
{
	void *p = kmalloc(32, GFP_KERNEL), *a, *b;
	unsigned long errors = slab_error_count();

	if (!p)
		return "kmalloc failed";
	kfree(p);
	kfree(p);
	if (slab_error_count() != errors + 1)
		return "double free not reported";
	a = kmalloc(32, GFP_KERNEL);
	b = kmalloc(32, GFP_KERNEL);
	kfree(a);
	kfree(b);
	if (!a || !b || a == b)
		return "freelist corrupted by the double free";
	return NULL;
}

/* Pointers that are not objects are reported and ignored. */
static const char *test_bad_pointer(void)
{
	char *p = kmalloc(64, GFP_KERNEL), *other = kmalloc(16, GFP_KERNEL);
	int on_stack;
	unsigned long errors = slab_error_count();

	if (!p || !other) {
		kfree(p);
		kfree(other);
		return "kmalloc failed";
	}
	kfree(p + 1);
	kfree(&on_stack);
	kmem_cache_free(virt_to_page(other)->slab_cache, p);
	if (slab_error_count() != errors + 3)
		return "a bad pointer was not reported";
	kfree(p);
	kfree(other);
	return slab_error_count() == errors + 3 ? NULL : "a good free was reported";
}

const struct selftest slab_selftests[] = {
	{"slab_kmalloc_sizes", test_kmalloc_sizes},
	{"slab_kmalloc_large", test_kmalloc_large},
	{"slab_kzalloc", test_kzalloc},
	{"slab_ctor_and_lifecycle", test_ctor_and_lifecycle},
	{"slab_poison", test_poison},
	{"slab_double_free", test_double_free},
	{"slab_bad_pointer", test_bad_pointer},
};
const size_t nr_slab_selftests = ARRAY_SIZE(slab_selftests);
