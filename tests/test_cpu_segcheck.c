/* LAR, LSL, VERR and VERW (SDM Vol. 2A LAR/LSL, Vol. 2B VERR/VERW): the
 * result in ZF and the destination, null and out-of-table selectors, the
 * CPL/RPL/DPL rule with its conforming-code exception, the descriptor
 * types each instruction accepts in IA-32e and in legacy protected mode,
 * and the faults that remain (the operand's #PF). The GDT is built by the
 * test and GDTR pointed at it directly. */
#include <criterion/criterion.h>

#include "emu/alu.h"
#include "tests/cpu_support.h"

#define GDT (CPU_DATA + 0x8000)
#define UNMAPPED (CPU_MAPPED_END + 0x1000)

/* GDT selectors (index << 3). */
enum {
	SEL_CODE0 = 0x08,      /* 64-bit code, DPL 0, readable */
	SEL_DATA0 = 0x10,      /* data, DPL 0, writable, G = 1 */
	SEL_DATA3 = 0x18,      /* data, DPL 3, writable */
	SEL_XCODE3 = 0x20,     /* code, DPL 3, execute-only */
	SEL_CONFORM0 = 0x28,   /* conforming code, DPL 0, readable */
	SEL_RODATA0 = 0x30,    /* data, DPL 0, read-only, byte-granular limit */
	SEL_TSS = 0x38,        /* TSS (two entries in IA-32e mode) */
	SEL_INTGATE = 0x48,    /* interrupt gate, DPL 3 (two entries) */
	SEL_CALLGATE = 0x58,   /* call gate, DPL 3 (two entries) */
	SEL_TSS16 = 0x68,      /* 16-bit TSS type: reserved in IA-32e mode */
	SEL_TASKGATE = 0x70,   /* task gate, DPL 3: legacy only */
	GDT_ENTRIES = 15,
};
#define RODATA_LIMIT 0x12345u
#define TSS_LIMIT 0x67u

static uint64_t segment(uint8_t type, unsigned dpl, uint32_t limit, bool g, bool l)
{
	return (limit & 0xffff) | ((uint64_t)type << DESC_TYPE_SHIFT) | BIT64(DESC_S_SHIFT) |
	       ((uint64_t)dpl << DESC_DPL_SHIFT) | BIT64(DESC_P_SHIFT) |
	       ((uint64_t)(limit >> 16 & 0xf) << DESC_LIMIT_HI_SHIFT) |
	       (g ? BIT64(DESC_G_SHIFT) : 0) | (l ? BIT64(DESC_L_SHIFT) : BIT64(DESC_DB_SHIFT));
}

static uint64_t system_desc(uint8_t type, unsigned dpl, uint32_t limit)
{
	return (limit & 0xffff) | ((uint64_t)type << DESC_TYPE_SHIFT) |
	       ((uint64_t)dpl << DESC_DPL_SHIFT) | BIT64(DESC_P_SHIFT);
}

/* The GDT; entries not named stay zero (the null descriptor, the upper
 * halves of the 16-byte system descriptors in IA-32e mode). */
static void gdt_build(struct cpu_fixture *f)
{
	uint64_t gdt[GDT_ENTRIES] = { 0 };
	gdt[SEL_CODE0 >> 3] = segment(SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE, 0, 0xfffff, true, true);
	gdt[SEL_DATA0 >> 3] = segment(SEG_TYPE_DATA_WRITABLE, 0, 0xfffff, true, false);
	gdt[SEL_DATA3 >> 3] = segment(SEG_TYPE_DATA_WRITABLE, 3, 0xfffff, true, false);
	gdt[SEL_XCODE3 >> 3] = segment(SEG_TYPE_CODE, 3, 0xfffff, true, true);
	gdt[SEL_CONFORM0 >> 3] = segment(SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE |
					 SEG_TYPE_CODE_CONFORMING, 0, 0xfffff, true, true);
	gdt[SEL_RODATA0 >> 3] = segment(0, 0, RODATA_LIMIT, false, false);
	gdt[SEL_TSS >> 3] = system_desc(SYS_TSS_AVAIL, 0, TSS_LIMIT);
	gdt[SEL_INTGATE >> 3] = system_desc(SYS_INT_GATE, 3, 0);
	gdt[SEL_CALLGATE >> 3] = system_desc(SYS_CALL_GATE, 3, 0) |
				 ((uint64_t)SEL_CODE0 << GATE_SELECTOR_SHIFT);
	gdt[SEL_TSS16 >> 3] = system_desc(SYS_TSS16_AVAIL, 0, TSS_LIMIT);
	gdt[SEL_TASKGATE >> 3] = system_desc(SYS_TASK_GATE, 3, 0) |
				 ((uint64_t)SEL_TSS << GATE_SELECTOR_SHIFT);
	cpu_fixture_gdt(f, GDT, gdt, sizeof gdt);
}

