/* The 8254 programmable interval timer at 0x40-0x43; channel 0 drives
 * IRQ 0.
 *
 * Time: the PIT's input clock runs at PIT_HZ (1.193182 MHz). The machine
 * passes modelled CPU cycles and its CPU frequency; ticks are
 * floor(cycles * PIT_HZ / cpu_hz) (emu/tick.h), never host time.
 *
 * Implemented (Intel 8254 data sheet): control words for all three
 * channels; access modes latch, LSB only, MSB only, LSB then MSB; every
 * mode: 0 (interrupt on terminal count), 1 (hardware retriggerable
 * one-shot: OUT low from a gate trigger until terminal count), 2 (rate
 * generator), 3 (square wave), 4 (software-triggered strobe: OUT low for
 * one tick after terminal count, its rising edge raises IRQ 0) and 5
 * (hardware-triggered strobe); binary and BCD counting; the counter-latch
 * command; the read-back command (count and status); reading the current
 * count at any time. Channels 0 and 1 have their gates held high, so
 * modes 1 and 5 never trigger there, as on a PC; channel 2's gate is bit
 * 0 of port 0x61 (system control port B), whose bit 5 reads channel 2's
 * output and bit 4 a refresh-request signal that toggles every 18 PIT
 * ticks (about 15 us), as on a PC, so that guests can time delays and
 * calibrate other timers against the PIT. A rising gate edge triggers
 * modes 1 and 5 (loading the latest count; a count written during a
 * one-shot waits for the next trigger) and reloads modes 2 and 3; as in
 * QEMU, the gate level does not otherwise stop counting. The speaker is
 * not modelled (bit 1 is stored and read back).
 * Simplifications: a new count takes effect on the write that completes it,
 * not on the next clock edge; in mode 3 the output is high for the first
 * half of each period (rounded up) and the count read back falls by two
 * per tick within each half.
 */
#ifndef EMU_DEV_PIT_H
#define EMU_DEV_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/irq.h"
#include "emu/tick.h"

#define PIT_HZ UINT64_C(1193182)
#define PIT_PORT 0x40
#define PIT_NPORTS 4
#define PIT_CONTROL_OFFSET 3
#define PIT_IRQ 0
#define PIT_PORT_B 0x61        /* system control port B */
#define PIT_PORT_B_GATE2 0x01  /* channel 2 gate */
#define PIT_PORT_B_SPEAKER 0x02 /* speaker data enable */
#define PIT_PORT_B_WRITABLE (PIT_PORT_B_GATE2 | PIT_PORT_B_SPEAKER)
#define PIT_PORT_B_REFRESH 0x10 /* toggles every PIT_REFRESH_TICKS */
#define PIT_PORT_B_OUT2 0x20   /* channel 2 output */
#define PIT_REFRESH_TICKS 18
#define PIT_NCHANNELS 3

/* Control word (port 0x43): SC bits 7:6, RW bits 5:4, M bits 3:1, BCD bit 0. */
#define PIT_CW_SC_SHIFT 6
#define PIT_CW_SC_READBACK 3
#define PIT_CW_RW_SHIFT 4
#define PIT_CW_RW_MASK 0x30
#define PIT_CW_MODE_SHIFT 1
#define PIT_CW_MODE_MASK 0x0E
#define PIT_CW_BCD 0x01
/* Read-back command: bit 5 clear latches counts, bit 4 clear latches status,
 * bits 3:1 select channels 2..0. */
#define PIT_RB_NOT_COUNT 0x20
#define PIT_RB_NOT_STATUS 0x10
#define PIT_RB_CHANNEL(n) (0x02u << (n))
/* Status byte: output level, null count, then the control word's low 6 bits. */
#define PIT_STATUS_OUTPUT 0x80
#define PIT_STATUS_NULL_COUNT 0x40
#define PIT_STATUS_CW_MASK 0x3F

enum pit_access { PIT_LATCH = 0, PIT_LSB = 1, PIT_MSB = 2, PIT_LSB_MSB = 3 };

struct pit_channel {
	uint8_t control;      /* RW, mode and BCD bits (status byte bits 5:0) */
	uint8_t mode;         /* 0..5 */
	bool bcd;             /* counts in four BCD digits */
	enum pit_access access;
	uint32_t reload;      /* ticks per count: 1..65536 (a written 0 means 65536; 10000 in BCD) */
	uint32_t next_reload; /* the count last written, loaded now or by the next gate trigger */
	bool armed;           /* a count has been written since the control word */
	bool count_pending;   /* a count written and not yet loaded (status: null count) */
	bool counting;        /* the counting element is loaded and counting (modes 1, 5: triggered) */
	uint64_t start;       /* tick at which counting from reload began */
	uint16_t write_latch; /* LSB written so far in LSB-then-MSB mode */
	bool write_msb_next;
	bool read_msb_next;
	bool count_latched;
	uint16_t latched_count;
	bool status_latched;
	uint8_t latched_status;
};

struct pit {
	struct pit_channel ch[PIT_NCHANNELS];
	struct tick_clock clock;
	uint64_t now;          /* ticks at the last pit_advance */
	uint64_t edges_seen;   /* channel 0 output edges already sent to IRQ 0 */
	struct irq_line irq;   /* channel 0 output */
	uint8_t port_b;        /* port 0x61 bits 1:0 as written */
};

/* false if cpu_hz is out of range (tick_clock_valid). */
bool pit_init(struct pit *p, uint64_t cpu_hz, struct irq_line irq);
/* Run to `now_cycles` (monotonic; an earlier value is ignored), raising
 * IRQ 0 for channel 0's output rising edges passed on the way. Several
 * missed periods collapse into one request, as on an edge-triggered PIC. */
void pit_advance(struct pit *p, uint64_t now_cycles);
/* Cycle at which channel 0's output next rises, UINT64_MAX if never. */
uint64_t pit_next_event(const struct pit *p);

/* offset 0..2 = channels, 3 = control word (write only; reads 0xFF).
 * The iobus handlers also serve port 0x61 (PIT_PORT_B). */
uint8_t pit_read(struct pit *p, unsigned offset);
void pit_write(struct pit *p, unsigned offset, uint8_t value);
/* Port 0x61. */
uint8_t pit_port_b_read(struct pit *p);
void pit_port_b_write(struct pit *p, uint8_t value);
uint32_t pit_io_read(void *dev, uint16_t port, unsigned size);
void pit_io_write(void *dev, uint16_t port, unsigned size, uint32_t value);

#endif
