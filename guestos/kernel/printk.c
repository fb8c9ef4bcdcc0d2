/* printk over a 16550 UART at COM1, and the ways out of the machine. */
#include "guestos/kernel/printk.h"

#include <stdarg.h>

#include "guestos/arch/x86/io.h"
#include "guestos/arch/x86/processor-flags.h"
#include "guestos/lib/vsprintf.h"

/* 16550 registers, offsets from the base port (National PC16550D data
 * sheet, table II). */
#define COM1_BASE 0x3F8
#define UART_THR 0 /* transmit holding (write, DLAB=0) */
#define UART_RBR 0 /* receive buffer (read, DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1 /* interrupt enable (DLAB=0) */
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_LCR_WLEN8 0x03 /* 8 data bits, 1 stop bit, no parity */
#define UART_LCR_DLAB 0x80  /* divisor latch access */
#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR 0x06 /* clear receive and transmit FIFOs */
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_LSR_DR 0x01   /* receive buffer holds a byte */
#define UART_LSR_THRE 0x20 /* transmit holding register empty */
#define UART_DIVISOR_115200 1

static int console_loglevel = CONSOLE_LOGLEVEL_DEFAULT;

void console_init(void)
{
	outb(0, COM1_BASE + UART_IER); /* polled: no interrupts */
	outb(UART_LCR_DLAB, COM1_BASE + UART_LCR);
	outb(UART_DIVISOR_115200, COM1_BASE + UART_DLL);
	outb(0, COM1_BASE + UART_DLM);
	outb(UART_LCR_WLEN8, COM1_BASE + UART_LCR);
	outb(UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR, COM1_BASE + UART_FCR);
	outb(UART_MCR_DTR | UART_MCR_RTS, COM1_BASE + UART_MCR);
}

void console_set_loglevel(int level)
{
	console_loglevel = level;
}

static void serial_putc(char c)
{
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_THRE))
		;
	outb((u8)c, COM1_BASE + UART_THR);
}

static void serial_write(const char *s)
{
	for (; *s; s++)
		serial_putc(*s);
}

void console_write(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(buf[i]);
}

size_t console_read(char *buf, size_t n)
{
	size_t got = 0;

	while (got < n && (inb(COM1_BASE + UART_LSR) & UART_LSR_DR))
		buf[got++] = (char)inb(COM1_BASE + UART_RBR);
	return got;
}

/* Split a KERN_* prefix off the message; return its level. */
static int printk_level(const char **fmt)
{
	const char *f = *fmt;

	if (f[0] == KERN_SOH[0] && f[1] >= '0' && f[1] <= '7') {
		*fmt = f + 2;
		return f[1] - '0';
	}
	return MESSAGE_LOGLEVEL_DEFAULT;
}

static int vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int level = printk_level(&fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);

	if (level < console_loglevel)
		serial_write(buf);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

void machine_exit(u32 code)
{
	outl(code, DEBUG_EXIT_PORT);
	/* Without the device (another machine), stop here. */
	halt_forever();
	__builtin_unreachable();
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	console_set_loglevel(CONSOLE_LOGLEVEL_DEFAULT + 1);
	printk(KERN_EMERG "Kernel panic - not syncing: %s\n", buf);
	machine_exit(EXIT_CODE_PANIC);
}
