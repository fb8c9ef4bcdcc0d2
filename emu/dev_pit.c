/* 8254 PIT. Each channel's count is a pure function of the tick at which
 * counting started and the tick now, so reading it never needs a callback
 * per tick and the result does not depend on how often the CPU loop calls
 * pit_advance. */
#include "emu/dev_pit.h"

#include <string.h>

#define PIT_FULL_COUNT 0x10000u   /* a count of 0 means 2^16 in binary */
#define PIT_FULL_COUNT_BCD 10000u /* and 10^4 in BCD */

bool pit_init(struct pit *p, uint64_t cpu_hz, struct irq_line irq)
{
	memset(p, 0, sizeof *p);
	p->clock = (struct tick_clock){ .tick_hz = PIT_HZ, .cpu_hz = cpu_hz };
	p->irq = irq;
	for (unsigned i = 0; i < PIT_NCHANNELS; i++) {
		p->ch[i].reload = p->ch[i].next_reload = PIT_FULL_COUNT;
		p->ch[i].access = PIT_LSB_MSB;
	}
	return tick_clock_valid(&p->clock);
}

/* The counting element wraps at 2^16 in binary, 10^4 in BCD. */
static uint32_t pit_full_count(const struct pit_channel *c)
{
	return c->bcd ? PIT_FULL_COUNT_BCD : PIT_FULL_COUNT;
}

/* A written 16-bit count as a number of ticks: four BCD digits in BCD
 * mode (a digit above 9 counts as its nibble's value), 0 the full count. */
static uint32_t pit_count_value(const struct pit_channel *c, uint32_t raw)
{
	uint32_t v = raw;
	if (c->bcd)
		v = (raw >> 12 & 15) * 1000 + (raw >> 8 & 15) * 100 + (raw >> 4 & 15) * 10 + (raw & 15);
	return v ? v : pit_full_count(c);
}

/* A count as the channel reads back: binary, or four BCD digits. */
static uint16_t pit_count_word(const struct pit_channel *c, uint32_t v)
{
	if (!c->bcd)
		return (uint16_t)v;
	v %= PIT_FULL_COUNT_BCD;
	return (uint16_t)(v / 1000 << 12 | v / 100 % 10 << 8 | v / 10 % 10 << 4 | v % 10);
}

/* Modes 1 and 5 start counting on a rising gate edge, not on the write
 * of the count. */
static bool pit_mode_gate_triggered(unsigned mode)
{
	return mode == 1 || mode == 5;
}

static bool pit_mode_periodic(unsigned mode)
{
	return mode == 2 || mode == 3;
}

/* Modes 0, 1, 4 and 5 count once from the count (0, 4: from its write;
 * 1, 5: from the gate's trigger): their output has one rising edge, at
 * terminal count (modes 0 and 1) or one tick later, at the end of the
 * strobe (modes 4 and 5). */
static bool pit_mode_oneshot(unsigned mode)
{
	return !pit_mode_periodic(mode);
}

static bool pit_mode_strobe(unsigned mode)
{
	return mode == 4 || mode == 5;
}

static uint64_t pit_oneshot_edge(const struct pit_channel *c)
{
	return c->reload + pit_mode_strobe(c->mode);
}

/* Rising edges of the output since counting began, at tick t: one in
 * the one-shot modes, one per period in modes 2 and 3. */
static uint64_t pit_edges_at(const struct pit_channel *c, uint64_t t)
{
	if (!c->counting)
		return 0;
	uint64_t elapsed = t - c->start;
	if (pit_mode_oneshot(c->mode))
		return elapsed >= pit_oneshot_edge(c);
	return elapsed / c->reload;
}

static uint64_t pit_mode3_high_ticks(const struct pit_channel *c)
{
	return (c->reload + 1) / 2;
}

/* The counting element's value at tick t, as the channel reads it back
 * (pit_count_word). Before a gate trigger in modes 1 and 5 the element is
 * not loaded; it reads as the count last loaded. */
static uint16_t pit_count_at(const struct pit_channel *c, uint64_t t)
{
	if (!c->counting)
		return pit_count_word(c, c->reload);
	uint64_t elapsed = t - c->start;
	if (c->mode == 2)
		return pit_count_word(c, (uint32_t)(c->reload - elapsed % c->reload));
	if (c->mode == 3) {
		uint64_t phase = elapsed % c->reload, high = pit_mode3_high_ticks(c);
		return pit_count_word(c, (uint32_t)(c->reload - 2 * (phase < high ? phase : phase - high)));
	}
	/* The one-shot modes: count down and wrap past zero. */
	uint32_t full = pit_full_count(c);
	return pit_count_word(c, (uint32_t)((c->reload + full - elapsed % full) % full));
}

