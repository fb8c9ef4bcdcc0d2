/* tests/native_exec: instruction sequences run natively in a child, with
 * registers, RFLAGS and the scratch page carried in and out, and faults and
 * hangs reported instead of taking the test down. Expected values follow
 * from the SDM's definition of each instruction used. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "emu/alu.h"
#include "tests/native_exec.h"

/* Encodings used below (SDM Vol. 2, REX.W forms). */
static const uint8_t ADD_RBX_RAX[] = { 0x48, 0x01, 0xc3 };
static const uint8_t DIV_RCX[] = { 0x48, 0xf7, 0xf1 };
static const uint8_t MOV_RBX8_RAX[] = { 0x48, 0x89, 0x43, 0x08 }; /* mov [rbx+8], rax */
static const uint8_t MOV_RAX_ABS0[] = { 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0 }; /* mov rax, [0] */
static const uint8_t UD2[] = { 0x0f, 0x0b };
static const uint8_t JMP_SELF[] = { 0xeb, 0xfe };
static const uint8_t CLD[] = { 0xfc };

static struct native_state *state_new(void)
{
	struct native_state *s = calloc(1, sizeof(*s));
	cr_assert_not_null(s);
	s->rflags = RFLAGS_FIXED1;
	return s;
}

Test(native_exec, native_exec_runs_add_and_returns_flags)
{
	struct native_state *in = state_new(), *out = state_new();
	char err[160];
	in->gpr[NATIVE_RAX] = 1;
	in->gpr[NATIVE_RBX] = UINT64_MAX;
	in->gpr[NATIVE_R15] = 0x1234;
	cr_assert(native_exec(ADD_RBX_RAX, sizeof(ADD_RBX_RAX), in, out, err, sizeof(err)), "%s", err);
	cr_expect_eq(out->gpr[NATIVE_RBX], 0);
	cr_expect_eq(out->gpr[NATIVE_RAX], 1);
	cr_expect_eq(out->gpr[NATIVE_R15], 0x1234);
	/* all-ones + 1: carry out, zero, even parity, carry out of bit 3, no
	 * signed overflow, positive. */
	cr_expect_eq(out->rflags & RFLAGS_STATUS, RFLAGS_CF | RFLAGS_ZF | RFLAGS_PF | RFLAGS_AF);
	free(in);
	free(out);
}

/* NOT of each of the 15 loadable registers: every one must travel in and
 * out in its own slot. */
Test(native_exec, native_exec_carries_every_register_in_encoding_order)
{
	struct native_state *in = state_new(), *out = state_new();
	uint8_t code[3 * NATIVE_NGPR];
	size_t len = 0;
	char err[160];
	for (unsigned r = 0; r < NATIVE_NGPR; r++) {
		in->gpr[r] = UINT64_C(0x0101010101010101) * (r + 1);
		if (r == NATIVE_RSP)
			continue;
		code[len++] = 0x48 | (r >= 8 ? 0x01 : 0); /* REX.W, REX.B for r8-r15 */
		code[len++] = 0xf7;
		code[len++] = 0xd0 | (r & 7); /* NOT r/m64: /2, mod = 11 */
	}
	cr_assert(native_exec(code, len, in, out, err, sizeof(err)), "%s", err);
	for (unsigned r = 0; r < NATIVE_NGPR; r++)
		cr_expect_eq(out->gpr[r], r == NATIVE_RSP ? in->gpr[r] : ~in->gpr[r], "register %u", r);
	free(in);
	free(out);
}

/* Every status flag and DF go in; CLD clears DF and nothing else. */
Test(native_exec, native_exec_loads_status_flags_and_df)
{
	struct native_state *in = state_new(), *out = state_new();
	char err[160];
	in->rflags = RFLAGS_STATUS | RFLAGS_DF | RFLAGS_FIXED1;
	cr_assert(native_exec(CLD, 0, in, out, err, sizeof(err)), "%s", err);
	cr_expect_eq(out->rflags, in->rflags);
	cr_assert(native_exec(CLD, sizeof(CLD), in, out, err, sizeof(err)), "%s", err);
	cr_expect_eq(out->rflags, in->rflags & ~RFLAGS_DF);
	free(in);
	free(out);
}

