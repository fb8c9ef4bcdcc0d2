/* Hardware task switches in 32-bit protected mode (SDM Vol. 3A §7.3,
 * §7.4, Table 7-1, Table 7-2; Vol. 2 JMP, CALL, INT n, IRET): far JMP to
 * a TSS, far CALL through a task gate and IRET back, an exception through
 * an IDT task gate, the faults checked before the commit point (which
 * change nothing) and after it (raised in the new task), and the IA-32e
 * rules. The GDT, IDT, TSSs and 32-bit page tables are built by the test;
 * TR is set directly. */
#include <criterion/criterion.h>

#include "emu/alu.h"
#include "emu/flags.h"
#include "tests/cpu_support.h"

#define FAR_PTR CPU_DATA               /* m16:32 operand of the far CALL/JMP */
#define GDT (CPU_DATA + 0x8000)
#define IDT (CPU_DATA + 0x9000)
#define TSS_A_BASE (CPU_DATA + 0xa000) /* the running task's TSS */
#define TSS_B_BASE (CPU_DATA + 0xb000) /* the task switched to */
#define LDT_BASE (CPU_DATA + 0xd000)
#define TASK_B_CODE (CPU_CODE + 0x1000)
#define A_STACK (CPU_DATA + 0x30000)
#define B_STACK (CPU_DATA + 0x40000)
#define PROBE (CPU_DATA + 0x50000)      /* mapped to another frame in task B's tables */
#define PROBE_B_FRAME (PROBE + 0x1000)
#define PT_A_POOL UINT64_C(0x100000)
#define PT_B_POOL UINT64_C(0x140000)
#define PT_POOL_BYTES UINT64_C(0x40000)

/* GDT selectors. */
enum {
	KCODE = 0x08, KDATA = 0x10, UDATA = 0x18 | 3, UCODE = 0x20 | 3,
	TSS_A = 0x28,          /* busy: the running task (TR) */
	TSS_B = 0x30,          /* available, DPL 3 */
	TSS_SMALL = 0x38,      /* available, limit 0x66 */
	TSS_ABSENT = 0x40,     /* available, not present */
	TSS_OTHER_BUSY = 0x48, /* busy */
	GATE_B = 0x50 | 3,     /* task gate, DPL 3 → TSS_B */
	GATE_DPL0 = 0x58,      /* task gate, DPL 0 → TSS_B */
	TSS16_SEL = 0x60,      /* available 16-bit TSS */
	LDT_SEL = 0x68,
	DATA16 = 0x70,         /* 16-bit (B = 0) data at CPU_DATA, limit 0xffff */
	GDT_ENTRIES = 15,
};
#define TSS_LIMIT 0x67u
#define GP_VECTOR_GATE 13u /* #GP in the IDT: a task gate to TSS_B */
#define INT_VECTOR_DPL0 0x40u

/* 32-bit TSS fields (Figure 7-2). */
#define TSS_LINK 0x00u
#define TSS_CR3 0x1cu
#define TSS_EIP 0x20u
#define TSS_EFLAGS 0x24u
#define TSS_GPR(n) (0x28u + 4u * (n))
#define TSS_SREG(r) (0x48u + 4u * (r))
#define TSS_LDT 0x60u
/* 16-bit TSS fields (Figure 7-10). */
#define TSS16_IP 0x0eu
#define TSS16_FLAGS 0x10u
#define TSS16_GPR(n) (0x12u + 2u * (n))
#define TSS16_SREG(r) (0x22u + 2u * (r)) /* ES, CS, SS, DS */
#define TSS16_LDT 0x2au
#define TSS16_LIMIT 0x2bu
#define TSS16_BASE (CPU_DATA + 0xc000)
#define TSS16_GPR_UPPER UINT64_C(0xffff0000)

#define B_EFLAGS (RFLAGS_FIXED1 | RFLAGS_CF | RFLAGS_ZF)
#define A_REG(n) (UINT64_C(0xa0a0a000) + (n))
#define B_REG(n) (UINT64_C(0xb0b0b000) + (n))
#define PROBE_A_VALUE 0xaaaa5555u
#define PROBE_B_VALUE 0xbbbb6666u
#define LINK_SENTINEL 0x1234u

static const uint8_t jmp_far[] = { 0xff, 0x2e };  /* jmp far [esi] */
static const uint8_t call_far[] = { 0xff, 0x1e }; /* call far [esi] */
/* Task B: mov ecx, 0x77; iretd. */
static const uint8_t task_b_code[] = { 0xb9, 0x77, 0x00, 0x00, 0x00, 0xcf };

static void put(struct cpu_fixture *f, uint64_t la, uint64_t v, unsigned size)
{
	cpu_fixture_poke(f, la, &v, size);
}

static uint64_t peek(struct cpu_fixture *f, uint64_t la, unsigned size)
{
	return cpu_fixture_peek(f, la, size);
}

