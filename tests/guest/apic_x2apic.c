/* The local APIC in x2APIC mode (SDM Vol. 3A §11.12): CPUID reports it;
 * WRMSR of IA32_APIC_BASE with EXTD enters it; the registers are MSRs
 * (ID, version, the logical ID in the LDR, SVR, SELF IPI, EOI, the timer
 * and the 64-bit ICR); an MSR x2APIC mode lacks (DFR), a write of a
 * read-only one (LDR) and the illegal return to xAPIC mode raise #GP(0),
 * and the APIC page is no longer the APIC's. */
#include "guest.h"

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_EXTD (1ull << 10)
#define CPUID1_ECX_X2APIC (1u << 21)
#define X2APIC_ID 0x802
#define X2APIC_VERSION 0x803
#define X2APIC_EOI 0x80B
#define X2APIC_LDR 0x80D
#define X2APIC_DFR 0x80E
#define X2APIC_SVR 0x80F
#define X2APIC_ICR 0x830
#define X2APIC_LVT_TIMER 0x832
#define X2APIC_INITIAL_COUNT 0x838
#define X2APIC_DIVIDE 0x83E
#define X2APIC_SELF_IPI 0x83F
#define LVT_PERIODIC (1u << 17)
#define DIVIDE_BY_1 0xB
#define TIMER_VECTOR 0x40
#define IPI_VECTOR 0x50
#define TIMER_COUNT 50000

static volatile uint64_t ticks, ipis;

static void on_timer(struct frame *f)
{
	ticks++;
	wrmsr(X2APIC_EOI, 0);
}

static void on_ipi(struct frame *f)
{
	ipis++;
	wrmsr(X2APIC_EOI, 0);
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	report_hex("cpuid x2apic ", (c & CPUID1_ECX_X2APIC) != 0);

	idt_init();
	isr_register(TIMER_VECTOR, on_timer);
	isr_register(IPI_VECTOR, on_ipi);
	isr_register(13, report_and_resume);
	apic_map();
	uint64_t base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	report_hex("apic base ", rdmsr(MSR_APIC_BASE));
	report_hex("id ", rdmsr(X2APIC_ID));
	report_hex("version ", rdmsr(X2APIC_VERSION));
	report_hex("ldr ", rdmsr(X2APIC_LDR));
	report_hex("page reads ", *apic(APIC_VERSION));

	wrmsr(X2APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	wrmsr(X2APIC_SELF_IPI, IPI_VECTOR);
	__asm__ volatile("sti; nop; cli");
	wrmsr(X2APIC_ICR, IPI_VECTOR); /* fixed, physical, destination 0: this APIC */
	__asm__ volatile("sti; nop; cli");
	wrmsr(X2APIC_ICR, 1ull << 32 | IPI_VECTOR); /* x2APIC ID 1: nobody */
	__asm__ volatile("sti; nop; cli");
	report_hex("ipis ", ipis);
	report_hex("icr ", rdmsr(X2APIC_ICR));

	wrmsr(X2APIC_DIVIDE, DIVIDE_BY_1);
	wrmsr(X2APIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
	wrmsr(X2APIC_INITIAL_COUNT, TIMER_COUNT);
	while (ticks < 3)
		__asm__ volatile("sti; hlt; cli");
	wrmsr(X2APIC_INITIAL_COUNT, 0);
	report_hex("timer ticks ", ticks);

	puts_serial("rdmsr dfr: ");
	TRY("mov $0x80e, %%ecx\n\trdmsr");
	puts_serial("wrmsr ldr: ");
	TRY("mov $0x80d, %%ecx\n\tmov $2, %%eax\n\txor %%edx, %%edx\n\twrmsr");
	puts_serial("back to xapic: ");
	TRY("mov $0x1b, %%ecx\n\trdmsr\n\tand $~0x400, %%eax\n\twrmsr");
	report_hex("apic base ", rdmsr(MSR_APIC_BASE));
	guest_exit(0);
}