Test(native_exec, native_exec_writes_scratch_page)
{
	struct native_state *in = state_new(), *out = state_new();
	char err[160];
	uint64_t got;
	for (size_t i = 0; i < NATIVE_SCRATCH_SIZE; i++)
		in->mem[i] = (uint8_t)(i * 7);
	in->gpr[NATIVE_RBX] = NATIVE_SCRATCH_ADDR;
	in->gpr[NATIVE_RAX] = UINT64_C(0x1122334455667788);
	cr_assert(native_exec(MOV_RBX8_RAX, sizeof(MOV_RBX8_RAX), in, out, err, sizeof(err)), "%s", err);
	memcpy(&got, out->mem + 8, sizeof(got));
	cr_expect_eq(got, in->gpr[NATIVE_RAX]);
	cr_expect_eq(memcmp(out->mem, in->mem, 8), 0);
	cr_expect_eq(memcmp(out->mem + 16, in->mem + 16, NATIVE_SCRATCH_SIZE - 16), 0);
	free(in);
	free(out);
}

/* Run `code` expecting it to fail with a message containing `want`. */
static void expect_failure(const uint8_t *code, size_t len, struct native_state *in,
			   const char *want)
{
	struct native_state *out = state_new();
	char err[160] = "";
	cr_expect_not(native_exec(code, len, in, out, err, sizeof(err)));
	cr_expect_not_null(strstr(err, want), "message \"%s\" lacks \"%s\"", err, want);
	free(out);
}

Test(native_exec, native_exec_reports_sigfpe_for_div_by_zero)
{
	struct native_state *in = state_new();
	in->gpr[NATIVE_RAX] = 10;
	expect_failure(DIV_RCX, sizeof(DIV_RCX), in, "signal 8");
	free(in);
}

Test(native_exec, native_exec_reports_sigsegv_and_sigill)
{
	struct native_state *in = state_new();
	expect_failure(MOV_RAX_ABS0, sizeof(MOV_RAX_ABS0), in, "signal 11");
	expect_failure(UD2, sizeof(UD2), in, "signal 4");
	free(in);
}

Test(native_exec, native_exec_reports_timeout_for_endless_loop)
{
	struct native_state *in = state_new();
	expect_failure(JMP_SELF, sizeof(JMP_SELF), in, "timed out");
	free(in);
}

/* Thousands of states in one child; each result must be the SDM's. */
Test(native_exec, native_exec_batch_runs_thousands_of_states_in_one_child)
{
	enum { n = 4000 };
	struct native_state *in = calloc(n, sizeof(*in)), *out = calloc(n, sizeof(*out));
	char err[160];
	size_t done;
	cr_assert(in && out);
	uint64_t x = 1;
	for (size_t k = 0; k < n; k++) {
		x = x * UINT64_C(6364136223846793005) + 1442695040888963407;
		in[k].gpr[NATIVE_RAX] = x;
		in[k].gpr[NATIVE_RBX] = x >> (k % 64) ^ k;
		in[k].rflags = RFLAGS_FIXED1 | (k & 1 ? RFLAGS_CF : 0);
	}
	cr_assert(native_exec_batch(ADD_RBX_RAX, sizeof(ADD_RBX_RAX), in, out, n, &done, err,
				    sizeof(err)), "%s", err);
	cr_expect_eq(done, n);
	for (size_t k = 0; k < n; k++) {
		uint64_t a = in[k].gpr[NATIVE_RBX], b = in[k].gpr[NATIVE_RAX];
		cr_expect_eq(out[k].gpr[NATIVE_RBX], a + b, "state %zu", k);
		cr_expect_eq(out[k].rflags & RFLAGS_CF, (a + b < a) ? RFLAGS_CF : 0, "state %zu", k);
		cr_expect_eq(out[k].rflags & RFLAGS_ZF, (a + b == 0) ? RFLAGS_ZF : 0, "state %zu", k);
	}
	free(in);
	free(out);
}

/* A fault in state 3 of 6: states 0-2 are returned, the report names 3. */
Test(native_exec, native_exec_batch_reports_the_faulting_state)
{
	enum { n = 6 };
	struct native_state *in = calloc(n, sizeof(*in)), *out = calloc(n, sizeof(*out));
	char err[160];
	size_t done;
	cr_assert(in && out);
	for (size_t k = 0; k < n; k++) {
		in[k].gpr[NATIVE_RAX] = 100 + k;
		in[k].gpr[NATIVE_RCX] = k == 3 ? 0 : 7;
	}
	cr_expect_not(native_exec_batch(DIV_RCX, sizeof(DIV_RCX), in, out, n, &done, err, sizeof(err)));
	cr_expect_eq(done, 3);
	cr_expect_not_null(strstr(err, "state 3"), "%s", err);
	for (size_t k = 0; k < done; k++) {
		cr_expect_eq(out[k].gpr[NATIVE_RAX], (100 + k) / 7);
		cr_expect_eq(out[k].gpr[NATIVE_RDX], (100 + k) % 7);
	}
	free(in);
	free(out);
}

