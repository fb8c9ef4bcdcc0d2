/* Exceptions and interrupts: IDT delivery in IA-32e and protected mode,
 * #DF, shutdown. Private to emu/. */
#ifndef EMU_INTR_H
#define EMU_INTR_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"

/* Modelled cost of delivering an event, beyond its memory accesses. */
#define INTR_DELIVERY_CYCLES 100

struct intr_event {
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
	bool software;   /* INT n / INT3: the gate's DPL is checked against CPL */
	bool ext;        /* raised while delivering an earlier event (error-code EXT bit) */
	uint64_t rip;    /* RIP pushed: the faulting instruction, or the next one for traps */
};

/* Deliver e through the IDT (not in real mode). On success
 * CS:RIP, RSP, SS and RFLAGS are the handler's. False with c->fault set if
 * delivery faulted, with nothing changed. */
bool intr_deliver(struct cpu *c, const struct intr_event *e);

/* Deliver the exception in c->fault, raised by the instruction at c->rip,
 * escalating to #DF per SDM Vol. 3A Table 6-5. False on a triple fault
 * (c->stop_msg says what happened). */
bool intr_raise_exception(struct cpu *c);

#endif
