/* Exceptions in 64-bit mode: each is provoked on purpose, its handler
 * prints the vector and error code (SDM Vol. 3A §6.15) and resumes after
 * the faulting instruction. #DF is delivered on IST1. */
#include "guest.h"

#define IDT_GP 13
#define IDT_DF 8
#define TSS_NO_IOMAP 0xFFFF

static uint8_t ist_stack[4096] __attribute__((aligned(16)));

static void label(const char *s)
{
	puts_serial(s);
	puts_serial(": ");
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
	label("page not present");
	TRY("mov $0x40000000, %%eax\n\tmov (%%rax), %%rbx");
	label("double fault");
	idt_present(IDT_GP, 0);
	TRY("mov $0x48, %%ax\n\tmov %%ax, %%ds");
	idt_present(IDT_GP, 1);
	label("after double fault");
	TRY("int3");
	puts_serial("done\n");
	guest_exit(0);
}
