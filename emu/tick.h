/* Exact conversion between modelled CPU cycles and a device's input clock.
 *
 * A device clock of tick_hz driven by a CPU of cpu_hz has ticked
 * floor(cycles * tick_hz / cpu_hz) times after `cycles` cycles. The product
 * can exceed 64 bits, so the cycle count is split into whole seconds and a
 * remainder; every intermediate then fits in 64 bits as long as both
 * frequencies are at most TICK_MAX_HZ. Only integer arithmetic: the same
 * cycle count always gives the same tick count, on every host.
 */
#ifndef EMU_TICK_H
#define EMU_TICK_H

#include <stdbool.h>
#include <stdint.h>

/* Both frequencies below 2^32 Hz keep remainder * frequency below 2^64; the
 * device clock may not run faster than the CPU, so whole seconds * tick_hz
 * cannot overflow before the cycle count itself does. */
#define TICK_MAX_HZ (UINT64_C(1) << 32)

struct tick_clock {
	uint64_t tick_hz; /* device input clock, Hz */
	uint64_t cpu_hz;  /* modelled CPU clock, Hz */
};

static inline bool tick_clock_valid(const struct tick_clock *c)
{
	return c->tick_hz > 0 && c->tick_hz <= c->cpu_hz && c->cpu_hz < TICK_MAX_HZ;
}

/* Ticks completed after `cycles` cycles: floor(cycles * tick_hz / cpu_hz). */
static inline uint64_t tick_from_cycles(const struct tick_clock *c, uint64_t cycles)
{
	uint64_t whole = cycles / c->cpu_hz, rest = cycles % c->cpu_hz;
	return whole * c->tick_hz + rest * c->tick_hz / c->cpu_hz;
}

/* First cycle count at which `ticks` ticks are complete: the smallest n with
 * tick_from_cycles(n) >= ticks, i.e. ceil(ticks * cpu_hz / tick_hz).
 * Saturates at UINT64_MAX when that cycle lies beyond 64 bits. */
static inline uint64_t tick_to_cycles(const struct tick_clock *c, uint64_t ticks)
{
	uint64_t whole = ticks / c->tick_hz, rest = ticks % c->tick_hz;
	uint64_t part = (rest * c->cpu_hz + c->tick_hz - 1) / c->tick_hz;
	if (whole > (UINT64_MAX - part) / c->cpu_hz)
		return UINT64_MAX;
	return whole * c->cpu_hz + part;
}

#endif
