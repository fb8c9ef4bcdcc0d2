/* Device models: port bus, 16550A UART, debug-exit, 8259A pair, 8254 PIT,
 * local APIC, and the interrupt routing between them. Every timer test
 * drives time through modelled cycles only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/devices.h"

/* ---- fixtures */

#define CPU_HZ UINT64_C(1000000000) /* 1 GHz: 1 cycle = 1 ns */

struct capture {
	uint8_t bytes[1024];
	unsigned n;
};

static void capture_sink(void *ctx, uint8_t byte)
{
	struct capture *c = ctx;
	if (c->n < sizeof c->bytes)
		c->bytes[c->n++] = byte;
}

static struct devices *machine(struct capture *out, FILE *warn)
{
	struct devices *d = malloc(sizeof *d);
	cr_assert(d);
	struct devices_config cfg = {
		.cpu_hz = CPU_HZ, .serial_sink = out ? capture_sink : NULL, .serial_ctx = out, .warn = warn,
	};
	char err[160];
	cr_assert(devices_init(d, &cfg, err, sizeof err), "%s", err);
	return d;
}

static void outb(struct devices *d, uint16_t port, uint8_t v)
{
	devices_io_write(d, d->now, port, 1, v);
}

static uint8_t inb(struct devices *d, uint16_t port)
{
	return (uint8_t)devices_io_read(d, d->now, port, 1);
}

/* The standard PC initialization: edge, cascade, ICW4 (8086 mode). */
static void pic_setup(struct devices *d, uint8_t master_base, uint8_t slave_base)
{
	outb(d, 0x20, 0x11);
	outb(d, 0xA0, 0x11);
	outb(d, 0x21, master_base);
	outb(d, 0xA1, slave_base);
	outb(d, 0x21, 0x04);
	outb(d, 0xA1, 0x02);
	outb(d, 0x21, 0x01);
	outb(d, 0xA1, 0x01);
}

static void pic_eoi(struct devices *d, uint16_t cmd_port)
{
	outb(d, cmd_port, PIC_OCW2_EOI);
}

/* ---- port bus */

Test(iobus, unclaimed_port_reads_all_ones)
{
	struct devices *d = machine(NULL, NULL);
	cr_assert_eq(devices_io_read(d, 0, 0x80, 1), 0xFF);
	cr_assert_eq(devices_io_read(d, 0, 0x1234, 2), 0xFFFF);
	cr_assert_eq(devices_io_read(d, 0, 0x5000, 4), 0xFFFFFFFF);
	devices_io_write(d, 0, 0x80, 1, 0); /* ignored, no crash */
	cr_assert_eq(devices_io_read(d, 0, 0x80, 1), 0xFF);
	free(d);
}

Test(iobus, wide_access_is_split_into_device_width_pieces)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x3F8 + UART_SCR, 0x5A);
	/* SCR (0x3FF) then the unclaimed port 0x400. */
	cr_assert_eq(devices_io_read(d, 0, 0x3FF, 2), 0xFF5A);
	devices_io_write(d, 0, 0x3FE, 2, 0xA5F0); /* MSR (read-only), SCR */
	cr_assert_eq(inb(d, 0x3FF), 0xA5);
	free(d);
}

static uint32_t dummy_read(void *dev, uint16_t port, unsigned size)
{
	return 0;
}

Test(iobus, rejects_overlapping_and_wrapping_ranges)
{
	struct iobus bus;
	iobus_init(&bus);
	cr_assert(iobus_register(&bus, 0x100, 8, 1, NULL, dummy_read, NULL));
	cr_assert_not(iobus_register(&bus, 0x107, 2, 1, NULL, dummy_read, NULL));
	cr_assert_not(iobus_register(&bus, 0xFFFF, 2, 1, NULL, dummy_read, NULL));
	cr_assert_not(iobus_register(&bus, 0x200, 1, 3, NULL, dummy_read, NULL));
	cr_assert(iobus_register(&bus, 0x108, 1, 1, NULL, dummy_read, NULL));
	cr_assert_eq(iobus_read(&bus, 0x108, 1), 0);
	cr_assert_eq(iobus_read(&bus, 0x108, 3), 0xFFFFFFFF, "bad size reads all-ones");
}

/* ---- UART */

Test(uart, uart_lsr_reports_thr_empty)
{
	struct capture out = { 0 };
	struct devices *d = machine(&out, NULL);
	uint8_t lsr = inb(d, 0x3F8 + UART_LSR);
	cr_assert_eq(lsr & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
	cr_assert_eq(lsr & UART_LSR_DR, 0);
	outb(d, 0x3F8, 'x');
	cr_assert(inb(d, 0x3F8 + UART_LSR) & UART_LSR_THRE);
	free(d);
}

Test(uart, uart_output_is_byte_exact)
{
	struct capture out = { 0 };
	struct devices *d = machine(&out, NULL);
	for (unsigned i = 0; i < 256; i++)
		outb(d, 0x3F8, (uint8_t)(i * 7 + 3));
	cr_assert_eq(out.n, 256);
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(out.bytes[i], (uint8_t)(i * 7 + 3), "byte %u", i);
	/* Register writes other than THR emit nothing. */
	outb(d, 0x3F8 + UART_LCR, 0x03);
	outb(d, 0x3F8 + UART_SCR, 0x41);
	cr_assert_eq(out.n, 256);
	free(d);
}

Test(uart, uart_none_sink_swallows_output)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x3F8, 'a');
	cr_assert(inb(d, 0x3F8 + UART_LSR) & UART_LSR_THRE);
	free(d);
}

Test(uart, uart_dlab_selects_divisor_latch)
{
	struct capture out = { 0 };
	struct devices *d = machine(&out, NULL);
	outb(d, 0x3F8 + UART_LCR, UART_LCR_DLAB | 0x03);
	outb(d, 0x3F8 + 0, 0x01); /* DLL: 115200 baud */
	outb(d, 0x3F8 + 1, 0x00); /* DLM */
	cr_assert_eq(inb(d, 0x3F8 + 0), 0x01);
	cr_assert_eq(d->com1.divisor, 1);
	cr_assert_eq(out.n, 0, "a DLL write is not data");
	outb(d, 0x3F8 + UART_LCR, 0x03);
	cr_assert_eq(inb(d, 0x3F8 + UART_IER), 0, "IER untouched by the DLM write");
	free(d);
}

Test(uart, uart_loopback_returns_written_bytes_and_mirrors_mcr)
{
	struct capture out = { 0 };
	struct devices *d = machine(&out, NULL);
	outb(d, 0x3F8 + UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	outb(d, 0x3F8, 0xAE);
	cr_assert_eq(out.n, 0, "loopback bytes do not reach the sink");
	cr_assert(inb(d, 0x3F8 + UART_LSR) & UART_LSR_DR);
	cr_assert_eq(inb(d, 0x3F8), 0xAE);
	cr_assert_eq(inb(d, 0x3F8 + UART_LSR) & UART_LSR_DR, 0);
	uint8_t msr = inb(d, 0x3F8 + UART_MSR);
	cr_assert_eq(msr & 0xF0, UART_MSR_CTS, "CTS follows RTS, the rest follow low outputs");
	free(d);
}

Test(uart, uart_thre_interrupt_raises_irq4_and_iir_read_clears_it)
{
	struct capture out = { 0 };
	struct devices *d = machine(&out, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, 0x3F8 + UART_IER, UART_IER_THRE);
	cr_assert(devices_interrupt_pending(d));
	cr_assert_eq(devices_interrupt_ack(d), 0x24, "IRQ 4 at vector base 0x20");
	cr_assert_eq(inb(d, 0x3F8 + UART_IIR_FCR) & 0x0F, UART_IIR_THRE);
	cr_assert_eq(inb(d, 0x3F8 + UART_IIR_FCR) & 0x0F, UART_IIR_NONE, "IIR read cleared THRE");
	pic_eoi(d, 0x20);
	cr_assert_not(devices_interrupt_pending(d));
	outb(d, 0x3F8, 'z'); /* THR empties again at once */
	cr_assert(devices_interrupt_pending(d));
	free(d);
}

Test(uart, uart_received_data_interrupt_has_priority_over_thre)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x3F8 + UART_IER, UART_IER_THRE | UART_IER_RDA);
	cr_assert_eq(devices_serial_input(d, (const uint8_t *)"hi", 2), 2);
	cr_assert_eq(inb(d, 0x3F8 + UART_IIR_FCR) & 0x0F, UART_IIR_RDA);
	cr_assert_eq(inb(d, 0x3F8), 'h');
	cr_assert_eq(inb(d, 0x3F8), 'i');
	cr_assert_eq(inb(d, 0x3F8 + UART_IIR_FCR) & 0x0F, UART_IIR_THRE);
	free(d);
}

Test(uart, uart_overrun_sets_oe_until_lsr_read)
{
	struct devices *d = machine(NULL, NULL);
	uint8_t buf[UART_RX_CAPACITY + 1] = { 0 };
	cr_assert_eq(uart_receive(&d->com1, buf, sizeof buf), UART_RX_CAPACITY);
	cr_assert(inb(d, 0x3F8 + UART_LSR) & UART_LSR_OE);
	cr_assert_eq(inb(d, 0x3F8 + UART_LSR) & UART_LSR_OE, 0);
	free(d);
}

