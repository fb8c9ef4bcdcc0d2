/* The less frequent integer instructions: rotates, double shifts, multiply,
 * divide and the bit instructions. The contracts, and the value produced for
 * each undefined flag, are stated in emu/alu.h and docs/alu.md; the hot ALU
 * group and single shifts are inline there. */
#include "emu/alu.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

/* PF of every byte value, built by doubling: the parity of a 2k-bit value
 * is the parity of its low k bits XOR that of its high k bits, so each
 * block is its predecessor followed by its predecessor with PF flipped. */
#define ALU_PF1(p) (p), (p) ^ RFLAGS_PF
#define ALU_PF2(p) ALU_PF1(p), ALU_PF1((p) ^ RFLAGS_PF)
#define ALU_PF3(p) ALU_PF2(p), ALU_PF2((p) ^ RFLAGS_PF)
#define ALU_PF4(p) ALU_PF3(p), ALU_PF3((p) ^ RFLAGS_PF)
#define ALU_PF5(p) ALU_PF4(p), ALU_PF4((p) ^ RFLAGS_PF)
#define ALU_PF6(p) ALU_PF5(p), ALU_PF5((p) ^ RFLAGS_PF)
#define ALU_PF7(p) ALU_PF6(p), ALU_PF6((p) ^ RFLAGS_PF)
#define ALU_PF8(p) ALU_PF7(p), ALU_PF7((p) ^ RFLAGS_PF)
const uint8_t alu_pf_table[256] = { ALU_PF8(RFLAGS_PF) };

/* Replace CF and OF only, as rotates do. */
static void alu_set_cf_of(uint64_t *fl, uint64_t cf, uint64_t of)
{
	alu_set_flags(fl, RFLAGS_CF | RFLAGS_OF, (cf << ALU_CF_BIT) | (of << ALU_OF_BIT));
}

/* XOR of the two most significant bits of r: OF of ROR and RCR. */
static uint64_t alu_top_two_differ(unsigned w, uint64_t r)
{
	return alu_msb(w, r ^ (r << 1));
}

/* x rotated left by t within its low n bits (t < n, n <= 65). */
static u128 alu_rotl(u128 x, unsigned n, unsigned t)
{
	u128 low_n = ((u128)1 << n) - 1;
	return t == 0 ? x : ((x << t) | (x >> (n - t))) & low_n;
}

/* The four rotates (SDM Vol. 2 "RCL/RCR/ROL/ROR"). The count is masked,
 * then taken mod the number of bits rotated: the operand size for ROL and
 * ROR, one more for RCL and RCR, which rotate the value CF:a (hence mod 9
 * for bytes and mod 17 for words). Whenever the masked count is nonzero, CF
 * receives the bit that went round last (for ROL the result's LSB, for ROR
 * its MSB, for RCL/RCR the top bit of the rotated CF:a), even when the
 * rotation amounts to a whole turn, and OF is written. */
static uint64_t alu_rotate(unsigned w, uint64_t a, uint64_t count, uint64_t *fl, bool right,
			   bool through_cf)
{
	unsigned c = alu_shift_count(w, count), n = alu_bits(w) + through_cf;
	unsigned t = through_cf ? c % n : c & (n - 1); /* n is a power of two without CF */
	uint64_t m = alu_mask(w);
	if (c == 0)
		return a & m;
	u128 x = ((u128)(through_cf ? *fl & RFLAGS_CF : 0) << alu_bits(w)) | (a & m);
	x = alu_rotl(x, n, right && t != 0 ? n - t : t);
	uint64_t r = (uint64_t)x & m;
	uint64_t cf = through_cf ? (uint64_t)(x >> alu_bits(w)) & 1 : right ? alu_msb(w, r) : r & 1;
	alu_set_cf_of(fl, cf, right ? alu_top_two_differ(w, r) : alu_msb(w, r) ^ cf);
	return r;
}

uint64_t alu_rol(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	return alu_rotate(w, a, count, fl, false, false);
}

uint64_t alu_ror(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	return alu_rotate(w, a, count, fl, true, false);
}

uint64_t alu_rcl(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	return alu_rotate(w, a, count, fl, false, true);
}

uint64_t alu_rcr(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	return alu_rotate(w, a, count, fl, true, true);
}

/* SHLD and SHRD. SHLD's result is the high half of (a:fill) << count, and
 * CF the bit just above it, bit (2n - count) of a:fill; SHRD's result is the
 * low half of (fill:a) >> count, and CF bit (count - 1) of fill:a. */
