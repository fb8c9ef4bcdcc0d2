/* spin: preemption. The parent forks, then spins without a single system
 * call until the child has set a flag in a shared page. Only the timer
 * can give the child the CPU: the scheduler takes it from the parent at
 * the end of its time slice. Exit status 0 once the parent saw the flag. */
#include "guestos/user/ulib.h"

int main(void)
{
	volatile int *flag = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				  -1, 0);
	int status = 0;

	if (sys_failed((long)flag)) {
		printf("spin: mmap failed: %ld\n", (long)flag);
		return 1;
	}
	printf("spin: parent spins until the child sets the flag\n");
	int pid = fork();
	if (pid == 0) {
		*flag = 1;
		return 0;
	}
	if (pid < 0) {
		printf("spin: fork failed: %d\n", pid);
		return 1;
	}
	while (!*flag)
		;
	wait4(pid, &status, 0, NULL);
	printf("spin: the child ran while the parent spun (exit status %d)\n", WEXITSTATUS(status));
	return 0;
}
