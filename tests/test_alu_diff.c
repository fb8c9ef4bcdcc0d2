/* Differential tests of emu/alu against the host CPU.
 *
 * The host is x86-64, so every function in emu/alu.h has a real instruction
 * to answer to. For each family and width, thousands of operand and flag
 * inputs (edge values mixed with fixed-seed random ones; for 8-bit forms
 * every operand pair or operand and count, with CF clear and set) go through
 * the alu_ function and through the instruction itself, run here by inline assembly:
 * RFLAGS is loaded with PUSH/POPF just before the instruction and read back
 * with PUSHF just after. The result and every flag the SDM defines for the
 * instruction must match. Flags the SDM calls undefined are masked:
 *
 *   family              undefined flags (SDM Vol. 2 instruction page)
 *   ADD ADC SUB SBB     none
 *   AND OR XOR          AF
 *   INC DEC NEG         none (INC/DEC preserve CF)
 *   SHL SHR SAR         count 0: none (nothing changes); otherwise AF, and
 *                       OF unless the masked count is 1; SHL/SHR also CF
 *                       when the count reaches the operand size (8/16 bits)
 *   ROL ROR RCL RCR     OF unless the masked count is 1
 *   SHLD SHRD           AF, OF unless the count is 1; 16-bit counts above
 *                       16 leave result and flags undefined (not compared)
 *   MUL IMUL            SF ZF AF PF
 *   DIV IDIV            all six status flags
 *   BT BTS BTR BTC      OF SF AF PF
 *   BSF BSR             CF OF SF AF PF (destination too when source is 0)
 *   TZCNT LZCNT         OF SF AF PF
 *   POPCNT              none
 *   LAHF SAHF           none
 *   DAA DAS             OF
 *   AAA AAS             OF SF ZF PF
 *   AAM AAD             OF AF CF
 *
 * The emulated side also receives a few non-status bits (IF, AC, ID and a
 * high bit) in RFLAGS and must hand them back unchanged, and garbage above
 * the operand width in its operands, which it must ignore; the host side
 * gets only status flags, since user code cannot set the rest.
 *
 * #DE is never raised natively here: alu_div/alu_idiv's verdict is checked
 * against an independent statement of the SDM's rule, and the host executes
 * only the divisions both agree are valid.
 */
#include <cpuid.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/alu.h"
#include "tests/native_exec.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ITERATIONS 5000
#define SEED UINT64_C(0x6d6d756c6162)

/* Non-status RFLAGS bits handed to the emulated side to prove they pass
 * through untouched. */
#define PASSTHROUGH (RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_AC | RFLAGS_ID | BIT64(40))

/* Garbage the emulated side receives above the operand width, which it
 * must not read. */
#define ABOVE_WIDTH UINT64_C(0xa5c3a5c3a5c3a5c3)

/* ---- deterministic inputs -------------------------------------------------- */

/* splitmix64: a fixed seed gives the same inputs on every run. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* An operand of width w: a quarter of the time an edge value (0, 1,
 * all-ones, the sign bit and its neighbours, the AF boundary), else random
 * with random density so long carry chains occur. */
static uint64_t gen_operand(uint64_t *s, unsigned w)
{
	uint64_t m = alu_mask(w), sign = BIT64(alu_bits(w) - 1);
	const uint64_t edges[] = { 0, 1, 2, m, m - 1, sign, sign - 1, sign + 1, 0x0f, 0x10, 0x7f, 0x80 };
	uint64_t r = rng_next(s);
	switch (r & 7) {
	case 0:
	case 1:
		return edges[(r >> 8) % N(edges)] & m;
	case 2:
		return (rng_next(s) & rng_next(s)) & m;
	case 3:
		return (rng_next(s) | rng_next(s)) & m;
	default:
		return rng_next(s) & m;
	}
}

/* A shift or rotate count as CL holds it: the edges 0, 1, width-1, width,
 * width+1, 31, 32, 63, 64, 255, else any byte. */
static uint64_t gen_count(uint64_t *s, unsigned w)
{
	unsigned b = alu_bits(w);
	const uint64_t edges[] = { 0, 1, b - 1, b, b + 1, 9, 17, 31, 32, 33, 63, 64, 255 };
	uint64_t r = rng_next(s);
	return (r & 1) ? edges[(r >> 8) % N(edges)] : (r >> 16) & 0xff;
}

/* Status flags (and DF, which nothing here may change) for both sides. */
static uint64_t gen_flags(uint64_t *s)
{
	return (rng_next(s) & (RFLAGS_STATUS | RFLAGS_DF)) | RFLAGS_FIXED1;
}

/* ---- one case, run on both sides ------------------------------------------- */

/* Inputs a, b, c (c: count, or a third operand) and RFLAGS; outputs r and
 * r2 (a second result: high half, remainder, carry-out destination) and
 * RFLAGS. ok is false when the emulated side reports #DE. */
struct io {
	uint64_t a, b, c, fl;
	uint64_t r, r2;
	bool ok;
};

struct family {
	const char *name;
	unsigned wmin, wmax;
	void (*emu)(unsigned w, struct io *io);
	void (*host)(unsigned w, struct io *io);
	/* The inputs a, b, c (default: three operands), or NULL. */
	void (*gen)(uint64_t *s, unsigned w, struct io *in);
	/* For DIV/IDIV: whether the SDM says the input raises #DE. */
	bool (*faults)(unsigned w, const struct io *in);
	/* Flags the SDM leaves undefined for this input. */
	uint64_t (*undefined)(unsigned w, const struct io *in);
	/* Whether the result registers are defined for this input. */
	bool (*result_defined)(unsigned w, const struct io *in);
	bool has_r2;
};

static bool compare_case(const struct family *f, unsigned w, const struct io *in, unsigned i)
{
	struct io emu = *in, host = *in;
	uint64_t m = alu_mask(w);
	uint64_t undef = f->undefined ? f->undefined(w, in) : 0;
	bool results = f->result_defined ? f->result_defined(w, in) : true;

	emu.fl |= PASSTHROUGH;
	emu.a |= ABOVE_WIDTH & ~m; /* bits the emulated side must ignore */
	emu.b |= ABOVE_WIDTH & ~m;
	emu.ok = true;
	f->emu(w, &emu);
	if (f->faults && (!emu.ok || f->faults(w, in))) {
		if (emu.ok == f->faults(w, in))
			cr_log_error("%s w=%u case %u: a=%#" PRIx64 " b=%#" PRIx64 " c=%#" PRIx64
				     ": emu says %s, the SDM says %s", f->name, w, i, in->a, in->b,
				     in->c, emu.ok ? "valid" : "#DE", emu.ok ? "#DE" : "valid");
		return emu.ok != f->faults(w, in);
	}
	f->host(w, &host);
	uint64_t defined = RFLAGS_STATUS & ~undef;
	bool good = (emu.fl & ~RFLAGS_STATUS) == ((in->fl | PASSTHROUGH) & ~RFLAGS_STATUS) &&
		    (emu.fl & defined) == (host.fl & defined);
	if (results)
		good = good && (emu.r & ~m) == 0 && emu.r == (host.r & m) &&
		       (!f->has_r2 || ((emu.r2 & ~m) == 0 && emu.r2 == (host.r2 & m)));
	if (!good)
		cr_log_error("%s w=%u case %u: a=%#" PRIx64 " b=%#" PRIx64 " c=%#" PRIx64
			     " fl=%#" PRIx64 ": emu r=%#" PRIx64 " r2=%#" PRIx64 " fl=%#" PRIx64
			     ", host r=%#" PRIx64 " r2=%#" PRIx64 " fl=%#" PRIx64 " (defined %#" PRIx64 ")",
			     f->name, w, i, in->a, in->b, in->c, in->fl, emu.r, emu.r2, emu.fl,
			     host.r & m, host.r2 & m, host.fl, defined);
	return good;
}

