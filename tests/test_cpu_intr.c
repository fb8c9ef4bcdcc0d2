/* Exceptions delivered through the IDT in 64-bit mode, privilege changes
 * through the TSS, IRETQ, INT n, #DF, triple fault, the system
 * instructions that set this up (LGDT, LIDT, LTR, MOV CR, INVLPG,
 * RDMSR/WRMSR), and the switch from protected mode to long mode with far
 * transfers. The guest's GDT, IDT and TSS are built by the test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/alu.h"
#include "tests/cpu_support.h"

#define GDT (CPU_DATA + 0x8000)
#define IDT (CPU_DATA + 0x9000)
#define TSS (CPU_DATA + 0xa000)
#define DTP (CPU_DATA + 0xb000) /* pseudo-descriptors: GDT at +0, IDT at +16 */
#define RSP0 (CPU_DATA + 0x20000)
#define IST1 (CPU_DATA + 0x28000)
#define USER_STACK (CPU_DATA + 0x30000)
#define USER_CODE (CPU_CODE + 0x1000)
#define HANDLER(v) (CPU_CODE + 0x2000 + (uint64_t)(v) * 0x100)

/* GDT selectors. */
#define KCODE 0x08
#define KDATA 0x10
#define UDATA (0x18 | 3)
#define UCODE (0x20 | 3)
#define TSS_SEL 0x28
#define GDT_ENTRIES 7
#define TSS64_LIMIT 0x67
#define TSS64_RSP0 4
#define TSS64_IST1 0x24
#define GATE_SIZE 16

static uint64_t code_or_data(bool code, unsigned dpl)
{
	uint64_t type = code ? SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE : SEG_TYPE_DATA_WRITABLE;
	return UINT64_C(0xffff) | (type << DESC_TYPE_SHIFT) | BIT64(DESC_S_SHIFT) |
	       ((uint64_t)dpl << DESC_DPL_SHIFT) | BIT64(DESC_P_SHIFT) |
	       (UINT64_C(0xf) << DESC_LIMIT_HI_SHIFT) | BIT64(DESC_G_SHIFT) |
	       (code ? BIT64(DESC_L_SHIFT) : BIT64(DESC_DB_SHIFT));
}

/* The low quadword of the TSS descriptor (available, at TSS); the same
 * layout serves a 32-bit TSS and the first half of a 64-bit one. */
static uint64_t tss_desc_lo(void)
{
	return TSS64_LIMIT | ((TSS & 0xffffff) << DESC_BASE_LO_SHIFT) |
	       ((uint64_t)SYS_TSS_AVAIL << DESC_TYPE_SHIFT) | BIT64(DESC_P_SHIFT) |
	       ((TSS >> 24 & 0xff) << DESC_BASE_HI_SHIFT);
}

static void put64(struct cpu_fixture *f, uint64_t la, uint64_t v)
{
	cpu_fixture_poke(f, la, &v, 8);
}

/* An IDT gate: 64-bit interrupt (or trap) gate to handler in KCODE. */
static void gate(struct cpu_fixture *f, unsigned vector, bool trap, unsigned dpl, unsigned ist,
		 bool present)
{
	uint64_t off = HANDLER(vector);
	uint64_t type = trap ? SYS_TRAP_GATE : SYS_INT_GATE;
	uint64_t lo = (off & 0xffff) | ((uint64_t)KCODE << GATE_SELECTOR_SHIFT) |
		      ((uint64_t)ist << GATE_IST_SHIFT) | (type << DESC_TYPE_SHIFT) |
		      ((uint64_t)dpl << DESC_DPL_SHIFT) | (present ? BIT64(DESC_P_SHIFT) : 0) |
		      ((off >> 16 & 0xffff) << GATE_OFFSET_MID_SHIFT);
	put64(f, IDT + vector * GATE_SIZE, lo);
	put64(f, IDT + vector * GATE_SIZE + 8, off >> 32);
}

static void handler(struct cpu_fixture *f, unsigned vector, const uint8_t *code, size_t n)
{
	cpu_fixture_poke(f, HANDLER(vector), code, n);
}

/* GDT, TSS and the pseudo-descriptors at DTP (IDT limit idt_limit). */
static void tables(struct cpu_fixture *f, uint16_t idt_limit)
{
	uint64_t gdt[GDT_ENTRIES] = {
		0, code_or_data(true, 0), code_or_data(false, 0), code_or_data(false, 3),
		code_or_data(true, 3),
		tss_desc_lo(),
		TSS >> 32,
	};
	cpu_fixture_poke(f, GDT, gdt, sizeof gdt);
	put64(f, TSS + TSS64_RSP0, RSP0);
	put64(f, TSS + TSS64_IST1, IST1);
	uint16_t gdt_limit = sizeof gdt - 1;
	cpu_fixture_poke(f, DTP, &gdt_limit, 2);
	put64(f, DTP + 2, GDT);
	cpu_fixture_poke(f, DTP + 16, &idt_limit, 2);
	put64(f, DTP + 18, IDT);
}

/* A kernel with GDT, IDT (idt_limit), TSS, pseudo-descriptors at DTP and
 * exception delivery on. RBX = DTP. */
static struct cpu_fixture *kernel(const uint8_t *code, size_t n, uint16_t idt_limit)
{
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	tables(f, idt_limit);
	cpu_fixture_code(f, CPU_CODE, code, n);
	f->c.gpr[GPR_RBX] = DTP;
	f->c.deliver_exceptions = true;
	return f;
}

#define IDT_FULL (256 * GATE_SIZE - 1)

/* Kernel: load GDT, IDT, TR; IRETQ to user code at R13 with stack R12. */
static const uint8_t enter_user[] = {
	0x0f, 0x01, 0x13,             /* lgdt [rbx] */
	0x0f, 0x01, 0x5b, 0x10,       /* lidt [rbx + 16] */
	0x66, 0xb8, 0x28, 0x00,       /* mov ax, 0x28 */
	0x0f, 0x00, 0xd8,             /* ltr ax */
	0x6a, 0x1b,                   /* push 0x1b (UDATA) */
	0x41, 0x54,                   /* push r12 */
	0x68, 0x02, 0x02, 0x00, 0x00, /* push 0x202 */
	0x6a, 0x23,                   /* push 0x23 (UCODE) */
	0x41, 0x55,                   /* push r13 */
	0x48, 0xcf,                   /* iretq */
};

static const uint8_t gp_handler[] = {
	0x48, 0x8b, 0x1c, 0x24,       /* mov rbx, [rsp]: error code */
	0x48, 0x8b, 0x54, 0x24, 0x08, /* mov rdx, [rsp + 8]: RIP */
	0xf4,                         /* hlt */
};

static struct cpu_fixture *user_program(const uint8_t *code, size_t n)
{
	struct cpu_fixture *f = kernel(enter_user, sizeof enter_user, IDT_FULL);
	cpu_fixture_poke(f, USER_CODE, code, n);
	f->c.gpr[GPR_R12] = USER_STACK;
	f->c.gpr[GPR_R13] = USER_CODE;
	gate(f, VEC_GP, false, 0, 0, true);
	handler(f, VEC_GP, gp_handler, sizeof gp_handler);
	return f;
}

Test(cpu_intr, user_divide_error_is_delivered_on_rsp0_and_iretq_returns)
{
	static const uint8_t user[] = {
		0x31, 0xc9,                               /* xor ecx, ecx */
		0xf7, 0xf1,                               /* div ecx */
		0x49, 0xc7, 0xc6, 0x77, 0x00, 0x00, 0x00, /* mov r14, 0x77 */
		0xf4,                                     /* hlt: #GP at CPL 3 */
	};
	static const uint8_t de_handler[] = {
		0x49, 0xff, 0xc7,             /* inc r15 */
		0x48, 0x89, 0xe0,             /* mov rax, rsp */
		0x48, 0x83, 0x04, 0x24, 0x02, /* add qword ptr [rsp], 2: skip the div */
		0x48, 0xcf,                   /* iretq */
	};
	struct cpu_fixture *f = user_program(user, sizeof user);
	struct cpu *c = &f->c;
	gate(f, VEC_DE, false, 0, 0, true);
	handler(f, VEC_DE, de_handler, sizeof de_handler);
	c->gpr[GPR_R15] = 0;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_R15], 1, "the #DE handler ran once");
	cr_assert_eq(c->gpr[GPR_R14], 0x77, "user code resumed after the div");
	cr_assert_eq(c->gpr[GPR_RAX], RSP0 - 5 * 8, "frame of five on the TSS's RSP0 stack");
	cr_assert_eq(c->gpr[GPR_RBX], 0, "#GP(0) for HLT at CPL 3");
	cr_assert_eq(c->gpr[GPR_RDX], USER_CODE + sizeof user - 1);
	cr_assert_eq(c->cpl, 0);
	cr_assert_eq(cpu_fixture_peek(f, RSP0 - 8, 8), UDATA, "old SS pushed");
	cr_assert_eq(cpu_fixture_peek(f, RSP0 - 16, 8), USER_STACK, "old RSP pushed");
	cr_assert_eq(cpu_fixture_peek(f, RSP0 - 32, 8), UCODE, "old CS pushed");
	cr_assert_eq(c->mmu.seg.sr[SEG_SS].selector, 0, "SS is null at CPL 0 after the change");
	cr_assert_eq(c->rflags & RFLAGS_IF, 0, "interrupt gate cleared IF");
	cpu_fixture_free(f);
}

