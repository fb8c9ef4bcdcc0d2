/* 16550A UART. Register semantics follow the National Semiconductor PC16550D
 * data sheet; reset values and the absence of OUT2 gating follow QEMU's
 * serial device, so a guest sees the same UART in both (see docs/devices.md). */
#include "emu/dev_uart.h"

#include <string.h>

/* 115200 / 12 = 9600 baud, the value a PC leaves behind after power-up. */
#define UART_RESET_DIVISOR 12
/* A terminal is attached: clear to send, data set ready, carrier detect. */
#define UART_MSR_CONNECTED (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

void uart_init(struct uart *u, uart_sink_fn sink, void *sink_ctx, struct irq_line irq)
{
	memset(u, 0, sizeof *u);
	u->divisor = UART_RESET_DIVISOR;
	u->mcr = UART_MCR_OUT2;
	u->msr = UART_MSR_CONNECTED;
	u->sink = sink;
	u->sink_ctx = sink_ctx;
	u->irq = irq;
}

void uart_sink_file(void *ctx, uint8_t byte)
{
	fputc(byte, (FILE *)ctx);
}

/* The highest-priority interrupt condition that is enabled (PC16550D
 * Table 4: line status, received data, THR empty, modem status). */
static uint8_t uart_interrupt_id(const struct uart *u)
{
	if ((u->ier & UART_IER_RLS) && u->lsr_errors)
		return UART_IIR_RLS;
	if ((u->ier & UART_IER_RDA) && u->rx_count)
		return UART_IIR_RDA;
	if ((u->ier & UART_IER_THRE) && u->thre_pending)
		return UART_IIR_THRE;
	if ((u->ier & UART_IER_MS) && (u->msr & UART_MSR_DELTAS))
		return UART_IIR_MS;
	return UART_IIR_NONE;
}

static void uart_update_irq(struct uart *u)
{
	irq_line_set(&u->irq, uart_interrupt_id(u) != UART_IIR_NONE);
}

/* Append one byte to the receive buffer, or flag an overrun. */
static bool uart_rx_push(struct uart *u, uint8_t byte)
{
	if (u->rx_count == UART_RX_CAPACITY) {
		u->lsr_errors |= UART_LSR_OE;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_RX_CAPACITY] = byte;
	u->rx_count++;
	return true;
}

unsigned uart_receive(struct uart *u, const uint8_t *bytes, unsigned n)
{
	unsigned taken = 0;
	while (taken < n && uart_rx_push(u, bytes[taken]))
		taken++;
	uart_update_irq(u);
	return taken;
}

static uint8_t uart_rx_pop(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_CAPACITY;
	u->rx_count--;
	return b;
}

/* In loopback the modem inputs are wired to the modem outputs:
 * CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2 (PC16550D, MCR bit 4). */
static uint8_t uart_msr_status(const struct uart *u)
{
	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_CONNECTED;
	uint8_t s = 0;
	s |= (u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0;
	s |= (u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0;
	s |= (u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0;
	s |= (u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0;
	return s;
}

/* Recompute the MSR status bits and latch their changes in the delta bits;
 * RI reports only its trailing edge (TERI). */
static void uart_update_msr(struct uart *u)
{
	uint8_t old = u->msr, now = uart_msr_status(u);
	uint8_t changed = (uint8_t)(old ^ now);
	uint8_t deltas = u->msr & UART_MSR_DELTAS;
	deltas |= (changed & UART_MSR_CTS) ? UART_MSR_DCTS : 0;
	deltas |= (changed & UART_MSR_DSR) ? UART_MSR_DDSR : 0;
	deltas |= (changed & UART_MSR_DCD) ? UART_MSR_DDCD : 0;
	deltas |= ((old & UART_MSR_RI) && !(now & UART_MSR_RI)) ? UART_MSR_TERI : 0;
	u->msr = now | deltas;
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP)
		uart_rx_push(u, byte);
	else if (u->sink)
		u->sink(u->sink_ctx, byte);
	/* The byte left at once: THR is empty again and may interrupt. */
	u->thre_pending = true;
}

static void uart_write_fcr(struct uart *u, uint8_t value)
{
	/* Changing the FIFO enable clears both FIFOs. */
	if ((value ^ u->fcr) & UART_FCR_ENABLE)
		value |= UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX;
	if (value & UART_FCR_CLEAR_RX)
		u->rx_head = u->rx_count = 0;
	u->fcr = value & (uint8_t)~(UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
}

static void uart_write_ier(struct uart *u, uint8_t value)
{
	uint8_t was = u->ier;
	u->ier = value & UART_IER_MASK;
	/* Enabling the THR-empty interrupt while THR is empty raises it at once. */
	if (!(was & UART_IER_THRE) && (u->ier & UART_IER_THRE))
		u->thre_pending = true;
}

void uart_write(struct uart *u, unsigned offset, uint8_t value)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (offset) {
	case UART_RBR_THR:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0xFF00) | value);
			return;
		}
		u->thre_pending = false;
		uart_transmit(u, value);
		break;
	case UART_IER:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0x00FF) | (value << 8));
			return;
		}
		uart_write_ier(u, value);
		break;
	case UART_IIR_FCR: uart_write_fcr(u, value); break;
	case UART_LCR: u->lcr = value; return;
	case UART_MCR:
		u->mcr = value & UART_MCR_MASK;
		uart_update_msr(u);
		break;
	case UART_LSR: return; /* LSR is read-only here (factory test only) */
	case UART_MSR: return;
	case UART_SCR: u->scr = value; return;
	}
	uart_update_irq(u);
}

static uint8_t uart_read_iir(struct uart *u)
{
	uint8_t id = uart_interrupt_id(u);
	/* Reading IIR while it reports THR empty clears that condition. */
	if (id == UART_IIR_THRE)
		u->thre_pending = false;
	return (uint8_t)(id | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO_ON : 0));
}

static uint8_t uart_read_lsr(struct uart *u)
{
	uint8_t v = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_errors;
	v |= u->rx_count ? UART_LSR_DR : 0;
	u->lsr_errors = 0; /* error bits clear when read */
	return v;
}

static uint8_t uart_read_msr(struct uart *u)
{
	uint8_t v = u->msr;
	u->msr &= (uint8_t)~UART_MSR_DELTAS;
	return v;
}

uint8_t uart_read(struct uart *u, unsigned offset)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v = 0;
	switch (offset) {
	case UART_RBR_THR: v = dlab ? (uint8_t)u->divisor : uart_rx_pop(u); break;
	case UART_IER: v = dlab ? (uint8_t)(u->divisor >> 8) : u->ier; break;
	case UART_IIR_FCR: v = uart_read_iir(u); break;
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR: v = uart_read_lsr(u); break;
	case UART_MSR: v = uart_read_msr(u); break;
	case UART_SCR: return u->scr;
	}
	uart_update_irq(u);
	return v;
}

uint32_t uart_io_read(void *dev, uint16_t port, unsigned size)
{
	return uart_read(dev, port % UART_NPORTS);
}

void uart_io_write(void *dev, uint16_t port, unsigned size, uint32_t value)
{
	uart_write(dev, port % UART_NPORTS, (uint8_t)value);
}
