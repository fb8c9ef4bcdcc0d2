#include "guestos/kernel/selftest.h"

#include "guestos/kernel/printk.h"

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
	printk(KERN_ERR "selftest summary: %u passed, %u failed\n", (unsigned)n - failed, failed);
	return failed;
}
