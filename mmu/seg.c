/* Segmentation: descriptor decoding, selector loads, per-access checks.
 *
 * The model. A segment register is a visible selector plus a hidden cache
 * (SDM Vol. 3A §3.4.3). Loading a selector is the only moment descriptors
 * are consulted: the descriptor is located in the GDT or LDT (§3.5.1), read
 * through paging as an implicit supervisor access, decoded for the current
 * mode, checked against the rules of the instruction doing the load
 * (Vol. 2 MOV/POP/LxS, JMP/CALL/RET/IRET, LLDT, LTR; Vol. 3A chapter 5),
 * its accessed (or TSS busy) bit is set in memory, and only then is the
 * cache overwritten. Every step before the cache write may fault, so a
 * faulting load leaves the register untouched; the only side effect that can
 * precede a later fault is the accessed bit, as on hardware.
 *
 * Accesses never look at descriptors again: seg_linear checks the cached
 * limit and type (§5.3, §5.4), or in 64-bit mode only the canonical form of
 * the address (§3.4.4, §5.3.1), and forms the linear address.
 *
 * Descriptors are decoded once into struct seg_desc by seg_decode, with the
 * mode deciding which system types exist (§3.5, Table 3-2); every check then
 * works on named fields, never on raw bits.
 */
#include "mmu/seg.h"

#include <string.h>

#include "mmu/mmu.h"

_Static_assert(DESC_TYPE_SHIFT == DESC_ACCESS_BYTE * 8,
	       "the type field is the low nibble of the access byte");

/* Reset values (SDM Vol. 3A §9.1.1, Table 9-1). */
#define RESET_CS_SELECTOR 0xf000u
#define RESET_CS_BASE UINT64_C(0xffff0000)
#define RESET_LIMIT 0xffffu
#define REAL_MODE_BASE_SHIFT 4   /* real mode: base = selector * 16 */
#define UPPER_BOUND_16 UINT64_C(0xffff)     /* expand-down, B = 0 (§3.4.5.1) */
#define UPPER_BOUND_32 UINT64_C(0xffffffff) /* expand-down, B = 1 */

/* ---- small helpers ------------------------------------------------------ */

static inline uint64_t field(uint64_t v, unsigned shift, unsigned bits)
{
	return (v >> shift) & ((UINT64_C(1) << bits) - 1);
}

static inline bool flag(uint64_t v, unsigned shift)
{
	return (v >> shift) & 1;
}

static inline bool in_ia32e(const struct mmu *m)
{
	return (m->efer & EFER_LMA) != 0;
}

/* Descriptor-table reads and accessed/busy writes are implicit supervisor
 * accesses whatever the CPL (SDM Vol. 3A §4.6). */
static inline unsigned implicit_acc(enum mmu_access_kind kind)
{
	return mmu_acc(kind, 0, true, false);
}

static bool fault_sel(struct mmu_fault *f, uint8_t vector, uint16_t sel)
{
	mmu_fault_set(f, vector, true, sel & SEL_ERROR_MASK);
	return false;
}

static bool fault_code(struct mmu_fault *f, uint8_t vector, uint32_t ec)
{
	mmu_fault_set(f, vector, true, ec);
	return false;
}

static bool fault_ud(struct mmu_fault *f)
{
	mmu_fault_set(f, VEC_UD, false, 0);
	return false;
}

enum seg_mode seg_mode(const struct mmu *m)
{
	if (!(m->cr0 & CR0_PE))
		return SEG_MODE_REAL;
	if (!in_ia32e(m))
		return SEG_MODE_PROTECTED;
	return m->seg.sr[SEG_CS].l ? SEG_MODE_64 : SEG_MODE_COMPAT;
}

/* ---- decoding ----------------------------------------------------------- */

/* System types by mode (SDM Vol. 3A §3.5, Table 3-2). In IA-32e mode only
 * the LDT, the 64-bit TSS and 64-bit gates exist; the rest are reserved. */
static const enum seg_desc_kind sys_kind_legacy[16] = {
	[SYS_TSS16_AVAIL] = DESC_TSS16, [SYS_LDT] = DESC_LDT,
	[SYS_TSS16_BUSY] = DESC_TSS16, [SYS_CALL_GATE16] = DESC_CALL_GATE16,
	[SYS_TASK_GATE] = DESC_TASK_GATE, [SYS_INT_GATE16] = DESC_INT_GATE16,
	[SYS_TRAP_GATE16] = DESC_TRAP_GATE16, [SYS_TSS_AVAIL] = DESC_TSS32,
	[SYS_TSS_BUSY] = DESC_TSS32, [SYS_CALL_GATE] = DESC_CALL_GATE32,
	[SYS_INT_GATE] = DESC_INT_GATE32, [SYS_TRAP_GATE] = DESC_TRAP_GATE32,
};
static const enum seg_desc_kind sys_kind_ia32e[16] = {
	[SYS_LDT] = DESC_LDT, [SYS_TSS_AVAIL] = DESC_TSS64, [SYS_TSS_BUSY] = DESC_TSS64,
	[SYS_CALL_GATE] = DESC_CALL_GATE64, [SYS_INT_GATE] = DESC_INT_GATE64,
	[SYS_TRAP_GATE] = DESC_TRAP_GATE64,
};