/* A descriptor (Figure 3-8): s = 1 for code/data (32-bit, 4-KByte
 * granular), 0 for system descriptors (byte granular). */
static uint64_t desc(uint8_t type, bool s, unsigned dpl, bool present, uint64_t base,
		     uint32_t limit)
{
	uint64_t d = (limit & 0xffff) | ((base & 0xffffff) << DESC_BASE_LO_SHIFT) |
		     ((uint64_t)type << DESC_TYPE_SHIFT) | ((uint64_t)dpl << DESC_DPL_SHIFT) |
		     (present ? BIT64(DESC_P_SHIFT) : 0) |
		     ((uint64_t)(limit >> 16 & 0xf) << DESC_LIMIT_HI_SHIFT) |
		     ((base >> 24 & 0xff) << DESC_BASE_HI_SHIFT);
	return s ? d | BIT64(DESC_S_SHIFT) | BIT64(DESC_DB_SHIFT) | BIT64(DESC_G_SHIFT) : d;
}

static uint64_t task_gate(uint16_t tss, unsigned dpl)
{
	return ((uint64_t)tss << GATE_SELECTOR_SHIFT) | ((uint64_t)SYS_TASK_GATE << DESC_TYPE_SHIFT) |
	       ((uint64_t)dpl << DESC_DPL_SHIFT) | BIT64(DESC_P_SHIFT);
}

static void gdt_build(struct cpu_fixture *f)
{
	const uint8_t code = SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE, data = SEG_TYPE_DATA_WRITABLE;
	uint64_t gdt[GDT_ENTRIES] = { 0 };
	gdt[KCODE >> 3] = desc(code, true, 0, true, 0, 0xfffff);
	gdt[KDATA >> 3] = desc(data, true, 0, true, 0, 0xfffff);
	gdt[UDATA >> 3] = desc(data, true, 3, true, 0, 0xfffff);
	gdt[UCODE >> 3] = desc(code, true, 3, true, 0, 0xfffff);
	gdt[TSS_A >> 3] = desc(SYS_TSS_BUSY, false, 0, true, TSS_A_BASE, TSS_LIMIT);
	gdt[TSS_B >> 3] = desc(SYS_TSS_AVAIL, false, 3, true, TSS_B_BASE, TSS_LIMIT);
	gdt[TSS_SMALL >> 3] = desc(SYS_TSS_AVAIL, false, 3, true, TSS_B_BASE, TSS_LIMIT - 1);
	gdt[TSS_ABSENT >> 3] = desc(SYS_TSS_AVAIL, false, 3, false, TSS_B_BASE, TSS_LIMIT);
	gdt[TSS_OTHER_BUSY >> 3] = desc(SYS_TSS_BUSY, false, 3, true, TSS_B_BASE, TSS_LIMIT);
	gdt[GATE_B >> 3] = task_gate(TSS_B, 3);
	gdt[GATE_DPL0 >> 3] = task_gate(TSS_B, 0);
	gdt[TSS16_SEL >> 3] = desc(SYS_TSS16_AVAIL, false, 3, true, TSS16_BASE, TSS16_LIMIT);
	gdt[LDT_SEL >> 3] = desc(SYS_LDT, false, 0, true, LDT_BASE, 0xf);
	gdt[DATA16 >> 3] = desc(data, true, 0, true, CPU_DATA, 0xffff) &
			   ~(BIT64(DESC_DB_SHIFT) | BIT64(DESC_G_SHIFT));
	cpu_fixture_gdt(f, GDT, gdt, sizeof gdt);
	cpu_fixture_tr(f, TSS_A, TSS_A_BASE, TSS_LIMIT);
}

/* Task B's TSS: EIP at TASK_B_CODE, its own registers, kernel segments,
 * an LDT, ESP at B_STACK. */
static void tss_b_build(struct cpu_fixture *f)
{
	put(f, TSS_B_BASE + TSS_LINK, LINK_SENTINEL, 2);
	put(f, TSS_B_BASE + TSS_EIP, TASK_B_CODE, 4);
	put(f, TSS_B_BASE + TSS_EFLAGS, B_EFLAGS, 4);
	for (unsigned i = 0; i < 8; i++)
		put(f, TSS_B_BASE + TSS_GPR(i), i == GPR_RSP ? B_STACK : B_REG(i), 4);
	for (unsigned r = 0; r < SEG_NREGS; r++)
		put(f, TSS_B_BASE + TSS_SREG(r), r == SEG_CS ? KCODE : KDATA, 4);
	put(f, TSS_B_BASE + TSS_LDT, LDT_SEL, 2);
	cpu_fixture_poke(f, TASK_B_CODE, task_b_code, sizeof task_b_code);
}

/* 32-bit protected mode at CPL cpl (no paging), TR = TSS_A, ESI at a far
 * pointer naming target, the other registers A_REG(n), code at CPU_CODE. */