Test(cpu_intr, page_fault_is_delivered_with_cr2_and_error_code)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,       /* lgdt [rbx] */
		0x0f, 0x01, 0x5b, 0x10, /* lidt [rbx + 16] */
		0x66, 0xb8, 0x28, 0x00, /* mov ax, 0x28 */
		0x0f, 0x00, 0xd8,       /* ltr ax: the TSS holds IST1 */
		0x48, 0x8b, 0x06,       /* mov rax, [rsi] */
		0xf4,                   /* hlt */
	};
	static const uint8_t pf_handler[] = {
		0x0f, 0x20, 0xd0,       /* mov rax, cr2 */
		0x48, 0x8b, 0x1c, 0x24, /* mov rbx, [rsp]: error code */
		0xf4,                   /* hlt */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	struct cpu *c = &f->c;
	gate(f, VEC_PF, false, 0, 1, true);
	handler(f, VEC_PF, pf_handler, sizeof pf_handler);
	c->gpr[GPR_RSI] = CPU_MAPPED_END + 0x123;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_RAX], CPU_MAPPED_END + 0x123);
	cr_assert_eq(c->gpr[GPR_RBX], 0, "not present, read, supervisor");
	cr_assert_eq(c->gpr[GPR_RSP], IST1 - 6 * 8, "IST1 stack, frame with error code");
	cr_assert_eq(c->rip, HANDLER(VEC_PF) + sizeof pf_handler);
	cpu_fixture_free(f);
}

Test(cpu_intr, fault_while_delivering_page_fault_becomes_double_fault)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,       /* lgdt [rbx] */
		0x0f, 0x01, 0x5b, 0x10, /* lidt [rbx + 16] */
		0x48, 0x8b, 0x06,       /* mov rax, [rsi] */
		0xf4,                   /* hlt */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	struct cpu *c = &f->c;
	gate(f, VEC_PF, false, 0, 0, false); /* not present: #NP during #PF delivery */
	gate(f, VEC_DF, false, 0, 0, true);
	handler(f, VEC_DF, gp_handler, sizeof gp_handler);
	c->gpr[GPR_RSI] = CPU_MAPPED_END;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->rip, HANDLER(VEC_DF) + sizeof gp_handler, "the #DF handler ran");
	cr_assert_eq(c->gpr[GPR_RBX], 0, "#DF pushes error code 0");
	cr_assert_eq(c->gpr[GPR_RDX], CPU_CODE + 7, "RIP of the faulting mov");
	cpu_fixture_free(f);
}

Test(cpu_intr, fault_while_delivering_double_fault_is_a_triple_fault)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,       /* lgdt [rbx] */
		0x0f, 0x01, 0x5b, 0x10, /* lidt [rbx + 16] with limit 0 */
		0x0f, 0x0b,             /* ud2 */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, 0);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_TRIPLE_FAULT);
	cr_assert_not_null(f->c.stop_msg);
	cr_assert(strstr(f->c.stop_msg, "triple fault"), "%s", f->c.stop_msg);
	cr_assert_eq(f->c.rip, CPU_CODE + 7, "state of the instruction that started it");
	cpu_fixture_free(f);
}

Test(cpu_intr, int_n_through_user_gate_and_int3_through_kernel_gate)
{
	static const uint8_t user[] = {
		0xcd, 0x80,                               /* int 0x80 */
		0x49, 0xc7, 0xc6, 0x55, 0x00, 0x00, 0x00, /* mov r14, 0x55 */
		0xcc,                                     /* int3: gate DPL 0 → #GP */
	};
	static const uint8_t h80[] = {
		0x49, 0xff, 0xc7, /* inc r15 */
		0x48, 0xcf,       /* iretq */
	};
	struct cpu_fixture *f = user_program(user, sizeof user);
	struct cpu *c = &f->c;
	gate(f, 0x80, true, 3, 0, true);
	handler(f, 0x80, h80, sizeof h80);
	gate(f, VEC_BP, false, 0, 0, true);
	c->gpr[GPR_R15] = 0;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_R15], 1);
	cr_assert_eq(c->gpr[GPR_R14], 0x55, "INT n returns to the next instruction");
	cr_assert_eq(c->gpr[GPR_RBX], VEC_BP * 8 + SEG_EC_IDT, "#GP(vector * 8 + 2)");
	cr_assert_eq(c->gpr[GPR_RDX], USER_CODE + sizeof user - 1, "RIP of the INT3");
	cpu_fixture_free(f);
}

Test(cpu_intr, exceptions_stop_the_loop_when_delivery_is_off)
{
	static const uint8_t code[] = {
		0x0f, 0x0b, /* ud2 */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	f->c.deliver_exceptions = false;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_UD);
	cpu_fixture_free(f);
}

#define REMAP_PAGE (CPU_DATA + 0x40000)
#define REMAP_OTHER (CPU_DATA + 0x41000)
#define INVPCID_DESC (CPU_DATA + 0x100)

/* Code that reads REMAP_PAGE (RSI), rewrites its PTE through a window
 * (RDI = new PTE value RDX), reads again, invalidates, reads again. */
static struct cpu_fixture *remap_machine(const uint8_t *code, size_t n)
{
	struct cpu_fixture *f = cpu_fixture_with_code(code, n);
	struct cpu *c = &f->c;
	const uint64_t pte = ptb_entry_pa(&f->pt, REMAP_PAGE, 1), window = CPU_MAPPED_END;
	cr_assert(ptb_map(&f->pt, window, pte & ~(PHYS_FRAME_SIZE - 1), PG_4K, PTE_P | PTE_RW,
			  PTE_P | PTE_RW | PTE_US));
	put64(f, REMAP_PAGE, 0x1111);
	put64(f, REMAP_OTHER, 0x2222);
	put64(f, INVPCID_DESC, 0);
	put64(f, INVPCID_DESC + 8, REMAP_PAGE);
	c->gpr[GPR_RSI] = REMAP_PAGE;
	c->gpr[GPR_RDI] = window + (pte & (PHYS_FRAME_SIZE - 1));
	c->gpr[GPR_RDX] = REMAP_OTHER | PTE_P | PTE_RW | PTE_US;
	c->gpr[GPR_R8] = INVPCID_DESC;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_RAX], 0x1111);
	cr_assert_eq(c->gpr[GPR_RBX], 0x1111, "the TLB still holds the old translation");
	cr_assert_eq(c->gpr[GPR_RCX], 0x2222, "the invalidation dropped it");
	return f;
}

Test(cpu_intr, invlpg_and_cr3_reload_make_new_translations_visible)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x06,       /* mov rax, [rsi] */
		0x48, 0x89, 0x17,       /* mov [rdi], rdx: rewrite the PTE */
		0x48, 0x8b, 0x1e,       /* mov rbx, [rsi]: stale TLB entry */
		0x0f, 0x01, 0x3e,       /* invlpg [rsi] */
		0x48, 0x8b, 0x0e,       /* mov rcx, [rsi]: new page */
		0x41, 0x0f, 0x20, 0xd8, /* mov r8, cr3 */
		0x41, 0x0f, 0x22, 0xd8, /* mov cr3, r8 */
		0x41, 0x0f, 0x20, 0xc1, /* mov r9, cr0 */
		0xf4,                   /* hlt */
	};
	struct cpu_fixture *f = remap_machine(code, sizeof code);
	cr_assert_eq(f->c.gpr[GPR_R8], f->c.mmu.cr3);
	cr_assert_eq(f->c.gpr[GPR_R9], f->c.mmu.cr0);
	cpu_fixture_free(f);
}

