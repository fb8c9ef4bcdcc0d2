/* Paging-structure caches against a reference model of their contract
 * (SDM Vol. 3A §4.10.3 for what is cached; the replacement is mmulab's):
 * exact LRU per set, where a fill takes the first empty way (lowest
 * number) and else the least recently used one, and an invalidation
 * empties ways without reordering the rest. The reference keeps a
 * timestamp per way, the cache an order per set, for every way count the
 * model files allow a path for: the unrolled one (1, 2 and 4 ways) and
 * the general one (others, past 16 ways too). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "mmu/pwc.h"

#define REF_MAX 256

struct ref_way {
	uint64_t key, next, lru; /* lru 0: empty */
	uint8_t rights;
};

struct ref {
	struct ref_way w[REF_MAX];
	uint32_t sets, ways;
	uint64_t clock;
	struct pwc_stats st;
};

static struct ref_way *ref_set(struct ref *r, uint64_t la, unsigned shift)
{
	return &r->w[((la >> shift) & (r->sets - 1)) * r->ways];
}

static struct ref_way *ref_lookup(struct ref *r, uint64_t la, unsigned shift, uint16_t pcid)
{
	struct ref_way *s = ref_set(r, la, shift);
	uint64_t key = pwc_key(la, shift, pcid);
	r->st.lookups++;
	for (uint32_t w = 0; w < r->ways; w++) {
		if (s[w].key == key) {
			r->st.hits++;
			s[w].lru = ++r->clock;
			return &s[w];
		}
	}
	return NULL;
}

static void ref_fill(struct ref *r, uint64_t la, unsigned shift, uint16_t pcid, uint64_t next,
		     uint8_t rights)
{
	struct ref_way *s = ref_set(r, la, shift), *v = s;
	for (uint32_t w = 1; w < r->ways; w++)
		if (s[w].lru < v->lru)
			v = &s[w];
	if (!v->key)
		r->st.empty_fills++;
	*v = (struct ref_way){ .key = pwc_key(la, shift, pcid), .next = next, .rights = rights,
			       .lru = ++r->clock };
	r->st.fills++;
}

static unsigned ref_invalidate(struct ref *r, bool all, uint16_t pcid)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < r->sets * r->ways; i++) {
		struct ref_way *w = &r->w[i];
		if (w->key && (all || ((w->key >> PWC_KEY_PCID_SHIFT) & PWC_KEY_PCID_MASK) == pcid)) {
			w->key = 0;
			w->lru = 0;
			n++;
		}
	}
	r->st.invalidations += n;
	return n;
}

/* Same contents, statistics and recency order: each valid way's age is
 * the number of valid ways of its set used more recently, and the empty
 * ways come after them, the lowest-numbered last (the next to be
 * filled). */
static void same(const struct pwc *c, const struct ref *r, unsigned step)
{
	struct pwc_entry e[REF_MAX];
	pwc_read(c, e);
	cr_assert_eq(memcmp(&c->st, &r->st, sizeof r->st), 0, "step %u: statistics", step);
	for (uint32_t set = 0; set < r->sets; set++) {
		const struct ref_way *rs = &r->w[set * r->ways];
		const struct pwc_entry *cs = &e[set * r->ways];
		uint32_t valid = 0;
		for (uint32_t w = 0; w < r->ways; w++)
			valid += rs[w].key != 0;
		for (uint32_t w = 0; w < r->ways; w++) {
			cr_assert_eq(cs[w].key, rs[w].key, "step %u set %u way %u: key", step, set, w);
			uint32_t age = 0;
			if (rs[w].key) {
				cr_assert_eq(cs[w].next, rs[w].next, "step %u: next", step);
				cr_assert_eq(cs[w].rights, rs[w].rights, "step %u: rights", step);
				cr_assert_eq(cs[w].pcid, (rs[w].key >> PWC_KEY_PCID_SHIFT) & PWC_KEY_PCID_MASK);
				for (uint32_t o = 0; o < r->ways; o++)
					age += rs[o].key && rs[o].lru > rs[w].lru;
			} else {
				age = valid;
				for (uint32_t o = w + 1; o < r->ways; o++)
					age += !rs[o].key;
			}
			cr_assert_eq(cs[w].age, age, "step %u set %u way %u: age %u, want %u", step, set,
				     w, cs[w].age, age);
		}
	}
}

/* Random lookups, fills after misses (through both the walk's slot form
 * and pwc_fill), probes and invalidations over a few tags that collide
 * in the sets, so that every way is hit, evicted and emptied. */