static struct cpu_fixture *machine(unsigned cpl, uint16_t target, const uint8_t *code, size_t n)
{
	struct cpu_fixture *f = cpu_fixture_new_flat32("flat");
	struct seg_state *s = &f->c.mmu.seg;
	gdt_build(f);
	tss_b_build(f);
	cpu_setup_flat32(&f->c, cpl);
	for (unsigned r = 0; r < SEG_NREGS; r++)
		s->sr[r].selector = cpl ? UDATA : KDATA;
	s->sr[SEG_CS].selector = cpl ? UCODE : KCODE;
	cpu_refresh_mode(&f->c);
	put(f, FAR_PTR, 0xdeadbeef, 4); /* the offset: ignored for a task switch */
	put(f, FAR_PTR + 4, target, 2);
	for (unsigned i = 0; i < 8; i++)
		f->c.gpr[i] = A_REG(i);
	f->c.gpr[GPR_RSI] = FAR_PTR;
	f->c.gpr[GPR_RSP] = A_STACK;
	cpu_fixture_code(f, CPU_CODE, code, n);
	return f;
}

static uint8_t gdt_type(struct cpu_fixture *f, uint16_t sel)
{
	return (uint8_t)(peek(f, GDT + (sel & SEL_ERROR_MASK) + DESC_ACCESS_BYTE, 1) & 0xf);
}

static uint16_t sel_of(const struct cpu_fixture *f, enum seg_reg r)
{
	return f->c.mmu.seg.sr[r].selector;
}

static void expect_in_task_b(struct cpu_fixture *f)
{
	struct cpu *c = &f->c;
	cr_assert_eq(c->rip, TASK_B_CODE);
	cr_assert_eq(c->mmu.seg.tr.selector, TSS_B);
	cr_assert_eq(c->mmu.seg.tr.base, TSS_B_BASE, "TR's hidden part from the descriptor");
	cr_assert_eq(c->mmu.seg.ldtr.selector, LDT_SEL);
	cr_assert_eq(c->mmu.seg.ldtr.base, LDT_BASE);
	cr_assert_eq(sel_of(f, SEG_CS), KCODE);
	cr_assert_eq(sel_of(f, SEG_SS), KDATA);
	cr_assert_eq(c->cpl, 0);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(c->gpr[i], i == GPR_RSP ? B_STACK : B_REG(i), "register %u", i);
	cr_assert(c->mmu.cr0 & CR0_TS, "a task switch sets CR0.TS");
	cr_assert_eq(gdt_type(f, TSS_B), SYS_TSS_BUSY);
}

/* The running task's dynamic state in TSS A (§7.2.1). */
static void expect_a_saved(struct cpu_fixture *f, uint64_t eip)
{
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_EIP, 4), eip);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(peek(f, TSS_A_BASE + TSS_GPR(i), 4),
			     i == GPR_RSP ? A_STACK : i == GPR_RSI ? FAR_PTR : A_REG(i), "register %u", i);
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_SREG(SEG_CS), 2), KCODE);
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_SREG(SEG_GS), 2), KDATA);
}

/* ---- JMP ------------------------------------------------------------------ */

Test(cpu_task, jmp_to_available_tss_saves_old_state_loads_new_and_moves_the_busy_flag)
{
	struct cpu_fixture *f = machine(0, TSS_B, jmp_far, sizeof jmp_far);
	struct cpu *c = &f->c;
	c->rflags = RFLAGS_FIXED1 | RFLAGS_SF;
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	expect_in_task_b(f);
	cr_assert_eq(flags_get(c), B_EFLAGS, "EFLAGS from the TSS, NT as the TSS has it");
	expect_a_saved(f, CPU_CODE + sizeof jmp_far);
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_EFLAGS, 4), RFLAGS_FIXED1 | RFLAGS_SF);
	cr_assert_eq(gdt_type(f, TSS_A), SYS_TSS_AVAIL, "JMP clears the old task's busy flag");
	cr_assert_eq(peek(f, TSS_B_BASE + TSS_LINK, 2), LINK_SENTINEL, "JMP does not link");
	cpu_fixture_free(f);
}

/* Identity maps for tasks A and B with 32-bit paging; B maps PROBE to
 * another frame. */
static uint64_t page_tables(struct cpu_fixture *f, uint64_t pool, bool task_b)
{
	struct ptb pt;
	const uint64_t flags = PTE_P | PTE_RW | PTE_US;
	cr_assert(ptb_init(&pt, &f->c.mmu.phys, PAGING_32, pool, pool + PT_POOL_BYTES));
	for (uint64_t la = CPU_MAPPED_START; la < CPU_MAPPED_END; la += PHYS_FRAME_SIZE) {
		uint64_t pa = task_b && la == PROBE ? PROBE_B_FRAME : la;
		cr_assert(ptb_map(&pt, la, pa, PG_4K, flags, flags));
	}
	return ptb_cr3(&pt, 0);
}

