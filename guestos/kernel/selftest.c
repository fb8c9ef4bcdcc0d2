#include "guestos/kernel/selftest.h"

#include "guestos/arch/x86/i8259.h"
#include "guestos/arch/x86/io.h"
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

/* The PIT interrupts through the PIC: halting waits for ticks. Bounded:
 * with no timer interrupt at all, hlt would only be woken by others. */
static const char *test_timer_ticks(void)
{
	unsigned long start = jiffies;

	for (int i = 0; i < 1000 && jiffies - start < 3; i++)
		safe_halt();
	return jiffies - start >= 3 ? NULL : "fewer than 3 timer interrupts in 1000 halts";
}

static const struct selftest timer_selftests[] = {
	{"timer_ticks", test_timer_ticks},
};

unsigned run_all_selftests(void)
{
	run_selftests(timer_selftests, ARRAY_SIZE(timer_selftests));
	run_selftests(buddy_selftests, nr_buddy_selftests);
	run_selftests(slab_selftests, nr_slab_selftests);
	run_selftests(pgtable_selftests, nr_pgtable_selftests);
	run_selftests(vmalloc_selftests, nr_vmalloc_selftests);
	run_selftests(mmap_selftests, nr_mmap_selftests);
	printk(KERN_ERR "selftest summary: %u passed, %u failed\n", passed_total, failed_total);
	return failed_total;
}
