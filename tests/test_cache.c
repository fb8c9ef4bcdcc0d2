/* The data-cache model on its own: exact LRU per set, inclusive fills,
 * latencies, and reads outside RAM. */
#include <criterion/criterion.h>

#include "mmu/cache.h"

/* L1D: 2 sets x 4 ways of 64-byte lines; L2: 1 set x 20 ways (a set of
 * two 16-slot vectors); no L3. Latencies 4 / 12 / DRAM 200. */
static const char *small_model =
	"model small\n"
	"maxphyaddr 39\n"
	"tlb l1i sizes=4k entries=8 ways=2 latency=1\n"
	"tlb l1d sizes=4k entries=8 ways=2 latency=1\n"
	"cache l1d size=512 ways=4 line=64 latency=4\n"
	"cache l2 size=1280 ways=20 line=64 latency=12\n"
	"dram latency=200\n"
	"walk timing=cached start=1 ad_update=5\n";

static void small_cache(struct cache *c)
{
	struct mmu_model m;
	char err[200];
	cr_assert(mmu_model_parse(&m, small_model, "small.model", err, sizeof err), "%s", err);
	cr_assert(cache_init(c, &m, UINT64_C(1) << 20));
}

/* Line n of L1D set 0: line addresses 0, 128, 256, ... */
static uint64_t set0_line(unsigned n)
{
	return (uint64_t)n * 128;
}

Test(cache, miss_fills_every_level_and_then_hits_l1d)
{
	struct cache c;
	small_cache(&c);
	uint32_t cyc = 0;
	cr_assert_eq(cache_access(&c, 0x1000, &cyc), CACHE_DRAM);
	cr_assert_eq(cyc, 200);
	cr_assert_eq(cache_access(&c, 0x1008, &cyc), CACHE_L1D, "same line");
	cr_assert_eq(cyc, 204);
	cr_assert_eq(cache_probe(&c, 0x1000), CACHE_L1D);
	cr_assert_eq(c.lvl[CACHE_L1D].misses, 1);
	cr_assert_eq(c.lvl[CACHE_L2].misses, 1);
	cr_assert_eq(c.dram_accesses, 1);
	cache_free(&c);
}

Test(cache, lru_evicts_the_least_recently_used_line)
{
	struct cache c;
	small_cache(&c);
	uint32_t cyc = 0;
	for (unsigned n = 0; n < 4; n++)
		(void)cache_access(&c, set0_line(n), &cyc);
	/* Touch lines 0, 1, 3: line 2 becomes the LRU of the 4-way set. */
	cr_assert_eq(cache_access(&c, set0_line(0), &cyc), CACHE_L1D);
	cr_assert_eq(cache_access(&c, set0_line(1), &cyc), CACHE_L1D);
	cr_assert_eq(cache_access(&c, set0_line(3), &cyc), CACHE_L1D);
	cr_assert_eq(cache_access(&c, set0_line(4), &cyc), CACHE_DRAM);
	cr_assert_eq(cache_probe(&c, set0_line(2)), CACHE_L2, "line 2 left the L1D");
	for (unsigned n = 0; n < 5; n++)
		if (n != 2)
			cr_assert_eq(cache_probe(&c, set0_line(n)), CACHE_L1D, "line %u kept", n);
	/* The L2 still holds line 2; reading it refills the L1D, evicting
	 * line 0, now the least recent. */
	cr_assert_eq(cache_access(&c, set0_line(2), &cyc), CACHE_L2);
	cr_assert_eq(cache_probe(&c, set0_line(0)), CACHE_L2);
	cache_free(&c);
}

Test(cache, twenty_way_set_keeps_exactly_twenty_lines)
{
	struct cache c;
	small_cache(&c);
	uint32_t cyc = 0;
	/* The L2 has one set: lines 0..19 fit, line 20 evicts line 0. */
	for (unsigned n = 0; n < 20; n++)
		(void)cache_access(&c, (uint64_t)n * 64, &cyc);
	for (unsigned n = 0; n < 20; n++)
		cr_assert_neq(cache_probe(&c, (uint64_t)n * 64), CACHE_DRAM, "line %u", n);
	(void)cache_access(&c, 20 * 64, &cyc);
	cr_assert_eq(cache_probe(&c, 0), CACHE_DRAM);
	cr_assert_neq(cache_probe(&c, 64), CACHE_DRAM);
	cache_free(&c);
}

Test(cache, read_outside_ram_costs_dram_and_is_not_cached)
{
	struct cache c;
	small_cache(&c);
	uint32_t cyc = 0;
	uint64_t past = UINT64_C(1) << 20;
	cr_assert_eq(cache_access(&c, past, &cyc), CACHE_DRAM);
	cr_assert_eq(cache_access(&c, past, &cyc), CACHE_DRAM, "still not cached");
	cr_assert_eq(cyc, 400);
	cr_assert_eq(cache_access(&c, UINT64_C(0xffffffffff000), &cyc), CACHE_DRAM);
	cr_assert_eq(c.lvl[CACHE_L1D].misses, 0, "no level was looked at");
	cache_free(&c);
}

Test(cache, flush_empties_every_level)
{
	struct cache c;
	small_cache(&c);
	uint32_t cyc = 0;
	for (unsigned n = 0; n < 8; n++)
		(void)cache_access(&c, set0_line(n), &cyc);
	cache_flush(&c);
	for (unsigned n = 0; n < 8; n++)
		cr_assert_eq(cache_probe(&c, set0_line(n)), CACHE_DRAM);
	/* After a flush the LRU order is whole again: 4 new lines fit set 0. */
	for (unsigned n = 8; n < 12; n++)
		(void)cache_access(&c, set0_line(n), &cyc);
	for (unsigned n = 8; n < 12; n++)
		cr_assert_eq(cache_probe(&c, set0_line(n)), CACHE_L1D);
	cache_free(&c);
}

/* A read of the line read last is served without a set probe: it must
 * count as an L1D hit, leave the LRU order as a probe would (that line is
 * already the most recent), and be forgotten by a flush. */
Test(cache, repeat_of_the_last_line_is_an_l1d_hit_that_keeps_lru_order)
{
	struct cache c;
	small_cache(&c);
	uint32_t cyc = 0;
	for (unsigned n = 0; n < 4; n++)
		(void)cache_access(&c, set0_line(n), &cyc);
	cyc = 0;
	cr_assert_eq(cache_access(&c, set0_line(3) + 8, &cyc), CACHE_L1D);
	cr_assert_eq(cache_access(&c, set0_line(3) + 16, &cyc), CACHE_L1D);
	cr_assert_eq(cyc, 8);
	cr_assert_eq(c.lvl[CACHE_L1D].hits, 2);
	/* Line 0 is still the LRU way: a fifth line evicts it, not line 3. */
	cr_assert_eq(cache_access(&c, set0_line(4), &cyc), CACHE_DRAM);
	cr_assert_eq(cache_probe(&c, set0_line(0)), CACHE_L2);
	cr_assert_eq(cache_probe(&c, set0_line(3)), CACHE_L1D);
	cache_flush(&c);
	cr_assert_eq(cache_access(&c, set0_line(4), &cyc), CACHE_DRAM, "flushed: not a repeat");
	cache_free(&c);
}
