/* Port-I/O dispatch: a short linear search over at most IOBUS_MAX_RANGES
 * claims, which beats anything cleverer at this size. */
#include "emu/iobus.h"

#include <string.h>

void iobus_init(struct iobus *bus)
{
	memset(bus, 0, sizeof *bus);
}

static bool width_valid(unsigned w)
{
	return w == 1 || w == 2 || w == 4;
}

bool iobus_register(struct iobus *bus, uint16_t first, unsigned count, unsigned width,
		    void *dev, iobus_read_fn read, iobus_write_fn write)
{
	if (count == 0 || first + (uint32_t)count - 1 > UINT16_MAX || !width_valid(width) ||
	    bus->nranges == IOBUS_MAX_RANGES)
		return false;
	uint16_t last = (uint16_t)(first + count - 1);
	for (unsigned i = 0; i < bus->nranges; i++)
		if (first <= bus->ranges[i].last && bus->ranges[i].first <= last)
			return false;
	bus->ranges[bus->nranges++] = (struct iobus_range){
		.first = first, .last = last, .width = width, .dev = dev, .read = read, .write = write,
	};
	return true;
}

static const struct iobus_range *iobus_find(const struct iobus *bus, uint16_t port)
{
	for (unsigned i = 0; i < bus->nranges; i++)
		if (bus->ranges[i].first <= port && port <= bus->ranges[i].last)
			return &bus->ranges[i];
	return NULL;
}

static uint32_t ones(unsigned size)
{
	return size >= 4 ? UINT32_MAX : (UINT32_C(1) << (8 * size)) - 1;
}

/* The piece that starts at port: the range's width, but never more than what
 * is left of the access. Unclaimed ports are taken one byte at a time. */
static unsigned piece_size(const struct iobus_range *r, unsigned left)
{
	unsigned w = r ? r->width : 1;
	return w < left ? w : left;
}

uint32_t iobus_read(const struct iobus *bus, uint16_t port, unsigned size)
{
	if (!width_valid(size))
		return UINT32_MAX;
	uint32_t value = 0;
	for (unsigned done = 0; done < size;) {
		uint16_t p = (uint16_t)(port + done); /* wraps at 0xFFFF like the address bus */
		const struct iobus_range *r = iobus_find(bus, p);
		unsigned n = piece_size(r, size - done);
		uint32_t piece = r && r->read ? r->read(r->dev, p, n) & ones(n) : ones(n);
		value |= piece << (8 * done);
		done += n;
	}
	return value;
}

void iobus_write(const struct iobus *bus, uint16_t port, unsigned size, uint32_t value)
{
	if (!width_valid(size))
		return;
	for (unsigned done = 0; done < size;) {
		uint16_t p = (uint16_t)(port + done);
		const struct iobus_range *r = iobus_find(bus, p);
		unsigned n = piece_size(r, size - done);
		if (r && r->write)
			r->write(r->dev, p, n, (value >> (8 * done)) & ones(n));
		done += n;
	}
}