static void run(uint32_t entries, uint32_t ways, unsigned seed)
{
	struct mmu_pwc_geom g = { .entries = entries, .ways = ways, .latency = 1 };
	struct pwc c;
	cr_assert(pwc_init(&c, &g), "%u entries, %u ways", entries, ways);
	struct ref *r = calloc(1, sizeof *r);
	cr_assert(r && entries <= REF_MAX);
	r->sets = entries / ways;
	r->ways = ways;
	srand(seed);
	const unsigned shift = 21;
	uint32_t tags = entries + entries / 2 + 2;
	for (unsigned step = 0; step < 4000; step++) {
		uint64_t la = ((uint64_t)(rand() % tags) << shift) | (uint64_t)(rand() & 0xfff);
		uint16_t pcid = (uint16_t)(rand() % 3);
		int op = rand() % 100;
		if (op < 2) {
			cr_assert_eq(pwc_invalidate_pcid(&c, pcid), ref_invalidate(r, false, pcid));
		} else if (op < 3) {
			cr_assert_eq(pwc_invalidate_all(&c), ref_invalidate(r, true, 0));
		} else if (op < 10) {
			const uint64_t *v = pwc_probe(&c, la, shift, pcid);
			struct ref_way *s = ref_set(r, la, shift);
			bool in = false;
			for (uint32_t w = 0; w < ways; w++)
				in |= s[w].key == pwc_key(la, shift, pcid);
			cr_assert_eq(v != NULL, in, "step %u: probe", step);
		} else {
			struct pwc_slot slot = { NULL, 0 };
			bool walk_form = op & 1;
			const uint64_t *v = walk_form ? pwc_lookup_la(&c, la, shift, pwc_key_low(pcid), &slot)
						      : pwc_lookup(&c, la, shift, pcid);
			struct ref_way *e = ref_lookup(r, la, shift, pcid);
			cr_assert_eq(v != NULL, e != NULL, "step %u: lookup", step);
			if (v) {
				cr_assert_eq(pwc_next(*v), e->next);
				cr_assert_eq(pwc_rights(*v), e->rights);
			} else if (op < 90) {
				uint64_t next = (uint64_t)(rand() & 0xffff) << 12;
				uint8_t rights = (uint8_t)(rand() & 7);
				if (walk_form)
					pwc_fill_slot(&c, &slot, next, rights);
				else
					pwc_fill(&c, la, shift, pcid, next, rights);
				ref_fill(r, la, shift, pcid, next, rights);
			}
		}
		same(&c, r, step);
	}
	free(r);
	pwc_free(&c);
}

/* entries, ways */
static const uint32_t unrolled[][2] = { { 1, 1 }, { 4, 1 }, { 2, 2 }, { 8, 2 }, { 4, 4 }, { 32, 4 } };
static const uint32_t general[][2] = { { 3, 3 }, { 12, 3 }, { 8, 8 }, { 17, 17 }, { 64, 32 }, { 256, 256 } };

Test(pwc, unrolled_ways_match_the_reference)
{
	for (unsigned i = 0; i < sizeof unrolled / sizeof unrolled[0]; i++)
		run(unrolled[i][0], unrolled[i][1], i + 1);
}

Test(pwc, general_ways_match_the_reference)
{
	for (unsigned i = 0; i < sizeof general / sizeof general[0]; i++)
		run(general[i][0], general[i][1], i + 100);
}

/* The case the order's invariant exists for: after an invalidation empties
 * ways in the middle of the order, the next fills take the empty ways
 * lowest number first, before any valid way however old. */
Test(pwc, fills_after_an_invalidation_take_empty_ways_lowest_first)
{
	static const uint32_t ways[] = { 4, 20 };
	for (unsigned i = 0; i < 2; i++) {
		uint32_t n = ways[i];
		struct mmu_pwc_geom g = { .entries = n, .ways = n, .latency = 1 };
		struct pwc c;
		cr_assert(pwc_init(&c, &g));
		for (uint32_t t = 0; t < n; t++) /* way t holds tag t, PCID t & 1 */
			pwc_fill(&c, (uint64_t)t << 21, 21, (uint16_t)(t & 1), (uint64_t)(t + 1) << 12, 0);
		cr_assert_eq(pwc_evictions(&c.st), 0);
		cr_assert_eq(pwc_invalidate_pcid(&c, 1), n / 2); /* odd ways */
		for (uint32_t t = 0; t < n / 2; t++) {
			uint64_t la = (uint64_t)(n + t) << 21;
			cr_assert_null(pwc_lookup(&c, la, 21, 0));
			pwc_fill(&c, la, 21, 0, 0, 0);
			struct pwc_entry e[32];
			pwc_read(&c, e);
			cr_assert_eq(e[2 * t + 1].key, pwc_key(la, 21, 0), "%u ways: fill %u", n, t);
			cr_assert_eq(e[2 * t + 1].age, 0);
		}
		cr_assert_eq(pwc_evictions(&c.st), 0);
		/* Full again: the next fill evicts the least recent, way 0. */
		pwc_fill(&c, (uint64_t)(2 * n) << 21, 21, 0, 0, 0);
		cr_assert_eq(pwc_evictions(&c.st), 1);
		cr_assert_null(pwc_probe(&c, 0, 21, 0));
		pwc_free(&c);
	}
}
