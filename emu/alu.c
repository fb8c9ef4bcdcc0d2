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

/* RCL and RCR rotate the (n+1)-bit value CF:a, held in 128 bits (see
 * emu/alu.h for the count and flag rules). RCR by t is RCL by n + 1 - t. */
static uint64_t alu_rotate_carry(unsigned w, uint64_t a, uint64_t count, uint64_t *fl,
				 bool right)
{
	unsigned c = alu_shift_count(w, count), n = alu_bits(w) + 1, t = c % n;
	uint64_t m = alu_mask(w);
	if (c == 0)
		return a & m;
	u128 x = ((u128)(*fl & RFLAGS_CF) << alu_bits(w)) | (a & m);
	if (right && t != 0)
		t = n - t;
	if (t != 0)
		x = ((x << t) | (x >> (n - t))) & (((u128)1 << n) - 1);
	return alu_rotate_flags(w, (uint64_t)x & m, (uint64_t)(x >> alu_bits(w)) & 1, right, fl);
}

uint64_t alu_rcl(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	return alu_rotate_carry(w, a, count, fl, false);
}

uint64_t alu_rcr(unsigned w, uint64_t a, uint64_t count, uint64_t *fl)
{
	return alu_rotate_carry(w, a, count, fl, true);
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

/* AX with AL replaced by al. */
static uint64_t alu_with_al(uint64_t ax, uint64_t al)
{
	return (ax & 0xff00) | (al & 0xff);
}

/* DAA and DAS share their shape (SDM pseudocode): adjust the low digit by 6
 * when it exceeds 9 or AF is set, then the high digit by 0x60 when the
 * original AL exceeded 0x99 or CF was set. DAA adds, DAS subtracts; DAA's
 * second step clears CF when it does not adjust, DAS's keeps the carry of
 * the first step. */
static uint64_t alu_decimal_adjust(uint64_t ax, uint64_t *fl, bool subtract)
{
	uint64_t al = ax & 0xff, old_al = al, old_cf = *fl & RFLAGS_CF, cf = 0, af = 0;
	if ((al & 0xf) > 9 || (*fl & RFLAGS_AF)) {
		uint64_t adj = subtract ? al - 6 : al + 6;
		cf = old_cf | ((adj >> 8) & 1); /* carry or borrow out of AL */
		al = adj & 0xff;
		af = RFLAGS_AF;
	}
	if (old_al > 0x99 || old_cf) {
		al = (subtract ? al - 0x60 : al + 0x60) & 0xff;
		cf = RFLAGS_CF;
	} else if (!subtract) {
		cf = 0;
	}
	alu_set_flags(fl, RFLAGS_STATUS & ~RFLAGS_OF, cf | af | alu_szp(ALU_W8, al));
	return alu_with_al(ax, al);
}

uint64_t alu_daa(uint64_t ax, uint64_t *fl)
{
	return alu_decimal_adjust(ax, fl, false);
}

uint64_t alu_das(uint64_t ax, uint64_t *fl)
{
	return alu_decimal_adjust(ax, fl, true);
}

/* AAA and AAS: when the low digit exceeds 9 or AF is set, AX += 0x106
 * (AAA) or AX -= 6 and AH -= 1 (AAS), with AF = CF = 1; else AF = CF = 0.
 * AL keeps its low digit only. */
static uint64_t alu_ascii_adjust(uint64_t ax, uint64_t *fl, bool subtract)
{
	bool adjust = (ax & 0xf) > 9 || (*fl & RFLAGS_AF);
	ax &= 0xffff;
	if (adjust)
		ax = subtract ? ax - 6 - 0x100 : ax + 0x106;
	alu_set_flags(fl, RFLAGS_AF | RFLAGS_CF, adjust ? RFLAGS_AF | RFLAGS_CF : 0);
	return ax & 0xff0f;
}

uint64_t alu_aaa(uint64_t ax, uint64_t *fl)
{
	return alu_ascii_adjust(ax, fl, false);
}

uint64_t alu_aas(uint64_t ax, uint64_t *fl)
{
	return alu_ascii_adjust(ax, fl, true);
}

/* AAM: AH = AL / base, AL = AL mod base; SF ZF PF from AL. */
bool alu_aam(uint64_t ax, uint8_t base, uint64_t *ax_out, uint64_t *fl)
{
	uint64_t al = ax & 0xff;
	if (base == 0)
		return false;
	*ax_out = ((al / base) << 8) | (al % base);
	alu_set_flags(fl, RFLAGS_SF | RFLAGS_ZF | RFLAGS_PF, alu_szp(ALU_W8, al % base));
	return true;
}

/* AAD: AL = (AL + AH * base) mod 256, AH = 0; SF ZF PF from AL. */
uint64_t alu_aad(uint64_t ax, uint8_t base, uint64_t *fl)
{
	uint64_t al = ((ax & 0xff) + ((ax >> 8) & 0xff) * base) & 0xff;
	alu_set_flags(fl, RFLAGS_SF | RFLAGS_ZF | RFLAGS_PF, alu_szp(ALU_W8, al));
	return al;
}
