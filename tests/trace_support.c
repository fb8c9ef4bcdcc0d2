#include "tests/trace_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void trace_test_tmpfile(char *path, size_t len)
{
	snprintf(path, len, "%s/mmulab-trace-XXXXXX", P_tmpdir);
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	else
		path[0] = '\0';
}

uint8_t *trace_test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = buf ? (size_t)n : 0;
	return buf;
}
