/* 8259A PIC (Intel 8259A data sheet: ICW1..ICW4, OCW1, OCW2) and 8254 PIT
 * channel 0 (Intel 82C54 data sheet: control word, mode 2). */
#include "guestos/arch/x86/i8259.h"

#include "guestos/arch/x86/io.h"
#include "guestos/kernel/printk.h"
#include "guestos/kernel/sched.h"

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_IMR 0x21
#define PIC_SLAVE_CMD 0xA0
#define PIC_SLAVE_IMR 0xA1
#define PIC_CASCADE_IRQ 2
#define ICW1_INIT 0x10 /* start initialisation */
#define ICW1_ICW4 0x01 /* ICW4 follows */
#define ICW4_8086 0x01 /* 8086 mode */
#define OCW2_EOI 0x20  /* non-specific end of interrupt */

#define PIT_TICK_RATE 1193182 /* Hz */
#define PIT_CH0 0x40
#define PIT_MODE 0x43
#define PIT_SEL_CH0 (0 << 6)
#define PIT_ACCESS_LOHI (3 << 4) /* low byte, then high byte */
#define PIT_MODE_RATE (2 << 1)   /* mode 2: rate generator */
#define LATCH ((PIT_TICK_RATE + HZ / 2) / HZ)

volatile unsigned long jiffies;
static unsigned long spurious_irqs;

void init_8259A(void)
{
	outb(0xFF, PIC_MASTER_IMR); /* OCW1: mask everything */
	outb(0xFF, PIC_SLAVE_IMR);
	outb(ICW1_INIT | ICW1_ICW4, PIC_MASTER_CMD);
	outb(FIRST_EXTERNAL_VECTOR, PIC_MASTER_IMR);      /* ICW2: vector base */
	outb(1 << PIC_CASCADE_IRQ, PIC_MASTER_IMR);       /* ICW3: slave on IRQ 2 */
	outb(ICW4_8086, PIC_MASTER_IMR);
	outb(ICW1_INIT | ICW1_ICW4, PIC_SLAVE_CMD);
	outb(FIRST_EXTERNAL_VECTOR + 8, PIC_SLAVE_IMR);
	outb(PIC_CASCADE_IRQ, PIC_SLAVE_IMR);             /* ICW3: cascade identity */
	outb(ICW4_8086, PIC_SLAVE_IMR);
	outb(0xFF & ~(1 << PIC_CASCADE_IRQ), PIC_MASTER_IMR);
	outb(0xFF, PIC_SLAVE_IMR);
}

static void enable_8259A_irq(unsigned int irq)
{
	u16 port = irq < 8 ? PIC_MASTER_IMR : PIC_SLAVE_IMR;

	outb(inb(port) & ~(1 << (irq & 7)), port);
}

void time_init(void)
{
	outb(PIT_SEL_CH0 | PIT_ACCESS_LOHI | PIT_MODE_RATE, PIT_MODE);
	outb(LATCH & 0xFF, PIT_CH0);
	outb(LATCH >> 8, PIT_CH0);
	enable_8259A_irq(TIMER_IRQ);
}

void do_IRQ(unsigned int irq)
{
	if (irq == TIMER_IRQ) {
		jiffies++;
		scheduler_tick();
	} else {
		spurious_irqs++;
	}
	if (irq >= 8)
		outb(OCW2_EOI, PIC_SLAVE_CMD);
	outb(OCW2_EOI, PIC_MASTER_CMD);
}
