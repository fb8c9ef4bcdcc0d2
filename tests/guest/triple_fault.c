/* A triple fault: with an empty IDT, INT3 raises #GP (the gate is beyond
 * the IDT limit), delivering #GP raises #GP again, which becomes #DF, and
 * delivering #DF faults too: shutdown (SDM Vol. 3A §6.15, interrupt 8). */
#include "guest.h"

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } empty = { 0, 0 };
	puts_serial("before triple fault\n");
	__asm__ volatile("lidt %0\n\tint3" :: "m"(empty));
	puts_serial("not reached\n");
	guest_exit(0);
}
