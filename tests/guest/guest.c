/* The guest library (guest.h). */
#include "guest.h"

volatile uint64_t resume_rip;

void putc_serial(char c)
{
	while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1, (uint8_t)c);
}

void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

void put_hex(uint64_t v)
{
	char buf[19];
	int i = 18;
	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	puts_serial(buf + i);
}

void put_dec(uint64_t v)
{
	char buf[21];
	int i = 20;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_serial(buf + i);
}

void guest_exit(uint32_t v)
{
	outl(DEBUG_EXIT_PORT, v);
	for (;;)
		__asm__ volatile("cli; hlt");
}

#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1
#define PDPTE_PCD 0x10ull
#define PDPTE_PS 0x80ull
#define GIB (1ull << 30)
extern uint64_t pdpt[];

void apic_map(void)
{
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
	pdpt[3] = 3 * GIB | PTE_P | PTE_W | PDPTE_PCD | PDPTE_PS;
	invlpg(APIC_BASE);
}

void *memset(void *d, int c, unsigned long n)
{
	uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

/* ---- IDT (SDM Vol. 3A §6.14.1, Figure 6-8) ---------------------------------- */

struct gate64 {
	uint16_t off0, sel;
	uint8_t ist, type_attr;
	uint16_t off1;
	uint32_t off2, zero;
};
#define GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate */

extern char isr_stubs[];
static struct gate64 idt[256] __attribute__((aligned(16)));
static isr_fn handlers[256];

static void default_handler(struct frame *f)
{
	puts_serial("unexpected vector ");
	put_dec(f->vector);
	puts_serial(" error ");
	put_hex(f->error);
	puts_serial(" rip ");
	put_hex(f->rip);
	puts_serial("\n");
	guest_exit(0x7f);
}

void isr_dispatch(struct frame *f);
void isr_dispatch(struct frame *f)
{
	handlers[f->vector & 0xff](f);
}

void idt_gate(unsigned vector, unsigned dpl, unsigned ist)
{
	uint64_t a = (uint64_t)(isr_stubs + 16 * vector);
	idt[vector] = (struct gate64){
		.off0 = (uint16_t)a, .sel = KERNEL_CS, .ist = (uint8_t)ist,
		.type_attr = (uint8_t)(GATE_INTERRUPT | dpl << 5), .off1 = (uint16_t)(a >> 16),
		.off2 = (uint32_t)(a >> 32),
	};
}

#define GATE_PRESENT 0x80

void idt_present(unsigned vector, int present)
{
	if (present)
		idt[vector].type_attr |= GATE_PRESENT;
	else
		idt[vector].type_attr &= (uint8_t)~GATE_PRESENT;
}

void isr_register(unsigned vector, isr_fn fn)
{
	handlers[vector] = fn;
}

void idt_init(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } p = { sizeof idt - 1, (uint64_t)idt };
	for (unsigned v = 0; v < 256; v++) {
		idt_gate(v, 0, 0);
		handlers[v] = default_handler;
	}
	__asm__ volatile("lidt %0" :: "m"(p));
}

void report_and_resume(struct frame *f)
{
	puts_serial("vector ");
	put_dec(f->vector);
	puts_serial(" error ");
	put_hex(f->error);
	if (f->vector == 14) {
		puts_serial(" cr2 ");
		put_hex(read_cr2());
	}
	puts_serial("\n");
	f->rip = resume_rip;
}

/* ---- TSS (SDM Vol. 3A §8.7, Figure 8-11) ------------------------------------- */

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
};
#define IOMAP_BYTES (8192 + 1)
static struct {
	struct tss64 t;
	uint8_t map[IOMAP_BYTES];
} tss __attribute__((aligned(16)));
extern uint64_t gdt64[];

void tss_init(uint64_t rsp0, uint64_t ist1, uint16_t iomap_base)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
	tss.t.rsp[0] = rsp0;
	tss.t.ist[0] = ist1;
	tss.t.iomap_base = iomap_base;
	/* System descriptor, type 9 (available 64-bit TSS), present. */
	gdt64[TSS_SEL / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
			     ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt64[TSS_SEL / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" :: "r"(TSS_SEL));
}

static void iomap_allow(unsigned port, unsigned n)
{
	for (unsigned p = port; p < port + n; p++)
		tss.map[p / 8] &= (uint8_t)~(1u << (p % 8));
}

void tss_iomap_allow_serial_and_exit(void)
{
	memset(tss.map, 0xFF, sizeof tss.map);
	iomap_allow(COM1, 8);
	iomap_allow(DEBUG_EXIT_PORT, 4);
}

void enter_user(void (*fn)(void), uint64_t user_rsp)
{
	__asm__ volatile("push %0\n\tpush %1\n\tpush $0x2\n\tpush %2\n\tpush %3\n\tiretq"
			 :: "r"((uint64_t)USER_DS), "r"(user_rsp), "r"((uint64_t)USER_CS),
			    "r"((uint64_t)fn) : "memory");
	__builtin_unreachable();
}

extern uint64_t pt0[];
uint64_t *pte_of(uint64_t va)
{
	return &pt0[va / PAGE_SIZE];
}