/* Every byte operand a with every byte x, as the second operand and as the
 * count at once (each family reads the one it needs), with CF clear and
 * set; the other flags random. Returns the number of mismatches, stopping
 * after a few. */
static unsigned check_exhaustive8(const struct family *f)
{
	uint64_t s = SEED;
	unsigned bad = 0;
	for (unsigned i = 0; i < 2 * 256 * 256 && bad < 5; i++) {
		uint64_t x = (i >> 8) & 0xff;
		struct io in = { .a = i & 0xff, .b = x, .c = x };
		in.fl = (gen_flags(&s) & ~RFLAGS_CF) | ((i >> 16) ? RFLAGS_CF : 0);
		if (!compare_case(f, ALU_W8, &in, i))
			bad++;
	}
	return bad;
}

/* Run ITERATIONS cases per width, and the whole 8-bit input space where
 * the family has an 8-bit form and no #DE; report at most a few
 * mismatches. */
static void check_family(const struct family *f)
{
	if (f->wmin == ALU_W8 && !f->faults)
		cr_expect_eq(check_exhaustive8(f), 0, "%s: 8-bit exhaustive run mismatches the host",
			     f->name);
	for (unsigned w = f->wmin; w <= f->wmax; w++) {
		uint64_t s = SEED + w;
		unsigned bad = 0;
		for (unsigned i = 0; i < ITERATIONS && bad < 5; i++) {
			struct io in = { .a = gen_operand(&s, w), .b = gen_operand(&s, w),
					 .c = gen_operand(&s, w) };
			if (f->gen)
				f->gen(&s, w, &in);
			in.fl = gen_flags(&s);
			if (!compare_case(f, w, &in, i))
				bad++;
		}
		cr_expect_eq(bad, 0, "%s: width %u bits mismatches the host", f->name, alu_bits(w));
	}
}

/* ---- host instructions ----------------------------------------------------- */

/* Each host_ function runs one instruction at width w with RFLAGS loaded
 * from io->fl first and stored back after. The mnemonic and the register
 * size modifiers must be literal in the assembly text, hence the macros;
 * the 128-byte step over the red zone keeps PUSH from overwriting locals
 * the compiler may keep below RSP, and CLD restores the DF = 0 the ABI
 * promises the compiled code around it. */
#define FLAGS_IN "lea -128(%%rsp), %%rsp\n\tpush %[fl]\n\tpopfq\n\t"
#define FLAGS_OUT "\n\tpushfq\n\tpop %[fl]\n\tcld\n\tlea 128(%%rsp), %%rsp"

/* dst op= src (two register operands). */
#define HOST_RR(insn, dst, src)                                                      \
	__asm__ volatile(FLAGS_IN insn FLAGS_OUT : [a] "+r"(dst), [fl] "+r"(io->fl) \
			 : [b] "r"(src) : "cc")

/* One switch over the widths for a two-operand instruction `mn`. */
#define HOST_RR_WIDTHS(mn, dst, src)                                         \
	switch (w) {                                                         \
	case ALU_W8: HOST_RR(mn "b %b[b], %b[a]", dst, src); break;          \
	case ALU_W16: HOST_RR(mn "w %w[b], %w[a]", dst, src); break;         \
	case ALU_W32: HOST_RR(mn "l %k[b], %k[a]", dst, src); break;         \
	default: HOST_RR(mn "q %q[b], %q[a]", dst, src); break;              \
	}

/* op dst (one register operand). */
#define HOST_R(insn, dst) \
	__asm__ volatile(FLAGS_IN insn FLAGS_OUT : [a] "+r"(dst), [fl] "+r"(io->fl) : : "cc")

#define HOST_R_WIDTHS(mn, dst)                                \
	switch (w) {                                          \
	case ALU_W8: HOST_R(mn "b %b[a]", dst); break;        \
	case ALU_W16: HOST_R(mn "w %w[a]", dst); break;       \
	case ALU_W32: HOST_R(mn "l %k[a]", dst); break;       \
	default: HOST_R(mn "q %q[a]", dst); break;            \
	}

/* The same for instructions with no 8-bit form. */
#define HOST_RR_WIDE(mn, dst, src)                                           \
	switch (w) {                                                         \
	case ALU_W16: HOST_RR(mn "w %w[b], %w[a]", dst, src); break;         \
	case ALU_W32: HOST_RR(mn "l %k[b], %k[a]", dst, src); break;         \
	default: HOST_RR(mn "q %q[b], %q[a]", dst, src); break;              \
	}

/* dst op= CL (shifts and rotates). */
#define HOST_RC(insn, dst, count)                                                    \
	__asm__ volatile(FLAGS_IN insn FLAGS_OUT : [a] "+r"(dst), [fl] "+r"(io->fl) \
			 : "c"(count) : "cc")

#define HOST_RC_WIDTHS(mn, dst, count)                                  \
	switch (w) {                                                    \
	case ALU_W8: HOST_RC(mn "b %%cl, %b[a]", dst, count); break;    \
	case ALU_W16: HOST_RC(mn "w %%cl, %w[a]", dst, count); break;   \
	case ALU_W32: HOST_RC(mn "l %%cl, %k[a]", dst, count); break;   \
	default: HOST_RC(mn "q %%cl, %q[a]", dst, count); break;        \
	}

/* dst = dst:src shifted by CL (SHLD, SHRD). */
#define HOST_RRC(insn, dst, src, count)                                              \
	__asm__ volatile(FLAGS_IN insn FLAGS_OUT : [a] "+r"(dst), [fl] "+r"(io->fl) \
			 : [b] "r"(src), "c"(count) : "cc")

#define HOST_RRC_WIDE(mn, dst, src, count)                                        \
	switch (w) {                                                              \
	case ALU_W16: HOST_RRC(mn "w %%cl, %w[b], %w[a]", dst, src, count); break; \
	case ALU_W32: HOST_RRC(mn "l %%cl, %k[b], %k[a]", dst, src, count); break; \
	default: HOST_RRC(mn "q %%cl, %q[b], %q[a]", dst, src, count); break;      \
	}

/* The accumulator forms: RDX:RAX op= src (MUL, IMUL, DIV, IDIV). */
#define HOST_ACC(insn, rax, rdx, src)                                                       \
	__asm__ volatile(FLAGS_IN insn FLAGS_OUT : "+a"(rax), "+d"(rdx), [fl] "+r"(io->fl) \
			 : [b] "r"(src) : "cc")

#define HOST_ACC_WIDTHS(mn, rax, rdx, src)                           \
	switch (w) {                                                 \
	case ALU_W8: HOST_ACC(mn "b %b[b]", rax, rdx, src); break;   \
	case ALU_W16: HOST_ACC(mn "w %w[b]", rax, rdx, src); break;  \
	case ALU_W32: HOST_ACC(mn "l %k[b]", rax, rdx, src); break;  \
	default: HOST_ACC(mn "q %q[b]", rax, rdx, src); break;       \
	}