Test(cpu_intr, invpcid_individual_address_makes_new_translation_visible)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x06,                   /* mov rax, [rsi] */
		0x48, 0x89, 0x17,                   /* mov [rdi], rdx: rewrite the PTE */
		0x48, 0x8b, 0x1e,                   /* mov rbx, [rsi]: stale TLB entry */
		0xb9, 0x00, 0x00, 0x00, 0x00,       /* mov ecx, 0: individual address */
		0x66, 0x41, 0x0f, 0x38, 0x82, 0x08, /* invpcid rcx, [r8] */
		0x48, 0x8b, 0x0e,                   /* mov rcx, [rsi]: new page */
		0xf4,                               /* hlt */
	};
	cpu_fixture_free(remap_machine(code, sizeof code));
}

Test(cpu_intr, wrmsr_fs_base_and_unknown_msr_raises_gp)
{
	static const uint8_t code[] = {
		0xb9, 0x00, 0x01, 0x00, 0xc0,                         /* mov ecx, 0xc0000100 */
		0xb8, 0x00, 0x00, 0x60, 0x00,                         /* mov eax, 0x600000 */
		0x31, 0xd2,                                           /* xor edx, edx */
		0x0f, 0x30,                                           /* wrmsr: FS_BASE */
		0x64, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00, /* mov rax, fs:[8] */
		0xb9, 0x34, 0x12, 0x00, 0x00,                         /* mov ecx, 0x1234 */
		0x0f, 0x32,                                           /* rdmsr */
	};
	struct cpu_fixture *f = cpu_fixture_with_code(code, sizeof code);
	put64(f, CPU_DATA + 8, 0xfeed);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.gpr[GPR_RAX], 0xfeed);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cr_assert_eq(f->c.exc.rip, CPU_CODE + sizeof code - 2);
	cpu_fixture_free(f);
}

Test(cpu_intr, system_instructions_at_cpl3_raise_gp)
{
	static const uint8_t user[] = {
		0x0f, 0x22, 0xd8, /* mov cr3, rax */
	};
	struct cpu_fixture *f = user_program(user, sizeof user);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RDX], USER_CODE, "#GP at the MOV to CR3");
	cpu_fixture_free(f);
}

/* The way a Multiboot kernel enters long mode: from 32-bit protected mode
 * without paging, PAE, CR3, EFER.LME, CR0.PG (compatibility mode), then a
 * far jump to a 64-bit code segment; data segments reloaded there. */
Test(cpu_intr, protected_mode_enters_long_mode_through_far_jump)
{
	static const uint8_t entry32[] = {
		0x0f, 0x01, 0x13,                         /* lgdt [ebx] */
		0x0f, 0x20, 0xe0,                         /* mov eax, cr4 */
		0x83, 0xc8, 0x20,                         /* or eax, CR4.PAE */
		0x0f, 0x22, 0xe0,                         /* mov cr4, eax */
		0x0f, 0x22, 0xde,                         /* mov cr3, esi */
		0xb9, 0x80, 0x00, 0x00, 0xc0,             /* mov ecx, IA32_EFER */
		0x0f, 0x32,                               /* rdmsr */
		0x0d, 0x00, 0x01, 0x00, 0x00,             /* or eax, EFER.LME */
		0x0f, 0x30,                               /* wrmsr */
		0x0f, 0x20, 0xc0,                         /* mov eax, cr0 */
		0x0d, 0x00, 0x00, 0x00, 0x80,             /* or eax, CR0.PG */
		0x0f, 0x22, 0xc0,                         /* mov cr0, eax */
		0xea, 0x00, 0x01, 0x40, 0x00, 0x08, 0x00, /* jmp 0x08:0x400100 */
	};
	static const uint8_t long64[] = {
		0x66, 0xb8, 0x10, 0x00,                                     /* mov ax, 0x10 */
		0x8e, 0xd8,                                                 /* mov ds, ax */
		0x8e, 0xd0,                                                 /* mov ss, ax */
		0x48, 0xb8, 0x89, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00, /* mov rax, 0x123456789 */
		0x50,                                                       /* push rax */
		0x5b,                                                       /* pop rbx */
		0x6a, 0x08,                                                 /* push 0x08 */
		0x48, 0x8d, 0x05, 0x04, 0x00, 0x00, 0x00,                   /* lea rax, [rip + 4] */
		0x50,                                                       /* push rax */
		0x48, 0xcb,                                                 /* retfq: to the mov */
		0xf4,                                                       /* hlt (skipped) */
		0x49, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00,                   /* mov r8, 1 */
		0xf4,                                                       /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_new_flat32("flat");
	struct cpu *c = &f->c;
	tables(f, IDT_FULL);
	cpu_fixture_code(f, CPU_CODE, entry32, sizeof entry32);
	cpu_fixture_poke(f, CPU_CODE + 0x100, long64, sizeof long64);
	c->gpr[GPR_RBX] = DTP;
	c->gpr[GPR_RSI] = ptb_cr3(&f->pt, 0);
	c->gpr[GPR_R8] = 0;
	cr_assert_eq(c->mode, CPU_MODE_PROT32);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->mode, CPU_MODE_64);
	cr_assert(c->mmu.efer & EFER_LMA, "CR0.PG with EFER.LME activates IA-32e mode");
	cr_assert_eq(c->gpr[GPR_RBX], 0x123456789);
	cr_assert_eq(c->gpr[GPR_R8], 1, "far return to 64-bit code");
	cr_assert_eq(c->mmu.seg.sr[SEG_SS].selector, KDATA);
	cr_assert_eq(c->mmu.seg.sr[SEG_CS].selector, KCODE);
	cpu_fixture_free(f);
}

#define SYSCALL_ENTRY (CPU_CODE + 0x8000)
#define STAR_VALUE ((uint64_t)KDATA << 48 | (uint64_t)KCODE << 32)

Test(cpu_intr, syscall_enters_kernel_and_sysret_returns_to_user)
{
	static const uint8_t user[] = {
		0x0f, 0x05,       /* syscall */
		0x49, 0x89, 0xc9, /* mov r9, rcx */
		0xf4,             /* hlt: #GP at CPL 3 ends the test */
	};
	static const uint8_t entry[] = {
		0x49, 0xc7, 0xc0, 0x07, 0x00, 0x00, 0x00, /* mov r8, 7 */
		0x4d, 0x89, 0xda,                         /* mov r10, r11 */
		0x48, 0x0f, 0x07,                         /* sysretq */
	};
	struct cpu_fixture *f = user_program(user, sizeof user);
	struct cpu *c = &f->c;
	cpu_fixture_poke(f, SYSCALL_ENTRY, entry, sizeof entry);
	c->mmu.efer |= EFER_SCE;
	c->msr.star = STAR_VALUE;
	c->msr.lstar = SYSCALL_ENTRY;
	c->msr.sfmask = RFLAGS_IF;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_R8], 7, "the kernel entry ran");
	cr_assert_eq(c->gpr[GPR_R9], USER_CODE + 2, "RCX held the return address");
	cr_assert(c->gpr[GPR_R10] & RFLAGS_IF, "R11 held the user RFLAGS");
	cr_assert_eq(c->gpr[GPR_RDX], USER_CODE + 5, "back in user mode: HLT faulted there");
	cr_assert_eq(cpu_fixture_peek(f, RSP0 - 32, 8), UCODE, "SYSRET loaded the user CS");
	cpu_fixture_free(f);
}

Test(cpu_intr, syscall_without_efer_sce_raises_ud)
{
	static const uint8_t code[] = {
		0x0f, 0x05, /* syscall */
	};
	struct cpu_fixture *f = cpu_fixture_with_code(code, sizeof code);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_UD);
	cpu_fixture_free(f);
}

