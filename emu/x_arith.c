/* Shifts and rotates, SHLD/SHRD, MUL/IMUL/DIV/IDIV, BT/BTS/BTR/BTC and the
 * bit scans (SDM Vol. 2). Results and flags come from emu/alu.h; this file
 * fetches operands, translates destinations first and writes back. */
#include "emu/exec.h"

static uint64_t shift_apply(unsigned op, unsigned w, uint64_t a, uint64_t n, uint64_t *fl)
{
	switch (op) {
	case SH_ROL: return alu_rol(w, a, n, fl);
	case SH_ROR: return alu_ror(w, a, n, fl);
	case SH_RCL: return alu_rcl(w, a, n, fl);
	case SH_RCR: return alu_rcr(w, a, n, fl);
	case SH_SHR: return alu_shr(w, a, n, fl);
	case SH_SAR: return alu_sar(w, a, n, fl);
	default: return alu_shl(w, a, n, fl); /* SHL, SAL */
	}
}

/* Operand 0 r/m, operand 1 the count: CL or an immediate (1 for D0–D3). */
enum exec_result exec_shift(struct cpu *c, const struct insn *d)
{
	struct rmw w;
	uint64_t a, n = d->k1 == OPK_REG ? reg_get(c, d->r1, 1) : d->imm & 0xff, fl = flags_get(c);
	if (d->k1 == OPK_NONE)
		n = 1;
	if (!rmw_begin(c, d, d->osz, &w, &a))
		return EXEC_FAULT;
	rmw_commit(c, d, d->osz, &w, shift_apply(d->sub, d->w, a, n, &fl));
	c->rflags = fl;
	return EXEC_OK;
}

/* SHLD/SHRD r/m, reg, imm8/CL. */
enum exec_result exec_shd(struct cpu *c, const struct insn *d)
{
	struct rmw w;
	uint64_t a, fill = reg_get(c, d->r1, d->osz), fl = flags_get(c);
	uint64_t n = d->k2 == OPK_REG ? reg_get(c, GPR_RCX, 1) : d->imm & 0xff;
	if (!rmw_begin(c, d, d->osz, &w, &a))
		return EXEC_FAULT;
	uint64_t r = d->sub ? alu_shrd(d->w, a, fill, n, &fl) : alu_shld(d->w, a, fill, n, &fl);
	rmw_commit(c, d, d->osz, &w, r);
	c->rflags = fl;
	return EXEC_OK;
}

/* Write a double-width result: AH:AL for bytes, else rDX:rAX. */
static void set_acc_pair(struct cpu *c, const struct insn *d, uint64_t hi, uint64_t lo)
{
	if (d->osz == 1) {
		reg_set(c, GPR_RAX, 2, hi << 8 | lo);
		return;
	}
	reg_set(c, GPR_RAX, d->osz, lo);
	reg_set(c, GPR_RDX, d->osz, hi);
}

/* MUL and one-operand IMUL: rAX times r/m into rDX:rAX (AX for bytes). */
enum exec_result exec_mul1(struct cpu *c, const struct insn *d)
{
	uint64_t b, hi, lo, fl = flags_get(c), a = reg_get(c, GPR_RAX, d->osz);
	if (!dst_read(c, d, d->osz, &b))
		return EXEC_FAULT;
	if (d->flags & INSN_SIGNED)
		lo = alu_imul1(d->w, a, b, &hi, &fl);
	else
		lo = alu_mul(d->w, a, b, &hi, &fl);
	set_acc_pair(c, d, hi, lo);
	c->rflags = fl;
	return EXEC_OK;
}

/* IMUL reg, r/m and IMUL reg, r/m, imm. */
enum exec_result exec_imul(struct cpu *c, const struct insn *d)
{
	uint64_t b, fl = flags_get(c);
	if (!src_read(c, d, d->osz, &b))
		return EXEC_FAULT;
	uint64_t a = d->k2 == OPK_IMM ? d->imm & size_mask(d->osz) : reg_get(c, d->r0, d->osz);
	reg_set(c, d->r0, d->osz, alu_imul2(d->w, a, b, &fl));
	c->rflags = fl;
	return EXEC_OK;
}

/* DIV/IDIV r/m: rDX:rAX (AX for bytes) by the operand; #DE on a zero
 * divisor or a quotient that does not fit, with nothing written. */
