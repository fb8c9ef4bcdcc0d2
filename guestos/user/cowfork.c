/* cowfork: a private page and a shared page, then fork. The child
 * writes both and exits; the parent waits, then looks: its private page
 * still holds its own value (copy-on-write gave the child a copy), the
 * shared page holds the child's (MAP_SHARED pages stay shared). Exit
 * status 0 when both are as expected. */
#include "guestos/user/ulib.h"

static void show(const char *who, const char *priv, const char *shared)
{
	printf("cowfork: %s sees private \"%s\", shared \"%s\"\n", who, priv, shared);
}

int main(void)
{
	char *priv = malloc(PAGE_SIZE);
	char *shared = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status = 0;

	if (!priv || sys_failed((long)shared)) {
		printf("cowfork: out of memory\n");
		return 1;
	}
	snprintf(priv, PAGE_SIZE, "parent");
	snprintf(shared, PAGE_SIZE, "parent");
	int pid = fork();
	if (pid < 0) {
		printf("cowfork: fork failed: %d\n", pid);
		return 1;
	}
	if (pid == 0) {
		show("child before writing", priv, shared);
		snprintf(priv, PAGE_SIZE, "child");
		snprintf(shared, PAGE_SIZE, "child");
		show("child after writing", priv, shared);
		return 0;
	}
	wait4(pid, &status, 0, NULL);
	show("parent after the child exited", priv, shared);
	bool ok = !strcmp(priv, "parent") && !strcmp(shared, "child") && status == 0;
	printf("cowfork: copy-on-write %s\n", ok ? "ok" : "WRONG");
	return ok ? 0 : 1;
}