Test(cpu_intr, cpuid_reports_vendor_and_long_mode_and_rdtsc_counts_cycles)
{
	static const uint8_t code[] = {
		0x31, 0xc0,                   /* xor eax, eax */
		0x0f, 0xa2,                   /* cpuid */
		0x41, 0x89, 0xd8,             /* mov r8d, ebx */
		0xb8, 0x01, 0x00, 0x00, 0x80, /* mov eax, 0x80000001 */
		0x0f, 0xa2,                   /* cpuid */
		0x41, 0x89, 0xd1,             /* mov r9d, edx */
		0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
		0x0f, 0xa2,                   /* cpuid */
		0x41, 0x89, 0xd3,             /* mov r11d, edx */
		0x0f, 0x31,                   /* rdtsc */
		0x48, 0xc1, 0xe2, 0x20,       /* shl rdx, 32 */
		0x48, 0x09, 0xd0,             /* or rax, rdx */
		0x49, 0x89, 0xc2,             /* mov r10, rax */
		0x0f, 0x31,                   /* rdtsc */
		0xf4,                         /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_with_code(code, sizeof code);
	struct cpu *c = &f->c;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_R8], 0x6c756d6d, "\"mmul\"");
	cr_assert(c->gpr[GPR_R9] & BIT64(29), "long mode");
	cr_assert(c->gpr[GPR_R9] & BIT64(11), "SYSCALL");
	cr_assert(c->gpr[GPR_R11] & BIT64(2), "DE: I/O breakpoints and CR4.DE");
	cr_assert_not(c->gpr[GPR_R11] & BIT64(0), "no FPU: only its control words are kept");
	uint64_t second = c->gpr[GPR_RDX] << 32 | c->gpr[GPR_RAX];
	cr_assert_gt(second, c->gpr[GPR_R10], "the counter advanced");
	cr_assert_leq(second, c->cycles);
	cpu_fixture_free(f);
}

/* ---- protected mode ------------------------------------------------------ */

#define TSS32_ESP0 4
#define TSS32_SS0 8
#define GATE32_SIZE 8

static uint64_t segment32(bool code, unsigned dpl)
{
	return (code_or_data(code, dpl) & ~BIT64(DESC_L_SHIFT)) | BIT64(DESC_DB_SHIFT);
}

static void gate32(struct cpu_fixture *f, unsigned vector, bool trap, unsigned dpl)
{
	uint64_t off = HANDLER(vector);
	uint64_t type = trap ? SYS_TRAP_GATE : SYS_INT_GATE;
	put64(f, IDT + vector * GATE32_SIZE,
	      (off & 0xffff) | ((uint64_t)KCODE << GATE_SELECTOR_SHIFT) | (type << DESC_TYPE_SHIFT) |
		      ((uint64_t)dpl << DESC_DPL_SHIFT) | BIT64(DESC_P_SHIFT) |
		      ((off >> 16 & 0xffff) << GATE_OFFSET_MID_SHIFT));
}

/* 32-bit protected mode without paging: ring 3 runs INT 0x80 through a
 * DPL 3 trap gate onto SS0:ESP0 from the TSS, IRETD returns, then HLT at
 * CPL 3 is a #GP delivered with its error code. */
Test(cpu_intr, protected_mode_delivers_through_tss_stack_and_iretd_returns)
{
	static const uint8_t entry[] = {
		0x0f, 0x01, 0x13,             /* lgdt [ebx] */
		0x0f, 0x01, 0x5b, 0x10,       /* lidt [ebx + 16] */
		0x66, 0xb8, 0x28, 0x00,       /* mov ax, 0x28 */
		0x0f, 0x00, 0xd8,             /* ltr ax */
		0x6a, 0x1b,                   /* push 0x1b (UDATA) */
		0x56,                         /* push esi */
		0x68, 0x02, 0x02, 0x00, 0x00, /* push 0x202 */
		0x6a, 0x23,                   /* push 0x23 (UCODE) */
		0x57,                         /* push edi */
		0xcf,                         /* iretd */
	};
	static const uint8_t user[] = {
		0xcd, 0x80,                   /* int 0x80 */
		0xbd, 0x55, 0x00, 0x00, 0x00, /* mov ebp, 0x55 */
		0xf4,                         /* hlt */
	};
	static const uint8_t h80[] = {
		0x41, /* inc ecx */
		0xcf, /* iretd */
	};
	static const uint8_t gp32[] = {
		0x8b, 0x1c, 0x24,       /* mov ebx, [esp] */
		0x8b, 0x54, 0x24, 0x04, /* mov edx, [esp + 4] */
		0xf4,                   /* hlt */
	};
	uint64_t gdt[GDT_ENTRIES] = {
		0, segment32(true, 0), segment32(false, 0), segment32(false, 3), segment32(true, 3),
		tss_desc_lo(),
		0,
	};
	struct cpu_fixture *f = cpu_fixture_new_flat32("flat");
	struct cpu *c = &f->c;
	tables(f, 256 * GATE32_SIZE - 1);
	cpu_fixture_poke(f, GDT, gdt, sizeof gdt);
	put64(f, TSS + TSS32_ESP0, RSP0);
	put64(f, TSS + TSS32_SS0, KDATA);
	gate32(f, 0x80, true, 3);
	gate32(f, VEC_GP, false, 0);
	handler(f, 0x80, h80, sizeof h80);
	handler(f, VEC_GP, gp32, sizeof gp32);
	cpu_fixture_code(f, CPU_CODE, entry, sizeof entry);
	cpu_fixture_poke(f, USER_CODE, user, sizeof user);
	c->deliver_exceptions = true;
	c->gpr[GPR_RBX] = DTP;
	c->gpr[GPR_RSI] = USER_STACK;
	c->gpr[GPR_RDI] = USER_CODE;
	c->gpr[GPR_RCX] = 0;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->mode, CPU_MODE_PROT32);
	cr_assert_eq(c->gpr[GPR_RCX], 1, "the INT 0x80 handler ran");
	cr_assert_eq(c->gpr[GPR_RBP], 0x55, "IRETD returned after the INT");
	cr_assert_eq(c->gpr[GPR_RBX], 0, "#GP(0)");
	cr_assert_eq(c->gpr[GPR_RDX], USER_CODE + sizeof user - 1, "EIP of the HLT");
	cr_assert_eq(c->gpr[GPR_RSP], RSP0 - 6 * 4, "SS0:ESP0 stack, six 4-byte entries");
	cr_assert_eq(cpu_fixture_peek(f, RSP0 - 4, 4), UDATA, "old SS");
	cr_assert_eq(c->mmu.seg.sr[SEG_SS].selector, KDATA);
	cpu_fixture_free(f);
}

/* ---- external interrupts ------------------------------------------------- */

#define TIMER_VECTOR 0x20

Test(cpu_intr, sti_shadow_holds_interrupts_for_one_instruction_then_one_is_delivered)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,       /* lgdt [rbx] */
		0x0f, 0x01, 0x5b, 0x10, /* lidt [rbx + 16] */
		0xfb,                   /* sti */
		0x90,                   /* nop: in the STI shadow */
		0x90,                   /* nop */
		0xf4,                   /* hlt */
	};
	static const uint8_t isr[] = {
		0x49, 0xff, 0xc7, /* inc r15 */
		0x48, 0xcf,       /* iretq */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	struct cpu *c = &f->c;
	gate(f, TIMER_VECTOR, false, 0, 0, true);
	handler(f, TIMER_VECTOR, isr, sizeof isr);
	c->gpr[GPR_R15] = 0;
	cr_assert_eq(cpu_run(c, 3), CPU_STOP_LIMIT);
	cr_assert_not(cpu_interrupts_enabled(c), "right after STI");
	cr_assert_eq(cpu_run(c, 1), CPU_STOP_LIMIT);
	cr_assert(cpu_interrupts_enabled(c), "one instruction later");
	cr_assert(cpu_interrupt(c, TIMER_VECTOR));
	cr_assert_eq(c->rip, HANDLER(TIMER_VECTOR));
	cr_assert_not(cpu_interrupts_enabled(c), "the interrupt gate cleared IF");
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_R15], 1);
	cr_assert_eq(c->rip, CPU_CODE + sizeof code, "resumed at the second NOP, then HLT");
	cr_assert(cpu_interrupts_enabled(c), "IRETQ restored IF");
	cpu_fixture_free(f);
}