Test(uart, uart_fifo_enable_shows_in_iir_and_scratch_holds_value)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x3F8 + UART_IIR_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
	cr_assert_eq(inb(d, 0x3F8 + UART_IIR_FCR), UART_IIR_FIFO_ON | UART_IIR_NONE);
	outb(d, 0x3F8 + UART_SCR, 0x3C);
	cr_assert_eq(inb(d, 0x3F8 + UART_SCR), 0x3C);
	free(d);
}

/* ---- debug exit */

Test(debug_exit, debug_exit_status_is_v_shl1_or1)
{
	static const struct { unsigned size; uint32_t v; } cases[] = {
		{ 1, 0x00 }, { 1, 0x10 }, { 2, 0x1234 }, { 4, 0x7FFFFFFF },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct devices *d = machine(NULL, NULL);
		uint64_t status = 0;
		cr_assert_not(devices_exit_requested(d, &status));
		devices_io_write(d, 0, 0xF4, cases[i].size, cases[i].v);
		cr_assert(devices_exit_requested(d, &status));
		cr_assert_eq(status, ((uint64_t)cases[i].v << 1) | 1, "case %zu", i);
		free(d);
	}
}

Test(debug_exit, first_request_wins_and_reads_are_all_ones)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0xF4, 3);
	outb(d, 0xF4, 9);
	uint64_t status;
	cr_assert(devices_exit_requested(d, &status));
	cr_assert_eq(status, 7);
	cr_assert_eq(inb(d, 0xF4), 0xFF);
	free(d);
}

/* ---- 8259A */

Test(pic, pic_icw_sequence_sets_vector_offset)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x30, 0x38);
	pic_raise_irq(&d->pic, 1);
	cr_assert(pic_pending(&d->pic));
	cr_assert_eq(pic_acknowledge(&d->pic), 0x31);
	pic_raise_irq(&d->pic, 9);
	pic_eoi(d, 0x20);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x39, "slave IRQ 9 = slave base + 1");
	free(d);
}

Test(pic, pic_eoi_allows_lower_priority)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pic_raise_irq(&d->pic, 3);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x23);
	pic_raise_irq(&d->pic, 5);
	cr_assert_not(pic_pending(&d->pic), "IRQ 3 in service blocks IRQ 5");
	pic_raise_irq(&d->pic, 1);
	cr_assert(pic_pending(&d->pic), "a higher priority request nests");
	cr_assert_eq(pic_acknowledge(&d->pic), 0x21);
	pic_eoi(d, 0x20); /* ends IRQ 1 */
	cr_assert_not(pic_pending(&d->pic));
	pic_eoi(d, 0x20); /* ends IRQ 3 */
	cr_assert(pic_pending(&d->pic));
	cr_assert_eq(pic_acknowledge(&d->pic), 0x25);
	free(d);
}

Test(pic, pic_specific_eoi_clears_named_level)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pic_raise_irq(&d->pic, 6);
	(void)pic_acknowledge(&d->pic);
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_RR | PIC_OCW3_RIS);
	cr_assert_eq(inb(d, 0x20), 1u << 6, "OCW3 selects ISR");
	outb(d, 0x20, PIC_OCW2_SL | PIC_OCW2_EOI | 6);
	cr_assert_eq(inb(d, 0x20), 0);
	free(d);
}

Test(pic, pic_ocw3_reads_irr_and_imr_masks)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, 0x21, 1u << 4);
	cr_assert_eq(inb(d, 0x21), 1u << 4);
	pic_raise_irq(&d->pic, 4);
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_RR);
	cr_assert_eq(inb(d, 0x20), 1u << 4, "masked request still shows in IRR");
	cr_assert_not(pic_pending(&d->pic));
	outb(d, 0x21, 0);
	cr_assert(pic_pending(&d->pic));
	free(d);
}

Test(pic, pic_edge_needs_a_new_rising_edge)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pic_raise_irq(&d->pic, 0);
	(void)pic_acknowledge(&d->pic);
	pic_eoi(d, 0x20);
	pic_raise_irq(&d->pic, 0); /* still high: no edge */
	cr_assert_not(pic_pending(&d->pic));
	pic_lower_irq(&d->pic, 0);
	pic_raise_irq(&d->pic, 0);
	cr_assert(pic_pending(&d->pic));
	free(d);
}

Test(pic, pic_spurious_irq7_and_irq15)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x27, "nothing pending: spurious IRQ 7");
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_RR | PIC_OCW3_RIS);
	cr_assert_eq(inb(d, 0x20), 0, "spurious IRQ 7 sets no ISR bit");
	/* A slave request withdrawn (masked) after it reached master IR2. */
	pic_raise_irq(&d->pic, 12);
	outb(d, 0xA1, 1u << 4);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x2F, "spurious IRQ 15");
	cr_assert_eq(inb(d, 0x20), 1u << 2, "master keeps IR2 in service");
	outb(d, 0xA0, PIC_OCW3 | PIC_OCW3_RR | PIC_OCW3_RIS);
	cr_assert_eq(inb(d, 0xA0), 0);
	free(d);
}

Test(pic, pic_auto_eoi_leaves_isr_clear)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x20, PIC_ICW1 | PIC_ICW1_IC4);
	outb(d, 0x21, 0x40);
	outb(d, 0x21, 0x04);
	outb(d, 0x21, PIC_ICW4_UPM | PIC_ICW4_AEOI);
	pic_raise_irq(&d->pic, 5);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x45);
	pic_raise_irq(&d->pic, 6);
	cr_assert(pic_pending(&d->pic), "no EOI needed in AEOI mode");
	free(d);
}

Test(pic, pic_unimplemented_mode_warns_once)
{
	char *text = NULL;
	size_t len = 0;
	FILE *warn = open_memstream(&text, &len);
	struct devices *d = machine(NULL, warn);
	for (int i = 0; i < 2; i++) { /* ICW4 with uPM = 0: 8080/8085 mode */
		outb(d, 0x20, PIC_ICW1 | PIC_ICW1_IC4 | PIC_ICW1_SNGL);
		outb(d, 0x21, 0x20);
		outb(d, 0x21, 0);
	}
	fclose(warn);
	cr_assert(strstr(text, "8080/8085 mode"), "%s", text);
	cr_assert_eq(strchr(text, '\n'), text + len - 1, "exactly one line: %s", text);
	free(text);
	free(d);
}

/* Rotate on non-specific EOI: the level ended becomes the lowest. */
Test(pic, pic_rotate_on_eoi_makes_the_served_level_lowest)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pic_raise_irq(&d->pic, 3);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x23);
	outb(d, 0x20, PIC_OCW2_R | PIC_OCW2_EOI);
	pic_raise_irq(&d->pic, 1);
	pic_raise_irq(&d->pic, 5);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x25, "IR4 is now the highest priority, IR3 the lowest");
	pic_eoi(d, 0x20); /* a plain EOI does not rotate */
	cr_assert_eq(pic_acknowledge(&d->pic), 0x21);
	outb(d, 0x20, PIC_OCW2_R | PIC_OCW2_SL | PIC_OCW2_EOI | 1); /* rotate on specific EOI */
	pic_raise_irq(&d->pic, 4);
	pic_lower_irq(&d->pic, 3); /* a new edge on IR3 */
	pic_raise_irq(&d->pic, 3);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x23, "IR2 highest after IR1 became the lowest");
	free(d);
}

Test(pic, pic_set_priority_names_the_lowest_level)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, 0x20, PIC_OCW2_R | PIC_OCW2_SL | 4);
	pic_raise_irq(&d->pic, 0);
	pic_raise_irq(&d->pic, 6);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x26, "IR5 highest, then 6, 7, 0");
	pic_raise_irq(&d->pic, 5);
	cr_assert(pic_pending(&d->pic), "IR5 outranks IR6 in service");
	pic_raise_irq(&d->pic, 7);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x25);
	free(d);
}

Test(pic, pic_rotate_in_auto_eoi_mode)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x20, PIC_ICW1 | PIC_ICW1_IC4 | PIC_ICW1_SNGL);
	outb(d, 0x21, 0x40);
	outb(d, 0x21, PIC_ICW4_UPM | PIC_ICW4_AEOI);
	outb(d, 0x20, PIC_OCW2_R); /* set rotate in AEOI mode */
	pic_raise_irq(&d->pic, 1);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x41);
	pic_raise_irq(&d->pic, 0);
	pic_raise_irq(&d->pic, 3);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x43, "IR1 became the lowest: IR2 first");
	outb(d, 0x20, 0); /* clear rotate in AEOI mode */
	pic_raise_irq(&d->pic, 4);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x44, "IR3 is the lowest now");
	pic_raise_irq(&d->pic, 5);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x45, "and stays so: no rotation");
	free(d);
}

