/* A small printf: %d %i %u %x %X %p %s %c %%, with the flags '-' and '0',
 * a width (digits or '*') and the length modifiers l, ll and z. %p prints
 * 0x and 16 hexadecimal digits. Output is truncated to size - 1 bytes and
 * always terminated (size > 0); the return value is the length the whole
 * output would have had. */
#ifndef GUESTOS_LIB_VSPRINTF_H
#define GUESTOS_LIB_VSPRINTF_H

#include <stdarg.h>

#include "guestos/lib/types.h"

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
