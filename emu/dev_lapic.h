/* The local APIC in xAPIC mode (SDM Vol. 3A Chapter 11), for one CPU.
 *
 * Memory-mapped at the 4-KByte page named by IA32_APIC_BASE (reset
 * 0xFEE00000). Registers are 32 bits wide on 16-byte boundaries (§11.4.1,
 * Table 11-1).
 *
 * Implemented: ID, version, TPR, APR (reads 0), PPR, EOI, LDR, DFR, SVR
 * (software enable, spurious vector), ISR/TMR/IRR, ESR (illegal vectors),
 * ICR (fixed and lowest-priority IPIs to self, by shorthand or by a
 * destination that names this APIC; INIT and SIPI accepted and ignored),
 * LVT timer (one-shot, periodic and TSC-deadline, with the
 * IA32_TSC_DEADLINE MSR, §11.5.4.1), LVT LINT0/LINT1/error/thermal/
 * performance (stored; LINT0 selects whether the 8259A's ExtINT reaches the
 * CPU), divide configuration, initial and current count; the
 * IA32_APIC_BASE MSR (base, global enable, BSP, x2APIC enable); x2APIC
 * mode (§11.12): the registers as MSRs 0x800-0x8FF instead of the page,
 * 32-bit IDs, the 64-bit ICR, the SELF IPI register.
 * Not implemented: NMI/SMI IPIs (dropped), the remote read
 * register, level-triggered EOI broadcast, thermal/performance/error
 * interrupt sources (nothing raises them).
 *
 * Time: the timer's input clock runs at timer_hz, derived from modelled
 * CPU cycles (emu/tick.h), then divided by the divide configuration. A new
 * divide configuration takes effect when the initial count is next written
 * (guests write the divider first). The TSC-deadline timer compares the
 * deadline with the modelled cycle counter, which is the TSC.
 */
#ifndef EMU_DEV_LAPIC_H
#define EMU_DEV_LAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/tick.h"
#include "mmu/fault.h"

#define LAPIC_DEFAULT_BASE UINT64_C(0xFEE00000)
#define LAPIC_PAGE_SIZE 4096

/* IA32_APIC_BASE (MSR 0x1B), SDM Vol. 3A §11.4.4, Figure 11-5. */
#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_BSP (UINT64_C(1) << 8)
#define APIC_BASE_X2APIC (UINT64_C(1) << 10)
#define APIC_BASE_ENABLE (UINT64_C(1) << 11)
#define APIC_BASE_ADDR_SHIFT 12

/* Register offsets (SDM Vol. 3A Table 11-1). */
enum lapic_reg {
	LAPIC_ID = 0x020,
	LAPIC_VERSION = 0x030,
	LAPIC_TPR = 0x080,
	LAPIC_APR = 0x090,
	LAPIC_PPR = 0x0A0,
	LAPIC_EOI = 0x0B0,
	LAPIC_RRD = 0x0C0,
	LAPIC_LDR = 0x0D0,
	LAPIC_DFR = 0x0E0,
	LAPIC_SVR = 0x0F0,
	LAPIC_ISR = 0x100, /* 8 registers, 0x100..0x170 */
	LAPIC_TMR = 0x180,
	LAPIC_IRR = 0x200,
	LAPIC_ESR = 0x280,
	LAPIC_ICR_LOW = 0x300,
	LAPIC_ICR_HIGH = 0x310,
	LAPIC_LVT_TIMER = 0x320,
	LAPIC_LVT_THERMAL = 0x330,
	LAPIC_LVT_PERF = 0x340,
	LAPIC_LVT_LINT0 = 0x350,
	LAPIC_LVT_LINT1 = 0x360,
	LAPIC_LVT_ERROR = 0x370,
	LAPIC_TIMER_INITIAL = 0x380,
	LAPIC_TIMER_CURRENT = 0x390,
	LAPIC_TIMER_DIVIDE = 0x3E0,
	LAPIC_SELF_IPI = 0x3F0, /* x2APIC mode only */
};

/* x2APIC mode (§11.12.1.2, Table 11-6): register at offset R is MSR
 * 0x800 + R / 16; the ICR is one 64-bit MSR (destination in bits 63:32). */
#define X2APIC_MSR_BASE 0x800u
#define X2APIC_MSR_LAST 0x8FFu
#define X2APIC_BROADCAST UINT32_C(0xFFFFFFFF)
#define X2APIC_LDR_CLUSTER_SHIFT 16
#define X2APIC_LDR_MEMBERS 0xFFFFu
/* The logical x2APIC ID from the x2APIC ID (§11.12.10.2): cluster ID[19:4]
 * in bits 31:16, and bit ID[3:0] of the member bitmap. */
