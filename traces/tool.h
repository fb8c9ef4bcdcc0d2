/* The trace commands of `mmulab`: replay, trace-dump, trace-stats.
 * argv holds the arguments after the command name. Each returns the process
 * exit status: 0 success, 1 a replay divergence, 2 a usage error or an
 * invalid trace (one line on stderr). */
#ifndef TRACES_TOOL_H
#define TRACES_TOOL_H

#include <stdio.h>

int trace_replay_command(int argc, char **argv, FILE *out);
int trace_dump_command(int argc, char **argv, FILE *out);
int trace_stats_command(int argc, char **argv, FILE *out);

#endif
