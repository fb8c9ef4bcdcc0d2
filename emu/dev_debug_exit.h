/* QEMU-compatible isa-debug-exit (as `-device isa-debug-exit,iobase=0xf4,
 * iosize=0x04`): a byte, word or dword write of v to ports 0xF4..0xF7 asks
 * the machine to stop with exit status (v << 1) | 1. Reads return all-ones.
 *
 * The device only records the request; the run loop polls exit_requested
 * after each I/O write and stops. The host process exit status is the low
 * 8 bits of exit_status, as with QEMU. Only the first request counts.
 */
#ifndef EMU_DEV_DEBUG_EXIT_H
#define EMU_DEV_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_NPORTS 4

struct debug_exit {
	bool exit_requested;
	uint64_t exit_status; /* (v << 1) | 1, v as written (up to 32 bits) */
};

void debug_exit_init(struct debug_exit *d);
void debug_exit_io_write(void *dev, uint16_t port, unsigned size, uint32_t value);

#endif
