/* HLT with interrupts disabled: nothing can ever wake the CPU, so the
 * machine stops with a diagnostic instead of spinning. */
#include "guest.h"

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	puts_serial("halting\n");
	__asm__ volatile("cli; hlt");
	puts_serial("not reached\n");
	guest_exit(0);
}