/* Gate layout properties, by kind (§5.8.3, §6.11, §6.14.1, §7.2.5). */
enum {
	GATE = 1u << 0,       /* selector:offset instead of base:limit */
	GATE_OFF16 = 1u << 1, /* 16-bit gate: offset 15:0 only */
	GATE_OFF64 = 1u << 2, /* 64-bit gate: offset 63:32 in the high quadword */
	GATE_PARAMS = 1u << 3,/* call gate parameter count */
	GATE_IST = 1u << 4,   /* 64-bit interrupt/trap gate IST index */
	GATE_NO_OFF = 1u << 5,/* task gate: selector only */
};
static const uint8_t gate_props[DESC_NKINDS] = {
	[DESC_CALL_GATE16] = GATE | GATE_OFF16 | GATE_PARAMS,
	[DESC_CALL_GATE32] = GATE | GATE_PARAMS,
	[DESC_CALL_GATE64] = GATE | GATE_OFF64,
	[DESC_TASK_GATE] = GATE | GATE_NO_OFF,
	[DESC_INT_GATE16] = GATE | GATE_OFF16,
	[DESC_INT_GATE32] = GATE,
	[DESC_INT_GATE64] = GATE | GATE_OFF64 | GATE_IST,
	[DESC_TRAP_GATE16] = GATE | GATE_OFF16,
	[DESC_TRAP_GATE32] = GATE,
	[DESC_TRAP_GATE64] = GATE | GATE_OFF64 | GATE_IST,
};

/* Base, limit and flags of a segment, LDT or TSS descriptor (§3.4.5). */
static void decode_segment(uint64_t lo, struct seg_desc *d)
{
	d->raw_limit = (uint32_t)(field(lo, DESC_LIMIT_LO_SHIFT, DESC_LIMIT_LO_BITS) |
				  field(lo, DESC_LIMIT_HI_SHIFT, DESC_LIMIT_HI_BITS)
					  << DESC_LIMIT_LO_BITS);
	d->g = flag(lo, DESC_G_SHIFT);
	d->limit = d->g ? d->raw_limit << DESC_G_LIMIT_SHIFT | ((1u << DESC_G_LIMIT_SHIFT) - 1)
			: d->raw_limit;
	d->base = field(lo, DESC_BASE_LO_SHIFT, DESC_BASE_LO_BITS) |
		  field(lo, DESC_BASE_HI_SHIFT, DESC_BASE_HI_BITS) << DESC_BASE_LO_BITS;
	d->avl = flag(lo, DESC_AVL_SHIFT);
	d->l = flag(lo, DESC_L_SHIFT);
	d->db = flag(lo, DESC_DB_SHIFT);
}

/* Selector, offset and count/IST of a gate (§5.8.3, §6.11, §6.14.1). */
static void decode_gate(uint64_t lo, uint64_t hi, struct seg_desc *d)
{
	uint8_t props = gate_props[d->kind];
	d->gate_selector = (uint16_t)field(lo, GATE_SELECTOR_SHIFT, GATE_SELECTOR_BITS);
	if (props & GATE_NO_OFF)
		return;
	d->gate_offset = field(lo, GATE_OFFSET_LO_SHIFT, GATE_OFFSET_LO_BITS);
	if (!(props & GATE_OFF16))
		d->gate_offset |= field(lo, GATE_OFFSET_MID_SHIFT, GATE_OFFSET_MID_BITS)
				  << GATE_OFFSET_LO_BITS;
	if (props & GATE_OFF64)
		d->gate_offset |= field(hi, DESC_HI_BASE_SHIFT, DESC_HI_BASE_BITS) << 32;
	if (props & GATE_PARAMS)
		d->gate_params = (uint8_t)field(lo, GATE_PARAMS_SHIFT, GATE_PARAMS_BITS);
	if (props & GATE_IST)
		d->gate_ist = (uint8_t)field(lo, GATE_IST_SHIFT, GATE_IST_BITS);
}

