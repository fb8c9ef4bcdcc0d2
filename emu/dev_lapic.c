/* Local APIC (xAPIC), one CPU. SDM Vol. 3A Chapter 11 throughout. */
#include "emu/dev_lapic.h"

#include <string.h>

enum lapic_lvt_index { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* Writable bits of each LVT entry (Figure 11-8): the timer has vector, mask
 * and mode; LINT0/1 add delivery mode, polarity and trigger mode; thermal
 * and performance have vector, delivery mode and mask; error has vector
 * and mask. */
static const uint32_t lvt_writable[LAPIC_NLVT] = {
	[LVT_TIMER] = 0x000600FFu | LAPIC_LVT_MASKED,
	[LVT_THERMAL] = 0x000007FFu | LAPIC_LVT_MASKED,
	[LVT_PERF] = 0x000007FFu | LAPIC_LVT_MASKED,
	[LVT_LINT0] = 0x0000A7FFu | LAPIC_LVT_MASKED,
	[LVT_LINT1] = 0x0000A7FFu | LAPIC_LVT_MASKED,
	[LVT_ERROR] = 0x000000FFu | LAPIC_LVT_MASKED,
};

#define LAPIC_DFR_RESET 0xFFFFFFFFu
#define LAPIC_SVR_RESET 0xFFu
#define LAPIC_REG_SLOT 16 /* registers sit on 16-byte boundaries */
#define LAPIC_REG_BYTES 4
#define LAPIC_DFR_FLAT 0xFu /* DFR bits 31:28: 1111 flat, 0000 cluster (§11.6.2.2) */

static uint32_t lapic_divisor_of(uint32_t divide_config)
{
	/* Bits 3,1,0 form a code: 000 = /2 ... 110 = /128, 111 = /1. */
	uint32_t code = ((divide_config >> 1) & 4u) | (divide_config & 3u);
	return code == 7 ? 1 : 2u << code;
}

static void lapic_reset_registers(struct lapic *a)
{
	a->id = a->tpr = a->ldr = a->esr = a->esr_pending = 0;
	a->icr_low = a->icr_high = 0;
	a->dfr = LAPIC_DFR_RESET;
	a->svr = LAPIC_SVR_RESET;
	memset(a->irr, 0, sizeof a->irr);
	memset(a->isr, 0, sizeof a->isr);
	memset(a->tmr, 0, sizeof a->tmr);
	for (unsigned i = 0; i < LAPIC_NLVT; i++)
		a->lvt[i] = LAPIC_LVT_MASKED;
	/* What a PC BIOS leaves behind (QEMU does the same): the 8259A's INTR
	 * reaches the CPU through LINT0 in ExtINT mode. */
	a->lvt[LVT_LINT0] = LAPIC_DELIVERY_EXTINT << LAPIC_LVT_DELIVERY_SHIFT;
	a->divide_config = 0;
	a->initial_count = 0;
	a->timer_divisor = lapic_divisor_of(0);
	a->timer_start = a->now;
	a->timer_fired = 0;
	a->tsc_deadline = 0;
}

bool lapic_init(struct lapic *a, uint64_t cpu_hz, uint64_t timer_hz, unsigned phys_addr_bits)
{
	memset(a, 0, sizeof *a);
	a->clock = (struct tick_clock){ .tick_hz = timer_hz, .cpu_hz = cpu_hz };
	a->base_msr = LAPIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
	lapic_reset_registers(a);
	if (phys_addr_bits < 32 || phys_addr_bits > 52)
		return false;
	a->phys_addr_mask = (UINT64_C(1) << phys_addr_bits) - 1;
	return tick_clock_valid(&a->clock);
}

bool lapic_globally_enabled(const struct lapic *a)
{
	return a->base_msr & APIC_BASE_ENABLE;
}

bool lapic_software_enabled(const struct lapic *a)
{
	return a->svr & LAPIC_SVR_ENABLE;
}

static uint64_t lapic_base(const struct lapic *a)
{
	return a->base_msr & a->phys_addr_mask & ~(uint64_t)(LAPIC_PAGE_SIZE - 1);
}

bool lapic_x2apic_mode(const struct lapic *a)
{
	return (a->base_msr & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) ==
	       (APIC_BASE_ENABLE | APIC_BASE_X2APIC);
}

/* In x2APIC mode the page is not an interface to the APIC (§11.12.1). */
bool lapic_claims(const struct lapic *a, uint64_t pa)
{
	return lapic_globally_enabled(a) && !lapic_x2apic_mode(a) &&
	       pa - lapic_base(a) < LAPIC_PAGE_SIZE;
}

uint64_t lapic_read_base_msr(const struct lapic *a)
{
	return a->base_msr;
}

/* The x2APIC ID: the xAPIC ID register's bits 31:24 (one CPU, ID 0). */
static uint32_t lapic_x2apic_id(const struct lapic *a)
{
	return a->id >> LAPIC_ID_SHIFT;
}

bool lapic_write_base_msr(struct lapic *a, uint64_t value)
{
	uint64_t writable = APIC_BASE_BSP | APIC_BASE_X2APIC | APIC_BASE_ENABLE |
			    (a->phys_addr_mask & ~(uint64_t)(LAPIC_PAGE_SIZE - 1));
	bool en = value & APIC_BASE_ENABLE, extd = value & APIC_BASE_X2APIC;
	bool was_enabled = lapic_globally_enabled(a), was_x2apic = lapic_x2apic_mode(a);
	if (value & ~writable)
		return false;
	/* §11.12.5, Figure 11-27: the invalid state, x2APIC to xAPIC, and
	 * disabled straight to x2APIC are illegal transitions. */
	if ((extd && !en) || (was_x2apic && en && !extd) || (!was_enabled && extd))
		return false;
	a->base_msr = (value & ~APIC_BASE_BSP) | (a->base_msr & APIC_BASE_BSP);
	if (!was_enabled && en)
		lapic_reset_registers(a);
	if (!was_x2apic && extd) { /* the logical x2APIC ID (§11.12.10.2) */
		uint32_t id = lapic_x2apic_id(a);
		a->ldr = (id >> X2APIC_CLUSTER_ID_SHIFT) << X2APIC_LDR_CLUSTER_SHIFT |
			 1u << (id & X2APIC_CLUSTER_MEMBER_MASK);
	}
	return true;
}

/* ---- Vector arrays: 256 bits as eight 32-bit registers. */

static int vec_highest(const uint32_t bits[8])
{
	for (int i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static void vec_set(uint32_t bits[8], uint8_t v)
{
	bits[v / 32] |= 1u << (v % 32);
}

static void vec_clear(uint32_t bits[8], uint8_t v)
{
	bits[v / 32] &= ~(1u << (v % 32));
}

/* ---- Priorities (§11.8.3). */

/* PPR: TPR if its class is at least that of the highest in-service vector,
 * else that vector's class with a zero subclass (§11.8.3.1). */
static uint32_t lapic_ppr(const struct lapic *a)
{
	int isrv = vec_highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0u;
	return (a->tpr & 0xF0u) >= isr_class ? a->tpr : isr_class;
}

bool lapic_pending(const struct lapic *a)
{
	int v = vec_highest(a->irr);
	return lapic_globally_enabled(a) && v >= 0 && ((uint32_t)v & 0xF0u) > (lapic_ppr(a) & 0xF0u);
}

uint8_t lapic_acknowledge(struct lapic *a)
{
	if (!lapic_pending(a))
		return (uint8_t)(a->svr & LAPIC_SVR_VECTOR); /* spurious interrupt (§11.9) */
	uint8_t v = (uint8_t)vec_highest(a->irr);
	vec_clear(a->irr, v);
	vec_set(a->isr, v);
	return v;
}

uint64_t lapic_read_cr8(const struct lapic *a)
{
	return a->tpr >> LAPIC_TPR_CLASS_SHIFT;
}

void lapic_write_cr8(struct lapic *a, uint64_t cr8)
{
	a->tpr = (uint32_t)(cr8 & LAPIC_CR8_MASK) << LAPIC_TPR_CLASS_SHIFT;
}

void lapic_deliver(struct lapic *a, uint8_t vector)
{
	if (vector < LAPIC_FIRST_LEGAL_VECTOR) {
		a->esr_pending |= LAPIC_ESR_RECV_ILLEGAL;
		return;
	}
	vec_set(a->irr, vector);
	vec_clear(a->tmr, vector); /* edge-triggered */
}

bool lapic_accepts_pic(const struct lapic *a)
{
	uint32_t lint0 = a->lvt[LVT_LINT0];
	bool extint = ((lint0 & LAPIC_LVT_DELIVERY_MASK) >> LAPIC_LVT_DELIVERY_SHIFT) == LAPIC_DELIVERY_EXTINT;
	return !lapic_globally_enabled(a) || !lapic_software_enabled(a) ||
	       (extint && !(lint0 & LAPIC_LVT_MASKED));
}

/* ---- Timer (§11.5.4). */

static uint32_t lapic_divisor(const struct lapic *a)
{
	return a->timer_divisor;
}

static enum lapic_timer_mode lapic_timer_mode(const struct lapic *a)
{
	return (a->lvt[LVT_TIMER] & LAPIC_LVT_TIMER_MODE_MASK) >> LAPIC_LVT_TIMER_MODE_SHIFT;
}

static bool lapic_timer_running(const struct lapic *a)
{
	enum lapic_timer_mode m = lapic_timer_mode(a);
	return lapic_globally_enabled(a) && a->initial_count &&
	       (m == LAPIC_TIMER_ONESHOT || m == LAPIC_TIMER_PERIODIC);
}

/* Expiries (count reaching zero) between the load and undivided tick t. */
static uint64_t lapic_expiries_at(const struct lapic *a, uint64_t t)
{
	if (!lapic_timer_running(a))
		return 0;
	uint64_t n = (t - a->timer_start) / lapic_divisor(a) / a->initial_count;
	return lapic_timer_mode(a) == LAPIC_TIMER_ONESHOT && n > 1 ? 1 : n;
}

static uint32_t lapic_current_count(const struct lapic *a)
{
	if (!lapic_timer_running(a))
		return 0;
	uint64_t elapsed = (a->now - a->timer_start) / lapic_divisor(a);
	if (lapic_timer_mode(a) == LAPIC_TIMER_ONESHOT)
		return elapsed >= a->initial_count ? 0 : (uint32_t)(a->initial_count - elapsed);
	return (uint32_t)(a->initial_count - elapsed % a->initial_count);
}

static bool lapic_timer_deliverable(const struct lapic *a)
{
	return lapic_software_enabled(a) && !(a->lvt[LVT_TIMER] & LAPIC_LVT_MASKED);
}

/* TSC-deadline mode: the deadline passed disarms the timer, raising the
 * interrupt unless it is masked (each write raises at most one). */
static void lapic_tsc_deadline_advance(struct lapic *a, uint64_t now_cycles)
{
	if (!a->tsc_deadline || now_cycles < a->tsc_deadline)
		return;
	a->tsc_deadline = 0;
	if (lapic_timer_deliverable(a))
		lapic_deliver(a, (uint8_t)(a->lvt[LVT_TIMER] & LAPIC_LVT_VECTOR));
}

uint64_t lapic_read_tsc_deadline(const struct lapic *a)
{
	return a->tsc_deadline;
}

void lapic_write_tsc_deadline(struct lapic *a, uint64_t value)
{
	if (lapic_globally_enabled(a) && lapic_timer_mode(a) == LAPIC_TIMER_TSC_DEADLINE)
		a->tsc_deadline = value;
}

void lapic_advance(struct lapic *a, uint64_t now_cycles)
{
	lapic_tsc_deadline_advance(a, now_cycles);
	uint64_t t = tick_from_cycles(&a->clock, now_cycles);
	if (t < a->now)
		return;
	a->now = t;
	uint64_t n = lapic_expiries_at(a, t);
	if (n == a->timer_fired)
		return;
	/* Several expiries since the last call set the one IRR bit once. */
	a->timer_fired = n;
	if (lapic_timer_deliverable(a))
		lapic_deliver(a, (uint8_t)(a->lvt[LVT_TIMER] & LAPIC_LVT_VECTOR));
}

uint64_t lapic_next_event(const struct lapic *a)
{
	if (a->tsc_deadline && lapic_timer_deliverable(a))
		return a->tsc_deadline;
	if (!lapic_timer_running(a) || !lapic_timer_deliverable(a))
		return UINT64_MAX;
	if (lapic_timer_mode(a) == LAPIC_TIMER_ONESHOT && a->timer_fired)
		return UINT64_MAX;
	uint64_t period = (uint64_t)a->initial_count * lapic_divisor(a);
	return tick_to_cycles(&a->clock, a->timer_start + (a->timer_fired + 1) * period);
}

static void lapic_timer_load(struct lapic *a, uint32_t count)
{
	a->initial_count = count; /* 0 stops the timer */
	a->timer_divisor = lapic_divisor_of(a->divide_config);
	a->timer_start = a->now;
	a->timer_fired = 0;
}

/* ---- Interprocessor interrupts (§11.6). */

static bool lapic_destination_is_self(const struct lapic *a, uint8_t dest, bool logical)
{
	if (dest == LAPIC_BROADCAST_ID)
		return true;
	if (!logical)
		return dest == (uint8_t)(a->id >> LAPIC_ID_SHIFT);
	uint8_t ldr = (uint8_t)(a->ldr >> LAPIC_ID_SHIFT);
	if ((a->dfr >> 28) == LAPIC_DFR_FLAT)
		return (ldr & dest) != 0;
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xFu); /* cluster model */
}

/* x2APIC destinations are 32 bits: the x2APIC ID, or in logical mode a
 * cluster (bits 31:16) and a member bitmap (bits 15:0) matched against
 * the LDR (§11.12.10); all-ones broadcasts. */
static bool lapic_x2apic_destination_is_self(const struct lapic *a, uint32_t dest, bool logical)
{
	if (dest == X2APIC_BROADCAST)
		return true;
	if (!logical)
		return dest == lapic_x2apic_id(a);
	return dest >> X2APIC_LDR_CLUSTER_SHIFT == a->ldr >> X2APIC_LDR_CLUSTER_SHIFT &&
	       (dest & a->ldr & X2APIC_LDR_MEMBERS);
}

/* A fixed interrupt sent to this APIC; vectors 0-15 are a send error. */
static void lapic_send_self(struct lapic *a, uint8_t vector)
{
	if (vector < LAPIC_FIRST_LEGAL_VECTOR) {
		a->esr_pending |= LAPIC_ESR_SEND_ILLEGAL;
		return;
	}
	lapic_deliver(a, vector);
}

static void lapic_send_ipi(struct lapic *a)
{
	uint32_t icr = a->icr_low;
	uint8_t vector = (uint8_t)(icr & LAPIC_ICR_VECTOR);
	unsigned delivery = (icr >> LAPIC_ICR_DELIVERY_SHIFT) & 7u;
	unsigned shorthand = (icr >> LAPIC_ICR_SHORTHAND_SHIFT) & 3u;
	bool logical = icr & LAPIC_ICR_DEST_LOGICAL;
	if (delivery != LAPIC_IPI_FIXED && delivery != LAPIC_IPI_LOWEST)
		return; /* INIT and SIPI: there is no other CPU; NMI/SMI: not modelled */
	bool to_self = lapic_x2apic_mode(a)
			       ? lapic_x2apic_destination_is_self(a, a->icr_high, logical)
			       : lapic_destination_is_self(a, (uint8_t)(a->icr_high >> LAPIC_ICR_DEST_SHIFT),
							   logical);
	if (shorthand == LAPIC_SH_SELF || shorthand == LAPIC_SH_ALL ||
	    (shorthand == LAPIC_SH_NONE && to_self))
		lapic_send_self(a, vector);
	else if (vector < LAPIC_FIRST_LEGAL_VECTOR) /* an error even sent to nobody */
		a->esr_pending |= LAPIC_ESR_SEND_ILLEGAL;
}

/* ---- Register file. */

static uint32_t lapic_read_reg(struct lapic *a, uint32_t reg)
{
	if (reg >= LAPIC_ISR && reg < LAPIC_ISR + LAPIC_VECTOR_REGS * LAPIC_REG_SLOT)
		return a->isr[(reg - LAPIC_ISR) / LAPIC_REG_SLOT];
	if (reg >= LAPIC_TMR && reg < LAPIC_TMR + LAPIC_VECTOR_REGS * LAPIC_REG_SLOT)
		return a->tmr[(reg - LAPIC_TMR) / LAPIC_REG_SLOT];
	if (reg >= LAPIC_IRR && reg < LAPIC_IRR + LAPIC_VECTOR_REGS * LAPIC_REG_SLOT)
		return a->irr[(reg - LAPIC_IRR) / LAPIC_REG_SLOT];
	if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR)
		return a->lvt[(reg - LAPIC_LVT_TIMER) / LAPIC_REG_SLOT];
	switch (reg) {
	case LAPIC_ID: return a->id;
	case LAPIC_VERSION: return LAPIC_VERSION_VALUE;
	case LAPIC_TPR: return a->tpr;
	case LAPIC_PPR: return lapic_ppr(a);
	case LAPIC_LDR: return a->ldr;
	case LAPIC_DFR: return a->dfr;
	case LAPIC_SVR: return a->svr;
	case LAPIC_ESR: return a->esr;
	case LAPIC_ICR_LOW: return a->icr_low; /* delivery status always idle */
	case LAPIC_ICR_HIGH: return a->icr_high;
	case LAPIC_TIMER_INITIAL: return a->initial_count;
	case LAPIC_TIMER_CURRENT: return lapic_current_count(a);
	case LAPIC_TIMER_DIVIDE: return a->divide_config;
	default: return 0; /* APR, RRD, reserved */
	}
}

uint32_t lapic_read(struct lapic *a, uint32_t offset, unsigned size)
{
	uint32_t within = offset % LAPIC_REG_SLOT;
	if (within >= LAPIC_REG_BYTES || size == 0)
		return 0;
	uint64_t v = (uint64_t)lapic_read_reg(a, offset - within) >> (8 * within);
	return size >= 4 ? (uint32_t)v : (uint32_t)(v & ((UINT64_C(1) << (8 * size)) - 1));
}

static void lapic_write_svr(struct lapic *a, uint32_t value)
{
	a->svr = value & LAPIC_SVR_MASK;
	/* Software disable masks every LVT entry (§11.4.7.2). */
	if (!lapic_software_enabled(a))
		for (unsigned i = 0; i < LAPIC_NLVT; i++)
			a->lvt[i] |= LAPIC_LVT_MASKED;
}

static void lapic_write_lvt(struct lapic *a, unsigned i, uint32_t value)
{
	enum lapic_timer_mode before = lapic_timer_mode(a);
	a->lvt[i] = value & lvt_writable[i];
	/* While software-disabled, the mask bits cannot be cleared (§11.4.7.2). */
	if (!lapic_software_enabled(a))
		a->lvt[i] |= LAPIC_LVT_MASKED;
	/* Leaving or entering TSC-deadline mode disarms the timer
	 * (§11.5.4.1): the deadline, and the count (which then reads 0 and
	 * waits for a new initial count), so no expiry of the old mode
	 * fires in the new one. */
	enum lapic_timer_mode after = lapic_timer_mode(a);
	if (i == LVT_TIMER && after != before &&
	    (before == LAPIC_TIMER_TSC_DEADLINE || after == LAPIC_TIMER_TSC_DEADLINE)) {
		a->tsc_deadline = 0;
		lapic_timer_load(a, 0);
	}
}

static void lapic_write_reg(struct lapic *a, uint32_t reg, uint32_t value)
{
	if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR) {
		lapic_write_lvt(a, (reg - LAPIC_LVT_TIMER) / LAPIC_REG_SLOT, value);
		return;
	}
	switch (reg) {
	case LAPIC_ID: a->id = value & (0xFFu << LAPIC_ID_SHIFT); break;
	case LAPIC_TPR: a->tpr = value & LAPIC_TPR_MASK; break;
	case LAPIC_EOI: {
		int v = vec_highest(a->isr);
		if (v >= 0)
			vec_clear(a->isr, (uint8_t)v);
		break;
	}
	case LAPIC_LDR: a->ldr = value & LAPIC_LDR_MASK; break;
	case LAPIC_DFR: a->dfr = (value & LAPIC_DFR_MASK) | ~LAPIC_DFR_MASK; break;
	case LAPIC_SVR: lapic_write_svr(a, value); break;
	case LAPIC_ESR: /* a write latches the errors seen since the last one (§11.5.3) */
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		break;
	case LAPIC_ICR_HIGH: a->icr_high = value & (0xFFu << LAPIC_ICR_DEST_SHIFT); break;
	case LAPIC_ICR_LOW:
		a->icr_low = value & LAPIC_ICR_LOW_MASK;
		lapic_send_ipi(a);
		break;
	case LAPIC_TIMER_INITIAL: /* ignored in TSC-deadline mode (§11.5.4.1) */
		if (lapic_timer_mode(a) != LAPIC_TIMER_TSC_DEADLINE)
			lapic_timer_load(a, value);
		break;
	case LAPIC_TIMER_DIVIDE: a->divide_config = value & LAPIC_DIVIDE_MASK; break;
	default: break; /* read-only or reserved */
	}
}

