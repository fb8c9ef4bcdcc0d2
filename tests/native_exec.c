/* The native half of the instruction-level differential tests: see
 * tests/native_exec.h for the contract.
 *
 * How a run works. The parent maps a shared anonymous region for the results
 * and forks. The child maps the scratch page and the code at their fixed
 * addresses, appends to the code an absolute jump to native_exit, and for
 * each input state calls native_enter, which saves the host's callee-saved
 * registers and stack pointer in a context block, loads RFLAGS and the
 * general registers and jumps to the code. The code falls through to
 * native_exit, which stores every register and RFLAGS back into the context
 * block, found on the stack where native_enter left it, and returns to the
 * child's C code as if native_enter had returned. The child copies each
 * result into the shared region and bumps the completed-state count, so
 * when a state faults the parent knows which one it was.
 */
#include "tests/native_exec.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "emu/alu.h"

/* RFLAGS bits the code may receive and report (see native_exec.h). */
#define NATIVE_FLAGS (RFLAGS_STATUS | RFLAGS_DF)

/* What native_enter and native_exit share; offsets fixed for the assembly. */
struct native_ctx {
	uint64_t gpr[NATIVE_NGPR]; /* offset 0 */
	uint64_t rflags;           /* offset 128 */
	uint64_t host_rsp;         /* offset 136 */
};
_Static_assert(offsetof(struct native_ctx, rflags) == 128, "native_ctx layout");
_Static_assert(offsetof(struct native_ctx, host_rsp) == 136, "native_ctx layout");

/* The far-transfer targets. The 64-bit code selector is read from CS at
 * run time; the 32-bit one is Linux's fixed __USER32_CS (GDT entry 4,
 * RPL 3), present when the kernel supports 32-bit processes. */
#define NATIVE_USER32_CS 0x23

/* What the child appends after the code. 64-bit: jmp *0(%rip) with the
 * absolute address of native_exit in the next 8 bytes. 32-bit: a far jump
 * (EA ptr16:32) to a 64-bit stub placed right after it, which clears the
 * stack pointer's upper half (undefined after compatibility mode, SDM Vol. 1
 * §3.4.1.1) and then jumps to native_exit the same way. */