static struct cpu_fixture *machine(unsigned cpl, bool legacy)
{
	struct cpu_fixture *f = legacy ? cpu_fixture_new_flat32("flat") : cpu_fixture_new("flat", cpl);
	gdt_build(f);
	return f;
}

/* Run one instruction with RCX = sel and RAX = a marker; returns the stop
 * reason. */
#define MARKER UINT64_C(0x1111222233334444)
static enum cpu_stop run1(struct cpu_fixture *f, const uint8_t *code, size_t n, uint16_t sel)
{
	cpu_fixture_code(f, CPU_CODE, code, n);
	f->c.gpr[GPR_RCX] = sel;
	f->c.gpr[GPR_RAX] = MARKER;
	return cpu_step(&f->c);
}

static bool zf(const struct cpu_fixture *f)
{
	return (f->c.rflags & RFLAGS_ZF) != 0;
}

static const uint8_t lar32[] = { 0x0f, 0x02, 0xc1 };       /* lar eax, ecx */
static const uint8_t lar16[] = { 0x66, 0x0f, 0x02, 0xc1 }; /* lar ax, cx */
static const uint8_t lar64[] = { 0x48, 0x0f, 0x02, 0xc1 }; /* lar rax, rcx */
static const uint8_t lsl32[] = { 0x0f, 0x03, 0xc1 };       /* lsl eax, ecx */
static const uint8_t verr[] = { 0x0f, 0x00, 0xe1 };        /* verr cx */
static const uint8_t verw[] = { 0x0f, 0x00, 0xe9 };        /* verw cx */
static const uint8_t lar_mem[] = { 0x0f, 0x02, 0x06 };     /* lar eax, [rsi] */

/* The second doubleword of a GDT entry, as LAR masks it. */
static uint64_t rights(struct cpu_fixture *f, uint16_t sel, uint32_t mask)
{
	return (cpu_fixture_peek(f, GDT + (sel & ~7u), 8) >> 32) & mask;
}

Test(segcheck, lar_returns_access_rights_and_sets_zf)
{
	struct cpu_fixture *f = machine(0, false);
	cr_assert_eq(run1(f, lar32, sizeof lar32, SEL_CODE0), CPU_STOP_LIMIT);
	cr_assert(zf(f));
	cr_assert_eq(f->c.gpr[GPR_RAX], rights(f, SEL_CODE0, 0x00f0ff00));
	cr_assert_neq(f->c.gpr[GPR_RAX], 0);
	cr_assert_eq(f->c.rip, CPU_CODE + sizeof lar32);
	cpu_fixture_free(f);
}

Test(segcheck, lar_with_16_bit_operand_keeps_upper_destination_bits)
{
	struct cpu_fixture *f = machine(0, false);
	cr_assert_eq(run1(f, lar16, sizeof lar16, SEL_DATA0), CPU_STOP_LIMIT);
	cr_assert(zf(f));
	cr_assert_eq(f->c.gpr[GPR_RAX], (MARKER & ~UINT64_C(0xffff)) | rights(f, SEL_DATA0, 0xff00));
	cpu_fixture_free(f);
}

Test(segcheck, lar_with_64_bit_operand_zero_extends)
{
	struct cpu_fixture *f = machine(0, false);
	cr_assert_eq(run1(f, lar64, sizeof lar64, SEL_DATA0), CPU_STOP_LIMIT);
	cr_assert_eq(f->c.gpr[GPR_RAX], rights(f, SEL_DATA0, 0x00f0ff00));
	cpu_fixture_free(f);
}