Test(cpu_task, jmp_to_tss_loads_cr3_and_the_new_task_sees_its_own_mapping)
{
	/* mov eax, [PROBE]; jmp far [esi] — task B: mov ebx, [PROBE]; hlt. */
	const uint8_t code[] = { 0xa1, (uint8_t)PROBE, (uint8_t)(PROBE >> 8), (uint8_t)(PROBE >> 16), 0,
				 0xff, 0x2e };
	const uint8_t b_code[] = { 0x8b, 0x1d, (uint8_t)PROBE, (uint8_t)(PROBE >> 8),
				   (uint8_t)(PROBE >> 16), 0, 0xf4 };
	struct cpu_fixture *f = machine(0, TSS_B, code, sizeof code);
	struct cpu *c = &f->c;
	uint64_t cr3_a = page_tables(f, PT_A_POOL, false), cr3_b = page_tables(f, PT_B_POOL, true);
	mmu_set_control(&c->mmu, CR0_PE | CR0_PG | CR0_WP, cr3_a, 0, 0);
	cpu_refresh_mode(c);
	put(f, TSS_B_BASE + TSS_CR3, cr3_b, 4);
	put(f, PROBE, PROBE_A_VALUE, 4);
	put(f, PROBE_B_FRAME, PROBE_B_VALUE, 4);
	cpu_fixture_poke(f, TASK_B_CODE, b_code, sizeof b_code);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->mmu.cr3, cr3_b);
	cr_assert_eq(c->gpr[GPR_RAX], B_REG(GPR_RAX), "EAX is task B's");
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_GPR(GPR_RAX), 4), PROBE_A_VALUE,
		     "task A read its own mapping (and its TLB entry was dropped)");
	cr_assert_eq(c->gpr[GPR_RBX], PROBE_B_VALUE, "task B reads through its own CR3");
	cpu_fixture_free(f);
}

/* ---- CALL through a task gate, IRET back --------------------------------- */

Test(cpu_task, call_through_task_gate_nests_and_iret_returns_to_the_caller)
{
	struct cpu_fixture *f = machine(0, GATE_B, call_far, sizeof call_far);
	struct cpu *c = &f->c;
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	expect_in_task_b(f);
	cr_assert_eq(flags_get(c), B_EFLAGS | RFLAGS_NT, "CALL sets NT in the new task");
	cr_assert_eq(peek(f, TSS_B_BASE + TSS_LINK, 2), TSS_A, "link to the caller's TSS");
	cr_assert_eq(gdt_type(f, TSS_A), SYS_TSS_BUSY, "CALL keeps the old task busy");
	expect_a_saved(f, CPU_CODE + sizeof call_far);

	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT); /* mov ecx, 0x77 */
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT); /* iretd */
	cr_assert_eq(c->rip, CPU_CODE + sizeof call_far);
	cr_assert_eq(c->mmu.seg.tr.selector, TSS_A);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(c->gpr[i], i == GPR_RSP ? A_STACK : i == GPR_RSI ? FAR_PTR : A_REG(i),
			     "register %u restored", i);
	cr_assert_not(flags_get(c) & RFLAGS_NT);
	cr_assert_eq(gdt_type(f, TSS_B), SYS_TSS_AVAIL, "IRET clears the returning task's busy flag");
	cr_assert_eq(gdt_type(f, TSS_A), SYS_TSS_BUSY);
	cr_assert_eq(peek(f, TSS_B_BASE + TSS_GPR(GPR_RCX), 4), 0x77, "task B's state saved");
	cr_assert_eq(peek(f, TSS_B_BASE + TSS_EIP, 4), TASK_B_CODE + sizeof task_b_code);
	cr_assert_eq(peek(f, TSS_B_BASE + TSS_EFLAGS, 4), B_EFLAGS, "NT cleared in the saved image");
	cpu_fixture_free(f);
}

Test(cpu_task, iret_with_nt_to_a_link_that_is_not_busy_is_ts_with_the_link)
{
	const uint8_t iretd[] = { 0xcf };
	struct cpu_fixture *f = machine(0, TSS_B, iretd, sizeof iretd);
	struct cpu *c = &f->c;
	put(f, TSS_A_BASE + TSS_LINK, TSS_B, 2);
	c->rflags |= RFLAGS_NT;
	cr_assert_eq(cpu_step(c), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_TS);
	cr_assert_eq(c->exc.error_code, TSS_B);
	cr_assert_eq(c->mmu.seg.tr.selector, TSS_A);
	cpu_fixture_free(f);
}

/* ---- through the IDT ------------------------------------------------------ */

static void idt_task_gate(struct cpu_fixture *f, uint8_t vector, unsigned dpl)
{
	put(f, IDT + vector * 8u, task_gate(TSS_B, dpl), 8);
	f->c.mmu.seg.idtr.base = IDT;
	f->c.mmu.seg.idtr.limit = 256 * 8 - 1;
}