enum exec_result exec_div(struct cpu *c, const struct insn *d)
{
	uint64_t divisor, hi, lo, q, r;
	if (!dst_read(c, d, d->osz, &divisor))
		return EXEC_FAULT;
	if (d->osz == 1) {
		hi = reg_get(c, REG_AH, 1);
		lo = reg_get(c, GPR_RAX, 1);
	} else {
		hi = reg_get(c, GPR_RDX, d->osz);
		lo = reg_get(c, GPR_RAX, d->osz);
	}
	bool ok = (d->flags & INSN_SIGNED) ? alu_idiv(d->w, hi, lo, divisor, &q, &r)
					   : alu_div(d->w, hi, lo, divisor, &q, &r);
	if (!ok)
		return fault(c, VEC_DE, false, 0);
	set_acc_pair(c, d, r, q);
	return EXEC_OK;
}

static uint64_t bt_apply(unsigned op, unsigned w, uint64_t a, uint64_t bit, uint64_t *fl)
{
	switch (op) {
	case BT_SET: return alu_bts(w, a, bit, fl);
	case BT_RESET: return alu_btr(w, a, bit, fl);
	case BT_COMPLEMENT: return alu_btc(w, a, bit, fl);
	default: alu_bt(w, a, bit, fl); return a;
	}
}

/* BT* r/m, reg/imm8. With memory and a register offset the operand is a
 * bit string: the unit touched moves by the offset (alu_bt_mem_disp). */
enum exec_result exec_bt(struct cpu *c, const struct insn *d)
{
	uint64_t bit = d->k1 == OPK_REG ? reg_get(c, d->r1, d->osz) : d->imm & 0xff;
	uint64_t a, fl = flags_get(c);
	bool writes = d->sub != BT_TEST;
	if (d->k0 == OPK_REG) {
		uint64_t r = bt_apply(d->sub, d->w, reg_get(c, d->r0, d->osz), bit, &fl);
		if (writes)
			reg_set(c, d->r0, d->osz, r);
		c->rflags = fl;
		return EXEC_OK;
	}
	uint64_t ea = insn_ea(c, d);
	if (d->k1 == OPK_REG)
		ea = (ea + (uint64_t)alu_bt_mem_disp(d->w, bit)) & size_mask(d->asz);
	struct memref m;
	if (!mem_xlate(c, d->seg, ea, d->osz, writes ? ACC_WRITE : ACC_READ, &m))
		return EXEC_FAULT;
	a = mem_load(c, &m, d->osz);
	uint64_t r = bt_apply(d->sub, d->w, a, bit, &fl);
	if (writes)
		mem_store(c, &m, d->osz, r);
	c->rflags = fl;
	return EXEC_OK;
}

/* BSF/BSR/TZCNT/LZCNT/POPCNT reg, r/m. BSF/BSR with a zero source leave
 * the destination untouched (see alu_bsf). */
enum exec_result exec_bitscan(struct cpu *c, const struct insn *d)
{
	uint64_t src, r, fl = flags_get(c);
	bool write = true;
	if (!src_read(c, d, d->osz, &src))
		return EXEC_FAULT;
	switch (d->sub) {
	case BS_BSF: write = alu_bsf(d->w, src, &r, &fl); break;
	case BS_BSR: write = alu_bsr(d->w, src, &r, &fl); break;
	case BS_TZCNT: r = alu_tzcnt(d->w, src, &fl); break;
	case BS_LZCNT: r = alu_lzcnt(d->w, src, &fl); break;
	default: r = alu_popcnt(d->w, src, &fl); break;
	}
	if (write)
		reg_set(c, d->r0, d->osz, r);
	c->rflags = fl;
	return EXEC_OK;
}

/* ---- BMI1 and BMI2 (SDM Vol. 2: ANDN, BEXTR, BLSI, BLSMSK, BLSR, BZHI,
 * MULX, PDEP, PEXT, RORX, SARX/SHLX/SHRX). VEX-encoded, 32- or 64-bit.
 * Operands in Intel order: 0 the destination (BLS*: VEX.vvvv), 1 and 2
 * the sources (register, memory or RORX's immediate). Flags the SDM
 * leaves undefined keep their values. */

/* PDEP: the low bits of src to the positions of mask's set bits. */
static uint64_t bmi_pdep(uint64_t src, uint64_t mask)
{
	uint64_t r = 0;
	for (uint64_t k = 1; mask; mask &= mask - 1, k <<= 1)
		if (src & k)
			r |= mask & -mask;
	return r;
}