static const uint8_t native_jmp_abs[] = { 0xff, 0x25, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t native_mov_esp_esp[] = { 0x89, 0xe4 };
#define NATIVE_FAR_JMP_LEN 7 /* EA, offset32, selector16 */
#define NATIVE_TRAILER_MAX \
	(NATIVE_FAR_JMP_LEN + sizeof(native_mov_esp_esp) + sizeof(native_jmp_abs) + sizeof(uint64_t))

void native_enter(struct native_ctx *ctx, uint64_t code, uint64_t cs, uint64_t stack_top);
void native_exit(void);

/* native_enter(ctx = RDI, code = RSI, cs = RDX, stack_top = RCX). Switches
 * to stack_top unless it is 0, then builds, from RSP up: the code address
 * and CS for the far return that enters the code, a spare slot, and ctx.
 * DS and ES receive SS's flat data selector, which compatibility mode needs
 * (null selectors fault there). native_exit finds ctx above the spare slot,
 * which is why the code must leave the stack pointer balanced. The far
 * return has no matching call, which a user shadow stack (CET) would
 * refuse; processes run without one unless they opt in. */
__asm__(".text\n"
	"native_enter:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"mov %rsp, 136(%rdi)\n\t"
	"test %rcx, %rcx\n\t"
	"jz 1f\n\t"
	"mov %rcx, %rsp\n"
	"1:\n\t"
	"push %rdi\n\t"
	"push %rsi\n\t"
	"push %rdx\n\t"
	"push %rsi\n\t"
	"mov %ss, %eax\n\tmov %eax, %ds\n\tmov %eax, %es\n\t"
	"pushq 128(%rdi)\n\tpopfq\n\t"
	"mov 0(%rdi), %rax\n\tmov 8(%rdi), %rcx\n\tmov 16(%rdi), %rdx\n\t"
	"mov 24(%rdi), %rbx\n\tmov 40(%rdi), %rbp\n\tmov 48(%rdi), %rsi\n\t"
	"mov 64(%rdi), %r8\n\tmov 72(%rdi), %r9\n\tmov 80(%rdi), %r10\n\t"
	"mov 88(%rdi), %r11\n\tmov 96(%rdi), %r12\n\tmov 104(%rdi), %r13\n\t"
	"mov 112(%rdi), %r14\n\tmov 120(%rdi), %r15\n\tmov 56(%rdi), %rdi\n\t"
	"lretq\n"
	"native_exit:\n\t"
	"pushfq\n\t"
	"push %rax\n\t"
	"mov 24(%rsp), %rax\n\t" /* ctx, above the spare slot */
	"mov %rcx, 8(%rax)\n\tmov %rdx, 16(%rax)\n\tmov %rbx, 24(%rax)\n\t"
	"mov %rbp, 40(%rax)\n\tmov %rsi, 48(%rax)\n\tmov %rdi, 56(%rax)\n\t"
	"mov %r8, 64(%rax)\n\tmov %r9, 72(%rax)\n\tmov %r10, 80(%rax)\n\t"
	"mov %r11, 88(%rax)\n\tmov %r12, 96(%rax)\n\tmov %r13, 104(%rax)\n\t"
	"mov %r14, 112(%rax)\n\tmov %r15, 120(%rax)\n\t"
	"popq 0(%rax)\n\t"
	"popq 128(%rax)\n\t"
	"mov 136(%rax), %rsp\n\t"
	"cld\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n");

/* One run: what to execute, in which mode, from which states. */
struct native_job {
	enum native_mode mode;
	const uint8_t *code;
	size_t len;
	const struct native_state *in;
	size_t n;
};

/* The region parent and child share: progress, a failure message from the
 * child's own setup, the output states, then (when faults are caught) one
 * fault record per state. */
struct native_shared {
	volatile size_t done;
	char err[128];
	struct native_state out[];
};

static struct native_fault *native_faults(struct native_shared *sh, size_t n)
{
	return (struct native_fault *)(void *)(sh->out + n);
}

/* Where the child's fault handler reports, and where it resumes. */
struct native_catch {
	sigjmp_buf resume;
	struct native_state *out;
	struct native_fault *fault;
};

/* The one piece of static state: a signal handler has no argument to find
 * its context through. Only ever set in the forked child. */
static struct native_catch *native_catching;

/* ucontext register slots in encoding order. */
static const int native_greg[NATIVE_NGPR] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

/* A fault in the code: record the registers and RFLAGS the signal context
 * holds (the state the fault left), the signal, RIP and address, then
 * abandon the code's stack and resume the child's loop. */
static void native_on_fault(int sig, siginfo_t *si, void *ucv)
{
	const ucontext_t *uc = ucv;
	const greg_t *g = uc->uc_mcontext.gregs;
	struct native_catch *c = native_catching;
	for (unsigned i = 0; i < NATIVE_NGPR; i++)
		c->out->gpr[i] = (uint64_t)g[native_greg[i]];
	c->out->rflags = ((uint64_t)g[REG_EFL] & NATIVE_FLAGS) | RFLAGS_FIXED1;
	c->fault->signal = sig;
	c->fault->rip = (uint64_t)g[REG_RIP];
	c->fault->addr = (uint64_t)(uintptr_t)si->si_addr;
	siglongjmp(c->resume, 1);
}

static void native_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Map len bytes at the fixed address addr in the child, refusing to replace
 * anything already there. */
static void *native_map_fixed(uint64_t addr, size_t len, struct native_shared *sh)
{
	void *want = (void *)(uintptr_t)addr;
	void *p = mmap(want, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != want) {
		snprintf(sh->err, sizeof(sh->err), "cannot map %#lx: %s", (unsigned long)addr,
			 p == MAP_FAILED ? strerror(errno) : "address taken");
		_exit(2);
	}
	return p;
}

/* The signals a fault in the code raises: #DE is SIGFPE, #GP and #PF
 * SIGSEGV (or SIGBUS), #UD SIGILL, INT3 SIGTRAP. */
static const int native_fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
#define NATIVE_NSIG (sizeof(native_fault_signals) / sizeof(native_fault_signals[0]))

/* A fault either kills the child with its signal (never a sanitizer's
 * report) or, with `catch`, runs native_on_fault on a stack of its own, so
 * that a wild RSP in the code still reaches the handler. No core files;
 * SIGALRM (see native_arm_timeout) kills the child. */
static void native_child_setup(bool catch, struct native_shared *sh)
{
	static uint8_t altstack[64 * 1024];
	struct rlimit nocore = { 0, 0 };
	struct sigaction sa = { .sa_sigaction = native_on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NATIVE_NSIG; i++)
		if (catch ? sigaction(native_fault_signals[i], &sa, NULL) != 0
			  : signal(native_fault_signals[i], SIG_DFL) == SIG_ERR) {
			snprintf(sh->err, sizeof(sh->err), "cannot set signal %d", native_fault_signals[i]);
			_exit(2);
		}
	signal(SIGALRM, SIG_DFL);
	if (catch && sigaltstack(&ss, NULL) != 0) {
		snprintf(sh->err, sizeof(sh->err), "sigaltstack: %s", strerror(errno));
		_exit(2);
	}
	setrlimit(RLIMIT_CORE, &nocore);
}

/* Give the next state NATIVE_TIMEOUT_MS before SIGALRM ends the child. */
static void native_arm_timeout(void)
{
	struct itimerval limit = { .it_value = { .tv_sec = NATIVE_TIMEOUT_MS / 1000,
						 .tv_usec = (NATIVE_TIMEOUT_MS % 1000) * 1000 } };
	setitimer(ITIMER_REAL, &limit, NULL);
}

/* Append the way back to native_exit after the code at `at` (the address
 * `text` will have); returns the trailer's length. */
static size_t native_trailer(enum native_mode mode, uint8_t *text, uint64_t at)
{
	uint64_t exit_addr = (uint64_t)(uintptr_t)native_exit;
	uint16_t cs64;
	size_t n = 0;
	__asm__("mov %%cs, %0" : "=r"(cs64));
	if (mode == NATIVE_MODE_32) {
		uint32_t stub = (uint32_t)(at + NATIVE_FAR_JMP_LEN);
		text[n++] = 0xea;
		memcpy(text + n, &stub, sizeof(stub));
		memcpy(text + n + sizeof(stub), &cs64, sizeof(cs64));
		n += sizeof(stub) + sizeof(cs64);
		memcpy(text + n, native_mov_esp_esp, sizeof(native_mov_esp_esp));
		n += sizeof(native_mov_esp_esp);
	}
	memcpy(text + n, native_jmp_abs, sizeof(native_jmp_abs));
	memcpy(text + n + sizeof(native_jmp_abs), &exit_addr, sizeof(exit_addr));
	return n + sizeof(native_jmp_abs) + sizeof(exit_addr);
}

/* Copy the code to its fixed address, append the way back, make it
 * executable. */
static void native_place_code(const struct native_job *job, struct native_shared *sh)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t code_len = (job->len + NATIVE_TRAILER_MAX + page - 1) / page * page;
	uint8_t *text = native_map_fixed(NATIVE_CODE_ADDR, code_len, sh);
	memcpy(text, job->code, job->len);
	native_trailer(job->mode, text + job->len, NATIVE_CODE_ADDR + job->len);
	if (mprotect(text, code_len, PROT_READ | PROT_EXEC) != 0) {
		snprintf(sh->err, sizeof(sh->err), "mprotect: %s", strerror(errno));
		_exit(2);
	}
}

