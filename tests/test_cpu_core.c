/* The CPU core: run loop, stop reasons, decoded-code invalidation, fetch
 * and data accesses across pages, precise faults, #UD, cycle determinism. */
#include <criterion/criterion.h>

#include "emu/alu.h"
#include "tests/cpu_support.h"

#define PF_NOT_PRESENT_WRITE_SUPERVISOR PFEC_WR
#define PF_NOT_PRESENT_FETCH_SUPERVISOR PFEC_ID

Test(cpu_core, runs_until_hlt_and_counts_instructions)
{
	static const uint8_t code[] = {
		0xb8, 0x05, 0x00, 0x00, 0x00, /* mov eax, 5 */
		0x48, 0x01, 0xd8,             /* add rax, rbx */
		0xf4,                         /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	f->c.gpr[GPR_RBX] = 0x100000000;
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RAX], 0x100000005);
	cr_assert_eq(f->c.rip, CPU_CODE + sizeof code, "RIP after HLT is the next instruction");
	cr_assert_eq(f->c.insns, 3);
	cpu_fixture_free(f);
}

Test(cpu_core, stops_at_instruction_limit)
{
	static const uint8_t code[] = {
		0xeb, 0xfe, /* l: jmp l */
	};
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	cr_assert_eq(cpu_run(&f->c, 1000), CPU_STOP_LIMIT);
	cr_assert_eq(f->c.insns, 1000);
	cr_assert_eq(f->c.rip, CPU_CODE);
	cpu_fixture_free(f);
}

/* The instruction at n is decoded and cached in the first pass; the
 * second pass patches its immediate first, and must see the new value. */
Test(cpu_core, cpu_write_to_next_instruction_is_seen)
{
	static const uint8_t code[] = {
		0xb9, 0x02, 0x00, 0x00, 0x00,       /*    mov ecx, 2 */
		0x88, 0x0d, 0x01, 0x00, 0x00, 0x00, /* t: mov byte ptr [rip + n + 1], cl */
		0xb8, 0x11, 0x00, 0x00, 0x00,       /* n: mov eax, 0x11 */
		0xff, 0xc9,                         /*    dec ecx */
		0x75, 0xf1,                         /*    jnz t */
		0xf4,                               /*    hlt */
	};
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RAX], 1, "second pass ran the patched immediate");
	cpu_fixture_free(f);
}

Test(cpu_core, cpu_write_to_called_function_is_seen)
{
	static const uint8_t code[] = {
		0xe8, 0x0d, 0x00, 0x00, 0x00,             /*    call f */
		0xc6, 0x05, 0x07, 0x00, 0x00, 0x00, 0x07, /*    mov byte ptr [rip + f + 1], 7 */
		0xe8, 0x01, 0x00, 0x00, 0x00,             /*    call f */
		0xf4,                                     /*    hlt */
		0xb8, 0x01, 0x00, 0x00, 0x00,             /* f: mov eax, 1 */
		0xc3,                                     /*    ret */
	};
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RAX], 7);
	cr_assert_eq(f->c.gpr[GPR_RSP], CPU_STACK_TOP);
	cpu_fixture_free(f);
}

/* A write by someone else than the CPU (a device, a loader) to a frame
 * holding decoded code also invalidates it. */
Test(cpu_core, cpu_external_write_to_code_is_seen)
{
	static const uint8_t code[] = {
		0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
		0xf4,                         /* hlt */
	};
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RAX], 1);
	phys_write(&f->c.mmu.phys, CPU_CODE + 1, 9, 1);
	f->c.rip = CPU_CODE;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RAX], 9);
	cpu_fixture_free(f);
}

static const uint8_t straddling[] = {
	0xb8, 0x78, 0x56, 0x34, 0x12, /* mov eax, 0x12345678 */
	0xf4,                         /* hlt */
};
#define STRADDLE_AT (CPU_CODE + PHYS_FRAME_SIZE - 2)

Test(cpu_core, cpu_fetch_straddling_pages_runs_when_both_are_mapped)
{
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, STRADDLE_AT, straddling, sizeof straddling);
	for (int pass = 0; pass < 2; pass++) {
		f->c.rip = STRADDLE_AT;
		cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
		cr_assert_eq(f->c.gpr[GPR_RAX], 0x12345678);
	}
	/* Patching the part in the second page is seen too. */
	phys_write(&f->c.mmu.phys, CPU_CODE + PHYS_FRAME_SIZE, 0x55, 1);
	f->c.rip = STRADDLE_AT;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RAX], 0x12345578);
	cpu_fixture_free(f);
}

