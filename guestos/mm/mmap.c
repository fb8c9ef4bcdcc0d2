/* Address spaces and their VMAs (Linux mm/mmap.c, kernel/fork.c): the
 * mm_struct life cycle, the VMA tree and list, merging and splitting,
 * mmap, munmap, brk and the stack.
 *
 * Every mm keeps its VMAs twice: in a red-black tree keyed by vm_start
 * (find_vma in O(log n)) and in a list in address order (walks, and the
 * neighbours for merging). Both always hold the same VMAs, which never
 * overlap. */
#include "guestos/mm/mmap.h"

#include "guestos/kernel/printk.h"
#include "guestos/lib/string.h"
#include "guestos/lib/vsprintf.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/slab.h"

struct mm_struct init_mm;
struct mm_struct *active_mm = &init_mm;

static struct kmem_cache *mm_cachep;
static struct kmem_cache *vm_area_cachep;

extern u8 empty_zero_page[PAGE_SIZE];

static void mm_init_vmas(struct mm_struct *mm)
{
	mm->mm_rb = RB_ROOT;
	INIT_LIST_HEAD(&mm->mmap_list);
	mm->map_count = 0;
	mm->mmap_base = TASK_UNMAPPED_BASE;
	mm->mm_users = 1;
}

void mm_init(void)
{
	if (mm_cachep)
		return; /* once */
	init_mm.pgd = swapper_pg_dir;
	mm_init_vmas(&init_mm);
	empty_zero_page_pfn = PFN_DOWN(__pa(empty_zero_page));
	mm_cachep = kmem_cache_create("mm_struct", sizeof(struct mm_struct), 0, 0, NULL);
	vm_area_cachep = kmem_cache_create("vm_area_struct", sizeof(struct vm_area_struct), 0, 0, NULL);
	if (!mm_cachep || !vm_area_cachep)
		panic("mm_init: cannot create the mm caches");
}

/* ---- the VMA tree and list ------------------------------------------ */

static struct vm_area_struct *vma_of(struct rb_node *node)
{
	return node ? rb_entry(node, struct vm_area_struct, vm_rb) : NULL;
}

static struct vm_area_struct *vma_next(struct mm_struct *mm, struct vm_area_struct *vma)
{
	return vma->vm_list.next == &mm->mmap_list ? NULL
		: list_entry(vma->vm_list.next, struct vm_area_struct, vm_list);
}

static struct vm_area_struct *vma_prev(struct mm_struct *mm, struct vm_area_struct *vma)
{
	return vma->vm_list.prev == &mm->mmap_list ? NULL
		: list_entry(vma->vm_list.prev, struct vm_area_struct, vm_list);
}

static struct vm_area_struct *vma_last(struct mm_struct *mm)
{
	return list_empty(&mm->mmap_list) ? NULL
		: list_entry(mm->mmap_list.prev, struct vm_area_struct, vm_list);
}

struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	struct rb_node *node = mm->mm_rb.rb_node;
	struct vm_area_struct *found = NULL;

	while (node) {
		struct vm_area_struct *vma = vma_of(node);

		if (vma->vm_end > addr) {
			found = vma;
			if (vma->vm_start <= addr)
				break;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return found;
}

struct vm_area_struct *find_vma_prev(struct mm_struct *mm, unsigned long addr,
				     struct vm_area_struct **pprev)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	*pprev = vma ? vma_prev(mm, vma) : vma_last(mm);
	return vma;
}

struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, unsigned long start,
					     unsigned long end)
{
	struct vm_area_struct *vma = find_vma(mm, start);

	return vma && vma->vm_start < end ? vma : NULL;
}

/* Insert a VMA that overlaps none: into the tree by vm_start, and into
 * the list right after its in-order predecessor. */