Test(pic, pic_poll_command_reads_and_acknowledges)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pic_raise_irq(&d->pic, 5);
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_POLL);
	cr_assert_eq(inb(d, 0x20), PIC_POLL_INT | 5);
	pic_raise_irq(&d->pic, 6);
	cr_assert_eq(inb(d, 0x20), 1u << 6, "one read only is the poll word: then IRR");
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_RR | PIC_OCW3_RIS);
	cr_assert_eq(inb(d, 0x20), 1u << 5, "the poll acknowledged IR5");
	pic_eoi(d, 0x20);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x26);
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_POLL);
	cr_assert_eq(inb(d, 0x21), 0, "nothing pending: 0, from either port");
	/* A slave request polls as IR2 on the master, then as its own IR
	 * on the slave. */
	pic_eoi(d, 0x20);
	pic_raise_irq(&d->pic, 11);
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_POLL);
	cr_assert_eq(inb(d, 0x20), PIC_POLL_INT | PIC_CASCADE_IRQ);
	outb(d, 0xA0, PIC_OCW3 | PIC_OCW3_POLL);
	cr_assert_eq(inb(d, 0xA0), PIC_POLL_INT | 3);
	cr_assert_not(pic_pending(&d->pic));
	free(d);
}

Test(pic, pic_special_mask_mode_lets_other_levels_in)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pic_raise_irq(&d->pic, 3);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x23);
	pic_raise_irq(&d->pic, 5);
	outb(d, 0x21, 1u << 3);
	cr_assert_not(pic_pending(&d->pic), "fully nested: IR3 in service blocks IR5");
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_SMM_SELECT);
	cr_assert(pic_pending(&d->pic), "special mask mode: masked IR3 blocks nothing");
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_ESMM);
	cr_assert_not(pic_pending(&d->pic), "reset special mask mode");
	free(d);
}

/* Master ICW4 with SFNM: a slave's higher-priority request nests inside
 * another slave interrupt; in fully nested mode it waits. */
static void pic_setup_sfnm(struct devices *d, bool sfnm)
{
	pic_setup(d, 0x20, 0x28);
	outb(d, 0x20, PIC_ICW1 | PIC_ICW1_IC4);
	outb(d, 0x21, 0x20);
	outb(d, 0x21, 1u << PIC_CASCADE_IRQ);
	outb(d, 0x21, PIC_ICW4_UPM | (sfnm ? PIC_ICW4_SFNM : 0));
}

Test(pic, pic_special_fully_nested_mode_nests_slave_requests)
{
	for (int sfnm = 0; sfnm <= 1; sfnm++) {
		struct devices *d = machine(NULL, NULL);
		pic_setup_sfnm(d, sfnm);
		pic_raise_irq(&d->pic, 12);
		cr_assert_eq(pic_acknowledge(&d->pic), 0x2C);
		pic_raise_irq(&d->pic, 9);
		cr_assert_eq(pic_pending(&d->pic), sfnm, "SFNM %d", sfnm);
		pic_raise_irq(&d->pic, 5);
		cr_assert_eq(pic_pending(&d->pic), sfnm, "IR5 stays below IR2 in service (SFNM %d)",
			     sfnm);
		if (sfnm)
			cr_assert_eq(pic_acknowledge(&d->pic), 0x29);
		free(d);
	}
}

/* The ELCR makes an input level-triggered: its IRR bit follows the line,
 * so the request comes back after EOI while the line stays high, and
 * leaves when the line falls. */
Test(pic, pic_level_triggered_input_requests_while_high)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, PIC_ELCR_PORT, 1u << 5);
	pic_raise_irq(&d->pic, 5);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x25);
	pic_eoi(d, 0x20);
	cr_assert(pic_pending(&d->pic), "still high: requests again");
	pic_lower_irq(&d->pic, 5);
	cr_assert_not(pic_pending(&d->pic), "the request leaves with the line");
	/* A line already high when its input turns level-triggered. */
	pic_raise_irq(&d->pic, 7);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x27);
	pic_eoi(d, 0x20);
	cr_assert_not(pic_pending(&d->pic), "edge: one request per rising edge");
	outb(d, PIC_ELCR_PORT, 1u << 5 | 1u << 7);
	cr_assert(pic_pending(&d->pic), "level: the high line requests");
	pic_lower_irq(&d->pic, 7);
	/* An edge input's request stays after its line falls. */
	pic_raise_irq(&d->pic, 6);
	pic_lower_irq(&d->pic, 6);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x26);
	free(d);
}

/* A slave's level request withdrawn before the acknowledge: the master
 * has latched the edge on IR2 and the slave answers with spurious IRQ 15. */
Test(pic, pic_withdrawn_slave_level_request_is_spurious_irq15)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, PIC_ELCR_PORT + 1, 1u << (10 - 8));
	pic_raise_irq(&d->pic, 10);
	pic_lower_irq(&d->pic, 10);
	outb(d, 0xA0, PIC_OCW3 | PIC_OCW3_RR);
	cr_assert_eq(inb(d, 0xA0), 0, "the slave's IRR follows the line");
	cr_assert_eq(pic_acknowledge(&d->pic), 0x2F);
	free(d);
}

/* ICW1.LTIM has no effect, as on the PC chipsets with an ELCR: inputs
 * stay edge-triggered, so a line held high across ICW1 must fall and rise
 * again. A level input (ELCR) held high requests again right after ICW1. */
Test(pic, pic_ltim_is_ignored_and_icw1_keeps_level_requests)
{
	struct devices *d = machine(NULL, NULL);
	pic_raise_irq(&d->pic, 6); /* high before initialization */
	outb(d, 0x20, PIC_ICW1 | PIC_ICW1_IC4 | PIC_ICW1_SNGL | PIC_ICW1_LTIM);
	outb(d, 0x21, 0x40);
	outb(d, 0x21, PIC_ICW4_UPM);
	cr_assert_not(pic_pending(&d->pic), "still edge-triggered");
	outb(d, PIC_ELCR_PORT, 1u << 6);
	cr_assert(pic_pending(&d->pic), "level via the ELCR");
	outb(d, 0x20, PIC_ICW1 | PIC_ICW1_IC4 | PIC_ICW1_SNGL);
	outb(d, 0x21, 0x40);
	outb(d, 0x21, PIC_ICW4_UPM);
	cr_assert(pic_pending(&d->pic), "a level line held high requests after ICW1");
	cr_assert_eq(pic_acknowledge(&d->pic), 0x46);
	free(d);
}

/* In special mask mode a non-specific EOI ends the highest unmasked level
 * in service (8259A data sheet, "End of Interrupt"). */
Test(pic, pic_special_mask_mode_eoi_passes_over_masked_levels)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pic_raise_irq(&d->pic, 3);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x23);
	outb(d, 0x21, 1u << 3);
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_SMM_SELECT);
	pic_raise_irq(&d->pic, 5);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x25);
	pic_eoi(d, 0x20);
	outb(d, 0x20, PIC_OCW3 | PIC_OCW3_RR | PIC_OCW3_RIS);
	cr_assert_eq(inb(d, 0x20), 1u << 3, "IR5 ended, masked IR3 still in service");
	free(d);
}

Test(pic, pic_elcr_keeps_the_bits_a_pc_allows)
{
	struct devices *d = machine(NULL, NULL);
	cr_assert_eq(inb(d, PIC_ELCR_PORT), 0, "edge after reset");
	outb(d, PIC_ELCR_PORT, 0xFF);
	outb(d, PIC_ELCR_PORT + 1, 0xFF);
	cr_assert_eq(inb(d, PIC_ELCR_PORT), PIC_ELCR_MASTER_MASK, "IRQ 0-2 stay edge");
	cr_assert_eq(inb(d, PIC_ELCR_PORT + 1), PIC_ELCR_SLAVE_MASK, "IRQ 8 and 13 stay edge");
	free(d);
}

/* ---- 8254 PIT */

/* Cycles for `ticks` PIT ticks at CPU_HZ, the same rounding the device uses. */
static uint64_t pit_cycles(uint64_t ticks)
{
	struct tick_clock c = { .tick_hz = PIT_HZ, .cpu_hz = CPU_HZ };
	return tick_to_cycles(&c, ticks);
}

static void pit_program(struct devices *d, unsigned channel, unsigned mode, uint16_t count)
{
	outb(d, 0x43, (uint8_t)(channel << PIT_CW_SC_SHIFT | PIT_LSB_MSB << PIT_CW_RW_SHIFT |
				 mode << PIT_CW_MODE_SHIFT));
	outb(d, (uint16_t)(0x40 + channel), (uint8_t)count);
	outb(d, (uint16_t)(0x40 + channel), (uint8_t)(count >> 8));
}

/* Count IRQ 0 deliveries while running from now to `until`, in steps of
 * `step` cycles, acknowledging and EOIing each as a guest would. */
static unsigned run_counting_irq0(struct devices *d, uint64_t until, uint64_t step)
{
	unsigned n = 0;
	for (uint64_t t = d->now + step;; t += step) {
		devices_advance(d, t < until ? t : until);
		while (devices_interrupt_pending(d)) {
			cr_assert_eq(devices_interrupt_ack(d), 0x20);
			pic_eoi(d, 0x20);
			n++;
		}
		if (t >= until)
			return n;
	}
}