/* native_exec_batch_catch: one child, faults recorded per state. */

static const uint8_t STORE_THEN_DIV[] = { 0x48, 0x89, 0x03, 0x48, 0xf7, 0xf1 }; /* mov [rbx], rax; div rcx */
static const uint8_t INC_THEN_UD2[] = { 0x48, 0xff, 0xc0, 0x0f, 0x0b };         /* inc rax; ud2 */
static const uint8_t LOAD_RBX[] = { 0x48, 0x8b, 0x03 };                         /* mov rax, [rbx] */

/* Every third state divides by zero: those fault at the DIV with the store
 * before it done and RAX/RDX untouched; the rest divide. */
Test(native_exec, native_exec_batch_catch_records_each_fault_and_continues)
{
	enum { n = 30 };
	struct native_state *in = calloc(n, sizeof(*in)), *out = calloc(n, sizeof(*out));
	struct native_fault faults[n];
	char err[160];
	size_t done;
	cr_assert(in && out);
	for (size_t k = 0; k < n; k++) {
		in[k].gpr[NATIVE_RAX] = 1000 + k;
		in[k].gpr[NATIVE_RDX] = 0;
		in[k].gpr[NATIVE_RCX] = k % 3 == 0 ? 0 : k;
		in[k].gpr[NATIVE_RBX] = NATIVE_SCRATCH_ADDR;
	}
	cr_assert(native_exec_batch_catch(STORE_THEN_DIV, sizeof(STORE_THEN_DIV), in, out, faults, n,
					  &done, err, sizeof(err)), "%s", err);
	cr_expect_eq(done, n);
	for (size_t k = 0; k < n; k++) {
		uint64_t stored;
		memcpy(&stored, out[k].mem, sizeof(stored));
		cr_expect_eq(stored, 1000 + k, "state %zu: the store before the fault is kept", k);
		if (k % 3 == 0) {
			cr_expect_eq(faults[k].signal, SIGFPE, "state %zu", k);
			cr_expect_eq(faults[k].rip, NATIVE_CODE_ADDR + 3, "state %zu: RIP at the DIV", k);
			cr_expect_eq(faults[k].addr, NATIVE_CODE_ADDR + 3, "state %zu: #DE reports RIP", k);
			cr_expect_eq(out[k].gpr[NATIVE_RAX], 1000 + k);
			cr_expect_eq(out[k].gpr[NATIVE_RDX], 0);
		} else {
			cr_expect_eq(faults[k].signal, 0, "state %zu", k);
			cr_expect_eq(out[k].gpr[NATIVE_RAX], (1000 + k) / k);
			cr_expect_eq(out[k].gpr[NATIVE_RDX], (1000 + k) % k);
		}
	}
	free(in);
	free(out);
}

/* A fault reports the registers as the faulting instruction found them:
 * the INC before the UD2 has happened. */
Test(native_exec, native_exec_batch_catch_reports_state_at_the_faulting_instruction)
{
	struct native_state *in = state_new(), *out = state_new();
	struct native_fault fault;
	char err[160];
	in->gpr[NATIVE_RAX] = 41;
	in->gpr[NATIVE_R12] = 0x5555;
	cr_assert(native_exec_batch_catch(INC_THEN_UD2, sizeof(INC_THEN_UD2), in, out, &fault, 1,
					  NULL, err, sizeof(err)), "%s", err);
	cr_expect_eq(fault.signal, SIGILL);
	cr_expect_eq(fault.rip, NATIVE_CODE_ADDR + 3);
	cr_expect_eq(out->gpr[NATIVE_RAX], 42);
	cr_expect_eq(out->gpr[NATIVE_R12], 0x5555);
	free(in);
	free(out);
}

/* Loads from unmapped low pages fault with the address; loads from the
 * scratch page do not; a non-canonical address is #GP, reported with
 * address 0. */
