/* Hardware task switching (SDM Vol. 3A §7.3 "Task Switching", §7.4
 * "Task Linking"; Vol. 2 JMP, CALL, INT n, IRET "SWITCH-TASKS").
 *
 * A switch runs in two phases, split at the SDM's commit point (§7.3,
 * step 10):
 *
 *  plan     every check that faults in the old task's context: the new
 *           TSS's type, busy flag, presence and limit (§7.3 steps 2-3,
 *           Table 7-1), the new TSS read whole, and every byte the switch
 *           writes translated for a write (old TSS, new TSS link field,
 *           busy flags in the GDT: step 4, "paged into system memory").
 *  commit   the writes (busy flags per Table 7-2, the old task's dynamic
 *           state, the previous-task link), TR, CR0.TS; then the new
 *           task's CR3, EFLAGS, EIP, general registers and selectors, and
 *           last the LDT and segment descriptors, checked as §7.3 step 12
 *           and Table 7-1 list them. Faults there are raised in the new
 *           task: c->rip is already its EIP.
 *
 * Table 7-2 by reason:
 *
 *              old busy   new busy   NT in new EFLAGS   link of new TSS
 *   JMP        cleared    set        from its TSS       unchanged
 *   CALL, INT  kept       set        set                old TR selector
 *   IRET       cleared    kept       from its TSS       unchanged
 *
 * and IRET clears NT in the EFLAGS image saved in the old TSS (step 6).
 */
#include "emu/task.h"

#include <string.h>

#include "emu/exec.h"
#include "emu/io.h"

#define TSS_LINK 0x00u     /* previous task link, 16 bits, in both formats */
#define TSS32_CR3 0x1cu
#define TSS32_MIN_LIMIT 0x67u
#define TSS32_BYTES (TSS32_MIN_LIMIT + 1u)
#define TSS32_T 0x64u      /* bit 0: the debug trap flag (T), §7.2.1 */
#define TSS32_T_FLAG 0x1u
#define TSS_GPRS 8u
#define SELECTOR_BYTES 2u
/* A 16-bit TSS gives the low halves of EIP, EFLAGS and the general
 * registers. The SDM leaves the upper halves unspecified: EIP's and
 * EFLAGS' become zero and the general registers' all-ones, as in Bochs. */
#define TSS16_GPR_UPPER UINT32_C(0xffff0000)

/* Where a TSS keeps what a switch saves and loads: the 32-bit TSS (SDM
 * Vol. 3A §7.2.1, Figure 7-2) and the 16-bit TSS (§7.6, Figure 7-10).
 * The dynamic fields, saved on a switch away, run from EIP up to the LDT
 * selector (LDTR and CR3 are static and not saved). */
struct tss_layout {
	unsigned min_limit;  /* smaller limits are #TS (§7.2.2, Table 6-6) */
	unsigned eip, eflags, gpr0, sreg0, ldt; /* offsets; gpr0: AX/EAX first */
	unsigned reg_bytes;  /* EIP, EFLAGS, each general register: 4 or 2 */
	unsigned sreg_stride;
	unsigned nsregs;     /* ES, CS, SS, DS, and FS, GS in a 32-bit TSS */
	bool has_cr3;
};

static const struct tss_layout tss32_layout = {
	.min_limit = TSS32_MIN_LIMIT, .eip = 0x20, .eflags = 0x24, .gpr0 = 0x28, .sreg0 = 0x48,
	.ldt = 0x60, .reg_bytes = 4, .sreg_stride = 4, .nsregs = SEG_NREGS, .has_cr3 = true,
};
/* Table 6-6 reads "less than 2CH" for the 16-bit TSS, whose last byte is
 * at 2BH; as with 67H, the last byte of the 32-bit TSS, the limit must
 * reach the last byte. */
static const struct tss_layout tss16_layout = {
	.min_limit = 0x2b, .eip = 0x0e, .eflags = 0x10, .gpr0 = 0x12, .sreg0 = 0x22,
	.ldt = 0x2a, .reg_bytes = 2, .sreg_stride = 2, .nsregs = SEG_DS + 1, .has_cr3 = false,
};
#define TSS_DYNAMIC_MAX (0x60u - 0x20u) /* the 32-bit TSS's EIP…GS */

static unsigned dynamic_bytes(const struct tss_layout *l)
{
	return l->ldt - l->eip;
}

/* EFLAGS bits loaded from a TSS; VM (virtual-8086 tasks) is refused in
 * the plan. */
#define TASK_EFLAGS_LOADED                                                                    \
	(RFLAGS_STATUS | RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_IOPL | RFLAGS_NT | RFLAGS_RF | \
	 RFLAGS_AC | RFLAGS_VIF | RFLAGS_VIP | RFLAGS_ID)

