/* System instructions: MOV to/from control registers, INVLPG, descriptor-
 * table registers, LTR/LLDT, CLI/STI, SWAPGS, RDMSR/WRMSR, INT n/INT3,
 * IRETQ (SDM Vol. 2, Vol. 3A chapters 2, 4, 6). Changes to paging control
 * state and TLB invalidations drop the fetch cache (docs/cpu.md). */
#include "emu/intr.h"
#include "emu/exec.h"
#include "emu/io.h"

/* MSR numbers (SDM Vol. 4 Table 2-2). */
enum {
	MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_PAT = 0x277, MSR_EFER = 0xc0000080,
	MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083,
	MSR_SFMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101,
	MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
};

#define CR8_TPR_MASK 0xfu
#define DTR_LIMIT_BYTES 2u

/* Privileged instructions: #GP(0) unless CPL = 0 (SDM Vol. 3A §5.9). */
static bool privileged(struct cpu *c)
{
	if (c->cpl == 0)
		return true;
	mmu_fault_set(&c->fault, VEC_GP, true, 0);
	return false;
}

/* After control state changed: mode, CPL-derived data and the fetch page. */
static enum exec_result control_changed(struct cpu *c)
{
	cpu_refresh_mode(c);
	return EXEC_OK;
}

static bool write_cr(struct cpu *c, unsigned n, uint64_t v)
{
	struct mmu *m = &c->mmu;
	switch (n) {
	case 0: return mmu_write_cr0(m, v, &c->fault);
	case 2: c->cr2 = v; return true;
	case 3: return mmu_write_cr3(m, v, &c->fault);
	case 4: return mmu_write_cr4(m, v, &c->fault);
	default: /* CR8: the TPR, bits 3:0; the rest reserved (§10.8.6.1) */
		if (v & ~(uint64_t)CR8_TPR_MASK) {
			mmu_fault_set(&c->fault, VEC_GP, true, 0);
			return false;
		}
		c->cr8 = v;
		if (c->dev)
			io_cr8_write(c, v);
		return true;
	}
}

static uint64_t read_cr(const struct cpu *c, unsigned n)
{
	switch (n) {
	case 0: return c->mmu.cr0;
	case 2: return c->cr2;
	case 3: return c->mmu.cr3;
	case 4: return c->mmu.cr4;
	default: return c->dev ? io_cr8_read(c) : c->cr8;
	}
}

/* MOV CRn, r64 / MOV r64, CRn (64-bit operands in 64-bit mode). */
enum exec_result exec_mov_cr(struct cpu *c, const struct insn *d)
{
	unsigned n = d->sub & ~MOV_CR_WRITE;
	if (!privileged(c))
		return EXEC_FAULT;
	if (!(d->sub & MOV_CR_WRITE)) {
		reg_set(c, d->r0, d->osz, read_cr(c, n));
		return EXEC_OK;
	}
	if (!write_cr(c, n, reg_get(c, d->r0, d->osz)))
		return EXEC_FAULT;
	return control_changed(c);
}

/* INVLPG m: the linear address of the operand, never translated
 * (SDM Vol. 2 INVLPG). */
enum exec_result exec_invlpg(struct cpu *c, const struct insn *d)
{
	uint64_t ea = insn_ea(c, d);
	uint64_t la = ea + (d->seg >= SEG_FS || c->mode != CPU_MODE_64 ? c->mmu.seg.sr[d->seg].base : 0);
	if (!privileged(c) || !mmu_invlpg(&c->mmu, la, &c->fault))
		return EXEC_FAULT;
	cpu_invalidate_fetch(c);
	return EXEC_OK;
}

/* LGDT/LIDT/SGDT/SIDT m: a 2-byte limit and an 8-byte base in 64-bit
 * mode, a 4-byte base otherwise (SDM Vol. 2 LGDT/LIDT). sub: 0 LGDT,
 * 1 LIDT, 2 SGDT, 3 SIDT. */
enum exec_result exec_dtr(struct cpu *c, const struct insn *d)
{
	struct seg_dtr *t = (d->sub & 1) ? &c->mmu.seg.idtr : &c->mmu.seg.gdtr;
	unsigned base_size = c->mode == CPU_MODE_64 ? 8 : 4;
	uint64_t ea = insn_ea(c, d), limit, base;
	if (d->sub >= 2) {
		struct memref ml, mb;
		if (!mem_xlate(c, d->seg, ea, DTR_LIMIT_BYTES, ACC_WRITE, &ml) ||
		    !mem_xlate(c, d->seg, ea + DTR_LIMIT_BYTES, base_size, ACC_WRITE, &mb))
			return EXEC_FAULT;
		mem_store(c, &ml, DTR_LIMIT_BYTES, t->limit);
		mem_store(c, &mb, base_size, t->base);
		return EXEC_OK;
	}
	if (!privileged(c) || !mem_read(c, d->seg, ea, DTR_LIMIT_BYTES, &limit) ||
	    !mem_read(c, d->seg, ea + DTR_LIMIT_BYTES, base_size, &base))
		return EXEC_FAULT;
	t->limit = (uint16_t)limit;
	t->base = base;
	return EXEC_OK;
}