/* Run the code once from *in into *o. With a catch block, a fault lands
 * back here through siglongjmp with *o already holding the fault state. */
static void native_run_one(enum native_mode mode, const struct native_state *in,
			   struct native_state *o, struct native_catch *c)
{
	struct native_ctx ctx = { .rflags = (in->rflags & NATIVE_FLAGS) | RFLAGS_FIXED1 };
	uint16_t cs64;
	__asm__("mov %%cs, %0" : "=r"(cs64));
	memcpy(ctx.gpr, in->gpr, sizeof(ctx.gpr));
	if (c && sigsetjmp(c->resume, 1) != 0)
		return;
	if (mode == NATIVE_MODE_32)
		native_enter(&ctx, NATIVE_CODE_ADDR, NATIVE_USER32_CS,
			     NATIVE_STACK32_ADDR + NATIVE_STACK32_SIZE);
	else
		native_enter(&ctx, NATIVE_CODE_ADDR, cs64, 0);
	memcpy(o->gpr, ctx.gpr, sizeof(o->gpr));
	o->rflags = (ctx.rflags & NATIVE_FLAGS) | RFLAGS_FIXED1;
}

/* What 32-bit code can see of the registers: the low halves of the first
 * eight (the upper halves are undefined after compatibility mode); R8-R15
 * are out of its reach and reported as they went in. */
static void native_fix_outputs(enum native_mode mode, const struct native_state *in,
			       struct native_state *o)
{
	o->gpr[NATIVE_RSP] = in->gpr[NATIVE_RSP];
	if (mode != NATIVE_MODE_32)
		return;
	for (unsigned r = 0; r < NATIVE_R8; r++)
		o->gpr[r] &= UINT32_MAX;
	memcpy(&o->gpr[NATIVE_R8], &in->gpr[NATIVE_R8], (NATIVE_NGPR - NATIVE_R8) * sizeof(uint64_t));
}

/* The child: place code, scratch page and 32-bit stack, run every state,
 * exit. faults is NULL unless faults are caught. */
