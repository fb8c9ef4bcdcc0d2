/* badptr: first hand the kernel bad input (a system-call number nobody
 * has: -ENOSYS; a bad pointer to write(2): -EFAULT), then write through a
 * bad pointer itself: the kernel kills it with a segfault message and goes
 * on. `badptr gp` executes CLI instead, a general-protection fault at CPL 3
 * (SDM Vol. 2A CLI: IOPL < CPL), which kills it too. It never reaches its
 * last line. */
#include "guestos/user/ulib.h"

#define BAD_ADDRESS 0xdead000UL
#define BAD_SYSCALL 4242

int main(int argc, char **argv)
{
	printf("badptr: system call %d = %ld\n", BAD_SYSCALL, syscall3(BAD_SYSCALL, 0, 0, 0));
	long r = write(1, (const void *)BAD_ADDRESS, 16);
	printf("badptr: write(1, 0x%lx, 16) = %ld\n", BAD_ADDRESS, r);
	if (argc > 1 && !strcmp(argv[1], "gp")) {
		printf("badptr: executing cli\n");
		__asm__ volatile("cli");
	} else {
		printf("badptr: storing to 0x%lx\n", BAD_ADDRESS);
		*(volatile int *)BAD_ADDRESS = 1;
	}
	printf("badptr: still alive after the store\n");
	return 1;
}
