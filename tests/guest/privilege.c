/* Privilege changes: ring 3 → ring 0 through interrupt gates (RSP0 from
 * the TSS; IST1 for a gate that names it), SYSCALL/SYSRET, and port I/O
 * from ring 3 checked against the TSS's I/O permission bit map (SDM Vol. 3A
 * §6.14.4, §6.14.5, §5.8.8; Vol. 1 §19.5.2). The bit map allows COM1 and
 * the debug-exit port, so ring 3 prints and exits by itself. */
#include "guest.h"

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_SFMASK 0xC0000084u
#define EFER_SCE 1u
#define RFLAGS_IF 0x200u
#define GP_VECTOR 13
#define DENIED_PORT 0x80

static uint8_t kstack[2 * PAGE_SIZE] __attribute__((aligned(16)));
static uint8_t ist_stack[PAGE_SIZE] __attribute__((aligned(16)));
static uint8_t user_stack[PAGE_SIZE] __attribute__((aligned(16)));
uint64_t syscall_kernel_rsp, syscall_user_rsp;

static int within(const void *p, const uint8_t *lo, unsigned long n)
{
	return (const uint8_t *)p >= lo && (const uint8_t *)p < lo + n;
}

static void on_int80(struct frame *f)
{
	puts_serial("int 0x80 from cpl ");
	put_dec(f->cs & 3);
	puts_serial(within(f, kstack, sizeof kstack) ? ", on the RSP0 stack\n" : ", wrong stack\n");
}

static void on_int81(struct frame *f)
{
	puts_serial("int 0x81 from cpl ");
	put_dec(f->cs & 3);
	puts_serial(within(f, ist_stack, sizeof ist_stack) ? ", on the IST1 stack\n" : ", wrong stack\n");
}

static void on_gp(struct frame *f)
{
	puts_serial("#GP error ");
	put_hex(f->error);
	puts_serial(" from cpl ");
	put_dec(f->cs & 3);
	puts_serial("\n");
	f->rip = resume_rip;
}

void syscall_c(uint64_t arg, uint64_t user_rip);
void syscall_c(uint64_t arg, uint64_t user_rip)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	puts_serial("syscall ");
	put_dec(arg);
	puts_serial(" in cpl ");
	put_dec(cs & 3);
	puts_serial("\n");
}

/* SYSCALL entry: RCX = user RIP, R11 = user RFLAGS, RSP still the user's
 * (SDM Vol. 2 SYSCALL). Switch stacks, call C, return with SYSRETQ. */
__asm__(".globl syscall_entry\n"
	"syscall_entry:\n"
	"\tmov %rsp, syscall_user_rsp(%rip)\n"
	"\tmov syscall_kernel_rsp(%rip), %rsp\n"
	"\tpush %rcx\n\tpush %r11\n"
	"\tmov %rcx, %rsi\n"
	"\tcall syscall_c\n"
	"\tpop %r11\n\tpop %rcx\n"
	"\tmov syscall_user_rsp(%rip), %rsp\n"
	"\tsysretq\n");
void syscall_entry(void);

static void user_main(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	puts_serial("in ring ");
	put_dec(cs & 3);
	puts_serial("\n");
	__asm__ volatile("int $0x80");
	__asm__ volatile("int $0x81");
	__asm__ volatile("syscall" :: "D"(7ull) : "rcx", "r11", "memory");
	puts_serial("back in ring 3 after sysret\n");
	puts_serial("out to a denied port: ");
	TRY("mov $0x80, %%dx\n\tout %%al, %%dx");
	puts_serial("cli in ring 3: ");
	TRY("cli");
	puts_serial("done\n");
	guest_exit(0);
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	idt_init();
	isr_register(0x80, on_int80);
	isr_register(0x81, on_int81);
	isr_register(GP_VECTOR, on_gp);
	idt_gate(0x80, 3, 0);
	idt_gate(0x81, 3, 1);
	tss_init((uint64_t)(kstack + sizeof kstack), (uint64_t)(ist_stack + sizeof ist_stack),
		 TSS_IOMAP_OFFSET);
	tss_iomap_allow_serial_and_exit();

	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
	wrmsr(MSR_EFER, ((uint64_t)hi << 32 | lo) | EFER_SCE);
	/* STAR[47:32]: SYSCALL CS (SS = +8); STAR[63:48]: SYSRET base (SS = +8, CS = +16). */
	wrmsr(MSR_STAR, (uint64_t)KERNEL_CS << 32 | (uint64_t)KERNEL_DS << 48);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, RFLAGS_IF);
	syscall_kernel_rsp = (uint64_t)(kstack + PAGE_SIZE); /* below the RSP0 area's top half */
	enter_user(user_main, (uint64_t)(user_stack + sizeof user_stack));
}