Test(pit, tick_conversion_is_exact_and_inverse)
{
	struct tick_clock c = { .tick_hz = PIT_HZ, .cpu_hz = 3000000000u };
	for (uint64_t ticks = 0; ticks < 5000000; ticks += 99991) {
		uint64_t cy = tick_to_cycles(&c, ticks);
		cr_assert_eq(tick_from_cycles(&c, cy), ticks);
		if (cy)
			cr_assert_lt(tick_from_cycles(&c, cy - 1), ticks);
	}
	/* One second of cycles is exactly PIT_HZ ticks, even far from zero. */
	uint64_t base = UINT64_C(1) << 62;
	cr_assert_eq(tick_from_cycles(&c, base + 3000000000u) - tick_from_cycles(&c, base), PIT_HZ);
}

Test(pit, pit_mode2_interrupts_every_count)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pit_program(d, 0, 2, 1000);
	cr_assert_eq(devices_next_event(d), pit_cycles(1000));
	/* 10 periods of 1000 ticks, polled every 50 ticks' worth of cycles. */
	unsigned n = run_counting_irq0(d, pit_cycles(10000), pit_cycles(50));
	cr_assert_eq(n, 10);
	cr_assert_eq(devices_next_event(d), pit_cycles(11000));
	free(d);
}

/* LSB then MSB, in that order (two reads in one expression are unsequenced). */
static uint16_t pit_read16(struct devices *d, uint16_t port)
{
	uint8_t lo = inb(d, port);
	uint8_t hi = inb(d, port);
	return (uint16_t)(lo | hi << 8);
}

Test(pit, pit_mode2_count_reads_back_down_from_reload)
{
	struct devices *d = machine(NULL, NULL);
	pit_program(d, 0, 2, 1000);
	devices_advance(d, pit_cycles(250));
	outb(d, 0x43, 0x00); /* latch channel 0 */
	devices_advance(d, pit_cycles(400));
	uint16_t latched = pit_read16(d, 0x40);
	cr_assert_eq(latched, 750, "the latch froze the count at tick 250");
	uint16_t live = pit_read16(d, 0x40);
	cr_assert_eq(live, 600);
	free(d);
}

Test(pit, pit_mode0_fires_once_at_terminal_count)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pit_program(d, 0, 0, 500);
	cr_assert_eq(run_counting_irq0(d, pit_cycles(499), pit_cycles(1)), 0);
	cr_assert_eq(run_counting_irq0(d, pit_cycles(5000), pit_cycles(10)), 1);
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	free(d);
}

Test(pit, pit_mode3_square_wave_period_and_output)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pit_program(d, 0, 3, 100);
	cr_assert_eq(run_counting_irq0(d, pit_cycles(1000), pit_cycles(7)), 10);
	devices_advance(d, pit_cycles(1020)); /* 20 ticks into a period: output high */
	outb(d, 0x43, 0xC0 | PIT_RB_NOT_COUNT | PIT_RB_CHANNEL(0));
	cr_assert(inb(d, 0x40) & PIT_STATUS_OUTPUT);
	devices_advance(d, pit_cycles(1070)); /* second half: low */
	outb(d, 0x43, 0xC0 | PIT_RB_NOT_COUNT | PIT_RB_CHANNEL(0));
	cr_assert_eq(inb(d, 0x40) & PIT_STATUS_OUTPUT, 0);
	free(d);
}

Test(pit, pit_mode4_strobes_once_after_terminal_count)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pit_program(d, 0, 4, 300);
	cr_assert_eq(devices_next_event(d), pit_cycles(301));
	devices_advance(d, pit_cycles(300));
	outb(d, 0x43, 0xC0 | PIT_RB_NOT_COUNT | PIT_RB_CHANNEL(0));
	cr_assert_eq(inb(d, 0x40) & PIT_STATUS_OUTPUT, 0, "the strobe: OUT low for one tick");
	cr_assert_not(devices_interrupt_pending(d));
	cr_assert_eq(run_counting_irq0(d, pit_cycles(100000), pit_cycles(13)), 1);
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	free(d);
}

Test(pit, pit_readback_status_reports_mode_and_null_count)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x43, 2 << PIT_CW_SC_SHIFT | PIT_LSB << PIT_CW_RW_SHIFT | 2 << PIT_CW_MODE_SHIFT);
	outb(d, 0x43, 0xC0 | PIT_RB_NOT_COUNT | PIT_RB_CHANNEL(2));
	uint8_t status = inb(d, 0x42);
	cr_assert(status & PIT_STATUS_NULL_COUNT, "no count written yet");
	cr_assert_eq(status & PIT_STATUS_CW_MASK, PIT_LSB << PIT_CW_RW_SHIFT | 2 << PIT_CW_MODE_SHIFT);
	outb(d, 0x42, 77);
	outb(d, 0x43, 0xC0 | PIT_RB_CHANNEL(2)); /* status and count */
	cr_assert_eq(inb(d, 0x42) & PIT_STATUS_NULL_COUNT, 0);
	cr_assert_eq(inb(d, 0x42), 77, "LSB-only access reads the low byte");
	free(d);
}

Test(pit, pit_msb_only_access_and_full_count)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, 0x43, PIT_MSB << PIT_CW_RW_SHIFT | 2 << PIT_CW_MODE_SHIFT);
	outb(d, 0x40, 0x02); /* 0x0200 */
	cr_assert_eq(devices_next_event(d), pit_cycles(0x200));
	pit_program(d, 0, 2, 0); /* 0 means 65536 */
	cr_assert_eq(devices_next_event(d), pit_cycles(d->pit.now + 65536));
	free(d);
}

/* Channels 0 and 1 have their gates tied high: the gate-triggered modes
 * never start there, and OUT stays high (as on a PC). */
Test(pit, pit_gate_triggered_modes_never_start_on_channel0)
{
	for (unsigned mode = 1; mode <= 5; mode += 4) {
		struct devices *d = machine(NULL, NULL);
		pic_setup(d, 0x20, 0x28);
		pit_program(d, 0, mode, 100);
		cr_assert_eq(devices_next_event(d), UINT64_MAX, "mode %u", mode);
		cr_assert_eq(run_counting_irq0(d, pit_cycles(1000), pit_cycles(10)), 0);
		outb(d, 0x43, 0xC0 | PIT_RB_NOT_COUNT | PIT_RB_CHANNEL(0));
		uint8_t status = inb(d, 0x40);
		cr_assert(status & PIT_STATUS_OUTPUT, "mode %u: OUT high", mode);
		cr_assert(status & PIT_STATUS_NULL_COUNT, "mode %u: the count is never loaded", mode);
		free(d);
	}
}

static bool out2(struct devices *d)
{
	return inb(d, 0x61) & PIT_PORT_B_OUT2;
}

static void gate2(struct devices *d, bool high)
{
	outb(d, 0x61, high ? PIT_PORT_B_GATE2 : 0);
}

/* Mode 1 on channel 2: the count waits for a rising gate edge; OUT is low
 * from the trigger to terminal count. A count written during the pulse
 * waits for the next trigger, which restarts the pulse. */
Test(pit, pit_mode1_one_shot_starts_on_the_gate)
{
	struct devices *d = machine(NULL, NULL);
	gate2(d, false);
	pit_program(d, 2, 1, 500);
	devices_advance(d, pit_cycles(1000));
	cr_assert(out2(d), "no trigger yet: OUT high");
	gate2(d, true);
	cr_assert_not(out2(d), "the trigger drives OUT low");
	devices_advance(d, pit_cycles(1000 + 200));
	cr_assert_eq(pit_read16(d, 0x42), 300);
	pit_program(d, 2, 1, 900); /* a new control word: OUT high, wait again */
	cr_assert(out2(d));
	gate2(d, false);
	gate2(d, true);
	cr_assert_not(out2(d));
	outb(d, 0x42, (uint8_t)2000);
	outb(d, 0x42, 2000 >> 8);
	outb(d, 0x43, 0xC0 | PIT_RB_NOT_COUNT | PIT_RB_CHANNEL(2));
	cr_assert(inb(d, 0x42) & PIT_STATUS_NULL_COUNT, "the new count is not loaded yet");
	devices_advance(d, pit_cycles(1200 + 899));
	cr_assert_not(out2(d), "the pulse goes on with the count it started with");
	devices_advance(d, pit_cycles(1200 + 900));
	cr_assert(out2(d), "terminal count: OUT high");
	gate2(d, false);
	gate2(d, true); /* retrigger: the count written last */
	cr_assert_not(out2(d));
	outb(d, 0x43, 0xC0 | PIT_RB_NOT_COUNT | PIT_RB_CHANNEL(2));
	cr_assert_eq(inb(d, 0x42) & PIT_STATUS_NULL_COUNT, 0, "loaded by the trigger");
	devices_advance(d, pit_cycles(2100 + 1999));
	cr_assert_not(out2(d));
	devices_advance(d, pit_cycles(2100 + 2000));
	cr_assert(out2(d));
	free(d);
}

