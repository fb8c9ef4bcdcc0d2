/* touch [MiB]: allocate MiB mebibytes (default 4), read one byte per
 * page (each untouched page reads as the shared zero page), then write
 * every page (each write fault gets a fresh page) and print a checksum
 * of what it reads back. Exit status 0 when the checksum is right. */
#include "guestos/user/ulib.h"

static unsigned long page_value(unsigned long i)
{
	return i * 2654435761UL + 1;
}

int main(int argc, char **argv)
{
	unsigned long mib = atoul(argc > 1 ? argv[1] : NULL, 4);
	unsigned long pages = mib * 256, zeros = 0, sum = 0, want = 0;
	volatile unsigned long *buf = malloc(mib << 20);

	if (!buf) {
		printf("touch: cannot allocate %lu MiB\n", mib);
		return 1;
	}
	printf("touch: %lu MiB, %lu pages\n", mib, pages);
	for (unsigned long i = 0; i < pages; i++)
		zeros += buf[i * PAGE_SIZE / sizeof *buf] == 0;
	printf("touch: read %lu pages, %lu read as zero\n", pages, zeros);
	for (unsigned long i = 0; i < pages; i++)
		buf[i * PAGE_SIZE / sizeof *buf] = page_value(i);
	for (unsigned long i = 0; i < pages; i++) {
		sum += buf[i * PAGE_SIZE / sizeof *buf];
		want += page_value(i);
	}
	printf("touch: wrote %lu pages, checksum 0x%lx (%s)\n", pages, sum,
	       sum == want ? "ok" : "WRONG");
	free((void *)buf);
	return sum == want ? 0 : 1;
}
