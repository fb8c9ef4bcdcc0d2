/* The CPU's side of device I/O: port I/O permission, memory-mapped device
 * accesses, and the APIC-base MSR and CR8 routed to the devices
 * (docs/machine.md). Private to emu/; the handlers live in emu/x_io.c.
 *
 * Every entry point passes the CPU's cycle counter as the devices' `now`
 * (emu/devices.h time contract). With c->dev NULL (unit tests of the CPU
 * alone) ports read all-ones and ignore writes and memory is RAM only.
 */
#ifndef EMU_IO_H
#define EMU_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/cpu.h"

/* Physical accesses at or above c->mmio_floor: a device's if it claims
 * the address, else RAM (all-ones beyond it). size 1..8. */
uint64_t io_mmio_load(struct cpu *c, uint64_t pa, unsigned size);
void io_mmio_store(struct cpu *c, uint64_t pa, unsigned size, uint64_t v);

/* RDMSR/WRMSR of IA32_APIC_BASE (SDM Vol. 3A §11.4.4) when devices are
 * attached: a write the APIC refuses raises #GP(0). */
enum exec_result io_apic_base_msr(struct cpu *c, bool write, uint64_t v);
/* RDMSR/WRMSR of IA32_TSC_DEADLINE (§11.5.4.1) when devices are attached
 * and the APIC is on; otherwise the MSR does not exist (#GP(0)), as
 * CPUID then reports no TSC-deadline timer. */
enum exec_result io_tsc_deadline_msr(struct cpu *c, bool write, uint64_t v);
/* RDMSR/WRMSR of MSRs 0x800-0x8FF: the x2APIC registers in x2APIC mode,
 * #GP(0) otherwise (SDM Vol. 3A §11.12.1.2). */
enum exec_result io_x2apic_msr(struct cpu *c, bool write, uint32_t index, uint64_t v);
/* Whether CPUID reports the APIC, x2APIC and the TSC-deadline timer. */
bool io_apic_present(const struct cpu *c);

/* MOV from/to CR8 when devices are attached: CR8 is TPR[7:4]. */
uint64_t io_cr8_read(const struct cpu *c);
void io_cr8_write(struct cpu *c, uint64_t v);

/* The return value of an instruction that may have set RFLAGS.IF (STI,
 * POPF, IRET, SYSRET): EXEC_YIELD when the machine has an external
 * interrupt waiting for IF (c->irq_waiting), so it is taken at the first
 * boundary that allows it without the machine stepping one instruction at
 * a time while IF = 0. */
static inline enum exec_result io_if_may_open(const struct cpu *c)
{
	return MMU_UNLIKELY(c->irq_waiting && (c->rflags & RFLAGS_IF)) ? EXEC_YIELD : EXEC_OK;
}

/* Recompute c->mmio_floor: the lower of the RAM size and the APIC page. */
void io_update_mmio_floor(struct cpu *c);

#endif