static void native_child(const struct native_job *job, struct native_shared *sh,
			 struct native_fault *faults)
{
	struct native_catch c;
	native_child_setup(faults != NULL, sh);
	uint8_t *scratch = native_map_fixed(NATIVE_SCRATCH_ADDR, NATIVE_SCRATCH_SIZE, sh);
	native_map_fixed(NATIVE_STACK32_ADDR, NATIVE_STACK32_SIZE, sh);
	native_place_code(job, sh);
	native_catching = &c;
	for (size_t k = 0; k < job->n; k++) {
		struct native_state *o = &sh->out[k];
		c.out = o;
		c.fault = faults ? &faults[k] : NULL;
		memcpy(scratch, job->in[k].mem, NATIVE_SCRATCH_SIZE);
		native_arm_timeout();
		native_run_one(job->mode, &job->in[k], o, faults ? &c : NULL);
		native_fix_outputs(job->mode, &job->in[k], o);
		memcpy(o->mem, scratch, NATIVE_SCRATCH_SIZE);
		sh->done = k + 1;
	}
	_exit(0);
}

/* Wait for the child and turn its end into true or a message. */
static bool native_reap(pid_t pid, const struct native_shared *sh, size_t n, char *err,
			size_t errlen)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			native_err(err, errlen, "waitpid: %s", strerror(errno));
			return false;
		}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		if (sig == SIGALRM)
			native_err(err, errlen, "timed out after %d ms in state %zu",
				   NATIVE_TIMEOUT_MS, sh->done);
		else
			native_err(err, errlen, "signal %d (%s) in state %zu", sig, strsignal(sig),
				   sh->done);
		return false;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || sh->done != n) {
		native_err(err, errlen, "harness child failed: %s",
			   sh->err[0] ? sh->err : "unexpected exit");
		return false;
	}
	return true;
}

bool native_exec_mode(enum native_mode mode, const uint8_t *code, size_t len,
		      const struct native_state *in, struct native_state *out,
		      struct native_fault *faults, size_t n, size_t *done, char *err, size_t errlen)
{
	const struct native_job job = { mode, code, len, in, n };
	size_t shared_len = sizeof(struct native_shared) +
			    n * (sizeof(struct native_state) + sizeof(struct native_fault));
	struct native_shared *sh = mmap(NULL, shared_len, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (done)
		*done = 0;
	if (sh == MAP_FAILED) {
		native_err(err, errlen, "mmap: %s", strerror(errno));
		return false;
	}
	pid_t pid = fork();
	if (pid < 0) {
		native_err(err, errlen, "fork: %s", strerror(errno));
		munmap(sh, shared_len);
		return false;
	}
	if (pid == 0)
		native_child(&job, sh, faults ? native_faults(sh, n) : NULL);
	bool ok = native_reap(pid, sh, n, err, errlen);
	memcpy(out, sh->out, sh->done * sizeof(struct native_state));
	if (faults)
		memcpy(faults, native_faults(sh, n), sh->done * sizeof(struct native_fault));
	if (done)
		*done = sh->done;
	munmap(sh, shared_len);
	return ok;
}

bool native_exec_batch(const uint8_t *code, size_t len, const struct native_state *in,
		       struct native_state *out, size_t n, size_t *done, char *err,
		       size_t errlen)
{
	return native_exec_mode(NATIVE_MODE_64, code, len, in, out, NULL, n, done, err, errlen);
}

bool native_exec_batch_catch(const uint8_t *code, size_t len, const struct native_state *in,
			     struct native_state *out, struct native_fault *faults, size_t n,
			     size_t *done, char *err, size_t errlen)
{
	return native_exec_mode(NATIVE_MODE_64, code, len, in, out, faults, n, done, err, errlen);
}

bool native_exec(const uint8_t *code, size_t len, const struct native_state *in,
		 struct native_state *out, char *err, size_t errlen)
{
	return native_exec_batch(code, len, in, out, 1, NULL, err, errlen);
}

/* MOV EAX, 0x2A in 32-bit code: runs only where the kernel offers a 32-bit
 * code segment. */
bool native_exec_has_mode32(void)
{
	static const uint8_t mov_eax_42[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00 };
	struct native_state *st = calloc(2, sizeof(*st));
	bool ok = st && native_exec_mode(NATIVE_MODE_32, mov_eax_42, sizeof(mov_eax_42), &st[0],
					 &st[1], NULL, 1, NULL, NULL, 0) &&
		  st[1].gpr[NATIVE_RAX] == 0x2a;
	free(st);
	return ok;
}