Test(cpu_core, cpu_fetch_straddling_pages_faults_on_second_page)
{
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, STRADDLE_AT, straddling, sizeof straddling);
	cpu_fixture_unmap(f, CPU_CODE + PHYS_FRAME_SIZE);
	f->c.gpr[GPR_RAX] = 0xaa;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_PF);
	cr_assert_eq(f->c.exc.cr2, CPU_CODE + PHYS_FRAME_SIZE, "CR2 names the second page");
	cr_assert_eq(f->c.cr2, CPU_CODE + PHYS_FRAME_SIZE);
	cr_assert_eq(f->c.exc.error_code, PF_NOT_PRESENT_FETCH_SUPERVISOR);
	cr_assert_eq(f->c.exc.rip, STRADDLE_AT);
	cr_assert_eq(f->c.rip, STRADDLE_AT);
	cr_assert_eq(f->c.gpr[GPR_RAX], 0xaa);
	cpu_fixture_free(f);
}

Test(cpu_core, cpu_data_access_crossing_into_unmapped_page_faults_and_writes_nothing)
{
	static const uint8_t code[] = {
		0x48, 0x89, 0x03, /* mov qword ptr [rbx], rax */
		0xf4,             /* hlt */
	};
	const uint64_t at = CPU_DATA + PHYS_FRAME_SIZE - 4;
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	cpu_fixture_poke(f, at, "\x11\x22\x33\x44", 4);
	cpu_fixture_unmap(f, CPU_DATA + PHYS_FRAME_SIZE);
	f->c.gpr[GPR_RBX] = at;
	f->c.gpr[GPR_RAX] = UINT64_MAX;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_PF);
	cr_assert_eq(f->c.exc.cr2, CPU_DATA + PHYS_FRAME_SIZE);
	cr_assert_eq(f->c.exc.error_code, PF_NOT_PRESENT_WRITE_SUPERVISOR);
	cr_assert_eq(f->c.exc.rip, CPU_CODE);
	cr_assert_eq(cpu_fixture_peek(f, at, 4), 0x44332211, "first page untouched");
	cr_assert_eq(f->c.insns, 0);
	cpu_fixture_free(f);
}

Test(cpu_core, cpu_data_access_crossing_mapped_pages_is_split)
{
	static const uint8_t code[] = {
		0x48, 0x89, 0x03, /* mov qword ptr [rbx], rax */
		0x48, 0x8b, 0x0b, /* mov rcx, qword ptr [rbx] */
		0xf4,             /* hlt */
	};
	const uint64_t at = CPU_DATA + PHYS_FRAME_SIZE - 3;
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	f->c.gpr[GPR_RBX] = at;
	f->c.gpr[GPR_RAX] = 0x0102030405060708;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(cpu_fixture_peek(f, at, 8), 0x0102030405060708);
	cr_assert_eq(f->c.gpr[GPR_RCX], 0x0102030405060708);
	cpu_fixture_free(f);
}

/* Run code from CPU_CODE and expect it to stop with vector at offset
 * at_offset (the faulting instruction). */
static void expect_exception(const uint8_t *code, size_t n, uint8_t vector, uint64_t at_offset)
{
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, n);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, vector, "vector %u, expected %u", f->c.exc.vector, vector);
	cr_assert_eq(f->c.exc.rip, CPU_CODE + at_offset);
	cr_assert_eq(f->c.rip, CPU_CODE + at_offset, "RIP stays on the faulting instruction");
	cpu_fixture_free(f);
}

Test(cpu_core, cpu_undefined_opcode_raises_ud)
{
	static const uint8_t code[] = {
		0x90,       /* nop */
		0x0f, 0x0b, /* ud2 */
	};
	expect_exception(code, sizeof code, VEC_UD, 1);
}

Test(cpu_core, cpu_invalid_bytes_raise_ud)
{
	static const uint8_t code[] = {
		0x06, /* push es: invalid in 64-bit mode */
	};
	expect_exception(code, sizeof code, VEC_UD, 0);
}

