/* The PC's two 8259A programmable interrupt controllers: master at
 * 0x20/0x21, slave at 0xA0/0xA1, the slave's INT output on master input 2.
 *
 * Implemented (Intel 8259A data sheet): the ICW1..ICW4 initialization
 * sequence (vector offset from ICW2, single/cascade, ICW4 present or not,
 * automatic EOI), OCW1 (the interrupt mask), OCW2 non-specific and specific
 * EOI, OCW3 register select (IRR or ISR on the command port), edge-triggered
 * inputs, fully nested mode with fixed priority (IR0 highest), spurious
 * IRQ 7 / IRQ 15 on an acknowledge with nothing left to deliver.
 * Not implemented, each reported once on the warning stream when a guest
 * asks for it: level-triggered mode (LTIM; inputs stay edge-triggered),
 * priority rotation (the EOI part of a rotate command is still done),
 * special mask mode, poll command, special fully nested mode, 8080 mode.
 *
 * IRQ numbers 0..7 are the master's inputs, 8..15 the slave's.
 */
#ifndef EMU_DEV_PIC_H
#define EMU_DEV_PIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT 0xA0
#define PIC_CASCADE_IRQ 2 /* master input that carries the slave */
#define PIC_NIRQS 16

/* Command-port writes: ICW1 has bit 4 set; otherwise bit 3 tells OCW3 from OCW2. */
#define PIC_ICW1 0x10
#define PIC_ICW1_IC4 0x01   /* ICW4 follows */
#define PIC_ICW1_SNGL 0x02  /* single 8259A: no ICW3 */
#define PIC_ICW1_LTIM 0x08  /* level-triggered inputs */
#define PIC_OCW3 0x08
#define PIC_ICW4_UPM 0x01   /* 8086/8088 mode */
#define PIC_ICW4_AEOI 0x02  /* automatic end of interrupt */
#define PIC_ICW4_SFNM 0x10  /* special fully nested mode */
/* OCW2 bits 7:5 = R, SL, EOI; bits 2:0 = the IR level for SL commands. */
#define PIC_OCW2_EOI 0x20
#define PIC_OCW2_SL 0x40
#define PIC_OCW2_R 0x80
#define PIC_OCW2_LEVEL 0x07
/* OCW3. */
#define PIC_OCW3_RIS 0x01   /* with RR: read ISR rather than IRR */
#define PIC_OCW3_RR 0x02    /* change which register the command port reads */
#define PIC_OCW3_POLL 0x04
#define PIC_OCW3_SMM 0x20   /* with ESMM: special mask mode */
#define PIC_OCW3_ESMM 0x40
#define PIC_ICW2_VECTOR_MASK 0xF8 /* T7..T3; T2..T0 come from the IR number */

enum pic_init_step { PIC_READY, PIC_WANT_ICW2, PIC_WANT_ICW3, PIC_WANT_ICW4 };

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t levels;        /* input line levels, for edge detection */
	uint8_t vector_base;   /* ICW2 & 0xF8 */
	uint8_t icw1, icw4;
	enum pic_init_step step;
	bool read_isr;         /* OCW3: the command port reads ISR */
};

struct pic {
	struct pic_chip chip[2]; /* [0] master, [1] slave */
	FILE *warn;              /* one-line warnings, NULL = silent */
	unsigned warned;         /* which warnings were already given */
};

/* Power-up state: both chips uninitialised (vector bases 0x08 and 0x70 as a
 * BIOS leaves them, nothing masked). */
void pic_init(struct pic *p, FILE *warn);

/* Drive input line irq (0..15) to a level; a low-to-high edge requests. */
void pic_set_irq(struct pic *p, unsigned irq, bool level);
void pic_raise_irq(struct pic *p, unsigned irq);
void pic_lower_irq(struct pic *p, unsigned irq);
/* irq_line adapter: ctx is the struct pic. */
void pic_irq_line_set(void *ctx, unsigned line, bool level);

/* True when the master's INT output is active: an unmasked request of
 * higher priority than everything in service. */
bool pic_pending(const struct pic *p);
/* The INTA cycle: move the winning request from IRR to ISR (unless in
 * automatic-EOI mode) and return its vector; spurious IRQ 7 (master) or 15
 * (slave) when nothing is left to deliver, with no ISR bit set. */
uint8_t pic_acknowledge(struct pic *p);

/* Register access; chip 0 is the master. offset 0 = command, 1 = data. */
uint8_t pic_read(struct pic *p, unsigned chip, unsigned offset);
void pic_write(struct pic *p, unsigned chip, unsigned offset, uint8_t value);
/* iobus handlers for 0x20-0x21 and 0xA0-0xA1; dev is the struct pic. */
uint32_t pic_io_read(void *dev, uint16_t port, unsigned size);
void pic_io_write(void *dev, uint16_t port, unsigned size, uint32_t value);

#endif
