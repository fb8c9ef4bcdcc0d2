/* The legacy 8259A interrupt controller pair and the 8253/8254 PIT: the
 * timer interrupt. */
#ifndef GUESTOS_ARCH_X86_I8259_H
#define GUESTOS_ARCH_X86_I8259_H

#define FIRST_EXTERNAL_VECTOR 0x20 /* IRQ 0..15 -> vectors 0x20..0x2F */
#define NR_LEGACY_IRQS 16
#define TIMER_IRQ 0
#define HZ 100

/* Ticks of the timer interrupt since time_init(). */
extern volatile unsigned long jiffies;

/* Remap the PICs to FIRST_EXTERNAL_VECTOR with every line masked. */
void init_8259A(void);
/* Program PIT channel 0 for HZ interrupts and unmask IRQ 0. */
void time_init(void);
/* Handle IRQ `irq` (called from the exception entry path) and send EOI. */
void do_IRQ(unsigned int irq);

#endif
