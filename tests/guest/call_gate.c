/* Far CALL through 64-bit call gates (SDM Vol. 3A §5.8.3.1, §5.8.5,
 * §5.8.6): ring 3 calls ring 0 through a DPL 3 gate and lands on the RSP0
 * stack with a null SS, the caller's SS:RSP and CS:RIP pushed; LRETQ goes
 * back to ring 3. A gate to ring 3 code keeps the caller's stack, and a
 * DPL 0 gate is #GP(gate selector) from ring 3. The GDT is a copy of the
 * boot one with the gates added. */
#include "guest.h"

#define GP_VECTOR 13
#define GATE_KERNEL 0x40 /* DPL 3 → KERNEL_CS:gate_kernel */
#define GATE_USER 0x50   /* DPL 3 → USER_CS:gate_user */
#define GATE_DPL0 0x60   /* DPL 0 → KERNEL_CS:gate_kernel */
#define GDT_ENTRIES 14   /* the boot GDT's 8, then three 16-byte gates */
#define BOOT_GDT_ENTRIES 8

/* Call gate (§5.8.3.1, Figure 5-9): type 0xC, present, DPL; 16 bytes. */
#define DESC_TYPE_CALL_GATE 0xCull
#define DESC_PRESENT 0x80ull
#define DESC_DPL_SHIFT 5
#define DESC_ACCESS_SHIFT 40

static uint8_t kstack[PAGE_SIZE] __attribute__((aligned(16)));
static uint8_t user_stack[PAGE_SIZE] __attribute__((aligned(16)));
static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
extern uint64_t gdt64[];
void kmain(uint32_t magic, uint32_t info);

/* The far pointer LCALL reads (m16:32; the offset is ignored for a gate). */
struct __attribute__((packed)) far_ptr { uint32_t offset; uint16_t selector; };
struct far_ptr gate_target;

/* What a far CALL through a 64-bit gate pushes, lowest address first
 * (§5.8.5, Figure 5-13); SS:RSP only with a privilege change. */
struct gate_frame { uint64_t rip, cs, rsp, ss; };

static int within(uint64_t p, const uint8_t *lo, unsigned long n)
{
	return p >= (uint64_t)lo && p < (uint64_t)lo + n;
}

static uint16_t read_cs(void) { uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static uint16_t read_ss(void) { uint16_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }

void in_gate_kernel(const struct gate_frame *f);
void in_gate_kernel(const struct gate_frame *f)
{
	puts_serial("kernel gate: cpl ");
	put_dec(read_cs() & 3);
	puts_serial(", ss ");
	put_hex(read_ss());
	puts_serial(within((uint64_t)f, kstack, sizeof kstack) ? ", on the RSP0 stack" : ", wrong stack");
	puts_serial(", caller cs ");
	put_hex(f->cs);
	puts_serial(" ss ");
	put_hex(f->ss);
	puts_serial(within(f->rsp, user_stack, sizeof user_stack) ? ", user rsp pushed\n" : ", wrong rsp\n");
}

void in_gate_user(const struct gate_frame *f);
void in_gate_user(const struct gate_frame *f)
{
	puts_serial("user gate: cpl ");
	put_dec(read_cs() & 3);
	puts_serial(within((uint64_t)f, user_stack, sizeof user_stack) ? ", on the caller's stack" : ", wrong stack");
	puts_serial(", caller cs ");
	put_hex(f->cs);
	puts_serial("\n");
}

/* Gate entries: RSP points at the pushed frame; 32 or 16 bytes pushed
 * onto a 16-aligned stack keep the C call aligned. */
__asm__(".globl gate_kernel\n"
	"gate_kernel:\n"
	"\tmov %rsp, %rdi\n"
	"\tcall in_gate_kernel\n"
	"\tlretq\n"
	".globl gate_user\n"
	"gate_user:\n"
	"\tmov %rsp, %rdi\n"
	"\tcall in_gate_user\n"
	"\tlretq\n");
void gate_kernel(void);
void gate_user(void);

static void call_gate(unsigned sel, uint16_t cs, void (*fn)(void), unsigned dpl)
{
	uint64_t off = (uint64_t)fn;
	uint64_t access = DESC_TYPE_CALL_GATE | DESC_PRESENT | (uint64_t)dpl << DESC_DPL_SHIFT;
	gdt[sel / 8] = (off & 0xffff) | (uint64_t)cs << 16 | access << DESC_ACCESS_SHIFT |
		       ((off >> 16) & 0xffff) << 48;
	gdt[sel / 8 + 1] = off >> 32;
}

static void gdt_load(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } ptr = {
		sizeof gdt - 1, (uint64_t)gdt,
	};
	for (unsigned i = 0; i < BOOT_GDT_ENTRIES; i++)
		gdt[i] = gdt64[i];
	call_gate(GATE_KERNEL, KERNEL_CS, gate_kernel, 3);
	call_gate(GATE_USER, USER_CS, gate_user, 3);
	call_gate(GATE_DPL0, KERNEL_CS, gate_kernel, 0);
	__asm__ volatile("lgdt %0" :: "m"(ptr) : "memory");
}

/* LCALL through sel; the gate code may clobber what the C ABI lets it. */
#define LCALL(sel) do { \
	gate_target.selector = (sel); \
	__asm__ volatile("lcall *%0" :: "m"(gate_target) \
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory"); \
} while (0)

static void user_main(void)
{
	uint64_t rsp_before, rsp_after;
	puts_serial("in ring ");
	put_dec(read_cs() & 3);
	puts_serial("\n");
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp_before));
	LCALL(GATE_KERNEL);
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp_after));
	puts_serial("back in ring ");
	put_dec(read_cs() & 3);
	puts_serial(", ss ");
	put_hex(read_ss());
	puts_serial(rsp_after == rsp_before ? ", rsp restored\n" : ", rsp changed\n");
	LCALL(GATE_USER);
	puts_serial("dpl 0 gate from ring 3: ");
	TRY("movw $0x60, gate_target+4(%%rip)\n\tlcall *gate_target(%%rip)");
	puts_serial("done\n");
	guest_exit(0);
}

void kmain(uint32_t magic, uint32_t info)
{
	/* The TSS descriptor is written and TR loaded before the GDT is
	 * copied, so the copy holds the busy TSS TR names. */
	tss_init((uint64_t)(kstack + sizeof kstack), 0, TSS_IOMAP_OFFSET);
	tss_iomap_allow_serial_and_exit();
	gdt_load();
	idt_init();
	isr_register(GP_VECTOR, report_and_resume);
	enter_user(user_main, (uint64_t)(user_stack + sizeof user_stack));
}
