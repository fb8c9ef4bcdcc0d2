/* System instructions: MOV to/from control registers, INVLPG, descriptor-
 * table registers, LTR/LLDT, CLI/STI, SWAPGS, RDMSR/WRMSR, INT n/INT3,
 * IRETQ (SDM Vol. 2, Vol. 3A chapters 2, 4, 6). Changes to paging control
 * state and TLB invalidations drop the fetch cache (docs/cpu.md). */
#include "emu/dev_lapic.h"
#include "emu/intr.h"
#include "emu/exec.h"
#include "emu/io.h"
#include "emu/task.h"

/* MSR numbers (SDM Vol. 4 Table 2-2). */
enum {
	MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_PAT = 0x277, MSR_EFER = 0xc0000080,
	MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083,
	MSR_SFMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101,
	MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103, MSR_TSC_DEADLINE = 0x6e0,
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

/* INVPCID descriptor (SDM Vol. 2 INVPCID, Figure 3-24): PCID in bits
 * 11:0, bits 63:12 reserved (must be 0), the linear address in 127:64. */
#define INVPCID_PCID_MASK UINT64_C(0xfff)
#define INVPCID_DESC_HALF 8u

/* INVPCID reg, m128: CPL 0; reserved descriptor bits set → #GP(0); the
 * invalidation itself (and its type and PCID checks) is mmu/'s. */
enum exec_result exec_invpcid(struct cpu *c, const struct insn *d)
{
	uint64_t type = reg_get(c, d->r0, d->osz), pcid, la, ea = insn_ea(c, d);
	if (!privileged(c) || !mem_read(c, d->seg, ea, INVPCID_DESC_HALF, &pcid) ||
	    !mem_read(c, d->seg, (ea + INVPCID_DESC_HALF) & size_mask(d->asz), INVPCID_DESC_HALF, &la))
		return EXEC_FAULT;
	if (pcid & ~INVPCID_PCID_MASK)
		return fault(c, VEC_GP, true, 0);
	if (!mmu_invpcid(&c->mmu, type, pcid, la, &c->fault))
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
	if (index == MSR_TSC_DEADLINE)
		return io_tsc_deadline_msr(c, d->sub, v);
	if (index >= X2APIC_MSR_BASE && index <= X2APIC_MSR_LAST)
		return io_x2apic_msr(c, d->sub, index, v);
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
	reg_set_edx_eax(c, v);
	return EXEC_OK;
}

/* An event an instruction raises as a trap through the IDT: the pushed
 * RIP is the next instruction. A failed delivery changes RIP only when a
 * task switch through a task gate passed its commit point (emu/intr.h);
 * that sets RIP and next_rip both to the new task's EIP, which they never
 * are before (next_rip is past the instruction), and the fault is the new
 * task's. */
static enum exec_result instruction_trap(struct cpu *c, struct intr_event e)
{
	e.rip = c->next_rip;
	flags_sync(c);
	if (!intr_deliver(c, &e))
		return c->rip == c->next_rip ? EXEC_FAULT_NEW_TASK : EXEC_FAULT;
	c->next_rip = c->rip;
	return EXEC_OK;
}

/* A software interrupt (INT n, INT3, INTO): the gate's DPL is checked
 * against CPL (SDM Vol. 2 INT n). */
static enum exec_result software_interrupt(struct cpu *c, uint8_t vector)
{
	return instruction_trap(c, (struct intr_event){ .vector = vector, .software = true });
}

/* INT n / INT3 (imm = vector). */
enum exec_result exec_int(struct cpu *c, const struct insn *d)
{
	return software_interrupt(c, (uint8_t)d->imm);
}

/* INT1 (ICEBP, F1): a debug exception (#DB) raised as a trap and
 * delivered as a privileged software exception: the gate's DPL is not
 * checked, and a fault during its delivery has EXT set in its error code,
 * as for an external event (SDM Vol. 2 INT1, Vol. 3A §6.12.1.1, §6.13).
 * DR6 is left as it is: no debug condition was detected. */
enum exec_result exec_int1(struct cpu *c, const struct insn *d)
{
	return instruction_trap(c, (struct intr_event){ .vector = VEC_DB, .ext = true });
}

/* INTO: #OF (vector 4) as a software interrupt when OF = 1 (SDM Vol. 2
 * INTO; Zydis rejects it in 64-bit mode, where it is #UD). */
enum exec_result exec_into(struct cpu *c, const struct insn *d)
{
	if (!(flags_get(c) & RFLAGS_OF))
		return EXEC_OK;
	return software_interrupt(c, VEC_OF);
}

/* MOV DRn (SDM Vol. 2 MOV—Move to/from Debug Registers): CPL 0; DR4/DR5
 * are DR6/DR7 unless CR4.DE = 1, when they are #UD; with DR7.GD = 1 the
 * access is a #DB fault instead, DR6.BD set and GD cleared for the
 * handler (general detect, Vol. 3B §17.2.4). A write to DR0..DR3 or DR7
 * re-arms the breakpoints (cpu_debug_update). */
#define DR_ALIAS_FIRST 4u
#define DR_ALIAS_DISTANCE 2u

enum exec_result exec_mov_dr(struct cpu *c, const struct insn *d)
{
	unsigned n = d->sub & ~MOV_CR_WRITE;
	if (!privileged(c))
		return EXEC_FAULT;
	if (n == DR_ALIAS_FIRST || n == DR_ALIAS_FIRST + 1) {
		if (c->mmu.cr4 & CR4_DE)
			return fault(c, VEC_UD, false, 0);
		n += DR_ALIAS_DISTANCE;
	}
	if (c->dr[7] & DR7_GD) {
		c->dr[6] |= DR6_BD;
		c->dr[7] &= ~DR7_GD;
		return fault(c, VEC_DB, false, 0);
	}
	if (d->sub & MOV_CR_WRITE) {
		c->dr[n] = reg_get(c, d->r0, d->osz);
		cpu_debug_update(c);
	} else {
		reg_set(c, d->r0, d->osz, c->dr[n]);
	}
	return EXEC_OK;
}

/* What IRET pops: RIP, CS, RFLAGS, and RSP, SS when pops_stack. */
struct iret_frame {
	uint64_t v[5];
	struct seg_desc cs;
	unsigned new_cpl;
	bool pops_stack;
};

/* Read and check everything IRET needs; nothing is committed except SS,
 * loaded last (its check is the last that can fail). */
static bool iret_check(struct cpu *c, const struct insn *d, struct iret_frame *fr)
{
	struct mmu *m = &c->mmu;
	bool ia32e = (m->efer & EFER_LMA) != 0;
	unsigned sz = d->osz;
	for (unsigned i = 0; i < 3; i++)
		if (!stack_peek(c, i * sz, sz, &fr->v[i]))
			return false;
	uint16_t cs_sel = (uint16_t)fr->v[1];
	if (!ia32e && (fr->v[2] & RFLAGS_VM) && c->cpl == 0) {
		mmu_fault_set(&c->fault, VEC_UD, false, 0); /* return to virtual-8086 mode */
		return false;
	}
	if (!seg_check_cs(m, cs_sel, c->cpl, SEG_CS_IRET, &fr->cs, &c->fault))
		return false;
	fr->new_cpl = seg_cs_new_cpl(SEG_CS_IRET, cs_sel, c->cpl, &fr->cs);
	fr->pops_stack = ia32e || fr->new_cpl > c->cpl;
	bool rip_ok = fr->cs.l && ia32e ? mmu_canonical(m, fr->v[0]) : fr->v[0] <= fr->cs.limit;
	if (!rip_ok) {
		mmu_fault_set(&c->fault, VEC_GP, true, 0);
		return false;
	}
	if (!fr->pops_stack)
		return true;
	return stack_peek(c, 3 * sz, sz, &fr->v[3]) && stack_peek(c, 4 * sz, sz, &fr->v[4]) &&
	       seg_load(m, SEG_SS, (uint16_t)fr->v[4], fr->new_cpl, &c->fault);
}

/* IRET with NT = 1 outside IA-32e mode (Vol. 2 IRET "TASK-RETURN"; SDM
 * Vol. 3A §7.4): back to the previous task. */
static enum exec_result iret_task(struct cpu *c, const struct insn *d)
{
	return task_exec_result(c, d, task_return(c, c->next_rip));
}

/* IRET/IRETD/IRETQ (SDM Vol. 2 IRET) to protected-mode, compatibility or
 * 64-bit code: pop RIP, CS, RFLAGS at the operand size; in IA-32e mode
 * always, and in protected mode on a return to an outer level, also RSP
 * and SS. The new CS (its RPL is the new CPL, never below the current one)
 * is checked and SS loaded before anything else is committed. RFLAGS as
 * flags_popped_mask allows, plus RF. With NT = 1: outside IA-32e mode a
 * task return, in IA-32e mode #GP(0). Returns to virtual-8086 mode are
 * not implemented (#UD, counted). */
enum exec_result exec_iret(struct cpu *c, const struct insn *d)
{
	struct iret_frame fr;
	bool ia32e = (c->mmu.efer & EFER_LMA) != 0;
	flags_sync(c);
	if (c->rflags & RFLAGS_NT)
		return ia32e ? fault(c, VEC_GP, true, 0) : iret_task(c, d);
	if (!iret_check(c, d, &fr))
		return c->fault.vector == VEC_UD ? exec_ud(c, d) : EXEC_FAULT;
	uint64_t mask = flags_popped_mask(c, d->osz) | (d->osz == 2 ? 0 : RFLAGS_RF);
	c->rflags = (c->rflags & ~mask) | (fr.v[2] & mask) | RFLAGS_FIXED1;
	c->gpr[GPR_RSP] = fr.pops_stack ? fr.v[3] : sp_moved(c, 3 * (int64_t)d->osz);
	seg_commit_cs(&c->mmu, (uint16_t)fr.v[1], &fr.cs, fr.new_cpl);
	if (fr.new_cpl > c->cpl)
		seg_drop_inaccessible(&c->mmu, fr.new_cpl);
	c->rip = fr.v[0];
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

/* The x87 control instructions (sub: enum x87_control), which kernels
 * run to initialise or probe the FPU: FNINIT (FCW 037FH, FSW 0, FTW
 * FFFFH: all registers empty; Vol. 2 FINIT/FNINIT), FNCLEX (clears FSW's
 * exception flags, ES and B), FNSTSW to AX or m16, FNSTCW and FLDCW m16,
 * and WAIT/FWAIT (no exception can be pending: nothing sets FSW's
 * flags). Device-not-available (Vol. 3A §2.5, Table 2-2): #NM when
 * CR0.EM or CR0.TS is set, for WAIT only when CR0.MP and CR0.TS are.
 * x87 arithmetic, loads and stores are not implemented (#UD, counted),
 * and CPUID does not report an FPU. */
#define FPU_CW_INIT 0x037fu
/* FLDCW keeps the exception masks (bits 5:0), PC, RC and X (bits 12:8);
 * of the reserved bits (Vol. 1 Figure 8-6) bit 6 reads as 1 and bits 7
 * and 15:13 as 0, as the host CPU shows (tests/test_cpu_diff.c). */
#define FPU_CW_WRITABLE 0x1f3fu
#define FPU_CW_ONES 0x0040u
#define FPU_TW_EMPTY 0xffffu
#define FPU_SW_CLEX_MASK 0x7f00u /* keeps C3..C0 and TOP; clears B, ES, SF and PE..IE */

enum exec_result exec_x87_control(struct cpu *c, const struct insn *d)
{
	uint64_t cr0 = c->mmu.cr0;
	bool nm = d->sub == X87_WAIT ? (cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)
				     : (cr0 & (CR0_EM | CR0_TS)) != 0;
	if (nm)
		return fault(c, VEC_NM, false, 0);
	uint64_t v;
	switch (d->sub) {
	case X87_INIT:
		c->fpu_cw = FPU_CW_INIT;
		c->fpu_sw = 0;
		c->fpu_tw = FPU_TW_EMPTY;
		return EXEC_OK;
	case X87_CLEX:
		c->fpu_sw &= FPU_SW_CLEX_MASK;
		return EXEC_OK;
	case X87_STSW:
		if (d->k0 == OPK_REG) {
			reg_set(c, d->r0, 2, c->fpu_sw);
			return EXEC_OK;
		}
		return mem_write(c, d->seg, insn_ea(c, d), 2, c->fpu_sw) ? EXEC_OK : EXEC_FAULT;
	case X87_STCW:
		return mem_write(c, d->seg, insn_ea(c, d), 2, c->fpu_cw) ? EXEC_OK : EXEC_FAULT;
	case X87_LDCW:
		if (!mem_read(c, d->seg, insn_ea(c, d), 2, &v))
			return EXEC_FAULT;
		c->fpu_cw = (uint16_t)((v & FPU_CW_WRITABLE) | FPU_CW_ONES);
		return EXEC_OK;
	default: /* X87_WAIT */
		return EXEC_OK;
	}
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