Test(pit, pit_mode5_strobes_once_after_the_gate_trigger)
{
	struct devices *d = machine(NULL, NULL);
	gate2(d, false);
	pit_program(d, 2, 5, 300);
	gate2(d, true);
	cr_assert(out2(d));
	devices_advance(d, pit_cycles(299));
	cr_assert(out2(d));
	devices_advance(d, pit_cycles(300));
	cr_assert_not(out2(d), "the strobe: OUT low for one tick at terminal count");
	devices_advance(d, pit_cycles(301));
	cr_assert(out2(d));
	devices_advance(d, pit_cycles(900));
	cr_assert(out2(d), "once only");
	free(d);
}

/* BCD: the count is four decimal digits; it counts 0x1000 as 1000 ticks
 * and reads back in BCD; 0 is 10^4 ticks. */
Test(pit, pit_bcd_counts_in_decimal_digits)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, 0x43, 2 << PIT_CW_SC_SHIFT | PIT_LSB_MSB << PIT_CW_RW_SHIFT | 2 << PIT_CW_MODE_SHIFT |
			      PIT_CW_BCD);
	outb(d, 0x42, 0x00);
	outb(d, 0x42, 0x10);
	devices_advance(d, pit_cycles(250));
	cr_assert_eq(pit_read16(d, 0x42), 0x0750);
	outb(d, 0x43, PIT_LSB_MSB << PIT_CW_RW_SHIFT | 2 << PIT_CW_MODE_SHIFT | PIT_CW_BCD);
	outb(d, 0x40, 0x00);
	outb(d, 0x40, 0x01); /* BCD 0100: 100 ticks */
	cr_assert_eq(devices_next_event(d), pit_cycles(250 + 100));
	cr_assert_eq(run_counting_irq0(d, pit_cycles(250 + 1000), pit_cycles(7)), 10);
	outb(d, 0x43, PIT_LSB_MSB << PIT_CW_RW_SHIFT | 0 << PIT_CW_MODE_SHIFT | PIT_CW_BCD);
	outb(d, 0x40, 0);
	outb(d, 0x40, 0); /* 0: 10^4 */
	cr_assert_eq(devices_next_event(d), pit_cycles(d->pit.now + 10000));
	devices_advance(d, pit_cycles(d->pit.now + 10001));
	cr_assert_eq(pit_read16(d, 0x40), 0x9999, "past terminal count the count wraps to 9999");
	free(d);
}

/* ---- local APIC */

#define APIC 0xFEE00000u

static void apic_w(struct devices *d, uint32_t reg, uint32_t v)
{
	devices_mmio_write(d, d->now, APIC + reg, 4, v);
}

static uint32_t apic_r(struct devices *d, uint32_t reg)
{
	return (uint32_t)devices_mmio_read(d, d->now, APIC + reg, 4);
}

static void apic_enable(struct devices *d)
{
	apic_w(d, LAPIC_SVR, LAPIC_SVR_ENABLE | 0xFF);
}

Test(lapic, lapic_registers_reset_values)
{
	struct devices *d = machine(NULL, NULL);
	cr_assert(devices_mmio_claims(d, APIC));
	cr_assert(devices_mmio_claims(d, APIC + 0xFFF));
	cr_assert_not(devices_mmio_claims(d, APIC + 0x1000));
	cr_assert_eq(apic_r(d, LAPIC_VERSION), LAPIC_VERSION_VALUE);
	cr_assert_eq(apic_r(d, LAPIC_SVR), 0xFF);
	cr_assert_eq(apic_r(d, LAPIC_DFR), 0xFFFFFFFF);
	cr_assert_eq(apic_r(d, LAPIC_LVT_TIMER), LAPIC_LVT_MASKED);
	cr_assert_eq(devices_apic_base_read(d), 0xFEE00900);
	/* A byte read returns that byte of the register. */
	cr_assert_eq(devices_mmio_read(d, 0, APIC + LAPIC_VERSION + 2, 1), 0x05);
	free(d);
}

Test(lapic, lapic_timer_periodic_fires_at_divided_rate)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	apic_w(d, LAPIC_TIMER_DIVIDE, 0x3); /* divide by 16 */
	apic_w(d, LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC << LAPIC_LVT_TIMER_MODE_SHIFT | 0x40);
	apic_w(d, LAPIC_TIMER_INITIAL, 1000);
	cr_assert_eq(devices_next_event(d), 16000);
	devices_advance(d, 8000);
	cr_assert_eq(apic_r(d, LAPIC_TIMER_CURRENT), 500);
	unsigned fired = 0;
	for (uint64_t t = 8000; t <= 160000; t += 100) {
		devices_advance(d, t);
		if (devices_interrupt_pending(d)) {
			cr_assert_eq(devices_interrupt_ack(d), 0x40);
			apic_w(d, LAPIC_EOI, 0);
			fired++;
		}
	}
	cr_assert_eq(fired, 10);
	cr_assert_eq(apic_r(d, LAPIC_TIMER_CURRENT), 1000);
	free(d);
}

Test(lapic, lapic_timer_oneshot_fires_once_then_reads_zero)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	apic_w(d, LAPIC_TIMER_DIVIDE, 0xB); /* divide by 1 */
	apic_w(d, LAPIC_LVT_TIMER, 0x41);
	apic_w(d, LAPIC_TIMER_INITIAL, 300);
	devices_advance(d, 299);
	cr_assert_not(devices_interrupt_pending(d));
	devices_advance(d, 300);
	cr_assert_eq(devices_interrupt_ack(d), 0x41);
	apic_w(d, LAPIC_EOI, 0);
	devices_advance(d, 100000);
	cr_assert_not(devices_interrupt_pending(d));
	cr_assert_eq(apic_r(d, LAPIC_TIMER_CURRENT), 0);
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	free(d);
}

Test(lapic, lapic_disabled_ignores_timer)
{
	struct devices *d = machine(NULL, NULL);
	/* Software-disabled (reset SVR): the LVT mask cannot be cleared. */
	apic_w(d, LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC << LAPIC_LVT_TIMER_MODE_SHIFT | 0x40);
	cr_assert(apic_r(d, LAPIC_LVT_TIMER) & LAPIC_LVT_MASKED);
	apic_w(d, LAPIC_TIMER_DIVIDE, 0xB);
	apic_w(d, LAPIC_TIMER_INITIAL, 10);
	devices_advance(d, 1000);
	cr_assert_not(devices_interrupt_pending(d));
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	/* Disabling an enabled APIC masks what was unmasked. */
	apic_enable(d);
	apic_w(d, LAPIC_LVT_TIMER, 0x40);
	apic_w(d, LAPIC_SVR, 0xFF);
	cr_assert(apic_r(d, LAPIC_LVT_TIMER) & LAPIC_LVT_MASKED);
	free(d);
}

Test(lapic, lapic_self_ipi_delivered)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	apic_w(d, LAPIC_ICR_LOW, LAPIC_SH_SELF << LAPIC_ICR_SHORTHAND_SHIFT | 0x55);
	cr_assert(devices_interrupt_pending(d));
	cr_assert_eq(devices_interrupt_ack(d), 0x55);
	apic_w(d, LAPIC_EOI, 0);
	/* By destination: physical ID 0 is this APIC. */
	apic_w(d, LAPIC_ICR_HIGH, 0);
	apic_w(d, LAPIC_ICR_LOW, 0x66);
	cr_assert_eq(devices_interrupt_ack(d), 0x66);
	apic_w(d, LAPIC_EOI, 0);
	/* Another ID, or all-excluding-self: nobody receives it. */
	apic_w(d, LAPIC_ICR_HIGH, 3u << LAPIC_ICR_DEST_SHIFT);
	apic_w(d, LAPIC_ICR_LOW, 0x77);
	apic_w(d, LAPIC_ICR_LOW, LAPIC_SH_OTHERS << LAPIC_ICR_SHORTHAND_SHIFT | 0x78);
	cr_assert_not(lapic_pending(&d->lapic));
	free(d);
}

/* TSC-deadline mode (§11.5.4.1): the deadline, in CPU cycles, is the
 * machine's next event; the interrupt comes at the deadline, not a cycle
 * before, and the MSR reads 0 after it. */
