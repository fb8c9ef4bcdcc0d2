/* The local APIC through its memory-mapped page: read the version
 * register, run the timer in periodic mode and count five interrupts
 * with STI; HLT, acknowledging each with an EOI write (SDM Vol. 3A
 * §11.4.1, §11.5.4, §11.8.5). The 8259A is masked so only the APIC
 * interrupts. The APIC page (0xFEE00000) is mapped by a 1-GiB page for
 * 3-4 GiB, uncached (PCD). */
#include "guest.h"

#define LVT_PERIODIC (1u << 17)
#define DIVIDE_BY_1 0xB
#define TIMER_VECTOR 0x40
#define TIMER_COUNT 100000

static volatile uint64_t ticks;

static void on_timer(struct frame *f)
{
	ticks++;
	*apic(APIC_EOI) = 0;
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	idt_init();
	isr_register(TIMER_VECTOR, on_timer);
	apic_map();
	puts_serial("apic version ");
	put_hex(*apic(APIC_VERSION));
	puts_serial("\n");
	*apic(APIC_SVR) = APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR;
	*apic(APIC_DIVIDE) = DIVIDE_BY_1;
	*apic(APIC_LVT_TIMER) = LVT_PERIODIC | TIMER_VECTOR;
	*apic(APIC_INITIAL_COUNT) = TIMER_COUNT;
	while (ticks < 5)
		__asm__ volatile("sti; hlt; cli");
	*apic(APIC_INITIAL_COUNT) = 0;
	puts_serial("apic ticks ");
	put_dec(ticks);
	puts_serial("\n");
	guest_exit(0);
}
