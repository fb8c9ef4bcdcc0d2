/* The machine's devices, together: the port bus with the UART, the
 * debug-exit port, the PIT and the PIC pair on it, and the local APIC's
 * register page. The CPU calls only the functions declared here; the
 * device headers are included for the struct layout, not for their API.
 *
 * Time contract. The caller owns the one cycle counter and passes it in:
 *   - devices_advance(d, now) runs every timer up to cycle `now`;
 *   - devices_next_event(d) is the first cycle at which a timer will raise
 *     an interrupt; the CPU may run up to it without calling in. It stays
 *     valid until the next I/O write, MMIO write or APIC-base MSR write,
 *     after which the caller asks again;
 *   - the I/O and MMIO entry points take `now` and advance first, so a
 *     guest reading a counter sees it at the cycle of the access.
 * `now` never goes backwards; an earlier value is ignored.
 *
 * The answer of devices_interrupt_pending changes only inside the calls
 * declared here, so the CPU may keep it and ask again only after one of
 * them (and when RFLAGS.IF becomes 1): no per-instruction polling.
 *
 * Interrupt contract. devices_interrupt_pending() says whether an external
 * interrupt is waiting (the CPU checks RFLAGS.IF and its interrupt shadow
 * itself); devices_interrupt_ack() performs the acknowledge cycle and
 * returns the vector to deliver. The local APIC has precedence; 8259A
 * interrupts reach the CPU as ExtINT when lapic_accepts_pic() (the APIC is
 * off, software-disabled, or LINT0 is unmasked ExtINT) and bypass TPR.
 */
#ifndef EMU_DEVICES_H
#define EMU_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/dev_debug_exit.h"
#include "emu/dev_lapic.h"
#include "emu/dev_pic.h"
#include "emu/dev_pit.h"
#include "emu/dev_uart.h"
#include "emu/iobus.h"
#include "mmu/fault.h"

#define DEVICES_DEFAULT_CPU_HZ UINT64_C(1000000000)
#define DEVICES_DEFAULT_PHYS_ADDR_BITS 39

struct devices_config {
	uint64_t cpu_hz;           /* modelled cycles per second; 0 = DEVICES_DEFAULT_CPU_HZ */
	uint64_t apic_timer_hz;    /* local APIC timer input clock; 0 = cpu_hz */
	unsigned phys_addr_bits;   /* MAXPHYADDR for IA32_APIC_BASE; 0 = default */
	uart_sink_fn serial_sink;  /* COM1 output; NULL = `-serial none` */
	void *serial_ctx;
	FILE *warn;                /* one-line warnings about unimplemented features; NULL = silent */
	bool bios_state;           /* start as a PC BIOS leaves things (see devices_init) */
};

struct devices {
	struct iobus io;
	struct uart com1;
	struct debug_exit debug_exit;
	struct pic pic;
	struct pit pit;
	struct lapic lapic;
	uint64_t now;
};

/* Choose COM1's output from a `-serial` argument: "stdio" (stdout),
 * "file:PATH" (PATH created or truncated; *opened is set and the caller
 * closes it after the run), or "none". false with a one-line reason in err
 * for anything else or a file that cannot be opened. */
MMU_WUR bool devices_serial_open(struct devices_config *cfg, const char *spec, FILE **opened, char *err,
				 size_t errlen);

/* All devices at power-up, wired together. With cfg->bios_state, then
 * the port writes SeaBIOS makes before it boots a kernel under QEMU: both
 * 8259As initialized with vector bases 0x08 and 0x70, everything masked
 * but IRQ 0 and the cascade, and PIT channel 0 in mode 3 with a count of
 * 65536 (18.2 Hz), so a kernel that enables interrupts before
 * reprogramming them sees what it would see under QEMU. false with a reason in err for
 * a bad configuration (a frequency out of range, a bad MAXPHYADDR). The
 * struct holds no pointers to outside memory other than the config's sink
 * context and warning stream, and must not move after init (the bus and
 * the IRQ lines point into it). */
MMU_WUR bool devices_init(struct devices *d, const struct devices_config *cfg, char *err, size_t errlen);

void devices_advance(struct devices *d, uint64_t now);
uint64_t devices_next_event(const struct devices *d);

bool devices_interrupt_pending(const struct devices *d);
uint8_t devices_interrupt_ack(struct devices *d);

uint32_t devices_io_read(struct devices *d, uint64_t now, uint16_t port, unsigned size);
void devices_io_write(struct devices *d, uint64_t now, uint16_t port, unsigned size, uint32_t value);

/* Whether physical address pa is device memory (the APIC page) rather than RAM. */
bool devices_mmio_claims(const struct devices *d, uint64_t pa);
/* Accesses to a claimed address; size 1, 2, 4 or 8 (an 8-byte access is two
 * 4-byte ones). */
uint64_t devices_mmio_read(struct devices *d, uint64_t now, uint64_t pa, unsigned size);
void devices_mmio_write(struct devices *d, uint64_t now, uint64_t pa, unsigned size, uint64_t value);

/* IA32_APIC_BASE for RDMSR/WRMSR; the write returns false for #GP. */
uint64_t devices_apic_base_read(const struct devices *d);
MMU_WUR bool devices_apic_base_write(struct devices *d, uint64_t now, uint64_t value);
/* IA32_TSC_DEADLINE at `now` (lapic_read_tsc_deadline). */
uint64_t devices_tsc_deadline_read(struct devices *d, uint64_t now);
void devices_tsc_deadline_write(struct devices *d, uint64_t now, uint64_t value);
/* RDMSR/WRMSR of an x2APIC register at `now` (lapic_x2apic_read, _write);
 * false: #GP. */
MMU_WUR bool devices_x2apic_read(struct devices *d, uint64_t now, uint32_t msr, uint64_t *value);
MMU_WUR bool devices_x2apic_write(struct devices *d, uint64_t now, uint32_t msr, uint64_t value);
/* CPUID.01H:EDX.APIC: the APIC is globally enabled (SDM Vol. 3A §11.4.3:
 * with IA32_APIC_BASE's enable bit clear the processor reports none). */
bool devices_apic_present(const struct devices *d);

/* Host input for COM1 (e.g. from stdin); returns how many bytes fitted. */
unsigned devices_serial_input(struct devices *d, const uint8_t *bytes, unsigned n);

/* MOV to/from CR8: the local APIC's task priority (lapic_read_cr8). */
uint64_t devices_cr8_read(const struct devices *d);
void devices_cr8_write(struct devices *d, uint64_t cr8);

/* The run loop's exit poll (isa-debug-exit). */
bool devices_exit_requested(const struct devices *d, uint64_t *status);

#endif
