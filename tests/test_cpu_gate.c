/* Far JMP and far CALL through call gates (SDM Vol. 3A §5.8.3–§5.8.6;
 * Vol. 2 CALL, JMP, RET): same-privilege transfers through 16-, 32- and
 * 64-bit gates with the gate's slot size, the stack switch to an inner
 * level through the TSS with the parameter copy, the far RET back with its
 * imm16 release on both stacks, and the faults in the SDM's order, each
 * leaving the caller's state untouched. The GDT and TSS are built by the
 * test; TR is set directly. */
#include <criterion/criterion.h>

#include "emu/alu.h"
#include "tests/cpu_support.h"

#define GDT (CPU_DATA + 0x8000)
#define TSS (CPU_DATA + 0xa000)
#define FAR_PTR CPU_DATA            /* m16:32 operand of the far CALL/JMP */
#define TARGET (CPU_CODE + 0x1000)  /* where the gates lead */
#define TARGET16 UINT64_C(0x9000)   /* a 16-bit gate's target (16-bit offset) */
#define USER_STACK (CPU_DATA + 0x30000)
#define KERNEL_STACK (CPU_DATA + 0x20008) /* not 16-aligned: call gates do not align */
#define UNMAPPED_STACK (CPU_MAPPED_END + 0x2000)
#define PARAM0 UINT64_C(0x11111111)
#define PARAM1 UINT64_C(0x22222222)

/* GDT selectors. Gates in IA-32e mode take two entries. */
enum {
	KCODE = 0x08,          /* DPL 0: 64-bit code in IA-32e mode, 32-bit outside */
	KDATA = 0x10,          /* DPL 0 writable data */
	UDATA = 0x18 | 3,      /* DPL 3 writable data */
	UCODE = 0x20 | 3,      /* DPL 3 code, like KCODE */
	KCODE32 = 0x28,        /* DPL 0 32-bit code: compatibility mode in IA-32e */
	TSS_SEL = 0x30,
	GATE_K = 0x40,         /* DPL 3 → KCODE at TARGET, 2 parameters outside IA-32e */
	GATE_U = 0x50,         /* DPL 3 → UCODE at TARGET */
	GATE_DPL0 = 0x60,      /* DPL 0 → KCODE */
	GATE_ABSENT = 0x70,    /* not present */
	GATE_DATA = 0x80,      /* → KDATA: not code */
	GATE_COMPAT = 0x90,    /* → KCODE32 */
	GATE_UPPER = 0xa0,     /* 16-byte gate with a non-zero upper type field */
	GATE16 = 0xb0,         /* 16-bit gate (outside IA-32e mode) → KCODE at TARGET16 */
	TINY_DATA = 0xc0,      /* DPL 0 writable data, limit 0xfff */
	GDT_ENTRIES = 26,
};
#define TSS_LIMIT 0x67u
#define TSS64_RSP0 4u
#define TSS32_ESP0 4u
#define TSS32_SS0 8u
#define TSS16_SP0 2u
#define TSS16_SS0 4u
#define GATE_K_PARAMS 2u

static const uint8_t call_far[] = { 0xff, 0x1e }; /* call far [rsi] (m16:32) */
static const uint8_t jmp_far[] = { 0xff, 0x2e };  /* jmp far [rsi] */
static const uint8_t retfq[] = { 0x48, 0xcb };    /* retfq */
static const uint8_t retf_8[] = { 0xca, 0x08, 0x00 }; /* retf 8 (32-bit) */

static uint64_t segment(uint8_t type, unsigned dpl, uint32_t limit, bool g, bool l)
{
	return (limit & 0xffff) | ((uint64_t)type << DESC_TYPE_SHIFT) | BIT64(DESC_S_SHIFT) |
	       ((uint64_t)dpl << DESC_DPL_SHIFT) | BIT64(DESC_P_SHIFT) |
	       ((uint64_t)(limit >> 16 & 0xf) << DESC_LIMIT_HI_SHIFT) |
	       (g ? BIT64(DESC_G_SHIFT) : 0) | (l ? BIT64(DESC_L_SHIFT) : BIT64(DESC_DB_SHIFT));
}