/* ---- binary ALU group ------------------------------------------------------ */

static void emu_add(unsigned w, struct io *io) { io->r = alu_add(w, io->a, io->b, &io->fl); }
static void emu_adc(unsigned w, struct io *io) { io->r = alu_adc(w, io->a, io->b, &io->fl); }
static void emu_sub(unsigned w, struct io *io) { io->r = alu_sub(w, io->a, io->b, &io->fl); }
static void emu_sbb(unsigned w, struct io *io) { io->r = alu_sbb(w, io->a, io->b, &io->fl); }
static void emu_and(unsigned w, struct io *io) { io->r = alu_and(w, io->a, io->b, &io->fl); }
static void emu_or(unsigned w, struct io *io) { io->r = alu_or(w, io->a, io->b, &io->fl); }
static void emu_xor(unsigned w, struct io *io) { io->r = alu_xor(w, io->a, io->b, &io->fl); }
static void emu_cmp(unsigned w, struct io *io) { io->r = 0; alu_cmp(w, io->a, io->b, &io->fl); }
static void emu_test(unsigned w, struct io *io) { io->r = 0; alu_test(w, io->a, io->b, &io->fl); }
static void emu_inc(unsigned w, struct io *io) { io->r = alu_inc(w, io->a, &io->fl); }
static void emu_dec(unsigned w, struct io *io) { io->r = alu_dec(w, io->a, &io->fl); }
static void emu_neg(unsigned w, struct io *io) { io->r = alu_neg(w, io->a, &io->fl); }
static void emu_not(unsigned w, struct io *io) { io->r = alu_not(w, io->a); }

static void host_add(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDTHS("add", io->r, io->b) }
static void host_adc(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDTHS("adc", io->r, io->b) }
static void host_sub(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDTHS("sub", io->r, io->b) }
static void host_sbb(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDTHS("sbb", io->r, io->b) }
static void host_and(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDTHS("and", io->r, io->b) }
static void host_or(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDTHS("or", io->r, io->b) }
static void host_xor(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDTHS("xor", io->r, io->b) }
/* CMP and TEST leave the destination alone: compare flags only. */
static void host_cmp(unsigned w, struct io *io)
{
	uint64_t a = io->a;
	HOST_RR_WIDTHS("cmp", a, io->b)
	io->r = 0;
}

static void host_test(unsigned w, struct io *io)
{
	uint64_t a = io->a;
	HOST_RR_WIDTHS("test", a, io->b)
	io->r = 0;
}
static void host_inc(unsigned w, struct io *io) { io->r = io->a; HOST_R_WIDTHS("inc", io->r) }
static void host_dec(unsigned w, struct io *io) { io->r = io->a; HOST_R_WIDTHS("dec", io->r) }
static void host_neg(unsigned w, struct io *io) { io->r = io->a; HOST_R_WIDTHS("neg", io->r) }
static void host_not(unsigned w, struct io *io) { io->r = io->a; HOST_R_WIDTHS("not", io->r) }

static uint64_t undef_af(unsigned w, const struct io *in) { return RFLAGS_AF; }

/* A family fam_<n> of widths lo..64 bits, checked by emu_<n> against
 * host_<n>; the rest of the descriptor follows. */
#define FAMILY(n, lo, ...) \
	static const struct family fam_##n = { .name = #n, .wmin = lo, .wmax = ALU_W64, \
		.emu = emu_##n, .host = host_##n, __VA_ARGS__ }

FAMILY(add, ALU_W8, .undefined = NULL);
FAMILY(adc, ALU_W8, .undefined = NULL);
FAMILY(sub, ALU_W8, .undefined = NULL);
FAMILY(sbb, ALU_W8, .undefined = NULL);
FAMILY(cmp, ALU_W8, .undefined = NULL);
FAMILY(and, ALU_W8, .undefined = undef_af);
FAMILY(or, ALU_W8, .undefined = undef_af);
FAMILY(xor, ALU_W8, .undefined = undef_af);
FAMILY(test, ALU_W8, .undefined = undef_af);
FAMILY(inc, ALU_W8, .undefined = NULL);
FAMILY(dec, ALU_W8, .undefined = NULL);
FAMILY(neg, ALU_W8, .undefined = NULL);
FAMILY(not, ALU_W8, .undefined = NULL);

Test(alu_diff, alu_add_matches_host_all_widths) { check_family(&fam_add); }
Test(alu_diff, alu_adc_matches_host_all_widths) { check_family(&fam_adc); }
Test(alu_diff, alu_sub_matches_host_all_widths) { check_family(&fam_sub); }
Test(alu_diff, alu_sbb_matches_host_all_widths) { check_family(&fam_sbb); }
Test(alu_diff, alu_cmp_matches_host_all_widths) { check_family(&fam_cmp); }
Test(alu_diff, alu_and_matches_host_all_widths) { check_family(&fam_and); }
Test(alu_diff, alu_or_matches_host_all_widths) { check_family(&fam_or); }
Test(alu_diff, alu_xor_matches_host_all_widths) { check_family(&fam_xor); }
Test(alu_diff, alu_test_matches_host_all_widths) { check_family(&fam_test); }
Test(alu_diff, alu_inc_matches_host_all_widths) { check_family(&fam_inc); }
Test(alu_diff, alu_dec_matches_host_all_widths) { check_family(&fam_dec); }
Test(alu_diff, alu_neg_matches_host_all_widths) { check_family(&fam_neg); }
Test(alu_diff, alu_not_matches_host_all_widths) { check_family(&fam_not); }

/* ---- shifts and rotates ---------------------------------------------------- */

static void gen_shift(uint64_t *s, unsigned w, struct io *in) { in->c = gen_count(s, w); }

static void emu_shl(unsigned w, struct io *io) { io->r = alu_shl(w, io->a, io->c, &io->fl); }
static void emu_shr(unsigned w, struct io *io) { io->r = alu_shr(w, io->a, io->c, &io->fl); }
static void emu_sar(unsigned w, struct io *io) { io->r = alu_sar(w, io->a, io->c, &io->fl); }
static void emu_rol(unsigned w, struct io *io) { io->r = alu_rol(w, io->a, io->c, &io->fl); }
static void emu_ror(unsigned w, struct io *io) { io->r = alu_ror(w, io->a, io->c, &io->fl); }
static void emu_rcl(unsigned w, struct io *io) { io->r = alu_rcl(w, io->a, io->c, &io->fl); }
static void emu_rcr(unsigned w, struct io *io) { io->r = alu_rcr(w, io->a, io->c, &io->fl); }
static void emu_shld(unsigned w, struct io *io) { io->r = alu_shld(w, io->a, io->b, io->c, &io->fl); }
static void emu_shrd(unsigned w, struct io *io) { io->r = alu_shrd(w, io->a, io->b, io->c, &io->fl); }