void seg_decode(uint64_t lo, uint64_t hi, bool ia32e, struct seg_desc *d)
{
	memset(d, 0, sizeof *d);
	d->raw[0] = lo;
	d->raw[1] = hi;
	d->type = (uint8_t)field(lo, DESC_TYPE_SHIFT, DESC_TYPE_BITS);
	d->s = flag(lo, DESC_S_SHIFT);
	d->dpl = (uint8_t)field(lo, DESC_DPL_SHIFT, DESC_DPL_BITS);
	d->p = flag(lo, DESC_P_SHIFT);
	if (d->s) {
		d->kind = (d->type & SEG_TYPE_CODE) ? DESC_CODE : DESC_DATA;
		decode_segment(lo, d);
		return;
	}
	d->kind = (ia32e ? sys_kind_ia32e : sys_kind_legacy)[d->type];
	if (gate_props[d->kind] & GATE) {
		decode_gate(lo, hi, d);
		return;
	}
	decode_segment(lo, d);
	if (ia32e && d->kind != DESC_INVALID) /* 16-byte LDT/TSS: base 63:32 (§7.2.3) */
		d->base |= field(hi, DESC_HI_BASE_SHIFT, DESC_HI_BASE_BITS) << 32;
}

/* ---- descriptor tables -------------------------------------------------- */

/* Outside IA-32e mode the linear address space is 4 GBytes (§3.1). */
static uint64_t table_linear(const struct mmu *m, uint64_t la)
{
	return in_ia32e(m) ? la : (uint32_t)la;
}

/* Locate sel's descriptor (§3.5.1): table base + index * 8, with all size
 * bytes within the GDTR or LDTR limit; TI = 1 needs a usable LDTR. */
static bool desc_address(const struct mmu *m, uint16_t sel, unsigned size, uint64_t *la,
			 struct mmu_fault *f)
{
	const struct seg_state *s = &m->seg;
	uint64_t base = s->gdtr.base, limit = s->gdtr.limit;
	if (sel & SEL_TI) {
		if (!s->ldtr.usable)
			return fault_sel(f, VEC_GP, sel);
		base = s->ldtr.base;
		limit = s->ldtr.limit;
	}
	uint64_t off = (uint64_t)seg_sel_index(sel) * SEG_DESC_SIZE;
	if (off + size - 1 > limit)
		return fault_sel(f, VEC_GP, sel);
	*la = table_linear(m, base + off);
	return true;
}

static bool read_qword(struct mmu *m, uint64_t la, uint64_t *v, struct mmu_fault *f)
{
	return mmu_read_linear(m, la, v, sizeof *v, implicit_acc(ACC_READ), f);
}

/* High quadword of a 16-byte system descriptor (§3.5.2): it must lie within
 * the table limit, and its type position must be zero (§5.8.3.1 for call
 * gates; Figure 7-4 shows the same zero field for LDT and TSS descriptors). */
static bool read_high_half(struct mmu *m, uint16_t sel, uint64_t la, uint64_t *hi,
			   struct mmu_fault *f)
{
	uint64_t unused;
	if (!desc_address(m, sel, SEG_DESC_SIZE_IA32E, &unused, f) ||
	    !read_qword(m, la + SEG_DESC_SIZE, hi, f))
		return false;
	if (field(*hi, DESC_HI_TYPE_SHIFT, DESC_HI_TYPE_BITS) != 0)
		return fault_sel(f, VEC_GP, sel);
	return true;
}

/* Read and decode sel's descriptor; *la is where it lives (for A/busy). */
static bool desc_fetch(struct mmu *m, uint16_t sel, bool want16, struct seg_desc *d,
		       uint64_t *la, struct mmu_fault *f)
{
	uint64_t lo, hi = 0;
	if (!desc_address(m, sel, SEG_DESC_SIZE, la, f) || !read_qword(m, *la, &lo, f))
		return false;
	bool wide = want16 && in_ia32e(m) && !flag(lo, DESC_S_SHIFT);
	if (wide && !read_high_half(m, sel, *la, &hi, f))
		return false;
	seg_decode(lo, hi, in_ia32e(m), d);
	return true;
}

bool seg_read_descriptor(struct mmu *m, uint16_t sel, bool want16, struct seg_desc *d,
			 struct mmu_fault *f)
{
	uint64_t la;
	return desc_fetch(m, sel, want16, d, &la, f);
}

/* Set a type bit (accessed, §3.4.5.1; TSS busy, §7.2.2) in the descriptor
 * in memory if it is clear. The access byte is rewritten as one implicit
 * supervisor byte store; d is updated to match. */
