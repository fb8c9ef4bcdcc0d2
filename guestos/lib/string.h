/* The few <string.h> functions the kernel needs (the compiler may also
 * call memset/memcpy/memmove/memcmp itself, so they must exist). */
#ifndef GUESTOS_LIB_STRING_H
#define GUESTOS_LIB_STRING_H

#include "guestos/lib/types.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* The first c in s (c may be '\0'), or NULL. */
char *strchr(const char *s, int c);
/* Parse an unsigned decimal (or 0x-prefixed hexadecimal) number; *end is set
 * past the digits. */
unsigned long simple_strtoul(const char *s, const char **end);

#endif
