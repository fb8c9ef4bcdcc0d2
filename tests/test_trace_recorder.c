/* The recorder on a bare MMU (no CPU): every record kind and both
 * translation fault vectors are recorded and replay exactly, in IA-32e and
 * in PAE paging (whose PDPTEs are loaded from a frame no walk reads); the
 * observer's control-operation events carry arguments and success. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmu/ptbuild.h"
#include "tests/trace_support.h"
#include "traces/recorder.h"
#include "traces/replay.h"

#define RAM (UINT64_C(4) << 20)
#define POOL 0x100000
#define POOL_END 0x200000
#define LA_BASE UINT64_C(0x400000)
#define PA_BASE UINT64_C(0x300000)
#define NPAGES 8
#define LEAF (PTE_P | PTE_RW | PTE_US)

struct setup {
	struct mmu m;
	struct ptb pt;
	unsigned cpl;
	uint64_t insns, cycles;
};

static void build(struct setup *s, enum mmu_paging_mode mode)
{
	struct mmu_model model;
	char err[200];
	mmu_model_default(&model);
	memset(s, 0, sizeof *s);
	cr_assert(mmu_init(&s->m, &model, RAM, err, sizeof err), "%s", err);
	cr_assert(ptb_init(&s->pt, &s->m.phys, mode, POOL, POOL_END));
	for (unsigned i = 0; i < NPAGES; i++)
		cr_assert(ptb_map(&s->pt, LA_BASE + i * 4096, PA_BASE + i * 4096, PG_4K, LEAF, LEAF));
	bool ia32e = mode == PAGING_4LEVEL;
	mmu_set_control(&s->m, CR0_PE | CR0_PG | CR0_WP, ptb_cr3(&s->pt, 0), CR4_PAE,
			ia32e ? EFER_LME | EFER_LMA | EFER_NXE : EFER_NXE);
	s->m.seg.sr[SEG_CS].l = ia32e;
}

static bool xlate(struct setup *s, uint64_t la, enum mmu_access_kind kind)
{
	struct mmu_xlate x;
	s->insns++;
	bool ok = mmu_translate(&s->m, la, mmu_acc(kind, s->cpl, false, false), &x);
	s->cycles += x.cycles;
	return ok;
}

/* Hits, walks, A/D updates, a user access, #PF, #GP, a page-table store,
 * INVLPG, MOV to CR3 and a MOV to CR4 that faults. */
static void workload(struct setup *s, bool ia32e)
{
	struct mmu_fault f;
	for (unsigned r = 0; r < 3; r++)
		for (unsigned i = 0; i < NPAGES; i++)
			cr_assert(xlate(s, LA_BASE + i * 4096 + r * 8, i & 1 ? ACC_WRITE : ACC_READ));
	cr_assert(xlate(s, LA_BASE, ACC_FETCH));
	s->cpl = 3;
	cr_assert(xlate(s, LA_BASE + 16, ACC_READ));
	s->cpl = 0;
	cr_assert_not(xlate(s, LA_BASE + NPAGES * 4096, ACC_READ), "unmapped: #PF");
	if (ia32e)
		cr_assert_not(xlate(s, UINT64_C(0x0000800000000000), ACC_READ), "non-canonical: #GP");
	uint64_t pte = ptb_entry_pa(&s->pt, LA_BASE, 1);
	uint64_t v = phys_read(&s->m.phys, pte, 8);
	phys_write(&s->m.phys, pte, v & ~PTE_P, 8); /* as a kernel's store would */
	cr_assert(xlate(s, LA_BASE, ACC_READ), "still cached in the TLB");
	cr_assert(mmu_invlpg(&s->m, LA_BASE, &f));
	cr_assert_not(xlate(s, LA_BASE, ACC_READ), "after INVLPG the walk sees P = 0");
	cr_assert(mmu_write_cr3(&s->m, s->m.cr3, &f));
	cr_assert_not(mmu_write_cr4(&s->m, CR4_PAE | BIT64(40), &f), "reserved CR4 bit: #GP");
	cr_assert(xlate(s, LA_BASE + 4096, ACC_WRITE));
}

