/* The recorder: observer callbacks that turn MMU events into records. */
#include "traces/recorder.h"

#include <stdlib.h>
#include <string.h>

/* ---- checkpoint hash ---------------------------------------------------- */

_Static_assert(sizeof(struct mmu_stats) % 8 == 0, "mmu_stats: 64-bit counters only");
_Static_assert(sizeof(struct tlb_stats) % 8 == 0, "tlb_stats: 64-bit counters only");
_Static_assert(sizeof(struct pwc_stats) % 8 == 0, "pwc_stats: 64-bit counters only");

size_t trace_state_nstats(const struct mmu *m)
{
	size_t n = sizeof(struct mmu_stats) / 8 + PWC_NKINDS * sizeof(struct pwc_stats) / 8;
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		n += m->ntlb[l] * sizeof(struct tlb_stats) / 8;
	return n;
}

/* The counters in a form that does not depend on whether hits took the
 * inline fast path (a recording never does, a replay may): fast hits are
 * counted as hits, translation cycles include theirs, and the count of
 * slow-path translations is left out. */
void trace_state_stats(const struct mmu *m, uint64_t *out)
{
	size_t n = 0;
	struct mmu_stats s = m->stats;
	s.translations = 0;
	s.cycles = mmu_stats_cycles(m);
	memcpy(out, &s, sizeof s);
	n += sizeof s / 8;
	/* Word by word, in the order of the traces' format: evictions, not
	 * the empty-way fills the structures count (tlb_evictions). */
	_Static_assert(sizeof(struct tlb_stats) == 6 * 8 && sizeof(struct pwc_stats) == 5 * 8,
		       "trace_state_nstats counts these words");
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < m->ntlb[l]; i++) {
			const struct tlb_stats *t = &m->tlb[l][i].st;
			out[n++] = 0; /* fast hits, counted as hits */
			out[n++] = t->hits + t->fast_hits;
			out[n++] = t->misses;
			out[n++] = t->fills;
			out[n++] = tlb_evictions(t);
			out[n++] = t->invalidations;
		}
	for (unsigned k = 0; k < PWC_NKINDS; k++) {
		const struct pwc_stats *c = &m->pwc[k].st;
		out[n++] = c->lookups;
		out[n++] = c->hits;
		out[n++] = c->fills;
		out[n++] = pwc_evictions(c);
		out[n++] = c->invalidations;
	}
}

/* FNV-1a over 64-bit words: order-sensitive, cheap, stable across hosts. */
static uint64_t hash_word(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

uint64_t trace_state_hash(const struct mmu *m, const uint64_t *base)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t n = trace_state_nstats(m);
	uint64_t *now = malloc(n * sizeof *now);
	if (!now)
		return 0;
	trace_state_stats(m, now);
	for (size_t i = 0; i < n; i++)
		h = hash_word(h, now[i] - (base ? base[i] : 0));

	free(now);
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < m->ntlb[l]; i++) {
			const struct tlb *t = &m->tlb[l][i];
			for (size_t e = 0; e < (size_t)t->sets * t->ways; e++) {
				const struct tlb_entry *x = &t->e[e];
				if (!x->key)
					continue;
				h = hash_word(h, e);
				h = hash_word(h, x->key);
				h = hash_word(h, x->pa);
				h = hash_word(h, (uint64_t)x->pcid << 32 | (uint64_t)x->rights << 24 |
							 (uint64_t)x->pkey << 16 | (uint64_t)x->size << 8 |
							 x->orig_size);
			}
		}
	return h;
}

/* ---- records ------------------------------------------------------------ */

static void rec_frame(struct trace_recorder *r, uint64_t pa)
{
	struct phys *p = &r->m->phys;
	uint64_t f = pa >> PHYS_FRAME_SHIFT;
	if (f >= p->nframes || (p->frame_flags[f] & FRAME_USER))
		return;
	p->frame_flags[f] |= FRAME_USER;
	r->rec.kind = TR_FRAME;
	r->rec.frame.pfn = f;
	memcpy(r->rec.frame.word, p->ram + (f << PHYS_FRAME_SHIFT), PHYS_FRAME_SIZE);
	trace_writer_put(&r->w, &r->rec);
}

/* Whether CPL or CS.L changed since the last record. */
static inline bool rec_mode_changed(const struct trace_recorder *r)
{
	return (uint8_t)(*r->cpl_now & 3) != r->cpl || *r->cs_l_now != r->cs_l;
}

/* CPL or CS.L changed since the last record: say so before the next one. */
static void rec_mode(struct trace_recorder *r, bool force)
{
	if (!force && !rec_mode_changed(r))
		return;
	r->cpl = (uint8_t)(*r->cpl_now & 3);
	r->cs_l = *r->cs_l_now;
	r->rec.kind = TR_MODE;
	r->rec.mode.cpl = r->cpl;
	r->rec.mode.cs_l = r->cs_l;
	trace_writer_put(&r->w, &r->rec);
}

