/* The final GDT (kernel and user segments, the 64-bit TSS) and the IDT. */
#ifndef GUESTOS_ARCH_X86_DESC_H
#define GUESTOS_ARCH_X86_DESC_H

#include "guestos/lib/types.h"

/* IST slots (1-based, as the IDT gate field counts them; 0 = no switch). */
#define IST_INDEX_DF 1
#define IST_INDEX_PF 2

/* Load the GDT, reload every segment register, load the task register. */
void gdt_init(void);
/* Point the 32 exception vectors and the 16 legacy IRQ vectors at their
 * entry stubs and load the IDT. */
void idt_init(void);
/* The stack the CPU switches to on an interrupt or exception from CPL 3. */
void tss_set_sp0(unsigned long sp0);

#endif