static bool set_type_bit(struct mmu *m, uint64_t la, struct seg_desc *d, uint8_t bit,
			 struct mmu_fault *f)
{
	if (d->type & bit)
		return true;
	uint8_t access = (uint8_t)(d->raw[0] >> DESC_TYPE_SHIFT) | bit;
	if (!mmu_write_linear(m, la + DESC_ACCESS_BYTE, &access, 1, implicit_acc(ACC_WRITE), f))
		return false;
	d->type |= bit;
	d->raw[0] |= (uint64_t)bit << DESC_TYPE_SHIFT;
	return true;
}

/* ---- hidden caches ------------------------------------------------------ */

static void cache_from_desc(struct seg_cache *c, uint16_t sel, const struct seg_desc *d)
{
	*c = (struct seg_cache){
		.selector = sel, .base = d->base, .limit = d->limit, .type = d->type,
		.s = d->s, .dpl = d->dpl, .p = d->p, .l = d->l, .db = d->db, .g = d->g,
		.avl = d->avl, .usable = true,
	};
}

/* A null selector leaves the register unusable (§3.4.2, §5.4.1). Base and
 * limit are cleared, as Intel processors do for FS/GS in 64-bit mode. */
static void cache_null(struct seg_cache *c, uint16_t sel)
{
	*c = (struct seg_cache){ .selector = sel, .dpl = (uint8_t)seg_sel_rpl(sel) };
}

/* Real mode (Vol. 2 MOV; Vol. 3B "8086 Emulation"): base = selector * 16;
 * limit and attributes keep whatever protected mode left. */
static void cache_real(struct seg_cache *c, uint16_t sel)
{
	c->selector = sel;
	c->base = (uint64_t)sel << REAL_MODE_BASE_SHIFT;
	c->usable = true;
}

void seg_reset(struct seg_state *s)
{
	const struct seg_cache data = {
		.limit = RESET_LIMIT, .type = SEG_TYPE_DATA_WRITABLE | SEG_TYPE_ACCESSED,
		.s = true, .p = true, .usable = true,
	};
	memset(s, 0, sizeof *s);
	for (unsigned r = 0; r < SEG_NREGS; r++)
		s->sr[r] = data;
	s->sr[SEG_CS].selector = RESET_CS_SELECTOR;
	s->sr[SEG_CS].base = RESET_CS_BASE;
	s->sr[SEG_CS].type = SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE | SEG_TYPE_ACCESSED;
	s->gdtr.limit = s->idtr.limit = RESET_LIMIT;
	/* Table 9-1 gives LDTR and TR only "present, R/W"; they are typed as
	 * an LDT and a busy TSS so that later checks see consistent state. */
	s->ldtr = (struct seg_cache){ .limit = RESET_LIMIT, .type = SYS_LDT, .p = true, .usable = true };
	s->tr = (struct seg_cache){ .limit = RESET_LIMIT, .type = SYS_TSS_BUSY, .p = true, .usable = true };
}

/* ---- SS, DS, ES, FS, GS ------------------------------------------------- */

static bool is_code(const struct seg_desc *d)
{
	return d->kind == DESC_CODE;
}

static bool is_conforming_code(const struct seg_desc *d)
{
	return is_code(d) && (d->type & SEG_TYPE_CODE_CONFORMING);
}

/* SS (§5.7; Vol. 2 MOV): RPL = CPL, a writable data segment with DPL = CPL,
 * else #GP(sel); not present → #SS(sel). */
static bool check_ss(const struct seg_desc *d, uint16_t sel, unsigned cpl, struct mmu_fault *f)
{
	bool writable_data = d->kind == DESC_DATA && (d->type & SEG_TYPE_DATA_WRITABLE);
	if (seg_sel_rpl(sel) != cpl || !writable_data || d->dpl != cpl)
		return fault_sel(f, VEC_GP, sel);
	if (!d->p)
		return fault_sel(f, VEC_SS, sel);
	return true;
}

/* DS, ES, FS, GS (§5.6, §5.6.1; Vol. 2 MOV): data or readable code; data
 * and non-conforming code need max(CPL, RPL) ≤ DPL, else #GP(sel); not
 * present → #NP(sel). */
static bool check_data(const struct seg_desc *d, uint16_t sel, unsigned cpl, struct mmu_fault *f)
{
	bool readable_code = is_code(d) && (d->type & SEG_TYPE_CODE_READABLE);
	if (d->kind != DESC_DATA && !readable_code)
		return fault_sel(f, VEC_GP, sel);
	if (!is_conforming_code(d) && (seg_sel_rpl(sel) > d->dpl || cpl > d->dpl))
		return fault_sel(f, VEC_GP, sel);
	if (!d->p)
		return fault_sel(f, VEC_NP, sel);
	return true;
}

