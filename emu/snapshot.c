/* Snapshots and the walk/event recorder (emu/snapshot.h). */
#include "emu/snapshot.h"

#include <stdlib.h>

/* ---- the recorder --------------------------------------------------------- */

static void rec_event(struct snapshot_recorder *r, enum snap_event_kind k, uint8_t sub,
		      uint64_t arg, uint32_t code)
{
	struct snap_event *e = &r->ev[r->nevents++ % SNAP_EVENTS];
	*e = (struct snap_event){ .cycle = r->cpu->cycles, .arg = arg, .code = code,
				  .kind = (uint8_t)k, .sub = sub };
}

static void rec_walk_step(void *ctx, const struct mmu_walk_step *s)
{
	struct snapshot_recorder *r = ctx;
	if (r->cur.nsteps < 5)
		r->cur.step[r->cur.nsteps++] = *s;
}

/* A translation's outcome closes the walk its steps belong to. */
static void rec_access(void *ctx, uint64_t la, unsigned acc, const struct mmu_xlate *x)
{
	struct snapshot_recorder *r = ctx;
	if (x->source != SRC_WALK && !r->cur.fault && !r->cur.nsteps)
		return;
	r->cur.la = la;
	r->cur.pa = r->cur.fault ? 0 : x->pa;
	r->cur.cycle = r->cpu->cycles;
	r->cur.cycles = x->cycles;
	r->cur.size = x->size;
	r->cur.pwc_level = x->pwc_level;
	r->walk[r->nwalks++ % SNAP_WALKS] = r->cur;
	memset(&r->cur, 0, sizeof r->cur);
}

static void rec_fault(void *ctx, uint64_t la, unsigned acc, uint8_t vector, uint32_t ec)
{
	struct snapshot_recorder *r = ctx;
	r->cur.fault = true;
	rec_event(r, SNAP_EV_FAULT, 0, la, (uint32_t)vector << 16 | (ec & 0xffff));
}

static void rec_flush(void *ctx, enum mmu_flush_kind k, uint64_t arg, unsigned removed)
{
	rec_event(ctx, SNAP_EV_FLUSH, (uint8_t)k, arg, removed);
}

static void rec_tlb(void *ctx, enum mmu_tlb_event_kind k, enum mmu_tlb_level level, unsigned idx,
		    uint64_t la, uint64_t pa, enum mmu_page_size size)
{
	if (k == TLB_EV_FILL)
		rec_event(ctx, SNAP_EV_TLB_FILL, (uint8_t)level, la, (uint32_t)size);
}

void snapshot_recorder_init(struct snapshot_recorder *r, const struct cpu *c)
{
	memset(r, 0, sizeof *r);
	r->cpu = c;
	r->obs = (struct mmu_observer){ .ctx = r, .access = rec_access, .walk_step = rec_walk_step,
					.tlb = rec_tlb, .flush = rec_flush, .fault = rec_fault };
}

void snapshot_recorder_attach(struct snapshot_recorder *r, struct cpu *c, bool on)
{
	memset(&r->cur, 0, sizeof r->cur);
	mmu_set_observer(&c->mmu, on ? &r->obs : NULL);
}

/* ---- snapshots ------------------------------------------------------------ */

void snapshot_init(struct snapshot *s)
{
	memset(s, 0, sizeof *s);
}

void snapshot_free(struct snapshot *s)
{
	free(s->tlb_e);
	free(s->pwc_e);
	snapshot_init(s);
}

