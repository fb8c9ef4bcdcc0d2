/* HLT with interrupts enabled but every 8259A input masked: the PIT keeps
 * expiring (as the BIOS left it) yet nothing reaches the CPU, so after 60
 * modelled seconds of such events the machine declares the halt permanent. */
#include "guest.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	idt_init();
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
	puts_serial("halting with every irq masked\n");
	__asm__ volatile("sti; hlt");
	puts_serial("not reached\n");
	guest_exit(0);
}