/* Null selectors (§5.4.1, §5.4.1.1; Vol. 2 MOV, POP): DS/ES/FS/GS become
 * unusable in any mode; SS only in 64-bit mode at CPL < 3 with RPL = CPL,
 * else #GP(0). */
static bool load_null(struct mmu *m, enum seg_reg r, uint16_t sel, unsigned cpl,
		      struct mmu_fault *f)
{
	bool ss_may_be_null = seg_mode(m) == SEG_MODE_64 && cpl < 3 && seg_sel_rpl(sel) == cpl;
	if (r == SEG_SS && !ss_may_be_null)
		return fault_code(f, VEC_GP, 0);
	cache_null(&m->seg.sr[r], sel);
	return true;
}

bool seg_load(struct mmu *m, enum seg_reg r, uint16_t sel, unsigned cpl, struct mmu_fault *f)
{
	if (r == SEG_CS || (unsigned)r >= SEG_NREGS)
		return fault_ud(f);
	if (seg_mode(m) == SEG_MODE_REAL) {
		cache_real(&m->seg.sr[r], sel);
		return true;
	}
	if (seg_sel_is_null(sel))
		return load_null(m, r, sel, cpl, f);
	struct seg_desc d;
	uint64_t la;
	if (!desc_fetch(m, sel, false, &d, &la, f))
		return false;
	bool ok = r == SEG_SS ? check_ss(&d, sel, cpl, f) : check_data(&d, sel, cpl, f);
	if (!ok || !set_type_bit(m, la, &d, SEG_TYPE_ACCESSED, f))
		return false;
	cache_from_desc(&m->seg.sr[r], sel, &d);
	return true;
}

/* ---- CS ------------------------------------------------------------------ */

/* Privilege rules for a new CS, by how it is reached:
 *  direct JMP/CALL (§5.8.1.1, §5.8.1.2): conforming DPL ≤ CPL;
 *    non-conforming RPL ≤ CPL and DPL = CPL;
 *  JMP through a call gate (§5.8.4, Table 5-1): conforming DPL ≤ CPL;
 *    non-conforming DPL = CPL;
 *  CALL through a call gate, interrupt/trap gate (§5.8.4, §6.12.1.1):
 *    DPL ≤ CPL;
 *  RET/IRET (§5.8.6; Vol. 2 RET, IRET): RPL ≥ CPL; conforming DPL ≤ RPL;
 *    non-conforming DPL = RPL. */
static bool cs_privilege_ok(enum seg_cs_via via, const struct seg_desc *d, unsigned rpl,
			    unsigned cpl)
{
	bool conforming = d->type & SEG_TYPE_CODE_CONFORMING;
	switch (via) {
	case SEG_CS_JMP_CALL:
		return conforming ? d->dpl <= cpl : rpl <= cpl && d->dpl == cpl;
	case SEG_CS_GATE_JMP:
		return conforming ? d->dpl <= cpl : d->dpl == cpl;
	case SEG_CS_GATE_CALL:
	case SEG_CS_INT:
		return d->dpl <= cpl;
	case SEG_CS_RET:
	case SEG_CS_IRET:
		return rpl >= cpl && (conforming ? d->dpl <= rpl : d->dpl == rpl);
	}
	return false;
}

/* Transfers through gates in IA-32e mode land in 64-bit code only (§5.8.3.1,
 * §6.14.1; Vol. 2 JMP, CALL, INT n). */
static bool needs_64bit_code(enum seg_cs_via via)
{
	return via == SEG_CS_GATE_JMP || via == SEG_CS_GATE_CALL || via == SEG_CS_INT;
}

/* Checks on a decoded CS candidate, in the order of Vol. 2 JMP/CALL: code
 * segment, L = D = 1 reserved in IA-32e mode (§5.2.1), privilege, 64-bit
 * target for gates, present. */
static bool check_cs_desc(const struct mmu *m, const struct seg_desc *d, uint16_t sel,
			  unsigned cpl, enum seg_cs_via via, struct mmu_fault *f)
{
	bool lma = in_ia32e(m);
	if (!is_code(d) || (lma && d->l && d->db))
		return fault_sel(f, VEC_GP, sel);
	if (!cs_privilege_ok(via, d, seg_sel_rpl(sel), cpl))
		return fault_sel(f, VEC_GP, sel);
	if (lma && needs_64bit_code(via) && !d->l)
		return fault_sel(f, VEC_GP, sel);
	if (!d->p)
		return fault_sel(f, VEC_NP, sel);
	return true;
}

bool seg_check_cs(struct mmu *m, uint16_t sel, unsigned cpl, enum seg_cs_via via,
		  struct seg_desc *d, struct mmu_fault *f)
{
	uint64_t la;
	if (seg_sel_is_null(sel))
		return fault_code(f, VEC_GP, 0);
	return desc_fetch(m, sel, false, d, &la, f) && check_cs_desc(m, d, sel, cpl, via, f) &&
	       set_type_bit(m, la, d, SEG_TYPE_ACCESSED, f);
}