/* Modelled cost of a task switch beyond its memory accesses (like
 * INTR_DELIVERY_CYCLES, a round figure of the model, not a measurement). */
#define TASK_SWITCH_CYCLES 200

enum task_reason { TASK_BY_JMP, TASK_BY_CALL, TASK_BY_INT, TASK_BY_IRET };

/* A switch, checked and ready to commit. */
struct task_plan {
	enum task_reason why;
	uint16_t sel;                        /* the new TSS */
	struct seg_desc desc;
	uint32_t ext;                        /* SEG_EC_EXT in selector error codes, or 0 */
	const struct tss_layout *old_l, *new_l;
	uint8_t image[TSS32_BYTES];          /* the new TSS as read */
	uint8_t saved[TSS_DYNAMIC_MAX];      /* the old TSS's dynamic fields as read */
	uint8_t old_access, new_access;      /* access bytes of the TSS descriptors */
	struct memref save, link, old_busy, new_busy;
};

static bool nests(enum task_reason why)
{
	return why == TASK_BY_CALL || why == TASK_BY_INT;
}

/* Implicit supervisor-mode accesses: the TSSs and the GDT (§4.6). */
static unsigned implicit(enum mmu_access_kind kind)
{
	return mmu_acc(kind, 0, true, false);
}

static bool fault_with(struct cpu *c, uint8_t vector, uint32_t ec)
{
	mmu_fault_set(&c->fault, vector, true, ec);
	return false;
}

/* A selector error code (§6.13), with EXT when an external event caused
 * the switch. */
static uint32_t sel_code(const struct task_plan *p, uint16_t sel)
{
	return (sel & SEL_ERROR_MASK) | p->ext;
}

/* A little-endian field of bytes (≤ 4) of the new TSS. */
static uint32_t image_field(const struct task_plan *p, unsigned at, unsigned bytes)
{
	uint32_t v = 0;
	memcpy(&v, p->image + at, bytes);
	return v;
}

static uint16_t image_sel(const struct task_plan *p, unsigned at)
{
	uint16_t v;
	memcpy(&v, p->image + at, sizeof v);
	return v;
}

static bool tss16(uint8_t type)
{
	return (type & ~SYS_TSS_BUSY_BIT) == SYS_TSS16_AVAIL;
}

/* Where the access byte (type, with the busy flag) of the GDT descriptor
 * sel lives. TSS descriptors are only in the GDT (§7.2.2). */
static uint64_t access_byte_la(const struct cpu *c, uint16_t sel)
{
	return (c->mmu.seg.gdtr.base + seg_sel_index(sel) * SEG_DESC_SIZE + DESC_ACCESS_BYTE) &
	       c->la_mask;
}

/* Translate len bytes at la for an implicit write, both pages if needed. */
static bool xlate_write(struct cpu *c, uint64_t la, unsigned len, struct memref *r)
{
	return intr_stack_xlate(c, la & c->la_mask, len, implicit(ACC_WRITE), r);
}

/* The TSS descriptor sel names, reached through a task gate or the link
 * field (Vol. 2 JMP/CALL "TASK-GATE", INT n "TASK-GATE", IRET
 * "TASK-RETURN"): TI = 1, beyond the GDT limit, not a TSS, or busy when
 * it must be available (or the reverse) → bad(sel); not present →
 * #NP(sel). */
static bool tss_lookup(struct cpu *c, struct task_plan *p, uint16_t sel, uint8_t bad,
		       bool want_busy)
{
	struct seg_desc *d = &p->desc;
	p->sel = sel;
	if (sel & SEL_TI)
		return fault_with(c, bad, sel_code(p, sel));
	if (!seg_read_descriptor(&c->mmu, sel, false, d, &c->fault)) {
		if (c->fault.vector == VEC_GP)
			return fault_with(c, bad, sel_code(p, sel));
		return false;
	}
	bool busy = (d->type & SYS_TSS_BUSY_BIT) != 0;
	if ((d->kind != DESC_TSS16 && d->kind != DESC_TSS32) || busy != want_busy)
		return fault_with(c, bad, sel_code(p, sel));
	if (!d->p)
		return fault_with(c, VEC_NP, sel_code(p, sel));
	return true;
}