static void vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct rb_node **link = &mm->mm_rb.rb_node, *parent = NULL, *prev;

	while (*link) {
		parent = *link;
		link = vma->vm_start < vma_of(parent)->vm_start ? &parent->rb_left : &parent->rb_right;
	}
	rb_link_node(&vma->vm_rb, parent, link);
	rb_insert_color(&vma->vm_rb, &mm->mm_rb);
	prev = rb_prev(&vma->vm_rb);
	list_add(&vma->vm_list, prev ? &vma_of(prev)->vm_list : &mm->mmap_list);
	vma->vm_mm = mm;
	mm->map_count++;
}

/* Linux insert_vm_struct: link a VMA the caller filled in; -ENOMEM if
 * it overlaps one already there (nothing merged: see vma_merge). */
int insert_vm_struct(struct mm_struct *mm, struct vm_area_struct *vma)
{
	if (find_vma_intersection(mm, vma->vm_start, vma->vm_end))
		return -ENOMEM;
	vma_link(mm, vma);
	mm->total_vm += (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
	return 0;
}

static void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma)
{
	rb_erase(&vma->vm_rb, &mm->mm_rb);
	list_del(&vma->vm_list);
	mm->map_count--;
}

static struct vm_area_struct *vm_area_alloc(struct mm_struct *mm)
{
	struct vm_area_struct *vma = kmem_cache_alloc(vm_area_cachep, GFP_KERNEL);

	if (vma) {
		memset(vma, 0, sizeof(*vma));
		vma->vm_mm = mm;
	}
	return vma;
}

static struct vm_area_struct *vm_area_dup(struct vm_area_struct *orig)
{
	struct vm_area_struct *vma = kmem_cache_alloc(vm_area_cachep, GFP_KERNEL);

	if (vma)
		*vma = *orig;
	return vma;
}

static void vm_area_free(struct vm_area_struct *vma)
{
	kmem_cache_free(vm_area_cachep, vma);
}

static bool same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Two neighbours can become one VMA: they touch, with the same flags and
 * name (anonymous memory has no file offset to line up). */
static bool can_merge(const struct vm_area_struct *lo, const struct vm_area_struct *hi)
{
	return lo && hi && lo->vm_end == hi->vm_start && lo->vm_flags == hi->vm_flags &&
	       same_name(lo->vm_name, hi->vm_name);
}

/* Absorb hi into lo (its left neighbour). lo's key does not change. */
static void vma_absorb(struct mm_struct *mm, struct vm_area_struct *lo, struct vm_area_struct *hi)
{
	lo->vm_end = hi->vm_end;
	vma_unlink(mm, hi);
	vm_area_free(hi);
}

/* Merge vma with its neighbours where compatible (Linux vma_merge, done
 * after the fact); returns the VMA that now covers vma's range. */
struct vm_area_struct *vma_merge(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev = vma_prev(mm, vma), *next = vma_next(mm, vma);

	if (can_merge(vma, next))
		vma_absorb(mm, vma, next);
	if (can_merge(prev, vma)) {
		vma_absorb(mm, prev, vma);
		vma = prev;
	}
	return vma;
}

/* Split vma at addr (strictly inside it): vma keeps [vm_start, addr), the
 * returned new VMA gets [addr, vm_end). NULL when out of memory. */
struct vm_area_struct *__split_vma(struct mm_struct *mm, struct vm_area_struct *vma,
				   unsigned long addr)
{
	struct vm_area_struct *upper = vm_area_dup(vma);

	if (!upper)
		return NULL;
	upper->vm_start = addr;
	upper->vm_pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	vma->vm_end = addr;
	vma_link(mm, upper);
	return upper;
}

/* Make [start, end) the exact bounds of VMAs: split the ones straddling
 * either end. Returns the first VMA inside the range (or NULL). */
struct vm_area_struct *split_range(struct mm_struct *mm, unsigned long start, unsigned long end,
				   int *err)
{
	struct vm_area_struct *vma = find_vma(mm, start), *last;

	*err = 0;
	if (!vma || vma->vm_start >= end)
		return NULL;
	if (vma->vm_start < start && !(vma = __split_vma(mm, vma, start)))
		goto nomem;
	last = find_vma(mm, end - 1);
	if (last && last->vm_start < end && last->vm_end > end && !__split_vma(mm, last, end))
		goto nomem;
	return vma;
nomem:
	*err = -ENOMEM;
	return NULL;
}

