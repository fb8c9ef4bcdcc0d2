/* A 16550A UART (COM1 at 0x3F8, IRQ 4), as far as a guest kernel's serial
 * console and a polled or interrupt-driven driver need it.
 *
 * The line is infinitely fast: a byte written to THR reaches the sink at
 * once, so LSR always reports THR empty and transmitter empty, and a
 * THR-empty interrupt is raised again right after each write when enabled.
 * Output is byte-exact: every byte the guest writes to THR (outside
 * loopback) is handed to the sink unchanged, nothing else ever is.
 *
 * Register map (offset from the base port; DLAB is LCR bit 7):
 *   0  RBR (read) / THR (write); DLL when DLAB=1
 *   1  IER;                      DLM when DLAB=1
 *   2  IIR (read) / FCR (write)
 *   3  LCR   4 MCR   5 LSR   6 MSR   7 SCR
 */
#ifndef EMU_DEV_UART_H
#define EMU_DEV_UART_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/irq.h"

#define UART_COM1_PORT 0x3F8
#define UART_COM1_IRQ 4
#define UART_NPORTS 8

/* Register offsets. */
enum uart_reg {
	UART_RBR_THR = 0,
	UART_IER = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

/* IER: interrupt enables. */
#define UART_IER_RDA 0x01  /* received data available */
#define UART_IER_THRE 0x02 /* transmitter holding register empty */
#define UART_IER_RLS 0x04  /* receiver line status */
#define UART_IER_MS 0x08   /* modem status */
#define UART_IER_MASK 0x0F

/* IIR: bit 0 clear means an interrupt is pending; bits 3:1 say which. */
#define UART_IIR_NONE 0x01
#define UART_IIR_MS 0x00
#define UART_IIR_THRE 0x02
#define UART_IIR_RDA 0x04
#define UART_IIR_RLS 0x06
#define UART_IIR_FIFO_ON 0xC0 /* bits 7:6 set while the FIFOs are enabled */

/* FCR. */
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04

/* LCR. */
#define UART_LCR_DLAB 0x80

/* MCR. */
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_MCR_MASK 0x1F

/* LSR. */
#define UART_LSR_DR 0x01   /* data ready */
#define UART_LSR_OE 0x02   /* overrun: a byte arrived with the receive buffer full */
#define UART_LSR_THRE 0x20 /* THR empty */
#define UART_LSR_TEMT 0x40 /* transmitter empty */

/* MSR: status bits 7:4, their change ("delta") bits 3:0. */
#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_DELTAS 0x0F
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

/* Receive buffer: bytes queued by the host and not yet read by the guest.
 * A byte arriving when it is full is dropped and sets LSR.OE. */
#define UART_RX_CAPACITY 256

/* Where transmitted bytes go; NULL sink = `-serial none`. */
typedef void (*uart_sink_fn)(void *ctx, uint8_t byte);

struct uart {
	uint8_t ier, lcr, mcr, lsr_errors, msr, scr, fcr;
	uint16_t divisor;
	bool thre_pending;   /* THR-empty interrupt condition, cleared by IIR read or THR write */
	uint8_t rx[UART_RX_CAPACITY];
	unsigned rx_head, rx_count;
	uart_sink_fn sink;
	void *sink_ctx;
	struct irq_line irq;
};

/* Power-up state; bytes go to sink (may be NULL), interrupts to irq. */
void uart_init(struct uart *u, uart_sink_fn sink, void *sink_ctx, struct irq_line irq);
/* A sink writing to the FILE * in ctx (stdout for `-serial stdio`, an opened
 * file for `-serial file:PATH`). */
void uart_sink_file(void *ctx, uint8_t byte);

/* Queue host input for the guest; returns how many bytes fitted. */
unsigned uart_receive(struct uart *u, const uint8_t *bytes, unsigned n);

/* Register access by offset 0..7 (iobus handlers wrap these). */
uint8_t uart_read(struct uart *u, unsigned offset);
void uart_write(struct uart *u, unsigned offset, uint8_t value);

/* iobus handlers; dev is a struct uart *, the port's low 3 bits select the
 * register (so the base port must be a multiple of 8, as every COM port is). */
uint32_t uart_io_read(void *dev, uint16_t port, unsigned size);
void uart_io_write(void *dev, uint16_t port, unsigned size, uint32_t value);

#endif