Test(cpu_intr, fences_hints_and_small_system_instructions)
{
	static const uint8_t code[] = {
		0x0f, 0xae, 0xf0,       /* mfence */
		0x0f, 0xae, 0xe8,       /* lfence */
		0x0f, 0xae, 0xf8,       /* sfence */
		0x0f, 0x18, 0x08,       /* prefetcht0 [rax]: no access, no fault */
		0x0f, 0xae, 0x38,       /* clflush [rax] */
		0x0f, 0x09,             /* wbinvd */
		0x0f, 0x06,             /* clts */
		0x0f, 0x00, 0xc9,       /* str ecx */
		0x0f, 0x00, 0x03,       /* sldt word ptr [rbx] */
		0xf4,                   /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_with_code(code, sizeof code);
	struct cpu *c = &f->c;
	c->gpr[GPR_RAX] = CPU_MAPPED_END; /* not mapped */
	c->gpr[GPR_RBX] = CPU_DATA;
	c->gpr[GPR_RCX] = UINT64_MAX;
	c->mmu.seg.tr.selector = TSS_SEL;
	c->mmu.seg.ldtr.selector = 0x38;
	c->mmu.cr0 |= CR0_TS;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_RCX], TSS_SEL);
	cr_assert_eq(cpu_fixture_peek(f, CPU_DATA, 2), 0x38);
	cr_assert_eq(c->mmu.cr0 & CR0_TS, 0, "CLTS cleared CR0.TS");
	cpu_fixture_free(f);
}

#define COMPAT_CODE 0x38 /* GDT entry 7, added by the test below */

/* 64-bit code far-jumps through an m16:32 pointer to a 32-bit code
 * segment (compatibility mode), which runs 32-bit code on the 32-bit
 * stack and far-jumps back to 64-bit code. */
Test(cpu_intr, far_jumps_between_64bit_and_compatibility_mode)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,                   /* lgdt [rbx] */
		0xff, 0x2d, 0x10, 0x00, 0x00, 0x00, /* jmp fword ptr [rip + 0x10] */
	};
	static const uint8_t compat[] = {
		0xb8, 0x05, 0x00, 0x00, 0x00,             /* mov eax, 5 */
		0x50,                                     /* push eax */
		0x59,                                     /* pop ecx */
		0xea, 0x00, 0x01, 0x40, 0x00, 0x08, 0x00, /* jmp 0x08:0x400100 */
	};
	static const uint8_t back64[] = {
		0x48, 0xc7, 0xc2, 0x77, 0x00, 0x00, 0x00, /* mov rdx, 0x77 */
		0xf4,                                     /* hlt */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	struct cpu *c = &f->c;
	const uint16_t gdt_limit = 8 * 8 - 1;
	const uint32_t compat_at = (uint32_t)(CPU_CODE + 0x200);
	put64(f, GDT + COMPAT_CODE, segment32(true, 0));
	cpu_fixture_poke(f, DTP, &gdt_limit, 2);
	cpu_fixture_poke(f, CPU_CODE + 0x19, &compat_at, 4);
	cpu_fixture_poke(f, CPU_CODE + 0x1d, (const uint16_t[]){ COMPAT_CODE }, 2);
	cpu_fixture_poke(f, compat_at, compat, sizeof compat);
	cpu_fixture_poke(f, CPU_CODE + 0x100, back64, sizeof back64);
	c->gpr[GPR_RCX] = UINT64_MAX;
	cr_assert_eq(cpu_run(c, 2), CPU_STOP_LIMIT);
	cr_assert_eq(c->mode, CPU_MODE_COMPAT32);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->mode, CPU_MODE_64);
	cr_assert_eq(c->gpr[GPR_RCX], 5, "32-bit POP zero-extends into RCX");
	cr_assert_eq(c->gpr[GPR_RDX], 0x77);
	cr_assert_eq(c->gpr[GPR_RSP], CPU_STACK_TOP);
	cpu_fixture_free(f);
}

Test(cpu_intr, lss_and_lfs_load_segment_and_offset)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,       /* lgdt [rbx] */
		0x48, 0x0f, 0xb2, 0x26, /* lss rsp, [rsi]: m16:64 */
		0x0f, 0xb4, 0x46, 0x10, /* lfs eax, [rsi + 16]: m16:32 */
		0x8c, 0xe1,             /* mov ecx, fs */
		0xf4,                   /* hlt */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	struct cpu *c = &f->c;
	const uint64_t ptrs = CPU_DATA + 0x200;
	put64(f, ptrs, CPU_STACK_TOP - 0x100);
	put64(f, ptrs + 8, KDATA);
	put64(f, ptrs + 16, (uint64_t)KDATA << 32 | 0x1234);
	c->gpr[GPR_RSI] = ptrs;
	c->mmu.seg.sr[SEG_FS].selector = 0;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_RSP], CPU_STACK_TOP - 0x100);
	cr_assert_eq(c->gpr[GPR_RAX], 0x1234);
	cr_assert_eq(c->gpr[GPR_RCX], KDATA, "FS holds the loaded selector");
	cpu_fixture_free(f);
}

Test(cpu_intr, debug_registers_hold_values_and_dr5_aliases_dr7)
{
	static const uint8_t code[] = {
		0x0f, 0x23, 0xf8, /* mov dr7, rax */
		0x0f, 0x21, 0xfb, /* mov rbx, dr7 */
		0x0f, 0x21, 0xe9, /* mov rcx, dr5: DR7 while CR4.DE = 0 */
		0xf4,             /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_with_code(code, sizeof code);
	f->c.gpr[GPR_RAX] = 0x401;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RBX], 0x401);
	cr_assert_eq(f->c.gpr[GPR_RCX], 0x401);
	cpu_fixture_free(f);
}

/* INTO raises vector 4 as a software interrupt when OF = 1; the reset IDT
 * at 0 holds zeros, not a gate, so delivery reports #GP(4 * 8 + 2)
 * (SDM Vol. 3A §6.12.1.1). */
Test(cpu_intr, into_with_overflow_raises_vector_4)
{
	static const uint8_t code[] = {
		0xb8, 0xff, 0xff, 0xff, 0x7f, /* mov eax, 0x7fffffff */
		0x83, 0xc0, 0x01,             /* add eax, 1: OF = 1 */
		0xce,                         /* into */
		0xf4,                         /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_new_flat32("flat");
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cr_assert_eq(f->c.exc.error_code, VEC_OF * 8 + SEG_EC_IDT);
	cr_assert_eq(f->c.exc.rip, CPU_CODE + 8);
	cpu_fixture_free(f);
}

/* ---- single-step traps and RF (SDM Vol. 3B §17.3.1.1, §17.3.1.4) ------- */

#define TRACE_RIPS (CPU_DATA + 0x100)  /* the #DB handler's records: pushed RIPs */
#define TRACE_FLAGS (CPU_DATA + 0x200) /* and pushed RFLAGS */
#define TRACE_MAX 16

/* Kernel prologue: GDT, IDT, then TF set through POPFQ (no trap follows
 * the POPFQ that sets it). */
#define TRACE_PROLOGUE                                                                      \
	0x0f, 0x01, 0x13,                         /* lgdt [rbx] */                          \
	0x0f, 0x01, 0x5b, 0x10,                   /* lidt [rbx + 16] */                     \
	0x9c,                                     /* pushfq */                              \
	0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, /* or qword [rsp], 0x100 (TF) */    \
	0x9d                                      /* popfq */
#define TRACE_PROLOGUE_LEN 17
/* TF cleared the same way: the POPFQ that clears it is still trapped. */
#define TRACE_EPILOGUE                                                                      \
	0x9c,                                     /* pushfq */                              \
	0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xff, 0xff, /* and qword [rsp], ~0x100 */       \
	0x9d                                      /* popfq */

/* A #DB handler's start and end: record the pushed RIP and RFLAGS at
 * R10/R11[R15]; count in R15 and return with RAX kept. */
#define DB_RECORD_START                                                                     \
	0x50,                         /* push rax */                                        \
	0x48, 0x8b, 0x44, 0x24, 0x08, /* mov rax, [rsp + 8]: pushed RIP */                  \
	0x4b, 0x89, 0x04, 0xfa,       /* mov [r10 + r15*8], rax */                          \
	0x48, 0x8b, 0x44, 0x24, 0x18, /* mov rax, [rsp + 24]: pushed RFLAGS */              \
	0x4b, 0x89, 0x04, 0xfb        /* mov [r11 + r15*8], rax */
#define DB_RECORD_END                                                                       \
	0x49, 0xff, 0xc7,             /* inc r15 */                                         \
	0x58,                         /* pop rax */                                         \
	0x48, 0xcf                    /* iretq */

static const uint8_t db_recorder[] = { DB_RECORD_START, DB_RECORD_END };

/* A kernel whose #DB handler is rec, which records at R10 (pushed RIPs)
 * and R11 (pushed RFLAGS), R15 counting. */
static struct cpu_fixture *recording_kernel(const uint8_t *code, size_t n, const uint8_t *rec,
					    size_t rec_len)
{
	struct cpu_fixture *f = kernel(code, n, IDT_FULL);
	gate(f, VEC_DB, false, 0, 0, true);
	handler(f, VEC_DB, rec, rec_len);
	f->c.gpr[GPR_R10] = TRACE_RIPS;
	f->c.gpr[GPR_R11] = TRACE_FLAGS;
	f->c.gpr[GPR_R15] = 0;
	return f;
}

static struct cpu_fixture *traced_kernel(const uint8_t *code, size_t n)
{
	return recording_kernel(code, n, db_recorder, sizeof db_recorder);
}

/* Runs to HLT and checks the #DB records against rips[] (offsets from
 * CPU_CODE, or absolute where >= CPU_CODE) and the RF and TF each pushed. */
static void check_traps(struct cpu_fixture *f, const uint64_t *rips, const bool *rf, const bool *tf,
			unsigned n)
{
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT, "%s", f->c.stop_msg ? f->c.stop_msg : "");
	cr_assert_eq(f->c.gpr[GPR_R15], n, "%llu single-step traps, %u expected",
		     (unsigned long long)f->c.gpr[GPR_R15], n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t want = rips[i] >= CPU_CODE ? rips[i] : CPU_CODE + rips[i];
		uint64_t rip = cpu_fixture_peek(f, TRACE_RIPS + 8 * i, 8);
		uint64_t fl = cpu_fixture_peek(f, TRACE_FLAGS + 8 * i, 8);
		cr_assert_eq(rip, want, "trap %u: pushed RIP %#llx, expected %#llx", i,
			     (unsigned long long)rip, (unsigned long long)want);
		cr_assert_eq((fl & RFLAGS_RF) != 0, rf[i], "trap %u: pushed RF", i);
		cr_assert_eq((fl & RFLAGS_TF) != 0, tf[i], "trap %u: pushed TF", i);
	}
	cr_assert(f->c.dr[6] & DR6_BS, "DR6.BS reports the single step");
	cr_assert_eq(f->c.rflags & (RFLAGS_TF | RFLAGS_RF), 0);
}