static void host_shl(unsigned w, struct io *io) { io->r = io->a; HOST_RC_WIDTHS("shl", io->r, io->c) }
static void host_shr(unsigned w, struct io *io) { io->r = io->a; HOST_RC_WIDTHS("shr", io->r, io->c) }
static void host_sar(unsigned w, struct io *io) { io->r = io->a; HOST_RC_WIDTHS("sar", io->r, io->c) }
static void host_rol(unsigned w, struct io *io) { io->r = io->a; HOST_RC_WIDTHS("rol", io->r, io->c) }
static void host_ror(unsigned w, struct io *io) { io->r = io->a; HOST_RC_WIDTHS("ror", io->r, io->c) }
static void host_rcl(unsigned w, struct io *io) { io->r = io->a; HOST_RC_WIDTHS("rcl", io->r, io->c) }
static void host_rcr(unsigned w, struct io *io) { io->r = io->a; HOST_RC_WIDTHS("rcr", io->r, io->c) }
static void host_shld(unsigned w, struct io *io) { io->r = io->a; HOST_RRC_WIDE("shld", io->r, io->b, io->c) }
static void host_shrd(unsigned w, struct io *io) { io->r = io->a; HOST_RRC_WIDE("shrd", io->r, io->b, io->c) }

/* OF is defined only for a masked count of 1; a count of 0 defines
 * everything (nothing changes). */
static uint64_t undef_rotate(unsigned w, const struct io *in)
{
	return alu_shift_count(w, in->c) > 1 ? RFLAGS_OF : 0;
}

/* SAR: AF too once anything shifts. */
static uint64_t undef_sar(unsigned w, const struct io *in)
{
	return undef_rotate(w, in) | (alu_shift_count(w, in->c) ? RFLAGS_AF : 0);
}

/* SHL/SHR: CF too when the count reaches the operand size. */
static uint64_t undef_shift(unsigned w, const struct io *in)
{
	bool whole = alu_shift_count(w, in->c) >= alu_bits(w);
	return undef_sar(w, in) | (whole ? RFLAGS_CF : 0);
}

/* SHLD/SHRD: a 16-bit count above 16 leaves everything undefined. */
static bool shift_double_defined(unsigned w, const struct io *in)
{
	return alu_shift_count(w, in->c) <= alu_bits(w);
}

static uint64_t undef_shift_double(unsigned w, const struct io *in)
{
	return shift_double_defined(w, in) ? undef_sar(w, in) : RFLAGS_STATUS;
}

FAMILY(shl, ALU_W8, .gen = gen_shift, .undefined = undef_shift);
FAMILY(shr, ALU_W8, .gen = gen_shift, .undefined = undef_shift);
FAMILY(sar, ALU_W8, .gen = gen_shift, .undefined = undef_sar);
FAMILY(rol, ALU_W8, .gen = gen_shift, .undefined = undef_rotate);
FAMILY(ror, ALU_W8, .gen = gen_shift, .undefined = undef_rotate);
FAMILY(rcl, ALU_W8, .gen = gen_shift, .undefined = undef_rotate);
FAMILY(rcr, ALU_W8, .gen = gen_shift, .undefined = undef_rotate);
FAMILY(shld, ALU_W16, .gen = gen_shift, .undefined = undef_shift_double,
       .result_defined = shift_double_defined);
FAMILY(shrd, ALU_W16, .gen = gen_shift, .undefined = undef_shift_double,
       .result_defined = shift_double_defined);

Test(alu_diff, alu_shl_matches_host_all_widths) { check_family(&fam_shl); }
Test(alu_diff, alu_shr_matches_host_all_widths) { check_family(&fam_shr); }
Test(alu_diff, alu_sar_matches_host_all_widths) { check_family(&fam_sar); }
Test(alu_diff, alu_rol_matches_host_all_widths) { check_family(&fam_rol); }
Test(alu_diff, alu_ror_matches_host_all_widths) { check_family(&fam_ror); }
Test(alu_diff, alu_rcl_matches_host_all_widths) { check_family(&fam_rcl); }
Test(alu_diff, alu_rcr_matches_host_all_widths) { check_family(&fam_rcr); }
Test(alu_diff, alu_shld_matches_host_all_widths) { check_family(&fam_shld); }
Test(alu_diff, alu_shrd_matches_host_all_widths) { check_family(&fam_shrd); }

/* ---- multiply and divide --------------------------------------------------- */

static void emu_mul(unsigned w, struct io *io) { io->r = alu_mul(w, io->a, io->b, &io->r2, &io->fl); }
static void emu_imul1(unsigned w, struct io *io) { io->r = alu_imul1(w, io->a, io->b, &io->r2, &io->fl); }
static void emu_imul2(unsigned w, struct io *io) { io->r = alu_imul2(w, io->a, io->b, &io->fl); }
static void emu_div(unsigned w, struct io *io) { io->ok = alu_div(w, io->a, io->b, io->c, &io->r, &io->r2); }
static void emu_idiv(unsigned w, struct io *io) { io->ok = alu_idiv(w, io->a, io->b, io->c, &io->r, &io->r2); }

/* Split the host's accumulator pair into (low or quotient, high or
 * remainder): AL/AH for bytes, RAX/RDX otherwise. */
static void host_acc_out(unsigned w, struct io *io, uint64_t rax, uint64_t rdx)
{
	io->r = w == ALU_W8 ? rax & 0xff : rax;
	io->r2 = w == ALU_W8 ? (rax >> 8) & 0xff : rdx;
}

static void host_mul(unsigned w, struct io *io)
{
	uint64_t rax = io->a, rdx = 0;
	HOST_ACC_WIDTHS("mul", rax, rdx, io->b)
	host_acc_out(w, io, rax, rdx);
}

static void host_imul1(unsigned w, struct io *io)
{
	uint64_t rax = io->a, rdx = 0;
	HOST_ACC_WIDTHS("imul", rax, rdx, io->b)
	host_acc_out(w, io, rax, rdx);
}

static void host_imul2(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("imul", io->r, io->b) }

/* Dividend a:b (high:low), divisor c. Only called for inputs the SDM says
 * do not fault. */
static void host_dividend(unsigned w, const struct io *io, uint64_t *rax, uint64_t *rdx)
{
	*rax = w == ALU_W8 ? (io->a << 8) | io->b : io->b;
	*rdx = w == ALU_W8 ? 0 : io->a;
}

static void host_div(unsigned w, struct io *io)
{
	uint64_t rax, rdx;
	host_dividend(w, io, &rax, &rdx);
	HOST_ACC_WIDTHS("div", rax, rdx, io->c)
	host_acc_out(w, io, rax, rdx);
}

static void host_idiv(unsigned w, struct io *io)
{
	uint64_t rax, rdx;
	host_dividend(w, io, &rax, &rdx);
	HOST_ACC_WIDTHS("idiv", rax, rdx, io->c)
	host_acc_out(w, io, rax, rdx);
}

/* Dividends that mostly divide: a high half below the divisor, a sign
 * extension of the low half, or anything; divisors include 0, 1, -1 and
 * the most negative value through gen_operand's edges. */
static void gen_div(uint64_t *s, unsigned w, struct io *in)
{
	uint64_t pick = rng_next(s) % 4;
	if (pick == 0 && in->c != 0)
		in->a = rng_next(s) % (in->c & alu_mask(w));
	else if (pick == 1)
		in->a = alu_sign_fill(w, in->b);
	else if (pick == 2)
		in->a = alu_sign_fill(w, rng_next(s));
}

/* The SDM's DIV rule as written: temp <- dividend / SRC; #DE when SRC is 0
 * or temp exceeds the width. */