static uint64_t code(unsigned dpl, bool l)
{
	return segment(SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE, dpl, 0xfffff, true, l);
}

static uint64_t data(unsigned dpl)
{
	return segment(SEG_TYPE_DATA_WRITABLE, dpl, 0xfffff, true, false);
}

/* A call gate's two quadwords (the second is ignored outside IA-32e mode). */
static void gate(uint64_t *gdt, unsigned sel, uint8_t type, unsigned dpl, bool present,
		 uint16_t target, uint64_t off, unsigned params)
{
	gdt[sel >> 3] = (off & 0xffff) | ((uint64_t)target << GATE_SELECTOR_SHIFT) |
			((uint64_t)params << GATE_PARAMS_SHIFT) | ((uint64_t)type << DESC_TYPE_SHIFT) |
			((uint64_t)dpl << DESC_DPL_SHIFT) | (present ? BIT64(DESC_P_SHIFT) : 0) |
			((off >> 16 & 0xffff) << GATE_OFFSET_MID_SHIFT);
	gdt[(sel >> 3) + 1] = off >> 32;
}

static void gdt_build(struct cpu_fixture *f, bool ia32e)
{
	uint64_t gdt[GDT_ENTRIES] = { 0 };
	gdt[KCODE >> 3] = code(0, ia32e);
	gdt[KDATA >> 3] = data(0);
	gdt[UDATA >> 3] = data(3);
	gdt[UCODE >> 3] = code(3, ia32e);
	gdt[KCODE32 >> 3] = code(0, false);
	gdt[TSS_SEL >> 3] = TSS_LIMIT | ((TSS & 0xffffff) << DESC_BASE_LO_SHIFT) |
			    ((uint64_t)SYS_TSS_BUSY << DESC_TYPE_SHIFT) | BIT64(DESC_P_SHIFT) |
			    ((TSS >> 24 & 0xff) << DESC_BASE_HI_SHIFT);
	gate(gdt, GATE_K, SYS_CALL_GATE, 3, true, KCODE, TARGET, GATE_K_PARAMS);
	gate(gdt, GATE_U, SYS_CALL_GATE, 3, true, UCODE, TARGET, 0);
	gate(gdt, GATE_DPL0, SYS_CALL_GATE, 0, true, KCODE, TARGET, 0);
	gate(gdt, GATE_ABSENT, SYS_CALL_GATE, 3, false, KCODE, TARGET, 0);
	gate(gdt, GATE_DATA, SYS_CALL_GATE, 3, true, KDATA, TARGET, 0);
	gate(gdt, GATE_COMPAT, SYS_CALL_GATE, 3, true, KCODE32, TARGET, 0);
	gate(gdt, GATE_UPPER, SYS_CALL_GATE, 3, true, KCODE, TARGET, 0);
	gdt[(GATE_UPPER >> 3) + 1] |= (uint64_t)SYS_CALL_GATE << DESC_HI_TYPE_SHIFT;
	gate(gdt, GATE16, SYS_CALL_GATE16, 3, true, KCODE, TARGET16, 0);
	gdt[TINY_DATA >> 3] = segment(SEG_TYPE_DATA_WRITABLE, 0, 0xfff, false, false);
	cpu_fixture_gdt(f, GDT, gdt, sizeof gdt);
	cpu_fixture_tr(f, TSS_SEL, TSS, TSS_LIMIT);
}

static void put(struct cpu_fixture *f, uint64_t la, uint64_t v, unsigned size)
{
	cpu_fixture_poke(f, la, &v, size);
}