static uint64_t alu_shift_double(unsigned w, uint64_t a, uint64_t fill, uint64_t count,
				 uint64_t *fl, bool right)
{
	unsigned c = alu_shift_count(w, count), n = alu_bits(w);
	uint64_t m = alu_mask(w), r, cf;
	u128 t = right ? ((u128)(fill & m) << n) | (a & m) : ((u128)(a & m) << n) | (fill & m);
	if (c == 0)
		return a & m;
	if (right) {
		r = (uint64_t)(t >> c) & m;
		cf = (uint64_t)(t >> (c - 1)) & 1;
	} else {
		r = (uint64_t)((t << c) >> n) & m;
		cf = (uint64_t)(t >> (2 * n - c)) & 1;
	}
	alu_shift_flags(w, r, cf, alu_msb(w, r ^ a), fl);
	return r;
}

uint64_t alu_shld(unsigned w, uint64_t a, uint64_t fill, uint64_t count, uint64_t *fl)
{
	return alu_shift_double(w, a, fill, count, fl, false);
}

uint64_t alu_shrd(unsigned w, uint64_t a, uint64_t fill, uint64_t count, uint64_t *fl)
{
	return alu_shift_double(w, a, fill, count, fl, true);
}

/* Flags of MUL and IMUL: CF = OF = overflow; SF ZF PF from the low half
 * and AF = 0 (undefined in the SDM, see emu/alu.h). */
static void alu_mul_flags(unsigned w, uint64_t lo, bool overflow, uint64_t *fl)
{
	uint64_t o = overflow;
	alu_set_flags(fl, RFLAGS_STATUS, (o << ALU_CF_BIT) | (o << ALU_OF_BIT) | alu_szp(w, lo));
}

uint64_t alu_mul(unsigned w, uint64_t a, uint64_t b, uint64_t *hi, uint64_t *fl)
{
	uint64_t m = alu_mask(w);
	u128 p = (u128)(a & m) * (b & m);
	uint64_t lo = (uint64_t)p & m;
	*hi = (uint64_t)(p >> alu_bits(w)) & m;
	alu_mul_flags(w, lo, *hi != 0, fl);
	return lo;
}

uint64_t alu_imul1(unsigned w, uint64_t a, uint64_t b, uint64_t *hi, uint64_t *fl)
{
	uint64_t m = alu_mask(w);
	i128 p = (i128)(int64_t)alu_sext(w, a) * (int64_t)alu_sext(w, b);
	uint64_t lo = (uint64_t)p & m;
	*hi = (uint64_t)(p >> alu_bits(w)) & m;
	alu_mul_flags(w, lo, p != (int64_t)alu_sext(w, lo), fl);
	return lo;
}

uint64_t alu_imul2(unsigned w, uint64_t a, uint64_t b, uint64_t *fl)
{
	uint64_t hi;
	return alu_imul1(w, a, b, &hi, fl);
}

/* Unsigned division of hi:lo by d. The quotient fits in n bits exactly when
 * hi < d, which also rules out d = 0. */
bool alu_div(unsigned w, uint64_t hi, uint64_t lo, uint64_t divisor, uint64_t *quot,
	     uint64_t *rem)
{
	uint64_t m = alu_mask(w), d = divisor & m;
	hi &= m;
	lo &= m;
	if (hi >= d)
		return false;
	u128 n = ((u128)hi << alu_bits(w)) | lo;
	*quot = (uint64_t)(n / d);
	*rem = (uint64_t)(n % d);
	return true;
}

/* Signed division, done on magnitudes so that no C operation overflows:
 * the quotient's magnitude may reach 2^(n-1) when it is negative and
 * 2^(n-1) - 1 when it is positive. */
bool alu_idiv(unsigned w, uint64_t hi, uint64_t lo, uint64_t divisor, uint64_t *quot,
	      uint64_t *rem)
{
	unsigned n = alu_bits(w);
	uint64_t m = alu_mask(w), d = divisor & m;
	if (d == 0)
		return false;
	bool nneg = alu_msb(w, hi), dneg = alu_msb(w, d), qneg = nneg != dneg;
	u128 wide = ((u128)(hi & m) << n) | (lo & m);
	u128 wide_mask = n == 64 ? ~(u128)0 : ((u128)1 << (2 * n)) - 1;
	u128 nmag = nneg ? ((u128)0 - wide) & wide_mask : wide;
	uint64_t dmag = dneg ? (0 - d) & m : d;
	u128 qmag = nmag / dmag;
	uint64_t rmag = (uint64_t)(nmag % dmag);
	if (qmag > (u128)BIT64(n - 1) - (qneg ? 0 : 1))
		return false;
	*quot = (qneg ? 0 - (uint64_t)qmag : (uint64_t)qmag) & m;
	*rem = (nneg ? 0 - rmag : rmag) & m;
	return true;
}