static bool div_faults(unsigned w, const struct io *in)
{
	uint64_t m = alu_mask(w), d = in->c & m;
	unsigned __int128 n = ((unsigned __int128)(in->a & m) << alu_bits(w)) | (in->b & m);
	return d == 0 || n / d > m;
}

/* IDIV: #DE when SRC is 0 or the signed quotient leaves
 * [-2^(n-1), 2^(n-1) - 1]. The dividend is sign-extended from 2n bits. */
static bool idiv_faults(unsigned w, const struct io *in)
{
	unsigned n = alu_bits(w);
	__int128 d = (int64_t)alu_sext(w, in->c);
	__int128 hi = (int64_t)alu_sext(w, in->a);
	__int128 dividend = hi * ((__int128)1 << n) + (__int128)(in->b & alu_mask(w));
	__int128 max = ((__int128)1 << (n - 1)) - 1;
	if (d == 0)
		return true;
	if (d == -1) /* quotient -dividend; avoids the overflowing C division */
		return dividend < -max || dividend > max + 1;
	__int128 q = dividend / d;
	return q > max || q < -max - 1;
}

static uint64_t undef_mul(unsigned w, const struct io *in)
{
	return RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF;
}

static uint64_t undef_all(unsigned w, const struct io *in) { return RFLAGS_STATUS; }

FAMILY(mul, ALU_W8, .undefined = undef_mul, .has_r2 = true);
FAMILY(imul1, ALU_W8, .undefined = undef_mul, .has_r2 = true);
FAMILY(imul2, ALU_W16, .undefined = undef_mul);
FAMILY(div, ALU_W8, .gen = gen_div, .faults = div_faults, .undefined = undef_all, .has_r2 = true);
FAMILY(idiv, ALU_W8, .gen = gen_div, .faults = idiv_faults, .undefined = undef_all,
       .has_r2 = true);

Test(alu_diff, alu_mul_matches_host_all_widths) { check_family(&fam_mul); }
Test(alu_diff, alu_imul1_matches_host_all_widths) { check_family(&fam_imul1); }
Test(alu_diff, alu_imul2_matches_host_all_widths) { check_family(&fam_imul2); }
Test(alu_diff, alu_div_matches_host_and_faults_as_the_sdm_says) { check_family(&fam_div); }
Test(alu_diff, alu_idiv_matches_host_and_faults_as_the_sdm_says) { check_family(&fam_idiv); }

/* #DE against the processor itself: DIV/IDIV CL/CX/ECX/RCX run in a child
 * through tests/native_exec, which catches each SIGFPE there and goes on
 * with the next case. */
struct de_case {
	uint64_t hi, lo, divisor;
};

/* DIV or IDIV (F6/F7 with ModRM reg 6 or 7) by CL/CX/ECX/RCX. */
static size_t div_code(bool is_signed, unsigned w, uint8_t *code)
{
	size_t len = 0;
	if (w == ALU_W16)
		code[len++] = 0x66;
	if (w == ALU_W64)
		code[len++] = 0x48; /* REX.W */
	code[len++] = w == ALU_W8 ? 0xf6 : 0xf7;
	code[len++] = 0xc0 | (is_signed ? 7 : 6) << 3 | 1; /* mod 11, rm = rCX */
	return len;
}

/* Whether v is a dividend of 2n bits (signed or not). For n = 64 every
 * value the limit cases build fits. */
static bool dividend_fits(bool is_signed, unsigned n, __int128 v)
{
	if (n == 64)
		return is_signed || v >= 0;
	__int128 lim = (__int128)1 << (2 * n - 1);
	return is_signed ? v >= -lim && v < lim : v >= 0 && v < 2 * lim;
}

/* Dividend hi:lo = q * d + r for the quotients around the limits of the
 * width, where that fits in twice the width: the first quotients outside
 * the range must fault, the last ones inside must not. */
static size_t de_limit_cases(bool is_signed, unsigned w, struct de_case *c)
{
	unsigned n = alu_bits(w);
	__int128 half = (__int128)1 << (n - 1), top = (__int128)1 << n;
	const __int128 qs_signed[] = { half - 1, half, -half, -half - 1, 0 };
	const __int128 qs_unsigned[] = { top - 1, top, top + 1, 0 };
	const __int128 *qs = is_signed ? qs_signed : qs_unsigned;
	size_t nq = is_signed ? N(qs_signed) : N(qs_unsigned), k = 0;
	const __int128 ds[] = { 1, 2, 3, 7, half - 1, -1, -2, -half };
	for (size_t i = 0; i < nq; i++)
		for (size_t j = 0; j < N(ds); j++) {
			__int128 d = ds[j];
			if (!is_signed && d < 0)
				continue;
			for (__int128 r = 0; r < 2; r++) {
				__int128 v = qs[i] * d + (qs[i] < 0 ? -r : r);
				if (!dividend_fits(is_signed, n, v))
					continue;
				c[k++] = (struct de_case){ (uint64_t)(v >> n) & alu_mask(w),
							   (uint64_t)v & alu_mask(w), (uint64_t)d & alu_mask(w) };
			}
		}
	return k;
}

static void de_case_state(unsigned w, const struct de_case *c, struct native_state *st)
{
	memset(st, 0, sizeof(*st));
	st->rflags = RFLAGS_FIXED1;
	st->gpr[NATIVE_RCX] = c->divisor;
	st->gpr[NATIVE_RAX] = w == ALU_W8 ? c->hi << 8 | c->lo : c->lo;
	st->gpr[NATIVE_RDX] = w == ALU_W8 ? 0 : c->hi;
}

/* One case's verdicts: the host's (ran, quotient, remainder) and alu's. */
static void de_compare(bool is_signed, unsigned w, const struct de_case *c, bool host_ok,
		       const struct native_state *out)
{
	uint64_t q = 0, r = 0;
	bool ok = is_signed ? alu_idiv(w, c->hi, c->lo, c->divisor, &q, &r)
			    : alu_div(w, c->hi, c->lo, c->divisor, &q, &r);
	cr_expect_eq(ok, host_ok, "%s w=%u %#" PRIx64 ":%#" PRIx64 " / %#" PRIx64 ": alu %s, host %s",
		     is_signed ? "idiv" : "div", w, c->hi, c->lo, c->divisor, ok ? "divides" : "#DE",
		     host_ok ? "divides" : "#DE");
	if (!ok || !host_ok)
		return;
	uint64_t rax = out->gpr[NATIVE_RAX], rdx = out->gpr[NATIVE_RDX];
	cr_expect_eq(q, w == ALU_W8 ? rax & 0xff : rax & alu_mask(w));
	cr_expect_eq(r, w == ALU_W8 ? (rax >> 8) & 0xff : rdx & alu_mask(w));
}

static void check_de_natively(bool is_signed, unsigned w, const struct de_case *c, size_t n)
{
	struct native_state *in = calloc(n, sizeof(*in)), *out = calloc(n, sizeof(*out));
	struct native_fault *faults = calloc(n, sizeof(*faults));
	uint8_t code[4];
	size_t len = div_code(is_signed, w, code);
	char err[160];
	cr_assert(in && out && faults);
	for (size_t k = 0; k < n; k++)
		de_case_state(w, &c[k], &in[k]);
	cr_assert(native_exec_batch_catch(code, len, in, out, faults, n, NULL, err, sizeof(err)),
		  "%s", err);
	for (size_t k = 0; k < n; k++) {
		cr_expect(faults[k].signal == 0 || faults[k].signal == SIGFPE, "signal %d",
			  faults[k].signal);
		de_compare(is_signed, w, &c[k], faults[k].signal == 0, &out[k]);
	}
	free(in);
	free(out);
	free(faults);
}

