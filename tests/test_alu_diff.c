/* Differential tests of emu/alu against the host CPU.
 *
 * The host is x86-64, so every function in emu/alu.h has a real instruction
 * to answer to. For each family and width, thousands of operand and flag
 * inputs (edge values mixed with fixed-seed random ones) go through the alu_
 * function and through the instruction itself, run here by inline assembly:
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
 *
 * The emulated side also receives a few non-status bits (IF, AC, ID and a
 * high bit) in RFLAGS and must hand them back unchanged; the host side gets
 * only status flags, since user code cannot set the rest.
 *
 * #DE is never raised natively here: alu_div/alu_idiv's verdict is checked
 * against an independent statement of the SDM's rule, and the host executes
 * only the divisions both agree are valid.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "emu/alu.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ITERATIONS 5000
#define SEED UINT64_C(0x6d6d756c6162)

/* Non-status RFLAGS bits handed to the emulated side to prove they pass
 * through untouched. */
#define PASSTHROUGH (RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_AC | RFLAGS_ID | BIT64(40))

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
	/* The inputs: b (and c) as operands or as a count in c. */
	uint64_t (*gen_c)(uint64_t *s, unsigned w);
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
	emu.ok = true;
	f->emu(w, &emu);
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

/* Run ITERATIONS cases per width; report at most a few mismatches. */
static void check_family(const struct family *f)
{
	for (unsigned w = f->wmin; w <= f->wmax; w++) {
		uint64_t s = SEED + w;
		unsigned bad = 0;
		for (unsigned i = 0; i < ITERATIONS && bad < 5; i++) {
			struct io in = { .a = gen_operand(&s, w), .b = gen_operand(&s, w) };
			in.c = f->gen_c ? f->gen_c(&s, w) : gen_operand(&s, w);
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
static void host_cmp(unsigned w, struct io *io) { uint64_t a = io->a; HOST_RR_WIDTHS("cmp", a, io->b) io->r = 0; }
static void host_test(unsigned w, struct io *io) { uint64_t a = io->a; HOST_RR_WIDTHS("test", a, io->b) io->r = 0; }
static void host_inc(unsigned w, struct io *io) { io->r = io->a; HOST_R_WIDTHS("inc", io->r) }
static void host_dec(unsigned w, struct io *io) { io->r = io->a; HOST_R_WIDTHS("dec", io->r) }
static void host_neg(unsigned w, struct io *io) { io->r = io->a; HOST_R_WIDTHS("neg", io->r) }
static void host_not(unsigned w, struct io *io) { io->r = io->a; HOST_R_WIDTHS("not", io->r) }

static uint64_t undef_af(unsigned w, const struct io *in) { return RFLAGS_AF; }

#define FAMILY(n, ...) \
	static const struct family fam_##n = { .name = #n, .wmin = ALU_W8, .wmax = ALU_W64, \
		.emu = emu_##n, .host = host_##n, __VA_ARGS__ }

FAMILY(add, .undefined = NULL);
FAMILY(adc, .undefined = NULL);
FAMILY(sub, .undefined = NULL);
FAMILY(sbb, .undefined = NULL);
FAMILY(cmp, .undefined = NULL);
FAMILY(and, .undefined = undef_af);
FAMILY(or, .undefined = undef_af);
FAMILY(xor, .undefined = undef_af);
FAMILY(test, .undefined = undef_af);
FAMILY(inc, .undefined = NULL);
FAMILY(dec, .undefined = NULL);
FAMILY(neg, .undefined = NULL);
FAMILY(not, .undefined = NULL);

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

/* MOVSX to 64 bits and CWD/CDQ/CQO on the host. */
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
	case ALU_W16: __asm__("movswq %w[a], %[r]\n\tcwtd" : [r] "=a"(r), "=d"(d) : [a] "r"(a)); break;
	case ALU_W32: __asm__("movslq %k[a], %[r]\n\tcltd" : [r] "=a"(r), "=d"(d) : [a] "r"(a)); break;
	default: __asm__("mov %[a], %[r]\n\tcqto" : [r] "=a"(r), "=d"(d) : [a] "r"(a)); break;
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
			struct io e = { .a = gen_operand(&s, w) | (rng_next(&s) << alu_bits(w) % 64 & ~alu_mask(w)) };
			struct io h = e;
			emu_sext(w, &e);
			host_sext(w, &h);
			cr_expect_eq(e.r, h.r, "sext w=%u a=%#" PRIx64, w, e.a);
			cr_expect_eq(e.r2, h.r2, "sign fill w=%u a=%#" PRIx64, w, e.a);
		}
}
