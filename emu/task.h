/* Hardware task switching outside IA-32e mode (SDM Vol. 3A chapter 7):
 * far JMP/CALL to a TSS or through a task gate, INT n, exceptions and
 * external interrupts through an IDT task gate, and IRET with NT = 1.
 * Private to emu/.
 *
 * Every entry point checks the new TSS, reads it whole and translates
 * every byte it will write (old TSS, new TSS link field, busy bits in the
 * GDT) before it writes anything, so a fault up to that point leaves the
 * machine unchanged. Past that point (the SDM's commit point, §7.3 step
 * 10) the new task's state is loaded and its segment descriptors checked;
 * a fault there is raised in the context of the new task: the entry point
 * returns TASK_FAULT_NEW_TASK with c->rip at the new task's EIP.
 *
 * 32-bit and 16-bit TSSs, in any mix; a switch that would enter
 * virtual-8086 mode is TASK_UNMODELLED with nothing changed. */
#ifndef EMU_TASK_H
#define EMU_TASK_H

#include "emu/cpu.h"
#include "emu/intr.h"

enum task_result {
	TASK_OK = 0,      /* in the new task: CS:EIP, SS:ESP, EFLAGS loaded */
	TASK_FAULT,       /* c->fault set before the commit point: nothing changed */
	TASK_FAULT_NEW_TASK, /* c->fault set after it: c->rip is the new task's EIP */
	TASK_UNMODELLED,  /* a virtual-8086 task: nothing changed */
};

/* Far JMP (call = false) or CALL to t, a TSS or task gate that
 * seg_far_target returned for selector sel. ret_eip: the EIP saved in
 * the old TSS (the next instruction). */
MMU_WUR enum task_result task_far(struct cpu *c, const struct seg_far_target *t, uint16_t sel,
				  bool call, uint64_t ret_eip);

/* Deliver e through gate, an IDT task gate that seg_check_idt_gate
 * passed: a nested switch, with e's error code pushed on the new task's
 * stack (Vol. 2 INT n "TASK-GATE"). */
MMU_WUR enum task_result task_deliver(struct cpu *c, const struct seg_desc *gate,
				      const struct intr_event *e);

/* IRET with EFLAGS.NT = 1 outside IA-32e mode: back to the task named by
 * the current TSS's previous-task link (Vol. 2 IRET "TASK-RETURN").
 * ret_eip: the EIP saved in the old TSS. */
MMU_WUR enum task_result task_return(struct cpu *c, uint64_t ret_eip);

/* What an instruction handler returns after a switch it started with d:
 * EXEC_OK, or EXEC_YIELD when the new task's EFLAGS opened IF for a
 * waiting interrupt; EXEC_FAULT or EXEC_FAULT_NEW_TASK; #UD, counted under
 * d's mnemonic, for TASK_UNMODELLED. */
enum exec_result task_exec_result(struct cpu *c, const struct insn *d, enum task_result r);

#endif