Test(cpu_intr, single_step_traps_after_each_instruction_from_the_one_after_the_popf_that_sets_tf)
{
	static const uint8_t code[] = {
		TRACE_PROLOGUE, /* 0x00 .. 0x10 */
		0x90,           /* 0x11 nop: trapped */
		0xf4,           /* 0x12 hlt: trapped, the trap ends the halt */
		TRACE_EPILOGUE, /* 0x13 pushfq, 0x14 and, 0x1c popfq: all trapped */
		0x90,           /* 0x1d nop: TF clear */
		0xf4,           /* 0x1e hlt */
	};
	static const uint64_t rips[] = { 0x12, 0x13, 0x14, 0x1c, 0x1d };
	static const bool rf[] = { 0, 0, 0, 0, 0 }, tf[] = { 1, 1, 1, 1, 0 };
	struct cpu_fixture *f = traced_kernel(code, sizeof code);
	cr_assert_eq(f->c.dr[6], DR6_RESET, "DR6 after reset");
	check_traps(f, rips, rf, tf, 5);
	cr_assert_eq(f->c.rip, CPU_CODE + sizeof code);
	cpu_fixture_free(f);
}

Test(cpu_intr, single_stepped_rep_movsb_traps_after_every_iteration_with_rf_until_the_last)
{
	static const uint8_t code[] = {
		TRACE_PROLOGUE, /* 0x00 .. 0x10 */
		0xf3, 0xa4,     /* 0x11 rep movsb, RCX = 3 */
		TRACE_EPILOGUE, /* 0x13, 0x14, 0x1c */
		0xf4,           /* 0x1d hlt */
	};
	static const uint64_t rips[] = { 0x11, 0x11, 0x13, 0x14, 0x1c, 0x1d };
	static const bool rf[] = { 1, 1, 0, 0, 0, 0 }, tf[] = { 1, 1, 1, 1, 1, 0 };
	struct cpu_fixture *f = traced_kernel(code, sizeof code);
	static const uint8_t src[3] = { 0xa1, 0xb2, 0xc3 };
	cpu_fixture_poke(f, CPU_DATA + 0x400, src, sizeof src);
	f->c.gpr[GPR_RSI] = CPU_DATA + 0x400;
	f->c.gpr[GPR_RDI] = CPU_DATA + 0x500;
	f->c.gpr[GPR_RCX] = 3;
	check_traps(f, rips, rf, tf, 6);
	cr_assert_eq(cpu_fixture_peek(f, CPU_DATA + 0x500, 3), 0xc3b2a1, "all three bytes copied");
	cr_assert_eq(f->c.gpr[GPR_RCX], 0);
	cpu_fixture_free(f);
}

Test(cpu_intr, mov_ss_holds_the_single_step_trap_until_after_the_next_instruction)
{
	static const uint8_t code[] = {
		TRACE_PROLOGUE,         /* 0x00 .. 0x10 */
		0x66, 0xb8, 0x10, 0x00, /* 0x11 mov ax, KDATA: trapped */
		0x8e, 0xd0,             /* 0x15 mov ss, ax: no trap of its own */
		0x90,                   /* 0x17 nop: trapped */
		TRACE_EPILOGUE,         /* 0x18, 0x19, 0x21 */
		0xf4,                   /* 0x22 hlt */
	};
	static const uint64_t rips[] = { 0x15, 0x18, 0x19, 0x21, 0x22 };
	static const bool rf[] = { 0, 0, 0, 0, 0 }, tf[] = { 1, 1, 1, 1, 0 };
	struct cpu_fixture *f = traced_kernel(code, sizeof code);
	check_traps(f, rips, rf, tf, 5);
	cpu_fixture_free(f);
}

Test(cpu_intr, single_stepped_int_n_traps_at_the_handlers_first_instruction)
{
	static const uint8_t code[] = {
		TRACE_PROLOGUE, /* 0x00 .. 0x10 */
		0xcd, 0x40,     /* 0x11 int 0x40: its handler clears TF; trapped there */
		0x90,           /* 0x13 nop, after the handler's IRETQ restored TF */
		TRACE_EPILOGUE, /* 0x14, 0x15, 0x1d */
		0xf4,           /* 0x1e hlt */
	};
	static const uint8_t iretq[] = { 0x48, 0xcf };
	/* The IRETQ that restores TF is not trapped; the NOP after it is. */
	const uint64_t rips[] = { HANDLER(0x40), 0x14, 0x15, 0x1d, 0x1e };
	static const bool rf[] = { 0, 0, 0, 0, 0 }, tf[] = { 0, 1, 1, 1, 0 };
	struct cpu_fixture *f = traced_kernel(code, sizeof code);
	gate(f, 0x40, false, 0, 0, true);
	handler(f, 0x40, iretq, sizeof iretq);
	check_traps(f, rips, rf, tf, 5);
	cpu_fixture_free(f);
}

Test(cpu_intr, faults_push_rf_set_and_software_interrupts_push_it_clear)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,       /* lgdt [rbx] */
		0x0f, 0x01, 0x5b, 0x10, /* lidt [rbx + 16] */
		0x0f, 0x0b,             /* ud2: #UD, a fault */
		0xcc,                   /* int3, after the IRETQ that loaded RF = 1 */
		0xf4,                   /* hlt */
	};
	static const uint8_t ud_handler[] = {
		0x4c, 0x8b, 0x44, 0x24, 0x10, /* mov r8, [rsp + 16]: pushed RFLAGS */
		0x48, 0x83, 0x04, 0x24, 0x02, /* add qword [rsp], 2: past the ud2 */
		0x48, 0xcf,                   /* iretq */
	};
	static const uint8_t bp_handler[] = {
		0x4c, 0x8b, 0x4c, 0x24, 0x10, /* mov r9, [rsp + 16] */
		0x48, 0xcf,                   /* iretq */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	gate(f, VEC_UD, false, 0, 0, true);
	handler(f, VEC_UD, ud_handler, sizeof ud_handler);
	gate(f, VEC_BP, false, 0, 0, true);
	handler(f, VEC_BP, bp_handler, sizeof bp_handler);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert(f->c.gpr[GPR_R8] & RFLAGS_RF, "a fault pushes RF = 1");
	cr_assert_not(f->c.gpr[GPR_R9] & RFLAGS_RF,
		      "RF from the IRETQ is cleared as the next instruction starts");
	cr_assert_eq(f->c.rflags & RFLAGS_RF, 0);
	cr_assert_eq(f->c.rip, CPU_CODE + sizeof code);
	cpu_fixture_free(f);
}