static void record_and_replay(enum mmu_paging_mode mode)
{
	struct setup *s = malloc(sizeof *s);
	struct trace_recorder *rec = malloc(sizeof *rec);
	char path[256], err[300];
	build(s, mode);
	trace_test_tmpfile(path, sizeof path);
	cr_assert(path[0]);
	struct trace_client cl = {.insns = &s->insns, .cycles = &s->cycles, .cpl = &s->cpl};
	cr_assert(trace_recorder_start(rec, &s->m, path, &cl, err, sizeof err), "%s", err);
	workload(s, mode == PAGING_4LEVEL);
	uint64_t live_hash = trace_state_hash(&s->m, rec->base);
	cr_assert(trace_recorder_stop(rec, err, sizeof err), "%s", err);

	/* Every record kind, and the faults, are in the file. */
	struct trace_reader rd;
	struct trace_record *r = malloc(sizeof *r);
	uint64_t kinds[TR_NKINDS] = {0}, vectors[32] = {0};
	cr_assert(trace_reader_open(&rd, path, err, sizeof err), "%s", err);
	enum trace_read_status st;
	while ((st = trace_reader_next(&rd, r)) == TRACE_READ_RECORD) {
		kinds[r->kind]++;
		if (r->kind == TR_ACCESS && !r->access.ok)
			vectors[r->access.vector & 31]++;
	}
	cr_assert_eq(st, TRACE_READ_END, "%s", rd.err);
	trace_reader_close(&rd);
	for (unsigned k = 0; k < TR_NKINDS; k++)
		cr_expect_gt(kinds[k], 0, "no %s record", trace_rec_kind_name((enum trace_rec_kind)k));
	cr_expect_eq(vectors[14], 2, "two #PF");
	if (mode == PAGING_4LEVEL)
		cr_expect_eq(vectors[13], 1, "one #GP");

	struct trace_replay *rp = malloc(sizeof *rp);
	enum trace_replay_result res = trace_replay_file(rp, path, NULL, true);
	cr_assert_eq(res, TRACE_REPLAY_OK, "%s", rp->msg);
	cr_assert_eq(trace_state_hash(&rp->m, NULL), live_hash);
	trace_replay_free(rp);
	unlink(path);
	mmu_free(&s->m);
	free(rp);
	free(r);
	free(rec);
	free(s);
}

Test(trace_recorder, ia32e_run_records_every_kind_and_replays_exactly)
{
	record_and_replay(PAGING_4LEVEL);
}

Test(trace_recorder, pae_run_carries_its_pdpt_frame_and_replays_exactly)
{
	record_and_replay(PAGING_PAE);
}

struct ctl_log {
	struct mmu_ctl_event last;
	unsigned n;
};

static void log_ctl(void *ctx, const struct mmu_ctl_event *e)
{
	struct ctl_log *l = ctx;
	l->last = *e;
	l->n++;
}

Test(trace_recorder, control_events_carry_arguments_and_success)
{
	struct setup *s = malloc(sizeof *s);
	struct ctl_log log = {0};
	struct mmu_observer obs = {.ctx = &log, .ctl = log_ctl};
	struct mmu_fault f;
	build(s, PAGING_4LEVEL);
	mmu_set_observer(&s->m, &obs);
	cr_assert(mmu_invpcid(&s->m, INVPCID_ADDR, 0, LA_BASE, &f));
	cr_assert(log.n == 1 && log.last.op == CTL_INVPCID && log.last.ok);
	cr_assert(log.last.arg[0] == INVPCID_ADDR && log.last.arg[2] == LA_BASE);
	cr_assert_not(mmu_write_efer(&s->m, BIT64(20), &f));
	cr_assert(log.n == 2 && log.last.op == CTL_EFER && !log.last.ok && log.last.arg[0] == BIT64(20));
	cr_assert_not(s->m.fast_off, "an observer without an access callback keeps the fast path");
	mmu_set_observer(&s->m, NULL);
	mmu_free(&s->m);
	free(s);
}
