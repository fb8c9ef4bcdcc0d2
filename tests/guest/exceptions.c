/* Exceptions in 64-bit mode: each is provoked on purpose, its handler
 * prints the vector and error code (SDM Vol. 3A §6.15) and resumes after
 * the faulting instruction. #DF is delivered on IST1.
 *
 * An instruction that starts on the last page below the non-canonical hole
 * and runs past its end is a #GP(0) raised by the translation of its second
 * part (Vol. 1 §3.3.7.1), not by segmentation, which sees a canonical RIP:
 * the one #GP an MMU trace records as a translation fault.
 *
 * Debug exceptions (Vol. 3B §17.3.1): TF set by POPF traps after every
 * instruction from the next one on, up to and including the POPF that
 * clears it, each with DR6.BS; INT1 is #DB as a trap; a fault pushes
 * RFLAGS with RF = 1 (§17.3.1.1). */
#include "guest.h"

#define IDT_GP 13
#define IDT_DF 8
#define TSS_NO_IOMAP 0xFFFF

static uint8_t ist_stack[4096] __attribute__((aligned(16)));

/* The last canonical page of the lower half, mapped to code_page through
 * tables of its own (PML4 entry 255, then entry 511 at each level). */
#define LAST_LOW_PAGE 0x00007ffffffff000ull
#define PT_INDEX(va, shift) (((va) >> (shift)) & 511)
#define MOVABS_BYTES_ON_PAGE 5
extern uint64_t pml4[];
static uint64_t hole_pdpt[512] __attribute__((aligned(4096)));
static uint64_t hole_pd[512] __attribute__((aligned(4096)));
static uint64_t hole_pt[512] __attribute__((aligned(4096)));
static uint8_t code_page[4096] __attribute__((aligned(4096)));

/* Map LAST_LOW_PAGE and put the first bytes of a MOVABS at its end; the
 * address of that instruction. The image is identity-mapped, so table
 * addresses are physical addresses. */
static uint64_t map_last_low_page(void)
{
	pml4[PT_INDEX(LAST_LOW_PAGE, 39)] = (uint64_t)hole_pdpt | PTE_P | PTE_W;
	hole_pdpt[PT_INDEX(LAST_LOW_PAGE, 30)] = (uint64_t)hole_pd | PTE_P | PTE_W;
	hole_pd[PT_INDEX(LAST_LOW_PAGE, 21)] = (uint64_t)hole_pt | PTE_P | PTE_W;
	hole_pt[PT_INDEX(LAST_LOW_PAGE, 12)] = (uint64_t)code_page | PTE_P | PTE_W;
	uint8_t *insn = code_page + PAGE_SIZE - MOVABS_BYTES_ON_PAGE;
	insn[0] = 0x48; /* REX.W */
	insn[1] = 0xb8; /* MOV RAX, imm64: the rest lies beyond the page */
	return LAST_LOW_PAGE + PAGE_SIZE - MOVABS_BYTES_ON_PAGE;
}

static void label(const char *s)
{
	puts_serial(s);
	puts_serial(": ");
}

static volatile uint64_t target;

#define VEC_DB 1
#define VEC_UD 6
#define RFLAGS_RF_BIT 16
#define DR6_BS_BIT 14
#define DR6_RESET 0xffff0ff0ull

static volatile unsigned steps, steps_bs;

/* A single-step trap: count it, and whether DR6 says so (then clear DR6,
 * which the processor never clears). */
static void count_step(struct frame *f)
{
	uint64_t dr6;
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	steps++;
	steps_bs += (unsigned)(dr6 >> DR6_BS_BIT) & 1;
	__asm__ volatile("mov %0, %%dr6" :: "r"(DR6_RESET));
	(void)f;
}

static void report_rf(struct frame *f)
{
	puts_serial("vector ");
	put_dec(f->vector);
	puts_serial(" rflags.rf ");
	put_dec((f->rflags >> RFLAGS_RF_BIT) & 1);
	puts_serial("\n");
	f->rip = resume_rip;
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	idt_init();
	for (unsigned v = 0; v < 32; v++)
		isr_register(v, report_and_resume);
	tss_init(0, (uint64_t)(ist_stack + sizeof ist_stack), TSS_NO_IOMAP);
	idt_gate(IDT_DF, 0, 1);

	label("divide error");
	TRY("xor %%ecx, %%ecx\n\tmov $1, %%eax\n\txor %%edx, %%edx\n\tdiv %%ecx");
	label("idiv overflow");
	TRY("mov $-1, %%ecx\n\tmov $0x80000000, %%eax\n\tmov $-1, %%edx\n\tidiv %%ecx");
	label("breakpoint");
	TRY("int3");
	label("invalid opcode");
	TRY("ud2");
	label("selector beyond gdt limit");
	TRY("mov $0x48, %%ax\n\tmov %%ax, %%ds");
	label("segment not present");
	TRY("mov $0x38, %%ax\n\tmov %%ax, %%ds");
	label("non-canonical data");
	TRY("movabs $0x0000800000000000, %%rax\n\tmov (%%rax), %%rbx");
	label("non-canonical stack");
	TRY("movabs $0x0000800000000000, %%rax\n\tmov (%%rsp, %%rax), %%rbx");
	label("instruction running into the non-canonical hole");
	target = map_last_low_page();
	TRY("mov target(%%rip), %%rax\n\tjmp *%%rax");
	label("page not present");
	TRY("mov $0x40000000, %%eax\n\tmov (%%rax), %%rbx");
	label("double fault");
	idt_present(IDT_GP, 0);
	TRY("mov $0x48, %%ax\n\tmov %%ax, %%ds");
	idt_present(IDT_GP, 1);
	label("after double fault");
	TRY("int3");

	label("single step");
	isr_register(VEC_DB, count_step);
	__asm__ volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t" /* TF: no trap yet */
			 "nop\n\tnop\n\tnop\n\t"                       /* three traps */
			 "pushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq"      /* three more */
			 ::: "memory", "cc");
	puts_serial("traps ");
	put_dec(steps);
	puts_serial(" with dr6.bs ");
	put_dec(steps_bs);
	puts_serial("\n");
	label("int1");
	isr_register(VEC_DB, report_and_resume);
	TRY(".byte 0xf1");
	label("fault pushes rf");
	isr_register(VEC_UD, report_rf);
	TRY("ud2");
	puts_serial("done\n");
	guest_exit(0);
}