/* Quotients at the limits for every width, plus random dividends. */
static void check_de_all_widths(bool is_signed)
{
	struct de_case c[256];
	uint64_t s = SEED;
	for (unsigned w = ALU_W8; w <= ALU_W64; w++) {
		size_t n = de_limit_cases(is_signed, w, c);
		while (n < N(c)) {
			struct io in = { .b = gen_operand(&s, w), .c = gen_operand(&s, w) };
			gen_div(&s, w, &in);
			c[n++] = (struct de_case){ in.a & alu_mask(w), in.b, in.c };
		}
		check_de_natively(is_signed, w, c, n);
	}
}

Test(alu_diff, alu_div_raises_de_exactly_where_the_processor_does)
{
	check_de_all_widths(false);
}

Test(alu_diff, alu_idiv_raises_de_exactly_where_the_processor_does)
{
	check_de_all_widths(true);
}

/* ---- bit operations -------------------------------------------------------- */

static void emu_bt(unsigned w, struct io *io) { io->r = io->a & alu_mask(w); alu_bt(w, io->a, io->b, &io->fl); }
static void emu_bts(unsigned w, struct io *io) { io->r = alu_bts(w, io->a, io->b, &io->fl); }
static void emu_btr(unsigned w, struct io *io) { io->r = alu_btr(w, io->a, io->b, &io->fl); }
static void emu_btc(unsigned w, struct io *io) { io->r = alu_btc(w, io->a, io->b, &io->fl); }
static void emu_tzcnt(unsigned w, struct io *io) { io->r = alu_tzcnt(w, io->b, &io->fl); }
static void emu_lzcnt(unsigned w, struct io *io) { io->r = alu_lzcnt(w, io->b, &io->fl); }
static void emu_popcnt(unsigned w, struct io *io) { io->r = alu_popcnt(w, io->b, &io->fl); }
static void emu_bswap(unsigned w, struct io *io) { io->r = alu_bswap(w, io->a); }

/* BSF/BSR: the destination starts as a; a zero source must leave it. */
static void emu_bsf(unsigned w, struct io *io)
{
	io->r = io->a & alu_mask(w);
	(void)alu_bsf(w, io->b, &io->r, &io->fl);
}

static void emu_bsr(unsigned w, struct io *io)
{
	io->r = io->a & alu_mask(w);
	(void)alu_bsr(w, io->b, &io->r, &io->fl);
}

static void host_bt(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("bt", io->r, io->b) }
static void host_bts(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("bts", io->r, io->b) }
static void host_btr(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("btr", io->r, io->b) }
static void host_btc(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("btc", io->r, io->b) }
static void host_bsf(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("bsf", io->r, io->b) }
static void host_bsr(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("bsr", io->r, io->b) }
static void host_tzcnt(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("tzcnt", io->r, io->b) }
static void host_lzcnt(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("lzcnt", io->r, io->b) }
static void host_popcnt(unsigned w, struct io *io) { io->r = io->a; HOST_RR_WIDE("popcnt", io->r, io->b) }

/* BSWAP r16 has no assembler mnemonic: 66 0F C8 is BSWAP AX. */
static void host_bswap(unsigned w, struct io *io)
{
	io->r = io->a;
	switch (w) {
	case ALU_W16: __asm__(".byte 0x66, 0x0f, 0xc8" : "+a"(io->r)); break;
	case ALU_W32: __asm__("bswap %k[a]" : [a] "+r"(io->r)); break;
	default: __asm__("bswap %q[a]" : [a] "+r"(io->r)); break;
	}
}

static uint64_t undef_bt(unsigned w, const struct io *in)
{
	return RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF;
}

static uint64_t undef_bsf(unsigned w, const struct io *in) { return undef_bt(w, in) | RFLAGS_CF; }

FAMILY(bt, ALU_W16, .undefined = undef_bt);
FAMILY(bts, ALU_W16, .undefined = undef_bt);
FAMILY(btr, ALU_W16, .undefined = undef_bt);
FAMILY(btc, ALU_W16, .undefined = undef_bt);
FAMILY(bsf, ALU_W16, .undefined = undef_bsf);
FAMILY(bsr, ALU_W16, .undefined = undef_bsf);
FAMILY(tzcnt, ALU_W16, .undefined = undef_bt);
FAMILY(lzcnt, ALU_W16, .undefined = undef_bt);
FAMILY(popcnt, ALU_W16, .undefined = NULL);
FAMILY(bswap, ALU_W16, .undefined = NULL);

Test(alu_diff, alu_bt_matches_host_all_widths) { check_family(&fam_bt); }
Test(alu_diff, alu_bts_matches_host_all_widths) { check_family(&fam_bts); }
Test(alu_diff, alu_btr_matches_host_all_widths) { check_family(&fam_btr); }
Test(alu_diff, alu_btc_matches_host_all_widths) { check_family(&fam_btc); }
Test(alu_diff, alu_bsf_matches_host_all_widths) { check_family(&fam_bsf); }
Test(alu_diff, alu_bsr_matches_host_all_widths) { check_family(&fam_bsr); }
Test(alu_diff, alu_bswap_matches_host_all_widths) { check_family(&fam_bswap); }

/* TZCNT and LZCNT decode as BSF and BSR on processors without BMI1/LZCNT,
 * and POPCNT raises #UD without it: skip rather than compare against the
 * wrong instruction. */
/* CPUID feature bits (SDM Vol. 2 "CPUID"): BMI1 is leaf 7 EBX bit 3,
 * LZCNT leaf 0x80000001 ECX bit 5, POPCNT leaf 1 ECX bit 23. */
static bool host_has_bmi1(void)
{
	unsigned a, b, c, d;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 3));
}

static bool host_has_lzcnt(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 5));
}

static bool host_has_popcnt(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 23));
}

Test(alu_diff, alu_tzcnt_matches_host_all_widths)
{
	if (!host_has_bmi1())
		cr_skip_test("host lacks BMI1");
	check_family(&fam_tzcnt);
}

Test(alu_diff, alu_lzcnt_matches_host_all_widths)
{
	if (!host_has_lzcnt())
		cr_skip_test("host lacks LZCNT");
	check_family(&fam_lzcnt);
}

Test(alu_diff, alu_popcnt_matches_host_all_widths)
{
	if (!host_has_popcnt())
		cr_skip_test("host lacks POPCNT");
	check_family(&fam_popcnt);
}

/* ---- flag transfers and BT memory addressing --------------------------- */

/* LAHF with random flags in; SAHF with a random AH (other bits of RAX
 * random too) over random flags. */
