/* 8259A PIC pair. Priority is fixed (IR0 highest), the mode a PC BIOS sets
 * up and every ordinary kernel keeps. */
#include "emu/dev_pic.h"

#include <string.h>

enum pic_warning {
	PIC_WARN_LTIM = 1u << 0,
	PIC_WARN_ROTATE = 1u << 1,
	PIC_WARN_SMM = 1u << 2,
	PIC_WARN_POLL = 1u << 3,
	PIC_WARN_SFNM = 1u << 4,
	PIC_WARN_8080 = 1u << 5,
};

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_SPURIOUS_IR 7
#define PIC_BIOS_MASTER_BASE 0x08
#define PIC_BIOS_SLAVE_BASE 0x70

static void pic_warn_once(struct pic *p, unsigned which, const char *what)
{
	if (p->warned & which)
		return;
	p->warned |= which;
	if (p->warn)
		fprintf(p->warn, "mmulab: 8259A PIC: %s is not implemented\n", what);
}

void pic_init(struct pic *p, FILE *warn)
{
	memset(p, 0, sizeof *p);
	p->warn = warn;
	p->chip[PIC_MASTER].vector_base = PIC_BIOS_MASTER_BASE;
	p->chip[PIC_SLAVE].vector_base = PIC_BIOS_SLAVE_BASE;
}

/* Highest-priority IR (lowest number) in mask, or 8 if none. */
static unsigned pic_highest(uint8_t mask)
{
	return mask ? (unsigned)__builtin_ctz(mask) : 8;
}

/* The IR this chip would deliver now, or 8: fully nested mode lets a
 * request through only above the highest-priority IR in service. */
static unsigned chip_winner(const struct pic_chip *c)
{
	unsigned req = pic_highest(c->irr & (uint8_t)~c->imr);
	return req < pic_highest(c->isr) ? req : 8;
}

/* Edge-triggered input: a low-to-high transition sets the IRR bit. */
static void chip_set_input(struct pic_chip *c, unsigned ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);
	if (level && !(c->levels & bit))
		c->irr |= bit;
	c->levels = level ? (c->levels | bit) : (c->levels & (uint8_t)~bit);
}

/* The slave's INT output drives master IR2. */
static void pic_update_cascade(struct pic *p)
{
	chip_set_input(&p->chip[PIC_MASTER], PIC_CASCADE_IRQ, chip_winner(&p->chip[PIC_SLAVE]) < 8);
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
	if (irq >= PIC_NIRQS)
		return;
	chip_set_input(&p->chip[irq / 8], irq % 8, level);
	pic_update_cascade(p);
}

void pic_raise_irq(struct pic *p, unsigned irq)
{
	pic_set_irq(p, irq, true);
}

void pic_lower_irq(struct pic *p, unsigned irq)
{
	pic_set_irq(p, irq, false);
}

void pic_irq_line_set(void *ctx, unsigned line, bool level)
{
	pic_set_irq(ctx, line, level);
}

bool pic_pending(const struct pic *p)
{
	return chip_winner(&p->chip[PIC_MASTER]) < 8;
}

/* INTA on one chip: the winner moves from IRR to ISR (not in AEOI mode);
 * with nothing to deliver the chip answers with IR7, setting nothing. */
static unsigned chip_acknowledge(struct pic_chip *c)
{
	unsigned ir = chip_winner(c);
	if (ir == 8)
		return PIC_SPURIOUS_IR;
	uint8_t bit = (uint8_t)(1u << ir);
	c->irr &= (uint8_t)~bit;
	if (!(c->icw4 & PIC_ICW4_AEOI))
		c->isr |= bit;
	return ir;
}

uint8_t pic_acknowledge(struct pic *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
	bool real = chip_winner(m) < 8;
	unsigned ir = chip_acknowledge(m);
	uint8_t vector = (uint8_t)(m->vector_base + ir);
	if (real && ir == PIC_CASCADE_IRQ) {
		/* The slave supplies the vector; a slave with nothing left
		 * answers with its IR7 (IRQ 15) and the master keeps IR2 in
		 * service, so the handler must EOI the master only. */
		vector = (uint8_t)(s->vector_base + chip_acknowledge(s));
	}
	pic_update_cascade(p);
	return vector;
}