static void rec_checkpoint(struct trace_recorder *r)
{
	r->rec.kind = TR_CHECKPOINT;
	r->rec.checkpoint.accesses = r->w.accesses;
	r->rec.checkpoint.insns = r->cl.insns ? *r->cl.insns : 0;
	r->rec.checkpoint.cycles = r->cl.cycles ? *r->cl.cycles : 0;
	r->rec.checkpoint.hash = trace_state_hash(r->m, r->base);
	trace_writer_put(&r->w, &r->rec);
}

/* ---- observer callbacks ------------------------------------------------- */

/* The walk steps, A/D updates and fault of the translation in progress
 * are gathered in r->acc until its access event. */
static void on_walk_step(void *ctx, const struct mmu_walk_step *s)
{
	struct trace_recorder *r = ctx;
	struct trace_access *a = &r->acc.access;
	if (!r->in_walk) {
		r->in_walk = true;
		a->nsteps = a->nad = 0;
	}
	rec_frame(r, s->entry_pa);
	if (a->nsteps >= TRACE_MAX_STEPS)
		return;
	a->step[a->nsteps++] = (struct trace_step){.level = s->level, .cache = s->cache,
						    .entry_pa = s->entry_pa, .entry = s->entry,
						    .cycles = s->cycles};
}

static void on_ad_update(void *ctx, uint64_t entry_pa, uint64_t old, uint64_t new_)
{
	struct trace_recorder *r = ctx;
	struct trace_access *a = &r->acc.access;
	(void)old;
	for (unsigned i = 0; i < a->nsteps && a->nad < TRACE_MAX_STEPS; i++)
		if (a->step[i].entry_pa == entry_pa) {
			a->ad[a->nad++] = (struct trace_ad){.step = (uint8_t)i, .value = new_};
			return;
		}
}

static void on_fault(void *ctx, uint64_t la, unsigned acc, uint8_t vector, uint32_t error_code)
{
	struct trace_recorder *r = ctx;
	(void)la;
	(void)acc;
	r->fault_pending = true;
	r->acc.access.vector = vector;
	r->acc.access.error_code = error_code;
}

static void rec_checkpoint_if_due(struct trace_recorder *r)
{
	if (r->w.accesses >= r->next_checkpoint) {
		r->next_checkpoint += TRACE_CHECKPOINT_EVERY;
		rec_checkpoint(r);
	}
}

/* The full record of a translation: its outcome with the walk steps, A/D
 * updates and fault gathered since the last one, after a MODE record if
 * the mode changed. Out of line: on_access stays a leaf on its fast path. */
static __attribute__((noinline)) void rec_access(struct trace_recorder *r, uint64_t la,
						 unsigned acc, const struct mmu_xlate *x)
{
	struct trace_access *a = &r->acc.access;
	rec_mode(r, false);
	if (!r->in_walk)
		a->nsteps = a->nad = 0;
	r->in_walk = false;
	a->la = la;
	a->acc = (uint8_t)acc;
	a->ok = !r->fault_pending;
	r->fault_pending = false;
	a->cycles = x->cycles;
	a->walk_reads = x->walk_reads;
	a->pwc_level = x->pwc_level;
	a->predicted = false;
	a->pa = a->ok ? x->pa : 0;
	a->source = a->ok ? x->source : 0;
	a->size = a->ok ? x->size : 0;
	if (a->ok) {
		a->vector = 0;
		a->error_code = 0;
	}
	trace_writer_put(&r->w, &r->acc);
	rec_checkpoint_if_due(r);
}

/* A translation without walk steps or a fault, in an unchanged mode
 * (nearly every one), is first offered to the writer as a predicted
 * access, which it encodes without the full record; anything else, or a
 * miss of the prediction, takes the full record. Both write the same
 * bytes. */
static void on_access(void *ctx, uint64_t la, unsigned acc, const struct mmu_xlate *x)
{
	struct trace_recorder *r = ctx;
	if (MMU_UNLIKELY(r->in_walk || r->fault_pending || rec_mode_changed(r) ||
			 !trace_writer_put_predicted(&r->w, la, (uint8_t)acc, x))) {
		rec_access(r, la, acc, x);
		return;
	}
	rec_checkpoint_if_due(r);
}

/* PAE paging keeps its PDPTEs in registers loaded from the page at CR3
 * (SDM Vol. 3A §4.4.1); a replay needs that page before the operation. */
static void rec_pdpt_frames(struct trace_recorder *r, const struct mmu_ctl_event *e)
{
	struct mmu *m = r->m;
	if (!(m->cr4 & CR4_PAE) || (m->efer & EFER_LMA))
		return;
	rec_frame(r, m->cr3 & CR3_PAE_PDPT_MASK);
	if (e->op == CTL_CR3 || e->op == CTL_SET_CONTROL)
		rec_frame(r, (e->op == CTL_CR3 ? e->arg[0] : e->arg[1]) & CR3_PAE_PDPT_MASK &
				     UINT64_C(0xffffffff));
}

