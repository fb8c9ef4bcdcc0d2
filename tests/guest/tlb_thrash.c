/* A TLB-thrashing loop: more 4-KiB pages than the L1 DTLB holds (they
 * then hit in the L2 TLB), more 2-MiB pages than its 2-MiB structure
 * holds, and INVLPG of a few pages every round so those walk again
 * (through the paging-structure caches). A write to each page of a second
 * set sets their dirty flags. The output is a checksum of the values read,
 * the same on every run. */
#include "guest.h"

#define SMALL_PAGES 128            /* twice the Skylake-like L1 DTLB's 64 entries */
#define LARGE_PAGES 48             /* 2-MiB pages 1..48: past the 32-entry structure */
#define LARGE_PAGE (2ull << 20)
#define ROUNDS 40
#define INVLPG_EVERY 16            /* every 16th small page is invalidated each round */

static uint8_t small[SMALL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	uint64_t sum = 0;
	idt_init();
	for (unsigned i = 0; i < SMALL_PAGES; i++)
		small[i][i] = (uint8_t)i;
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned i = 0; i < SMALL_PAGES; i++)
			sum += *(volatile uint8_t *)&small[i][i];
		for (unsigned i = 1; i <= LARGE_PAGES; i++)
			sum += *(volatile uint8_t *)(uintptr_t)(i * LARGE_PAGE + r * 64);
		for (unsigned i = 0; i < SMALL_PAGES; i += INVLPG_EVERY)
			invlpg((uint64_t)small[i]);
	}
	puts_serial("tlb thrash checksum ");
	put_hex(sum);
	puts_serial("\n");
	guest_exit(0);
}