Test(cpu_core, cpu_lock_on_register_destination_raises_ud)
{
	static const uint8_t code[] = {
		0xf0, 0x48, 0x01, 0xd8, /* lock add rax, rbx */
	};
	expect_exception(code, sizeof code, VEC_UD, 0);
}

Test(cpu_core, cpu_div_by_zero_raises_de)
{
	static const uint8_t code[] = {
		0xb8, 0x07, 0x00, 0x00, 0x00, /* mov eax, 7 */
		0x31, 0xd2,                   /* xor edx, edx */
		0x31, 0xc9,                   /* xor ecx, ecx */
		0xf7, 0xf1,                   /* div ecx */
		0xf4,                         /* hlt */
	};
	expect_exception(code, sizeof code, VEC_DE, 9);
}

Test(cpu_core, cpu_div_overflow_raises_de_and_changes_nothing)
{
	static const uint8_t code[] = {
		0xf7, 0xf1, /* div ecx: EDX:EAX / ECX with EDX >= ECX */
	};
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	f->c.gpr[GPR_RDX] = 5;
	f->c.gpr[GPR_RAX] = 9;
	f->c.gpr[GPR_RCX] = 5;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_DE);
	cr_assert_eq(f->c.gpr[GPR_RDX], 5);
	cr_assert_eq(f->c.gpr[GPR_RAX], 9);
	cpu_fixture_free(f);
}

Test(cpu_core, cpu_unimplemented_instruction_raises_ud_and_is_counted)
{
	static const uint8_t code[] = {
		0xd9, 0xe8, /* fld1: x87 is not modelled */
	};
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_UD);
	cr_assert_eq(cpu_unimplemented_count(&f->c, "fld1"), 1);
	cpu_fixture_free(f);
}

Test(cpu_core, cpu_real_mode_stops_with_a_message)
{
	struct cpu c;
	struct mmu_model model;
	char err[256];
	cr_assert(mmu_model_resolve(&model, "flat", err, sizeof err));
	cr_assert(cpu_init(&c, &model, CPU_TEST_RAM, err, sizeof err), "%s", err);
	cr_assert_eq(c.mode, CPU_MODE_REAL);
	cr_assert_eq(cpu_run(&c, 10), CPU_STOP_UNSUPPORTED);
	cr_assert_str_eq(c.stop_msg, "real mode is not supported");
	cpu_free(&c);
}

static void run_workload(struct cpu_fixture *f)
{
	static const uint8_t code[] = {
		0xb9, 0x00, 0x01, 0x00, 0x00, /*    mov ecx, 256 */
		0x48, 0x89, 0x0c, 0xcb,       /* l: mov [rbx + rcx*8], rcx */
		0x48, 0x03, 0x04, 0xcb,       /*    add rax, [rbx + rcx*8] */
		0xe2, 0xf6,                   /*    loop l */
		0xf4,                         /*    hlt */
	};
	cpu_fixture_code(f, CPU_CODE, code, sizeof code);
	f->c.gpr[GPR_RBX] = CPU_DATA;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
}

Test(cpu_core, cpu_cycles_are_deterministic)
{
	struct cpu_fixture *a = cpu_fixture_new("skylake", 0), *b = cpu_fixture_new("skylake", 0);
	run_workload(a);
	run_workload(b);
	cr_assert_eq(a->c.gpr[GPR_RAX], 256 * 257 / 2);
	cr_assert_eq(a->c.insns, b->c.insns);
	cr_assert_eq(a->c.cycles, b->c.cycles);
	cr_assert_gt(a->c.cycles, a->c.insns, "memory accesses add MMU cycles to base costs");
	cpu_fixture_free(a);
	cpu_fixture_free(b);
}

/* ---- chained dispatch against single steps ------------------------------- */

/* A loop that calls a function in its page and stores CL through RSI:
 * to data while ECX > 25, so the store is chained to p; from ECX = 25 on
 * into p's immediate, so the chain must break right after the store.
 * RBX ends as 25 + 24 + ... + 1. */
