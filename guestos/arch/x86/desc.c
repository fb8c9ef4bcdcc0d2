/* GDT, TSS and IDT. SDM Vol. 3A §3.4.5 (segment descriptors), §7.2.3 and
 * §7.7 (64-bit TSS and its descriptor), §6.10 and §6.14.1 (64-bit IDT
 * gates), §6.14.5 (interrupt stack table). */
#include "guestos/arch/x86/desc.h"

#include "guestos/arch/x86/memlayout.h"
#include "guestos/arch/x86/processor-flags.h"
#include "guestos/arch/x86/traps.h"
#include "guestos/lib/string.h"

/* IDT gate fields (in the first 8 bytes of the 16-byte gate). */
#define GATE_TYPE_INTERRUPT 0xE /* IF cleared on entry */
#define GATE_P (1 << 7)

struct tss_struct {
	u32 reserved0;
	u64 sp0, sp1, sp2; /* stacks for a switch to CPL 0..2 */
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 io_bitmap_base;
} __packed;
_Static_assert(sizeof(struct tss_struct) == 104, "SDM Vol. 3A figure 7-11");

struct gate_desc {
	u16 offset_low;
	u16 segment;
	u8 ist;
	u8 type_attr; /* type, DPL, present */
	u16 offset_middle;
	u32 offset_high;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct gate_desc) == 16, "SDM Vol. 3A figure 6-8");

struct desc_ptr {
	u16 size;
	u64 address;
} __packed;

#define KERNEL_STACK_SIZE 16384

static u64 gdt[GDT_ENTRIES] __aligned(16);
static struct tss_struct tss __aligned(16);
static struct gate_desc idt[NR_ENTRY_VECTORS] __aligned(16);
static u8 ist_stacks[2][IST_STACK_SIZE] __aligned(16);
static u8 kernel_stack0[KERNEL_STACK_SIZE] __aligned(16); /* RSP0: entries from CPL 3 */

/* The stubs in entry.S, one per vector. */
extern const u64 exception_stub_table[NR_ENTRY_VECTORS];

static u64 segment_desc(u64 type, unsigned dpl, u64 mode_bits)
{
	return DESC_FLAT | type | ((u64)dpl << DESC_DPL_SHIFT) | mode_bits;
}

/* A 64-bit TSS descriptor occupies two GDT entries: base 63:32 in the second. */
static void set_tss_desc(u64 *entry, const struct tss_struct *t)
{
	u64 base = (u64)t;
	u64 limit = sizeof(*t) - 1;

	entry[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
		   DESC_TYPE_TSS_AVAIL | DESC_P |
		   (((base >> 24) & 0xFF) << 56);
	entry[1] = base >> 32;
}

static void tss_init(void)
{
	memset(&tss, 0, sizeof tss);
	tss.sp0 = (u64)(kernel_stack0 + KERNEL_STACK_SIZE);
	tss.ist[IST_INDEX_DF - 1] = (u64)(ist_stacks[0] + IST_STACK_SIZE);
	tss.ist[IST_INDEX_PF - 1] = (u64)(ist_stacks[1] + IST_STACK_SIZE);
	tss.io_bitmap_base = sizeof tss; /* no I/O bitmap: CPL 3 port access faults */
}

void tss_set_sp0(unsigned long sp0)
{
	tss.sp0 = sp0;
}

/* Reload CS with a far return, then the data segments and TR. */
static void load_segments(void)
{
	__asm__ volatile("pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %[ds], %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "ltr %w[tr]"
			 :
			 : [cs] "i"(__KERNEL_CS), [ds] "i"(__KERNEL_DS), [tr] "r"((u16)__TSS_SEL)
			 : "rax", "memory");
}

void gdt_init(void)
{
	struct desc_ptr ptr = {sizeof gdt - 1, (u64)gdt};

	gdt[GDT_ENTRY_KERNEL32_CS] = segment_desc(DESC_TYPE_CODE_RX, 0, DESC_DB);
	gdt[GDT_ENTRY_KERNEL_CS] = segment_desc(DESC_TYPE_CODE_RX, 0, DESC_L);
	gdt[GDT_ENTRY_KERNEL_DS] = segment_desc(DESC_TYPE_DATA_RW, 0, DESC_DB);
	gdt[GDT_ENTRY_USER32_CS] = segment_desc(DESC_TYPE_CODE_RX, 3, DESC_DB);
	gdt[GDT_ENTRY_USER_DS] = segment_desc(DESC_TYPE_DATA_RW, 3, DESC_DB);
	gdt[GDT_ENTRY_USER_CS] = segment_desc(DESC_TYPE_CODE_RX, 3, DESC_L);
	tss_init();
	set_tss_desc(&gdt[GDT_ENTRY_TSS], &tss);
	__asm__ volatile("lgdt %0" : : "m"(ptr));
	load_segments();
}

static void set_intr_gate(unsigned vector, u64 handler, unsigned ist)
{
	struct gate_desc *g = &idt[vector];

	g->offset_low = (u16)handler;
	g->segment = __KERNEL_CS;
	g->ist = (u8)ist;
	g->type_attr = GATE_TYPE_INTERRUPT | GATE_P; /* DPL 0: INT n from CPL 3 faults */
	g->offset_middle = (u16)(handler >> 16);
	g->offset_high = (u32)(handler >> 32);
	g->reserved = 0;
}

void idt_init(void)
{
	struct desc_ptr ptr = {sizeof idt - 1, (u64)idt};

	for (unsigned v = 0; v < NR_ENTRY_VECTORS; v++)
		set_intr_gate(v, exception_stub_table[v], 0);
	set_intr_gate(X86_TRAP_DF, exception_stub_table[X86_TRAP_DF], IST_INDEX_DF);
	set_intr_gate(X86_TRAP_PF, exception_stub_table[X86_TRAP_PF], IST_INDEX_PF);
	__asm__ volatile("lidt %0" : : "m"(ptr));
}