/* A machine in IA-32e 64-bit mode or 32-bit protected mode (no paging) at
 * CPL cpl, its segment registers holding this GDT's selectors, the TSS
 * stack for CPL 0 at KERNEL_STACK (SS0 = KDATA outside IA-32e mode), RSP
 * at USER_STACK, RSI at a far pointer naming sel, code at CPU_CODE. */
static struct cpu_fixture *machine(bool ia32e, unsigned cpl, uint16_t sel, const uint8_t *insn,
				   size_t n)
{
	struct cpu_fixture *f = ia32e ? cpu_fixture_new("flat", cpl) : cpu_fixture_new_flat32("flat");
	struct seg_state *s = &f->c.mmu.seg;
	gdt_build(f, ia32e);
	if (ia32e)
		cpu_setup_flat64(&f->c, cpl);
	else
		cpu_setup_flat32(&f->c, cpl);
	for (unsigned r = 0; r < SEG_NREGS; r++)
		s->sr[r].selector = cpl ? UDATA : KDATA;
	s->sr[SEG_CS].selector = cpl ? UCODE : KCODE;
	cpu_refresh_mode(&f->c);
	if (ia32e) {
		put(f, TSS + TSS64_RSP0, KERNEL_STACK, 8);
	} else {
		put(f, TSS + TSS32_ESP0, KERNEL_STACK, 4);
		put(f, TSS + TSS32_SS0, KDATA, 2);
	}
	put(f, FAR_PTR, 0xdeadbeef, 4); /* the offset: ignored for a gate */
	put(f, FAR_PTR + 4, sel, 2);
	f->c.gpr[GPR_RSI] = FAR_PTR;
	f->c.gpr[GPR_RSP] = USER_STACK;
	cpu_fixture_code(f, CPU_CODE, insn, n);
	return f;
}

static uint64_t peek(struct cpu_fixture *f, uint64_t la, unsigned size)
{
	return cpu_fixture_peek(f, la, size);
}

static uint16_t sel_of(const struct cpu_fixture *f, enum seg_reg r)
{
	return f->c.mmu.seg.sr[r].selector;
}

/* ---- JMP ------------------------------------------------------------------ */

Test(cpu_gate, jmp_through_64bit_gate_loads_cs_and_rip_from_the_gate)
{
	struct cpu_fixture *f = machine(true, 3, GATE_U, jmp_far, sizeof jmp_far);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_LIMIT);
	cr_assert_eq(f->c.rip, TARGET, "RIP from the gate, not the pointer's offset");
	cr_assert_eq(sel_of(f, SEG_CS), UCODE);
	cr_assert_eq(f->c.cpl, 3);
	cr_assert_eq(f->c.gpr[GPR_RSP], USER_STACK, "a JMP pushes nothing");
	cr_assert_eq(cpu_unimplemented_count(&f->c, "jmp"), 0);
	cpu_fixture_free(f);
}

Test(cpu_gate, jmp_through_gate_to_more_privileged_code_is_gp_with_the_target_selector)
{
	struct cpu_fixture *f = machine(true, 3, GATE_K, jmp_far, sizeof jmp_far);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cr_assert_eq(f->c.exc.error_code, KCODE, "JMP never changes privilege (Table 5-1)");
	cr_assert_eq(f->c.rip, CPU_CODE);
	cr_assert_eq(sel_of(f, SEG_CS), UCODE);
	cpu_fixture_free(f);
}

Test(cpu_gate, jmp_through_32bit_gate_stays_at_cpl_0_in_protected_mode)
{
	struct cpu_fixture *f = machine(false, 0, GATE_K, jmp_far, sizeof jmp_far);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_LIMIT);
	cr_assert_eq(f->c.rip, TARGET);
	cr_assert_eq(sel_of(f, SEG_CS), KCODE);
	cr_assert_eq(f->c.mode, CPU_MODE_PROT32);
	cpu_fixture_free(f);
}