Test(segcheck, null_and_out_of_table_selectors_clear_zf_without_fault)
{
	struct cpu_fixture *f = machine(0, false);
	f->c.mmu.seg.ldtr.usable = false; /* as after LLDT with a null selector */
	const uint16_t sels[] = { 0, 3, GDT_ENTRIES << 3, 0xfff8, SEL_DATA0 | SEL_TI };
	for (size_t i = 0; i < sizeof sels / sizeof sels[0]; i++) {
		f->c.rflags |= RFLAGS_ZF;
		cr_assert_eq(run1(f, lar32, sizeof lar32, sels[i]), CPU_STOP_LIMIT, "sel %#x", sels[i]);
		cr_assert_not(zf(f), "sel %#x", sels[i]);
		cr_assert_eq(f->c.gpr[GPR_RAX], MARKER, "destination unchanged for %#x", sels[i]);
		f->c.rflags |= RFLAGS_ZF;
		cr_assert_eq(run1(f, verr, sizeof verr, sels[i]), CPU_STOP_LIMIT);
		cr_assert_not(zf(f), "verr sel %#x", sels[i]);
	}
	cpu_fixture_free(f);
}

Test(segcheck, zf_is_the_only_flag_changed)
{
	struct cpu_fixture *f = machine(0, false);
	f->c.rflags |= RFLAGS_CF | RFLAGS_SF;
	cr_assert_eq(run1(f, lsl32, sizeof lsl32, SEL_DATA0), CPU_STOP_LIMIT);
	cr_assert(zf(f));
	cr_assert(f->c.rflags & RFLAGS_CF);
	cr_assert(f->c.rflags & RFLAGS_SF);
	cpu_fixture_free(f);
}

Test(segcheck, lsl_returns_the_byte_granular_limit)
{
	struct cpu_fixture *f = machine(0, false);
	cr_assert_eq(run1(f, lsl32, sizeof lsl32, SEL_DATA0), CPU_STOP_LIMIT);
	cr_assert(zf(f));
	cr_assert_eq(f->c.gpr[GPR_RAX], 0xffffffffu);
	cr_assert_eq(run1(f, lsl32, sizeof lsl32, SEL_RODATA0), CPU_STOP_LIMIT);
	cr_assert_eq(f->c.gpr[GPR_RAX], RODATA_LIMIT);
	cr_assert_eq(run1(f, lsl32, sizeof lsl32, SEL_TSS), CPU_STOP_LIMIT);
	cr_assert(zf(f), "LSL accepts a TSS");
	cr_assert_eq(f->c.gpr[GPR_RAX], TSS_LIMIT);
	cpu_fixture_free(f);
}

/* One instruction on one selector, and the ZF it must leave. */
struct zf_case {
	const uint8_t *code;
	size_t len;
	uint16_t sel;
	bool zf;
};
#define INSN(bytes) bytes, sizeof bytes

static void expect_zf(struct cpu_fixture *f, const struct zf_case *cases, size_t ncases)
{
	for (size_t i = 0; i < ncases; i++) {
		cr_assert_eq(run1(f, cases[i].code, cases[i].len, cases[i].sel), CPU_STOP_LIMIT);
		cr_assert_eq(zf(f), cases[i].zf, "case %zu, sel %#x", i, cases[i].sel);
	}
}

/* IA-32e mode: LAR takes a 64-bit call gate, LSL no gate, neither an
 * interrupt gate; the 16-bit TSS type is reserved. Legacy mode: LAR takes
 * a task gate, LSL a 16-bit TSS. */
Test(segcheck, accepted_system_descriptor_types_follow_the_mode)
{
	struct cpu_fixture *ia32e = machine(0, false), *legacy = machine(0, true);
	const struct zf_case ia32e_cases[] = {
		{ INSN(lar32), SEL_CALLGATE, true }, { INSN(lsl32), SEL_CALLGATE, false },
		{ INSN(lar32), SEL_INTGATE, false }, { INSN(lar32), SEL_TSS16, false },
	};
	const struct zf_case legacy_cases[] = {
		{ INSN(lar32), SEL_TASKGATE, true }, { INSN(lsl32), SEL_TASKGATE, false },
		{ INSN(lar32), SEL_INTGATE, false }, { INSN(lsl32), SEL_TSS16, true },
	};
	expect_zf(ia32e, ia32e_cases, sizeof ia32e_cases / sizeof ia32e_cases[0]);
	cr_assert_eq(ia32e->c.gpr[GPR_RAX], MARKER, "destination unchanged when ZF = 0");
	expect_zf(legacy, legacy_cases, sizeof legacy_cases / sizeof legacy_cases[0]);
	cr_assert_eq(legacy->c.gpr[GPR_RAX], TSS_LIMIT);
	cpu_fixture_free(ia32e);
	cpu_fixture_free(legacy);
}