unsigned seg_cs_new_cpl(enum seg_cs_via via, uint16_t sel, unsigned cpl, const struct seg_desc *d)
{
	switch (via) {
	case SEG_CS_RET:
	case SEG_CS_IRET:
		return seg_sel_rpl(sel);
	case SEG_CS_GATE_CALL:
	case SEG_CS_INT:
		return is_conforming_code(d) ? cpl : d->dpl;
	case SEG_CS_JMP_CALL:
	case SEG_CS_GATE_JMP:
		return cpl;
	}
	return cpl;
}

void seg_commit_cs(struct mmu *m, uint16_t sel, const struct seg_desc *d, unsigned new_cpl)
{
	uint16_t visible = (uint16_t)((sel & ~SEL_RPL_MASK) | (new_cpl & SEL_RPL_MASK));
	cache_from_desc(&m->seg.sr[SEG_CS], visible, d);
}

bool seg_load_cs(struct mmu *m, uint16_t sel, unsigned cpl, enum seg_cs_via via,
		 struct mmu_fault *f)
{
	struct seg_desc d;
	if (!seg_check_cs(m, sel, cpl, via, &d, f))
		return false;
	seg_commit_cs(m, sel, &d, seg_cs_new_cpl(via, sel, cpl, &d));
	return true;
}

/* ---- far JMP/CALL targets ------------------------------------------------ */

/* Legal far JMP/CALL targets (Vol. 2 JMP, CALL): code segments and call
 * gates always; task gates and TSSs outside IA-32e mode only (seg_decode
 * never yields them there, except the 64-bit TSS, which is refused). */
static bool far_kind(enum seg_desc_kind k, enum seg_far_kind *out)
{
	switch (k) {
	case DESC_CODE:
		*out = SEG_FAR_CODE;
		return true;
	case DESC_CALL_GATE16:
	case DESC_CALL_GATE32:
	case DESC_CALL_GATE64:
		*out = SEG_FAR_CALL_GATE;
		return true;
	case DESC_TASK_GATE:
		*out = SEG_FAR_TASK_GATE;
		return true;
	case DESC_TSS16:
	case DESC_TSS32:
		*out = SEG_FAR_TSS;
		return true;
	default:
		return false;
	}
}

/* Gate or TSS named by a far JMP/CALL (§5.8.4, §7.3; Vol. 2 JMP, CALL):
 * DPL ≥ CPL and DPL ≥ RPL, a TSS must be available → else #GP(sel); not
 * present → #NP(sel). */
static bool check_far_system(enum seg_far_kind kind, const struct seg_desc *d, uint16_t sel,
			     unsigned cpl, struct mmu_fault *f)
{
	bool busy_tss = kind == SEG_FAR_TSS && (d->type & SYS_TSS_BUSY_BIT);
	if (d->dpl < cpl || d->dpl < seg_sel_rpl(sel) || busy_tss)
		return fault_sel(f, VEC_GP, sel);
	if (!d->p)
		return fault_sel(f, VEC_NP, sel);
	return true;
}

bool seg_far_target(struct mmu *m, uint16_t sel, unsigned cpl, struct seg_far_target *t,
		    struct mmu_fault *f)
{
	uint64_t la;
	if (seg_sel_is_null(sel))
		return fault_code(f, VEC_GP, 0);
	if (!desc_fetch(m, sel, true, &t->desc, &la, f))
		return false;
	if (!far_kind(t->desc.kind, &t->kind))
		return fault_sel(f, VEC_GP, sel);
	if (t->kind == SEG_FAR_CODE)
		return check_cs_desc(m, &t->desc, sel, cpl, SEG_CS_JMP_CALL, f) &&
		       set_type_bit(m, la, &t->desc, SEG_TYPE_ACCESSED, f);
	return check_far_system(t->kind, &t->desc, sel, cpl, f);
}

void seg_drop_inaccessible(struct mmu *m, unsigned new_cpl)
{
	static const enum seg_reg data_regs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (unsigned i = 0; i < sizeof data_regs / sizeof data_regs[0]; i++) {
		struct seg_cache *c = &m->seg.sr[data_regs[i]];
		bool conforming = (c->type & SEG_TYPE_CODE) && (c->type & SEG_TYPE_CODE_CONFORMING);
		if (c->usable && !conforming && c->dpl < new_cpl)
			cache_null(c, 0);
	}
}

/* ---- LDTR and TR ---------------------------------------------------------- */