Test(cpu_gate, gate_offset_beyond_the_new_cs_limit_is_gp_0)
{
	struct cpu_fixture *f = machine(false, 0, GATE_K, jmp_far, sizeof jmp_far);
	uint64_t small = segment(SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE, 0, 0xfff, false, false);
	put(f, GDT + KCODE, small, 8);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cr_assert_eq(f->c.exc.error_code, 0);
	cr_assert_eq(f->c.rip, CPU_CODE);
	cpu_fixture_free(f);
}

/* ---- CALL, same privilege ------------------------------------------------ */

/* One step lands at target with CS = cs and the caller's return address
 * and CS in two slot-byte entries below USER_STACK, and nothing below. */
static void expect_same_privilege_call(struct cpu_fixture *f, uint64_t target, uint16_t cs,
				       unsigned slot)
{
	const uint64_t low = USER_STACK - 2 * slot;
	put(f, low - 8, UINT64_MAX, 8);
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_LIMIT);
	cr_assert_eq(f->c.rip, target);
	cr_assert_eq(sel_of(f, SEG_CS), cs);
	cr_assert_eq(f->c.cpl, cs & SEL_RPL_MASK);
	cr_assert_eq(f->c.gpr[GPR_RSP], low, "two %u-byte slots", slot);
	cr_assert_eq(peek(f, low, slot), (CPU_CODE + sizeof call_far) & (UINT64_MAX >> (64 - 8 * slot)));
	cr_assert_eq(peek(f, low + slot, slot), cs);
	cr_assert_eq(peek(f, low - 8, 8), UINT64_MAX, "nothing below the frame");
}

Test(cpu_gate, call_through_64bit_gate_at_same_privilege_pushes_8_byte_cs_and_rip)
{
	struct cpu_fixture *f = machine(true, 3, GATE_U, call_far, sizeof call_far);
	expect_same_privilege_call(f, TARGET, UCODE, 8);
	cr_assert_eq(sel_of(f, SEG_SS), UDATA, "no stack switch");
	cpu_fixture_free(f);
}

Test(cpu_gate, call_through_32bit_gate_at_same_privilege_pushes_4_byte_slots)
{
	struct cpu_fixture *f = machine(false, 0, GATE_K, call_far, sizeof call_far);
	expect_same_privilege_call(f, TARGET, KCODE, 4);
	cr_assert_eq(sel_of(f, SEG_SS), KDATA);
	cpu_fixture_free(f);
}

Test(cpu_gate, call_through_16bit_gate_pushes_2_byte_slots_and_a_16_bit_offset)
{
	struct cpu_fixture *f = machine(false, 0, GATE16, call_far, sizeof call_far);
	expect_same_privilege_call(f, TARGET16, KCODE, 2);
	cpu_fixture_free(f);
}

/* ---- CALL to an inner level and RET back --------------------------------- */

/* One step (the far RET) is back in ring 3 after the CALL, with rsp. */
static void expect_return_to_ring3(struct cpu_fixture *f, uint64_t rsp)
{
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_LIMIT);
	cr_assert_eq(f->c.cpl, 3);
	cr_assert_eq(f->c.rip, CPU_CODE + sizeof call_far);
	cr_assert_eq(sel_of(f, SEG_CS), UCODE);
	cr_assert_eq(sel_of(f, SEG_SS), UDATA);
	cr_assert_eq(f->c.gpr[GPR_RSP], rsp);
}