/* The old TSS's dynamic fields and the busy flag JMP and IRET clear. */
static bool plan_old(struct cpu *c, struct task_plan *p)
{
	const struct seg_cache *tr = &c->mmu.seg.tr;
	const struct tss_layout *l = p->old_l;
	uint64_t at = (tr->base + l->eip) & c->la_mask, busy_la = access_byte_la(c, tr->selector);
	if (tr->limit < l->ldt - 1u)
		return fault_with(c, VEC_TS, sel_code(p, tr->selector));
	if (!mmu_read_linear(&c->mmu, at, p->saved, dynamic_bytes(l), implicit(ACC_READ), &c->fault) ||
	    !xlate_write(c, at, dynamic_bytes(l), &p->save))
		return false;
	if (p->why != TASK_BY_JMP && p->why != TASK_BY_IRET)
		return true;
	return mmu_read_linear(&c->mmu, busy_la, &p->old_access, 1, implicit(ACC_READ), &c->fault) &&
	       xlate_write(c, busy_la, 1, &p->old_busy);
}

/* The new TSS: limit (#TS), read whole; the link field CALL and INT
 * write and the busy flag JMP, CALL and INT set, translated. */
static bool plan_new(struct cpu *c, struct task_plan *p)
{
	uint64_t base = p->desc.base & c->la_mask;
	if (p->desc.limit < p->new_l->min_limit)
		return fault_with(c, VEC_TS, sel_code(p, p->sel));
	if (!mmu_read_linear(&c->mmu, base, p->image, p->new_l->min_limit + 1u, implicit(ACC_READ),
			     &c->fault))
		return false;
	if (nests(p->why) && !xlate_write(c, base + TSS_LINK, SELECTOR_BYTES, &p->link))
		return false;
	p->new_access = (uint8_t)(p->desc.raw[0] >> DESC_TYPE_SHIFT);
	return p->why == TASK_BY_IRET || xlate_write(c, access_byte_la(c, p->sel), 1, &p->new_busy);
}

/* Everything before the commit point. Virtual-8086 tasks are not
 * modelled. */
static enum task_result plan(struct cpu *c, struct task_plan *p)
{
	p->new_l = p->desc.kind == DESC_TSS16 ? &tss16_layout : &tss32_layout;
	p->old_l = tss16(c->mmu.seg.tr.type) ? &tss16_layout : &tss32_layout;
	if (!plan_new(c, p))
		return TASK_FAULT;
	if (image_field(p, p->new_l->eflags, p->new_l->reg_bytes) & RFLAGS_VM)
		return TASK_UNMODELLED;
	return plan_old(c, p) ? TASK_OK : TASK_FAULT;
}

/* Store the low bytes of v at old-TSS offset off in p->saved (which
 * starts at the old layout's EIP). */
static void save_field(struct task_plan *p, unsigned off, uint32_t v, unsigned bytes)
{
	memcpy(p->saved + off - p->old_l->eip, &v, bytes);
}

/* Steps 5-7: the old task's busy flag, its state saved (the selector
 * slots' reserved upper halves kept), EFLAGS.NT cleared in the image for
 * IRET. */
static void save_old(struct cpu *c, struct task_plan *p, uint64_t ret_eip)
{
	uint32_t eflags = (uint32_t)flags_get(c);
	if (p->why == TASK_BY_IRET)
		eflags &= ~(uint32_t)RFLAGS_NT;
	if (p->why == TASK_BY_JMP || p->why == TASK_BY_IRET) {
		uint8_t access = p->old_access & (uint8_t)~SYS_TSS_BUSY_BIT;
		mem_store_bytes(c, &p->old_busy, &access, 1);
	}
	const struct tss_layout *l = p->old_l;
	save_field(p, l->eip, (uint32_t)ret_eip, l->reg_bytes);
	save_field(p, l->eflags, eflags, l->reg_bytes);
	for (unsigned i = 0; i < TSS_GPRS; i++)
		save_field(p, l->gpr0 + i * l->reg_bytes, (uint32_t)c->gpr[i], l->reg_bytes);
	for (unsigned r = 0; r < l->nsregs; r++)
		save_field(p, l->sreg0 + r * l->sreg_stride, c->mmu.seg.sr[r].selector, SELECTOR_BYTES);
	mem_store_bytes(c, &p->save, p->saved, dynamic_bytes(l));
}

/* Steps 8-10: the link and busy flag of the new TSS, TR, CR0.TS. */
static bool enter_new(struct cpu *c, struct task_plan *p)
{
	struct mmu *m = &c->mmu;
	if (nests(p->why))
		mem_store_bytes(c, &p->link, (const uint8_t *)&m->seg.tr.selector, SELECTOR_BYTES);
	if (p->why != TASK_BY_IRET) {
		uint8_t access = p->new_access | SYS_TSS_BUSY_BIT;
		mem_store_bytes(c, &p->new_busy, &access, 1);
	}
	p->desc.type |= SYS_TSS_BUSY_BIT;
	seg_commit_tr(m, p->sel, &p->desc);
	/* The local breakpoint enables belong to the old task (Vol. 3B §17.2.4). */
	c->dr[7] &= ~DR7_LOCAL_ENABLES;
	cpu_debug_update(c);
	return mmu_write_cr0(m, m->cr0 | CR0_TS, &c->fault);
}

