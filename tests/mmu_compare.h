/* Comparing two machines that ran the same operations, one of them on the
 * generic miss path (struct mmu walk_generic): used by test_walk_fast and
 * the fuzz_walk target to check that the IA-32e fast path changes nothing
 * observable. */
#ifndef TESTS_MMU_COMPARE_H
#define TESTS_MMU_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "mmu/mmu.h"

/* Same outcome of one translation: success or not, cycles, source, page
 * size, walk reads, PWC level, and the physical address or the fault
 * (vector, error code, CR2). False with the difference in why. */
bool mmu_compare_xlate(bool ok_a, const struct mmu_xlate *a, bool ok_b, const struct mmu_xlate *b,
		       char *why, size_t len);

/* Same state a translation can change outside the paging structures:
 * statistics, every TLB and PWC entry with its LRU stamp, the structures'
 * counters and clocks, frame watch flags; with_caches: the data-cache
 * model's tags, LRU ages and counters too. False with the difference in why. */
bool mmu_compare_state(const struct mmu *a, const struct mmu *b, bool with_caches, char *why,
		       size_t len);

#endif