Test(cpu_task, exception_through_idt_task_gate_pushes_its_error_code_on_the_new_stack)
{
	const uint8_t mov_ds_ax[] = { 0x8e, 0xd8 };
	const uint16_t bad = 0x7ff8;
	struct cpu_fixture *f = machine(0, 0, mov_ds_ax, sizeof mov_ds_ax);
	struct cpu *c = &f->c;
	idt_task_gate(f, GP_VECTOR_GATE, 0);
	c->deliver_exceptions = true;
	c->gpr[GPR_RAX] = bad;
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	cr_assert_eq(c->rip, TASK_B_CODE);
	cr_assert_eq(c->mmu.seg.tr.selector, TSS_B);
	cr_assert_eq(c->gpr[GPR_RSP], B_STACK - 4, "one doubleword pushed");
	cr_assert_eq(peek(f, B_STACK - 4, 4), bad & SEL_ERROR_MASK, "#GP(selector)");
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_EIP, 4), CPU_CODE, "the faulting instruction");
	cr_assert_eq(peek(f, TSS_B_BASE + TSS_LINK, 2), TSS_A);
	cr_assert(flags_get(c) & RFLAGS_NT);
	cpu_fixture_free(f);
}

Test(cpu_task, int_n_through_task_gate_with_dpl_below_cpl_is_gp_with_the_idt_index)
{
	const uint8_t int40[] = { 0xcd, INT_VECTOR_DPL0 };
	struct cpu_fixture *f = machine(3, 0, int40, sizeof int40);
	idt_task_gate(f, INT_VECTOR_DPL0, 0);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cr_assert_eq(f->c.exc.error_code, INT_VECTOR_DPL0 * 8 + SEG_EC_IDT);
	cr_assert_eq(f->c.mmu.seg.tr.selector, TSS_A);
	cpu_fixture_free(f);
}

/* ---- faults before the commit point change nothing ----------------------- */

/* One step faults with vector(error code) and leaves the caller as it was. */
static void expect_refused(struct cpu_fixture *f, uint8_t vector, uint32_t ec)
{
	struct cpu *c = &f->c;
	uint64_t gdt_before[GDT_ENTRIES], tss_before[TSS_LIMIT / 8 + 1];
	for (unsigned i = 0; i < GDT_ENTRIES; i++)
		gdt_before[i] = peek(f, GDT + i * 8u, 8);
	for (unsigned i = 0; i < TSS_LIMIT / 8 + 1; i++)
		tss_before[i] = peek(f, TSS_A_BASE + i * 8u, 8);
	cr_assert_eq(cpu_step(c), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, vector);
	cr_assert_eq(c->exc.error_code, ec);
	cr_assert_eq(c->rip, CPU_CODE);
	cr_assert_eq(c->mmu.seg.tr.selector, TSS_A);
	cr_assert_eq(c->gpr[GPR_RAX], A_REG(GPR_RAX));
	cr_assert_not(c->mmu.cr0 & CR0_TS);
	for (unsigned i = 0; i < GDT_ENTRIES; i++)
		cr_assert_eq(peek(f, GDT + i * 8u, 8), gdt_before[i], "GDT entry %u unchanged", i);
	for (unsigned i = 0; i < TSS_LIMIT / 8 + 1; i++)
		cr_assert_eq(peek(f, TSS_A_BASE + i * 8u, 8), tss_before[i], "old TSS unchanged");
}

/* A far JMP (call = false) or CALL at CPL cpl to target is refused. */
static void expect_far_refused(unsigned cpl, uint16_t target, bool call, uint8_t vector, uint32_t ec)
{
	struct cpu_fixture *f = call ? machine(cpl, target, call_far, sizeof call_far)
				     : machine(cpl, target, jmp_far, sizeof jmp_far);
	expect_refused(f, vector, ec);
	cpu_fixture_free(f);
}

Test(cpu_task, jmp_to_tss_not_present_is_np_with_its_selector)
{
	expect_far_refused(0, TSS_ABSENT, false, VEC_NP, TSS_ABSENT);
}

Test(cpu_task, call_to_busy_tss_is_gp_with_its_selector)
{
	expect_far_refused(0, TSS_OTHER_BUSY, true, VEC_GP, TSS_OTHER_BUSY);
}

Test(cpu_task, jmp_to_tss_with_limit_below_67h_is_ts_with_its_selector)
{
	expect_far_refused(0, TSS_SMALL, false, VEC_TS, TSS_SMALL);
}

Test(cpu_task, call_through_task_gate_with_dpl_below_cpl_is_gp_with_the_gate_selector)
{
	expect_far_refused(3, GATE_DPL0, true, VEC_GP, GATE_DPL0);
}

Test(cpu_task, jmp_through_task_gate_to_a_busy_tss_is_gp_with_the_tss_selector)
{
	struct cpu_fixture *f = machine(0, GATE_B, jmp_far, sizeof jmp_far);
	put(f, GDT + TSS_B, desc(SYS_TSS_BUSY, false, 3, true, TSS_B_BASE, TSS_LIMIT), 8);
	expect_refused(f, VEC_GP, TSS_B);
	cpu_fixture_free(f);
}