/* A selector fault while loading the new task's segments is #TS(sel),
 * except not-present faults (#NP, #SS for SS), which keep their vector
 * (Table 7-1). */
static bool segment_fault(struct cpu *c, const struct task_plan *p, uint16_t sel)
{
	if (c->fault.vector == VEC_GP)
		return fault_with(c, VEC_TS, sel_code(p, sel));
	if (c->fault.vector == VEC_NP || c->fault.vector == VEC_SS)
		c->fault.error_code |= p->ext;
	return false;
}

/* CS of the new task: CPL becomes its RPL; non-conforming code needs
 * DPL = RPL, conforming DPL ≤ RPL (Table 7-1) — the rules of a return to
 * RPL, checked from CPL = RPL. */
static bool load_cs(struct cpu *c, const struct task_plan *p, uint16_t sel)
{
	struct seg_desc cs;
	unsigned rpl = seg_sel_rpl(sel);
	if (!seg_check_cs(&c->mmu, sel, rpl, SEG_CS_RET, &cs, &c->fault))
		return segment_fault(c, p, sel);
	seg_commit_cs(&c->mmu, sel, &cs, rpl);
	cpu_refresh_mode(c);
	return true;
}

/* Step 12: LDTR, CS, SS, then ES, DS, FS, GS, in the order of Table 7-1,
 * each with its descriptor checked. */
