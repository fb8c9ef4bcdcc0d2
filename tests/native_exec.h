/* Run a short x86-64 instruction sequence natively, for differential tests
 * that compare the host CPU with the interpreter instruction by instruction.
 *
 * The code runs in a forked child, so a fault (#DE, #GP, #UD...) or a hang in
 * it cannot take the test process down: the child dies of the signal, or of
 * a timeout, and the call reports it.
 *
 * The environment the code sees:
 *   - the 15 general registers other than RSP, from the input state;
 *   - RFLAGS: the status flags and DF from the input state (TF and the
 *     system flags cannot be set from user mode and are not loaded);
 *   - RSP: the harness's own stack. The code may push and pop, but must
 *     leave RSP where it found it and must not rely on its value;
 *   - the scratch page: NATIVE_SCRATCH_SIZE bytes at the fixed address
 *     NATIVE_SCRATCH_ADDR, loaded from the state's mem[] before the code runs
 *     and copied back after. Code reaches it through a register the test
 *     sets to NATIVE_SCRATCH_ADDR (or an absolute address);
 *   - the code itself at the fixed address NATIVE_CODE_ADDR, followed by the
 *     harness's jump back, so RIP-relative operands are deterministic.
 * The code must fall off its end: no RET, no jump out of the buffer.
 * native_exec_mode also runs 32-bit code in compatibility mode (see enum
 * native_mode).
 */
#ifndef TESTS_NATIVE_EXEC_H
#define TESTS_NATIVE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NATIVE_SCRATCH_ADDR UINT64_C(0x10000000)
#define NATIVE_SCRATCH_SIZE 4096
#define NATIVE_CODE_ADDR UINT64_C(0x20000000)
/* The stack 32-bit code runs on (it must lie below 4 GiB). */
#define NATIVE_STACK32_ADDR UINT64_C(0x1f000000)
#define NATIVE_STACK32_SIZE 65536

/* Wall-clock limit for the code run from one state: past it, the code is
 * taken to hang and the child is ended. */
#define NATIVE_TIMEOUT_MS 1000

/* General registers in encoding order. */
enum native_gpr {
	NATIVE_RAX, NATIVE_RCX, NATIVE_RDX, NATIVE_RBX, NATIVE_RSP, NATIVE_RBP,
	NATIVE_RSI, NATIVE_RDI, NATIVE_R8, NATIVE_R9, NATIVE_R10, NATIVE_R11,
	NATIVE_R12, NATIVE_R13, NATIVE_R14, NATIVE_R15, NATIVE_NGPR
};

struct native_state {
	uint64_t gpr[NATIVE_NGPR]; /* gpr[NATIVE_RSP] is not loaded; copied through */
	uint64_t rflags;           /* out: status flags, DF and the fixed bit 1 */
	uint8_t mem[NATIVE_SCRATCH_SIZE];
};

/* Run `code` (len bytes) once from *in; on success fill *out and return
 * true. On failure return false with a one-line reason in err (the signal
 * number and name if the code faulted, "timed out" after
 * NATIVE_TIMEOUT_MS). */
bool native_exec(const uint8_t *code, size_t len, const struct native_state *in,
		 struct native_state *out, char *err, size_t errlen);

/* Run `code` from each of in[0..n-1] in turn, in one child, filling
 * out[0..n-1]. Returns true when all n ran. On failure *done (if not NULL)
 * holds how many leading states completed, so out[0..*done-1] are valid and
 * in[*done] is the state that faulted or hung; err says why. */
bool native_exec_batch(const uint8_t *code, size_t len, const struct native_state *in,
		       struct native_state *out, size_t n, size_t *done, char *err,
		       size_t errlen);

/* The mode the code runs in. NATIVE_MODE_32 is compatibility mode: the
 * kernel's flat 32-bit user code segment (CS.L = 0, CS.D = 1), with DS, ES
 * and SS flat too, ESP on a harness stack at NATIVE_STACK32_ADDR (the same
 * balance rule applies). The code sees the low halves of the first eight
 * registers; the outputs hold their 32-bit values zero-extended, and R8-R15
 * come back as they went in. The code and scratch page lie below 4 GiB, so
 * 32-bit addresses reach them unchanged. */
enum native_mode { NATIVE_MODE_64, NATIVE_MODE_32 };

/* A fault the code raised, as native_exec_batch_catch records it. */
struct native_fault {
	int signal;    /* 0: the code ran to its end; else SIGFPE (#DE), SIGSEGV
			* (#GP, #PF), SIGBUS, SIGILL (#UD) or SIGTRAP (INT3) */
	uint64_t rip;  /* RIP in the signal context: the faulting instruction
			* for a fault, the next one for a trap such as INT3 */
	uint64_t addr; /* si_addr: the data address of a #PF; the kernel reports 0
			* for #GP and the instruction address for #DE and #UD */
};

/* As native_exec_batch, but a fault in one state does not end the run: the
 * harness catches SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGTRAP, records the
 * signal in faults[k], leaves in out[k] the registers and RFLAGS the fault
 * left (a fault leaves the faulting instruction unexecuted; gpr[NATIVE_RSP]
 * is copied from the input as always) and the scratch page, and moves on to
 * the next state. Only a hang, or a fault the harness cannot survive, ends
 * the batch early; then *done and err are as for native_exec_batch. */
bool native_exec_batch_catch(const uint8_t *code, size_t len, const struct native_state *in,
			     struct native_state *out, struct native_fault *faults, size_t n,
			     size_t *done, char *err, size_t errlen);

/* The general form of the calls above: run in `mode`; with faults NULL a
 * fault ends the batch (native_exec_batch), else each is recorded and the
 * batch goes on (native_exec_batch_catch). */
bool native_exec_mode(enum native_mode mode, const uint8_t *code, size_t len,
		      const struct native_state *in, struct native_state *out,
		      struct native_fault *faults, size_t n, size_t *done, char *err, size_t errlen);

/* Whether this kernel runs 32-bit code (it may be built or booted without
 * 32-bit process support); tests of NATIVE_MODE_32 skip when it does not. */
bool native_exec_has_mode32(void);

#endif