Test(cpu_task, old_tss_not_writable_faults_before_anything_is_written)
{
	struct cpu_fixture *f = machine(0, TSS_B, jmp_far, sizeof jmp_far);
	struct cpu *c = &f->c;
	struct ptb pt;
	const uint64_t rw = PTE_P | PTE_RW | PTE_US;
	cr_assert(ptb_init(&pt, &c->mmu.phys, PAGING_32, PT_A_POOL, PT_A_POOL + PT_POOL_BYTES));
	for (uint64_t la = CPU_MAPPED_START; la < CPU_MAPPED_END; la += PHYS_FRAME_SIZE)
		cr_assert(ptb_map(&pt, la, la, PG_4K, la == TSS_A_BASE ? rw & ~PTE_RW : rw, rw));
	mmu_set_control(&c->mmu, CR0_PE | CR0_PG | CR0_WP, ptb_cr3(&pt, 0), 0, 0);
	cpu_refresh_mode(c);
	expect_refused(f, VEC_PF, PFEC_P | PFEC_WR);
	cr_assert_eq(gdt_type(f, TSS_B), SYS_TSS_AVAIL);
	cpu_fixture_free(f);
}

/* ---- faults after the commit point belong to the new task ---------------- */

Test(cpu_task, bad_cs_in_the_new_tss_is_ts_raised_in_the_new_task)
{
	struct cpu_fixture *f = machine(0, TSS_B, jmp_far, sizeof jmp_far);
	struct cpu *c = &f->c;
	put(f, TSS_B_BASE + TSS_SREG(SEG_CS), KDATA, 4);
	cr_assert_eq(cpu_step(c), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_TS);
	cr_assert_eq(c->exc.error_code, KDATA, "#TS(new CS): not a code segment");
	cr_assert_eq(c->exc.rip, TASK_B_CODE, "raised at the new task's EIP");
	cr_assert_eq(c->mmu.seg.tr.selector, TSS_B);
	cr_assert_eq(gdt_type(f, TSS_A), SYS_TSS_AVAIL);
	cr_assert(c->mmu.cr0 & CR0_TS);
	cpu_fixture_free(f);
}

Test(cpu_task, int_n_through_task_gate_to_a_bad_cs_faults_in_the_new_task)
{
	const uint8_t int40[] = { 0xcd, INT_VECTOR_DPL0 };
	struct cpu_fixture *f = machine(0, 0, int40, sizeof int40);
	idt_task_gate(f, INT_VECTOR_DPL0, 0);
	put(f, TSS_B_BASE + TSS_SREG(SEG_CS), KDATA, 4);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_TS);
	cr_assert_eq(f->c.exc.error_code, KDATA);
	cr_assert_eq(f->c.exc.rip, TASK_B_CODE);
	cr_assert_eq(f->c.mmu.seg.tr.selector, TSS_B);
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_EIP, 4), CPU_CODE + sizeof int40);
	cpu_fixture_free(f);
}

Test(cpu_task, ss_with_dpl_other_than_the_new_cpl_is_ts_with_the_ss_selector)
{
	struct cpu_fixture *f = machine(0, TSS_B, jmp_far, sizeof jmp_far);
	put(f, TSS_B_BASE + TSS_SREG(SEG_SS), UDATA, 4);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_TS);
	cr_assert_eq(f->c.exc.error_code, UDATA & SEL_ERROR_MASK);
	cr_assert_eq(f->c.mmu.seg.sr[SEG_CS].selector, KCODE, "CS loaded before SS");
	cpu_fixture_free(f);
}

/* ---- what is not a task switch ------------------------------------------- */

Test(cpu_task, switch_into_a_virtual_8086_task_is_not_modelled_and_counted)
{
	struct cpu_fixture *f = machine(0, TSS_B, jmp_far, sizeof jmp_far);
	put(f, TSS_B_BASE + TSS_EFLAGS, B_EFLAGS | RFLAGS_VM, 4);
	expect_refused(f, VEC_UD, 0);
	cr_assert_eq(cpu_unimplemented_count(&f->c, "jmp"), 1);
	cpu_fixture_free(f);
}

Test(cpu_task, task_gate_as_far_jmp_target_in_ia32e_mode_is_gp_with_its_selector)
{
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	uint64_t gdt[4] = { 0, 0, task_gate(TSS_B, 3), 0 };
	cpu_fixture_gdt(f, GDT, gdt, sizeof gdt);
	put(f, FAR_PTR + 4, 0x10, 2);
	f->c.gpr[GPR_RSI] = FAR_PTR;
	cpu_fixture_code(f, CPU_CODE, jmp_far, sizeof jmp_far);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cr_assert_eq(f->c.exc.error_code, 0x10);
	cpu_fixture_free(f);
}