/* Grow *buf to hold n elements of size sz; false when out of memory. */
static bool grow(void **buf, size_t *cap, size_t n, size_t sz)
{
	if (n <= *cap)
		return true;
	void *p = realloc(*buf, n * sz);
	if (!p)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

static bool copy_tlbs(struct snapshot *s, const struct mmu *m)
{
	size_t total = 0;
	s->ntlb = 0;
	for (unsigned l = 0; l < TLB_NLEVELS; l++)
		for (unsigned i = 0; i < m->ntlb[l]; i++)
			total += (size_t)m->tlb[l][i].sets * m->tlb[l][i].ways;
	if (!grow((void **)&s->tlb_e, &s->tlb_cap, total, sizeof *s->tlb_e))
		return false;
	size_t at = 0;
	for (unsigned l = 0; l < TLB_NLEVELS; l++) {
		for (unsigned i = 0; i < m->ntlb[l]; i++) {
			const struct tlb *t = &m->tlb[l][i];
			struct snap_tlb *o = &s->tlb[s->ntlb++];
			*o = (struct snap_tlb){ .level = t->level, .sets = t->sets, .ways = t->ways,
						.latency = t->latency, .sizes = t->sizes, .clock = t->clock,
						.st = t->st, .first = at, .n = (size_t)t->sets * t->ways };
			memcpy(s->tlb_e + at, t->e, o->n * sizeof *t->e);
			at += o->n;
		}
	}
	return true;
}

static bool copy_pwcs(struct snapshot *s, const struct mmu *m)
{
	size_t total = 0, at = 0;
	for (unsigned k = 0; k < PWC_NKINDS; k++)
		total += (size_t)m->pwc[k].sets * m->pwc[k].ways;
	if (!grow((void **)&s->pwc_e, &s->pwc_cap, total, sizeof *s->pwc_e))
		return false;
	for (unsigned k = 0; k < PWC_NKINDS; k++) {
		const struct pwc *c = &m->pwc[k];
		struct snap_pwc *o = &s->pwc[k];
		*o = (struct snap_pwc){ .sets = c->sets, .ways = c->ways, .latency = c->latency,
					.st = c->st, .first = at, .n = (size_t)c->sets * c->ways };
		pwc_read(c, s->pwc_e + at);
		at += o->n;
	}
	return true;
}

static void copy_rings(struct snapshot *s, const struct snapshot_recorder *r)
{
	s->nwalk = s->nev = 0;
	if (!r)
		return;
	uint64_t w0 = r->nwalks > SNAP_WALKS ? r->nwalks - SNAP_WALKS : 0;
	for (uint64_t i = w0; i < r->nwalks; i++)
		s->walk[s->nwalk++] = r->walk[i % SNAP_WALKS];
	uint64_t e0 = r->nevents > SNAP_EVENTS ? r->nevents - SNAP_EVENTS : 0;
	for (uint64_t i = e0; i < r->nevents; i++)
		s->ev[s->nev++] = r->ev[i % SNAP_EVENTS];
}

static void copy_cpu(struct snapshot *s, const struct cpu *c)
{
	memcpy(s->gpr, c->gpr, sizeof s->gpr);
	s->rip = c->rip;
	s->rflags = c->rflags;
	s->cr0 = c->mmu.cr0;
	s->cr2 = c->cr2;
	s->cr3 = c->mmu.cr3;
	s->cr4 = c->mmu.cr4;
	s->efer = c->mmu.efer;
	s->cpl = c->cpl;
	s->mode = c->mode;
	s->paging = c->mmu.mode;
	s->pcid = c->mmu.pcid;
	s->insns = c->insns;
	s->cycles = c->cycles;
}

bool snapshot_take(struct snapshot *s, const struct machine *m, const struct snapshot_recorder *r)
{
	const struct mmu *mm = &m->cpu.mmu;
	copy_cpu(s, &m->cpu);
	s->mstats = mm->stats;
	s->mmu_cycles = mmu_stats_cycles(mm);
	s->cache_nlevels = mm->dcache.nlevels;
	for (unsigned l = 0; l < CACHE_NLEVELS; l++) {
		s->cache_hits[l] = mm->dcache.lvl[l].hits;
		s->cache_misses[l] = mm->dcache.lvl[l].misses;
	}
	s->dram_accesses = mm->dcache.dram_accesses;
	copy_rings(s, r);
	s->kernel_start = m->boot.kernel_start;
	s->kernel_end = m->boot.kernel_end;
	s->ram = mm->phys.ram;
	s->ram_size = mm->phys.size;
	s->mmu = mm;
	bool ok = copy_tlbs(s, mm);
	if (!ok)
		s->ntlb = 0;
	if (!copy_pwcs(s, mm)) {
		memset(s->pwc, 0, sizeof s->pwc);
		ok = false;
	}
	return ok;
}

bool snapshot_probe(const struct snapshot *s, uint64_t la, unsigned acc, struct mmu_debug_walk *w)
{
	return mmu_debug_translate(s->mmu, la, acc, w);
}