Test(segcheck, cpl_above_dpl_clears_zf_except_for_conforming_code)
{
	struct cpu_fixture *f = machine(3, false);
	const struct zf_case cases[] = {
		{ INSN(lar32), SEL_DATA3 | 3, true },
		{ INSN(lar32), SEL_CONFORM0 | 3, true }, /* visible from any CPL */
		{ INSN(verr), SEL_CONFORM0 | 3, true },
		{ INSN(verw), SEL_DATA0 | 3, false },
		{ INSN(lar32), SEL_DATA0 | 3, false },
	};
	expect_zf(f, cases, sizeof cases / sizeof cases[0]);
	cr_assert_eq(f->c.gpr[GPR_RAX], MARKER, "destination unchanged when ZF = 0");
	cpu_fixture_free(f);
}

Test(segcheck, rpl_above_dpl_clears_zf)
{
	struct cpu_fixture *f = machine(0, false);
	const struct zf_case cases[] = {
		{ INSN(lsl32), SEL_DATA0 | 1, false },
		{ INSN(verw), SEL_DATA0 | 3, false },
		{ INSN(verw), SEL_DATA3 | 3, true },
	};
	expect_zf(f, cases, sizeof cases / sizeof cases[0]);
	cpu_fixture_free(f);
}

Test(segcheck, verr_needs_a_readable_segment_and_verw_a_writable_data_segment)
{
	struct cpu_fixture *f = machine(0, false);
	const struct zf_case cases[] = {
		{ INSN(verr), SEL_CODE0, true }, { INSN(verr), SEL_DATA0, true },
		{ INSN(verr), SEL_RODATA0, true }, { INSN(verr), SEL_XCODE3, false },
		{ INSN(verr), SEL_TSS, false }, { INSN(verr), SEL_CALLGATE, false },
		{ INSN(verw), SEL_DATA0, true }, { INSN(verw), SEL_RODATA0, false },
		{ INSN(verw), SEL_CODE0, false }, { INSN(verw), SEL_CONFORM0, false },
		{ INSN(verw), SEL_TSS, false },
	};
	expect_zf(f, cases, sizeof cases / sizeof cases[0]);
	cpu_fixture_free(f);
}

Test(segcheck, memory_operand_is_read_and_its_page_fault_reported)
{
	struct cpu_fixture *f = machine(0, false);
	uint16_t sel = SEL_DATA0;
	cpu_fixture_poke(f, CPU_DATA, &sel, sizeof sel);
	f->c.gpr[GPR_RSI] = CPU_DATA;
	cr_assert_eq(run1(f, lar_mem, sizeof lar_mem, 0), CPU_STOP_LIMIT);
	cr_assert(zf(f));
	cr_assert_eq(f->c.gpr[GPR_RAX], rights(f, SEL_DATA0, 0x00f0ff00));
	f->c.gpr[GPR_RSI] = UNMAPPED;
	cr_assert_eq(run1(f, lar_mem, sizeof lar_mem, 0), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_PF);
	cr_assert_eq(f->c.exc.cr2, UNMAPPED);
	cr_assert_eq(f->c.rip, CPU_CODE);
	cr_assert_eq(f->c.gpr[GPR_RAX], MARKER);
	cpu_fixture_free(f);
}

Test(segcheck, instructions_are_implemented_not_counted_as_ud)
{
	struct cpu_fixture *f = machine(0, false);
	cr_assert_eq(run1(f, lar32, sizeof lar32, SEL_CODE0), CPU_STOP_LIMIT);
	cr_assert_eq(run1(f, lsl32, sizeof lsl32, SEL_CODE0), CPU_STOP_LIMIT);
	cr_assert_eq(run1(f, verr, sizeof verr, SEL_CODE0), CPU_STOP_LIMIT);
	cr_assert_eq(run1(f, verw, sizeof verw, SEL_CODE0), CPU_STOP_LIMIT);
	cr_assert_eq(cpu_unimplemented_count(&f->c, "lar"), 0);
	cr_assert_eq(cpu_unimplemented_count(&f->c, "verw"), 0);
	cpu_fixture_free(f);
}
