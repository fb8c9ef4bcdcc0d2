/* The guest test images' small library: serial output, debug exit, the
 * IDT and TSS, ring-3 entry. Freestanding 64-bit code, run after boot.S
 * has entered long mode with the first 1 GiB identity-mapped. */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>

#define COM1 0x3F8
#define COM1_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x20
#define DEBUG_EXIT_PORT 0xF4

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS (0x18 | 3)
#define USER_CS (0x20 | 3)
#define TSS_SEL 0x28
#define NOT_PRESENT_DS 0x38

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_NX (1ull << 63)
#define PAGE_SIZE 4096ull

/* Saved by isr.S, lowest address first. */
struct frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*isr_fn)(struct frame *f);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }

void putc_serial(char c);
void puts_serial(const char *s);
void put_hex(uint64_t v);
void put_dec(uint64_t v);
/* "what" then v, in decimal or hexadecimal, then a newline. Inline, so
 * the images that do not use them keep their code where it was (the
 * pinned cycle counts depend on where code lies). */
static inline void report_dec(const char *what, uint64_t v)
{
	puts_serial(what);
	put_dec(v);
	puts_serial("\n");
}
static inline void report_hex(const char *what, uint64_t v)
{
	puts_serial(what);
	put_hex(v);
	puts_serial("\n");
}
__attribute__((noreturn)) void guest_exit(uint32_t v);

/* IDT: every vector → its isr.S stub, a DPL-0 interrupt gate, no IST;
 * every vector's handler the default (print and exit 0x7f). */
void idt_init(void);
void idt_gate(unsigned vector, unsigned dpl, unsigned ist);
void isr_register(unsigned vector, isr_fn fn);
/* Set or clear a gate's present bit. */
void idt_present(unsigned vector, int present);

/* The 64-bit TSS with RSP0 and IST1, loaded into TR; iomap_base is the
 * I/O bit map offset (beyond the limit: no bit map). */
void tss_init(uint64_t rsp0, uint64_t ist1, uint16_t iomap_base);
#define TSS_IOMAP_OFFSET 104 /* the bit map right after the 104-byte TSS */
/* Deny every port to ring 3 but COM1 and the debug-exit port (needs
 * tss_init(..., TSS_IOMAP_OFFSET)). */
void tss_iomap_allow_serial_and_exit(void);

/* iretq to ring 3 at fn with the given stack (RFLAGS.IF = 0, IOPL 0). */
__attribute__((noreturn)) void enter_user(void (*fn)(void), uint64_t user_rsp);

/* The 4-KiB page table entry of va (va < 2 MiB). */
uint64_t *pte_of(uint64_t va);
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Exceptions that a test provokes on purpose: the handler resumes at
 * resume_rip. TRY runs insns with resume_rip set to just after them. */
extern volatile uint64_t resume_rip;
#define TRY(insns) __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, resume_rip(%%rip)\n\t" \
				    insns "\n1:\n" ::: "rax", "rbx", "rcx", "rdx", "memory")
/* A handler that prints "vector V error E" (and "cr2 C" for #PF) and resumes. */
void report_and_resume(struct frame *f);

/* The local APIC's registers (SDM Vol. 3A Table 11-1) at its reset base. */
#define APIC_BASE 0xFEE00000ull
#define APIC_VERSION 0x030
#define APIC_EOI 0x0B0
#define APIC_SVR 0x0F0
#define APIC_LVT_TIMER 0x320
#define APIC_INITIAL_COUNT 0x380
#define APIC_CURRENT_COUNT 0x390
#define APIC_DIVIDE 0x3E0
#define APIC_SVR_ENABLE 0x100
#define APIC_SPURIOUS_VECTOR 0xFF
static inline volatile uint32_t *apic(unsigned reg)
{
	return (volatile uint32_t *)(APIC_BASE + reg);
}
/* For a test of the APIC alone: mask both 8259As and map the APIC page
 * (3-4 GiB by one uncached 1-GiB page). */
void apic_map(void);

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

#endif