bool seg_lldt(struct mmu *m, uint16_t sel, unsigned cpl, struct mmu_fault *f)
{
	struct seg_desc d;
	uint64_t la;
	if (seg_mode(m) == SEG_MODE_REAL)
		return fault_ud(f);
	if (cpl != 0)
		return fault_code(f, VEC_GP, 0);
	if (seg_sel_is_null(sel)) {
		cache_null(&m->seg.ldtr, sel);
		return true;
	}
	if (sel & SEL_TI)
		return fault_sel(f, VEC_GP, sel);
	if (!desc_fetch(m, sel, true, &d, &la, f))
		return false;
	if (d.kind != DESC_LDT)
		return fault_sel(f, VEC_GP, sel);
	if (!d.p)
		return fault_sel(f, VEC_NP, sel);
	cache_from_desc(&m->seg.ldtr, sel, &d);
	return true;
}

/* An available TSS of a type this mode has (§7.2.2, §7.2.3): 16- or 32-bit
 * outside IA-32e mode, 64-bit inside (seg_decode already enforces that). */
static bool is_available_tss(const struct seg_desc *d)
{
	bool tss = d->kind == DESC_TSS16 || d->kind == DESC_TSS32 || d->kind == DESC_TSS64;
	return tss && !(d->type & SYS_TSS_BUSY_BIT);
}

bool seg_ltr(struct mmu *m, uint16_t sel, unsigned cpl, struct mmu_fault *f)
{
	struct seg_desc d;
	uint64_t la;
	if (seg_mode(m) == SEG_MODE_REAL)
		return fault_ud(f);
	if (cpl != 0 || seg_sel_is_null(sel))
		return fault_code(f, VEC_GP, 0);
	if (sel & SEL_TI)
		return fault_sel(f, VEC_GP, sel);
	if (!desc_fetch(m, sel, true, &d, &la, f))
		return false;
	if (!is_available_tss(&d))
		return fault_sel(f, VEC_GP, sel);
	if (!d.p)
		return fault_sel(f, VEC_NP, sel);
	if (!set_type_bit(m, la, &d, SYS_TSS_BUSY_BIT, f))
		return false;
	cache_from_desc(&m->seg.tr, sel, &d);
	return true;
}

void seg_commit_tr(struct mmu *m, uint16_t sel, const struct seg_desc *d)
{
	cache_from_desc(&m->seg.tr, sel, d);
	m->seg.tr.type |= SYS_TSS_BUSY_BIT;
}

/* ---- IDT ------------------------------------------------------------------ */

/* IDT error code (§6.13): vector as the index, IDT flag, EXT. */
static uint32_t idt_error_code(uint8_t vector, bool ext)
{
	return (uint32_t)vector << SEL_INDEX_SHIFT | SEG_EC_IDT | (ext ? SEG_EC_EXT : 0);
}

/* Gates the IDT may hold (§6.11, §6.14.1). seg_decode yields only the
 * mode's kinds, so the 16/32-bit ones and the task gate appear only outside
 * IA-32e mode and the 64-bit ones only inside. */
static bool idt_gate_allowed(enum seg_desc_kind k)
{
	switch (k) {
	case DESC_TASK_GATE:
	case DESC_INT_GATE16:
	case DESC_INT_GATE32:
	case DESC_INT_GATE64:
	case DESC_TRAP_GATE16:
	case DESC_TRAP_GATE32:
	case DESC_TRAP_GATE64:
		return true;
	default:
		return false;
	}
}

bool seg_read_idt_gate(struct mmu *m, uint8_t vector, bool ext, struct seg_desc *g,
		       struct mmu_fault *f)
{
	bool lma = in_ia32e(m);
	unsigned size = lma ? SEG_DESC_SIZE_IA32E : SEG_DESC_SIZE;
	uint64_t off = (uint64_t)vector * size, lo, hi = 0;
	if (off + size - 1 > m->seg.idtr.limit)
		return fault_code(f, VEC_GP, idt_error_code(vector, ext));
	uint64_t la = table_linear(m, m->seg.idtr.base + off);
	if (!read_qword(m, la, &lo, f) || (lma && !read_qword(m, la + SEG_DESC_SIZE, &hi, f)))
		return false;
	seg_decode(lo, hi, lma, g);
	if (!idt_gate_allowed(g->kind))
		return fault_code(f, VEC_GP, idt_error_code(vector, ext));
	return true;
}

bool seg_check_idt_gate(const struct seg_desc *g, uint8_t vector, bool ext, bool software,
			unsigned cpl, struct mmu_fault *f)
{
	if (software && g->dpl < cpl)
		return fault_code(f, VEC_GP, idt_error_code(vector, false));
	if (!g->p)
		return fault_code(f, VEC_NP, idt_error_code(vector, ext));
	return true;
}

