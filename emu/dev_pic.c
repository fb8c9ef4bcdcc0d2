/* 8259A PIC pair (Intel 8259A data sheet, "Programmable Interrupt
 * Controller"; the ELCR as the PIIX chipsets define it). */
#include "emu/dev_pic.h"

#include <string.h>

enum pic_warning {
	PIC_WARN_8080 = 1u << 0,
};

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_SPURIOUS_IR 7
#define PIC_NONE 8 /* no IR */
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
	p->chip[PIC_MASTER].lowest = p->chip[PIC_SLAVE].lowest = PIC_SPURIOUS_IR;
}

/* Priorities rotate (data sheet, "Automatic Rotation", "Specific
 * Rotation"): the IR after `lowest` has the highest priority. Rank 0 is
 * the highest. */
static unsigned chip_rank(const struct pic_chip *c, unsigned ir)
{
	return (ir - c->lowest - 1) & 7;
}

/* The IR of highest priority in mask, or PIC_NONE. */
static unsigned chip_highest(const struct pic_chip *c, uint8_t mask)
{
	if (!mask)
		return PIC_NONE;
	unsigned first = (c->lowest + 1u) & 7;
	uint8_t rotated = (uint8_t)((unsigned)mask >> first | (unsigned)mask << (8 - first));
	return (first + (unsigned)__builtin_ctz(rotated)) & 7;
}

static bool chip_is_master(const struct pic *p, const struct pic_chip *c)
{
	return c == &p->chip[PIC_MASTER];
}

/* The levels in service that rank against requests and non-specific EOIs:
 * all of them, but in special mask mode not those masked in the IMR
 * (data sheet, "Special Mask Mode", "End of Interrupt"). */
static uint8_t chip_in_service(const struct pic_chip *c)
{
	return c->special_mask ? c->isr & (uint8_t)~c->imr : c->isr;
}

/* The IR this chip would deliver now, or PIC_NONE. Fully nested mode lets
 * a request through only above the highest-priority IR in service. In
 * special mask mode a masked level in service blocks nothing ("Special
 * Mask Mode"). In special fully nested mode the master also takes a
 * request on the cascade input while that input is in service, so a
 * slave's higher-priority interrupt nests ("Special Fully Nest Mode"). */
static unsigned chip_winner(const struct pic *p, const struct pic_chip *c)
{
	unsigned req = chip_highest(c, c->irr & (uint8_t)~c->imr);
	if (req == PIC_NONE)
		return PIC_NONE;
	unsigned svc = chip_highest(c, chip_in_service(c));
	if (svc == PIC_NONE || chip_rank(c, req) < chip_rank(c, svc))
		return req;
	if (req == PIC_CASCADE_IRQ && svc == PIC_CASCADE_IRQ && (c->icw4 & PIC_ICW4_SFNM) &&
	    chip_is_master(p, c))
		return req;
	return PIC_NONE;
}

/* An input is level-triggered by its ELCR bit. ICW1.LTIM is stored and
 * has no effect: the PC chipsets that have an ELCR disable it (PIIX,
 * ICH), and so does QEMU; the PIT's channel 0, a pulse on IRQ 0, could
 * not be level-triggered anyway. Edge: a low-to-high transition sets the
 * IRR bit, which stays until acknowledged. Level: the IRR bit follows the
 * line. */
static bool chip_level_triggered(const struct pic_chip *c, uint8_t bit)
{
	return c->elcr & bit;
}

static void chip_set_input(struct pic_chip *c, unsigned ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);
	if (chip_level_triggered(c, bit))
		c->irr = level ? (c->irr | bit) : (c->irr & (uint8_t)~bit);
	else if (level && !(c->levels & bit))
		c->irr |= bit;
	c->levels = level ? (c->levels | bit) : (c->levels & (uint8_t)~bit);
}

/* The slave's INT output drives master IR2 (an edge input on a PC). */
static void pic_update_cascade(struct pic *p)
{
	chip_set_input(&p->chip[PIC_MASTER], PIC_CASCADE_IRQ,
		       chip_winner(p, &p->chip[PIC_SLAVE]) != PIC_NONE);
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
	return chip_winner(p, &p->chip[PIC_MASTER]) != PIC_NONE;
}

/* INTA (or a poll) on one chip: the winner moves to ISR, unless in
 * automatic-EOI mode, where with rotation on it becomes the lowest
 * priority. An edge request leaves IRR; a level one stays while its line
 * is high. With nothing to deliver the chip answers with IR7, setting
 * nothing; PIC_NONE in *found then. */
static unsigned chip_acknowledge(const struct pic *p, struct pic_chip *c, bool *found)
{
	unsigned ir = chip_winner(p, c);
	*found = ir != PIC_NONE;
	if (ir == PIC_NONE)
		return PIC_SPURIOUS_IR;
	uint8_t bit = (uint8_t)(1u << ir);
	if (!chip_level_triggered(c, bit))
		c->irr &= (uint8_t)~bit;
	if (!(c->icw4 & PIC_ICW4_AEOI))
		c->isr |= bit;
	else if (c->rotate_aeoi)
		c->lowest = (uint8_t)ir;
	return ir;
}

uint8_t pic_acknowledge(struct pic *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
	bool real, slave_real;
	unsigned ir = chip_acknowledge(p, m, &real);
	uint8_t vector = (uint8_t)(m->vector_base + ir);
	if (real && ir == PIC_CASCADE_IRQ) {
		/* The slave supplies the vector; a slave with nothing left
		 * answers with its IR7 (IRQ 15) and the master keeps IR2 in
		 * service, so the handler must EOI the master only. */
		vector = (uint8_t)(s->vector_base + chip_acknowledge(p, s, &slave_real));
	}
	pic_update_cascade(p);
	return vector;
}

