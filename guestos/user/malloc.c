/* malloc/free. Small blocks come from the heap that brk grows (at least
 * HEAP_GROW bytes at a time) and go back on a first-fit free list,
 * split when much larger than asked; blocks of MMAP_THRESHOLD bytes or
 * more get their own anonymous mapping, unmapped by free. Every block
 * starts with a 16-byte header, so user pointers are 16-byte aligned. */
#include "guestos/user/ulib.h"

#define HEAP_GROW (64 * 1024)
#define ALIGNMENT 16

struct block {
	size_t size;        /* bytes, header included */
	struct block *next; /* on the free list */
	bool mmapped;
};
#define HDR ((sizeof(struct block) + ALIGNMENT - 1) & ~(size_t)(ALIGNMENT - 1))

static struct block *free_list;
static unsigned long heap_end; /* the current break */

static size_t round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

static void *map_block(size_t size)
{
	size = round_up(size, PAGE_SIZE);
	struct block *b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sys_failed((long)b))
		return NULL;
	b->size = size;
	b->mmapped = true;
	return (char *)b + HDR;
}

/* Grow the heap by at least size bytes; the new space joins the free list. */
static bool grow_heap(size_t size)
{
	if (!heap_end)
		heap_end = brk(0);
	size = round_up(size > HEAP_GROW ? size : HEAP_GROW, PAGE_SIZE);
	unsigned long old = heap_end;
	if (brk(old + size) != old + size)
		return false;
	heap_end = old + size;
	struct block *b = (struct block *)old;
	b->size = size;
	b->mmapped = false;
	b->next = free_list;
	free_list = b;
	return true;
}

/* Take the first free block of at least size bytes, splitting off the rest. */
static void *take_free(size_t size)
{
	for (struct block **pp = &free_list; *pp; pp = &(*pp)->next) {
		struct block *b = *pp;
		if (b->size < size)
			continue;
		if (b->size >= size + HDR + ALIGNMENT) {
			struct block *rest = (struct block *)((char *)b + size);
			rest->size = b->size - size;
			rest->mmapped = false;
			rest->next = b->next;
			b->size = size;
			*pp = rest;
		} else {
			*pp = b->next;
		}
		return (char *)b + HDR;
	}
	return NULL;
}

void *malloc(size_t n)
{
	size_t size = round_up(n + HDR, ALIGNMENT);

	if (n == 0 || size < n)
		return NULL;
	if (size >= MMAP_THRESHOLD)
		return map_block(size);
	void *p = take_free(size);
	if (!p && grow_heap(size))
		p = take_free(size);
	return p;
}

void *calloc(size_t nmemb, size_t size)
{
	if (size && nmemb > (size_t)-1 / size)
		return NULL;
	void *p = malloc(nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

void free(void *p)
{
	if (!p)
		return;
	struct block *b = (struct block *)((char *)p - HDR);
	if (b->mmapped) {
		munmap(b, b->size);
		return;
	}
	b->next = free_list;
	free_list = b;
}