/* ---- mm life cycle ---------------------------------------------------- */

struct mm_struct *mm_alloc(void)
{
	struct mm_struct *mm = kmem_cache_alloc(mm_cachep, GFP_KERNEL);

	if (!mm)
		return NULL;
	memset(mm, 0, sizeof(*mm));
	mm_init_vmas(mm);
	mm->pgd = (pgd_t *)get_zeroed_page(GFP_KERNEL);
	if (!mm->pgd) {
		kmem_cache_free(mm_cachep, mm);
		return NULL;
	}
	/* pgd_alloc: the kernel half is init_mm's. */
	memcpy(mm->pgd + KERNEL_PGD_BOUNDARY, swapper_pg_dir + KERNEL_PGD_BOUNDARY,
	       KERNEL_PGD_BOUNDARY * sizeof(pgd_t));
	return mm;
}

static void remove_vma(struct mm_struct *mm, struct vm_area_struct *vma)
{
	zap_page_range(vma, vma->vm_start, vma->vm_end);
	mm->total_vm -= (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
	vma_unlink(mm, vma);
	vm_area_free(vma);
}

static void exit_mmap(struct mm_struct *mm)
{
	struct vm_area_struct *vma;

	while ((vma = vma_last(mm)))
		remove_vma(mm, vma);
	free_pgtables(mm);
}

void mmput(struct mm_struct *mm)
{
	if (!mm || mm == &init_mm || --mm->mm_users > 0)
		return;
	if (mm == active_mm)
		switch_mm(NULL);
	exit_mmap(mm);
	if (mm->rss || mm->nr_ptes)
		pr_err("mmput: %lu pages and %lu page tables left\n", mm->rss, mm->nr_ptes);
	free_page((unsigned long)mm->pgd);
	kmem_cache_free(mm_cachep, mm);
}

struct mm_struct *dup_mm(struct mm_struct *oldmm)
{
	struct mm_struct *mm = mm_alloc();
	struct list_head *pos;

	if (!mm)
		return NULL;
	mm->mmap_base = oldmm->mmap_base;
	mm->start_code = oldmm->start_code;
	mm->end_code = oldmm->end_code;
	mm->start_data = oldmm->start_data;
	mm->end_data = oldmm->end_data;
	mm->start_brk = oldmm->start_brk;
	mm->brk = oldmm->brk;
	mm->start_stack = oldmm->start_stack;
	mm->stack_limit = oldmm->stack_limit;
	for (pos = oldmm->mmap_list.next; pos != &oldmm->mmap_list; pos = pos->next) {
		struct vm_area_struct *vma = list_entry(pos, struct vm_area_struct, vm_list);
		struct vm_area_struct *copy = vm_area_dup(vma);

		if (!copy)
			goto fail;
		if (insert_vm_struct(mm, copy)) {
			vm_area_free(copy);
			goto fail;
		}
		if (copy_page_range(mm, oldmm, vma))
			goto fail;
	}
	return mm;
fail:
	mmput(mm);
	return NULL;
}

void switch_mm(struct mm_struct *next)
{
	if (!next)
		next = &init_mm;
	active_mm = next;
	write_cr3(__pa(next->pgd));
}

/* ---- mmap, munmap, brk, the stack -------------------------------------- */

static bool range_ok(unsigned long addr, unsigned long len)
{
	return addr >= MMAP_MIN_ADDR && len <= TASK_SIZE && addr <= TASK_SIZE - len;
}

/* A free range of len bytes: the hint if it is free, else the highest gap
 * below mm->mmap_base (Linux's top-down arch_get_unmapped_area). 0 when
 * there is none. */
static unsigned long get_unmapped_area(struct mm_struct *mm, unsigned long hint,
				       unsigned long len)
{
	unsigned long top = mm->mmap_base;
	struct vm_area_struct *vma;

	if (hint && !(hint & ~PAGE_MASK) && range_ok(hint, len) &&
	    !find_vma_intersection(mm, hint, hint + len))
		return hint;
	for (vma = vma_last(mm); top >= MMAP_MIN_ADDR + len; vma = vma_prev(mm, vma)) {
		if (!vma || vma->vm_end <= top - len)
			return top - len;
		top = MIN(top, vma->vm_start);
	}
	return 0;
}

/* Create the VMA [addr, addr+len) (free) and merge it with neighbours. */
static struct vm_area_struct *mmap_region(struct mm_struct *mm, unsigned long addr,
					  unsigned long len, unsigned long vm_flags,
					  const char *name)
{
	struct vm_area_struct *vma = vm_area_alloc(mm);

	if (!vma)
		return NULL;
	vma->vm_start = addr;
	vma->vm_end = addr + len;
	vma->vm_flags = vm_flags;
	vma->vm_pgoff = addr >> PAGE_SHIFT;
	vma->vm_name = name;
	if (insert_vm_struct(mm, vma)) {
		vm_area_free(vma);
		return NULL;
	}
	return vma_merge(mm, vma);
}

static unsigned long calc_vm_prot_bits(unsigned long prot)
{
	return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
	       (prot & PROT_EXEC ? VM_EXEC : 0);
}

/* Shared anonymous memory has no file to find its pages by offset, so
 * every page is allocated at mmap time: fork then shares frames that
 * already exist. */
static int populate_shared(struct mm_struct *mm, unsigned long addr, unsigned long len)
{
	for (unsigned long a = addr; a < addr + len; a += PAGE_SIZE)
		if (handle_mm_fault(find_vma(mm, a), a, 0))
			return -ENOMEM;
	return 0;
}

long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned long prot,
	     unsigned long flags, const char *name)
{
	unsigned long type = flags & MAP_TYPE;
	unsigned long vm_flags = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | calc_vm_prot_bits(prot);

	if (!len || (prot & ~(unsigned long)(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS) || (type != MAP_PRIVATE && type != MAP_SHARED))
		return -EINVAL;
	if (len > TASK_SIZE)
		return -ENOMEM;
	len = ALIGN_UP(len, (unsigned long)PAGE_SIZE);
	if (type == MAP_SHARED)
		vm_flags |= VM_SHARED | VM_MAYSHARE;
	if (flags & MAP_GROWSDOWN)
		vm_flags |= VM_GROWSDOWN;
	if (flags & MAP_FIXED) {
		if (addr & ~PAGE_MASK)
			return -EINVAL;
		if (!range_ok(addr, len))
			return -ENOMEM;
		if (do_munmap(mm, addr, len))
			return -ENOMEM;
	} else if (!(addr = get_unmapped_area(mm, addr, len))) {
		return -ENOMEM;
	}
	if (!mmap_region(mm, addr, len, vm_flags, name))
		return -ENOMEM;
	if (type == MAP_SHARED && populate_shared(mm, addr, len)) {
		(void)do_munmap(mm, addr, len);
		return -ENOMEM;
	}
	return (long)addr;
}

int do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	unsigned long end;
	struct vm_area_struct *vma;
	int err;

	if ((start & ~PAGE_MASK) || !len || len > TASK_SIZE || start > TASK_SIZE - len)
		return -EINVAL;
	end = start + ALIGN_UP(len, (unsigned long)PAGE_SIZE);
	vma = split_range(mm, start, end, &err);
	while (vma && vma->vm_start < end) {
		struct vm_area_struct *next = vma_next(mm, vma);

		remove_vma(mm, vma);
		vma = next;
	}
	free_pgd_range(mm, start, end);
	return err;
}

