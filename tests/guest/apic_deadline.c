/* The local APIC timer in TSC-deadline mode (SDM Vol. 3A §11.5.4.1):
 * CPUID reports the APIC and the mode; each write of IA32_TSC_DEADLINE
 * raises one interrupt once the TSC reaches it, never before, and the MSR
 * then reads 0; a deadline already passed fires at once; a masked timer
 * disarms without an interrupt; a change of timer mode disarms; the
 * initial-count register is ignored in this mode. apic_map() masks the
 * 8259A and maps the APIC page. */
#include "guest.h"

#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define TIMER_VECTOR 0x41
#define MSR_TSC_DEADLINE 0x6E0
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_EDX_APIC (1u << 9)
#define DELAY 50000
#define ROUNDS 3

static volatile uint64_t fired, fired_at;

static void on_timer(struct frame *f)
{
	fired_at = rdtsc();
	fired++;
	*apic(APIC_EOI) = 0;
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	report_dec("cpuid apic ", (d & CPUID1_EDX_APIC) != 0);
	report_dec("cpuid tsc-deadline ", (c & CPUID1_ECX_TSC_DEADLINE) != 0);

	idt_init();
	isr_register(TIMER_VECTOR, on_timer);
	apic_map();
	*apic(APIC_SVR) = APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR;
	*apic(APIC_LVT_TIMER) = LVT_TSC_DEADLINE | TIMER_VECTOR;

	/* Each write: one interrupt, not before the deadline; then 0. */
	uint64_t early = 0;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t before = fired, deadline = rdtsc() + DELAY;
		wrmsr(MSR_TSC_DEADLINE, deadline);
		while (fired == before)
			__asm__ volatile("sti; hlt; cli");
		early += fired_at < deadline;
	}
	report_dec("deadline interrupts ", fired);
	report_dec("early ", early);
	report_dec("reads after firing ", rdmsr(MSR_TSC_DEADLINE));

	/* A deadline already passed fires at once. */
	wrmsr(MSR_TSC_DEADLINE, 1);
	__asm__ volatile("sti; nop; cli");
	report_dec("past deadline interrupts ", fired - ROUNDS);

	/* Initial count: ignored in this mode, the current count reads 0. */
	*apic(APIC_INITIAL_COUNT) = 1000;
	report_dec("initial count ", *apic(APIC_INITIAL_COUNT));
	report_dec("current count ", *apic(APIC_CURRENT_COUNT));

	/* Masked: the deadline passes, the timer disarms, no interrupt. */
	uint64_t count = fired;
	*apic(APIC_LVT_TIMER) = LVT_TSC_DEADLINE | LVT_MASKED | TIMER_VECTOR;
	uint64_t deadline = rdtsc() + DELAY;
	wrmsr(MSR_TSC_DEADLINE, deadline);
	report_dec("armed while masked ", rdmsr(MSR_TSC_DEADLINE) == deadline);
	while (rdtsc() < deadline + DELAY)
		;
	report_dec("masked reads ", rdmsr(MSR_TSC_DEADLINE));
	*apic(APIC_LVT_TIMER) = LVT_TSC_DEADLINE | TIMER_VECTOR;
	__asm__ volatile("sti; nop; cli");
	report_dec("masked interrupts ", fired - count);

	/* Leaving the mode disarms: back in it, nothing is armed. */
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 1000 * DELAY);
	*apic(APIC_LVT_TIMER) = TIMER_VECTOR; /* one-shot */
	report_dec("one-shot mode reads ", rdmsr(MSR_TSC_DEADLINE));
	wrmsr(MSR_TSC_DEADLINE, 5); /* ignored outside the mode */
	*apic(APIC_LVT_TIMER) = LVT_TSC_DEADLINE | TIMER_VECTOR;
	report_dec("after the mode change ", rdmsr(MSR_TSC_DEADLINE));
	guest_exit(0);
}