Test(lapic, lapic_tsc_deadline_fires_at_the_deadline_cycle)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	apic_w(d, LAPIC_LVT_TIMER, LAPIC_TIMER_TSC_DEADLINE << LAPIC_LVT_TIMER_MODE_SHIFT | 0x41);
	devices_tsc_deadline_write(d, d->now, 123456);
	cr_assert_eq(devices_next_event(d), 123456);
	devices_advance(d, 123455);
	cr_assert_not(devices_interrupt_pending(d));
	cr_assert_eq(devices_tsc_deadline_read(d, 123455), 123456);
	devices_advance(d, 123456);
	cr_assert(devices_interrupt_pending(d));
	cr_assert_eq(devices_interrupt_ack(d), 0x41);
	cr_assert_eq(devices_tsc_deadline_read(d, 123456), 0, "disarmed after firing");
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	/* A count-mode expiry does not fire after a change to TSC-deadline
	 * mode, nor does the old count resume after the change back. */
	apic_w(d, LAPIC_EOI, 0);
	apic_w(d, LAPIC_LVT_TIMER, 0x41); /* one-shot */
	apic_w(d, LAPIC_TIMER_DIVIDE, 0xB);
	apic_w(d, LAPIC_TIMER_INITIAL, 100);
	devices_advance(d, devices_next_event(d));
	cr_assert_eq(devices_interrupt_ack(d), 0x41);
	apic_w(d, LAPIC_EOI, 0);
	apic_w(d, LAPIC_LVT_TIMER, LAPIC_TIMER_TSC_DEADLINE << LAPIC_LVT_TIMER_MODE_SHIFT | 0x41);
	devices_advance(d, d->now + 1000000);
	cr_assert_not(devices_interrupt_pending(d), "nothing armed in TSC-deadline mode");
	apic_w(d, LAPIC_LVT_TIMER, 0x41);
	cr_assert_eq(apic_r(d, LAPIC_TIMER_CURRENT), 0, "the count was disarmed too");
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	/* Not in TSC-deadline mode: the write is ignored. */
	apic_w(d, LAPIC_EOI, 0);
	apic_w(d, LAPIC_LVT_TIMER, 0x41);
	devices_tsc_deadline_write(d, d->now, 200000);
	cr_assert_eq(devices_tsc_deadline_read(d, d->now), 0);
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	free(d);
}

Test(lapic, lapic_init_and_sipi_are_ignored)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	apic_w(d, LAPIC_ICR_HIGH, 1u << LAPIC_ICR_DEST_SHIFT);
	apic_w(d, LAPIC_ICR_LOW, LAPIC_IPI_INIT << LAPIC_ICR_DELIVERY_SHIFT | 1u << 14);
	apic_w(d, LAPIC_ICR_LOW, LAPIC_IPI_SIPI << LAPIC_ICR_DELIVERY_SHIFT | 0x08);
	cr_assert_not(lapic_pending(&d->lapic));
	cr_assert_eq(apic_r(d, LAPIC_ICR_LOW) & LAPIC_LVT_PENDING, 0, "delivery status idle");
	cr_assert_eq(apic_r(d, LAPIC_ESR), 0);
	free(d);
}

Test(lapic, lapic_illegal_vector_sets_esr)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	apic_w(d, LAPIC_ICR_LOW, LAPIC_SH_SELF << LAPIC_ICR_SHORTHAND_SHIFT | 0x05);
	cr_assert_not(lapic_pending(&d->lapic));
	cr_assert_eq(apic_r(d, LAPIC_ESR), 0, "ESR updates on write");
	apic_w(d, LAPIC_ESR, 0);
	cr_assert_eq(apic_r(d, LAPIC_ESR), LAPIC_ESR_SEND_ILLEGAL);
	free(d);
}

Test(lapic, lapic_tpr_blocks_lower_classes_and_ppr_follows_isr)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	apic_w(d, LAPIC_TPR, 0x50);
	lapic_deliver(&d->lapic, 0x52);
	cr_assert_not(devices_interrupt_pending(d), "class 5 is not above TPR class 5");
	lapic_deliver(&d->lapic, 0x61);
	cr_assert_eq(devices_interrupt_ack(d), 0x61);
	cr_assert_eq(apic_r(d, LAPIC_PPR), 0x60);
	apic_w(d, LAPIC_TPR, 0x00);
	cr_assert_not(devices_interrupt_pending(d), "0x52 is below the in-service class 6");
	apic_w(d, LAPIC_EOI, 0);
	cr_assert_eq(apic_r(d, LAPIC_PPR), 0x00);
	cr_assert_eq(devices_interrupt_ack(d), 0x52);
	cr_assert_eq(apic_r(d, LAPIC_ISR + 0x20), 1u << (0x52 - 0x40), "ISR register 2 holds 0x52");
	free(d);
}

Test(lapic, lapic_base_msr_relocates_rejects_reserved_and_disables)
{
	struct devices *d = machine(NULL, NULL);
	cr_assert_not(devices_apic_base_write(d, 0, 0xFEE00900 | 1));
	cr_assert_not(devices_apic_base_write(d, 0, UINT64_C(1) << 45 | APIC_BASE_ENABLE));
	cr_assert(devices_apic_base_write(d, 0, 0xFED00000 | APIC_BASE_ENABLE));
	cr_assert(devices_mmio_claims(d, 0xFED00000));
	cr_assert_not(devices_mmio_claims(d, APIC));
	cr_assert_eq(devices_apic_base_read(d), 0xFED00000 | APIC_BASE_ENABLE | APIC_BASE_BSP,
		     "BSP stays set");
	cr_assert(devices_apic_base_write(d, 0, 0xFED00000));
	cr_assert_not(devices_mmio_claims(d, 0xFED00000), "globally disabled: page not claimed");
	free(d);
}

/* §11.12.5, Figure 11-27: xAPIC -> x2APIC and either -> disabled are the
 * legal transitions; EN = 0 with EXTD = 1, x2APIC -> xAPIC and disabled
 * -> x2APIC raise #GP. In x2APIC mode the page is not claimed. */
Test(lapic, lapic_x2apic_mode_transitions_follow_the_sdm)
{
	struct devices *d = machine(NULL, NULL);
	const uint64_t x2 = APIC | APIC_BASE_ENABLE | APIC_BASE_X2APIC;
	uint64_t v = 0;
	cr_assert_not(devices_x2apic_read(d, 0, 0x802, &v), "xAPIC mode: no x2APIC MSRs");
	cr_assert_not(devices_apic_base_write(d, 0, APIC | APIC_BASE_X2APIC), "EN = 0, EXTD = 1");
	cr_assert(devices_apic_base_write(d, 0, x2));
	cr_assert_not(devices_mmio_claims(d, APIC));
	cr_assert(devices_x2apic_read(d, 0, 0x802, &v));
	cr_assert_eq(v, 0, "x2APIC ID");
	cr_assert(devices_x2apic_read(d, 0, 0x80D, &v));
	cr_assert_eq(v, 1, "logical x2APIC ID: cluster 0, member bit 0");
	cr_assert_not(devices_apic_base_write(d, 0, APIC | APIC_BASE_ENABLE), "x2APIC -> xAPIC");
	cr_assert(devices_apic_base_write(d, 0, APIC), "x2APIC -> disabled");
	cr_assert_not(devices_apic_base_write(d, 0, x2), "disabled -> x2APIC");
	cr_assert(devices_apic_base_write(d, 0, APIC | APIC_BASE_ENABLE));
	cr_assert(devices_mmio_claims(d, APIC));
	free(d);
}

static void x2apic_w(struct devices *d, uint32_t msr, uint64_t v)
{
	cr_assert(devices_x2apic_write(d, d->now, msr, v), "WRMSR %#x", msr);
}

static uint64_t x2apic_r(struct devices *d, uint32_t msr)
{
	uint64_t v = 0;
	cr_assert(devices_x2apic_read(d, d->now, msr, &v), "RDMSR %#x", msr);
	return v;
}

/* §11.12.1.2, Table 11-6: register R at MSR 0x800 + R/16; the 64-bit
 * ICR with a 32-bit destination; SELF IPI; the #GP cases. */
Test(lapic, lapic_x2apic_registers_are_msrs)
{
	struct devices *d = machine(NULL, NULL);
	cr_assert(devices_apic_base_write(d, 0, APIC | APIC_BASE_ENABLE | APIC_BASE_X2APIC));
	x2apic_w(d, 0x80F, LAPIC_SVR_ENABLE | 0xFF);
	cr_assert_eq(x2apic_r(d, 0x80F), LAPIC_SVR_ENABLE | 0xFF);
	cr_assert_eq(x2apic_r(d, 0x803), LAPIC_VERSION_VALUE);
	x2apic_w(d, 0x83F, 0x55); /* SELF IPI */
	cr_assert_eq(devices_interrupt_ack(d), 0x55);
	cr_assert_eq(x2apic_r(d, 0x810 + 0x55 / 32), 1u << (0x55 % 32), "ISR");
	x2apic_w(d, 0x80B, 0);
	cr_assert_eq(x2apic_r(d, 0x810 + 0x55 / 32), 0, "EOI");
	/* ICR: physical 0, logical cluster 0 member 0, broadcast; ID 1 is nobody. */
	const uint64_t dests[] = { 0, UINT64_C(1) << 32 | LAPIC_ICR_DEST_LOGICAL,
				   UINT64_C(0xFFFFFFFF) << 32 };
	for (unsigned i = 0; i < 3; i++) {
		x2apic_w(d, 0x830, dests[i] | 0x66);
		cr_assert_eq(devices_interrupt_ack(d), 0x66, "destination %u", i);
		x2apic_w(d, 0x80B, 0);
	}
	x2apic_w(d, 0x830, UINT64_C(1) << 32 | 0x67);
	cr_assert_not(devices_interrupt_pending(d), "x2APIC ID 1 is not this APIC");
	cr_assert_eq(x2apic_r(d, 0x830), UINT64_C(1) << 32 | 0x67);
	/* The timer through its MSRs. */
	x2apic_w(d, 0x83E, 0xB);
	x2apic_w(d, 0x832, LAPIC_TIMER_PERIODIC << LAPIC_LVT_TIMER_MODE_SHIFT | 0x40);
	x2apic_w(d, 0x838, 1000);
	devices_advance(d, devices_next_event(d));
	cr_assert_eq(devices_interrupt_ack(d), 0x40);
	uint64_t v;
	cr_assert_not(devices_x2apic_read(d, d->now, 0x80B, &v), "EOI is write-only");
	cr_assert_not(devices_x2apic_read(d, d->now, 0x83F, &v), "SELF IPI is write-only");
	cr_assert_not(devices_x2apic_read(d, d->now, 0x80E, &v), "no DFR in x2APIC mode");
	cr_assert_not(devices_x2apic_read(d, d->now, 0x831, &v), "no ICR high half");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x80B, 1), "EOI of a non-zero value");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x828, 1), "ESR of a non-zero value");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x80D, 2), "LDR is read-only");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x802, 2), "ID is read-only");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x808, UINT64_C(1) << 32), "bits 63:32");
	cr_assert_not(devices_x2apic_read(d, d->now, 0x8FF, &v), "reserved address");
	/* Reserved bits are RsvdZ (§11.12.1.3). */
	cr_assert_not(devices_x2apic_write(d, d->now, 0x808, 0x1FF), "TPR bit 8");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x80F, 1u << 31 | 0xFF), "SVR bit 31");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x83F, 0x140), "SELF IPI bit 8");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x830, 1u << 13 | 0x66), "ICR bit 13");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x835, 1u << 12), "LVT delivery status");
	cr_assert_not(devices_x2apic_write(d, d->now, 0x83E, 0x4), "divide bit 2");
	cr_assert_not(devices_interrupt_pending(d), "nothing was sent");
	free(d);
}