Test(alu_diff, alu_lahf_and_sahf_match_host)
{
	uint64_t s = SEED;
	for (unsigned i = 0; i < ITERATIONS; i++) {
		uint64_t fl = gen_flags(&s), rax = rng_next(&s), hfl = fl;
		uint64_t ah = (rax >> 8) & 0xff, efl = fl | PASSTHROUGH;
		__asm__ volatile(FLAGS_IN "sahf" FLAGS_OUT : [fl] "+r"(hfl) : "a"(rax) : "cc");
		alu_sahf(ah, &efl);
		cr_expect_eq(efl & RFLAGS_STATUS, hfl & RFLAGS_STATUS,
			     "sahf ah=%#" PRIx64 " fl=%#" PRIx64, ah, fl);
		cr_expect_eq(efl & ~RFLAGS_STATUS, (fl | PASSTHROUGH) & ~RFLAGS_STATUS);
		hfl = fl;
		__asm__ volatile(FLAGS_IN "lahf" FLAGS_OUT : [fl] "+r"(hfl), "+a"(rax) : : "cc");
		cr_expect_eq(alu_lahf(fl | PASSTHROUGH), (rax >> 8) & 0xff, "lahf fl=%#" PRIx64, fl);
	}
}

/* BTS with a memory destination and a register bit offset, on the host,
 * against alu_bt_mem_disp + alu_bts on an operand-sized unit: same CF, same
 * memory. Offsets reach a few thousand bytes either side of the base. */
#define BT_SPAN 16384
static void check_bts_memory(unsigned w, uint64_t off, uint8_t *host, uint8_t *emu)
{
	uint8_t *hbase = host + BT_SPAN / 2, *ebase = emu + BT_SPAN / 2;
	uint64_t hfl = RFLAGS_FIXED1, efl = RFLAGS_FIXED1, unit = 0;
#define HOST_BTS_MEM(insn)                                                         \
	__asm__ volatile(FLAGS_IN insn FLAGS_OUT : [fl] "+r"(hfl) : [i] "r"(off), \
			 [p] "r"(hbase) : "cc", "memory")
	switch (w) {
	case ALU_W16: HOST_BTS_MEM("btsw %w[i], (%[p])"); break;
	case ALU_W32: HOST_BTS_MEM("btsl %k[i], (%[p])"); break;
	default: HOST_BTS_MEM("btsq %q[i], (%[p])"); break;
	}
#undef HOST_BTS_MEM
	uint8_t *at = ebase + alu_bt_mem_disp(w, off);
	cr_assert(at >= emu && at + (1u << w) <= emu + BT_SPAN, "displacement out of the buffer");
	memcpy(&unit, at, 1u << w);
	unit = alu_bts(w, unit, off, &efl);
	memcpy(at, &unit, 1u << w);
	cr_expect_eq(efl & RFLAGS_CF, hfl & RFLAGS_CF, "w=%u offset %#" PRIx64, w, off);
	cr_expect_eq(memcmp(host, emu, BT_SPAN), 0, "w=%u offset %#" PRIx64 ": memory differs", w, off);
}

Test(alu_diff, alu_bt_mem_disp_addresses_the_unit_the_host_touches)
{
	static uint8_t host[BT_SPAN], emu[BT_SPAN];
	uint64_t s = SEED;
	for (size_t i = 0; i < BT_SPAN; i++)
		host[i] = emu[i] = (uint8_t)rng_next(&s);
	for (unsigned w = ALU_W16; w <= ALU_W64; w++)
		for (unsigned i = 0; i < 2000; i++) {
			int64_t bits = (int64_t)(rng_next(&s) % (BT_SPAN * 6)) - BT_SPAN * 3;
			check_bts_memory(w, (uint64_t)bits & alu_mask(w), host, emu);
		}
}

/* ---- conditions and extension --------------------------------------------- */

/* SETcc on the host for condition cc under flags fl. */
static bool host_setcc(unsigned cc, uint64_t fl)
{
	uint8_t r = 0;
#define SETCC(insn) \
	__asm__ volatile(FLAGS_IN insn " %[r]" FLAGS_OUT : [r] "+q"(r), [fl] "+r"(fl) : : "cc")
	switch (cc) {
	case ALU_CC_O: SETCC("seto"); break;
	case ALU_CC_NO: SETCC("setno"); break;
	case ALU_CC_B: SETCC("setb"); break;
	case ALU_CC_AE: SETCC("setae"); break;
	case ALU_CC_E: SETCC("sete"); break;
	case ALU_CC_NE: SETCC("setne"); break;
	case ALU_CC_BE: SETCC("setbe"); break;
	case ALU_CC_A: SETCC("seta"); break;
	case ALU_CC_S: SETCC("sets"); break;
	case ALU_CC_NS: SETCC("setns"); break;
	case ALU_CC_P: SETCC("setp"); break;
	case ALU_CC_NP: SETCC("setnp"); break;
	case ALU_CC_L: SETCC("setl"); break;
	case ALU_CC_GE: SETCC("setge"); break;
	case ALU_CC_LE: SETCC("setle"); break;
	default: SETCC("setg"); break;
	}
#undef SETCC
	return r;
}

/* Every combination of the five flags the conditions read, for all 16. */
Test(alu_diff, alu_cond_matches_host_setcc_for_every_flag_combination)
{
	const uint64_t bits[] = { RFLAGS_CF, RFLAGS_PF, RFLAGS_ZF, RFLAGS_SF, RFLAGS_OF };
	for (unsigned combo = 0; combo < 32; combo++) {
		uint64_t fl = RFLAGS_FIXED1;
		for (unsigned i = 0; i < N(bits); i++)
			if (combo & (1u << i))
				fl |= bits[i];
		for (unsigned cc = 0; cc < 16; cc++)
			cr_expect_eq(alu_cond(cc, fl | PASSTHROUGH), host_setcc(cc, fl),
				     "cc %#x flags %#" PRIx64, cc, fl);
	}
}

/* MOVSX to 64 bits and CWD/CDQ/CQO on the host; r2 of the emulated side
 * holds the sign fill. */
static void emu_sext(unsigned w, struct io *io)
{
	io->r = alu_sext(w, io->a);
	io->r2 = alu_sign_fill(w, io->a);
}

static void host_sext(unsigned w, struct io *io)
{
	uint64_t a = io->a, r = 0, d = 0;
	switch (w) {
	case ALU_W8: __asm__("movsbq %b[a], %[r]" : [r] "=r"(r) : [a] "r"(a)); break;
#define HOST_SEXT(insn) __asm__(insn : [r] "=a"(r), "=d"(d) : [a] "r"(a))
	case ALU_W16: HOST_SEXT("movswq %w[a], %[r]\n\tcwtd"); break;
	case ALU_W32: HOST_SEXT("movslq %k[a], %[r]\n\tcltd"); break;
	default: HOST_SEXT("mov %[a], %[r]\n\tcqto"); break;
#undef HOST_SEXT
	}
	io->r = r;
	/* No CWD form for bytes: the sign fill of AL is the sign of the word. */
	io->r2 = w == ALU_W8 ? (r >> 8) & 0xff : d & alu_mask(w);
}

Test(alu_diff, alu_sext_and_sign_fill_match_movsx_and_cwd)
{
	uint64_t s = SEED;
	for (unsigned w = ALU_W8; w <= ALU_W64; w++)
		for (unsigned i = 0; i < ITERATIONS; i++) {
			uint64_t above = rng_next(&s) & ~alu_mask(w); /* must be ignored */
			struct io e = { .a = gen_operand(&s, w) | above };
			struct io h = e;
			emu_sext(w, &e);
			host_sext(w, &h);
			cr_expect_eq(e.r, h.r, "sext w=%u a=%#" PRIx64, w, e.a);
			cr_expect_eq(e.r2, h.r2, "sign fill w=%u a=%#" PRIx64, w, e.a);
		}
}

