/* init: the first user program. It runs the programs listed in the
 * `run` environment variable (the kernel passes `run=...` from its
 * command line), one after the other: fork, execve of the module by
 * name, wait4. Items are separated by ',', a program's arguments by ':'
 * (`run=touch:8,cowfork` runs `touch 8`, then `cowfork`). Exit status:
 * the number of programs that could not be started. */
#include "guestos/user/ulib.h"

#define MAX_ARGS 8
#define MAX_ITEM 64

/* Split item ("name:arg:arg") into argv, in place. */
static void split_args(char *item, char **argv)
{
	int n = 0;

	argv[n++] = item;
	for (char *p = item; *p && n < MAX_ARGS - 1; p++)
		if (*p == ':') {
			*p = '\0';
			argv[n++] = p + 1;
		}
	argv[n] = NULL;
}

static void report_status(const char *name, int pid, int status)
{
	if (WIFEXITED(status))
		printf("init: %s (pid %d) exited with status %d\n", name, pid, WEXITSTATUS(status));
	else
		printf("init: %s (pid %d) killed by signal %d\n", name, pid, WTERMSIG(status));
}

/* Run one program to its end; false when it could not be started. */
static bool run_one(char *item)
{
	char *argv[MAX_ARGS];
	int status = 0;

	split_args(item, argv);
	printf("init: running %s\n", argv[0]);
	int pid = fork();
	if (pid < 0) {
		printf("init: fork failed: %d\n", pid);
		return false;
	}
	if (pid == 0) {
		int r = execve(argv[0], argv, environ);
		printf("init: execve %s failed: %d\n", argv[0], r);
		exit(127);
	}
	if (wait4(pid, &status, 0, NULL) != pid) {
		printf("init: wait4 for %s failed\n", argv[0]);
		return false;
	}
	report_status(argv[0], pid, status);
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 127);
}

int main(void)
{
	const char *run = getenv("run");
	char item[MAX_ITEM];
	int failed = 0;

	printf("init: pid %d, run=%s\n", getpid(), run ? run : "");
	while (run && *run) {
		const char *end = strchr(run, ',');
		size_t len = end ? (size_t)(end - run) : strlen(run);
		if (len && len < sizeof item) {
			memcpy(item, run, len);
			item[len] = '\0';
			failed += !run_one(item);
		}
		run += len + (end != NULL);
	}
	printf("init: done, %d failed to start\n", failed);
	return failed;
}