/* PEXT: the bits of src at mask's set bits, packed low. */
static uint64_t bmi_pext(uint64_t src, uint64_t mask)
{
	uint64_t r = 0;
	for (uint64_t k = 1; mask; mask &= mask - 1, k <<= 1)
		if (src & mask & -mask)
			r |= k;
	return r;
}

enum exec_result exec_bmi(struct cpu *c, const struct insn *d)
{
	unsigned size = d->osz, bits = 8u * size;
	uint64_t m = size_mask(size), a, b = 0, r, fl = flags_get(c);
	if (!src_read(c, d, size, &a) ||
	    (d->k2 != OPK_NONE && !operand_read(c, d, d->k2, d->r2, size, &b)))
		return EXEC_FAULT;
	uint64_t sz = RFLAGS_SF | RFLAGS_ZF, co = RFLAGS_CF | RFLAGS_OF;
	switch (d->sub) {
	case BMI_ANDN: /* SF, ZF; CF = OF = 0 */
		r = ~a & b & m;
		alu_set_flags(&fl, sz | co, alu_szp(d->w, r) & sz);
		break;
	case BMI_BEXTR: { /* start b[7:0], length b[15:8]; ZF; CF = OF = 0 */
		unsigned start = b & 0xff, len = (b >> 8) & 0xff;
		r = start >= bits ? 0 : a >> start;
		if (len < 64)
			r &= (UINT64_C(1) << len) - 1;
		r &= m;
		alu_set_flags(&fl, RFLAGS_ZF | co, (uint64_t)(r == 0) << ALU_ZF_BIT);
		break;
	}
	case BMI_BLSI: /* lowest set bit; SF, ZF; CF = source != 0; OF = 0 */
	case BMI_BLSMSK: /* up to the lowest set bit; SF; ZF = OF = 0; CF = source == 0 */
	case BMI_BLSR: { /* lowest set bit cleared; SF, ZF; CF = source == 0; OF = 0 */
		uint64_t cf;
		if (d->sub == BMI_BLSI)
			r = -a & a & m, cf = a != 0;
		else if (d->sub == BMI_BLSMSK)
			r = ((a - 1) ^ a) & m, cf = a == 0;
		else
			r = ((a - 1) & a) & m, cf = a == 0;
		alu_set_flags(&fl, sz | co, (alu_szp(d->w, r) & sz) | cf << ALU_CF_BIT);
		break;
	}
	case BMI_BZHI: { /* bits from index b[7:0] up cleared; SF, ZF; CF = index >= bits; OF = 0 */
		unsigned n = b & 0xff;
		r = n < bits ? a & ((UINT64_C(1) << n) - 1) : a;
		alu_set_flags(&fl, sz | co, (alu_szp(d->w, r) & sz) | (uint64_t)(n > bits - 1) << ALU_CF_BIT);
		break;
	}
	case BMI_MULX: { /* EDX/RDX * source, unsigned; no flags. Operand 1
			  * (VEX.vvvv) takes the low half, operand 0 the high
			  * half, written last so that it wins when they are
			  * the same register. */
		unsigned __int128 p = (unsigned __int128)reg_get(c, GPR_RDX, size) * b;
		reg_set(c, d->r1, size, (uint64_t)p & m);
		reg_set(c, d->r0, size, (uint64_t)(p >> bits) & m);
		return EXEC_OK;
	}
	case BMI_PDEP: r = bmi_pdep(a, b) & m; break;
	case BMI_PEXT: r = bmi_pext(a, b) & m; break;
	case BMI_RORX: { /* no flags */
		unsigned n = (unsigned)(b & (bits - 1));
		r = n ? ((a >> n) | (a << (bits - n))) & m : a;
		break;
	}
	case BMI_SARX: { /* no flags; count masked to 5 or 6 bits */
		unsigned n = (unsigned)(b & (bits - 1));
		int64_t s = size == 8 ? (int64_t)a : (int64_t)(int32_t)(uint32_t)a;
		r = (uint64_t)(s >> n) & m;
		break;
	}
	case BMI_SHLX: r = (a << (b & (bits - 1))) & m; break;
	default: r = a >> (b & (bits - 1)); break; /* SHRX */
	}
	reg_set(c, d->r0, size, r);
	c->rflags = fl;
	return EXEC_OK;
}
