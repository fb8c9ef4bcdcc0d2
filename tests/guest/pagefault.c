/* Page faults: for each kind the handler prints the error code (SDM Vol.
 * 3A §4.7, Figure 4-12: P, W/R, U/S, RSVD, I/D) and whether CR2 holds the
 * faulting linear address. The pages are 4-KiB pages of pt0, changed one
 * PTE at a time, with INVLPG after every change (§4.10.4.1). */
#include "guest.h"

#define PF_VECTOR 14
#define PTE_RESERVED_51 (1ull << 51) /* above MAXPHYADDR (39): reserved */
#define RET_OPCODE 0xC3

enum { PAGE_NP, PAGE_RO, PAGE_NX, PAGE_RSVD, PAGE_SUPER, NPAGES };
static uint8_t pages[NPAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t user_stack[PAGE_SIZE] __attribute__((aligned(16)));
static uint8_t kstack[PAGE_SIZE] __attribute__((aligned(16)));
static volatile uint64_t target, expect_cr2;

static void on_pf(struct frame *f)
{
	uint64_t cr2 = read_cr2();
	puts_serial("error ");
	put_hex(f->error);
	if (cr2 == expect_cr2) {
		puts_serial(" cr2 ok\n");
	} else {
		puts_serial(" cr2 ");
		put_hex(cr2);
		puts_serial("\n");
	}
	f->rip = resume_rip;
}

static void set_pte(unsigned page, uint64_t set, uint64_t clear)
{
	uint64_t va = (uint64_t)pages[page];
	uint64_t *pte = pte_of(va);
	*pte = (*pte | set) & ~clear;
	invlpg(va);
	target = va + 8;
	expect_cr2 = target;
}

static void on_exit_call(struct frame *f)
{
	puts_serial("done\n");
	guest_exit(0);
}

static void user_part(void)
{
	puts_serial("user read of supervisor page: ");
	TRY("mov target(%%rip), %%rbx\n\tmov (%%rbx), %%al");
	puts_serial("user write of supervisor page: ");
	TRY("mov target(%%rip), %%rbx\n\tmovb $1, (%%rbx)");
	__asm__ volatile("int $0x81");
	for (;;)
		;
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	idt_init();
	isr_register(PF_VECTOR, on_pf);
	isr_register(0x81, on_exit_call);
	idt_gate(0x81, 3, 0);
	tss_init((uint64_t)(kstack + sizeof kstack), 0, TSS_IOMAP_OFFSET);
	tss_iomap_allow_serial_and_exit();

	set_pte(PAGE_NP, 0, PTE_P);
	puts_serial("read of not-present page: ");
	TRY("mov target(%%rip), %%rbx\n\tmov (%%rbx), %%al");
	puts_serial("write of not-present page: ");
	TRY("mov target(%%rip), %%rbx\n\tmovb $1, (%%rbx)");

	set_pte(PAGE_RO, 0, PTE_W);
	puts_serial("read of read-only page: ");
	TRY("mov target(%%rip), %%rbx\n\tmov (%%rbx), %%al");
	puts_serial("none\n");
	puts_serial("write of read-only page: ");
	TRY("mov target(%%rip), %%rbx\n\tmovb $1, (%%rbx)");

	pages[PAGE_NX][8] = RET_OPCODE;
	set_pte(PAGE_NX, PTE_NX, 0);
	puts_serial("fetch from no-execute page: ");
	TRY("mov target(%%rip), %%rbx\n\tlea 1f(%%rip), %%rcx\n\tjmp *%%rbx");

	set_pte(PAGE_RSVD, PTE_RESERVED_51, 0);
	puts_serial("reserved bit set: ");
	TRY("mov target(%%rip), %%rbx\n\tmov (%%rbx), %%al");

	set_pte(PAGE_SUPER, 0, PTE_U);
	enter_user(user_part, (uint64_t)(user_stack + sizeof user_stack));
}