/* LTR/LLDT r/m16 (sub 0 / 1), through mmu/seg. */
enum exec_result exec_ltr_lldt(struct cpu *c, const struct insn *d)
{
	uint64_t sel;
	if (!dst_read(c, d, 2, &sel))
		return EXEC_FAULT;
	bool ok = d->sub ? seg_lldt(&c->mmu, (uint16_t)sel, c->cpl, &c->fault)
			 : seg_ltr(&c->mmu, (uint16_t)sel, c->cpl, &c->fault);
	return ok ? EXEC_OK : EXEC_FAULT;
}

/* CLI/STI (sub 0 / 1): allowed when CPL ≤ IOPL, else #GP(0) (SDM Vol. 2
 * CLI, STI, without the virtual-interrupt extensions). STI that sets IF
 * holds interrupts off until the next instruction has retired: the shadow
 * counts this instruction and the next. */
#define STI_SHADOW 2
enum exec_result exec_cli_sti(struct cpu *c, const struct insn *d)
{
	unsigned iopl = (unsigned)((c->rflags & RFLAGS_IOPL) >> RFLAGS_IOPL_SHIFT);
	if (c->cpl > iopl)
		return fault(c, VEC_GP, true, 0);
	if (d->sub && !(c->rflags & RFLAGS_IF))
		c->intr_shadow = STI_SHADOW;
	if (d->sub)
		c->rflags |= RFLAGS_IF;
	else
		c->rflags &= ~RFLAGS_IF;
	return io_if_may_open(c);
}

/* SWAPGS: 64-bit mode, CPL 0 (SDM Vol. 2 SWAPGS). */
enum exec_result exec_swapgs(struct cpu *c, const struct insn *d)
{
	if (c->mode != CPU_MODE_64)
		return fault(c, VEC_UD, false, 0);
	if (!privileged(c))
		return EXEC_FAULT;
	uint64_t t = c->mmu.seg.sr[SEG_GS].base;
	c->mmu.seg.sr[SEG_GS].base = c->msr.kernel_gs_base;
	c->msr.kernel_gs_base = t;
	return EXEC_OK;
}

/* The MSR an index names, for the plain ones. */
static uint64_t *msr_slot(struct cpu *c, uint32_t index)
{
	switch (index) {
	case MSR_STAR: return &c->msr.star;
	case MSR_LSTAR: return &c->msr.lstar;
	case MSR_CSTAR: return &c->msr.cstar;
	case MSR_SFMASK: return &c->msr.sfmask;
	case MSR_KERNEL_GS_BASE: return &c->msr.kernel_gs_base;
	case MSR_TSC_AUX: return &c->msr.tsc_aux;
	case MSR_PAT: return &c->msr.pat;
	case MSR_APIC_BASE: return &c->msr.apic_base;
	case MSR_FS_BASE: return &c->mmu.seg.sr[SEG_FS].base;
	case MSR_GS_BASE: return &c->mmu.seg.sr[SEG_GS].base;
	case MSR_TSC: return &c->cycles; /* the TSC is the modelled cycle counter */
	default: return NULL;
	}
}

/* RDMSR/WRMSR (sub 0 / 1): ECX selects, EDX:EAX carries; CPL 0; an MSR
 * mmulab does not have raises #GP(0) (SDM Vol. 2 RDMSR, WRMSR). */
enum exec_result exec_msr(struct cpu *c, const struct insn *d)
{
	uint32_t index = (uint32_t)c->gpr[GPR_RCX];
	uint64_t v = (c->gpr[GPR_RDX] << 32) | (uint32_t)c->gpr[GPR_RAX];
	if (!privileged(c))
		return EXEC_FAULT;
	if (index == MSR_APIC_BASE && c->dev)
		return io_apic_base_msr(c, d->sub, v);
	if (index == MSR_EFER) {
		if (!d->sub) {
			v = c->mmu.efer;
		} else {
			if (!mmu_write_efer(&c->mmu, v, &c->fault))
				return EXEC_FAULT;
			return control_changed(c);
		}
	} else {
		uint64_t *slot = msr_slot(c, index);
		if (!slot)
			return fault(c, VEC_GP, true, 0);
		if (d->sub) {
			*slot = v;
			return EXEC_OK;
		}
		v = *slot;
	}
	reg_set(c, GPR_RAX, 4, v);
	reg_set(c, GPR_RDX, 4, v >> 32);
	return EXEC_OK;
}

/* INT n / INT3 (imm = vector): a trap through the IDT with the gate's DPL
 * checked; the pushed RIP is the next instruction (SDM Vol. 2 INT n). */
enum exec_result exec_int(struct cpu *c, const struct insn *d)
{
	struct intr_event e = { .vector = (uint8_t)d->imm, .software = true, .rip = c->next_rip };
	flags_sync(c);
	if (!intr_deliver(c, &e))
		return EXEC_FAULT;
	c->next_rip = c->rip;
	return EXEC_OK;
}

