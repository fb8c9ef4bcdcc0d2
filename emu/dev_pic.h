/* The PC's two 8259A programmable interrupt controllers: master at
 * 0x20/0x21, slave at 0xA0/0xA1, the slave's INT output on master input 2,
 * and the chipset's edge/level control registers (ELCR) at 0x4D0/0x4D1.
 *
 * Implemented (Intel 8259A data sheet): the ICW1..ICW4 initialization
 * sequence (vector offset from ICW2, single/cascade, ICW4 present or not,
 * automatic EOI, special fully nested mode), OCW1 (the interrupt mask),
 * every OCW2 command (non-specific and specific EOI, rotate on either,
 * set priority, set and clear rotate in automatic-EOI mode), OCW3
 * (register select, the poll command, special mask mode), edge- and
 * level-triggered inputs (per input, by the ELCR; ICW1.LTIM is ignored,
 * as PC chipsets with an ELCR do),
 * fully nested mode with rotating priority, spurious IRQ 7 / IRQ 15 on an
 * acknowledge with nothing left to deliver.
 * Not implemented, reported once on the warning stream when a guest asks
 * for it: 8080/8085 mode (ICW4.uPM = 0), in which the chip answers INTA
 * with a CALL instruction an x86 processor cannot take; 8086 vectors are
 * used.
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
#define PIC_OCW3_SMM_SELECT (PIC_OCW3_ESMM | PIC_OCW3_SMM)
#define PIC_ICW2_VECTOR_MASK 0xF8 /* T7..T3; T2..T0 come from the IR number */
/* OCW2 commands, bits 7:5 (R, SL, EOI) shifted down (data sheet, Figure 8). */
enum pic_ocw2_command {
	PIC_CMD_ROTATE_AEOI_CLEAR = 0,
	PIC_CMD_EOI = 1,
	PIC_CMD_NOP = 2,
	PIC_CMD_SPECIFIC_EOI = 3,
	PIC_CMD_ROTATE_AEOI_SET = 4,
	PIC_CMD_ROTATE_EOI = 5,
	PIC_CMD_SET_PRIORITY = 6,
	PIC_CMD_ROTATE_SPECIFIC_EOI = 7,
};
#define PIC_OCW2_COMMAND_SHIFT 5
/* Poll word: bit 7 set when an interrupt was pending, bits 2:0 its IR. */
#define PIC_POLL_INT 0x80

/* ELCR (PIIX/ICH edge/level control): one bit per IRQ, 1 = level. IRQ 0,
 * 1, 2, 8 and 13 are edge-triggered on a PC and their bits read 0. */
#define PIC_ELCR_PORT 0x4D0
#define PIC_ELCR_MASTER_MASK 0xF8
#define PIC_ELCR_SLAVE_MASK 0xDE

enum pic_init_step { PIC_READY, PIC_WANT_ICW2, PIC_WANT_ICW3, PIC_WANT_ICW4 };

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t levels;        /* input line levels, for edge detection */
	uint8_t vector_base;   /* ICW2 & 0xF8 */
	uint8_t icw1, icw4;
	uint8_t elcr;          /* ELCR: inputs that are level-triggered */
	uint8_t lowest;        /* the IR of lowest priority (7 after ICW1) */
	enum pic_init_step step;
	bool read_isr;         /* OCW3: the command port reads ISR */
	bool poll;             /* OCW3 P: the next read is the poll word */
	bool special_mask;     /* OCW3 special mask mode */
	bool rotate_aeoi;      /* OCW2: rotate in automatic-EOI mode */
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
/* iobus handlers for 0x20-0x21, 0xA0-0xA1 and the ELCR at 0x4D0-0x4D1;
 * dev is the struct pic. */
uint32_t pic_io_read(void *dev, uint16_t port, unsigned size);
void pic_io_write(void *dev, uint16_t port, unsigned size, uint32_t value);

#endif
