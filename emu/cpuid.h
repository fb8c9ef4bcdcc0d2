/* CPUID leaf 1's signature and EDX features (SDM Vol. 2 CPUID, Table
 * 3-11): what emu/x_cpuid.c reports, and what firmware tables that repeat
 * them copy (the MP table's processor entry, emu/multiboot.c). */
#ifndef EMU_CPUID_H
#define EMU_CPUID_H

#include <stdbool.h>
#include <stdint.h>

/* Family 6, model 0x5e, stepping 3: a Skylake client part, matching the
 * default machine model. */
#define CPUID1_SIGNATURE 0x000506e3u

#define CPUID1_EDX_DE (1u << 2)   /* debugging extensions: CR4.DE, I/O breakpoints */
#define CPUID1_EDX_PSE (1u << 3)
#define CPUID1_EDX_TSC (1u << 4)
#define CPUID1_EDX_MSR (1u << 5)
#define CPUID1_EDX_PAE (1u << 6)
#define CPUID1_EDX_CX8 (1u << 8)
#define CPUID1_EDX_APIC (1u << 9)  /* with the APIC globally enabled (§11.4.3) */
#define CPUID1_EDX_PGE (1u << 13)
#define CPUID1_EDX_CMOV (1u << 15)
#define CPUID1_EDX_PAT (1u << 16)

/* CPUID.01H:EDX, with the APIC bit when apic. */
static inline uint32_t cpuid_leaf1_edx(bool apic)
{
	return CPUID1_EDX_DE | CPUID1_EDX_PSE | CPUID1_EDX_TSC | CPUID1_EDX_MSR | CPUID1_EDX_PAE |
	       CPUID1_EDX_CX8 | CPUID1_EDX_PGE | CPUID1_EDX_CMOV | CPUID1_EDX_PAT |
	       (apic ? CPUID1_EDX_APIC : 0);
}

#endif