Test(native_exec, native_exec_batch_catch_reports_the_faulting_data_address)
{
	enum { n = 8 };
	struct native_state *in = calloc(n + 1, sizeof(*in)), *out = calloc(n + 1, sizeof(*out));
	struct native_fault faults[n + 1];
	char err[160];
	cr_assert(in && out);
	for (size_t k = 0; k < n; k++)
		in[k].gpr[NATIVE_RBX] = k & 1 ? NATIVE_SCRATCH_ADDR + 8 * k : 0x1000 * k + 8;
	in[n].gpr[NATIVE_RBX] = BIT64(63);
	cr_assert(native_exec_batch_catch(LOAD_RBX, sizeof(LOAD_RBX), in, out, faults, n + 1, NULL,
					  err, sizeof(err)), "%s", err);
	cr_expect_eq(faults[n].signal, SIGSEGV);
	cr_expect_eq(faults[n].addr, 0);
	for (size_t k = 0; k < n; k++) {
		cr_expect_eq(faults[k].signal, k & 1 ? 0 : SIGSEGV, "state %zu", k);
		if (!(k & 1))
			cr_expect_eq(faults[k].addr, in[k].gpr[NATIVE_RBX], "state %zu", k);
	}
	free(in);
	free(out);
}

/* NATIVE_MODE_32: compatibility mode. */

/* 40 is INC EAX in 32-bit code but a REX prefix in 64-bit code, so the
 * result tells the modes apart. PUSH/POP use the 32-bit stack. */
static const uint8_t INC_ADD_PUSH_POP32[] = {
	0x40,       /* inc eax */
	0x01, 0xc3, /* add ebx, eax */
	0x50,       /* push eax */
	0x59,       /* pop ecx */
	0x89, 0x06, /* mov [esi], eax */
};

Test(native_exec, native_exec_mode32_runs_compatibility_mode_code)
{
	if (!native_exec_has_mode32())
		cr_skip_test("this kernel runs no 32-bit code");
	struct native_state *in = state_new(), *out = state_new();
	char err[160];
	uint32_t stored;
	in->gpr[NATIVE_RAX] = UINT64_C(0xffffffff00000009);
	in->gpr[NATIVE_RBX] = 100;
	in->gpr[NATIVE_RSI] = NATIVE_SCRATCH_ADDR + 16;
	in->gpr[NATIVE_R9] = 0x99;
	cr_assert(native_exec_mode(NATIVE_MODE_32, INC_ADD_PUSH_POP32, sizeof(INC_ADD_PUSH_POP32),
				   in, out, NULL, 1, NULL, err, sizeof(err)), "%s", err);
	cr_expect_eq(out->gpr[NATIVE_RAX], 10, "INC EAX ran and the upper half is gone");
	cr_expect_eq(out->gpr[NATIVE_RBX], 110);
	cr_expect_eq(out->gpr[NATIVE_RCX], 10, "PUSH/POP through the 32-bit stack");
	cr_expect_eq(out->gpr[NATIVE_R9], 0x99);
	memcpy(&stored, out->mem + 16, sizeof(stored));
	cr_expect_eq(stored, 10);
	free(in);
	free(out);
}

/* A 32-bit DIV by zero is caught like a 64-bit one, at its own address. */
Test(native_exec, native_exec_mode32_catches_faults)
{
	if (!native_exec_has_mode32())
		cr_skip_test("this kernel runs no 32-bit code");
	static const uint8_t INC_DIV32[] = { 0x40, 0xf7, 0xf1 }; /* inc eax; div ecx */
	struct native_state *in = calloc(2, sizeof(*in)), *out = calloc(2, sizeof(*out));
	struct native_fault faults[2];
	char err[160];
	cr_assert(in && out);
	in[0].gpr[NATIVE_RAX] = 20;
	in[0].gpr[NATIVE_RCX] = 7;
	in[1].gpr[NATIVE_RAX] = 20;
	cr_assert(native_exec_mode(NATIVE_MODE_32, INC_DIV32, sizeof(INC_DIV32), in, out, faults, 2,
				   NULL, err, sizeof(err)), "%s", err);
	cr_expect_eq(faults[0].signal, 0);
	cr_expect_eq(out[0].gpr[NATIVE_RAX], 3);
	cr_expect_eq(out[0].gpr[NATIVE_RDX], 0);
	cr_expect_eq(faults[1].signal, SIGFPE);
	cr_expect_eq(faults[1].rip, NATIVE_CODE_ADDR + 1);
	cr_expect_eq(out[1].gpr[NATIVE_RAX], 21);
	free(in);
	free(out);
}
