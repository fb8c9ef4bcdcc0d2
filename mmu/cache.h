/* Data-cache model through which every page-walk read is timed.
 *
 * Inclusive L1D/L2/L3, physically indexed, set-associative, LRU. Only tags
 * are modelled (no data): an access reports the level that served it and its
 * latency, then fills every level. Levels with size 0 are absent.
 */
#ifndef MMU_CACHE_H
#define MMU_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/model.h"

struct cache_level {
	uint64_t *tag;     /* line address + 1; 0 = invalid */
	uint64_t *lru;
	uint32_t sets, ways, line_shift, latency;
	uint64_t clock;
	uint64_t hits, misses;
};

struct cache {
	struct cache_level lvl[CACHE_NLEVELS];
	unsigned nlevels;
	uint32_t dram_latency;
	uint64_t dram_accesses;
};

bool cache_init(struct cache *c, const struct mmu_model *m);
void cache_free(struct cache *c);

/* Access one physical address: returns the serving level (CACHE_L1D ..
 * CACHE_DRAM) and adds its latency to *cycles. Fills all levels. */
enum mmu_cache_level cache_access(struct cache *c, uint64_t pa, uint32_t *cycles);
/* Which level would serve pa now; no state change. */
enum mmu_cache_level cache_probe(const struct cache *c, uint64_t pa);
void cache_flush(struct cache *c);

#endif