/* The selected bit of a BT* register operand. */
static uint64_t alu_bt_select(unsigned w, uint64_t bit)
{
	return BIT64(bit & (alu_bits(w) - 1));
}

static void alu_bt_set_cf(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl)
{
	alu_set_flags(fl, RFLAGS_CF, (a & alu_bt_select(w, bit)) ? RFLAGS_CF : 0);
}

void alu_bt(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl)
{
	alu_bt_set_cf(w, a, bit, fl);
}

uint64_t alu_bts(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl)
{
	alu_bt_set_cf(w, a, bit, fl);
	return (a | alu_bt_select(w, bit)) & alu_mask(w);
}

uint64_t alu_btr(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl)
{
	alu_bt_set_cf(w, a, bit, fl);
	return (a & ~alu_bt_select(w, bit)) & alu_mask(w);
}

uint64_t alu_btc(unsigned w, uint64_t a, uint64_t bit, uint64_t *fl)
{
	alu_bt_set_cf(w, a, bit, fl);
	return (a ^ alu_bt_select(w, bit)) & alu_mask(w);
}

int64_t alu_bt_mem_disp(unsigned w, uint64_t bitoff)
{
	int64_t units = (int64_t)alu_sext(w, bitoff) >> (w + 3); /* floor division */
	return units * (INT64_C(1) << w);
}

/* ZF = (src == 0), other flags untouched: BSF, BSR. */
static bool alu_scan_zero(unsigned w, uint64_t src, uint64_t *fl)
{
	bool zero = (src & alu_mask(w)) == 0;
	alu_set_flags(fl, RFLAGS_ZF, zero ? RFLAGS_ZF : 0);
	return zero;
}

bool alu_bsf(unsigned w, uint64_t src, uint64_t *dst, uint64_t *fl)
{
	if (alu_scan_zero(w, src, fl))
		return false;
	*dst = (uint64_t)__builtin_ctzll(src & alu_mask(w));
	return true;
}

bool alu_bsr(unsigned w, uint64_t src, uint64_t *dst, uint64_t *fl)
{
	if (alu_scan_zero(w, src, fl))
		return false;
	*dst = (uint64_t)(63 - __builtin_clzll(src & alu_mask(w)));
	return true;
}

/* CF = (src == 0), ZF = (count == 0): TZCNT, LZCNT. */
static uint64_t alu_count_result(uint64_t src_zero, uint64_t r, uint64_t *fl)
{
	alu_set_flags(fl, RFLAGS_CF | RFLAGS_ZF,
		      (src_zero << ALU_CF_BIT) | ((uint64_t)(r == 0) << ALU_ZF_BIT));
	return r;
}

uint64_t alu_tzcnt(unsigned w, uint64_t src, uint64_t *fl)
{
	uint64_t s = src & alu_mask(w);
	return alu_count_result(s == 0, s ? (uint64_t)__builtin_ctzll(s) : alu_bits(w), fl);
}

uint64_t alu_lzcnt(unsigned w, uint64_t src, uint64_t *fl)
{
	uint64_t s = src & alu_mask(w);
	uint64_t r = s ? (uint64_t)__builtin_clzll(s) - (64 - alu_bits(w)) : alu_bits(w);
	return alu_count_result(s == 0, r, fl);
}

uint64_t alu_popcnt(unsigned w, uint64_t src, uint64_t *fl)
{
	uint64_t s = src & alu_mask(w);
	alu_set_flags(fl, RFLAGS_STATUS, (uint64_t)(s == 0) << ALU_ZF_BIT);
	return (uint64_t)__builtin_popcountll(s);
}

uint64_t alu_bswap(unsigned w, uint64_t a)
{
	switch (w) {
	case ALU_W32: return __builtin_bswap32((uint32_t)a);
	case ALU_W64: return __builtin_bswap64(a);
	default: return 0;
	}
}