Test(cpu_task, iretq_with_nt_in_ia32e_mode_is_gp_0)
{
	const uint8_t iretq[] = { 0x48, 0xcf };
	struct cpu_fixture *f = cpu_fixture_with_code(iretq, sizeof iretq);
	f->c.rflags |= RFLAGS_NT;
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cr_assert_eq(f->c.exc.error_code, 0);
	cr_assert_eq(f->c.rip, CPU_CODE);
	cpu_fixture_free(f);
}

Test(cpu_task, int_n_through_task_gate_saves_the_next_eip_and_pushes_nothing)
{
	const uint8_t int40[] = { 0xcd, INT_VECTOR_DPL0 };
	struct cpu_fixture *f = machine(0, 0, int40, sizeof int40);
	struct cpu *c = &f->c;
	idt_task_gate(f, INT_VECTOR_DPL0, 0);
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	expect_in_task_b(f);
	cr_assert_eq(flags_get(c), B_EFLAGS | RFLAGS_NT, "a nested switch sets NT");
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_EIP, 4), CPU_CODE + sizeof int40, "the next instruction");
	cr_assert_eq(peek(f, TSS_B_BASE + TSS_LINK, 2), TSS_A);
	cr_assert_eq(gdt_type(f, TSS_A), SYS_TSS_BUSY, "an interrupt keeps the old task busy");
	cpu_fixture_free(f);
}

Test(cpu_task, external_interrupt_through_task_gate_switches_between_instructions)
{
	const uint8_t nop[] = { 0x90 };
	const uint8_t vector = 0x30;
	struct cpu_fixture *f = machine(0, 0, nop, sizeof nop);
	idt_task_gate(f, vector, 0);
	f->c.deliver_exceptions = true;
	cr_assert(cpu_interrupt(&f->c, vector));
	expect_in_task_b(f);
	cr_assert_eq(peek(f, TSS_A_BASE + TSS_EIP, 4), CPU_CODE, "the interrupted instruction");
	cpu_fixture_free(f);
}

/* ---- 16-bit TSSs (§7.6) ---------------------------------------------------- */

/* A 16-bit TSS at TSS16_BASE: IP at TASK_B_CODE, 16-bit registers
 * 0x1600 + n, kernel segments (no FS/GS fields), SP at B_STACK's low
 * half. */
static void tss16_build(struct cpu_fixture *f)
{
	put(f, TSS16_BASE + TSS16_IP, TASK_B_CODE & 0xffff, 2);
	put(f, TSS16_BASE + TSS16_FLAGS, B_EFLAGS, 2);
	for (unsigned i = 0; i < 8; i++)
		put(f, TSS16_BASE + TSS16_GPR(i), 0x1600 + i, 2);
	for (unsigned r = 0; r <= SEG_DS; r++)
		put(f, TSS16_BASE + TSS16_SREG(r), r == SEG_CS ? KCODE : KDATA, 2);
	put(f, TSS16_BASE + TSS16_LDT, 0, 2);
}

Test(cpu_task, call_to_16bit_tss_loads_word_fields_and_iret_saves_them_in_16bit_form)
{
	struct cpu_fixture *f = machine(0, TSS16_SEL, call_far, sizeof call_far);
	struct cpu *c = &f->c;
	tss16_build(f);
	cpu_fixture_code(f, TASK_B_CODE & 0xffff, task_b_code, sizeof task_b_code);
	c->rip = CPU_CODE;
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	cr_assert_eq(c->rip, TASK_B_CODE & 0xffff, "IP zero-extended");
	cr_assert_eq(c->gpr[GPR_RAX], TSS16_GPR_UPPER | 0x1600);
	cr_assert_eq(c->gpr[GPR_RDI], TSS16_GPR_UPPER | 0x1607);
	cr_assert_eq(flags_get(c), B_EFLAGS | RFLAGS_NT);
	cr_assert_eq(sel_of(f, SEG_FS), 0, "no FS in a 16-bit TSS: null");
	cr_assert_not(c->mmu.seg.sr[SEG_GS].usable);
	cr_assert_eq(sel_of(f, SEG_DS), KDATA);
	cr_assert_eq(c->mmu.seg.tr.type, SYS_TSS16_BUSY);
	cr_assert_eq(gdt_type(f, TSS16_SEL), SYS_TSS16_BUSY);
	cr_assert_eq(peek(f, TSS16_BASE + TSS_LINK, 2), TSS_A);
	expect_a_saved(f, CPU_CODE + sizeof call_far);

	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT); /* mov ecx, 0x77 */
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT); /* iretd */
	cr_assert_eq(c->rip, CPU_CODE + sizeof call_far);
	cr_assert_eq(c->mmu.seg.tr.selector, TSS_A);
	cr_assert_eq(c->gpr[GPR_RCX], A_REG(GPR_RCX));
	cr_assert_eq(gdt_type(f, TSS16_SEL), SYS_TSS16_AVAIL);
	cr_assert_eq(peek(f, TSS16_BASE + TSS16_GPR(GPR_RCX), 2), 0x77, "CX saved as a word");
	cr_assert_eq(peek(f, TSS16_BASE + TSS16_GPR(GPR_RDX), 2), 0x1602);
	cr_assert_eq(peek(f, TSS16_BASE + TSS16_IP, 2), (TASK_B_CODE + sizeof task_b_code) & 0xffff);
	cr_assert_eq(peek(f, TSS16_BASE + TSS16_SREG(SEG_DS) + 2, 2), 0, "the LDT field is not written");
	cpu_fixture_free(f);
}