void lapic_write(struct lapic *a, uint32_t offset, unsigned size, uint32_t value)
{
	if (size != LAPIC_REG_BYTES || offset % LAPIC_REG_SLOT != 0)
		return;
	lapic_write_reg(a, offset, value);
}

/* ---- x2APIC mode: the registers as MSRs (§11.12.1.2, Table 11-6). */

static uint32_t x2apic_reg(uint32_t msr)
{
	return (msr - X2APIC_MSR_BASE) * LAPIC_REG_SLOT;
}

static bool lapic_reg_in(uint32_t reg, uint32_t first, unsigned count)
{
	return reg >= first && reg < first + count * LAPIC_REG_SLOT;
}

/* Registers x2APIC mode reads as in xAPIC mode: version, TPR, PPR, LDR,
 * SVR, ESR, the vector arrays, the LVT and the timer's. */
static bool x2apic_readable_as_xapic(uint32_t reg)
{
	switch (reg) {
	case LAPIC_VERSION: case LAPIC_TPR: case LAPIC_PPR: case LAPIC_LDR: case LAPIC_SVR:
	case LAPIC_ESR: case LAPIC_TIMER_INITIAL: case LAPIC_TIMER_CURRENT: case LAPIC_TIMER_DIVIDE:
		return true;
	default:
		return lapic_reg_in(reg, LAPIC_ISR, LAPIC_VECTOR_REGS) ||
		       lapic_reg_in(reg, LAPIC_TMR, LAPIC_VECTOR_REGS) ||
		       lapic_reg_in(reg, LAPIC_IRR, LAPIC_VECTOR_REGS) || lapic_reg_in(reg, LAPIC_LVT_TIMER, LAPIC_NLVT);
	}
}

