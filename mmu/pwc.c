/* Paging-structure caches (see pwc.h). */
#include "mmu/pwc.h"

#include <stdlib.h>
#include <string.h>

/* Every way empty: the order lists them by descending number, so way 0 is
 * at the back and the first fill takes it. */
static void pwc_order_reset(uint16_t *order, uint32_t ways)
{
	for (uint32_t p = 0; p < ways; p++)
		order[p] = (uint16_t)(ways - 1 - p);
}

/* A fast block's order word <-> a 16-bit order list. */
static void pwc_ord_unpack(uint64_t ord, uint32_t ways, uint16_t *order)
{
	for (uint32_t p = 0; p < ways; p++)
		order[p] = (uint16_t)((ord >> (8 * p)) & 0xff);
}

static uint64_t pwc_ord_pack(const struct pwc *c, const uint16_t *order)
{
	uint64_t ord = 0;
	for (uint32_t p = 0; p < c->ways; p++)
		ord |= (uint64_t)order[p] << (8 * p);
	return ord * c->ord_rep;
}

/* The values of a block start after its keys. */
static uint32_t pwc_vals(const struct pwc *c)
{
	return c->fast ? PWC_FAST_WAYS : c->ways;
}

static uint64_t *pwc_block(const struct pwc *c, uint32_t set)
{
	return c->slot + (size_t)set * c->stride;
}

/* A block's order list on the general path, after its values. */
static uint16_t *pwc_set_order(const struct pwc *c, const uint64_t *s)
{
	return (uint16_t *)(s + 2 * c->ways);
}

bool pwc_init(struct pwc *c, const struct mmu_pwc_geom *g)
{
	memset(c, 0, sizeof *c);
	if (g->entries == 0)
		return true; /* absent */
	if (g->ways == 0 || g->entries % g->ways)
		return false;
	uint32_t sets = g->entries / g->ways;
	if (sets & (sets - 1))
		return false;
	uint16_t reset[PWC_FAST_WAYS];
	c->fast = g->ways == 1 || g->ways == 2 || g->ways == 4;
	c->sets = sets;
	c->ways = g->ways;
	c->set_mask = sets - 1;
	c->latency = g->latency;
	/* Other ways: keys, values and 16-bit way numbers, four a word. */
	c->stride = c->fast ? PWC_FAST_STRIDE : 2 * g->ways + (g->ways + 3) / 4;
	c->slot = calloc((size_t)sets * c->stride, sizeof *c->slot);
	if (!c->slot)
		return false;
	if (c->fast) {
		c->ord_low = (UINT64_C(1) << (8 * g->ways)) - 1;
		c->ord_rep = ~UINT64_C(0) / c->ord_low;
		pwc_order_reset(reset, g->ways);
	}
	for (uint32_t s = 0; s < sets; s++) {
		if (c->fast)
			pwc_block(c, s)[PWC_FAST_ORD] = pwc_ord_pack(c, reset);
		else
			pwc_order_reset(pwc_set_order(c, pwc_block(c, s)), g->ways);
	}
	return true;
}

void pwc_free(struct pwc *c)
{
	free(c->slot);
	c->slot = NULL;
}

/* Way w to the front of a 16-bit order list: the ways in front of it
 * shift back by one. */
static void pwc_order_touch(uint16_t *order, uint16_t w)
{
	uint32_t p = 0;
	while (order[p] != w)
		p++;
	memmove(order + 1, order, p * sizeof *order);
	order[0] = w;
}

/* The block of key's set. */
static uint64_t *pwc_key_block(const struct pwc *c, uint64_t key)
{
	return pwc_block(c, (uint32_t)((key >> PWC_KEY_TAG_SHIFT) & c->set_mask));
}

const uint64_t *pwc_lookup_slow(struct pwc *c, uint64_t key)
{
	uint64_t *s = pwc_key_block(c, key);
	c->st.lookups++;
	for (uint32_t w = 0; w < c->ways; w++) {
		if (s[w] == key) {
			c->st.hits++;
			pwc_order_touch(pwc_set_order(c, s), (uint16_t)w);
			return &s[c->ways + w];
		}
	}
	return NULL;
}

