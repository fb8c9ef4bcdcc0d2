/* kstress: exercise the kernel's allocators from inside the kernel.
 *
 *   kstress [rounds]     allocate and free kmalloc objects of every size
 *                        class `rounds` times (default 10), then print
 *                        /proc/slabinfo
 *   kstress vmalloc [n]  have the kernel hold n vmalloc areas (default 4)
 *                        while it prints /proc/vmallocinfo, then print it
 *                        again once they are freed
 *   kstress stack        run the kernel off the bottom of this process's
 *                        kernel stack: the kernel reports the overflow and
 *                        stops (this program never gets control back)
 *
 * Exit status 0 when the kernel's stress succeeded. */
#include "guestos/user/ulib.h"

static int kmalloc_rounds(unsigned long rounds)
{
	long n = mmulab_kstress(rounds, KSTRESS_KMALLOC);

	if (n < 0) {
		printf("kstress: failed: %ld\n", n);
		return 1;
	}
	printf("kstress: %lu rounds, %ld kmalloc objects allocated and freed\n", rounds, n);
	mmulab_report(REPORT_SLABINFO);
	return 0;
}

static int vmalloc_areas(unsigned long areas)
{
	long n = mmulab_kstress(areas, KSTRESS_VMALLOC);

	if (n < 0) {
		printf("kstress: vmalloc failed: %ld\n", n);
		return 1;
	}
	printf("kstress: %ld vmalloc areas shown and freed\n", n);
	mmulab_report(REPORT_VMALLOCINFO);
	printf("kstress: vmalloc done\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : NULL;

	if (what && !strcmp(what, "vmalloc"))
		return vmalloc_areas(atoul(argc > 2 ? argv[2] : NULL, 4));
	if (what && !strcmp(what, "stack")) {
		long r = mmulab_kstress(0, KSTRESS_STACK);
		printf("kstress: the kernel stack did not overflow (%ld)\n", r);
		return 1;
	}
	return kmalloc_rounds(atoul(what, 10));
}
