/* Self-modifying code and an instruction straddling two pages.
 *
 * A function is written into a data page, run, rewritten and run again:
 * the second run must see the new bytes (SDM Vol. 3A §11.6: a write to a
 * code location is seen by the next fetch of it).
 *
 * A 5-byte MOV is placed 2 bytes before the end of a page; with the next
 * page present it runs; with the next page not present, fetching it raises
 * #PF with CR2 = the start of the second page and error code I/D
 * (Figure 4-12; NX is enabled, so fetches report I/D). */
#include "guest.h"

#define PF_VECTOR 14
#define MOV_EAX_IMM32 0xB8
#define RET_OPCODE 0xC3
#define JMP_RCX_0 0xFF
#define JMP_RCX_1 0xE1

static uint8_t code[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t two[2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t target, result;

static void on_pf(struct frame *f)
{
	puts_serial("page fault error ");
	put_hex(f->error);
	puts_serial(read_cr2() == (uint64_t)two[1] ? " cr2 = second page\n" : " cr2 wrong\n");
	f->rip = resume_rip;
}

static void write_mov(uint8_t *p, uint32_t imm)
{
	p[0] = MOV_EAX_IMM32;
	p[1] = (uint8_t)imm;
	p[2] = (uint8_t)(imm >> 8);
	p[3] = (uint8_t)(imm >> 16);
	p[4] = (uint8_t)(imm >> 24);
}

static uint32_t call_code(void)
{
	return ((uint32_t (*)(void))(uintptr_t)code)();
}

static void run_straddle(void)
{
	result = 0;
	TRY("mov target(%%rip), %%rbx\n\tlea 1f(%%rip), %%rcx\n\txor %%eax, %%eax\n\tjmp *%%rbx\n1:\n\tmov %%eax, result(%%rip)");
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	idt_init();
	isr_register(PF_VECTOR, on_pf);

	write_mov(code, 1);
	code[5] = RET_OPCODE;
	uint32_t first = call_code();
	write_mov(code, 2);
	uint32_t second = call_code();
	code[1] = 3; /* only the immediate's low byte */
	uint32_t third = call_code();
	puts_serial("smc ");
	put_dec(first);
	puts_serial(" ");
	put_dec(second);
	puts_serial(" ");
	put_dec(third);
	puts_serial("\n");

	uint8_t *at = two[1] - 2;
	write_mov(at, 42);
	at[5] = JMP_RCX_0;
	at[6] = JMP_RCX_1;
	target = (uint64_t)at;
	run_straddle();
	puts_serial("straddling mov ");
	put_dec(result);
	puts_serial("\n");

	*pte_of((uint64_t)two[1]) &= ~PTE_P;
	invlpg((uint64_t)two[1]);
	run_straddle();
	puts_serial("result after fault ");
	put_dec(result);
	puts_serial("\n");
	guest_exit(0);
}