static void chip_icw1(struct pic_chip *c, uint8_t value)
{
	/* ICW1 resets the chip ("Initialization Command Words"): the edge
	 * sense reset (a line held high must fall and rise again before it
	 * requests), IMR cleared, IR7 the lowest priority, special mask mode
	 * off, the command port reading IRR, ICW4 functions zero unless ICW4
	 * follows. ISR is cleared too, as a PC's reset leaves it, and IRR
	 * but for the level inputs (ELCR) whose lines are high: they request
	 * at once. The ELCR is the chipset's and stays. */
	c->icw1 = value;
	c->irr = c->levels & c->elcr;
	c->isr = c->imr = 0;
	c->icw4 = 0;
	c->lowest = PIC_SPURIOUS_IR;
	c->read_isr = c->poll = c->special_mask = c->rotate_aeoi = false;
	c->step = PIC_WANT_ICW2;
}

/* OCW2 ("Operation Command Words", Figure 8). A non-specific EOI ends the
 * highest-priority level in service; the rotating forms then make it the
 * lowest priority. */
static void chip_ocw2(struct pic_chip *c, uint8_t ocw2)
{
	unsigned level = ocw2 & PIC_OCW2_LEVEL, ir;
	switch ((enum pic_ocw2_command)(ocw2 >> PIC_OCW2_COMMAND_SHIFT)) {
	case PIC_CMD_ROTATE_AEOI_CLEAR:
		c->rotate_aeoi = false;
		break;
	case PIC_CMD_ROTATE_AEOI_SET:
		c->rotate_aeoi = true;
		break;
	case PIC_CMD_EOI:
	case PIC_CMD_ROTATE_EOI:
		ir = chip_highest(c, chip_in_service(c));
		if (ir == PIC_NONE)
			break;
		c->isr &= (uint8_t)~(1u << ir);
		if (ocw2 & PIC_OCW2_R)
			c->lowest = (uint8_t)ir;
		break;
	case PIC_CMD_SPECIFIC_EOI:
	case PIC_CMD_ROTATE_SPECIFIC_EOI:
		c->isr &= (uint8_t)~(1u << level);
		if (ocw2 & PIC_OCW2_R)
			c->lowest = (uint8_t)level;
		break;
	case PIC_CMD_SET_PRIORITY:
		c->lowest = (uint8_t)level;
		break;
	case PIC_CMD_NOP:
		break;
	}
}

/* OCW3: register select (RR, RIS), poll (P: the next read), special mask
 * mode (ESMM with SMM set or clear). */
static void chip_ocw3(struct pic_chip *c, uint8_t value)
{
	if (value & PIC_OCW3_RR)
		c->read_isr = value & PIC_OCW3_RIS;
	c->poll = value & PIC_OCW3_POLL;
	if (value & PIC_OCW3_ESMM)
		c->special_mask = value & PIC_OCW3_SMM;
}

static void chip_write_command(struct pic_chip *c, uint8_t value)
{
	if (value & PIC_ICW1)
		chip_icw1(c, value);
	else if (value & PIC_OCW3)
		chip_ocw3(c, value);
	else
		chip_ocw2(c, value);
}

static void chip_icw4(struct pic *p, struct pic_chip *c, uint8_t value)
{
	c->icw4 = value;
	if (!(value & PIC_ICW4_UPM))
		pic_warn_once(p, PIC_WARN_8080, "8080/8085 mode (8086 vectors are used)");
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

/* After a poll command, the next read of either port is the poll word,
 * and it acknowledges the interrupt it names as INTA would ("The Poll
 * Command"); 0 when nothing is pending. */
static uint8_t chip_poll(struct pic *p, struct pic_chip *c)
{
	bool found;
	c->poll = false;
	unsigned ir = chip_acknowledge(p, c, &found);
	pic_update_cascade(p);
	return found ? (uint8_t)(PIC_POLL_INT | ir) : 0;
}

uint8_t pic_read(struct pic *p, unsigned chip, unsigned offset)
{
	struct pic_chip *c = &p->chip[chip & 1];
	if (c->poll)
		return chip_poll(p, c);
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
		chip_write_command(c, value);
	pic_update_cascade(p);
}

/* ELCR writes keep the bits a PC lets be level-triggered. A line already
 * high that becomes level-triggered requests at once. */
static void pic_write_elcr(struct pic *p, unsigned chip, uint8_t value)
{
	struct pic_chip *c = &p->chip[chip];
	c->elcr = value & (chip == PIC_MASTER ? PIC_ELCR_MASTER_MASK : PIC_ELCR_SLAVE_MASK);
	c->irr |= c->levels & c->elcr;
	pic_update_cascade(p);
}

/* 0x20/0x21 select the master, 0xA0/0xA1 the slave (address bit 7);
 * 0x4D0/0x4D1 are the master's and slave's ELCR. */
uint32_t pic_io_read(void *dev, uint16_t port, unsigned size)
{
	struct pic *p = dev;
	if ((port & ~1u) == PIC_ELCR_PORT)
		return p->chip[port & 1].elcr;
	return pic_read(p, port == PIC_SLAVE_PORT || port == PIC_SLAVE_PORT + 1, port & 1);
}

void pic_io_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct pic *p = dev;
	if ((port & ~1u) == PIC_ELCR_PORT)
		pic_write_elcr(p, port & 1, (uint8_t)value);
	else
		pic_write(p, port == PIC_SLAVE_PORT || port == PIC_SLAVE_PORT + 1, port & 1,
			  (uint8_t)value);
}
