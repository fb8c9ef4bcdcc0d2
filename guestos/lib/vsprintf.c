#include "guestos/lib/vsprintf.h"

#include "guestos/lib/string.h"

/* Where the output goes: buf[0..size-1], counting what does not fit. */
struct sink {
	char *buf;
	size_t size;
	size_t len;
};

static void sink_put(struct sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

/* One conversion's layout: width, left-justified, zero-padded. */
struct spec {
	unsigned width;
	bool left;
	bool zero;
};

static void emit_padded(struct sink *s, const struct spec *sp, const char *prefix,
			const char *body, size_t body_len)
{
	size_t len = strlen(prefix) + body_len;
	size_t pad = sp->width > len ? sp->width - len : 0;

	if (!sp->left && !sp->zero)
		for (; pad; pad--)
			sink_put(s, ' ');
	for (; *prefix; prefix++)
		sink_put(s, *prefix);
	if (!sp->left)
		for (; pad; pad--)
			sink_put(s, '0');
	for (size_t i = 0; i < body_len; i++)
		sink_put(s, body[i]);
	for (; pad; pad--)
		sink_put(s, ' ');
}

static void emit_number(struct sink *s, const struct spec *sp, unsigned long long v,
			unsigned base, bool negative, bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = sizeof tmp;

	do {
		tmp[--n] = digits[v % base];
		v /= base;
	} while (v);
	emit_padded(s, sp, negative ? "-" : prefix, tmp + n, sizeof tmp - n);
}

/* Parse flags and width at *fmt; advance past them. */
static struct spec parse_spec(const char **fmt, va_list *ap)
{
	struct spec sp = {0};
	const char *f = *fmt;

	for (;; f++) {
		if (*f == '-')
			sp.left = true;
		else if (*f == '0')
			sp.zero = true;
		else
			break;
	}
	if (*f == '*') {
		int w = va_arg(*ap, int);
		sp.width = w < 0 ? 0 : (unsigned)w;
		f++;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp.width = sp.width * 10 + (unsigned)(*f - '0');
	*fmt = f;
	return sp;
}

/* Length modifiers: 0 = int, 1 = long, 2 = long long (z counts as l: size_t
 * is unsigned long on x86-64). */
static int parse_length(const char **fmt)
{
	int n = 0;

	for (; **fmt == 'l' || **fmt == 'z'; (*fmt)++)
		n++;
	return n;
}

static unsigned long long arg_unsigned(va_list *ap, int length)
{
	if (length >= 2)
		return va_arg(*ap, unsigned long long);
	if (length == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static long long arg_signed(va_list *ap, int length)
{
	if (length >= 2)
		return va_arg(*ap, long long);
	if (length == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void emit_conversion(struct sink *s, char conv, struct spec *sp, int length, va_list *ap)
{
	switch (conv) {
	case 'd':
	case 'i': {
		long long v = arg_signed(ap, length);
		unsigned long long mag = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
		emit_number(s, sp, mag, 10, v < 0, false, "");
		break;
	}
	case 'u':
		emit_number(s, sp, arg_unsigned(ap, length), 10, false, false, "");
		break;
	case 'x':
	case 'X':
		emit_number(s, sp, arg_unsigned(ap, length), 16, false, conv == 'X', "");
		break;
	case 'p':
		sp->width = 18;
		sp->zero = true;
		emit_number(s, sp, (uintptr_t)va_arg(*ap, void *), 16, false, false, "0x");
		break;
	case 's': {
		const char *str = va_arg(*ap, const char *);
		if (!str)
			str = "(null)";
		sp->zero = false;
		emit_padded(s, sp, "", str, strlen(str));
		break;
	}
	case 'c': {
		char c = (char)va_arg(*ap, int);
		sp->zero = false;
		emit_padded(s, sp, "", &c, 1);
		break;
	}
	default: /* '%' and unknown conversions print themselves */
		sink_put(s, conv);
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = {buf, size, 0};
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			sink_put(&s, *fmt++);
			continue;
		}
		fmt++;
		struct spec sp = parse_spec(&fmt, &args);
		int length = parse_length(&fmt);
		if (!*fmt)
			break;
		emit_conversion(&s, *fmt++, &sp, length, &args);
	}
	va_end(args);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