/* The OUT pin at tick t: low from the control word in mode 0 until terminal
 * count; low from the trigger until terminal count in mode 1; low for the
 * tick after terminal count in modes 4 and 5; low for the last tick of
 * each period in mode 2; high for the first half of the period in mode 3. */
static bool pit_output_at(const struct pit_channel *c, uint64_t t)
{
	if (c->mode == 0)
		return pit_edges_at(c, t) > 0;
	if (!c->counting)
		return true;
	if (c->mode == 1)
		return pit_edges_at(c, t) > 0;
	if (pit_mode_strobe(c->mode))
		return t - c->start != c->reload;
	uint64_t phase = (t - c->start) % c->reload;
	if (c->mode == 2)
		return phase != c->reload - 1;
	return phase < pit_mode3_high_ticks(c); /* mode 3 */
}

void pit_advance(struct pit *p, uint64_t now_cycles)
{
	uint64_t t = tick_from_cycles(&p->clock, now_cycles);
	if (t < p->now)
		return;
	p->now = t;
	const struct pit_channel *c = &p->ch[0];
	uint64_t edges = pit_edges_at(c, t);
	if (edges == p->edges_seen)
		return;
	p->edges_seen = edges;
	if (c->mode == 0 || c->mode == 1)
		irq_line_set(&p->irq, true); /* OUT stays high until reprogrammed */
	else
		irq_line_pulse(&p->irq);
}

uint64_t pit_next_event(const struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];
	if (!c->counting)
		return UINT64_MAX;
	if (pit_mode_oneshot(c->mode))
		return p->edges_seen ? UINT64_MAX : tick_to_cycles(&p->clock, c->start + pit_oneshot_edge(c));
	return tick_to_cycles(&p->clock, c->start + (p->edges_seen + 1) * c->reload);
}

/* The counting element loads the count and counts from now; channel 0's
 * output falls (the IRQ 0 line: the next rising edge requests). */
static void pit_load(struct pit *p, unsigned n)
{
	struct pit_channel *c = &p->ch[n];
	c->reload = c->next_reload;
	c->start = p->now;
	c->counting = true;
	c->count_pending = false;
	if (n == 0) {
		p->edges_seen = 0;
		irq_line_set(&p->irq, false);
	}
}

/* A count written in full. Modes 0, 2, 3 and 4 start from it at once;
 * modes 1 and 5 wait for the gate, and a one-shot under way goes on with
 * its old count until retriggered (8254 data sheet, modes 1 and 5). */
static void pit_write_complete(struct pit *p, unsigned n, uint32_t raw)
{
	struct pit_channel *c = &p->ch[n];
	c->next_reload = pit_count_value(c, raw);
	c->armed = true;
	c->count_pending = true; /* null count until the element loads it */
	if (!pit_mode_gate_triggered(c->mode))
		pit_load(p, n);
}

static void pit_latch_count(struct pit *p, struct pit_channel *c)
{
	if (c->count_latched)
		return; /* a second latch before the read is ignored */
	c->latched_count = pit_count_at(c, p->now);
	c->count_latched = true;
}

static void pit_latch_status(struct pit *p, struct pit_channel *c)
{
	if (c->status_latched)
		return;
	uint8_t s = c->control & PIT_STATUS_CW_MASK;
	s |= pit_output_at(c, p->now) ? PIT_STATUS_OUTPUT : 0;
	s |= c->counting && !c->count_pending ? 0 : PIT_STATUS_NULL_COUNT;
	c->latched_status = s;
	c->status_latched = true;
}

static void pit_readback(struct pit *p, uint8_t value)
{
	for (unsigned n = 0; n < PIT_NCHANNELS; n++) {
		if (!(value & PIT_RB_CHANNEL(n)))
			continue;
		if (!(value & PIT_RB_NOT_COUNT))
			pit_latch_count(p, &p->ch[n]);
		if (!(value & PIT_RB_NOT_STATUS))
			pit_latch_status(p, &p->ch[n]);
	}
}

/* A control word resets the channel's logic: new mode and access, no count
 * yet (null count), latches dropped, byte toggles back to the LSB. */