Test(cpu_gate, call_through_64bit_gate_from_ring3_switches_to_rsp0_with_null_ss_and_retfq_returns)
{
	struct cpu_fixture *f = machine(true, 3, GATE_K, call_far, sizeof call_far);
	struct cpu *c = &f->c;
	cpu_fixture_poke(f, TARGET, retfq, sizeof retfq);
	put(f, KERNEL_STACK - 40, UINT64_MAX, 8);
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	cr_assert_eq(c->cpl, 0);
	cr_assert_eq(c->rip, TARGET);
	cr_assert_eq(sel_of(f, SEG_CS), KCODE);
	cr_assert_eq(sel_of(f, SEG_SS), 0, "null SS with RPL = new CPL");
	cr_assert_not(c->mmu.seg.sr[SEG_SS].usable);
	cr_assert_eq(c->gpr[GPR_RSP], KERNEL_STACK - 32, "RSP0, four 8-byte slots, no alignment");
	cr_assert_eq(peek(f, KERNEL_STACK - 32, 8), CPU_CODE + sizeof call_far);
	cr_assert_eq(peek(f, KERNEL_STACK - 24, 8), UCODE);
	cr_assert_eq(peek(f, KERNEL_STACK - 16, 8), USER_STACK);
	cr_assert_eq(peek(f, KERNEL_STACK - 8, 8), UDATA);
	cr_assert_eq(peek(f, KERNEL_STACK - 40, 8), UINT64_MAX, "no parameters copied in IA-32e");

	expect_return_to_ring3(f, USER_STACK);
	cpu_fixture_free(f);
}

Test(cpu_gate, call_through_32bit_gate_from_ring3_copies_two_parameters_and_retf_imm_releases_them)
{
	struct cpu_fixture *f = machine(false, 3, GATE_K, call_far, sizeof call_far);
	struct cpu *c = &f->c;
	const uint64_t user_sp = USER_STACK - 8;
	cpu_fixture_poke(f, TARGET, retf_8, sizeof retf_8);
	put(f, user_sp, PARAM0, 4);
	put(f, user_sp + 4, PARAM1, 4);
	c->gpr[GPR_RSP] = user_sp;
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	cr_assert_eq(c->cpl, 0);
	cr_assert_eq(c->mode, CPU_MODE_PROT32);
	cr_assert_eq(sel_of(f, SEG_SS), KDATA, "SS0 from the TSS");
	cr_assert_eq(c->gpr[GPR_RSP], KERNEL_STACK - 24, "six 4-byte slots");
	cr_assert_eq(peek(f, KERNEL_STACK - 24, 4), CPU_CODE + sizeof call_far);
	cr_assert_eq(peek(f, KERNEL_STACK - 20, 4), UCODE);
	cr_assert_eq(peek(f, KERNEL_STACK - 16, 4), PARAM0, "parameters keep their order");
	cr_assert_eq(peek(f, KERNEL_STACK - 12, 4), PARAM1);
	cr_assert_eq(peek(f, KERNEL_STACK - 8, 4), user_sp);
	cr_assert_eq(peek(f, KERNEL_STACK - 4, 4), UDATA);

	expect_return_to_ring3(f, user_sp + 8); /* imm16 released on the caller's stack too */
	cpu_fixture_free(f);
}

Test(cpu_gate, a_16bit_tss_supplies_ss0_and_a_16_bit_sp0)
{
	struct cpu_fixture *f = machine(false, 3, GATE_K, call_far, sizeof call_far);
	struct cpu *c = &f->c;
	const uint64_t sp0 = 0x7000;
	c->mmu.seg.tr.type = SYS_TSS16_BUSY;
	put(f, TSS + TSS16_SP0, sp0, 2);
	put(f, TSS + TSS16_SS0, KDATA, 2);
	cr_assert_eq(cpu_step(c), CPU_STOP_LIMIT);
	cr_assert_eq(c->cpl, 0);
	cr_assert_eq(sel_of(f, SEG_SS), KDATA);
	cr_assert_eq(c->gpr[GPR_RSP], sp0 - 24, "the 32-bit gate's six 4-byte entries");
	cr_assert_eq(peek(f, sp0 - 4, 4), UDATA);
	cpu_fixture_free(f);
}

/* ---- faults ---------------------------------------------------------------- */

/* The caller's state, compared after a fault. */
struct snapshot {
	uint64_t rip, rsp;
	uint16_t cs, ss;
	unsigned cpl;
	bool ss_usable;
};