Test(cpu_intr, interrupt_between_iterations_of_rep_stosb_pushes_rf_and_the_string_resumes)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,       /* lgdt [rbx] */
		0x0f, 0x01, 0x5b, 0x10, /* lidt [rbx + 16] */
		0xf3, 0xaa,             /* rep stosb: longer than one run-loop batch */
		0xf4,                   /* hlt */
	};
	static const uint8_t irq_handler[] = {
		0x4c, 0x8b, 0x44, 0x24, 0x10, /* mov r8, [rsp + 16]: pushed RFLAGS */
		0x4c, 0x8b, 0x0c, 0x24,       /* mov r9, [rsp]: pushed RIP */
		0x48, 0xcf,                   /* iretq */
	};
	const uint64_t dst = CPU_STACK_TOP + 0x100000, len = UINT64_C(3) << 19; /* 1.5 MiB */
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	struct cpu *c = &f->c;
	gate(f, 0x41, false, 0, 0, true);
	handler(f, 0x41, irq_handler, sizeof irq_handler);
	c->gpr[GPR_RDI] = dst;
	c->gpr[GPR_RCX] = len;
	c->gpr[GPR_RAX] = 0x5a;
	cr_assert_eq(cpu_run(c, 2), CPU_STOP_LIMIT);
	cr_assert_eq(cpu_run(c, 1), CPU_STOP_LIMIT);
	cr_assert(c->gpr[GPR_RCX] > 0 && c->gpr[GPR_RCX] < len, "stopped between iterations");
	cr_assert_eq(c->rip, CPU_CODE + 7, "RIP still on the rep stosb");
	cr_assert(cpu_interrupt(c, 0x41));
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert(c->gpr[GPR_R8] & RFLAGS_RF, "RF = 1 pushed between iterations");
	cr_assert_eq(c->gpr[GPR_R9], CPU_CODE + 7);
	cr_assert_eq(c->gpr[GPR_RCX], 0, "the string resumed and finished");
	cr_assert_eq(cpu_fixture_peek(f, dst + len - 1, 1), 0x5a);
	cr_assert_eq(c->rflags & RFLAGS_RF, 0);
	cpu_fixture_free(f);
}

Test(cpu_intr, int1_skips_the_gate_dpl_check_that_int_1_makes)
{
	static const uint8_t user[] = {
		0xf1,       /* int1 (ICEBP): #DB through a DPL-0 gate from CPL 3 */
		0xcd, 0x01, /* int 1: the same gate, DPL checked: #GP */
	};
	static const uint8_t db_handler[] = {
		0x4c, 0x8b, 0x04, 0x24, /* mov r8, [rsp]: pushed RIP */
		0x48, 0xcf,             /* iretq */
	};
	struct cpu_fixture *f = user_program(user, sizeof user);
	struct cpu *c = &f->c;
	gate(f, VEC_DB, false, 0, 0, true);
	handler(f, VEC_DB, db_handler, sizeof db_handler);
	uint64_t dr6 = c->dr[6];
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_R8], USER_CODE + 1, "INT1 is a trap: RIP after it");
	cr_assert_eq(c->gpr[GPR_RBX], VEC_DB * 8 + 2, "INT 1 from CPL 3: #GP(IDT entry 1)");
	cr_assert_eq(c->gpr[GPR_RDX], USER_CODE + 1, "the #GP is at the INT 1");
	cr_assert_eq(c->dr[6], dr6, "INT1 leaves DR6 alone");
	cr_assert_eq(cpu_unimplemented_count(c, "int1"), 0);
	cpu_fixture_free(f);
}

/* ---- instruction breakpoints (SDM Vol. 3B §17.2, §17.3.1.1) ------------ */

Test(cpu_intr, instruction_breakpoint_faults_before_the_instruction_and_rf_lets_it_run)
{
	static const uint8_t code[] = {
		0x0f, 0x01, 0x13,                         /* 0x00 lgdt [rbx] */
		0x0f, 0x01, 0x5b, 0x10,                   /* 0x03 lidt [rbx + 16] */
		0x48, 0x8d, 0x05, 0x0c, 0x00, 0x00, 0x00, /* 0x07 lea rax, [rip + target] */
		0x0f, 0x23, 0xc0,                         /* 0x0e mov dr0, rax */
		0xb8, 0x01, 0x00, 0x00, 0x00,             /* 0x11 mov eax, 1: L0, execute */
		0x0f, 0x23, 0xf8,                         /* 0x16 mov dr7, rax */
		0x90,                                     /* 0x19 nop */
		0x49, 0xff, 0xc0,                         /* 0x1a target: inc r8 */
		0xf4,                                     /* 0x1d hlt */
	};
	static const uint8_t db_handler[] = {
		0x4c, 0x8b, 0x0c, 0x24,                               /* mov r9, [rsp] */
		0x49, 0xff, 0xc2,                                     /* inc r10 */
		0x48, 0x81, 0x4c, 0x24, 0x10, 0x00, 0x00, 0x01, 0x00, /* or qword [rsp + 16], RF */
		0x48, 0xcf,                                           /* iretq */
	};
	struct cpu_fixture *f = kernel(code, sizeof code, IDT_FULL);
	struct cpu *c = &f->c;
	gate(f, VEC_DB, false, 0, 0, true);
	handler(f, VEC_DB, db_handler, sizeof db_handler);
	c->gpr[GPR_R8] = c->gpr[GPR_R10] = 0;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_R10], 1, "one #DB");
	cr_assert_eq(c->gpr[GPR_R9], CPU_CODE + 0x1a, "a fault: RIP of the breakpoint's instruction");
	cr_assert_eq(c->gpr[GPR_R8], 1, "RF = 1 from the IRETQ let it run once");
	cr_assert(c->dr[6] & DR6_B(0), "DR6.B0");
	cr_assert_not(c->dr[6] & DR6_BS);
	cr_assert_eq(c->bp_exec, 1);
	cr_assert_eq(c->rflags & RFLAGS_RF, 0);
	cpu_fixture_free(f);
}

/* ---- data and I/O breakpoints, general detect (SDM Vol. 3B §17.2) ------ */

#define DBR_DR6 (CPU_DATA + 0x300)  /* the recorder's tables beside TRACE_RIPS and */
#define DBR_RCX (CPU_DATA + 0x380)  /* TRACE_FLAGS, one qword per #DB */
#define WATCHED (CPU_DATA + 0x1000)  /* the data the breakpoints watch */

/* #DB handler: records the pushed RIP and RFLAGS, DR6 and RCX at
 * R10/R11/R12/R13[R15], clears DR6, counts in R15. */
static const uint8_t db_dr6_recorder[] = {
	DB_RECORD_START,
	0x0f, 0x21, 0xf0,             /* mov rax, dr6 */
	0x4b, 0x89, 0x04, 0xfc,       /* mov [r12 + r15*8], rax */
	0x4b, 0x89, 0x4c, 0xfd, 0x00, /* mov [r13 + r15*8 + 0], rcx */
	0x31, 0xc0,                   /* xor eax, eax */
	0x0f, 0x23, 0xf0,             /* mov dr6, rax */
	DB_RECORD_END,
};

/* The kernel runs lgdt [rbx]; lidt [rbx + 16] (7 bytes) first. */
#define DB_PROLOGUE 0x0f, 0x01, 0x13, 0x0f, 0x01, 0x5b, 0x10

static struct cpu_fixture *watched_kernel(const uint8_t *code, size_t n)
{
	struct cpu_fixture *f = recording_kernel(code, n, db_dr6_recorder, sizeof db_dr6_recorder);
	f->c.gpr[GPR_R12] = DBR_DR6;
	f->c.gpr[GPR_R13] = DBR_RCX;
	f->c.gpr[GPR_RSI] = WATCHED;
	return f;
}

/* Arm breakpoint n at addr: R/W rw (0..3), LEN len (0..3), enabled by Ln. */
static void watch(struct cpu *c, unsigned n, uint64_t addr, unsigned rw, unsigned len)
{
	c->dr[n] = addr;
	c->dr[7] |= UINT64_C(1) << (2 * n) | (uint64_t)rw << (16 + 4 * n) |
		    (uint64_t)len << (18 + 4 * n);
	cpu_debug_update(c);
}

