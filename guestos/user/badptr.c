/* badptr: first hand the kernel a bad pointer (write(2) must fail with
 * -EFAULT), then write through one itself: the kernel kills it with a
 * segfault message and goes on. It never reaches its last line. */
#include "guestos/user/ulib.h"

#define BAD_ADDRESS 0xdead000UL

int main(void)
{
	long r = write(1, (const void *)BAD_ADDRESS, 16);

	printf("badptr: write(1, 0x%lx, 16) = %ld\n", BAD_ADDRESS, r);
	printf("badptr: storing to 0x%lx\n", BAD_ADDRESS);
	*(volatile int *)BAD_ADDRESS = 1;
	printf("badptr: still alive after the store\n");
	return 1;
}
