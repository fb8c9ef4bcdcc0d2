#include "guestos/kernel/selftest.h"

#include "guestos/kernel/printk.h"

static unsigned passed_total, failed_total;

unsigned run_selftests(const struct selftest *tests, size_t n)
{
	unsigned failed = 0;

	for (size_t i = 0; i < n; i++) {
		const char *detail = tests[i].fn();

		if (detail) {
			printk(KERN_ERR "selftest %s FAIL %s\n", tests[i].name, detail);
			failed++;
		} else {
			printk(KERN_ERR "selftest %s ok\n", tests[i].name);
		}
	}
	passed_total += (unsigned)n - failed;
	failed_total += failed;
	return failed;
}

unsigned run_all_selftests(void)
{
	run_selftests(buddy_selftests, nr_buddy_selftests);
	run_selftests(slab_selftests, nr_slab_selftests);
	printk(KERN_ERR "selftest summary: %u passed, %u failed\n", passed_total, failed_total);
	return failed_total;
}
