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
	bool rf;         /* push RF = 1 (SDM Vol. 3B §17.3.1.1): a fault, or an event
			  * taken between iterations of a repeated string instruction */
	uint64_t rip;    /* RIP pushed: the faulting instruction, or the next one for traps */
};

/* Deliver e through the IDT (not in real mode). On success
 * CS:RIP, RSP, SS and RFLAGS are the handler's. False with c->fault set if
 * delivery faulted, with nothing changed — except through a task gate
 * once the task switch has passed its commit point: then the fault
 * belongs to the new task and c->rip is its EIP (emu/task.h). */
bool intr_deliver(struct cpu *c, const struct intr_event *e);

/* Deliver the exception in c->fault, raised by the instruction at c->rip,
 * escalating to #DF per SDM Vol. 3A Table 6-5. False on a triple fault
 * (c->stop_msg says what happened). */
bool intr_raise_exception(struct cpu *c);

/* Stack switching, shared by event delivery and far CALL through a call
 * gate (SDM Vol. 3A §5.8.5, §6.12.1, §6.14.4; Vol. 2 CALL). Each checks
 * and translates without committing, so the caller can stay precise. */
struct memref;

/* The stack for privilege level cpl from the current TSS: SSn:(E)SPn of a
 * 32- or 16-bit TSS (§7.2.1, §7.6), or RSPn of the 64-bit TSS in IA-32e
 * mode, where *ss is the null selector with RPL = cpl. A field beyond the
 * TSS limit → #TS(TR); #PF from the read. */
MMU_WUR bool intr_tss_stack(struct cpu *c, unsigned cpl, uint16_t *ss, uint64_t *sp);
/* Load SS with the TSS's selector for privilege level cpl (outside IA-32e
 * mode). Every check seg_load reports as #GP — null, beyond the table,
 * RPL or DPL ≠ cpl, not writable data — becomes #TS(ss) (§6.12.1.1,
 * Vol. 2 CALL); not present stays #SS(ss). This changes the SS cache: the
 * caller restores it if a later step faults. */
MMU_WUR bool intr_load_tss_ss(struct cpu *c, uint16_t ss, unsigned cpl);
/* The linear address of a len-byte frame at offset sp in the current SS:
 * SS's limit checks outside IA-32e mode (#SS(0)); in IA-32e mode sp
 * itself (canonical form is intr_stack_xlate's check). */
MMU_WUR bool intr_frame_linear(struct cpu *c, uint64_t sp, unsigned len, uint64_t *la);
/* Translate len bytes at linear la for a write with access context acc
 * (mmu_acc), both pages if it crosses one. Non-canonical → #SS(0). */
MMU_WUR bool intr_stack_xlate(struct cpu *c, uint64_t la, unsigned len, unsigned acc,
			      struct memref *r);
/* n entries of frame (lowest address first) as slot-byte little-endian
 * entries at out. */
void intr_pack_frame(const uint64_t *frame, unsigned n, unsigned slot, uint8_t *out);
/* RSP after a frame at new_sp was pushed: all of it in IA-32e mode, else
 * ESP or SP by SS.B (the bits above a 16-bit SP are kept). */
void intr_set_sp(struct cpu *c, uint64_t new_sp);

#endif