/* ---- routing */

Test(routing, pic_interrupts_reach_cpu_while_apic_is_software_disabled)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	pic_raise_irq(&d->pic, 1);
	cr_assert(devices_interrupt_pending(d));
	apic_enable(d); /* LINT0 still ExtINT, unmasked */
	cr_assert(devices_interrupt_pending(d));
	apic_w(d, LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	cr_assert_not(devices_interrupt_pending(d), "LINT0 masked: the PIC is cut off");
	cr_assert(devices_apic_base_write(d, 0, 0xFEE00000));
	cr_assert(devices_interrupt_pending(d), "APIC off: the PIC goes straight to the CPU");
	cr_assert_eq(devices_interrupt_ack(d), 0x21);
	free(d);
}

Test(routing, apic_interrupts_win_over_pic)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	apic_enable(d);
	pic_raise_irq(&d->pic, 0);
	apic_w(d, LAPIC_ICR_LOW, LAPIC_SH_SELF << LAPIC_ICR_SHORTHAND_SHIFT | 0x90);
	cr_assert_eq(devices_interrupt_ack(d), 0x90);
	cr_assert_eq(devices_interrupt_ack(d), 0x20);
	free(d);
}

Test(routing, next_event_is_the_earlier_timer)
{
	struct devices *d = machine(NULL, NULL);
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	pit_program(d, 0, 2, 1193); /* about 1 ms */
	apic_enable(d);
	apic_w(d, LAPIC_TIMER_DIVIDE, 0xB);
	apic_w(d, LAPIC_LVT_TIMER, 0x30);
	apic_w(d, LAPIC_TIMER_INITIAL, 5000);
	cr_assert_eq(devices_next_event(d), 5000);
	apic_w(d, LAPIC_TIMER_INITIAL, 5000000);
	cr_assert_eq(devices_next_event(d), pit_cycles(1193));
	free(d);
}

/* Two machines fed the same cycle stamps give the same interrupts: there is
 * no hidden state outside struct devices, and no host time. */
Test(routing, same_cycles_give_same_interrupts_in_two_machines)
{
	struct devices *a = machine(NULL, NULL), *b = machine(NULL, NULL);
	struct devices *m[2] = { a, b };
	uint8_t log[2][64];
	unsigned n[2] = { 0, 0 };
	for (int i = 0; i < 2; i++) {
		pic_setup(m[i], 0x20, 0x28);
		pit_program(m[i], 0, 3, 777);
		apic_enable(m[i]);
		apic_w(m[i], LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC << LAPIC_LVT_TIMER_MODE_SHIFT | 0x31);
		apic_w(m[i], LAPIC_TIMER_INITIAL, 300000);
	}
	for (uint64_t t = 0; t < 20000000; t += 12345)
		for (int i = 0; i < 2; i++) {
			devices_advance(m[i], t);
			while (devices_interrupt_pending(m[i]) && n[i] < 64) {
				uint8_t v = devices_interrupt_ack(m[i]);
				log[i][n[i]++] = v;
				if (v == 0x31)
					apic_w(m[i], LAPIC_EOI, 0);
				else
					pic_eoi(m[i], 0x20);
			}
		}
	cr_assert_gt(n[0], 10);
	cr_assert_eq(n[0], n[1]);
	cr_assert_arr_eq(log[0], log[1], n[0]);
	free(a);
	free(b);
}

/* ---- more register behaviour */

Test(uart, uart_modem_status_interrupt_on_loopback_change)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x3F8 + UART_IER, UART_IER_MS);
	cr_assert_eq(inb(d, 0x3F8 + UART_IIR_FCR) & 0x0F, UART_IIR_NONE);
	outb(d, 0x3F8 + UART_MCR, UART_MCR_LOOP); /* CTS, DSR, DCD fall */
	cr_assert_eq(inb(d, 0x3F8 + UART_IIR_FCR) & 0x0F, UART_IIR_MS);
	uint8_t msr = inb(d, 0x3F8 + UART_MSR);
	cr_assert_eq(msr & UART_MSR_DELTAS, UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	cr_assert_eq(inb(d, 0x3F8 + UART_MSR) & UART_MSR_DELTAS, 0, "reading MSR clears the deltas");
	cr_assert_eq(inb(d, 0x3F8 + UART_IIR_FCR) & 0x0F, UART_IIR_NONE);
	free(d);
}

Test(pic, pic_single_mode_without_icw4_skips_icw3)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x20, PIC_ICW1 | PIC_ICW1_SNGL);
	outb(d, 0x21, 0x50); /* ICW2; no ICW3 or ICW4 follow */
	outb(d, 0x21, 0xFE); /* so this is OCW1 */
	cr_assert_eq(inb(d, 0x21), 0xFE);
	pic_raise_irq(&d->pic, 0);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x50);
	free(d);
}

Test(pic, pic_masked_cascade_blocks_slave)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, 0x21, 1u << PIC_CASCADE_IRQ);
	pic_raise_irq(&d->pic, 14);
	cr_assert_not(pic_pending(&d->pic));
	outb(d, 0x21, 0);
	cr_assert_eq(pic_acknowledge(&d->pic), 0x2E);
	free(d);
}

Test(pit, pit_lsb_only_and_channel2_count_without_irq)
{
	struct devices *d = machine(NULL, NULL);
	pic_setup(d, 0x20, 0x28);
	outb(d, 0x43, 2 << PIT_CW_SC_SHIFT | PIT_LSB << PIT_CW_RW_SHIFT | 2 << PIT_CW_MODE_SHIFT);
	outb(d, 0x42, 200);
	devices_advance(d, pit_cycles(150));
	cr_assert_eq(inb(d, 0x42), 50);
	devices_advance(d, pit_cycles(1000));
	cr_assert_not(devices_interrupt_pending(d), "channel 2 is not wired to IRQ 0");
	cr_assert_eq(devices_next_event(d), UINT64_MAX);
	free(d);
}

Test(lapic, lapic_logical_flat_destination_matches_ldr)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	apic_w(d, LAPIC_LDR, 0x04u << 24);
	apic_w(d, LAPIC_ICR_HIGH, 0x03u << LAPIC_ICR_DEST_SHIFT);
	apic_w(d, LAPIC_ICR_LOW, LAPIC_ICR_DEST_LOGICAL | 0x81);
	cr_assert_not(lapic_pending(&d->lapic), "LDR 0x04 & 0x03 = 0");
	apic_w(d, LAPIC_ICR_HIGH, 0x06u << LAPIC_ICR_DEST_SHIFT);
	apic_w(d, LAPIC_ICR_LOW, LAPIC_ICR_DEST_LOGICAL | 0x82);
	cr_assert_eq(lapic_acknowledge(&d->lapic), 0x82);
	free(d);
}

Test(lapic, lapic_acknowledge_without_pending_returns_spurious_vector)
{
	struct devices *d = machine(NULL, NULL);
	apic_w(d, LAPIC_SVR, LAPIC_SVR_ENABLE | 0xEF);
	cr_assert_eq(lapic_acknowledge(&d->lapic), 0xEF);
	cr_assert_eq(apic_r(d, LAPIC_ISR + 0x70), 0, "nothing put in service");
	free(d);
}

