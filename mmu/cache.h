/* Data-cache model through which every page-walk read is timed.
 *
 * Inclusive-on-fill L1D/L2/L3, physically indexed, set-associative, true
 * LRU. Only tags are modelled (no data): an access reports the level that
 * served it and its latency, then fills every level that missed. Levels with
 * size 0 are absent.
 *
 * Layout, chosen for the walk's miss path: a set holds 32-bit line tags
 * (tag 0: empty) and one 8-bit LRU age per way, ages forming a permutation
 * of 0..ways-1 (0 = most recent). Tags and ages are padded to 16 slots per
 * vector, so a lookup compares a whole set with a few SSE2 compares, a hit
 * ages every way younger than it by one, and a miss replaces the way whose
 * age is ways-1 and ages the rest: exact LRU with no search and no
 * timestamps. Padding slots hold an age no way can have.
 *
 * Only guest RAM is cacheable: a tag is the line number + 1, which fits in
 * 32 bits for RAM of up to 64 GiB with lines of 32 bytes or more. A read
 * outside RAM (a paging structure that points past RAM) is served by DRAM
 * latency and cached nowhere: there is no memory there to cache.
 */
#ifndef MMU_CACHE_H
#define MMU_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/model.h"

struct cache_level {
	uint32_t *tag;     /* sets * slots tags, 64-byte aligned; 0 = empty */
	uint8_t *age;      /* sets * slots LRU ages */
	uint32_t sets, ways, slots, line_shift, latency;
	uint32_t slot_shift; /* log2(slots): 16 or 32 slots per set */
	uint32_t way_mask;   /* bit per way: masks slots past the ways */
	uint64_t hits, misses;
};

struct cache {
	struct cache_level lvl[CACHE_NLEVELS];
	unsigned nlevels;
	uint32_t dram_latency;
	uint64_t cacheable;    /* physical addresses below this are cached (RAM size) */
	uint64_t dram_accesses;
};

/* ram_size bounds what is cacheable (see above). */
bool cache_init(struct cache *c, const struct mmu_model *m, uint64_t ram_size);
void cache_free(struct cache *c);

/* Access one physical address: returns the serving level (CACHE_L1D ..
 * CACHE_DRAM) and adds its latency to *cycles. Fills the levels that missed. */
enum mmu_cache_level cache_access(struct cache *c, uint64_t pa, uint32_t *cycles);
/* Which level would serve pa now; no state change. */
enum mmu_cache_level cache_probe(const struct cache *c, uint64_t pa);
void cache_flush(struct cache *c);

#endif
