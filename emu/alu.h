/* Flag-exact general-purpose integer arithmetic for the x86-64 interpreter.
 *
 * Pure functions: no state, no globals. Each computes the result of one
 * instruction family and the RFLAGS bits that instruction defines, exactly as
 * the Intel SDM Vol. 2 instruction pages describe them.
 *
 * Conventions shared by every function:
 *   - `w` is log2 of the operand size in bytes: 0 = 8, 1 = 16, 2 = 32,
 *     3 = 64 bits (ALU_W8 .. ALU_W64). Callers that pass a constant let the
 *     compiler specialise the inline functions below.
 *   - Only the low 8 << w bits of each operand are read; results are
 *     truncated to the width and zero-extended into the uint64_t.
 *   - `fl` points at the full RFLAGS value. A function reads CF only where
 *     the instruction does (ADC, SBB, RCL, RCR) and replaces only the flags
 *     it writes, leaving every other bit untouched.
 *   - Flags the SDM calls undefined get the value the table in docs/alu.md
 *     names for that family (summarised at each function); nothing may
 *     depend on them.
 */
#ifndef EMU_ALU_H
#define EMU_ALU_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bits.h" /* BIT64, RFLAGS_AC */

/* RFLAGS (SDM Vol. 1 §3.4.3, Figure 3-8). RFLAGS_AC lives in mmu/bits.h,
 * which the MMU reads for SMAP and alignment checks. */
#define RFLAGS_CF BIT64(0)   /* carry */
#define RFLAGS_FIXED1 BIT64(1) /* reserved, always 1 */
#define RFLAGS_PF BIT64(2)   /* parity of the low 8 result bits: 1 if even */
#define RFLAGS_AF BIT64(4)   /* auxiliary carry out of bit 3 */
#define RFLAGS_ZF BIT64(6)   /* zero */
#define RFLAGS_SF BIT64(7)   /* sign: most significant result bit */
#define RFLAGS_TF BIT64(8)   /* trap (single step) */
#define RFLAGS_IF BIT64(9)   /* interrupt enable */
#define RFLAGS_DF BIT64(10)  /* direction for string instructions */
#define RFLAGS_OF BIT64(11)  /* signed overflow */
#define RFLAGS_IOPL_SHIFT 12
#define RFLAGS_IOPL (UINT64_C(3) << RFLAGS_IOPL_SHIFT) /* I/O privilege level */
#define RFLAGS_NT BIT64(14)  /* nested task */
#define RFLAGS_RF BIT64(16)  /* resume */
#define RFLAGS_VM BIT64(17)  /* virtual-8086 mode */
#define RFLAGS_VIF BIT64(19) /* virtual interrupt flag */
#define RFLAGS_VIP BIT64(20) /* virtual interrupt pending */
#define RFLAGS_ID BIT64(21)  /* CPUID available */

