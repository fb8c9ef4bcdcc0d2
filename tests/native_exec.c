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

/* Jump the child appends after the code: jmp *0(%rip) with the absolute
 * address of native_exit in the next 8 bytes. */
static const uint8_t native_jmp_abs[] = { 0xff, 0x25, 0x00, 0x00, 0x00, 0x00 };
#define NATIVE_TRAILER (sizeof(native_jmp_abs) + sizeof(uint64_t))

void native_enter(struct native_ctx *ctx, uint64_t code);
void native_exit(void);

/* native_enter(ctx = RDI, code = RSI). The stack, from RSP up, while the
 * code runs: the code address, ctx, then the six saved callee-saved
 * registers. native_exit reads ctx back from there, which is why the code
 * must leave RSP balanced. */
__asm__(".text\n"
	"native_enter:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"mov %rsp, 136(%rdi)\n\t"
	"push %rdi\n\t"
	"push %rsi\n\t"
	"pushq 128(%rdi)\n\tpopfq\n\t"
	"mov 0(%rdi), %rax\n\tmov 8(%rdi), %rcx\n\tmov 16(%rdi), %rdx\n\t"
	"mov 24(%rdi), %rbx\n\tmov 40(%rdi), %rbp\n\tmov 48(%rdi), %rsi\n\t"
	"mov 64(%rdi), %r8\n\tmov 72(%rdi), %r9\n\tmov 80(%rdi), %r10\n\t"
	"mov 88(%rdi), %r11\n\tmov 96(%rdi), %r12\n\tmov 104(%rdi), %r13\n\t"
	"mov 112(%rdi), %r14\n\tmov 120(%rdi), %r15\n\tmov 56(%rdi), %rdi\n\t"
	"jmp *(%rsp)\n"
	"native_exit:\n\t"
	"pushfq\n\t"
	"push %rax\n\t"
	"mov 24(%rsp), %rax\n\t" /* ctx, above the code address */
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

/* Copy the code to its fixed address, append the jump back, make it
 * executable. */
static void native_place_code(const uint8_t *code, size_t len, struct native_shared *sh)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t code_len = (len + NATIVE_TRAILER + page - 1) / page * page;
	uint64_t exit_addr = (uint64_t)(uintptr_t)native_exit;
	uint8_t *text = native_map_fixed(NATIVE_CODE_ADDR, code_len, sh);
	memcpy(text, code, len);
	memcpy(text + len, native_jmp_abs, sizeof(native_jmp_abs));
	memcpy(text + len + sizeof(native_jmp_abs), &exit_addr, sizeof(exit_addr));
	if (mprotect(text, code_len, PROT_READ | PROT_EXEC) != 0) {
		snprintf(sh->err, sizeof(sh->err), "mprotect: %s", strerror(errno));
		_exit(2);
	}
}

/* Run the code once from *in into *o. With a catch block, a fault lands
 * back here through siglongjmp with *o already holding the fault state. */
static void native_run_one(const struct native_state *in, struct native_state *o,
			   struct native_catch *c)
{
	struct native_ctx ctx = { .rflags = (in->rflags & NATIVE_FLAGS) | RFLAGS_FIXED1 };
	memcpy(ctx.gpr, in->gpr, sizeof(ctx.gpr));
	if (c && sigsetjmp(c->resume, 1) != 0)
		return;
	native_enter(&ctx, NATIVE_CODE_ADDR);
	memcpy(o->gpr, ctx.gpr, sizeof(o->gpr));
	o->rflags = (ctx.rflags & NATIVE_FLAGS) | RFLAGS_FIXED1;
}

/* The child: place code and scratch page, run every state, exit. faults is
 * NULL unless faults are caught. */
static void native_child(const uint8_t *code, size_t len, const struct native_state *in,
			 size_t n, struct native_shared *sh, struct native_fault *faults)
{
	struct native_catch c;
	native_child_setup(faults != NULL, sh);
	uint8_t *scratch = native_map_fixed(NATIVE_SCRATCH_ADDR, NATIVE_SCRATCH_SIZE, sh);
	native_place_code(code, len, sh);
	native_catching = &c;
	for (size_t k = 0; k < n; k++) {
		struct native_state *o = &sh->out[k];
		c.out = o;
		c.fault = faults ? &faults[k] : NULL;
		memcpy(scratch, in[k].mem, NATIVE_SCRATCH_SIZE);
		native_arm_timeout();
		native_run_one(&in[k], o, faults ? &c : NULL);
		o->gpr[NATIVE_RSP] = in[k].gpr[NATIVE_RSP];
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

/* Fork a child to run the batch; faults is NULL when a fault should end
 * it. */
static bool native_run_batch(const uint8_t *code, size_t len, const struct native_state *in,
			     struct native_state *out, struct native_fault *faults, size_t n,
			     size_t *done, char *err, size_t errlen)
{
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
		native_child(code, len, in, n, sh, faults ? native_faults(sh, n) : NULL);
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
	return native_run_batch(code, len, in, out, NULL, n, done, err, errlen);
}

bool native_exec_batch_catch(const uint8_t *code, size_t len, const struct native_state *in,
			     struct native_state *out, struct native_fault *faults, size_t n,
			     size_t *done, char *err, size_t errlen)
{
	return native_run_batch(code, len, in, out, faults, n, done, err, errlen);
}

bool native_exec(const uint8_t *code, size_t len, const struct native_state *in,
		 struct native_state *out, char *err, size_t errlen)
{
	return native_exec_batch(code, len, in, out, 1, NULL, err, errlen);
}