/* MOVZX (and the 32-bit MOV that zero-extends) on the host. */
static uint64_t host_zext(unsigned w, uint64_t a)
{
	uint64_t r = 0;
	switch (w) {
	case ALU_W8: __asm__("movzbq %b[a], %[r]" : [r] "=r"(r) : [a] "r"(a)); break;
	case ALU_W16: __asm__("movzwq %w[a], %[r]" : [r] "=r"(r) : [a] "r"(a)); break;
	case ALU_W32: __asm__("movl %k[a], %k[r]" : [r] "=r"(r) : [a] "r"(a)); break;
	default: r = a; break;
	}
	return r;
}

Test(alu_diff, alu_zext_matches_movzx)
{
	uint64_t s = SEED;
	for (unsigned w = ALU_W8; w <= ALU_W64; w++)
		for (unsigned i = 0; i < ITERATIONS; i++) {
			uint64_t a = rng_next(&s);
			cr_expect_eq(alu_zext(w, a), host_zext(w, a), "zext w=%u a=%#" PRIx64, w, a);
		}
}

/* ---- decimal adjustments, natively in 32-bit code ------------------------- */

/* DAA, DAS, AAA, AAS, AAM and AAD do not exist in 64-bit mode, so they run
 * through tests/native_exec in compatibility mode: every AL, a few AH
 * values, every AF/CF combination, and for AAM/AAD a spread of bases
 * (AAM 0 must raise #DE on both sides). */
struct bcd_op {
	const char *name;
	uint8_t opcode;
	bool has_base, reads_ah;
	uint64_t undefined;
	bool (*emu)(uint64_t ax, uint8_t base, uint64_t *ax_out, uint64_t *fl);
};

#define BCD_ARGS uint64_t ax, uint8_t base, uint64_t *o, uint64_t *fl
static bool emu_daa(BCD_ARGS) { *o = alu_daa(ax, fl); return true; }
static bool emu_das(BCD_ARGS) { *o = alu_das(ax, fl); return true; }
static bool emu_aaa(BCD_ARGS) { *o = alu_aaa(ax, fl); return true; }
static bool emu_aas(BCD_ARGS) { *o = alu_aas(ax, fl); return true; }
static bool emu_aad(BCD_ARGS) { *o = alu_aad(ax, base, fl); return true; }
static bool emu_aam(BCD_ARGS) { return alu_aam(ax, base, o, fl); }

/* One native run of `op` with immediate `base` over every AL, the given AH
 * values (a random AH where the instruction only carries it through) and
 * all four AF/CF combinations (random AF and CF for AAM and AAD, which do
 * not read them); the upper half of EAX is random and must survive.
 * Returns the number of mismatches. */
static unsigned check_bcd_base(const struct bcd_op *op, uint8_t base, const uint8_t *ahs,
			       size_t nah, uint64_t *s)
{
	const uint8_t code[] = { op->opcode, base };
	size_t bad = 0;
	if (!op->reads_ah)
		nah = 1;
	size_t n = 256 * nah * (op->has_base ? 1 : 4);
	struct native_state *in = calloc(n, sizeof(*in)), *out = calloc(n, sizeof(*out));
	struct native_fault *faults = calloc(n, sizeof(*faults));
	char err[160];
	cr_assert(in && out && faults);
	for (size_t k = 0; k < n; k++) {
		uint64_t al = k & 0xff, ah = op->reads_ah ? ahs[(k >> 8) % nah] : rng_next(s) & 0xff;
		uint64_t afcf = op->has_base ? rng_next(s) : k / (256 * nah);
		in[k].gpr[NATIVE_RAX] = (rng_next(s) & 0xffff0000) | ah << 8 | al;
		in[k].rflags = (gen_flags(s) & ~(RFLAGS_AF | RFLAGS_CF)) |
			       (afcf & 1 ? RFLAGS_AF : 0) | (afcf & 2 ? RFLAGS_CF : 0);
	}
	cr_assert(native_exec_mode(NATIVE_MODE_32, code, op->has_base ? 2 : 1, in, out, faults, n,
				   NULL, err, sizeof(err)), "%s: %s", op->name, err);
	for (size_t k = 0; k < n && bad < 5; k++) {
		uint64_t eax = in[k].gpr[NATIVE_RAX], fl = in[k].rflags, ax = 0;
		uint64_t defined = RFLAGS_STATUS & ~op->undefined;
		bool ok = op->emu(eax & 0xffff, base, &ax, &fl);
		bool good = ok == (faults[k].signal == 0) &&
			    (!ok || (out[k].gpr[NATIVE_RAX] == ((eax & 0xffff0000) | ax) &&
				     (out[k].rflags & defined) == (fl & defined)));
		if (!good) {
			bad++;
			cr_log_error("%s %#x: eax=%#" PRIx64 " fl=%#" PRIx64 ": emu %s ax=%#" PRIx64
				     " fl=%#" PRIx64 ", host signal %d eax=%#" PRIx64 " fl=%#" PRIx64,
				     op->name, base, eax, in[k].rflags, ok ? "ok" : "#DE", ax, fl,
				     faults[k].signal, out[k].gpr[NATIVE_RAX], out[k].rflags);
		}
	}
	free(in);
	free(out);
	free(faults);
	return (unsigned)bad;
}

static void check_bcd(const struct bcd_op *op)
{
	const uint8_t ahs[] = { 0x00, 0x7f, 0x80, 0xff };
	const uint8_t bases[] = { 0, 1, 2, 7, 10, 16, 0xff };
	uint64_t s = SEED;
	if (!native_exec_has_mode32())
		cr_skip_test("this kernel runs no 32-bit code");
	for (size_t i = 0; i < (op->has_base ? N(bases) : 1); i++)
		cr_expect_eq(check_bcd_base(op, op->has_base ? bases[i] : 0, ahs, N(ahs), &s), 0,
			     "%s mismatches the host", op->name);
}

static const struct bcd_op bcd_daa = { "daa", 0x27, false, false, RFLAGS_OF, emu_daa };
static const struct bcd_op bcd_das = { "das", 0x2f, false, false, RFLAGS_OF, emu_das };
static const struct bcd_op bcd_aaa = { "aaa", 0x37, false, true,
				       RFLAGS_OF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_PF, emu_aaa };
static const struct bcd_op bcd_aas = { "aas", 0x3f, false, true,
				       RFLAGS_OF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_PF, emu_aas };
static const struct bcd_op bcd_aam = { "aam", 0xd4, true, false,
				       RFLAGS_OF | RFLAGS_AF | RFLAGS_CF, emu_aam };
static const struct bcd_op bcd_aad = { "aad", 0xd5, true, true,
				       RFLAGS_OF | RFLAGS_AF | RFLAGS_CF, emu_aad };

Test(alu_diff, alu_daa_matches_host_32bit) { check_bcd(&bcd_daa); }
Test(alu_diff, alu_das_matches_host_32bit) { check_bcd(&bcd_das); }
Test(alu_diff, alu_aaa_matches_host_32bit) { check_bcd(&bcd_aaa); }
Test(alu_diff, alu_aas_matches_host_32bit) { check_bcd(&bcd_aas); }
Test(alu_diff, alu_aam_matches_host_32bit_and_faults_on_base_0) { check_bcd(&bcd_aam); }
Test(alu_diff, alu_aad_matches_host_32bit) { check_bcd(&bcd_aad); }