#define X2APIC_CLUSTER_ID_SHIFT 4
#define X2APIC_CLUSTER_MEMBER_MASK 0xFu

/* Version register (§11.4.8): version 0x14 (integrated xAPIC); max LVT
 * entry 5 (six entries: timer, thermal, performance, LINT0, LINT1, error). */
#define LAPIC_VERSION_VALUE 0x00050014u

#define LAPIC_ID_SHIFT 24
#define LAPIC_TPR_MASK 0xFFu    /* TPR bits 7:0; 31:8 reserved */
#define LAPIC_TPR_CLASS_SHIFT 4 /* TPR bits 7:4: the priority class */
#define LAPIC_VECTOR_REGS 8     /* ISR, TMR, IRR: 256 bits as eight registers */
#define LAPIC_CR8_MASK 0xFu
#define LAPIC_SVR_VECTOR 0xFFu
#define LAPIC_SVR_ENABLE (1u << 8)   /* APIC software enable (§11.4.7.2) */
#define LAPIC_SVR_MASK 0x13FFu       /* vector, enable, focus check, EOI-broadcast suppression */
#define LAPIC_LDR_MASK 0xFF000000u
#define LAPIC_DFR_MASK 0xF0000000u   /* model bits; bits 27:0 read as ones */

/* LVT entries (§11.5.1, Figure 11-8). */
#define LAPIC_LVT_VECTOR 0xFFu
#define LAPIC_LVT_DELIVERY_SHIFT 8
#define LAPIC_LVT_DELIVERY_MASK (7u << 8)
#define LAPIC_LVT_PENDING (1u << 12) /* delivery status, read-only */
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_TIMER_MODE_SHIFT 17
#define LAPIC_LVT_TIMER_MODE_MASK (3u << 17)
#define LAPIC_DELIVERY_FIXED 0u
#define LAPIC_DELIVERY_EXTINT 7u

enum lapic_timer_mode { LAPIC_TIMER_ONESHOT = 0, LAPIC_TIMER_PERIODIC = 1, LAPIC_TIMER_TSC_DEADLINE = 2 };

/* ICR (§11.6.1, Figure 11-12). */
#define LAPIC_ICR_VECTOR 0xFFu
#define LAPIC_ICR_DELIVERY_SHIFT 8
#define LAPIC_ICR_DEST_LOGICAL (1u << 11)
#define LAPIC_ICR_SHORTHAND_SHIFT 18
#define LAPIC_ICR_DEST_SHIFT 24
#define LAPIC_ICR_LOW_MASK 0x000CCFFFu /* vector, delivery, dest mode, level, trigger, shorthand */
enum lapic_icr_delivery {
	LAPIC_IPI_FIXED = 0, LAPIC_IPI_LOWEST = 1, LAPIC_IPI_SMI = 2, LAPIC_IPI_NMI = 4,
	LAPIC_IPI_INIT = 5, LAPIC_IPI_SIPI = 6,
};
enum lapic_icr_shorthand { LAPIC_SH_NONE = 0, LAPIC_SH_SELF = 1, LAPIC_SH_ALL = 2, LAPIC_SH_OTHERS = 3 };
#define LAPIC_BROADCAST_ID 0xFF

/* ESR bits (§11.5.3). */
#define LAPIC_ESR_SEND_ILLEGAL (1u << 5)
#define LAPIC_ESR_RECV_ILLEGAL (1u << 6)
/* Vectors 0..15 are reserved; delivering one is an illegal-vector error. */
#define LAPIC_FIRST_LEGAL_VECTOR 16

/* Divide configuration bits 3, 1:0 (§11.5.4, Figure 11-10). */
#define LAPIC_DIVIDE_MASK 0x0Bu

#define LAPIC_NLVT 6

struct lapic {
	uint64_t base_msr;
	uint32_t id, tpr, ldr, dfr, svr, esr, esr_pending, icr_low, icr_high;
	uint32_t lvt[LAPIC_NLVT];   /* timer, thermal, perf, LINT0, LINT1, error */
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t divide_config;
	uint32_t initial_count;
	uint32_t timer_divisor;     /* divide configuration latched when the count was loaded */
	uint64_t timer_start;       /* undivided tick at which the count was (re)loaded */
	uint64_t timer_fired;       /* expiries already delivered since timer_start */
	uint64_t now;               /* undivided ticks at the last lapic_advance */
	struct tick_clock clock;
	uint64_t phys_addr_mask;    /* bits a base address may have (MAXPHYADDR) */
	uint64_t tsc_deadline;      /* IA32_TSC_DEADLINE: armed when non-zero (TSC-deadline mode) */
};

