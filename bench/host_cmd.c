/* Run a host command through the shell for the benchmarks (kept apart from
 * emu/ headers: <sys/wait.h> brings in names that clash with theirs). */
#include "bench/host_cmd.h"

#include <stdlib.h>
#include <sys/wait.h>

int bench_host_command(const char *cmd)
{
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}