unsigned long do_brk(struct mm_struct *mm, unsigned long newbrk)
{
	unsigned long oldend = ALIGN_UP(mm->brk, (unsigned long)PAGE_SIZE);
	unsigned long newend = ALIGN_UP(newbrk, (unsigned long)PAGE_SIZE);

	if (newbrk < mm->start_brk || newbrk > TASK_SIZE)
		return mm->brk;
	if (newend < oldend) {
		if (do_munmap(mm, newend, oldend - newend))
			return mm->brk;
	} else if (newend > oldend) {
		/* The heap may not run into the next mapping (Linux keeps a
		 * guard page below the stack: so does this). */
		if (find_vma_intersection(mm, oldend, newend + PAGE_SIZE) ||
		    !mmap_region(mm, oldend, newend - oldend,
				 VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC, "[heap]"))
			return mm->brk;
	}
	mm->brk = newbrk;
	return newbrk;
}

int setup_user_stack(struct mm_struct *mm, unsigned long top, unsigned long size_limit)
{
	const unsigned long flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC |
				    VM_GROWSDOWN;

	if ((top & ~PAGE_MASK) || !range_ok(top - PAGE_SIZE, PAGE_SIZE) || size_limit < PAGE_SIZE ||
	    find_vma_intersection(mm, top - PAGE_SIZE, top))
		return -EINVAL;
	if (!mmap_region(mm, top - PAGE_SIZE, PAGE_SIZE, flags, "[stack]"))
		return -ENOMEM;
	mm->start_stack = top;
	mm->stack_limit = size_limit > top ? 0 : top - size_limit;
	return 0;
}

