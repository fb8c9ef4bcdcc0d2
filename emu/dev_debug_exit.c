#include "emu/dev_debug_exit.h"

void debug_exit_init(struct debug_exit *d)
{
	d->exit_requested = false;
	d->exit_status = 0;
}

void debug_exit_io_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	struct debug_exit *d = dev;
	if (d->exit_requested)
		return;
	d->exit_requested = true;
	d->exit_status = ((uint64_t)value << 1) | 1;
}
