/* kstress [rounds]: ask the kernel to allocate and free kmalloc objects
 * of every size class `rounds` times (default 10), then print
 * /proc/slabinfo. Exit status 0 when the kernel's stress succeeded. */
#include "guestos/user/ulib.h"

int main(int argc, char **argv)
{
	unsigned long rounds = atoul(argc > 1 ? argv[1] : NULL, 10);
	long n = mmulab_kstress(rounds);

	if (n < 0) {
		printf("kstress: failed: %ld\n", n);
		return 1;
	}
	printf("kstress: %lu rounds, %ld kmalloc objects allocated and freed\n", rounds, n);
	mmulab_report(REPORT_SLABINFO);
	return 0;
}