/* Power-up state (§11.4.7.1 and Table 11-1): enabled in IA32_APIC_BASE,
 * software-disabled in SVR, LVT entries masked except LINT0, which holds
 * ExtINT as a PC BIOS leaves it, ID 0. false if the clock is out of range
 * or phys_addr_bits is not in 32..52. */
bool lapic_init(struct lapic *a, uint64_t cpu_hz, uint64_t timer_hz, unsigned phys_addr_bits);

/* RDMSR/WRMSR of IA32_APIC_BASE. The write returns false (the CPU raises
 * #GP) for reserved bits and for the transitions §11.12.5 forbids: into
 * EN = 0 with EXTD = 1, from x2APIC mode to xAPIC mode, from disabled to
 * x2APIC mode. The BSP bit is read-only here. Clearing the enable bit
 * turns the APIC off: its page is no longer claimed and PIC interrupts
 * reach the CPU directly; setting it again returns the APIC to its
 * power-up register state. Entering x2APIC mode keeps the registers and
 * sets the LDR to the logical x2APIC ID (§11.12.10.2). */
uint64_t lapic_read_base_msr(const struct lapic *a);
MMU_WUR bool lapic_write_base_msr(struct lapic *a, uint64_t value);

bool lapic_globally_enabled(const struct lapic *a);
/* Enabled in x2APIC mode (IA32_APIC_BASE EN = EXTD = 1). */
bool lapic_x2apic_mode(const struct lapic *a);
/* RDMSR/WRMSR of an x2APIC register (msr 0x800..0x8FF) in x2APIC mode;
 * false: the CPU raises #GP(0) — a register x2APIC mode lacks (DFR, APR,
 * the remote read and CMCI registers, reserved addresses), a read of a
 * write-only one (EOI, SELF IPI), a write of a read-only one, a write
 * that sets a reserved bit (bits 63:32 of all but the ICR included), a
 * non-zero write of EOI or ESR (§11.12.1.2, §11.12.1.3). */
MMU_WUR bool lapic_x2apic_read(struct lapic *a, uint32_t msr, uint64_t *value);
MMU_WUR bool lapic_x2apic_write(struct lapic *a, uint32_t msr, uint64_t value);
bool lapic_software_enabled(const struct lapic *a);
/* Whether physical address pa lies in the APIC's register page. */
bool lapic_claims(const struct lapic *a, uint64_t pa);

/* Register access. offset is within the page; reads of any size return the
 * bytes of the 32-bit register at that position; writes must be 32-bit and
 * 16-byte aligned (other writes are ignored, SDM §11.4.1). */
uint32_t lapic_read(struct lapic *a, uint32_t offset, unsigned size);
void lapic_write(struct lapic *a, uint32_t offset, unsigned size, uint32_t value);

/* Run the timer to now_cycles (monotonic). */
void lapic_advance(struct lapic *a, uint64_t now_cycles);
/* IA32_TSC_DEADLINE (§11.5.4.1): in TSC-deadline mode a non-zero write
 * arms the timer (once the TSC reaches the value, the timer interrupt is
 * raised and the MSR cleared) and 0 disarms it; in the other modes writes
 * are ignored and the MSR reads 0. The caller advances the APIC to now
 * first and after the write (a deadline already passed fires at once). */
uint64_t lapic_read_tsc_deadline(const struct lapic *a);
void lapic_write_tsc_deadline(struct lapic *a, uint64_t value);
/* Cycle of the next timer expiry that would set an IRR bit, UINT64_MAX if none. */
uint64_t lapic_next_event(const struct lapic *a);

/* Whether PIC (ExtINT) interrupts may reach the CPU: the APIC is globally
 * disabled, software-disabled, or LINT0 is unmasked in ExtINT mode. */
bool lapic_accepts_pic(const struct lapic *a);
/* An IRR vector whose priority class is above PPR's (§11.8.3.1). */
bool lapic_pending(const struct lapic *a);
/* Move the highest IRR vector to ISR and return it; with none pending,
 * the spurious vector (SVR bits 7:0) and nothing set (§11.9). */
uint8_t lapic_acknowledge(struct lapic *a);
/* CR8 in 64-bit mode is TPR bits 7:4 (SDM Vol. 3A §11.8.6.5): MOV to CR8
 * writes TPR[7:4] = CR8[3:0] and clears TPR[3:0]; MOV from CR8 reads
 * TPR[7:4]. The CPU checks CR8's reserved bits (63:4) itself. */
uint64_t lapic_read_cr8(const struct lapic *a);
void lapic_write_cr8(struct lapic *a, uint64_t cr8);
/* Set IRR for a fixed interrupt (a local source or a self-IPI). */
void lapic_deliver(struct lapic *a, uint8_t vector);

#endif
