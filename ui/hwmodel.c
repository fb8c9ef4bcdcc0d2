/* Hardware panel models (ui/hwmodel.h). */
#include "ui/hwmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/pgtree.h"

void hw_init(struct hw_model *h)
{
	memset(h, 0, sizeof *h);
}

void hw_free(struct hw_model *h)
{
	free(h->e);
	hw_init(h);
}

double hw_rate(uint64_t hits, uint64_t lookups)
{
	return lookups ? 100.0 * (double)hits / (double)lookups : 0.0;
}

void hw_rights_text(uint8_t r, char *buf, size_t len)
{
	snprintf(buf, len, "R%c%c%c%c", r & TLB_R_WRITE ? 'W' : '-', r & TLB_R_EXEC ? 'X' : '-',
		 r & TLB_R_USER ? 'U' : 'S', r & TLB_R_DIRTY ? 'D' : '-');
}

static int by_age(const void *a, const void *b)
{
	const struct hw_entry *x = a, *y = b;
	return x->age < y->age ? -1 : x->age > y->age;
}

static void tlb_name(const struct snap_tlb *t, char *buf, size_t len)
{
	static const char *const lv[] = { "L1I", "L1D", "L2" };
	static const char *const sz[] = { "4K", "2M", "4M", "1G" };
	int n = snprintf(buf, len, "%s ", t->level < 3 ? lv[t->level] : "?");
	for (unsigned s = 0, first = 1; s < PG_NSIZES && n > 0 && (size_t)n < len; s++) {
		if (t->sizes & PG_SIZE_BIT(s)) {
			n += snprintf(buf + n, len - (size_t)n, "%s%s", first ? "" : "+", sz[s]);
			first = 0;
		}
	}
}

static void add_tlb(struct hw_model *h, const struct snapshot *s, const struct snap_tlb *t)
{
	struct hw_struct *o = &h->st[h->nstruct++];
	tlb_name(t, o->name, sizeof o->name);
	o->pwc = false;
	o->capacity = t->sets * t->ways;
	o->latency = t->latency;
	o->hits = t->st.hits + t->st.fast_hits;
	o->lookups = o->hits + t->st.misses;
	o->first = h->ne;
	for (size_t i = 0; i < t->n; i++) {
		const struct tlb_entry *e = &s->tlb_e[t->first + i];
		if (!e->key)
			continue;
		/* Canonical: the tag the TLB keeps may lack the top address bits
		 * (bits 63:60 of a 4-KByte page's address are not in its key). */
		h->e[h->ne++] = (struct hw_entry){ .la = pgtree_canonical(s->paging, tlb_entry_la(e)),
						   .pa = e->pa,
						   .age = t->clock - e->lru, .pcid = e->pcid,
						   .size = e->size, .rights = e->rights };
	}
	o->n = h->ne - o->first;
	qsort(h->e + o->first, o->n, sizeof *h->e, by_age);
}

static void add_pwc(struct hw_model *h, const struct snapshot *s, unsigned k)
{
	static const char *const names[] = { "PWC PML5E", "PWC PML4E", "PWC PDPTE", "PWC PDE" };
	static const unsigned shift[] = { 48, 39, 30, 21 }; /* bits the cached entry selects */
	const struct snap_pwc *p = &s->pwc[k];
	if (!p->sets)
		return;
	struct hw_struct *o = &h->st[h->nstruct++];
	snprintf(o->name, sizeof o->name, "%s", names[k]);
	o->pwc = true;
	o->capacity = p->sets * p->ways;
	o->latency = p->latency;
	o->hits = p->st.hits;
	o->lookups = p->st.lookups;
	o->first = h->ne;
	for (size_t i = 0; i < p->n; i++) {
		const struct pwc_entry *e = &s->pwc_e[p->first + i];
		if (!e->key)
			continue;
		h->e[h->ne++] = (struct hw_entry){ .la = (e->key >> PWC_KEY_TAG_SHIFT) << shift[k],
						   .pa = e->next, .age = e->age,
						   .pcid = e->pcid, .rights = e->rights };
	}
	o->n = h->ne - o->first;
	qsort(h->e + o->first, o->n, sizeof *h->e, by_age);
}

static void add_sample(struct hw_model *h, const struct snapshot *s, int64_t free_kb)
{
	struct hw_sample now = { s->insns, s->cycles, h->faults, h->flushes, h->walks, 0 };
	if (h->have_last && now.insns != h->last.insns) {
		struct hw_sample d = { now.insns - h->last.insns, now.cycles - h->last.cycles,
				       now.faults - h->last.faults, now.flushes - h->last.flushes,
				       now.walks - h->last.walks,
				       free_kb >= 0 && h->last_free_kb >= 0 ? free_kb - h->last_free_kb : 0 };
		if (h->ntl == HW_TIMELINE)
			memmove(h->tl, h->tl + 1, sizeof h->tl[0] * (HW_TIMELINE - 1));
		else
			h->ntl++;
		h->tl[h->ntl - 1] = d;
	}
	h->last = now;
	h->last_free_kb = free_kb;
	h->have_last = true;
}

bool hw_build(struct hw_model *h, const struct snapshot *s, int64_t free_kb)
{
	size_t need = 0;
	for (unsigned i = 0; i < s->ntlb; i++)
		need += s->tlb[i].n;
	for (unsigned k = 0; k < PWC_NKINDS; k++)
		need += s->pwc[k].n;
	if (need > h->cap) {
		struct hw_entry *p = realloc(h->e, need * sizeof *p);
		if (!p)
			return false;
		h->e = p;
		h->cap = need;
	}
	h->nstruct = 0;
	h->ne = 0;
	h->tlb_lookups = h->tlb_hits = 0;
	for (unsigned i = 0; i < s->ntlb; i++) {
		add_tlb(h, s, &s->tlb[i]);
		if (s->tlb[i].level != TLB_L2 && h->st[h->nstruct - 1].lookups) {
			h->tlb_lookups += h->st[h->nstruct - 1].lookups;
			h->tlb_hits += h->st[h->nstruct - 1].hits;
		}
	}
	for (unsigned k = 0; k < PWC_NKINDS; k++)
		add_pwc(h, s, k);
	h->insns = s->insns;
	h->cycles = s->cycles;
	h->cpi = s->insns ? (double)s->cycles / (double)s->insns : 0.0;
	h->faults = s->mstats.faults_pf + s->mstats.faults_gp;
	h->flushes = s->mstats.flushes;
	h->walks = s->mstats.walks;
	add_sample(h, s, free_kb);
	return true;
}