static void pit_control(struct pit *p, uint8_t value)
{
	unsigned n = value >> PIT_CW_SC_SHIFT;
	if (n == PIT_CW_SC_READBACK) {
		pit_readback(p, value);
		return;
	}
	struct pit_channel *c = &p->ch[n];
	enum pit_access access = (value & PIT_CW_RW_MASK) >> PIT_CW_RW_SHIFT;
	if (access == PIT_LATCH) {
		pit_latch_count(p, c);
		return;
	}
	unsigned mode = (value & PIT_CW_MODE_MASK) >> PIT_CW_MODE_SHIFT;
	*c = (struct pit_channel){
		.control = value & PIT_STATUS_CW_MASK,
		.mode = (uint8_t)(mode > 5 ? mode - 4 : mode), /* 6 and 7 alias 2 and 3 */
		.bcd = value & PIT_CW_BCD,
		.access = access,
		.reload = c->reload,
		.next_reload = c->reload,
	};
	if (n == 0) {
		p->edges_seen = 0;
		irq_line_set(&p->irq, false);
	}
}

static void pit_write_count(struct pit *p, unsigned n, uint8_t value)
{
	struct pit_channel *c = &p->ch[n];
	switch (c->access) {
	case PIT_LSB: pit_write_complete(p, n, value); break;
	case PIT_MSB: pit_write_complete(p, n, (uint32_t)value << 8); break;
	case PIT_LSB_MSB:
		if (!c->write_msb_next) {
			c->write_latch = value;
			c->write_msb_next = true;
			if (c->mode == 0)
				c->counting = false; /* mode 0: the first byte stops the count */
			break;
		}
		c->write_msb_next = false;
		pit_write_complete(p, n, c->write_latch | (uint32_t)value << 8);
		break;
	case PIT_LATCH: break;
	}
}

/* One byte of a 16-bit value, as the access mode and read toggle say. */
static uint8_t pit_read_byte(struct pit_channel *c, uint16_t v, bool *done)
{
	bool msb = c->access == PIT_MSB || (c->access == PIT_LSB_MSB && c->read_msb_next);
	*done = c->access != PIT_LSB_MSB || c->read_msb_next;
	if (c->access == PIT_LSB_MSB)
		c->read_msb_next = !c->read_msb_next;
	return (uint8_t)(msb ? v >> 8 : v);
}

static uint8_t pit_read_count(struct pit *p, unsigned n)
{
	struct pit_channel *c = &p->ch[n];
	if (c->status_latched) {
		c->status_latched = false;
		return c->latched_status;
	}
	bool done;
	if (c->count_latched) {
		uint8_t b = pit_read_byte(c, c->latched_count, &done);
		c->count_latched = !done;
		return b;
	}
	return pit_read_byte(c, pit_count_at(c, p->now), &done);
}

uint8_t pit_read(struct pit *p, unsigned offset)
{
	return offset < PIT_NCHANNELS ? pit_read_count(p, offset) : 0xFF;
}

void pit_write(struct pit *p, unsigned offset, uint8_t value)
{
	if (offset == PIT_CONTROL_OFFSET)
		pit_control(p, value);
	else if (offset < PIT_NCHANNELS)
		pit_write_count(p, offset, value);
}

uint8_t pit_port_b_read(struct pit *p)
{
	uint8_t v = p->port_b;
	v |= pit_output_at(&p->ch[2], p->now) ? PIT_PORT_B_OUT2 : 0;
	v |= (p->now / PIT_REFRESH_TICKS) & 1 ? PIT_PORT_B_REFRESH : 0;
	return v;
}

/* A rising edge on a gate triggers modes 1 and 5 once a count was
 * written (loading the latest count: a retrigger) and reloads modes 2 and
 * 3; modes 0 and 4 go on counting. */
void pit_port_b_write(struct pit *p, uint8_t value)
{
	struct pit_channel *c = &p->ch[2];
	bool rising = (value & PIT_PORT_B_GATE2) && !(p->port_b & PIT_PORT_B_GATE2);
	p->port_b = value & PIT_PORT_B_WRITABLE;
	if (!rising)
		return;
	if (pit_mode_gate_triggered(c->mode) ? c->armed : c->counting && pit_mode_periodic(c->mode))
		pit_load(p, 2);
}

uint32_t pit_io_read(void *dev, uint16_t port, unsigned size)
{
	if (port == PIT_PORT_B)
		return pit_port_b_read(dev);
	return pit_read(dev, (unsigned)(port - PIT_PORT));
}

void pit_io_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	if (port == PIT_PORT_B)
		pit_port_b_write(dev, (uint8_t)value);
	else
		pit_write(dev, (unsigned)(port - PIT_PORT), (uint8_t)value);
}
