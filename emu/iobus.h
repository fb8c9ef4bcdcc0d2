/* The port-I/O bus: devices claim port ranges, the CPU reads and writes.
 *
 * Each range has a native width (1, 2 or 4 bytes). An access wider than the
 * width of the range at its first port is split, as a PC bus splits a
 * 16-bit IN from an 8-bit device, into native-width pieces at consecutive
 * ports, each dispatched on its own (so a piece may fall on another device
 * or on an unclaimed port). Unclaimed ports read as all-ones and ignore
 * writes, as on a PC with nothing decoding the address.
 *
 * The bus has no notion of time: the caller brings timers up to date first
 * (devices_io_read/devices_io_write do).
 */
#ifndef EMU_IOBUS_H
#define EMU_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/fault.h"

/* Handlers see the port and a size no larger than their range's width;
 * reads return the value in the low `size` bytes. */
typedef uint32_t (*iobus_read_fn)(void *dev, uint16_t port, unsigned size);
typedef void (*iobus_write_fn)(void *dev, uint16_t port, unsigned size, uint32_t value);

struct iobus_range {
	uint16_t first, last; /* inclusive */
	unsigned width;       /* native access size, 1, 2 or 4 */
	void *dev;
	iobus_read_fn read;   /* NULL: reads as all-ones */
	iobus_write_fn write; /* NULL: writes ignored */
};

#define IOBUS_MAX_RANGES 16

struct iobus {
	struct iobus_range ranges[IOBUS_MAX_RANGES];
	unsigned nranges;
};

void iobus_init(struct iobus *bus);
/* Claim ports [first, first + count). False if the range is empty, wraps
 * past port 0xFFFF, overlaps a claimed range, has a bad width, or the bus
 * is full. */
MMU_WUR bool iobus_register(struct iobus *bus, uint16_t first, unsigned count, unsigned width,
			    void *dev, iobus_read_fn read, iobus_write_fn write);

/* size is 1, 2 or 4; other sizes read all-ones and write nothing. */
uint32_t iobus_read(const struct iobus *bus, uint16_t port, unsigned size);
void iobus_write(const struct iobus *bus, uint16_t port, unsigned size, uint32_t value);

#endif