static const uint8_t chain_smc_loop[] = {
	0xb9, 0x32, 0x00, 0x00, 0x00,       /*    mov ecx, 50 */
	0xe8, 0x0e, 0x00, 0x00, 0x00,       /* l: call f */
	0x48, 0x01, 0xc8,                   /*    add rax, rcx */
	0x88, 0x0e,                         /*    mov byte ptr [rsi], cl */
	0x48, 0x83, 0xc3, 0x00,             /* p: add rbx, 0 (patched) */
	0xff, 0xc9,                         /*    dec ecx */
	0x75, 0xee,                         /*    jnz l */
	0xf4,                               /*    hlt */
	0x48, 0x31, 0xc2,                   /* f: xor rdx, rax */
	0x83, 0xf9, 0x19,                   /*    cmp ecx, 25 */
	0x75, 0x07,                         /*    jne g */
	0x48, 0x8d, 0x35, 0xeb, 0xff, 0xff, 0xff, /* lea rsi, [rip + p + 3] */
	0xc3,                               /* g: ret */
};
#define SMC_PATCHED_TURNS 25

/* Straight-line code across a page boundary, one instruction straddling
 * it, looping back into the first page. Placed at CPU_CODE + 0xff2. */
static const uint8_t chain_page_cross_loop[] = {
	0xb9, 0x14, 0x00, 0x00, 0x00, /*    mov ecx, 20 */
	0x48, 0x83, 0xc0, 0x01,       /* l: add rax, 1 */
	0x48, 0x83, 0xc0, 0x02,       /*    add rax, 2 */
	0x48, 0x01, 0xc3,             /*    add rbx, rax (straddles) */
	0x48, 0x83, 0xc0, 0x03,       /*    add rax, 3 */
	0xff, 0xc9,                   /*    dec ecx */
	0x75, 0xed,                   /*    jnz l */
	0xf4,                         /*    hlt */
};
#define PAGE_CROSS_AT (CPU_CODE + 0xff2)

/* Run code at la to HLT in slices of `slice` instructions (1: one step
 * at a time, where nothing is chained). */
static struct cpu_fixture *run_in_slices(const uint8_t *code, size_t n, uint64_t la,
					 uint64_t slice)
{
	struct cpu_fixture *f = cpu_fixture_new("skylake", 0);
	cpu_fixture_code(f, la, code, n);
	f->c.gpr[GPR_RSI] = CPU_DATA;
	enum cpu_stop s = CPU_STOP_LIMIT;
	for (int i = 0; i < 100000 && s == CPU_STOP_LIMIT; i++)
		s = cpu_run(&f->c, slice);
	cr_assert_eq(s, CPU_STOP_HLT, "slice %llu", (unsigned long long)slice);
	return f;
}

static void expect_same_run(const uint8_t *code, size_t n, uint64_t la)
{
	struct cpu_fixture *step = run_in_slices(code, n, la, 1);
	const uint64_t slices[] = { 7, 1000000 };
	for (size_t i = 0; i < sizeof slices / sizeof slices[0]; i++) {
		struct cpu_fixture *f = run_in_slices(code, n, la, slices[i]);
		cr_assert_arr_eq(f->c.gpr, step->c.gpr, sizeof f->c.gpr, "slice %zu", i);
		cr_assert_eq(f->c.rip, step->c.rip);
		cr_assert_eq(f->c.rflags, step->c.rflags);
		cr_assert_eq(f->c.insns, step->c.insns, "slice %zu", i);
		cr_assert_eq(f->c.cycles, step->c.cycles, "slice %zu", i);
		cpu_fixture_free(f);
	}
	cpu_fixture_free(step);
}

Test(cpu_core, chained_run_matches_single_steps_with_calls_and_self_modifying_code)
{
	struct cpu_fixture *f = run_in_slices(chain_smc_loop, sizeof chain_smc_loop, CPU_CODE, 1000000);
	cr_assert_eq(f->c.gpr[GPR_RBX], SMC_PATCHED_TURNS * (SMC_PATCHED_TURNS + 1) / 2,
		     "every patched turn ran its new immediate");
	cpu_fixture_free(f);
	expect_same_run(chain_smc_loop, sizeof chain_smc_loop, CPU_CODE);
}

Test(cpu_core, chained_run_matches_single_steps_across_a_page_boundary)
{
	expect_same_run(chain_page_cross_loop, sizeof chain_page_cross_loop, PAGE_CROSS_AT);
}