/* The i-th #DB the recorder saw: pushed RIP (offset from CPU_CODE) and DR6. */
static void check_db(struct cpu_fixture *f, unsigned i, uint64_t rip_off, uint64_t dr6_bits)
{
	uint64_t rip = cpu_fixture_peek(f, TRACE_RIPS + 8 * i, 8);
	uint64_t dr6 = cpu_fixture_peek(f, DBR_DR6 + 8 * i, 8);
	cr_assert_eq(rip, CPU_CODE + rip_off, "#DB %u: pushed RIP %#llx, expected %#llx", i,
		     (unsigned long long)rip, (unsigned long long)(CPU_CODE + rip_off));
	cr_assert_eq(dr6 & (DR6_BS | 0xf), dr6_bits, "#DB %u: DR6 %#llx", i, (unsigned long long)dr6);
}

Test(cpu_intr, write_breakpoint_traps_after_a_store_into_its_aligned_bytes_only)
{
	static const uint8_t code[] = {
		DB_PROLOGUE,      /* 0x00 */
		0x8b, 0x0e,       /* 0x07 mov ecx, [rsi]: a read, R/W = 01 ignores it */
		0x88, 0x46, 0x03, /* 0x09 mov [rsi + 3], al: the watched dword's last byte */
		0x88, 0x46, 0x04, /* 0x0c mov [rsi + 4], al: past it */
		0xf4,             /* 0x0f hlt */
	};
	struct cpu_fixture *f = watched_kernel(code, sizeof code);
	struct cpu *c = &f->c;
	c->gpr[GPR_RAX] = 0x5a;
	watch(c, 0, WATCHED + 2, 1, 3); /* 4 bytes, writes; bits 1:0 of DR0 ignored */
	cr_assert_eq(c->bp_data, 1);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT, "%s", c->stop_msg ? c->stop_msg : "");
	cr_assert_eq(c->gpr[GPR_R15], 1, "one #DB");
	check_db(f, 0, 0x0c, DR6_B(0)); /* a trap: RIP of the next instruction */
	cr_assert_eq(cpu_fixture_peek(f, WATCHED + 3, 1), 0x5a, "the store was done");
	cpu_fixture_free(f);
}

Test(cpu_intr, access_breakpoint_matches_reads_and_one_trap_reports_every_breakpoint_hit)
{
	static const uint8_t code[] = {
		DB_PROLOGUE,                  /* 0x00 */
		0x48, 0x8b, 0x06,             /* 0x07 mov rax, [rsi]: DR1 (reads and writes) */
		0x66, 0x89, 0x46, 0x07,       /* 0x0a mov [rsi + 7], ax: DR1's last byte, DR3 */
		0x90,                         /* 0x0e nop */
		0xf4,                         /* 0x0f hlt */
	};
	struct cpu_fixture *f = watched_kernel(code, sizeof code);
	struct cpu *c = &f->c;
	watch(c, 1, WATCHED, 3, 2);     /* 8 bytes, reads and writes */
	watch(c, 3, WATCHED + 8, 1, 0); /* 1 byte, writes */
	watch(c, 2, WATCHED + 8, 0, 0); /* an instruction breakpoint elsewhere: never hit */
	cr_assert_eq(c->bp_data, 0xa);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT, "%s", c->stop_msg ? c->stop_msg : "");
	cr_assert_eq(c->gpr[GPR_R15], 2);
	check_db(f, 0, 0x0a, DR6_B(1));
	check_db(f, 1, 0x0e, DR6_B(1) | DR6_B(3));
	cpu_fixture_free(f);
}

Test(cpu_intr, rep_movsb_traps_after_the_iteration_that_wrote_the_watched_byte)
{
	static const uint8_t code[] = {
		DB_PROLOGUE, /* 0x00 */
		0xf3, 0xa4,  /* 0x07 rep movsb, RCX = 8 */
		0xf4,        /* 0x09 hlt */
	};
	static const uint8_t src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct cpu_fixture *f = watched_kernel(code, sizeof code);
	struct cpu *c = &f->c;
	cpu_fixture_poke(f, WATCHED, src, sizeof src);
	c->gpr[GPR_RDI] = WATCHED + 0x100;
	c->gpr[GPR_RCX] = 8;
	watch(c, 0, WATCHED + 0x105, 1, 0); /* the sixth byte written */
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT, "%s", c->stop_msg ? c->stop_msg : "");
	cr_assert_eq(c->gpr[GPR_R15], 1);
	check_db(f, 0, 0x07, DR6_B(0)); /* between iterations: RIP of the string instruction */
	cr_assert_eq(cpu_fixture_peek(f, DBR_RCX, 8), 2, "six iterations done at the trap");
	cr_assert(cpu_fixture_peek(f, TRACE_FLAGS, 8) & RFLAGS_RF, "pushed RF = 1 mid-string");
	cr_assert_eq(cpu_fixture_peek(f, WATCHED + 0x100, 8), cpu_fixture_peek(f, WATCHED, 8),
		     "the copy resumed and finished");
	cr_assert_eq(c->gpr[GPR_RCX], 0);
	cpu_fixture_free(f);
}

Test(cpu_intr, data_breakpoint_hit_by_mov_ss_traps_after_the_next_instruction)
{
	static const uint8_t code[] = {
		DB_PROLOGUE, /* 0x00 */
		0x8e, 0x16,  /* 0x07 mov ss, [rsi]: reads the watched word */
		0x90,        /* 0x09 nop: the trap comes after it */
		0xf4,        /* 0x0a hlt */
	};
	struct cpu_fixture *f = watched_kernel(code, sizeof code);
	struct cpu *c = &f->c;
	uint16_t kdata = KDATA;
	cpu_fixture_poke(f, WATCHED, &kdata, sizeof kdata);
	watch(c, 0, WATCHED, 3, 1);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT, "%s", c->stop_msg ? c->stop_msg : "");
	cr_assert_eq(c->gpr[GPR_R15], 1);
	check_db(f, 0, 0x0a, DR6_B(0));
	cpu_fixture_free(f);
}

Test(cpu_intr, faulting_instruction_raises_its_fault_and_not_its_data_breakpoint)
{
	static const uint8_t code[] = {
		0xa4, /* movsb: reads the watched byte, then faults writing */
		0xf4, /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_with_code(code, sizeof code);
	struct cpu *c = &f->c;
	c->gpr[GPR_RSI] = WATCHED;
	c->gpr[GPR_RDI] = CPU_MAPPED_END; /* not mapped */
	watch(c, 0, WATCHED, 3, 0);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_PF);
	cr_assert_eq(c->dr[6] & 0xf, 0, "no breakpoint reported");
	cpu_fixture_free(f);
}

Test(cpu_intr, io_breakpoint_traps_after_out_only_while_cr4_de_is_set)
{
	static const uint8_t code[] = {
		0xe6, 0x80, /* out 0x80, al */
		0xf4,       /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_with_code(code, sizeof code);
	struct cpu *c = &f->c;
	watch(c, 2, 0x80, 2, 0); /* R/W = 10: I/O */
	cr_assert_eq(c->bp_io, 4);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_YIELD, "port I/O returns to the machine");
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT, "R/W = 10 is undefined without CR4.DE");
	c->rip = CPU_CODE;
	c->mmu.cr4 |= CR4_DE;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_DB);
	cr_assert_eq(c->exc.rip, CPU_CODE + 2, "a trap after the OUT");
	cr_assert_eq(c->dr[6] & 0xf, DR6_B(2));
	cpu_fixture_free(f);
}

Test(cpu_intr, general_detect_makes_mov_dr_a_debug_fault_and_clears_gd)
{
	static const uint8_t code[] = {
		0x0f, 0x21, 0xc0, /* mov rax, dr0 */
		0xf4,             /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_with_code(code, sizeof code);
	struct cpu *c = &f->c;
	c->dr[7] |= DR7_GD;
	c->dr[0] = 0x1234;
	c->gpr[GPR_RAX] = 0;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_DB);
	cr_assert_eq(c->exc.rip, CPU_CODE, "a fault: RIP of the MOV");
	cr_assert(c->dr[6] & DR6_BD, "DR6.BD");
	cr_assert_not(c->dr[7] & DR7_GD, "GD cleared for the handler");
	cr_assert_eq(c->gpr[GPR_RAX], 0, "the MOV did not run");
	c->rip = CPU_CODE;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT, "with GD clear the MOV runs");
	cr_assert_eq(c->gpr[GPR_RAX], 0x1234);
	cpu_fixture_free(f);
}