static void on_ctl(void *ctx, const struct mmu_ctl_event *e)
{
	struct trace_recorder *r = ctx;
	rec_mode(r, false);
	rec_pdpt_frames(r, e);
	r->rec.kind = TR_CTL;
	r->rec.ctl.op = (uint8_t)e->op;
	r->rec.ctl.ok = e->ok;
	memcpy(r->rec.ctl.arg, e->arg, sizeof r->rec.ctl.arg);
	trace_writer_put(&r->w, &r->rec);
}

/* The phys write hook: stores to captured frames, except the walker's own
 * A/D updates (made between a walk's steps and its access event). */
static void on_phys_write(void *ctx, uint64_t pa, unsigned size, uint8_t frame_flags)
{
	struct trace_recorder *r = ctx;
	struct phys *p = &r->m->phys;
	if (r->prev_hook)
		r->prev_hook(r->prev_ctx, pa, size, frame_flags);
	if (!(frame_flags & FRAME_USER) || r->in_walk || !size)
		return;
	uint64_t end = pa + size;
	for (uint64_t a = pa; a < end;) {
		uint64_t f = a >> PHYS_FRAME_SHIFT, next = (f + 1) << PHYS_FRAME_SHIFT;
		uint64_t stop = next < end ? next : end;
		if (f < p->nframes && (p->frame_flags[f] & FRAME_USER) && phys_in_ram(p, a, 1)) {
			uint64_t len = stop - a;
			if (a + len > p->size)
				len = p->size - a;
			r->rec.kind = TR_STORE;
			r->rec.store.pa = a;
			r->rec.store.len = (uint32_t)len;
			memcpy(r->rec.store.data, p->ram + a, len);
			trace_writer_put(&r->w, &r->rec);
		}
		a = stop;
	}
}

/* ---- start and stop ----------------------------------------------------- */

static void header_fill(struct trace_header *h, const struct mmu *m, const struct trace_client *cl)
{
	memset(h, 0, sizeof *h);
	h->version = TRACE_VERSION;
	h->ram_size = m->phys.size;
	h->model_hash = mmu_model_hash(&m->model);
	snprintf(h->model_name, sizeof h->model_name, "%s", m->model.name);
	snprintf(h->emu_version, sizeof h->emu_version, "%s", cl->emu_version ? cl->emu_version : "");
	h->cr0 = m->cr0;
	h->cr3 = m->cr3;
	h->cr4 = m->cr4;
	h->efer = m->efer;
	h->pkru = m->pkru;
	h->cpl = cl->cpl ? (uint8_t)(*cl->cpl & 3) : 0;
	h->cs_l = m->seg.sr[SEG_CS].l;
	h->start_insns = cl->insns ? *cl->insns : 0;
	h->start_cycles = cl->cycles ? *cl->cycles : 0;
}

bool trace_recorder_start(struct trace_recorder *r, struct mmu *m, const char *path,
			  const struct trace_client *cl, char *err, size_t errlen)
{
	struct trace_header h;
	memset(r, 0, sizeof *r);
	r->m = m;
	r->cl = *cl;
	r->cpl_now = cl->cpl ? cl->cpl : &r->cpl_zero;
	r->cs_l_now = &m->seg.sr[SEG_CS].l;
	r->base = calloc(trace_state_nstats(m), sizeof *r->base);
	if (!r->base) {
		snprintf(err, errlen, "trace: out of memory");
		return false;
	}
	header_fill(&h, m, cl);
	if (!trace_writer_open(&r->w, path, &h, err, errlen)) {
		free(r->base);
		return false;
	}
	r->acc.kind = TR_ACCESS;
	r->obs = (struct mmu_observer){.ctx = r, .access = on_access, .walk_step = on_walk_step,
				       .ad_update = on_ad_update, .fault = on_fault, .ctl = on_ctl};
	r->prev_hook = m->phys.hook;
	r->prev_ctx = m->phys.hook_ctx;
	m->phys.hook = on_phys_write;
	m->phys.hook_ctx = r;
	mmu_set_observer(m, &r->obs);
	rec_mode(r, true);
	/* The start state, applied the way a replay applies it: this drops
	 * every TLB, PWC and data-cache entry, here and there alike.
	 * Checkpoints count statistics from here on (a replay resets its
	 * statistics after this first set-control record). */
	mmu_set_control(m, m->cr0, m->cr3, m->cr4, m->efer);
	trace_state_stats(m, r->base);
	mmu_write_pkru(m, m->pkru);
	r->next_checkpoint = TRACE_CHECKPOINT_EVERY;
	return true;
}

bool trace_recorder_stop(struct trace_recorder *r, char *err, size_t errlen)
{
	struct mmu *m = r->m;
	rec_checkpoint(r);
	mmu_set_observer(m, NULL);
	m->phys.hook = r->prev_hook;
	m->phys.hook_ctx = r->prev_ctx;
	for (uint64_t f = 0; f < m->phys.nframes; f++)
		m->phys.frame_flags[f] &= (uint8_t)~FRAME_USER;
	free(r->base);
	r->base = NULL;
	return trace_writer_close(&r->w, err, errlen);
}
