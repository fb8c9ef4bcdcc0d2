/* Host commands for the benchmarks (bench/host_cmd.c). */
#ifndef BENCH_HOST_CMD_H
#define BENCH_HOST_CMD_H

/* Run cmd with the shell; its exit status, or -1 if it did not exit. */
int bench_host_command(const char *cmd);

#endif
