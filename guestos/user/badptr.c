/* badptr: first hand the kernel bad input (a system-call number nobody
 * has: -ENOSYS; a bad pointer to write(2): -EFAULT), then write through a
 * bad pointer itself: the kernel kills it with a segfault message and goes
 * on. `badptr gp` executes CLI instead, a general-protection fault at CPL 3
 * (SDM Vol. 2A CLI: IOPL < CPL), which kills it too; `badptr nx` calls
 * code it wrote on its stack, which is mapped execute-disable (SDM Vol. 3A
 * §4.6: a fetch from an XD page is a page fault). It never reaches its
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
	} else if (argc > 1 && !strcmp(argv[1], "nx")) {
		static const unsigned char ret_insn = 0xc3; /* RET */
		volatile unsigned char code[16];
		code[0] = ret_insn;
		printf("badptr: calling code on the stack\n");
		((void (*)(void))(unsigned long)code)();
	} else {
		printf("badptr: storing to 0x%lx\n", BAD_ADDRESS);
		*(volatile int *)BAD_ADDRESS = 1;
	}
	printf("badptr: still alive after the store\n");
	return 1;
}
