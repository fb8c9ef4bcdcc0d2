/* The local APIC through its memory-mapped page: read the version
 * register, run the timer in periodic mode and count five interrupts
 * with STI; HLT, acknowledging each with an EOI write (SDM Vol. 3A
 * §11.4.1, §11.5.4, §11.8.5). The 8259A is masked so only the APIC
 * interrupts. The APIC page (0xFEE00000) is mapped by a 1-GiB page for
 * 3-4 GiB, uncached (PCD). */
#include "guest.h"

#define APIC_BASE 0xFEE00000ull
#define APIC_VERSION 0x030
#define APIC_EOI 0x0B0
#define APIC_SVR 0x0F0
#define APIC_LVT_TIMER 0x320
#define APIC_INITIAL_COUNT 0x380
#define APIC_DIVIDE 0x3E0
#define SVR_ENABLE 0x100
#define SPURIOUS_VECTOR 0xFF
#define LVT_PERIODIC (1u << 17)
#define DIVIDE_BY_1 0xB
#define TIMER_VECTOR 0x40
#define TIMER_COUNT 100000
#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1
#define PDPTE_PS 0x80ull
#define PDPTE_PCD 0x10ull
#define GIB (1ull << 30)

extern uint64_t pdpt[];
static volatile uint64_t ticks;

static volatile uint32_t *apic(unsigned reg)
{
	return (volatile uint32_t *)(APIC_BASE + reg);
}

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
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
	pdpt[3] = 3 * GIB | PTE_P | PTE_W | PDPTE_PCD | PDPTE_PS;
	invlpg(APIC_BASE);
	puts_serial("apic version ");
	put_hex(*apic(APIC_VERSION));
	puts_serial("\n");
	*apic(APIC_SVR) = SVR_ENABLE | SPURIOUS_VECTOR;
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