Test(cpu_task, exception_through_task_gate_to_16bit_tss_pushes_a_word)
{
	const uint8_t mov_ds_ax[] = { 0x8e, 0xd8 };
	const uint16_t bad = 0x7ff8;
	struct cpu_fixture *f = machine(0, 0, mov_ds_ax, sizeof mov_ds_ax);
	struct cpu *c = &f->c;
	const uint64_t sp = 0x8000;
	tss16_build(f);
	put(f, TSS16_BASE + TSS16_GPR(GPR_RSP), sp, 2);
	put(f, TSS16_BASE + TSS16_SREG(SEG_SS), DATA16, 2);
	put(f, IDT + GP_VECTOR_GATE * 8u, task_gate(TSS16_SEL, 0), 8);
	c->mmu.seg.idtr.base = IDT;
	c->mmu.seg.idtr.limit = 256 * 8 - 1;
	c->deliver_exceptions = true;
	c->gpr[GPR_RAX] = bad;
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	cr_assert_eq(c->mmu.seg.tr.selector, TSS16_SEL);
	cr_assert_eq(sel_of(f, SEG_SS), DATA16);
	cr_assert_eq(c->gpr[GPR_RSP], (TSS16_GPR_UPPER | sp) - 2, "one word pushed on SP");
	cr_assert_eq(peek(f, CPU_DATA + sp - 2, 2), bad & SEL_ERROR_MASK);
	cr_assert_eq(peek(f, CPU_DATA + sp - 4, 2), 0, "nothing more");
	cpu_fixture_free(f);
}

/* ---- the T flag (SDM Vol. 3B §17.3.1.5) ------------------------------------ */

#define TSS_T 0x64u /* bit 0: debug trap flag */

Test(cpu_task, switch_into_a_tss_with_t_set_traps_before_the_new_tasks_first_instruction)
{
	struct cpu_fixture *f = machine(0, TSS_B, jmp_far, sizeof jmp_far);
	struct cpu *c = &f->c;
	put(f, TSS_B_BASE + TSS_T, 1, 2);
	cr_assert_eq(c->dr[6] & (DR6_BT | DR6_BS), 0);
	cr_assert_eq(cpu_step(c), CPU_STOP_EXCEPTION, "the trap comes with the switch");
	cr_assert_eq(c->exc.vector, VEC_DB);
	cr_assert_eq(c->exc.rip, TASK_B_CODE, "before task B's first instruction");
	expect_in_task_b(f);
	cr_assert(c->dr[6] & DR6_BT, "DR6.BT reports a task-switch trap");
	cr_assert_not(c->dr[6] & DR6_BS);
	cpu_fixture_free(f);

	/* An interrupt through a task gate: the trap is due when the loop
	 * next runs, before anything is fetched. */
	const uint8_t nop[] = { 0x90 };
	f = machine(0, 0, nop, sizeof nop);
	c = &f->c;
	put(f, TSS_B_BASE + TSS_T, 1, 2);
	idt_task_gate(f, 0x30, 0);
	cr_assert(cpu_interrupt(c, 0x30));
	cr_assert_eq(c->db_pending, DR6_BT);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_DB);
	cr_assert_eq(c->exc.rip, TASK_B_CODE);
	cr_assert_eq(c->gpr[GPR_RCX], B_REG(GPR_RCX), "task B has not run");
	cr_assert_eq(c->insns, 0, "a trap is not an instruction");
	cpu_fixture_free(f);
}

Test(cpu_task, a_switch_clears_the_local_breakpoint_enables_and_keeps_the_global_ones)
{
	struct cpu_fixture *f = machine(0, TSS_B, jmp_far, sizeof jmp_far);
	struct cpu *c = &f->c;
	c->dr[0] = c->dr[1] = c->dr[2] = c->dr[3] = 0x7000; /* nowhere near the code */
	c->dr[7] = 0xff;                                     /* L0..L3, G0..G3: execute */
	cpu_debug_update(c);
	cr_assert_eq(c->bp_exec, 0xf);
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	expect_in_task_b(f);
	cr_assert_eq(c->dr[7], 0xaa, "L0..L3 cleared (SDM Vol. 3B §17.2.4)");
	cr_assert_eq(c->bp_exec, 0xf, "G0..G3 still enable all four");
	cpu_fixture_free(f);
}