static void chip_icw1(struct pic *p, struct pic_chip *c, uint8_t value)
{
	/* ICW1 resets the chip: IRR and ISR cleared, IMR cleared, the command
	 * port reads IRR, ICW4 functions zero unless ICW4 follows. A line held
	 * high must fall and rise again before it requests. */
	c->icw1 = value;
	c->irr = c->isr = c->imr = 0;
	c->icw4 = 0;
	c->read_isr = false;
	c->step = PIC_WANT_ICW2;
	if (value & PIC_ICW1_LTIM)
		pic_warn_once(p, PIC_WARN_LTIM, "level-triggered mode (inputs stay edge-triggered)");
}

static void chip_eoi(struct pic *p, struct pic_chip *c, uint8_t ocw2)
{
	if (ocw2 & PIC_OCW2_R)
		pic_warn_once(p, PIC_WARN_ROTATE, "priority rotation (priorities stay fixed)");
	if (!(ocw2 & PIC_OCW2_EOI))
		return;
	unsigned ir = (ocw2 & PIC_OCW2_SL) ? (ocw2 & PIC_OCW2_LEVEL) : pic_highest(c->isr);
	if (ir < 8)
		c->isr &= (uint8_t)~(1u << ir);
}

static void chip_ocw3(struct pic *p, struct pic_chip *c, uint8_t value)
{
	if (value & PIC_OCW3_RR)
		c->read_isr = value & PIC_OCW3_RIS;
	if (value & PIC_OCW3_POLL)
		pic_warn_once(p, PIC_WARN_POLL, "the poll command");
	if ((value & PIC_OCW3_ESMM) && (value & PIC_OCW3_SMM))
		pic_warn_once(p, PIC_WARN_SMM, "special mask mode");
}

static void chip_write_command(struct pic *p, struct pic_chip *c, uint8_t value)
{
	if (value & PIC_ICW1)
		chip_icw1(p, c, value);
	else if (value & PIC_OCW3)
		chip_ocw3(p, c, value);
	else
		chip_eoi(p, c, value);
}

static void chip_icw4(struct pic *p, struct pic_chip *c, uint8_t value)
{
	c->icw4 = value;
	if (!(value & PIC_ICW4_UPM))
		pic_warn_once(p, PIC_WARN_8080, "8080/8085 mode (8086 vectors are used)");
	if (value & PIC_ICW4_SFNM)
		pic_warn_once(p, PIC_WARN_SFNM, "special fully nested mode");
}

/* Data-port writes walk the initialization sequence, then set the IMR. */
static void chip_write_data(struct pic *p, struct pic_chip *c, uint8_t value)
{
	bool icw4 = c->icw1 & PIC_ICW1_IC4, single = c->icw1 & PIC_ICW1_SNGL;
	switch (c->step) {
	case PIC_WANT_ICW2:
		c->vector_base = value & PIC_ICW2_VECTOR_MASK;
		c->step = !single ? PIC_WANT_ICW3 : icw4 ? PIC_WANT_ICW4 : PIC_READY;
		break;
	case PIC_WANT_ICW3:
		/* The cascade wiring is fixed (slave on master IR2). */
		c->step = icw4 ? PIC_WANT_ICW4 : PIC_READY;
		break;
	case PIC_WANT_ICW4:
		chip_icw4(p, c, value);
		c->step = PIC_READY;
		break;
	case PIC_READY:
		c->imr = value;
		break;
	}
}

uint8_t pic_read(struct pic *p, unsigned chip, unsigned offset)
{
	const struct pic_chip *c = &p->chip[chip & 1];
	if (offset & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

void pic_write(struct pic *p, unsigned chip, unsigned offset, uint8_t value)
{
	struct pic_chip *c = &p->chip[chip & 1];
	if (offset & 1)
		chip_write_data(p, c, value);
	else
		chip_write_command(p, c, value);
	pic_update_cascade(p);
}

/* 0x20/0x21 select the master, 0xA0/0xA1 the slave (address bit 7). */
uint32_t pic_io_read(void *dev, uint16_t port, unsigned size)
{
	return pic_read(dev, port == PIC_SLAVE_PORT || port == PIC_SLAVE_PORT + 1, port & 1);
}

void pic_io_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	pic_write(dev, port == PIC_SLAVE_PORT || port == PIC_SLAVE_PORT + 1, port & 1, (uint8_t)value);
}