/* The six status flags (SDM Vol. 1 §3.4.3.1). */
#define RFLAGS_STATUS \
	(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* Operand widths, as log2 of the size in bytes. */
enum alu_width { ALU_W8 = 0, ALU_W16 = 1, ALU_W32 = 2, ALU_W64 = 3 };

/* Condition codes: the low nibble of Jcc, SETcc and CMOVcc opcodes
 * (SDM Vol. 1 Appendix B, Table B-1). An odd code negates the even one
 * below it. */
enum alu_cc {
	ALU_CC_O = 0x0,  /* OF = 1 */
	ALU_CC_NO = 0x1,
	ALU_CC_B = 0x2,  /* CF = 1 (also C, NAE) */
	ALU_CC_AE = 0x3, /* CF = 0 (also NB, NC) */
	ALU_CC_E = 0x4,  /* ZF = 1 (also Z) */
	ALU_CC_NE = 0x5,
	ALU_CC_BE = 0x6, /* CF = 1 or ZF = 1 (also NA) */
	ALU_CC_A = 0x7,
	ALU_CC_S = 0x8,  /* SF = 1 */
	ALU_CC_NS = 0x9,
	ALU_CC_P = 0xa,  /* PF = 1 (also PE) */
	ALU_CC_NP = 0xb,
	ALU_CC_L = 0xc,  /* SF != OF (also NGE) */
	ALU_CC_GE = 0xd,
	ALU_CC_LE = 0xe, /* ZF = 1 or SF != OF (also NG) */
	ALU_CC_G = 0xf,
};

/* Bit positions used to build flags without branches. */
enum {
	ALU_CF_BIT = 0, ALU_PF_BIT = 2, ALU_AF_BIT = 4, ALU_ZF_BIT = 6,
	ALU_SF_BIT = 7, ALU_OF_BIT = 11,
};

/* ---- widths -------------------------------------------------------------- */

static inline unsigned alu_bits(unsigned w) { return 8u << w; }

/* All-ones in the low 8 << w bits. */
static inline uint64_t alu_mask(unsigned w)
{
	return UINT64_MAX >> (64 - alu_bits(w));
}

/* The most significant bit of `v` at width w, as 0 or 1. */
static inline uint64_t alu_msb(unsigned w, uint64_t v)
{
	return (v >> (alu_bits(w) - 1)) & 1;
}

/* Zero-extend the low 8 << w bits of v (MOVZX: SDM Vol. 2 "MOVZX"). */
static inline uint64_t alu_zext(unsigned w, uint64_t v)
{
	return v & alu_mask(w);
}

/* Sign-extend the low 8 << w bits of v to 64 bits (MOVSX, CBW/CWDE/CDQE:
 * SDM Vol. 2 "CBW/CWDE/CDQE"). */
static inline uint64_t alu_sext(unsigned w, uint64_t v)
{
	unsigned sh = 64 - alu_bits(w);
	return (uint64_t)((int64_t)(v << sh) >> sh);
}

/* CWD/CDQ/CQO (SDM Vol. 2 "CWD/CDQ/CQO"): the value DX/EDX/RDX receives,
 * every bit a copy of the sign of the width-w accumulator. */
static inline uint64_t alu_sign_fill(unsigned w, uint64_t v)
{
	return (0 - alu_msb(w, v)) & alu_mask(w);
}

/* ---- status-flag builders ---------------------------------------------- */

/* PF for each value of the low result byte: RFLAGS_PF when it holds an even
 * number of ones (SDM Vol. 1 §3.4.3.1), else 0. A table lookup is cheaper
 * than the host's parity sequence. */
extern const uint8_t alu_pf_table[256];

/* The most significant bit of v at width w, moved to RFLAGS bit `pos`
 * (one shift and one AND once w is a constant). */
static inline uint64_t alu_msb_at(unsigned w, uint64_t v, unsigned pos)
{
	unsigned top = alu_bits(w) - 1;
	return (top >= pos ? v >> (top - pos) : v << (pos - top)) & BIT64(pos);
}

/* SF, ZF and PF of a width-w result r (already truncated). */
static inline uint64_t alu_szp(unsigned w, uint64_t r)
{
	return ((uint64_t)(r == 0) << ALU_ZF_BIT) | alu_msb_at(w, r, ALU_SF_BIT) |
	       alu_pf_table[r & 0xff];
}

/* Replace the flags in `defined` with `val`, keep every other bit. */
static inline void alu_set_flags(uint64_t *fl, uint64_t defined, uint64_t val)
{
	*fl = (*fl & ~defined) | val;
}

/* The status flags of an addition or subtraction with truncated operands a,
 * b and result r, given the carry or borrow out of the top bit (0 or 1) and
 * a value whose top bit is the signed overflow. AF is the carry or borrow
 * out of bit 3, which is bit 4 of a ^ b ^ r. */
static inline uint64_t alu_arith_flags(unsigned w, uint64_t a, uint64_t b, uint64_t r,
				       uint64_t carry, uint64_t overflow_msb)
{
	return carry | alu_msb_at(w, overflow_msb, ALU_OF_BIT) | ((a ^ b ^ r) & RFLAGS_AF) |
	       alu_szp(w, r);
}

/* r = a + b + c (c is 0 or 1): carry out when the truncated sum is below a,
 * or equal to it with c set; signed overflow when both operands have the
 * sign the result lacks. */
static inline uint64_t alu_add_flags(unsigned w, uint64_t a, uint64_t b, uint64_t c, uint64_t r)
{
	uint64_t carry = (uint64_t)(r < a) | ((uint64_t)(r == a) & c);
	return alu_arith_flags(w, a, b, r, carry, (a ^ r) & (b ^ r));
}

/* r = a - b - c (c is 0 or 1): borrow when a is below b, or equal to it
 * with c set; signed overflow when the operands' signs differ and the
 * result's sign differs from a's. */
static inline uint64_t alu_sub_flags(unsigned w, uint64_t a, uint64_t b, uint64_t c, uint64_t r)
{
	uint64_t borrow = (uint64_t)(a < b) | ((uint64_t)(a == b) & c);
	return alu_arith_flags(w, a, b, r, borrow, (a ^ b) & (a ^ r));
}

/* ---- binary ALU group ---------------------------------------------------- */

/* ADD and ADC (SDM Vol. 2 "ADD", "ADC"): OF SF ZF AF CF PF set by the
 * result; ADC adds CF in. */
static inline uint64_t alu_add(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	uint64_t m = alu_mask(w), r = (a + b) & m;
	alu_set_flags(fl, RFLAGS_STATUS, alu_add_flags(w, a & m, b & m, 0, r));
	return r;
}

static inline uint64_t alu_adc(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	uint64_t m = alu_mask(w), c = *fl & RFLAGS_CF, r = (a + b + c) & m;
	alu_set_flags(fl, RFLAGS_STATUS, alu_add_flags(w, a & m, b & m, c, r));
	return r;
}

/* SUB and SBB (SDM Vol. 2 "SUB", "SBB"): flags as ADD, CF the borrow; SBB
 * subtracts CF too. */
static inline uint64_t alu_sub(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	uint64_t m = alu_mask(w), r = (a - b) & m;
	alu_set_flags(fl, RFLAGS_STATUS, alu_sub_flags(w, a & m, b & m, 0, r));
	return r;
}

static inline uint64_t alu_sbb(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	uint64_t m = alu_mask(w), c = *fl & RFLAGS_CF, r = (a - b - c) & m;
	alu_set_flags(fl, RFLAGS_STATUS, alu_sub_flags(w, a & m, b & m, c, r));
	return r;
}

/* CMP (SDM Vol. 2 "CMP"): SUB with the result discarded; also the
 * comparison CMPXCHG makes (SDM Vol. 2 "CMPXCHG": flags as CMP of the
 * accumulator with the destination). */
static inline void alu_cmp(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	(void)alu_sub(w, a, b, fl);
}

/* AND, OR, XOR, TEST (SDM Vol. 2 "AND", "OR", "XOR", "TEST"): OF = CF = 0,
 * SF ZF PF by the result, AF undefined: mmulab clears it. */
static inline uint64_t alu_logic_result(unsigned w, uint64_t r, uint64_t *fl)
{
	alu_set_flags(fl, RFLAGS_STATUS, alu_szp(w, r));
	return r;
}

static inline uint64_t alu_and(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	return alu_logic_result(w, a & b & alu_mask(w), fl);
}

static inline uint64_t alu_or(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	return alu_logic_result(w, (a | b) & alu_mask(w), fl);
}

static inline uint64_t alu_xor(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	return alu_logic_result(w, (a ^ b) & alu_mask(w), fl);
}

static inline void alu_test(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	(void)alu_and(w, a, b, fl);
}

/* INC / DEC (SDM Vol. 2 "INC", "DEC"): as ADD/SUB of 1, but CF is
 * preserved. */
static inline uint64_t alu_inc(unsigned w, uint64_t a, uint64_t *fl)
{
	uint64_t m = alu_mask(w), r = (a + 1) & m;
	alu_set_flags(fl, RFLAGS_STATUS & ~RFLAGS_CF,
		      alu_add_flags(w, a & m, 1, 0, r) & ~RFLAGS_CF);
	return r;
}

static inline uint64_t alu_dec(unsigned w, uint64_t a, uint64_t *fl)
{
	uint64_t m = alu_mask(w), r = (a - 1) & m;
	alu_set_flags(fl, RFLAGS_STATUS & ~RFLAGS_CF,
		      alu_sub_flags(w, a & m, 1, 0, r) & ~RFLAGS_CF);
	return r;
}

/* NEG (SDM Vol. 2 "NEG"): 0 - a; CF = (a != 0), the rest as SUB. */
static inline uint64_t alu_neg(unsigned w, uint64_t a, uint64_t *fl)
{
	return alu_sub(w, 0, a, fl);
}

/* NOT (SDM Vol. 2 "NOT"): no flags affected. */
static inline uint64_t alu_not(unsigned w, uint64_t a)
{
	return ~a & alu_mask(w);
}

/* ---- shifts -------------------------------------------------------------- */

/* The count a shift or rotate uses: CL or imm8 masked to 5 bits, 6 bits for
 * 64-bit operands (SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR",
 * "SHLD", "SHRD"). */
static inline unsigned alu_shift_count(unsigned w, uint64_t count)
{
	return (unsigned)count & (w == ALU_W64 ? 0x3f : 0x1f);
}

/* Flags of a shift with a nonzero masked count (SDM Vol. 2
 * "SAL/SAR/SHL/SHR", Flags Affected): CF is the last bit shifted out, SF ZF
 * PF follow the result, OF is defined only for a count of 1 (the caller
 * supplies its value either way), AF is undefined: mmulab clears it. */
static inline void alu_shift_flags(unsigned w, uint64_t r, uint64_t cf, uint64_t of,
				   uint64_t *fl)
{
	alu_set_flags(fl, RFLAGS_STATUS,
		      (cf << ALU_CF_BIT) | (of << ALU_OF_BIT) | alu_szp(w, r));
}

/* SHL/SAL. A masked count of 0 changes no flags. OF = MSB(result) XOR CF,
 * defined for a count of 1 and produced by the same rule for every count.
 * Counts at or beyond the operand size (8/16-bit only) give 0 with CF
 * undefined: mmulab produces the bit an unbounded shift would carry out. */
static inline uint64_t alu_shl(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	unsigned c = alu_shift_count(w, count);
	uint64_t m = alu_mask(w), r, cf;
	a &= m;
	if (c == 0)
		return a;
	if (w == ALU_W64) {
		r = a << c;
		cf = (a >> (64 - c)) & 1;
	} else {
		uint64_t t = a << c; /* at most 32 + 31 bits: no bit lost */
		r = t & m;
		cf = (t >> alu_bits(w)) & 1;
	}
	alu_shift_flags(w, r, cf, alu_msb(w, r) ^ cf, fl);
	return r;
}

/* SHR. OF = MSB of the original operand (defined for a count of 1, produced
 * for every count). */
static inline uint64_t alu_shr(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	unsigned c = alu_shift_count(w, count);
	a &= alu_mask(w);
	if (c == 0)
		return a;
	uint64_t r = a >> c;
	alu_shift_flags(w, r, (a >> (c - 1)) & 1, alu_msb(w, a), fl);
	return r;
}

/* SAR. OF = 0 (defined for a count of 1, produced for every count). */
static inline uint64_t alu_sar(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	unsigned c = alu_shift_count(w, count);
	if (c == 0)
		return a & alu_mask(w);
	int64_t sa = (int64_t)alu_sext(w, a);
	uint64_t r = (uint64_t)(sa >> c) & alu_mask(w);
	alu_shift_flags(w, r, (uint64_t)(sa >> (c - 1)) & 1, 0, fl);
	return r;
}

/* Rotates (SDM Vol. 2 "RCL/RCR/ROL/ROR"): only CF and OF change, and only
 * when the masked count is nonzero. The masked count is then taken mod the
 * number of bits rotated: the operand size for ROL and ROR, one more for
 * RCL and RCR, which rotate CF:a (so mod 9 for bytes and mod 17 for words).
 * CF receives the bit that went round last, even when the rotation is a
 * whole turn. OF is defined for a masked count of 1; mmulab produces it by
 * the count-1 rule for every count: ROL and RCL MSB(result) XOR CF, ROR and
 * RCR the XOR of the two top result bits. */
static inline uint64_t alu_rotate_flags(unsigned w, uint64_t r, uint64_t cf, bool right,
					uint64_t *fl)
{
	uint64_t of = right ? alu_msb(w, r ^ (r << 1)) : alu_msb(w, r) ^ cf;
	alu_set_flags(fl, RFLAGS_CF | RFLAGS_OF, (cf << ALU_CF_BIT) | (of << ALU_OF_BIT));
	return r;
}

/* ROL and ROR: ROR by t is ROL by n - t. CF is the result's LSB for ROL,
 * its MSB for ROR. */
static inline uint64_t alu_rotate(unsigned w, uint64_t a, uint64_t count, uint64_t *fl,
				  bool right)
{
	unsigned c = alu_shift_count(w, count), n = alu_bits(w);
	unsigned t = (right ? n - (c & (n - 1)) : c) & (n - 1);
	uint64_t m = alu_mask(w), r = a & m;
	if (c == 0)
		return r;
	if (t != 0)
		r = ((r << t) | (r >> (n - t))) & m;
	return alu_rotate_flags(w, r, right ? alu_msb(w, r) : r & 1, right, fl);
}

static inline uint64_t alu_rol(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	return alu_rotate(w, a, count, fl, false);
}

static inline uint64_t alu_ror(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	return alu_rotate(w, a, count, fl, true);
}

uint64_t alu_rcl(unsigned w, uint64_t a, uint64_t count, uint64_t *fl);
uint64_t alu_rcr(unsigned w, uint64_t a, uint64_t count, uint64_t *fl);

/* SHLD / SHRD (SDM Vol. 2 "SHLD", "SHRD"), widths 16/32/64: shift `a`,
 * filling from `fill`. A masked count of 0 changes nothing. CF is the last
 * bit shifted out of `a`, SF ZF PF follow the result, OF (defined for a
 * count of 1) is produced as MSB(result) XOR MSB(a) for every count, AF is
 * cleared. A 16-bit count of 17..31 leaves the result and flags undefined:
 * mmulab shifts the 32-bit concatenation a:fill (SHLD) or fill:a (SHRD) and
 * takes CF from the same concatenation. */
uint64_t alu_shld(unsigned w, uint64_t a, uint64_t fill, uint64_t count, uint64_t *fl);
uint64_t alu_shrd(unsigned w, uint64_t a, uint64_t fill, uint64_t count, uint64_t *fl);

/* ---- multiply and divide ----------------------------------------------------- */

/* MUL (SDM Vol. 2 "MUL"): the unsigned double-width product of a and b,
 * low half returned, high half in *hi (AH, DX, EDX or RDX). CF = OF = 1
 * when the high half is nonzero. SF ZF AF PF are undefined: mmulab sets SF
 * ZF PF from the low half and clears AF. */
uint64_t alu_mul(unsigned w, uint64_t a, uint64_t b, uint64_t *hi, uint64_t *fl);

/* IMUL with one operand (SDM Vol. 2 "IMUL"): signed double-width product,
 * shaped as alu_mul. CF = OF = 1 when the high half is not the sign
 * extension of the low half; undefined flags as alu_mul. */
uint64_t alu_imul1(unsigned w, uint64_t a, uint64_t b, uint64_t *hi, uint64_t *fl);

/* IMUL with two or three operands (widths 16/32/64): the product truncated
 * to the width, CF = OF = 1 when truncation lost significant bits. */
uint64_t alu_imul2(unsigned w, uint64_t a, uint64_t b, uint64_t *fl);

/* DIV / IDIV (SDM Vol. 2 "DIV", "IDIV"): divide the double-width dividend
 * hi:lo (AH:AL, DX:AX, EDX:EAX, RDX:RAX, each half of width w) by divisor.
 * Returns false, writing nothing, when the instruction raises #DE: a zero
 * divisor, or a quotient outside the width (unsigned: above all-ones;
 * signed: outside [-2^(n-1), 2^(n-1)-1], so the most negative dividend over
 * -1 faults). The remainder has the sign of the dividend. All six status
 * flags are undefined: mmulab leaves RFLAGS unchanged, hence no flags
 * argument. */
bool alu_div(unsigned w, uint64_t hi, uint64_t lo, uint64_t divisor, uint64_t *quot,
	     uint64_t *rem) __attribute__((warn_unused_result));
bool alu_idiv(unsigned w, uint64_t hi, uint64_t lo, uint64_t divisor, uint64_t *quot,
	      uint64_t *rem) __attribute__((warn_unused_result));

/* ---- bit operations -------------------------------------------------------- */

/* BT/BTS/BTR/BTC (SDM Vol. 2 "BT", "BTS", "BTR", "BTC"): CF receives bit
 * `bit mod (8 << w)` of a; BTS/BTR/BTC return a with that bit set, cleared
 * or complemented. ZF is unaffected; OF SF AF PF are undefined: mmulab
 * leaves them unchanged. The register forms pass the bit offset as is. A
 * memory form with a register offset addresses the operand-sized unit
 * alu_bt_mem_disp() bytes from the effective address and then passes the
 * same offset (its low bits select the bit). */
void alu_bt(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl);
uint64_t alu_bts(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl);
uint64_t alu_btr(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl);
uint64_t alu_btc(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl);

/* Byte displacement of the unit a memory BT* with register bit offset
 * `bitoff` (a signed width-w value) touches: (bitoff DIV (8 << w)) units of
 * 1 << w bytes, rounding toward minus infinity (SDM Vol. 2 "BT", and the
 * Bit(BitBase, BitOffset) notation of chapter 3 with Table 3-2). */
int64_t alu_bt_mem_disp(unsigned w, uint64_t bitoff);

/* BSF / BSR (SDM Vol. 2 "BSF", "BSR"), widths 16/32/64: the index of the
 * lowest / highest set bit of src. A zero source sets ZF, leaves the
 * destination undefined (Intel and AMD processors leave the whole register
 * unchanged) and returns false without writing *dst: the caller then skips
 * the write-back entirely, including the 32-bit zero extension. Otherwise
 * ZF = 0, *dst = index, returns true. CF OF SF AF PF are undefined: mmulab
 * leaves them unchanged. */
bool alu_bsf(unsigned w, uint64_t src, uint64_t *dst, uint64_t *fl);
bool alu_bsr(unsigned w, uint64_t src, uint64_t *dst, uint64_t *fl);

/* TZCNT / LZCNT (SDM Vol. 2 "TZCNT", "LZCNT"), widths 16/32/64: the number
 * of trailing / leading zero bits, the operand size for a zero source.
 * CF = (src == 0), ZF = (result == 0); OF SF AF PF are undefined: mmulab
 * leaves them unchanged. */
uint64_t alu_tzcnt(unsigned w, uint64_t src, uint64_t *fl);
uint64_t alu_lzcnt(unsigned w, uint64_t src, uint64_t *fl);

/* POPCNT (SDM Vol. 2 "POPCNT"), widths 16/32/64: the number of set bits.
 * ZF = (src == 0); OF SF AF CF PF are cleared. */
uint64_t alu_popcnt(unsigned w, uint64_t src, uint64_t *fl);

/* BSWAP (SDM Vol. 2 "BSWAP"), widths 32/64: the bytes in reverse order. The
 * 16-bit form is undefined; mmulab returns 0, as Intel and AMD processors
 * leave 0 in the low word. No flags. */
uint64_t alu_bswap(unsigned w, uint64_t a);

/* ---- decimal arithmetic (legacy modes only) ------------------------------ */

/* The BCD adjustments, valid outside 64-bit mode (SDM Vol. 2 "DAA", "DAS",
 * "AAA", "AAS", "AAM", "AAD"). Each takes AX and returns the new AX (DAA
 * and DAS change only AL). Undefined flags are left unchanged: OF for
 * DAA/DAS; OF SF ZF PF for AAA/AAS; OF AF CF for AAM/AAD. */
uint64_t alu_daa(uint64_t ax, uint64_t *fl);
uint64_t alu_das(uint64_t ax, uint64_t *fl);
uint64_t alu_aaa(uint64_t ax, uint64_t *fl);
uint64_t alu_aas(uint64_t ax, uint64_t *fl);
uint64_t alu_aad(uint64_t ax, uint8_t base, uint64_t *fl);
/* AAM: false (#DE, nothing written) when base is 0. */
bool alu_aam(uint64_t ax, uint8_t base, uint64_t *ax_out, uint64_t *fl)
	__attribute__((warn_unused_result));

/* ---- flag transfers --------------------------------------------------------- */

/* The flags LAHF copies to AH and SAHF loads from it (SDM Vol. 2 "LAHF",
 * "SAHF"): SF ZF AF PF CF in their RFLAGS positions, bit 1 reading as 1. */
#define ALU_AH_FLAGS (RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF)

/* LAHF: the value of AH. */
static inline uint64_t alu_lahf(uint64_t fl)
{
	return (fl & ALU_AH_FLAGS) | RFLAGS_FIXED1;
}

/* SAHF: SF ZF AF PF CF from ah; OF and the rest unchanged. */
static inline void alu_sahf(uint64_t ah, uint64_t *fl)
{
	alu_set_flags(fl, ALU_AH_FLAGS, ah & ALU_AH_FLAGS);
}

/* ---- conditions ---------------------------------------------------------- */

/* Whether condition `cc` (enum alu_cc, low nibble of the opcode) holds
 * under RFLAGS `fl` (SDM Vol. 1 Appendix B, Table B-1). Bit k of `base`
 * holds the even condition 2k; an odd cc negates it. Branch-free, and a
 * constant cc folds to the one test it needs. */
static inline bool alu_cond(unsigned cc, uint64_t fl)
{
	uint64_t of = (fl >> ALU_OF_BIT) & 1, cf = (fl >> ALU_CF_BIT) & 1;
	uint64_t zf = (fl >> ALU_ZF_BIT) & 1, sf = (fl >> ALU_SF_BIT) & 1;
	uint64_t pf = (fl >> ALU_PF_BIT) & 1, lt = sf ^ of;
	uint64_t base = of | cf << 1 | zf << 2 | (cf | zf) << 3 | sf << 4 | pf << 5 | lt << 6 |
			(zf | lt) << 7;
	return ((base >> ((cc >> 1) & 7)) ^ cc) & 1;
}

#endif