void pwc_fill_slow(struct pwc *c, uint64_t key, uint64_t val)
{
	uint64_t *s = pwc_key_block(c, key);
	uint16_t *order = pwc_set_order(c, s);
	uint16_t v = order[c->ways - 1];
	pwc_order_touch(order, v);
	if (!s[v])
		c->st.empty_fills++;
	s[v] = key;
	s[c->ways + v] = val;
	c->st.fills++;
}

const uint64_t *pwc_probe(const struct pwc *c, uint64_t la, unsigned shift, uint16_t pcid)
{
	if (!c->sets)
		return NULL;
	const uint64_t *s = pwc_block(c, (uint32_t)((la >> shift) & c->set_mask));
	uint64_t key = pwc_key(la, shift, pcid);
	for (uint32_t w = 0; w < c->ways; w++)
		if (s[w] == key)
			return &s[pwc_vals(c) + w];
	return NULL;
}

/* After emptying ways of a set: the valid ways keep their order at the
 * front, the empty ones follow by descending number (pwc.h). */
static void pwc_order_compact(uint16_t *order, uint32_t ways, const uint64_t *keys)
{
	uint32_t n = 0;
	for (uint32_t p = 0; p < ways; p++)
		if (keys[order[p]])
			order[n++] = order[p];
	for (uint32_t w = ways; w-- > 0;)
		if (!keys[w])
			order[n++] = (uint16_t)w;
}

static unsigned pwc_invalidate_if(struct pwc *c, bool all, uint16_t pcid)
{
	unsigned n = 0;
	for (uint32_t set = 0; set < c->sets; set++) {
		uint64_t *s = pwc_block(c, set);
		unsigned before = n;
		for (uint32_t w = 0; w < c->ways; w++) {
			if (s[w] && (all || ((s[w] >> PWC_KEY_PCID_SHIFT) & PWC_KEY_PCID_MASK) == pcid)) {
				s[w] = 0;
				n++;
			}
		}
		if (n == before)
			continue;
		if (c->fast) {
			uint16_t order[PWC_FAST_WAYS];
			pwc_ord_unpack(s[PWC_FAST_ORD], c->ways, order);
			pwc_order_compact(order, c->ways, s);
			s[PWC_FAST_ORD] = pwc_ord_pack(c, order);
		} else {
			pwc_order_compact(pwc_set_order(c, s), c->ways, s);
		}
	}
	c->st.invalidations += n;
	return n;
}

unsigned pwc_invalidate_all(struct pwc *c)
{
	return pwc_invalidate_if(c, true, 0);
}

unsigned pwc_invalidate_pcid(struct pwc *c, uint16_t pcid)
{
	return pwc_invalidate_if(c, false, pcid);
}

void pwc_read(const struct pwc *c, struct pwc_entry *out)
{
	uint16_t fast[PWC_FAST_WAYS];
	for (uint32_t set = 0; set < c->sets; set++) {
		const uint64_t *s = pwc_block(c, set), *val = s + pwc_vals(c);
		struct pwc_entry *e = out + (size_t)set * c->ways;
		const uint16_t *order = fast;
		if (c->fast)
			pwc_ord_unpack(s[PWC_FAST_ORD], c->ways, fast);
		else
			order = pwc_set_order(c, s);
		for (uint32_t w = 0; w < c->ways; w++) {
			uint64_t key = s[w];
			e[w] = (struct pwc_entry){
				.key = key, .next = pwc_next(val[w]), .rights = pwc_rights(val[w]),
				.pcid = key ? (uint16_t)((key >> PWC_KEY_PCID_SHIFT) & PWC_KEY_PCID_MASK) : 0 };
		}
		for (uint32_t p = 0; p < c->ways; p++)
			e[order[p]].age = p;
	}
}
