/* Boot-time self-tests, run when the command line says `selftest`. Each
 * test prints one line, "selftest NAME ok" or "selftest NAME FAIL detail",
 * and the run ends with "selftest summary: P passed, F failed". */
#ifndef GUESTOS_KERNEL_SELFTEST_H
#define GUESTOS_KERNEL_SELFTEST_H

#include "guestos/lib/types.h"

/* A test returns NULL when it passed, else what went wrong. It must leave
 * the allocator as it found it (or fail saying so). */
typedef const char *(*selftest_fn)(void);

struct selftest {
	const char *name;
	selftest_fn fn;
};

/* Run the tests in order; return how many failed. */
unsigned run_selftests(const struct selftest *tests, size_t n);
/* Run every suite and print the summary; return how many failed. */
unsigned run_all_selftests(void);

/* The suites, each a table of tests. */
extern const struct selftest buddy_selftests[];
extern const size_t nr_buddy_selftests;
extern const struct selftest slab_selftests[];
extern const size_t nr_slab_selftests;
extern const struct selftest pgtable_selftests[];
extern const size_t nr_pgtable_selftests;
extern const struct selftest vmalloc_selftests[];
extern const size_t nr_vmalloc_selftests;
extern const struct selftest mmap_selftests[];
extern const size_t nr_mmap_selftests;

#endif
