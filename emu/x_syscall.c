/* SYSCALL and SYSRET in 64-bit mode (SDM Vol. 2 SYSCALL, SYSRET; Vol. 3A
 * §5.8.8). They load CS and SS with fixed flat descriptors derived from
 * IA32_STAR, without reading the GDT. */
#include "emu/exec.h"
#include "emu/io.h"

#define STAR_SYSCALL_CS_SHIFT 32
#define STAR_SYSRET_CS_SHIFT 48
#define SYSRET_SS_OFFSET 8u    /* SS = STAR[63:48] + 8 */
#define SYSRET_CS64_OFFSET 16u /* 64-bit CS = STAR[63:48] + 16 */
#define SYSCALL_SS_OFFSET 8u   /* SS = STAR[47:32] + 8 */
#define RFLAGS_SYSRET_MASK UINT64_C(0x3c7fd7) /* R11 bits SYSRET restores */
#define FLAT_LIMIT UINT32_C(0xffffffff)

static struct seg_cache flat(uint16_t sel, bool code, unsigned dpl, bool l)
{
	uint8_t type = code ? SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE | SEG_TYPE_ACCESSED
			    : SEG_TYPE_DATA_WRITABLE | SEG_TYPE_ACCESSED;
	return (struct seg_cache){ .selector = sel, .base = 0, .limit = FLAT_LIMIT, .type = type,
				   .s = true, .dpl = (uint8_t)dpl, .p = true, .l = l,
				   .db = !l, .g = true, .usable = true };
}

/* #UD unless IA32_EFER.SCE = 1 and the CPU is in 64-bit mode. */
static bool syscall_enabled(struct cpu *c)
{
	if (c->mode == CPU_MODE_64 && (c->mmu.efer & EFER_SCE))
		return true;
	mmu_fault_set(&c->fault, VEC_UD, false, 0);
	return false;
}

enum exec_result exec_syscall(struct cpu *c, const struct insn *d)
{
	if (!syscall_enabled(c))
		return EXEC_FAULT;
	uint16_t sel = (uint16_t)(c->msr.star >> STAR_SYSCALL_CS_SHIFT);
	uint64_t fl = flags_get(c);
	c->gpr[GPR_RCX] = c->next_rip;
	c->gpr[GPR_R11] = fl & ~RFLAGS_RF;
	c->rflags = (fl & ~c->msr.sfmask & ~RFLAGS_RF) | RFLAGS_FIXED1;
	c->mmu.seg.sr[SEG_CS] = flat(sel & SEL_ERROR_MASK, true, 0, true);
	c->mmu.seg.sr[SEG_SS] = flat((uint16_t)(sel + SYSCALL_SS_OFFSET), false, 0, false);
	cpu_refresh_mode(c);
	c->next_rip = c->msr.lstar;
	return EXEC_OK;
}

/* SYSRET: REX.W returns to 64-bit code at RCX, otherwise to
 * compatibility mode at ECX; CPL 0 only; a non-canonical RCX is #GP(0)
 * (raised at CPL 0, before anything changes). */
enum exec_result exec_sysret(struct cpu *c, const struct insn *d)
{
	if (!syscall_enabled(c))
		return EXEC_FAULT;
	if (c->cpl != 0)
		return fault(c, VEC_GP, true, 0);
	bool to64 = d->osz == 8;
	uint64_t rip = to64 ? c->gpr[GPR_RCX] : (uint32_t)c->gpr[GPR_RCX];
	if (to64 && !mmu_canonical(&c->mmu, rip))
		return fault(c, VEC_GP, true, 0);
	uint16_t base = (uint16_t)(c->msr.star >> STAR_SYSRET_CS_SHIFT);
	uint16_t cs = (uint16_t)((to64 ? base + SYSRET_CS64_OFFSET : base) | 3);
	flags_sync(c);
	c->rflags = (c->gpr[GPR_R11] & RFLAGS_SYSRET_MASK) | RFLAGS_FIXED1;
	c->mmu.seg.sr[SEG_CS] = flat(cs, true, 3, to64);
	c->mmu.seg.sr[SEG_SS] = flat((uint16_t)((base + SYSRET_SS_OFFSET) | 3), false, 3, false);
	cpu_refresh_mode(c);
	c->next_rip = rip;
	return io_if_may_open(c);
}
