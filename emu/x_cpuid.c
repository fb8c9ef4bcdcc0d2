/* CPUID and RDTSC/RDTSCP (SDM Vol. 2 CPUID, RDTSC, RDTSCP).
 *
 * CPUID reports exactly what mmulab implements, so guests that check it
 * skip the rest: no x87/SSE, no FSGSBASE or PKU instructions; the APIC,
 * x2APIC and the TSC-deadline timer when the machine has an APIC and it
 * is on. The time-stamp counter is the modelled cycle counter. */
#include "emu/cpuid.h"
#include "emu/exec.h"
#include "emu/io.h"

/* Feature bits reported (SDM Vol. 2 CPUID, Tables 3-10, 3-11, 3-8); leaf 1 EDX and
 * the signature: emu/cpuid.h. */
#define CPUID1_ECX_CX16 BIT64(13)
#define CPUID1_ECX_PCID BIT64(17)
#define CPUID1_ECX_X2APIC BIT64(21)
#define CPUID1_ECX_MOVBE BIT64(22)
#define CPUID1_ECX_POPCNT BIT64(23)
#define CPUID1_ECX_TSC_DEADLINE BIT64(24)
#define CPUID7_EBX_BMI1 BIT64(3)
#define CPUID7_EBX_SMEP BIT64(7)
#define CPUID7_EBX_BMI2 BIT64(8)
#define CPUID7_EBX_INVPCID BIT64(10)
#define CPUID7_EBX_ADX BIT64(19)
#define CPUID7_EBX_SMAP BIT64(20)
#define CPUIDX1_EDX_SYSCALL BIT64(11)
#define CPUIDX1_EDX_NX BIT64(20)
#define CPUIDX1_EDX_PAGE1GB BIT64(26)
#define CPUIDX1_EDX_RDTSCP BIT64(27)
#define CPUIDX1_EDX_LM BIT64(29)
#define CPUIDX1_ECX_LAHF BIT64(0)
#define CPUIDX1_ECX_ABM BIT64(5) /* LZCNT */

#define CPUID_MAX_BASIC 7u
#define CPUID_EXT_BASE 0x80000000u
#define CPUID_MAX_EXT 0x80000008u
#define CPUID1_CLFLUSH_8 (8u << 8) /* CLFLUSH line size in 8-byte units */
#define CPUID1_ONE_LOGICAL (1u << 16)
#define LINEAR_BITS_48 48u

/* "mmulabmmulab" in EBX, EDX, ECX order. */
static const char vendor[12] = { 'm', 'm', 'u', 'l', 'a', 'b', 'm', 'm', 'u', 'l', 'a', 'b' };

static uint32_t vendor_word(unsigned i)
{
	return (uint32_t)vendor[4 * i] | (uint32_t)vendor[4 * i + 1] << 8 |
	       (uint32_t)vendor[4 * i + 2] << 16 | (uint32_t)vendor[4 * i + 3] << 24;
}

/* Physical-address bits: one more than the highest frame bit of the
 * model's address mask. */
static uint32_t phys_bits(const struct cpu *c)
{
	return 64u - (uint32_t)__builtin_clzll(c->mmu.addr_mask | PHYS_FRAME_SIZE);
}

static void cpuid(const struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	r[0] = r[1] = r[2] = r[3] = 0; /* EAX, EBX, ECX, EDX */
	switch (leaf) {
	case 0:
		r[0] = CPUID_MAX_BASIC;
		r[1] = vendor_word(0), r[3] = vendor_word(1), r[2] = vendor_word(2);
		break;
	case 1: {
		bool apic = io_apic_present(c);
		r[0] = CPUID1_SIGNATURE;
		r[1] = CPUID1_CLFLUSH_8 | CPUID1_ONE_LOGICAL;
		r[2] = (uint32_t)(CPUID1_ECX_CX16 | CPUID1_ECX_PCID | CPUID1_ECX_MOVBE |
				  CPUID1_ECX_POPCNT);
		r[3] = cpuid_leaf1_edx(apic);
		if (apic)
			r[2] |= (uint32_t)(CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE);
		break;
	}
	case 7:
		if (sub == 0)
			r[1] = (uint32_t)(CPUID7_EBX_BMI1 | CPUID7_EBX_SMEP | CPUID7_EBX_BMI2 |
					  CPUID7_EBX_INVPCID | CPUID7_EBX_ADX | CPUID7_EBX_SMAP);
		break;
	case CPUID_EXT_BASE:
		r[0] = CPUID_MAX_EXT;
		break;
	case CPUID_EXT_BASE + 1:
		r[2] = (uint32_t)(CPUIDX1_ECX_LAHF | CPUIDX1_ECX_ABM);
		r[3] = (uint32_t)(CPUIDX1_EDX_SYSCALL | CPUIDX1_EDX_NX | CPUIDX1_EDX_PAGE1GB |
				  CPUIDX1_EDX_RDTSCP | CPUIDX1_EDX_LM);
		break;
	case CPUID_MAX_EXT:
		r[0] = phys_bits(c) | LINEAR_BITS_48 << 8;
		break;
	default:
		break;
	}
}

enum exec_result exec_cpuid(struct cpu *c, const struct insn *d)
{
	uint32_t r[4];
	cpuid(c, (uint32_t)c->gpr[GPR_RAX], (uint32_t)c->gpr[GPR_RCX], r);
	reg_set(c, GPR_RAX, 4, r[0]);
	reg_set(c, GPR_RBX, 4, r[1]);
	reg_set(c, GPR_RCX, 4, r[2]);
	reg_set(c, GPR_RDX, 4, r[3]);
	return EXEC_OK;
}

/* RDTSC / RDTSCP (sub 0 / 1): EDX:EAX = the cycle counter; CR4.TSD makes
 * them CPL 0 only (#GP(0)); RDTSCP also loads ECX with IA32_TSC_AUX. */
enum exec_result exec_rdtsc(struct cpu *c, const struct insn *d)
{
	if ((c->mmu.cr4 & CR4_TSD) && c->cpl != 0)
		return fault(c, VEC_GP, true, 0);
	reg_set_edx_eax(c, c->cycles);
	if (d->sub)
		reg_set(c, GPR_RCX, 4, c->msr.tsc_aux);
	return EXEC_OK;
}
