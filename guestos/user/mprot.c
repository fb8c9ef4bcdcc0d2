/* mprot: map four pages, write them, make the second read-only, unmap
 * the fourth, and show the VMAs after each step through the report
 * system call (the mapping splits into areas with different
 * permissions). Exit status 0 when every call succeeded. */
#include "guestos/user/ulib.h"

static void show_maps(const char *when)
{
	printf("mprot: maps %s\n", when);
	long r = mmulab_report(REPORT_MAPS);
	if (r < 0)
		printf("mprot: no maps report (%ld)\n", r);
}

int main(void)
{
	size_t len = 4 * PAGE_SIZE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (sys_failed((long)p)) {
		printf("mprot: mmap failed: %ld\n", (long)p);
		return 1;
	}
	memset(p, 'x', len);
	printf("mprot: mapped and wrote 4 pages\n");
	show_maps("after mmap");
	int r1 = mprotect(p + PAGE_SIZE, PAGE_SIZE, PROT_READ);
	printf("mprot: mprotect(page 1, PROT_READ) = %d, page 1 reads '%c'\n", r1, p[PAGE_SIZE]);
	show_maps("after mprotect");
	int r2 = munmap(p + 3 * PAGE_SIZE, PAGE_SIZE);
	printf("mprot: munmap(page 3) = %d\n", r2);
	show_maps("after munmap");
	int r3 = mprotect(p, 4 * PAGE_SIZE, PROT_READ);
	printf("mprot: mprotect over the hole = %d (ENOMEM expected)\n", r3);
	int r4 = munmap(p, 3 * PAGE_SIZE);
	printf("mprot: munmap(pages 0-2) = %d\n", r4);
	return r1 || r2 || r3 != -ENOMEM || r4;
}