static bool load_segments(struct cpu *c, const struct task_plan *p)
{
	static const enum seg_reg data_regs[] = { SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	struct mmu *m = &c->mmu;
	uint16_t ldt = image_sel(p, p->new_l->ldt);
	if (!seg_lldt(m, ldt, 0, &c->fault)) {
		if (c->fault.vector == VEC_NP)
			c->fault.vector = VEC_TS; /* an LDT not present is #TS (Table 7-1) */
		return segment_fault(c, p, ldt);
	}
	if (!load_cs(c, p, m->seg.sr[SEG_CS].selector))
		return false;
	for (unsigned i = 0; i < sizeof data_regs / sizeof data_regs[0]; i++) {
		uint16_t sel = m->seg.sr[data_regs[i]].selector;
		if (!seg_load(m, data_regs[i], sel, c->cpl, &c->fault))
			return segment_fault(c, p, sel);
	}
	cpu_refresh_mode(c);
	return true;
}

/* Step 11: the new task's CR3 (a 32-bit TSS, when paging is on, through
 * the MMU's flush rules), EFLAGS (NT set for a nested switch), EIP,
 * general registers and selectors (FS and GS null from a 16-bit TSS);
 * then its descriptors. From here a fault belongs to the new task. */
static bool load_new(struct cpu *c, const struct task_plan *p)
{
	struct mmu *m = &c->mmu;
	const struct tss_layout *l = p->new_l;
	uint32_t upper = l->reg_bytes == 2 ? TSS16_GPR_UPPER : 0;
	uint64_t eflags = (image_field(p, l->eflags, l->reg_bytes) & TASK_EFLAGS_LOADED) | RFLAGS_FIXED1;
	c->rflags = eflags | (nests(p->why) ? RFLAGS_NT : 0);
	c->lf_op = LF_NONE;
	for (unsigned i = 0; i < TSS_GPRS; i++)
		c->gpr[i] = upper | image_field(p, l->gpr0 + i * l->reg_bytes, l->reg_bytes);
	for (unsigned r = 0; r < SEG_NREGS; r++)
		m->seg.sr[r].selector = r < l->nsregs ? image_sel(p, l->sreg0 + r * l->sreg_stride) : 0;
	cpu_refresh_mode(c);
	if (l->has_cr3 && (m->cr0 & CR0_PG) &&
	    !mmu_write_cr3(m, image_field(p, TSS32_CR3, sizeof(uint32_t)), &c->fault))
		return false;
	return load_segments(c, p);
}

/* Plan, commit, load. */
static enum task_result run_switch(struct cpu *c, struct task_plan *p, uint64_t ret_eip)
{
	flags_sync(c);
	enum task_result r = plan(c, p);
	if (r != TASK_OK)
		return r;
	save_old(c, p, ret_eip);
	c->cycles += TASK_SWITCH_CYCLES;
	/* Committed: from here a fault is raised at the new task's EIP. */
	c->rip = c->next_rip = image_field(p, p->new_l->eip, p->new_l->reg_bytes);
	if (!enter_new(c, p) || !load_new(c, p))
		return TASK_FAULT_NEW_TASK;
	return TASK_OK;
}

/* After the switch: EIP within the new CS limit, else #GP(0) (#GP(EXT)
 * for an external event) in the new task (Vol. 2 JMP, INT n, IRET). A
 * switch that completes into a 32-bit TSS with T = 1 leaves a debug trap
 * (DR6.BT) due before the new task's first instruction (Vol. 3B
 * §17.3.1.5); the run loop delivers it. */
static enum task_result eip_check(struct cpu *c, const struct task_plan *p)
{
	if (c->rip > c->mmu.seg.sr[SEG_CS].limit) {
		mmu_fault_set(&c->fault, VEC_GP, true, p->ext);
		return TASK_FAULT_NEW_TASK;
	}
	if (p->new_l == &tss32_layout && (p->image[TSS32_T] & TSS32_T_FLAG))
		c->db_pending |= DR6_BT;
	return TASK_OK;
}

enum task_result task_far(struct cpu *c, const struct seg_far_target *t, uint16_t sel, bool call,
			  uint64_t ret_eip)
{
	struct task_plan p = { .why = call ? TASK_BY_CALL : TASK_BY_JMP, .sel = sel, .desc = t->desc };
	if (t->kind == SEG_FAR_TASK_GATE && !tss_lookup(c, &p, t->desc.gate_selector, VEC_GP, false))
		return TASK_FAULT;
	if (t->kind == SEG_FAR_TSS && (sel & SEL_TI)) {
		mmu_fault_set(&c->fault, VEC_GP, true, sel_code(&p, sel)); /* only in the GDT */
		return TASK_FAULT;
	}
	enum task_result r = run_switch(c, &p, ret_eip);
	return r == TASK_OK ? eip_check(c, &p) : r;
}

/* The error code of an exception delivered through a task gate, pushed
 * on the new task's stack as a doubleword for a 32-bit TSS, a word for a
 * 16-bit one; a push beyond the SS limit → #SS(EXT) (Vol. 2 INT n
 * "TASK-GATE"). */
static bool push_error_code(struct cpu *c, const struct task_plan *p, uint32_t ec)
{
	struct memref slot;
	unsigned bytes = p->new_l->reg_bytes;
	uint64_t la, sp = (c->gpr[GPR_RSP] - bytes) & c->sp_mask;
	if (!intr_frame_linear(c, sp, bytes, &la)) {
		c->fault.error_code = p->ext;
		return false;
	}
	if (!intr_stack_xlate(c, la, bytes, implicit(ACC_WRITE), &slot))
		return false;
	mem_store_bytes(c, &slot, (const uint8_t *)&ec, bytes);
	intr_set_sp(c, sp);
	return true;
}

enum task_result task_deliver(struct cpu *c, const struct seg_desc *gate, const struct intr_event *e)
{
	struct task_plan p = { .why = TASK_BY_INT, .ext = e->ext ? SEG_EC_EXT : 0 };
	if (!tss_lookup(c, &p, gate->gate_selector, VEC_GP, false))
		return TASK_FAULT;
	enum task_result r = run_switch(c, &p, e->rip);
	if (r != TASK_OK)
		return r;
	if (e->has_error_code && !push_error_code(c, &p, e->error_code))
		return TASK_FAULT_NEW_TASK;
	return eip_check(c, &p); /* last: a T-bit trap is due only after a complete switch */
}

enum task_result task_return(struct cpu *c, uint64_t ret_eip)
{
	struct task_plan p = { .why = TASK_BY_IRET };
	uint16_t link = 0;
	if (!mmu_read_linear(&c->mmu, (c->mmu.seg.tr.base + TSS_LINK) & c->la_mask, &link,
			     SELECTOR_BYTES, implicit(ACC_READ), &c->fault) ||
	    !tss_lookup(c, &p, link, VEC_TS, true))
		return TASK_FAULT;
	enum task_result r = run_switch(c, &p, ret_eip);
	return r == TASK_OK ? eip_check(c, &p) : r;
}

enum exec_result task_exec_result(struct cpu *c, const struct insn *d, enum task_result r)
{
	switch (r) {
	case TASK_OK:
		return io_if_may_open(c);
	case TASK_UNMODELLED:
		return exec_ud(c, d);
	case TASK_FAULT_NEW_TASK:
		return EXEC_FAULT_NEW_TASK;
	default:
		return EXEC_FAULT;
	}
}
