/* Helpers of the trace tests: whole files in memory. */
#ifndef TESTS_TRACE_SUPPORT_H
#define TESTS_TRACE_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Create an empty temporary file; its name in path (len >= 64). */
void trace_test_tmpfile(char *path, size_t len);

/* Read a whole file; NULL if it cannot be read. Caller frees. */
uint8_t *trace_test_slurp(const char *path, size_t *len);

#endif