/* ---- per-access checks ---------------------------------------------------- */

/* #GP(0), or #SS(0) for SS (§5.3, §6.15 "Interrupt 12"); real mode pushes
 * no error code. */
static bool access_fault(const struct mmu *m, enum seg_reg r, struct mmu_fault *f)
{
	mmu_fault_set(f, r == SEG_SS ? VEC_SS : VEC_GP, seg_mode(m) != SEG_MODE_REAL, 0);
	return false;
}

/* Limit check (§5.3). Expand-up: offset … offset+size-1 ≤ limit. Expand-
 * down: limit+1 ≤ offset and offset+size-1 ≤ 0xFFFF (B = 0) or 0xFFFFFFFF
 * (B = 1). The last byte is computed in 64 bits, so an access that crosses
 * 4 GiB never wraps back into range. */
static bool within_limit(const struct seg_cache *c, uint64_t offset, unsigned size)
{
	uint64_t last = offset + size - 1;
	bool expand_down = !(c->type & SEG_TYPE_CODE) && (c->type & SEG_TYPE_DATA_EXPAND_DOWN);
	if (last < offset)
		return false;
	if (!expand_down)
		return last <= c->limit;
	return offset > c->limit && last <= (c->db ? UPPER_BOUND_32 : UPPER_BOUND_16);
}

/* Type check (§5.4, §3.4.5.1 Table 3-1): code is never writable and is
 * readable only with R = 1; data is writable only with W = 1 and never
 * executable. */
static bool rights_ok(const struct seg_cache *c, enum mmu_access_kind kind)
{
	bool code = c->type & SEG_TYPE_CODE;
	switch (kind) {
	case ACC_WRITE:
		return !code && (c->type & SEG_TYPE_DATA_WRITABLE);
	case ACC_READ:
		return !code || (c->type & SEG_TYPE_CODE_READABLE);
	case ACC_FETCH:
		return code;
	default:
		return false;
	}
}

/* 64-bit mode (§3.4.4, §5.3.1): only FS and GS bases apply, no limits or
 * types; the first and last byte must be canonical (Vol. 1 §3.3.7.1). */
static bool linear_64(struct mmu *m, enum seg_reg r, uint64_t offset, unsigned size,
		      uint64_t *la, struct mmu_fault *f)
{
	uint64_t first = offset + (r == SEG_FS || r == SEG_GS ? m->seg.sr[r].base : 0);
	if (!mmu_canonical(m, first) || !mmu_canonical(m, first + size - 1))
		return access_fault(m, r, f);
	*la = first;
	return true;
}

/* Protected and compatibility mode: usable, right type, within the limit;
 * linear = base + offset mod 2^32 (§3.4, §5.3, §5.4, §5.4.1). */
static bool linear_legacy(struct mmu *m, enum seg_reg r, uint64_t offset, unsigned size,
			  enum mmu_access_kind kind, uint64_t *la, struct mmu_fault *f)
{
	const struct seg_cache *c = &m->seg.sr[r];
	if (!c->usable || !rights_ok(c, kind) || !within_limit(c, offset, size))
		return access_fault(m, r, f);
	*la = (uint32_t)(c->base + offset);
	return true;
}

/* Real mode (Vol. 3B "8086 Emulation"): no type checks; the cached limit
 * still applies. */
static bool linear_real(struct mmu *m, enum seg_reg r, uint64_t offset, unsigned size,
			uint64_t *la, struct mmu_fault *f)
{
	const struct seg_cache *c = &m->seg.sr[r];
	if (!within_limit(c, offset, size))
		return access_fault(m, r, f);
	*la = (uint32_t)(c->base + offset);
	return true;
}

bool seg_linear(struct mmu *m, enum seg_reg r, uint64_t offset, unsigned size, enum mmu_access_kind kind,
		uint64_t *la, struct mmu_fault *f)
{
	if (size == 0)
		size = 1;
	/* Instructions are fetched through CS only; anything else is a caller
	 * bug, reported as a segment fault so it cannot go unnoticed. */
	if ((unsigned)r >= SEG_NREGS || (kind == ACC_FETCH && r != SEG_CS))
		return access_fault(m, r, f);
	switch (seg_mode(m)) {
	case SEG_MODE_64:
		return linear_64(m, r, offset, size, la, f);
	case SEG_MODE_REAL:
		return linear_real(m, r, offset, size, la, f);
	case SEG_MODE_PROTECTED:
	case SEG_MODE_COMPAT:
		break;
	}
	return linear_legacy(m, r, offset, size, kind, la, f);
}