/* IRET/IRETD/IRETQ (SDM Vol. 2 IRET) to protected-mode, compatibility or
 * 64-bit code: pop RIP, CS, RFLAGS at the operand size; in IA-32e mode
 * always, and in protected mode on a return to an outer level, also RSP
 * and SS. The new CS (its RPL is the new CPL, never below the current one)
 * is checked and SS loaded before anything else is committed. RFLAGS:
 * IOPL only changes at CPL 0, IF only when CPL ≤ IOPL. Task returns (NT)
 * and returns to virtual-8086 mode are not implemented (#UD, counted). */
enum exec_result exec_iret(struct cpu *c, const struct insn *d)
{
	struct mmu *m = &c->mmu;
	uint64_t f[5];
	struct seg_desc cs;
	bool ia32e = (m->efer & EFER_LMA) != 0;
	unsigned sz = d->osz;
	flags_sync(c);
	if (!ia32e && (c->rflags & RFLAGS_NT))
		return exec_ud(c, d);
	for (unsigned i = 0; i < 3; i++)
		if (!stack_peek(c, i * sz, sz, &f[i]))
			return EXEC_FAULT;
	uint16_t cs_sel = (uint16_t)f[1];
	if (!ia32e && (f[2] & RFLAGS_VM) && c->cpl == 0)
		return exec_ud(c, d);
	if (!seg_check_cs(m, cs_sel, c->cpl, SEG_CS_IRET, &cs, &c->fault))
		return EXEC_FAULT;
	unsigned new_cpl = seg_cs_new_cpl(SEG_CS_IRET, cs_sel, c->cpl, &cs);
	bool pops_stack = ia32e || new_cpl > c->cpl;
	bool target_ok = cs.l && ia32e ? mmu_canonical(m, f[0]) : f[0] <= cs.limit;
	if (!target_ok)
		return fault(c, VEC_GP, true, 0);
	if (pops_stack && (!stack_peek(c, 3 * sz, sz, &f[3]) || !stack_peek(c, 4 * sz, sz, &f[4])))
		return EXEC_FAULT;
	if (pops_stack && !seg_load(m, SEG_SS, (uint16_t)f[4], new_cpl, &c->fault))
		return EXEC_FAULT; /* the last check: SS is committed only if it passes */
	uint64_t mask = RFLAGS_STATUS | RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | RFLAGS_RF | RFLAGS_AC |
			RFLAGS_ID | RFLAGS_IF | RFLAGS_IOPL;
	unsigned iopl = (unsigned)((c->rflags & RFLAGS_IOPL) >> RFLAGS_IOPL_SHIFT);
	if (c->cpl > 0)
		mask &= ~RFLAGS_IOPL;
	if (c->cpl > iopl)
		mask &= ~RFLAGS_IF;
	if (sz == 2)
		mask &= 0xffff;
	c->rflags = (c->rflags & ~mask) | (f[2] & mask) | RFLAGS_FIXED1;
	if (pops_stack)
		c->gpr[GPR_RSP] = f[3];
	else
		c->gpr[GPR_RSP] = sp_moved(c, 3 * (int64_t)sz);
	seg_commit_cs(m, cs_sel, &cs, new_cpl);
	if (new_cpl > c->cpl)
		seg_drop_inaccessible(m, new_cpl);
	c->rip = f[0];
	cpu_refresh_mode(c);
	c->next_rip = c->rip;
	return io_if_may_open(c);
}

/* WBINVD/INVD: CPL 0 only (#GP(0)); the modelled caches hold no dirty
 * data of their own, so there is nothing to write back or drop. */
enum exec_result exec_wbinvd(struct cpu *c, const struct insn *d)
{
	return privileged(c) ? EXEC_OK : EXEC_FAULT;
}

/* CLTS: clear CR0.TS at CPL 0 (SDM Vol. 2 CLTS). */
enum exec_result exec_clts(struct cpu *c, const struct insn *d)
{
	if (!privileged(c) || !mmu_write_cr0(&c->mmu, c->mmu.cr0 & ~CR0_TS, &c->fault))
		return EXEC_FAULT;
	return control_changed(c);
}

/* STR/SLDT r/m16 (sub 0 / 1): the TR or LDTR selector; a register
 * destination gets it zero-extended to the operand size (SDM Vol. 2 STR,
 * SLDT). UMIP is not modelled. */
enum exec_result exec_store_sel(struct cpu *c, const struct insn *d)
{
	uint64_t sel = d->sub ? c->mmu.seg.ldtr.selector : c->mmu.seg.tr.selector;
	if (d->k0 == OPK_REG) {
		reg_set(c, d->r0, d->osz, sel);
		return EXEC_OK;
	}
	return mem_write(c, d->seg, insn_ea(c, d), 2, sel) ? EXEC_OK : EXEC_FAULT;
}
