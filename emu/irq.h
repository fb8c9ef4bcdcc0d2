/* An interrupt request line from a device to an interrupt controller.
 *
 * A device drives its line to a level; the controller decides what an edge
 * or a level means (the 8259A in edge mode latches a request on a low-to-high
 * transition). A line that is not connected (set == NULL) is a no-op, so a
 * device can be tested alone.
 */
#ifndef EMU_IRQ_H
#define EMU_IRQ_H

#include <stdbool.h>

typedef void (*irq_set_fn)(void *ctx, unsigned line, bool level);

struct irq_line {
	irq_set_fn set;
	void *ctx;
	unsigned line;
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l->set)
		l->set(l->ctx, l->line, level);
}

/* A rising edge followed by a fall: how a timer output that is high for less
 * than one modelled instruction reaches an edge-triggered input. */
static inline void irq_line_pulse(const struct irq_line *l)
{
	irq_line_set(l, true);
	irq_line_set(l, false);
}

#endif