static struct snapshot snap(const struct cpu_fixture *f)
{
	return (struct snapshot){
		.rip = f->c.rip, .rsp = f->c.gpr[GPR_RSP], .cs = sel_of(f, SEG_CS),
		.ss = sel_of(f, SEG_SS), .cpl = f->c.cpl, .ss_usable = f->c.mmu.seg.sr[SEG_SS].usable,
	};
}

#define ANY_EC UINT32_MAX

/* One step faults with vector (and error code ec unless ANY_EC), and the
 * caller's registers, selectors, CPL and SS cache are as before. */
static void expect_fault(struct cpu_fixture *f, uint8_t vector, uint32_t ec, const char *what)
{
	struct snapshot before = snap(f), after;
	cr_assert_eq(cpu_step(&f->c), CPU_STOP_EXCEPTION, "%s", what);
	after = snap(f);
	cr_assert_eq(f->c.exc.vector, vector, "%s: vector %u", what, f->c.exc.vector);
	if (ec != ANY_EC)
		cr_assert_eq(f->c.exc.error_code, ec, "%s: error code %#x", what,
			     f->c.exc.error_code);
	cr_assert_eq(after.rip, before.rip, "%s", what);
	cr_assert_eq(after.rsp, before.rsp, "%s", what);
	cr_assert_eq(after.cs, before.cs, "%s", what);
	cr_assert_eq(after.ss, before.ss, "%s", what);
	cr_assert_eq(after.cpl, before.cpl, "%s", what);
	cr_assert_eq(after.ss_usable, before.ss_usable, "%s", what);
	cr_assert_eq(f->c.mmu.seg.sr[SEG_SS].dpl, before.cpl, "%s: SS cache restored", what);
}

struct gate_fault {
	const char *what;
	uint16_t sel;
	uint8_t vector;
	uint32_t ec;
};

Test(cpu_gate, faults_name_the_gate_or_the_target_selector_and_change_nothing)
{
	const struct gate_fault cases[] = {
		{ "gate DPL < CPL", GATE_DPL0, VEC_GP, GATE_DPL0 },
		{ "gate not present", GATE_ABSENT, VEC_NP, GATE_ABSENT },
		{ "target not code", GATE_DATA, VEC_GP, KDATA },
		{ "IA-32e target not 64-bit code", GATE_COMPAT, VEC_GP, KCODE32 },
		{ "non-zero upper type", GATE_UPPER, VEC_GP, GATE_UPPER },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cpu_fixture *f = machine(true, 3, cases[i].sel, call_far, sizeof call_far);
		expect_fault(f, cases[i].vector, cases[i].ec, cases[i].what);
		cpu_fixture_free(f);
	}
}

Test(cpu_gate, tss_stack_segment_with_wrong_dpl_is_ts_with_its_selector)
{
	struct cpu_fixture *f = machine(false, 3, GATE_K, call_far, sizeof call_far);
	put(f, TSS + TSS32_SS0, UDATA, 2);
	expect_fault(f, VEC_TS, UDATA & SEL_ERROR_MASK, "SS0 is a DPL 3 segment");
	cpu_fixture_free(f);
}

Test(cpu_gate, tss_stack_pointer_beyond_the_tss_limit_is_ts_with_the_tss_selector)
{
	struct cpu_fixture *f = machine(false, 3, GATE_K, call_far, sizeof call_far);
	f->c.mmu.seg.tr.limit = TSS32_SS0; /* SS0's second byte lies beyond it */
	expect_fault(f, VEC_TS, TSS_SEL, "TSS limit");
	cpu_fixture_free(f);
}

Test(cpu_gate, inner_stack_beyond_its_limit_is_ss_with_its_selector_and_changes_nothing)
{
	struct cpu_fixture *f = machine(false, 3, GATE_K, call_far, sizeof call_far);
	put(f, TSS + TSS32_SS0, TINY_DATA, 2);
	put(f, TSS + TSS32_ESP0, 0x10, 4); /* the 24-byte frame wraps below 0 */
	expect_fault(f, VEC_SS, TINY_DATA, "new stack too small");
	cpu_fixture_free(f);
}

