/* The timer: PIT channel 0 at 1 kHz (mode 2, count 1193) through the
 * remapped 8259A (IRQ 0 → vector 0x20). The guest counts interrupts while
 * it spins until the cycle counter (RDTSC) has advanced by 20.5 ms of a
 * 1 GHz clock: exactly 20 expiries fall in that window, whatever the
 * instruction mix. Then it waits for 5 more with STI; HLT, which the
 * machine fast-forwards to each expiry. */
#include "guest.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086 0x01
#define PIC_EOI 0x20
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CH0_LOHI_MODE2 0x34
#define PIT_COUNT_1KHZ 1193
#define TIMER_VECTOR 0x20
#define SPIN_CYCLES 20500000ull

static volatile uint64_t ticks;

static void on_timer(struct frame *f)
{
	ticks++;
	outb(PIC1_CMD, PIC_EOI);
}

static void pic_remap(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, TIMER_VECTOR);
	outb(PIC2_DATA, TIMER_VECTOR + 8);
	outb(PIC1_DATA, 4); /* slave on IR2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, 0xFE); /* IRQ 0 only */
	outb(PIC2_DATA, 0xFF);
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	idt_init();
	isr_register(TIMER_VECTOR, on_timer);
	pic_remap();
	outb(PIT_CMD, PIT_CH0_LOHI_MODE2);
	uint64_t start = rdtsc();
	outb(PIT_CH0, PIT_COUNT_1KHZ & 0xFF);
	outb(PIT_CH0, PIT_COUNT_1KHZ >> 8);
	__asm__ volatile("sti");
	while (rdtsc() - start < SPIN_CYCLES)
		;
	__asm__ volatile("cli");
	puts_serial("ticks ");
	put_dec(ticks);
	puts_serial("\n");
	uint64_t target = ticks + 5;
	while (ticks < target)
		__asm__ volatile("sti; hlt; cli");
	puts_serial("after hlt ");
	put_dec(ticks);
	puts_serial("\n");
	guest_exit(0);
}