Test(routing, devices_init_rejects_bad_frequencies)
{
	struct devices *d = malloc(sizeof *d);
	char err[160];
	struct devices_config slow = { .cpu_hz = 1000000 };
	cr_assert_not(devices_init(d, &slow, err, sizeof err));
	cr_assert(strstr(err, "out of range"), "%s", err);
	struct devices_config fast_apic = { .cpu_hz = CPU_HZ, .apic_timer_hz = 2 * CPU_HZ };
	cr_assert_not(devices_init(d, &fast_apic, err, sizeof err));
	cr_assert(strstr(err, "local APIC"), "%s", err);
	free(d);
}

Test(uart, serial_argument_selects_the_sink)
{
	struct devices_config cfg = { 0 };
	FILE *opened;
	char err[300];
	cr_assert(devices_serial_open(&cfg, "none", &opened, err, sizeof err));
	cr_assert_null(cfg.serial_sink);
	cr_assert(devices_serial_open(&cfg, "stdio", &opened, err, sizeof err));
	cr_assert_eq(cfg.serial_ctx, stdout);
	cr_assert_null(opened);
	cr_assert_not(devices_serial_open(&cfg, "pty", &opened, err, sizeof err));
	cr_assert(strstr(err, "stdio, file:PATH or none"), "%s", err);
	cr_assert_not(devices_serial_open(&cfg, "file:/nonexistent/dir/out", &opened, err, sizeof err));
	cr_assert(strstr(err, "mmulab: /nonexistent/dir/out: "), "%s", err);

	char path[256];
	const char *dir = getenv("TMPDIR");
	snprintf(path, sizeof path, "%s/mmulab-serial-XXXXXX", dir && *dir ? dir : P_tmpdir);
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	char spec[300];
	snprintf(spec, sizeof spec, "file:%s", path);
	cr_assert(devices_serial_open(&cfg, spec, &opened, err, sizeof err), "%s", err);
	struct devices *d = malloc(sizeof *d);
	cr_assert(devices_init(d, &cfg, err, sizeof err), "%s", err);
	for (unsigned i = 0; i < 256; i++)
		devices_io_write(d, 0, 0x3F8, 1, i);
	fclose(opened);
	FILE *f = fopen(path, "rb");
	uint8_t back[300];
	size_t n = fread(back, 1, sizeof back, f);
	fclose(f);
	unlink(path);
	cr_assert_eq(n, 256, "every byte, \\n and \\0 included, nothing added");
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(back[i], i);
	free(d);
}

Test(routing, bios_state_runs_the_pit_at_18hz_on_vector_8)
{
	struct devices *d = malloc(sizeof *d);
	char err[160];
	struct devices_config cfg = { .cpu_hz = CPU_HZ, .bios_state = true };
	cr_assert(devices_init(d, &cfg, err, sizeof err), "%s", err);
	cr_assert_eq(inb(d, 0x21), 0xFA, "IRQ 0 and the cascade unmasked");
	cr_assert_eq(inb(d, 0xA1), 0xFF);
	cr_assert_eq(devices_next_event(d), pit_cycles(65536));
	devices_advance(d, pit_cycles(65536));
	cr_assert(devices_interrupt_pending(d));
	cr_assert_eq(devices_interrupt_ack(d), 0x08);
	free(d);
}

Test(lapic, lapic_timer_counts_its_own_input_clock)
{
	struct devices *d = malloc(sizeof *d);
	char err[160];
	/* A 100 MHz timer input on a 1 GHz CPU: one tick every 10 cycles. */
	struct devices_config cfg = { .cpu_hz = CPU_HZ, .apic_timer_hz = 100000000 };
	cr_assert(devices_init(d, &cfg, err, sizeof err), "%s", err);
	apic_enable(d);
	apic_w(d, LAPIC_TIMER_DIVIDE, 0x0); /* divide by 2 */
	apic_w(d, LAPIC_LVT_TIMER, 0x50);
	apic_w(d, LAPIC_TIMER_INITIAL, 1000);
	cr_assert_eq(devices_next_event(d), 1000 * 2 * 10);
	devices_advance(d, 5000);
	cr_assert_eq(apic_r(d, LAPIC_TIMER_CURRENT), 750);
	/* A new divider applies from the next initial-count write. */
	apic_w(d, LAPIC_TIMER_DIVIDE, 0xB);
	cr_assert_eq(apic_r(d, LAPIC_TIMER_CURRENT), 750);
	apic_w(d, LAPIC_TIMER_INITIAL, 1000);
	cr_assert_eq(devices_next_event(d), 5000 + 1000 * 10);
	free(d);
}

Test(lapic, cr8_is_the_tpr_priority_class)
{
	struct devices *d = machine(NULL, NULL);
	apic_enable(d);
	devices_cr8_write(d, 0x7);
	cr_assert_eq(apic_r(d, LAPIC_TPR), 0x70);
	apic_w(d, LAPIC_TPR, 0x9C);
	cr_assert_eq(devices_cr8_read(d), 0x9);
	lapic_deliver(&d->lapic, 0x95);
	cr_assert_not(devices_interrupt_pending(d), "class 9 is not above CR8 = 9");
	devices_cr8_write(d, 0x8);
	cr_assert(devices_interrupt_pending(d));
	free(d);
}

/* The classic calibration loop: channel 2 in mode 0, gate on through port
 * 0x61, wait for OUT2 (bit 5) to rise. */
Test(pit, port61_reports_channel2_output_for_calibration)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x61, (uint8_t)((inb(d, 0x61) & ~PIT_PORT_B_SPEAKER) | PIT_PORT_B_GATE2));
	pit_program(d, 2, 0, 11932); /* 10 ms */
	uint64_t t = d->now;
	while (!(inb(d, 0x61) & PIT_PORT_B_OUT2)) {
		t += 1000;
		devices_advance(d, t);
		cr_assert_lt(t, UINT64_C(100000000), "OUT2 never rose");
	}
	cr_assert_geq(t, pit_cycles(11932));
	cr_assert_lt(t, pit_cycles(11932) + 1000);
	cr_assert_eq(inb(d, 0x61) & PIT_PORT_B_WRITABLE, PIT_PORT_B_GATE2);
	free(d);
}

Test(pit, port61_refresh_bit_toggles_every_18_ticks)
{
	struct devices *d = machine(NULL, NULL);
	uint8_t first = inb(d, 0x61) & PIT_PORT_B_REFRESH;
	devices_advance(d, pit_cycles(PIT_REFRESH_TICKS));
	cr_assert_neq(inb(d, 0x61) & PIT_PORT_B_REFRESH, first);
	devices_advance(d, pit_cycles(2 * PIT_REFRESH_TICKS));
	cr_assert_eq(inb(d, 0x61) & PIT_PORT_B_REFRESH, first);
	free(d);
}

Test(pit, gate_rising_edge_restarts_mode2_count)
{
	struct devices *d = machine(NULL, NULL);
	outb(d, 0x61, 0);
	pit_program(d, 2, 2, 1000);
	devices_advance(d, pit_cycles(600));
	cr_assert_eq(pit_read16(d, 0x42), 400);
	outb(d, 0x61, PIT_PORT_B_GATE2);
	cr_assert_eq(pit_read16(d, 0x42), 1000, "rising gate reloads");
	free(d);
}

/* ---- random register traffic */

static uint64_t lcg(uint64_t *s)
{
	*s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return *s >> 33;
}

static const uint16_t busy_ports[] = {
	0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x40, 0x41, 0x42, 0x43, 0x61,
	0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0x80, 0xCF8,
};

/* One random operation: a port or APIC access, time passing, or an
 * acknowledge. Returns a value that depends on what the devices answered. */
static uint64_t random_op(struct devices *d, uint64_t *seed)
{
	uint64_t r = lcg(seed), v = lcg(seed);
	unsigned size = 1u << (r % 3);
	switch ((r >> 4) % 6) {
	case 0: {
		uint16_t port = busy_ports[(r >> 8) % (sizeof busy_ports / sizeof busy_ports[0])];
		devices_io_write(d, d->now, port, size, (uint32_t)v);
		return devices_next_event(d);
	}
	case 1:
		return devices_io_read(d, d->now, busy_ports[(r >> 8) % (sizeof busy_ports / sizeof busy_ports[0])], size);
	case 2:
		devices_mmio_write(d, d->now, APIC + ((r >> 8) % 0x400) * 4, 4, (uint32_t)v);
		return devices_next_event(d);
	case 3:
		return devices_mmio_read(d, d->now, APIC + ((r >> 8) % 0x1000), size);
	case 4:
		devices_advance(d, d->now + v % 200000);
		cr_assert_gt(devices_next_event(d), d->now, "an expired event was not consumed");
		return d->now;
	default:
		return devices_interrupt_pending(d) ? devices_interrupt_ack(d) : 0x100;
	}
}

Test(routing, random_register_traffic_is_deterministic_and_stays_consistent)
{
	struct devices *a = machine(NULL, NULL), *b = machine(NULL, NULL);
	uint64_t sa = 42, sb = 42, ha = 0, hb = 0;
	for (unsigned i = 0; i < 50000; i++) {
		ha = ha * 31 + random_op(a, &sa);
		hb = hb * 31 + random_op(b, &sb);
	}
	cr_assert_eq(ha, hb);
	cr_assert_neq(ha, 0);
	free(a);
	free(b);
}