Test(cpu_gate, parameter_beyond_the_caller_stack_limit_is_ss_0_and_changes_nothing)
{
	struct cpu_fixture *f = machine(false, 3, GATE_K, call_far, sizeof call_far);
	const uint64_t user_sp = USER_STACK - 8;
	f->c.gpr[GPR_RSP] = user_sp;
	f->c.mmu.seg.sr[SEG_SS].limit = (uint32_t)user_sp + 3; /* PARAM1 lies beyond it */
	put(f, KERNEL_STACK - 4, UINT64_MAX, 4);
	expect_fault(f, VEC_SS, 0, "second parameter");
	cr_assert_eq(f->c.mmu.seg.sr[SEG_SS].limit, user_sp + 3, "the caller's SS cache is back");
	cr_assert_eq(peek(f, KERNEL_STACK - 4, 4), 0xffffffffu, "nothing pushed");
	cpu_fixture_free(f);
}

Test(cpu_gate, page_fault_on_the_inner_stack_is_precise)
{
	struct cpu_fixture *f = machine(true, 3, GATE_K, call_far, sizeof call_far);
	put(f, TSS + TSS64_RSP0, UNMAPPED_STACK, 8);
	put(f, USER_STACK - 16, UINT64_MAX, 8);
	expect_fault(f, VEC_PF, ANY_EC, "RSP0 unmapped");
	cr_assert_eq(f->c.exc.cr2, UNMAPPED_STACK - 32);
	cr_assert_eq(f->c.exc.error_code & PFEC_WR, PFEC_WR, "a write");
	cr_assert_eq(f->c.exc.error_code & PFEC_US, 0, "at the new CPL 0");
	cr_assert_eq(peek(f, USER_STACK - 16, 8), UINT64_MAX, "old stack untouched");
	cpu_fixture_free(f);
}

Test(cpu_gate, page_fault_on_the_caller_stack_at_same_privilege_is_precise)
{
	struct cpu_fixture *f = machine(true, 3, GATE_U, call_far, sizeof call_far);
	const uint64_t page = CPU_DATA + 0x40000;
	f->c.gpr[GPR_RSP] = page + 8; /* the frame straddles into the page below */
	cpu_fixture_unmap(f, page - 0x1000);
	put(f, page, UINT64_MAX, 8);
	expect_fault(f, VEC_PF, ANY_EC, "caller stack");
	cr_assert_eq(f->c.exc.cr2, page - 8);
	cr_assert_eq(f->c.exc.error_code & PFEC_US, PFEC_US, "at CPL 3");
	cr_assert_eq(peek(f, page, 8), UINT64_MAX, "the mapped half is not written");
	cpu_fixture_free(f);
}

/* Task switches themselves are pinned in test_cpu_task.c. */
Test(cpu_gate, call_through_task_gate_to_the_running_busy_tss_is_gp_with_the_tss_selector)
{
	struct cpu_fixture *f = machine(false, 0, GATE_K, call_far, sizeof call_far);
	uint64_t task_gate = ((uint64_t)TSS_SEL << GATE_SELECTOR_SHIFT) |
			     ((uint64_t)SYS_TASK_GATE << DESC_TYPE_SHIFT) | (UINT64_C(3) << DESC_DPL_SHIFT) |
			     BIT64(DESC_P_SHIFT);
	put(f, GDT + GATE_U, task_gate, 8);
	put(f, FAR_PTR + 4, GATE_U, 2);
	expect_fault(f, VEC_GP, TSS_SEL, "task gate to a busy TSS");
	cr_assert_eq(cpu_unimplemented_count(&f->c, "call"), 0);
	cpu_fixture_free(f);
}