/* Grow a VM_GROWSDOWN VMA down to addr's page: not below the mm's stack
 * limit, not into the mapping below (a gap of one page stays). Lowering
 * vm_start keeps the tree ordered, so the VMA stays where it is. */
int expand_stack(struct vm_area_struct *vma, unsigned long addr)
{
	struct mm_struct *mm = vma->vm_mm;
	struct vm_area_struct *prev = vma_prev(mm, vma);

	addr &= PAGE_MASK;
	if (!(vma->vm_flags & VM_GROWSDOWN) || addr < mm->stack_limit || addr < MMAP_MIN_ADDR ||
	    vma->vm_end - addr > STACK_SIZE_LIMIT)
		return -ENOMEM;
	if (prev && prev->vm_end + PAGE_SIZE > addr)
		return -ENOMEM;
	if (addr < vma->vm_start) {
		mm->total_vm += (vma->vm_start - addr) >> PAGE_SHIFT;
		vma->vm_start = addr;
		vma->vm_pgoff = addr >> PAGE_SHIFT;
		vm_events.stack_expands++;
	}
	return 0;
}

/* ---- /proc/PID/maps ----------------------------------------------------- */

/* fs/proc/task_mmu.c show_map_vma(): start-end, rwx and p/s, the file
 * offset, device and inode (0 for anonymous memory), then the name padded
 * out to column 73 (25 + 6 * sizeof(void *) - 1 characters, then one
 * space). Lines without a name end with a space after the inode. */
#define MAPS_NAME_COLUMN (25 + 6 * 8 - 1)

static void show_map_vma(const struct vm_area_struct *vma)
{
	char line[160];
	unsigned long f = vma->vm_flags;
	int n = snprintf(line, sizeof(line), "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
			 vma->vm_start, vma->vm_end, f & VM_READ ? 'r' : '-', f & VM_WRITE ? 'w' : '-',
			 f & VM_EXEC ? 'x' : '-', f & VM_MAYSHARE ? 's' : 'p', 0UL, 0, 0, 0UL);

	if (vma->vm_name)
		pr_info("%s%*s%s\n", line, n < MAPS_NAME_COLUMN ? MAPS_NAME_COLUMN - n + 1 : 1, " ",
			vma->vm_name);
	else
		pr_info("%s\n", line);
}

void show_map(struct mm_struct *mm, int pid)
{
	struct list_head *pos;

	for (pos = mm->mmap_list.next; pos != &mm->mmap_list; pos = pos->next)
		show_map_vma(list_entry(pos, struct vm_area_struct, vm_list));
}
