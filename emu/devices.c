/* Wiring of the PC devices: ports, IRQ lines, interrupt routing. */
#include "emu/devices.h"

#include <errno.h>
#include <string.h>

#define SERIAL_FILE_PREFIX "file:"

static bool devices_register_ports(struct devices *d)
{
	struct iobus *io = &d->io;
	return iobus_register(io, UART_COM1_PORT, UART_NPORTS, 1, &d->com1, uart_io_read, uart_io_write) &&
	       iobus_register(io, DEBUG_EXIT_PORT, DEBUG_EXIT_NPORTS, 4, &d->debug_exit, NULL,
			      debug_exit_io_write) &&
	       iobus_register(io, PIC_MASTER_PORT, 2, 1, &d->pic, pic_io_read, pic_io_write) &&
	       iobus_register(io, PIC_SLAVE_PORT, 2, 1, &d->pic, pic_io_read, pic_io_write) &&
	       iobus_register(io, PIC_ELCR_PORT, 2, 1, &d->pic, pic_io_read, pic_io_write) &&
	       iobus_register(io, PIT_PORT, PIT_NPORTS, 1, &d->pit, pit_io_read, pit_io_write) &&
	       iobus_register(io, PIT_PORT_B, 1, 1, &d->pit, pit_io_read, pit_io_write);
}

bool devices_serial_open(struct devices_config *cfg, const char *spec, FILE **opened, char *err,
			 size_t errlen)
{
	*opened = NULL;
	cfg->serial_sink = NULL;
	cfg->serial_ctx = NULL;
	if (strcmp(spec, "none") == 0)
		return true;
	if (strcmp(spec, "stdio") == 0) {
		cfg->serial_sink = uart_sink_file;
		cfg->serial_ctx = stdout;
		return true;
	}
	if (strncmp(spec, SERIAL_FILE_PREFIX, strlen(SERIAL_FILE_PREFIX)) != 0) {
		snprintf(err, errlen, "mmulab: -serial %s: expected stdio, file:PATH or none", spec);
		return false;
	}
	const char *path = spec + strlen(SERIAL_FILE_PREFIX);
	*opened = fopen(path, "wb");
	if (!*opened) {
		snprintf(err, errlen, "mmulab: %s: %s", path, strerror(errno));
		return false;
	}
	cfg->serial_sink = uart_sink_file;
	cfg->serial_ctx = *opened;
	return true;
}

/* What a PC BIOS leaves behind (SeaBIOS pic_setup, pit_setup and the
 * timer's enable_hwirq), written through the ports at cycle 0. */
#define BIOS_MASTER_VECTOR_BASE 0x08
#define BIOS_SLAVE_VECTOR_BASE 0x70
#define BIOS_MASTER_IMR ((uint8_t)~((1u << PIT_IRQ) | (1u << PIC_CASCADE_IRQ)))
#define BIOS_SLAVE_IMR 0xFF
#define BIOS_PIT_CONTROL (PIT_LSB_MSB << PIT_CW_RW_SHIFT | 3u << PIT_CW_MODE_SHIFT)
#define PIC_ICW3_MASTER_HAS_SLAVE_ON_IR2 (1u << PIC_CASCADE_IRQ)
#define PIC_ICW3_SLAVE_ID PIC_CASCADE_IRQ

static void devices_bios_setup(struct devices *d)
{
	static const struct { uint16_t port; uint8_t value; } writes[] = {
		{ PIC_MASTER_PORT, PIC_ICW1 | PIC_ICW1_IC4 },
		{ PIC_SLAVE_PORT, PIC_ICW1 | PIC_ICW1_IC4 },
		{ PIC_MASTER_PORT + 1, BIOS_MASTER_VECTOR_BASE },
		{ PIC_SLAVE_PORT + 1, BIOS_SLAVE_VECTOR_BASE },
		{ PIC_MASTER_PORT + 1, PIC_ICW3_MASTER_HAS_SLAVE_ON_IR2 },
		{ PIC_SLAVE_PORT + 1, PIC_ICW3_SLAVE_ID },
		{ PIC_MASTER_PORT + 1, PIC_ICW4_UPM },
		{ PIC_SLAVE_PORT + 1, PIC_ICW4_UPM },
		{ PIC_MASTER_PORT + 1, BIOS_MASTER_IMR },
		{ PIC_SLAVE_PORT + 1, BIOS_SLAVE_IMR },
		{ PIT_PORT + PIT_CONTROL_OFFSET, BIOS_PIT_CONTROL },
		{ PIT_PORT, 0 }, /* count 0 = 65536 */
		{ PIT_PORT, 0 },
	};
	for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++)
		iobus_write(&d->io, writes[i].port, 1, writes[i].value);
}

bool devices_init(struct devices *d, const struct devices_config *cfg, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	uint64_t cpu_hz = cfg->cpu_hz ? cfg->cpu_hz : DEVICES_DEFAULT_CPU_HZ;
	uint64_t apic_hz = cfg->apic_timer_hz ? cfg->apic_timer_hz : cpu_hz;
	unsigned bits = cfg->phys_addr_bits ? cfg->phys_addr_bits : DEVICES_DEFAULT_PHYS_ADDR_BITS;
	iobus_init(&d->io);
	pic_init(&d->pic, cfg->warn);
	debug_exit_init(&d->debug_exit);
	uart_init(&d->com1, cfg->serial_sink, cfg->serial_ctx,
		  (struct irq_line){ pic_irq_line_set, &d->pic, UART_COM1_IRQ });
	if (!pit_init(&d->pit, cpu_hz, (struct irq_line){ pic_irq_line_set, &d->pic, PIT_IRQ })) {
		snprintf(err, errlen, "CPU frequency %llu Hz is out of range (%llu..%llu)",
			 (unsigned long long)cpu_hz, (unsigned long long)PIT_HZ,
			 (unsigned long long)(TICK_MAX_HZ - 1));
		return false;
	}
	if (!lapic_init(&d->lapic, cpu_hz, apic_hz, bits)) {
		snprintf(err, errlen, "local APIC timer at %llu Hz or MAXPHYADDR %u is out of range "
			 "(timer 1..CPU frequency, MAXPHYADDR 32..52)", (unsigned long long)apic_hz, bits);
		return false;
	}
	if (!devices_register_ports(d)) {
		snprintf(err, errlen, "device port ranges overlap");
		return false;
	}
	if (cfg->bios_state)
		devices_bios_setup(d);
	return true;
}