bool lapic_x2apic_read(struct lapic *a, uint32_t msr, uint64_t *value)
{
	if (!lapic_x2apic_mode(a) || msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_LAST)
		return false;
	uint32_t reg = x2apic_reg(msr);
	if (reg == LAPIC_ID)
		*value = lapic_x2apic_id(a);
	else if (reg == LAPIC_ICR_LOW)
		*value = (uint64_t)a->icr_high << 32 | a->icr_low;
	else if (x2apic_readable_as_xapic(reg))
		*value = lapic_read_reg(a, reg);
	else
		return false;
	return true;
}

/* The bits a WRMSR may set in writable register reg, which is then
 * written as in xAPIC mode; 0 for a register WRMSR cannot write (absent
 * in x2APIC mode, or read-only). EOI and ESR take 0 only. */
static uint64_t x2apic_writable(uint32_t reg)
{
	switch (reg) {
	case LAPIC_TPR: return LAPIC_TPR_MASK;
	case LAPIC_SVR: return LAPIC_SVR_MASK;
	case LAPIC_ICR_LOW: return ~(uint64_t)UINT32_MAX | LAPIC_ICR_LOW_MASK; /* destination, command */
	case LAPIC_TIMER_INITIAL: return UINT32_MAX;
	case LAPIC_TIMER_DIVIDE: return LAPIC_DIVIDE_MASK;
	case LAPIC_SELF_IPI: return LAPIC_ICR_VECTOR;
	default:
		if (lapic_reg_in(reg, LAPIC_LVT_TIMER, LAPIC_NLVT))
			return lvt_writable[(reg - LAPIC_LVT_TIMER) / LAPIC_REG_SLOT];
		return 0;
	}
}

bool lapic_x2apic_write(struct lapic *a, uint32_t msr, uint64_t value)
{
	if (!lapic_x2apic_mode(a) || msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_LAST)
		return false;
	uint32_t reg = x2apic_reg(msr), low = (uint32_t)value;
	if (reg == LAPIC_EOI || reg == LAPIC_ESR) {
		if (value)
			return false;
		lapic_write_reg(a, reg, 0);
		return true;
	}
	/* Reserved bits are RsvdZ: setting one is #GP (§11.12.1.3). */
	uint64_t writable = x2apic_writable(reg);
	if (!writable || (value & ~writable))
		return false;
	if (reg == LAPIC_ICR_LOW) {
		a->icr_high = (uint32_t)(value >> 32);
		a->icr_low = low;
		lapic_send_ipi(a);
	} else if (reg == LAPIC_SELF_IPI) {
		lapic_send_self(a, (uint8_t)low);
	} else {
		lapic_write_reg(a, reg, low);
	}
	return true;
}
