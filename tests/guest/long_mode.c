/* The boot path itself: boot.S built the page tables and entered 64-bit
 * mode; check that we are there (CS.L via a 64-bit register operation,
 * EFER.LMA) and say so. */
#include "guest.h"

#define MSR_EFER 0xC0000080u
#define EFER_LMA (1u << 10)
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
	uint64_t wide = 1ull << 40;
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC || !(lo & EFER_LMA) || (wide >> 40) != 1)
		guest_exit(0x10);
	puts_serial("long mode ok\n");
	guest_exit(0);
}