void devices_advance(struct devices *d, uint64_t now)
{
	if (now < d->now)
		return;
	d->now = now;
	pit_advance(&d->pit, now);
	lapic_advance(&d->lapic, now);
}

uint64_t devices_next_event(const struct devices *d)
{
	uint64_t pit = pit_next_event(&d->pit), apic = lapic_next_event(&d->lapic);
	return pit < apic ? pit : apic;
}

static bool devices_pic_routed(const struct devices *d)
{
	return lapic_accepts_pic(&d->lapic) && pic_pending(&d->pic);
}

bool devices_interrupt_pending(const struct devices *d)
{
	return lapic_pending(&d->lapic) || devices_pic_routed(d);
}

uint8_t devices_interrupt_ack(struct devices *d)
{
	if (lapic_pending(&d->lapic))
		return lapic_acknowledge(&d->lapic);
	if (devices_pic_routed(d))
		return pic_acknowledge(&d->pic);
	/* Nothing left (the caller acknowledged without a pending interrupt):
	 * answer as the hardware would, with a spurious vector. */
	return lapic_globally_enabled(&d->lapic) && !lapic_accepts_pic(&d->lapic)
		       ? lapic_acknowledge(&d->lapic)
		       : pic_acknowledge(&d->pic);
}

uint32_t devices_io_read(struct devices *d, uint64_t now, uint16_t port, unsigned size)
{
	devices_advance(d, now);
	return iobus_read(&d->io, port, size);
}

void devices_io_write(struct devices *d, uint64_t now, uint16_t port, unsigned size, uint32_t value)
{
	devices_advance(d, now);
	iobus_write(&d->io, port, size, value);
}

bool devices_mmio_claims(const struct devices *d, uint64_t pa)
{
	return lapic_claims(&d->lapic, pa);
}

/* The APIC page is page-aligned, so the offset is the low 12 bits. */
static uint32_t devices_apic_offset(uint64_t pa)
{
	return (uint32_t)(pa % LAPIC_PAGE_SIZE);
}

uint64_t devices_mmio_read(struct devices *d, uint64_t now, uint64_t pa, unsigned size)
{
	devices_advance(d, now);
	uint32_t off = devices_apic_offset(pa);
	if (size == 8)
		return lapic_read(&d->lapic, off, 4) | (uint64_t)lapic_read(&d->lapic, off + 4, 4) << 32;
	return lapic_read(&d->lapic, off, size);
}

void devices_mmio_write(struct devices *d, uint64_t now, uint64_t pa, unsigned size, uint64_t value)
{
	devices_advance(d, now);
	uint32_t off = devices_apic_offset(pa);
	if (size == 8) {
		lapic_write(&d->lapic, off, 4, (uint32_t)value);
		lapic_write(&d->lapic, off + 4, 4, (uint32_t)(value >> 32));
		return;
	}
	lapic_write(&d->lapic, off, size, (uint32_t)value);
}

uint64_t devices_apic_base_read(const struct devices *d)
{
	return lapic_read_base_msr(&d->lapic);
}

bool devices_apic_base_write(struct devices *d, uint64_t now, uint64_t value)
{
	devices_advance(d, now);
	return lapic_write_base_msr(&d->lapic, value);
}

uint64_t devices_tsc_deadline_read(struct devices *d, uint64_t now)
{
	devices_advance(d, now);
	return lapic_read_tsc_deadline(&d->lapic);
}

void devices_tsc_deadline_write(struct devices *d, uint64_t now, uint64_t value)
{
	devices_advance(d, now);
	lapic_write_tsc_deadline(&d->lapic, value);
	devices_advance(d, now); /* a deadline already passed fires now */
}

bool devices_x2apic_read(struct devices *d, uint64_t now, uint32_t msr, uint64_t *value)
{
	devices_advance(d, now);
	return lapic_x2apic_read(&d->lapic, msr, value);
}

bool devices_x2apic_write(struct devices *d, uint64_t now, uint32_t msr, uint64_t value)
{
	devices_advance(d, now);
	return lapic_x2apic_write(&d->lapic, msr, value);
}

bool devices_apic_present(const struct devices *d)
{
	return lapic_globally_enabled(&d->lapic);
}

unsigned devices_serial_input(struct devices *d, const uint8_t *bytes, unsigned n)
{
	return uart_receive(&d->com1, bytes, n);
}

uint64_t devices_cr8_read(const struct devices *d)
{
	return lapic_read_cr8(&d->lapic);
}

void devices_cr8_write(struct devices *d, uint64_t cr8)
{
	lapic_write_cr8(&d->lapic, cr8);
}

bool devices_exit_requested(const struct devices *d, uint64_t *status)
{
	if (d->debug_exit.exit_requested && status)
		*status = d->debug_exit.exit_status;
	return d->debug_exit.exit_requested;
}
