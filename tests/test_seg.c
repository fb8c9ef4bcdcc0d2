/* Segmentation: descriptor decoding, selector loads, far-transfer targets,
 * LLDT/LTR, IDT gates and per-access checks.
 *
 * Most tests are tables: (descriptor bytes, selector, CPL, register or
 * transfer, mode) → outcome (success, or vector and error code). Every
 * expectation is written from the SDM text (Vol. 3A chapters 3, 5, 6, 7 and
 * the Vol. 2 pseudocode of MOV/POP Sreg, JMP, CALL, RET, IRET, INT n, LLDT,
 * LTR), not from the implementation. Descriptors are built here the way an
 * operating system writes its GDT: an access byte (P, DPL, S, type) and a
 * flags nibble (G, D/B, L, AVL).
 *
 * Protected-mode cases run with paging off (linear = physical). IA-32e cases
 * identity-map the first 16 MiB with 2-MByte pages, so descriptor reads go
 * through the page walker as implicit supervisor accesses.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/ptbuild.h"
#include "mmu/seg.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Guest-physical layout. */
#define RAM_SIZE (UINT64_C(16) << 20)
#define GDT_PA UINT64_C(0x1000)
#define GDT_LIMIT 0x3f          /* eight entries: selectors 0x00 … 0x38 */
#define LDT_PA UINT64_C(0x3000)
#define LDT_LIMIT 0x0f          /* two entries: selectors 0x04, 0x0c */
#define IDT_PA UINT64_C(0x5000)
#define TSS_PA UINT64_C(0x8000)
#define PT_POOL UINT64_C(0x100000)
#define PT_POOL_END UINT64_C(0x200000)
#define UNMAPPED_LA UINT64_C(0x40000000) /* beyond the identity map */

/* Descriptor access byte and flags nibble (SDM Vol. 3A Figure 3-8). */
#define AB_P 0x80u
#define AB_S 0x10u
#define AB_DPL(n) ((unsigned)(n) << 5)
#define FL_G 0x8u
#define FL_DB 0x4u
#define FL_L 0x2u
#define FL_AVL 0x1u

/* Type field values (Table 3-1 for S = 1, Table 3-2 for S = 0). */
#define TY_DATA_RO 0x0u
#define TY_DATA_RW 0x2u
#define TY_DATA_RO_DOWN 0x4u
#define TY_DATA_RW_DOWN 0x6u
#define TY_CODE_X 0x8u    /* execute-only */
#define TY_CODE_XR 0xau   /* execute/read */
#define TY_CODE_XC 0xcu   /* execute-only, conforming */
#define TY_CODE_XRC 0xeu  /* execute/read, conforming */
#define TY_ACCESSED 0x1u
#define TY_TSS16 0x1u
#define TY_LDT 0x2u
#define TY_TSS16_BUSY 0x3u
#define TY_CALL16 0x4u
#define TY_TASK 0x5u
#define TY_INT16 0x6u
#define TY_TRAP16 0x7u
#define TY_TSS 0x9u
#define TY_TSS_BUSY 0xbu
#define TY_CALL 0xcu
#define TY_INT 0xeu
#define TY_TRAP 0xfu

/* An 8-byte segment descriptor from base, 20-bit limit, access byte, flags. */
#define DESC8(base, limit, access, flags)                                              \
	(((uint64_t)(limit) & 0xffff) | (((uint64_t)(base) & 0xffffff) << 16) |        \
	 ((uint64_t)(access) << 40) | ((((uint64_t)(limit) >> 16) & 0xf) << 48) |       \
	 ((uint64_t)(flags) << 52) | (((uint64_t)(base) >> 24) << 56))
/* Flat 4-GiB 32-bit code/data, present. */
#define SEG32(dpl, type) DESC8(0, 0xfffff, AB_P | AB_S | AB_DPL(dpl) | (type), FL_G | FL_DB)
/* 64-bit code (L = 1, D = 0), present. */
#define CODE64(dpl, type) DESC8(0, 0xfffff, AB_P | AB_S | AB_DPL(dpl) | (type), FL_G | FL_L)
/* System descriptor (S = 0), present. */
#define SYS(base, limit, type, dpl) DESC8(base, limit, AB_P | AB_DPL(dpl) | (type), 0)
/* Clear P. */
#define NOTP(d) ((d) & ~((uint64_t)AB_P << 40))
/* Gate low quadword (Figures 5-8, 6-2): offset 15:0, selector, count/IST,
 * access byte, offset 31:16. */
#define GATE(sel, off, type, dpl, count)                                                \
	(((uint64_t)(off) & 0xffff) | ((uint64_t)(sel) << 16) | ((uint64_t)(count) << 32) | \
	 ((uint64_t)(AB_P | AB_DPL(dpl) | (type)) << 40) |                                 \
	 ((((uint64_t)(off) >> 16) & 0xffff) << 48))
/* High quadword of a 16-byte system descriptor: bits 63:32 of base/offset. */
#define HI(off) ((uint64_t)(off) >> 32)

/* Selector error code: index and TI, RPL dropped (§6.13). */
#define EC(sel) ((uint32_t)(sel) & 0xfffc)
/* IDT error code: vector * 8 + 2 (+ 1 with EXT) (§6.13). */
#define IDT_EC(v, ext) ((uint32_t)(v) * 8 + 2 + ((ext) ? 1 : 0))

enum tmode { PROT32 = 0, COMPAT, LONG64, REAL };

struct expect {
	bool ok;
	uint8_t vector;
	bool has_ec;
	uint32_t ec;
};
#define OK { .ok = true }
#define GP(e) { .vector = VEC_GP, .has_ec = true, .ec = (e) }
#define NP(e) { .vector = VEC_NP, .has_ec = true, .ec = (e) }
#define SS(e) { .vector = VEC_SS, .has_ec = true, .ec = (e) }
#define UD { .vector = VEC_UD }
#define GP_NOEC { .vector = VEC_GP }
#define SS_NOEC { .vector = VEC_SS }

static void check(const char *why, bool ok, const struct mmu_fault *f, struct expect want)
{
	if (want.ok) {
		cr_expect(ok, "%s: faulted with vector %u, error code %#x", why, f->vector,
			  f->error_code);
		return;
	}
	cr_expect(!ok, "%s: succeeded, expected vector %u error code %#x", why, want.vector,
		  want.ec);
	if (ok)
		return;
	cr_expect_eq(f->vector, want.vector, "%s: vector %u, expected %u", why, f->vector,
		     want.vector);
	cr_expect_eq(f->has_error_code, want.has_ec, "%s: has_error_code %d, expected %d", why,
		     f->has_error_code, want.has_ec);
	if (want.has_ec)
		cr_expect_eq(f->error_code, want.ec, "%s: error code %#x, expected %#x", why,
			     f->error_code, want.ec);
}

/* Identity-map the first 16 MiB with 2-MByte pages for IA-32e cases. */
static uint64_t identity_map(struct mmu *m)
{
	struct ptb b;
	cr_assert(ptb_init(&b, &m->phys, PAGING_4LEVEL, PT_POOL, PT_POOL_END));
	for (uint64_t la = 0; la < RAM_SIZE; la += UINT64_C(2) << 20)
		cr_assert(ptb_map(&b, la, la, PG_2M, PTE_P | PTE_RW, PTE_P | PTE_RW));
	return ptb_cr3(&b, 0);
}

/* A machine in the given mode at the given CPL: GDT at GDT_PA holding a
 * code segment at 0x08, CS loaded from it, LDTR unusable. */
static void machine(struct mmu *m, enum tmode mode, unsigned cpl)
{
	struct mmu_model model;
	char err[160];
	mmu_model_flat(&model);
	cr_assert(mmu_init(m, &model, RAM_SIZE, err, sizeof err), "%s", err);
	if (mode == REAL) {
		mmu_set_control(m, 0, 0, 0, 0);
		seg_reset(&m->seg);
		return;
	}
	if (mode == PROT32)
		mmu_set_control(m, CR0_PE, 0, 0, 0);
	else
		mmu_set_control(m, CR0_PE | CR0_PG, identity_map(m), CR4_PAE, EFER_LME | EFER_LMA);
	m->seg.gdtr = (struct seg_dtr){ .base = GDT_PA, .limit = GDT_LIMIT };
	bool l = mode == LONG64;
	phys_write(&m->phys, GDT_PA + 8, l ? CODE64(cpl, TY_CODE_XR) : SEG32(cpl, TY_CODE_XR), 8);
	m->seg.sr[SEG_CS] = (struct seg_cache){
		.selector = (uint16_t)(0x08 | cpl), .limit = 0xffffffff,
		.type = TY_CODE_XR | TY_ACCESSED, .s = true, .dpl = (uint8_t)cpl, .p = true,
		.l = l, .db = !l, .g = true, .usable = true,
	};
}

/* Write lo (and hi, the next slot) at the GDT slot sel names. */
static void put_desc(struct mmu *m, uint16_t sel, uint64_t lo, uint64_t hi)
{
	uint64_t pa = GDT_PA + (uint64_t)(sel >> 3) * 8;
	phys_write(&m->phys, pa, lo, 8);
	phys_write(&m->phys, pa + 8, hi, 8);
}

static uint64_t gdt_qword(struct mmu *m, uint16_t sel)
{
	return phys_read(&m->phys, GDT_PA + (uint64_t)(sel >> 3) * 8, 8);
}

static unsigned mem_type(struct mmu *m, uint16_t sel)
{
	return (unsigned)(gdt_qword(m, sel) >> 40) & 0xf;
}

/* One selector-load case. Fields unused by a table are left zero. */
struct sel_row {
	const char *why;
	enum tmode mode;
	uint64_t lo, hi;       /* written at the slot sel names */
	uint16_t sel;
	unsigned cpl;
	enum seg_reg reg;      /* seg_load tables */
	enum seg_cs_via via;   /* CS tables */
	uint16_t new_cs;       /* CS tables: visible selector after success */
	enum seg_far_kind far; /* far-target table */
	struct expect want;
};

static void setup_row(struct mmu *m, const struct sel_row *r)
{
	machine(m, r->mode, r->cpl);
	put_desc(m, r->sel, r->lo, r->hi);
}

/* ======================================================================== */
/* Decoding                                                                 */
/* ======================================================================== */

Test(seg_decode, code_and_data_fields_with_granular_limit)
{
	static const struct {
		const char *why;
		uint64_t lo;
		enum seg_desc_kind kind;
		uint64_t base;
		uint32_t limit, raw_limit;
		unsigned type, dpl;
		bool p, l, db, g, avl;
	} rows[] = {
		{ "flat 4-GiB code: G scales 0xFFFFF to 0xFFFFFFFF",
		  DESC8(0, 0xfffff, 0x9a, FL_G | FL_DB), DESC_CODE, 0, 0xffffffff, 0xfffff, 0xa, 0,
		  true, false, true, true, false },
		{ "byte-granular data keeps the raw limit, base from three fields",
		  DESC8(0x12345678, 0x54321, 0xf2, 0), DESC_DATA, 0x12345678, 0x54321, 0x54321, 0x2,
		  3, true, false, false, false, false },
		{ "G with raw limit 0 covers one 4-KByte page",
		  DESC8(0, 0, 0x92, FL_G), DESC_DATA, 0, 0xfff, 0, 0x2, 0, true, false, false, true,
		  false },
		{ "64-bit code: L set, D clear; not present",
		  DESC8(0, 0, 0x1b, FL_L), DESC_CODE, 0, 0, 0, 0xb, 0, false, true, false, false,
		  false },
		{ "AVL is decoded", DESC8(0xff000000, 0xf0000, 0xd6, FL_AVL), DESC_DATA, 0xff000000,
		  0xf0000, 0xf0000, 0x6, 2, true, false, false, false, true },
	};
	for (size_t i = 0; i < N(rows); i++) {
		struct seg_desc d;
		seg_decode(rows[i].lo, 0, false, &d);
		const char *w = rows[i].why;
		cr_expect_eq(d.kind, rows[i].kind, "%s: kind", w);
		cr_expect(d.s, "%s: S", w);
		cr_expect_eq(d.base, rows[i].base, "%s: base %#llx", w, (unsigned long long)d.base);
		cr_expect_eq(d.limit, rows[i].limit, "%s: limit %#x", w, d.limit);
		cr_expect_eq(d.raw_limit, rows[i].raw_limit, "%s: raw limit %#x", w, d.raw_limit);
		cr_expect_eq(d.type, rows[i].type, "%s: type", w);
		cr_expect_eq(d.dpl, rows[i].dpl, "%s: dpl", w);
		cr_expect_eq(d.p, rows[i].p, "%s: p", w);
		cr_expect_eq(d.l, rows[i].l, "%s: l", w);
		cr_expect_eq(d.db, rows[i].db, "%s: db", w);
		cr_expect_eq(d.g, rows[i].g, "%s: g", w);
		cr_expect_eq(d.avl, rows[i].avl, "%s: avl", w);
	}
}

/* Table 3-2: every system type, outside and inside IA-32e mode. */
Test(seg_decode, system_types_per_mode_follow_table_3_2)
{
	static const enum seg_desc_kind legacy[16] = {
		DESC_INVALID, DESC_TSS16, DESC_LDT, DESC_TSS16,
		DESC_CALL_GATE16, DESC_TASK_GATE, DESC_INT_GATE16, DESC_TRAP_GATE16,
		DESC_INVALID, DESC_TSS32, DESC_INVALID, DESC_TSS32,
		DESC_CALL_GATE32, DESC_INVALID, DESC_INT_GATE32, DESC_TRAP_GATE32,
	};
	static const enum seg_desc_kind ia32e[16] = {
		DESC_INVALID, DESC_INVALID, DESC_LDT, DESC_INVALID,
		DESC_INVALID, DESC_INVALID, DESC_INVALID, DESC_INVALID,
		DESC_INVALID, DESC_TSS64, DESC_INVALID, DESC_TSS64,
		DESC_CALL_GATE64, DESC_INVALID, DESC_INT_GATE64, DESC_TRAP_GATE64,
	};
	for (unsigned t = 0; t < 16; t++) {
		struct seg_desc d;
		seg_decode(SYS(0, 0, t, 0), 0, false, &d);
		cr_expect_eq(d.kind, legacy[t], "legacy type %#x: kind %d, expected %d", t, d.kind,
			     legacy[t]);
		cr_expect(!d.s, "type %#x: system", t);
		seg_decode(SYS(0, 0, t, 0), 0, true, &d);
		cr_expect_eq(d.kind, ia32e[t], "IA-32e type %#x: kind %d, expected %d", t, d.kind,
			     ia32e[t]);
	}
}

Test(seg_decode, gate_fields_by_width)
{
	struct seg_desc d;

	seg_decode(GATE(0x0008, 0x12345678, TY_CALL, 3, 5), 0, false, &d);
	cr_expect_eq(d.kind, DESC_CALL_GATE32);
	cr_expect_eq(d.gate_selector, 0x0008);
	cr_expect_eq(d.gate_offset, 0x12345678);
	cr_expect_eq(d.gate_params, 5, "32-bit call gate parameter count");
	cr_expect_eq(d.dpl, 3);
	cr_expect(d.p);

	seg_decode(GATE(0x0010, 0x12345678, TY_CALL16, 0, 31), 0, false, &d);
	cr_expect_eq(d.kind, DESC_CALL_GATE16);
	cr_expect_eq(d.gate_offset, 0x5678, "16-bit gate: offset 15:0 only");
	cr_expect_eq(d.gate_params, 31, "5-bit parameter count");

	seg_decode(GATE(0x0018, 0x9abcdef0, TY_CALL, 3, 0), HI(0xffff800000000000), true, &d);
	cr_expect_eq(d.kind, DESC_CALL_GATE64);
	cr_expect_eq(d.gate_offset, UINT64_C(0xffff80009abcdef0), "64-bit offset from both halves");

	seg_decode(GATE(0x0010, 0x9abcdef0, TY_INT, 0, 5), 0x1, true, &d);
	cr_expect_eq(d.kind, DESC_INT_GATE64);
	cr_expect_eq(d.gate_ist, 5, "IST in bits 34:32");
	cr_expect_eq(d.gate_offset, UINT64_C(0x19abcdef0));
	cr_expect_eq(d.gate_params, 0, "no parameter count in 64-bit gates");

	seg_decode(GATE(0x0010, 0x00401000, TY_TRAP, 3, 5), 0, true, &d);
	cr_expect_eq(d.kind, DESC_TRAP_GATE64);
	cr_expect_eq(d.gate_ist, 5);

	seg_decode(GATE(0x0010, 0x00401000, TY_TRAP, 0, 5), 0, false, &d);
	cr_expect_eq(d.kind, DESC_TRAP_GATE32);
	cr_expect_eq(d.gate_ist, 0, "no IST outside IA-32e mode");
	cr_expect_eq(d.gate_offset, 0x00401000);

	seg_decode(GATE(0x0010, 0xabcd1234, TY_INT16, 0, 0), 0, false, &d);
	cr_expect_eq(d.kind, DESC_INT_GATE16);
	cr_expect_eq(d.gate_offset, 0x1234);

	seg_decode(GATE(0x0028, 0, TY_TASK, 3, 0), 0, false, &d);
	cr_expect_eq(d.kind, DESC_TASK_GATE);
	cr_expect_eq(d.gate_selector, 0x0028, "task gate names a TSS selector");
}

Test(seg_decode, ia32e_ldt_and_tss_take_base_63_32_from_high_quadword)
{
	struct seg_desc d;
	seg_decode(SYS(0x12345678, 0x67, TY_TSS, 0), 0xffff8000, true, &d);
	cr_expect_eq(d.kind, DESC_TSS64);
	cr_expect_eq(d.base, UINT64_C(0xffff800012345678));
	cr_expect_eq(d.limit, 0x67);
	seg_decode(SYS(0x12345678, 0x67, TY_TSS, 0), 0xffff8000, false, &d);
	cr_expect_eq(d.kind, DESC_TSS32);
	cr_expect_eq(d.base, 0x12345678, "8-byte TSS: high quadword not part of it");
	seg_decode(SYS(0x3000, 0xfff, TY_LDT, 0), 0x1, true, &d);
	cr_expect_eq(d.kind, DESC_LDT);
	cr_expect_eq(d.base, UINT64_C(0x100003000));
}

/* ======================================================================== */
/* Data-segment registers and SS                                            */
/* ======================================================================== */

static const struct sel_row data_rows[] = {
	{ "writable data DPL 3 loads at CPL 3", PROT32, SEG32(3, TY_DATA_RW), 0, 0x13, 3,
	  .reg = SEG_DS, .want = OK },
	{ "data DPL 0 at CPL 3: CPL > DPL", PROT32, SEG32(0, TY_DATA_RW), 0, 0x13, 3,
	  .reg = SEG_DS, .want = GP(0x10) },
	{ "data DPL 0 with RPL 1 at CPL 0: RPL > DPL", PROT32, SEG32(0, TY_DATA_RW), 0, 0x11, 0,
	  .reg = SEG_ES, .want = GP(0x10) },
	{ "read-only data is fine for DS", PROT32, SEG32(0, TY_DATA_RO), 0, 0x10, 0,
	  .reg = SEG_DS, .want = OK },
	{ "readable conforming code DPL 0 at CPL 3: no privilege check", PROT32,
	  SEG32(0, TY_CODE_XRC), 0, 0x13, 3, .reg = SEG_DS, .want = OK },
	{ "readable non-conforming code DPL 0 at CPL 3", PROT32, SEG32(0, TY_CODE_XR), 0, 0x13, 3,
	  .reg = SEG_FS, .want = GP(0x10) },
	{ "readable non-conforming code DPL 3 at CPL 3", PROT32, SEG32(3, TY_CODE_XR), 0, 0x13, 3,
	  .reg = SEG_GS, .want = OK },
	{ "execute-only code", PROT32, SEG32(0, TY_CODE_X), 0, 0x10, 0, .reg = SEG_DS,
	  .want = GP(0x10) },
	{ "execute-only conforming code", PROT32, SEG32(0, TY_CODE_XC), 0, 0x10, 0, .reg = SEG_DS,
	  .want = GP(0x10) },
	{ "LDT descriptor is not a data segment", PROT32, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 3), 0,
	  0x13, 3, .reg = SEG_DS, .want = GP(0x10) },
	{ "call gate is not a data segment", PROT32, GATE(0x08, 0, TY_CALL, 3, 0), 0, 0x13, 3,
	  .reg = SEG_ES, .want = GP(0x10) },
	{ "not-present data: #NP, not #SS", PROT32, NOTP(SEG32(0, TY_DATA_RW)), 0, 0x10, 0,
	  .reg = SEG_DS, .want = NP(0x10) },
	{ "privilege is checked before presence", PROT32, NOTP(SEG32(0, TY_DATA_RW)), 0, 0x13, 3,
	  .reg = SEG_DS, .want = GP(0x10) },
	{ "null DS at CPL 3 loads (unusable)", PROT32, 0, 0, 0x0003, 3, .reg = SEG_DS, .want = OK },
	{ "null ES in compatibility mode loads", COMPAT, 0, 0, 0x0000, 0, .reg = SEG_ES,
	  .want = OK },
	{ "64-bit mode keeps the DS privilege check", LONG64, SEG32(0, TY_DATA_RW), 0, 0x13, 3,
	  .reg = SEG_DS, .want = GP(0x10) },
	{ "64-bit mode: FS from a data descriptor", LONG64, SEG32(3, TY_DATA_RW), 0, 0x13, 3,
	  .reg = SEG_FS, .want = OK },
	{ "64-bit mode: null GS at CPL 3", LONG64, 0, 0, 0x0003, 3, .reg = SEG_GS, .want = OK },
	{ "64-bit mode: not-present ES", LONG64, NOTP(SEG32(0, TY_DATA_RW)), 0, 0x10, 0,
	  .reg = SEG_ES, .want = NP(0x10) },
	{ "MOV to CS does not exist", PROT32, SEG32(0, TY_CODE_XR), 0, 0x10, 0, .reg = SEG_CS,
	  .want = UD },
};

static const struct sel_row ss_rows[] = {
	{ "writable data, RPL = DPL = CPL = 0", PROT32, SEG32(0, TY_DATA_RW), 0, 0x10, 0,
	  .reg = SEG_SS, .want = OK },
	{ "writable data, RPL = DPL = CPL = 3", PROT32, SEG32(3, TY_DATA_RW), 0, 0x13, 3,
	  .reg = SEG_SS, .want = OK },
	{ "expand-down writable data is a stack", PROT32, SEG32(0, TY_DATA_RW_DOWN), 0, 0x10, 0,
	  .reg = SEG_SS, .want = OK },
	{ "read-only data", PROT32, SEG32(0, TY_DATA_RO), 0, 0x10, 0, .reg = SEG_SS,
	  .want = GP(0x10) },
	{ "read-only expand-down data", PROT32, SEG32(0, TY_DATA_RO_DOWN), 0, 0x10, 0,
	  .reg = SEG_SS, .want = GP(0x10) },
	{ "RPL 1 at CPL 0", PROT32, SEG32(0, TY_DATA_RW), 0, 0x11, 0, .reg = SEG_SS,
	  .want = GP(0x10) },
	{ "DPL 3 at CPL 0", PROT32, SEG32(3, TY_DATA_RW), 0, 0x10, 0, .reg = SEG_SS,
	  .want = GP(0x10) },
	{ "DPL 0 at CPL 3", PROT32, SEG32(0, TY_DATA_RW), 0, 0x13, 3, .reg = SEG_SS,
	  .want = GP(0x10) },
	{ "readable code", PROT32, SEG32(0, TY_CODE_XR), 0, 0x10, 0, .reg = SEG_SS,
	  .want = GP(0x10) },
	{ "not-present stack: #SS, not #NP", PROT32, NOTP(SEG32(0, TY_DATA_RW)), 0, 0x10, 0,
	  .reg = SEG_SS, .want = SS(0x10) },
	{ "null SS in 32-bit protected mode", PROT32, 0, 0, 0x0000, 0, .reg = SEG_SS,
	  .want = GP(0) },
	{ "null SS in compatibility mode at CPL 0", COMPAT, 0, 0, 0x0000, 0, .reg = SEG_SS,
	  .want = GP(0) },
	{ "null SS in 64-bit mode at CPL 0, RPL 0", LONG64, 0, 0, 0x0000, 0, .reg = SEG_SS,
	  .want = OK },
	{ "null SS in 64-bit mode at CPL 2, RPL 2", LONG64, 0, 0, 0x0002, 2, .reg = SEG_SS,
	  .want = OK },
	{ "null SS in 64-bit mode at CPL 3", LONG64, 0, 0, 0x0003, 3, .reg = SEG_SS,
	  .want = GP(0) },
	{ "null SS in 64-bit mode with RPL 1 at CPL 0", LONG64, 0, 0, 0x0001, 0, .reg = SEG_SS,
	  .want = GP(0) },
	{ "64-bit mode: non-null SS keeps every check", LONG64, SEG32(0, TY_DATA_RO), 0, 0x10, 0,
	  .reg = SEG_SS, .want = GP(0x10) },
};

/* Run seg_load rows: outcome, then the cache (loaded on success, unchanged
 * on a fault). */
static void run_load_rows(const struct sel_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct sel_row *r = &rows[i];
		struct mmu m;
		struct mmu_fault f = { 0 };
		setup_row(&m, r);
		struct seg_state before = m.seg;
		bool ok = seg_load(&m, r->reg, r->sel, r->cpl, &f);
		check(r->why, ok, &f, r->want);
		if (ok && r->want.ok) {
			const struct seg_cache *c = &m.seg.sr[r->reg];
			bool null = (r->sel & 0xfffc) == 0;
			cr_expect_eq(c->selector, r->sel, "%s: visible selector", r->why);
			cr_expect_eq(c->usable, !null, "%s: usable", r->why);
		} else if (!ok) {
			cr_expect(!memcmp(&before, &m.seg, sizeof before),
				  "%s: a faulting load changed segment state", r->why);
		}
		mmu_free(&m);
	}
}

Test(seg_load, data_register_rules_follow_mov_pseudocode)
{
	run_load_rows(data_rows, N(data_rows));
}

Test(seg_load, ss_rules_and_null_ss_by_mode)
{
	run_load_rows(ss_rows, N(ss_rows));
}

/* GDT/LDT limits and TI (§3.5.1): the whole descriptor must lie within the
 * table limit; TI = 1 needs a usable LDTR. */
Test(seg_load, descriptor_table_limits_and_ti)
{
	/* LDTR state: never loaded (all zero), unusable after LLDT of a null
	 * selector but with a stale base and limit, or loaded. */
	enum { LDTR_ZERO, LDTR_STALE, LDTR_LOADED };
	static const struct {
		const char *why;
		uint16_t gdt_limit;
		int ldtr;
		uint16_t sel;
		struct expect want;
	} rows[] = {
		{ "entry inside the GDT limit", GDT_LIMIT, LDTR_ZERO, 0x10, OK },
		{ "last entry ends exactly at the limit", GDT_LIMIT, LDTR_ZERO, 0x38, OK },
		{ "index past the GDT limit", GDT_LIMIT, LDTR_ZERO, 0x40, GP(0x40) },
		{ "descriptor straddling the GDT limit", 0x3b, LDTR_ZERO, 0x38, GP(0x38) },
		{ "TI = 1 with a null LDTR", GDT_LIMIT, LDTR_ZERO, 0x04, GP(0x04) },
		{ "TI = 1 with an unusable LDTR, stale base and limit", GDT_LIMIT, LDTR_STALE, 0x0c,
		  GP(0x0c) },
		{ "error code keeps TI, drops RPL", GDT_LIMIT, LDTR_ZERO, 0x0f, GP(0x0c) },
		{ "TI = 1 with a usable LDTR reads the LDT", GDT_LIMIT, LDTR_LOADED, 0x0c, OK },
		{ "index past the LDT limit", GDT_LIMIT, LDTR_LOADED, 0x14, GP(0x14) },
	};
	for (size_t i = 0; i < N(rows); i++) {
		struct mmu m;
		struct mmu_fault f = { 0 };
		machine(&m, PROT32, 0);
		m.seg.gdtr.limit = rows[i].gdt_limit;
		put_desc(&m, 0x10, SEG32(0, TY_DATA_RW), 0);
		put_desc(&m, 0x38, SEG32(0, TY_DATA_RW), 0);
		phys_write(&m.phys, LDT_PA + 8, SEG32(0, TY_DATA_RW), 8);
		if (rows[i].ldtr != LDTR_ZERO)
			m.seg.ldtr = (struct seg_cache){ .selector = 0x30, .base = LDT_PA,
							 .limit = LDT_LIMIT, .type = TY_LDT,
							 .p = true,
							 .usable = rows[i].ldtr == LDTR_LOADED };
		bool ok = seg_load(&m, SEG_DS, rows[i].sel, 0, &f);
		check(rows[i].why, ok, &f, rows[i].want);
		mmu_free(&m);
	}
}

/* §3.4.5.1: the processor sets the accessed bit in memory on a load. */
Test(seg_load, sets_accessed_bit_in_memory_only_on_success)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	machine(&m, PROT32, 3);
	put_desc(&m, 0x10, SEG32(3, TY_DATA_RW), 0);
	put_desc(&m, 0x18, SEG32(0, TY_DATA_RW), 0);
	cr_assert(seg_load(&m, SEG_DS, 0x13, 3, &f));
	cr_expect_eq(mem_type(&m, 0x10), TY_DATA_RW | TY_ACCESSED, "A set in the GDT");
	cr_expect_eq(m.seg.sr[SEG_DS].type, TY_DATA_RW | TY_ACCESSED, "A set in the cache");
	cr_expect_eq(gdt_qword(&m, 0x10), SEG32(3, TY_DATA_RW | TY_ACCESSED),
		     "nothing else in the descriptor changed");

	cr_expect(!seg_load(&m, SEG_ES, 0x1b, 3, &f), "DPL 0 from CPL 3");
	cr_expect_eq(mem_type(&m, 0x18), TY_DATA_RW, "A stays clear after a faulting load");

	cr_assert(seg_load(&m, SEG_SS, 0x13, 3, &f), "already-accessed descriptor loads");
	cr_expect_eq(m.seg.sr[SEG_SS].type, TY_DATA_RW | TY_ACCESSED);
	mmu_free(&m);
}

Test(seg_load, cache_holds_base_limit_and_attributes_in_every_mode)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	machine(&m, LONG64, 0);
	put_desc(&m, 0x10, DESC8(0x12345000, 0x00fff, AB_P | AB_S | TY_DATA_RW, FL_DB), 0);
	cr_assert(seg_load(&m, SEG_FS, 0x10, 0, &f));
	const struct seg_cache *c = &m.seg.sr[SEG_FS];
	cr_expect_eq(c->base, 0x12345000, "64-bit mode still loads the descriptor base");
	cr_expect_eq(c->limit, 0xfff);
	cr_expect(c->db && c->p && c->s && c->usable);
	mmu_free(&m);
}

Test(seg_load, descriptor_read_faults_through_paging)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	machine(&m, LONG64, 0);
	m.seg.gdtr.base = UNMAPPED_LA;
	cr_expect(!seg_load(&m, SEG_DS, 0x10, 0, &f));
	cr_expect_eq(f.vector, VEC_PF, "GDT in unmapped memory: #PF");
	cr_expect_eq(f.cr2, UNMAPPED_LA + 0x10);
	mmu_free(&m);
}

Test(seg_load, real_mode_base_is_selector_times_16)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	uint64_t la;
	machine(&m, REAL, 0);
	cr_assert(seg_load(&m, SEG_DS, 0x1234, 0, &f));
	cr_expect_eq(m.seg.sr[SEG_DS].base, 0x12340);
	cr_expect_eq(m.seg.sr[SEG_DS].limit, 0xffff, "limit untouched in real mode");
	cr_assert(seg_linear(&m, SEG_DS, 0x10, 2, ACC_READ, &la, &f));
	cr_expect_eq(la, 0x12350);
	cr_assert(seg_load(&m, SEG_SS, 0x0000, 0, &f), "null selector is just 0 in real mode");
	mmu_free(&m);
}

/* ======================================================================== */
/* CS                                                                       */
/* ======================================================================== */

static const struct sel_row cs_rows[] = {
	/* Far JMP/CALL to a code segment (§5.8.1.1, §5.8.1.2). */
	{ "non-conforming DPL = CPL", PROT32, SEG32(0, TY_CODE_XR), 0, 0x10, 0,
	  .via = SEG_CS_JMP_CALL, .new_cs = 0x10, .want = OK },
	{ "non-conforming with RPL < CPL: CS.RPL becomes CPL", PROT32, SEG32(3, TY_CODE_XR), 0,
	  0x10, 3, .via = SEG_CS_JMP_CALL, .new_cs = 0x13, .want = OK },
	{ "non-conforming with RPL > CPL", PROT32, SEG32(0, TY_CODE_XR), 0, 0x13, 0,
	  .via = SEG_CS_JMP_CALL, .want = GP(0x10) },
	{ "non-conforming DPL < CPL", PROT32, SEG32(0, TY_CODE_XR), 0, 0x13, 3,
	  .via = SEG_CS_JMP_CALL, .want = GP(0x10) },
	{ "non-conforming DPL > CPL", PROT32, SEG32(3, TY_CODE_XR), 0, 0x10, 0,
	  .via = SEG_CS_JMP_CALL, .want = GP(0x10) },
	{ "conforming DPL 0 from CPL 3 keeps CPL 3", PROT32, SEG32(0, TY_CODE_XRC), 0, 0x13, 3,
	  .via = SEG_CS_JMP_CALL, .new_cs = 0x13, .want = OK },
	{ "conforming ignores RPL", PROT32, SEG32(0, TY_CODE_XC), 0, 0x13, 2,
	  .via = SEG_CS_JMP_CALL, .new_cs = 0x12, .want = OK },
	{ "conforming DPL > CPL", PROT32, SEG32(3, TY_CODE_XRC), 0, 0x10, 0,
	  .via = SEG_CS_JMP_CALL, .want = GP(0x10) },
	{ "execute-only code is fine for CS", PROT32, SEG32(0, TY_CODE_X), 0, 0x10, 0,
	  .via = SEG_CS_JMP_CALL, .new_cs = 0x10, .want = OK },
	{ "data segment", PROT32, SEG32(0, TY_DATA_RW), 0, 0x10, 0, .via = SEG_CS_JMP_CALL,
	  .want = GP(0x10) },
	{ "null selector", PROT32, 0, 0, 0x0000, 0, .via = SEG_CS_JMP_CALL, .want = GP(0) },
	{ "not present", PROT32, NOTP(SEG32(0, TY_CODE_XR)), 0, 0x10, 0, .via = SEG_CS_JMP_CALL,
	  .want = NP(0x10) },
	{ "L = D = 1 in IA-32e mode", LONG64,
	  DESC8(0, 0xfffff, AB_P | AB_S | TY_CODE_XR, FL_G | FL_L | FL_DB), 0, 0x10, 0,
	  .via = SEG_CS_JMP_CALL, .want = GP(0x10) },
	{ "L = D = 1 outside IA-32e mode: L ignored", PROT32,
	  DESC8(0, 0xfffff, AB_P | AB_S | TY_CODE_XR, FL_G | FL_L | FL_DB), 0, 0x10, 0,
	  .via = SEG_CS_JMP_CALL, .new_cs = 0x10, .want = OK },
	{ "64-bit code in IA-32e mode", LONG64, CODE64(0, TY_CODE_XR), 0, 0x10, 0,
	  .via = SEG_CS_JMP_CALL, .new_cs = 0x10, .want = OK },
	{ "compatibility-mode code in IA-32e mode", LONG64, SEG32(0, TY_CODE_XR), 0, 0x10, 0,
	  .via = SEG_CS_JMP_CALL, .new_cs = 0x10, .want = OK },
	/* Far RET / IRET (§5.8.6; Vol. 2 RET, IRET). */
	{ "RET to an outer level: non-conforming DPL = RPL", PROT32, SEG32(3, TY_CODE_XR), 0, 0x13,
	  0, .via = SEG_CS_RET, .new_cs = 0x13, .want = OK },
	{ "RET to an inner level (RPL < CPL)", PROT32, SEG32(0, TY_CODE_XR), 0, 0x10, 3,
	  .via = SEG_CS_RET, .want = GP(0x10) },
	{ "RET: non-conforming DPL != RPL", PROT32, SEG32(0, TY_CODE_XR), 0, 0x13, 0,
	  .via = SEG_CS_RET, .want = GP(0x10) },
	{ "RET: conforming DPL < RPL runs at RPL", PROT32, SEG32(0, TY_CODE_XRC), 0, 0x13, 0,
	  .via = SEG_CS_RET, .new_cs = 0x13, .want = OK },
	{ "RET: conforming DPL > RPL", PROT32, SEG32(3, TY_CODE_XRC), 0, 0x11, 0,
	  .via = SEG_CS_RET, .want = GP(0x10) },
	{ "RET: not present", PROT32, NOTP(SEG32(3, TY_CODE_XR)), 0, 0x13, 0, .via = SEG_CS_RET,
	  .want = NP(0x10) },
	{ "IRET to an outer level", PROT32, SEG32(3, TY_CODE_XR), 0, 0x13, 0, .via = SEG_CS_IRET,
	  .new_cs = 0x13, .want = OK },
	{ "IRET: L = D = 1 in IA-32e mode", LONG64,
	  DESC8(0, 0xfffff, AB_P | AB_S | AB_DPL(3) | TY_CODE_XR, FL_L | FL_DB), 0, 0x13, 0,
	  .via = SEG_CS_IRET, .want = GP(0x10) },
	{ "IRET to compatibility-mode code at CPL 3", LONG64, SEG32(3, TY_CODE_XR), 0, 0x13, 0,
	  .via = SEG_CS_IRET, .new_cs = 0x13, .want = OK },
	/* Targets of call gates and interrupt gates (§5.8.4, §6.12.1.1). */
	{ "CALL through a gate to non-conforming DPL 0 from CPL 3", PROT32, SEG32(0, TY_CODE_XR), 0,
	  0x13, 3, .via = SEG_CS_GATE_CALL, .new_cs = 0x10, .want = OK },
	{ "CALL through a gate to DPL > CPL", PROT32, SEG32(3, TY_CODE_XR), 0, 0x10, 0,
	  .via = SEG_CS_GATE_CALL, .want = GP(0x10) },
	{ "CALL through a gate to conforming code keeps CPL", PROT32, SEG32(0, TY_CODE_XRC), 0,
	  0x10, 3, .via = SEG_CS_GATE_CALL, .new_cs = 0x13, .want = OK },
	{ "IA-32e gate target must be 64-bit code", LONG64, SEG32(0, TY_CODE_XR), 0, 0x10, 3,
	  .via = SEG_CS_GATE_CALL, .want = GP(0x10) },
	{ "JMP through a gate to non-conforming DPL < CPL", PROT32, SEG32(0, TY_CODE_XR), 0, 0x10,
	  3, .via = SEG_CS_GATE_JMP, .want = GP(0x10) },
	{ "JMP through a gate to conforming DPL < CPL", PROT32, SEG32(0, TY_CODE_XRC), 0, 0x10, 3,
	  .via = SEG_CS_GATE_JMP, .new_cs = 0x13, .want = OK },
	{ "interrupt from CPL 3 to 64-bit DPL 0 code", LONG64, CODE64(0, TY_CODE_XR), 0, 0x10, 3,
	  .via = SEG_CS_INT, .new_cs = 0x10, .want = OK },
	{ "interrupt handler in DPL 3 code from CPL 0", LONG64, CODE64(3, TY_CODE_XR), 0, 0x10, 0,
	  .via = SEG_CS_INT, .want = GP(0x10) },
};

Test(seg_cs, load_rules_by_transfer_kind)
{
	for (size_t i = 0; i < N(cs_rows); i++) {
		const struct sel_row *r = &cs_rows[i];
		struct mmu m;
		struct mmu_fault f = { 0 };
		setup_row(&m, r);
		struct seg_cache before = m.seg.sr[SEG_CS];
		bool ok = seg_load_cs(&m, r->sel, r->cpl, r->via, &f);
		check(r->why, ok, &f, r->want);
		if (ok && r->want.ok) {
			cr_expect_eq(m.seg.sr[SEG_CS].selector, r->new_cs, "%s: CS %#x, expected %#x",
				     r->why, m.seg.sr[SEG_CS].selector, r->new_cs);
			cr_expect(m.seg.sr[SEG_CS].type & TY_ACCESSED, "%s: accessed", r->why);
			cr_expect(mem_type(&m, r->sel) & TY_ACCESSED, "%s: accessed in memory",
				  r->why);
		} else if (!ok) {
			cr_expect(!memcmp(&before, &m.seg.sr[SEG_CS], sizeof before),
				  "%s: CS changed on a fault", r->why);
		}
		mmu_free(&m);
	}
}

static const struct sel_row far_rows[] = {
	{ "code segment", PROT32, SEG32(0, TY_CODE_XR), 0, 0x10, 0, .far = SEG_FAR_CODE,
	  .want = OK },
	{ "code segment gets the direct-transfer checks", PROT32, SEG32(0, TY_CODE_XR), 0, 0x13, 3,
	  .want = GP(0x10) },
	{ "32-bit call gate DPL 3 from CPL 3", PROT32, GATE(0x08, 0x1000, TY_CALL, 3, 0), 0, 0x13,
	  3, .far = SEG_FAR_CALL_GATE, .want = OK },
	{ "16-bit call gate", PROT32, GATE(0x08, 0x1000, TY_CALL16, 0, 0), 0, 0x10, 0,
	  .far = SEG_FAR_CALL_GATE, .want = OK },
	{ "call gate DPL < CPL", PROT32, GATE(0x08, 0x1000, TY_CALL, 0, 0), 0, 0x13, 3,
	  .want = GP(0x10) },
	{ "call gate DPL < RPL", PROT32, GATE(0x08, 0x1000, TY_CALL, 2, 0), 0, 0x13, 2,
	  .want = GP(0x10) },
	{ "call gate not present", PROT32, NOTP(GATE(0x08, 0x1000, TY_CALL, 3, 0)), 0, 0x13, 3,
	  .want = NP(0x10) },
	{ "call gate DPL checked before presence", PROT32, NOTP(GATE(0x08, 0x1000, TY_CALL, 0, 0)),
	  0, 0x13, 3, .want = GP(0x10) },
	{ "task gate outside IA-32e mode", PROT32, GATE(0x28, 0, TY_TASK, 3, 0), 0, 0x13, 3,
	  .far = SEG_FAR_TASK_GATE, .want = OK },
	{ "available TSS outside IA-32e mode", PROT32, SYS(TSS_PA, 0x67, TY_TSS, 0), 0, 0x10, 0,
	  .far = SEG_FAR_TSS, .want = OK },
	{ "busy TSS", PROT32, SYS(TSS_PA, 0x67, TY_TSS_BUSY, 0), 0, 0x10, 0, .want = GP(0x10) },
	{ "TSS DPL < CPL", PROT32, SYS(TSS_PA, 0x67, TY_TSS, 0), 0, 0x13, 3, .want = GP(0x10) },
	{ "data segment", PROT32, SEG32(0, TY_DATA_RW), 0, 0x10, 0, .want = GP(0x10) },
	{ "LDT descriptor", PROT32, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 0, 0x10, 0,
	  .want = GP(0x10) },
	{ "interrupt gate", PROT32, GATE(0x08, 0x1000, TY_INT, 3, 0), 0, 0x10, 0,
	  .want = GP(0x10) },
	{ "null selector", PROT32, 0, 0, 0x0003, 3, .want = GP(0) },
	{ "64-bit call gate (16 bytes)", LONG64, GATE(0x08, 0x1000, TY_CALL, 3, 0), HI(0), 0x13, 3,
	  .far = SEG_FAR_CALL_GATE, .want = OK },
	{ "64-bit call gate DPL < CPL", LONG64, GATE(0x08, 0x1000, TY_CALL, 0, 0), 0, 0x13, 3,
	  .want = GP(0x10) },
	{ "64-bit call gate with non-zero upper type", LONG64, GATE(0x08, 0x1000, TY_CALL, 3, 0),
	  (uint64_t)TY_CALL << 40, 0x13, 3, .want = GP(0x10) },
	{ "16-bit call gate does not exist in IA-32e mode", LONG64,
	  GATE(0x08, 0x1000, TY_CALL16, 3, 0), 0, 0x13, 3, .want = GP(0x10) },
	{ "task gate does not exist in IA-32e mode", LONG64, GATE(0x28, 0, TY_TASK, 3, 0), 0, 0x13,
	  3, .want = GP(0x10) },
	{ "no task switch to a 64-bit TSS", LONG64, SYS(TSS_PA, 0x67, TY_TSS, 3), 0, 0x13, 3,
	  .want = GP(0x10) },
};

Test(seg_cs, far_target_classifies_code_gates_and_tss)
{
	for (size_t i = 0; i < N(far_rows); i++) {
		const struct sel_row *r = &far_rows[i];
		struct mmu m;
		struct mmu_fault f = { 0 };
		struct seg_far_target t;
		setup_row(&m, r);
		struct seg_cache before = m.seg.sr[SEG_CS];
		bool ok = seg_far_target(&m, r->sel, r->cpl, &t, &f);
		check(r->why, ok, &f, r->want);
		if (ok && r->want.ok)
			cr_expect_eq(t.kind, r->far, "%s: kind %d, expected %d", r->why, t.kind,
				     r->far);
		cr_expect(!memcmp(&before, &m.seg.sr[SEG_CS], sizeof before),
			  "%s: classifying a target must not load CS", r->why);
		mmu_free(&m);
	}
}

/* A far CALL through a 64-bit call gate end to end: gate, then target. */
Test(seg_cs, call_gate_transfer_raises_privilege_to_target_dpl)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	struct seg_far_target t;
	struct seg_desc code;
	machine(&m, LONG64, 3);
	put_desc(&m, 0x20, GATE(0x10, 0x9abcdef0, TY_CALL, 3, 0), HI(0xffffffff00000000));
	put_desc(&m, 0x10, CODE64(0, TY_CODE_XR), 0);
	cr_assert(seg_far_target(&m, 0x23, 3, &t, &f));
	cr_assert_eq(t.kind, SEG_FAR_CALL_GATE);
	cr_expect_eq(t.desc.kind, DESC_CALL_GATE64);
	cr_expect_eq(t.desc.gate_offset, UINT64_C(0xffffffff9abcdef0));
	cr_assert(seg_check_cs(&m, t.desc.gate_selector, 3, SEG_CS_GATE_CALL, &code, &f));
	unsigned cpl = seg_cs_new_cpl(SEG_CS_GATE_CALL, t.desc.gate_selector, 3, &code);
	cr_expect_eq(cpl, 0, "non-conforming target: CPL becomes its DPL");
	seg_commit_cs(&m, t.desc.gate_selector, &code, cpl);
	cr_expect_eq(m.seg.sr[SEG_CS].selector, 0x10);
	cr_expect(m.seg.sr[SEG_CS].l);
	cr_expect_eq(seg_mode(&m), SEG_MODE_64);
	mmu_free(&m);
}

Test(seg_cs, null_gate_target_selector_is_gp0)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	struct seg_desc code;
	machine(&m, PROT32, 3);
	cr_expect(!seg_check_cs(&m, 0x0000, 3, SEG_CS_GATE_CALL, &code, &f));
	check("call gate naming the null selector", false, &f, (struct expect)GP(0));
	mmu_free(&m);
}

/* Vol. 2 RET/IRET: on a return to an outer level, data registers the new
 * CPL may not use are nulled; conforming code stays. */
Test(seg_cs, return_to_outer_level_nulls_inaccessible_data_registers)
{
	struct mmu m;
	machine(&m, PROT32, 0);
	const struct seg_cache data0 = { .selector = 0x10, .limit = 0xffffffff,
					 .type = TY_DATA_RW | TY_ACCESSED, .s = true, .dpl = 0,
					 .p = true, .db = true, .usable = true };
	m.seg.sr[SEG_DS] = data0;
	m.seg.sr[SEG_ES] = data0;
	m.seg.sr[SEG_ES].type = TY_CODE_XRC | TY_ACCESSED;
	m.seg.sr[SEG_FS] = data0;
	m.seg.sr[SEG_FS].dpl = 3;
	m.seg.sr[SEG_GS] = data0;
	m.seg.sr[SEG_GS].type = TY_CODE_XR | TY_ACCESSED;
	seg_drop_inaccessible(&m, 3);
	cr_expect(!m.seg.sr[SEG_DS].usable, "DPL 0 data is nulled");
	cr_expect_eq(m.seg.sr[SEG_DS].selector, 0);
	cr_expect(m.seg.sr[SEG_ES].usable, "conforming code stays");
	cr_expect(m.seg.sr[SEG_FS].usable, "DPL 3 data stays");
	cr_expect(!m.seg.sr[SEG_GS].usable, "DPL 0 non-conforming code is nulled");
	mmu_free(&m);
}

/* ======================================================================== */
/* LTR and LLDT                                                             */
/* ======================================================================== */

static const struct sel_row ltr_rows[] = {
	{ "available 32-bit TSS", PROT32, SYS(TSS_PA, 0x67, TY_TSS, 0), 0, 0x20, 0, .want = OK },
	{ "available 16-bit TSS outside IA-32e mode", PROT32, SYS(TSS_PA, 0x2b, TY_TSS16, 0), 0,
	  0x20, 0, .want = OK },
	{ "CPL 3", PROT32, SYS(TSS_PA, 0x67, TY_TSS, 3), 0, 0x23, 3, .want = GP(0) },
	{ "null selector", PROT32, 0, 0, 0x0000, 0, .want = GP(0) },
	{ "TI = 1", PROT32, SYS(TSS_PA, 0x67, TY_TSS, 0), 0, 0x24, 0, .want = GP(0x24) },
	{ "busy 32-bit TSS", PROT32, SYS(TSS_PA, 0x67, TY_TSS_BUSY, 0), 0, 0x20, 0,
	  .want = GP(0x20) },
	{ "busy 16-bit TSS", PROT32, SYS(TSS_PA, 0x2b, TY_TSS16_BUSY, 0), 0, 0x20, 0,
	  .want = GP(0x20) },
	{ "LDT descriptor", PROT32, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 0, 0x20, 0,
	  .want = GP(0x20) },
	{ "data segment", PROT32, SEG32(0, TY_DATA_RW), 0, 0x20, 0, .want = GP(0x20) },
	{ "not present", PROT32, NOTP(SYS(TSS_PA, 0x67, TY_TSS, 0)), 0, 0x20, 0,
	  .want = NP(0x20) },
	{ "past the GDT limit", PROT32, SYS(TSS_PA, 0x67, TY_TSS, 0), 0, 0x40, 0,
	  .want = GP(0x40) },
	{ "real mode", REAL, 0, 0, 0x20, 0, .want = UD },
	{ "64-bit TSS (16 bytes)", LONG64, SYS(TSS_PA, 0x67, TY_TSS, 0), HI(0), 0x20, 0,
	  .want = OK },
	{ "16-bit TSS does not exist in IA-32e mode", LONG64, SYS(TSS_PA, 0x2b, TY_TSS16, 0), 0,
	  0x20, 0, .want = GP(0x20) },
	{ "16-byte TSS whose high half passes the GDT limit", LONG64,
	  SYS(TSS_PA, 0x67, TY_TSS, 0), 0, 0x38, 0, .want = GP(0x38) },
	{ "16-byte TSS with non-zero upper type", LONG64, SYS(TSS_PA, 0x67, TY_TSS, 0),
	  (uint64_t)TY_TSS << 40, 0x20, 0, .want = GP(0x20) },
};

Test(seg_sys, ltr_rules)
{
	for (size_t i = 0; i < N(ltr_rows); i++) {
		const struct sel_row *r = &ltr_rows[i];
		struct mmu m;
		struct mmu_fault f = { 0 };
		setup_row(&m, r);
		bool ok = seg_ltr(&m, r->sel, r->cpl, &f);
		check(r->why, ok, &f, r->want);
		if (ok && r->want.ok)
			cr_expect_eq(m.seg.tr.selector, r->sel, "%s: TR selector", r->why);
		mmu_free(&m);
	}
}

Test(seg_sys, ltr_sets_busy_bit_and_refuses_the_busy_tss_next_time)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	machine(&m, PROT32, 0);
	put_desc(&m, 0x20, SYS(TSS_PA, 0x67, TY_TSS, 0), 0);
	cr_assert(seg_ltr(&m, 0x20, 0, &f));
	cr_expect_eq(mem_type(&m, 0x20), TY_TSS_BUSY, "busy bit set in the GDT");
	cr_expect_eq(gdt_qword(&m, 0x20), SYS(TSS_PA, 0x67, TY_TSS_BUSY, 0),
		     "only the busy bit changed");
	cr_expect_eq(m.seg.tr.type, TY_TSS_BUSY, "TR caches the busy type");
	cr_expect_eq(m.seg.tr.base, TSS_PA);
	cr_expect_eq(m.seg.tr.limit, 0x67);
	cr_expect(m.seg.tr.usable);
	struct seg_cache tr = m.seg.tr;
	cr_expect(!seg_ltr(&m, 0x20, 0, &f));
	check("second LTR of the same TSS", false, &f, (struct expect)GP(0x20));
	cr_expect(!memcmp(&tr, &m.seg.tr, sizeof tr), "TR unchanged by the faulting LTR");
	mmu_free(&m);
}

Test(seg_sys, ia32e_ltr_loads_64bit_base_from_16_byte_descriptor)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	machine(&m, LONG64, 0);
	put_desc(&m, 0x28, SYS(TSS_PA, 0x67, TY_TSS, 0), HI(0xffff800000000000));
	cr_assert(seg_ltr(&m, 0x28, 0, &f));
	cr_expect_eq(m.seg.tr.base, UINT64_C(0xffff800000000000) | TSS_PA);
	cr_expect_eq(mem_type(&m, 0x28), TY_TSS_BUSY);
	cr_expect_eq(gdt_qword(&m, 0x30), HI(0xffff800000000000), "high half untouched");
	mmu_free(&m);
}

static const struct sel_row lldt_rows[] = {
	{ "LDT descriptor", PROT32, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 0, 0x30, 0, .want = OK },
	{ "LDT descriptor with DPL 3 still loads at CPL 0", PROT32,
	  SYS(LDT_PA, LDT_LIMIT, TY_LDT, 3), 0, 0x30, 0, .want = OK },
	{ "CPL 1", PROT32, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 0, 0x30, 1, .want = GP(0) },
	{ "null selector makes LDTR unusable", PROT32, 0, 0, 0x0000, 0, .want = OK },
	{ "null selector with RPL 3 is still null", PROT32, 0, 0, 0x0003, 0, .want = OK },
	{ "TI = 1", PROT32, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 0, 0x34, 0, .want = GP(0x34) },
	{ "TSS descriptor", PROT32, SYS(TSS_PA, 0x67, TY_TSS, 0), 0, 0x30, 0, .want = GP(0x30) },
	{ "data segment", PROT32, SEG32(0, TY_DATA_RW), 0, 0x30, 0, .want = GP(0x30) },
	{ "not present", PROT32, NOTP(SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0)), 0, 0x30, 0,
	  .want = NP(0x30) },
	{ "past the GDT limit", PROT32, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 0, 0x48, 0,
	  .want = GP(0x48) },
	{ "real mode", REAL, 0, 0, 0x30, 0, .want = UD },
	{ "16-byte LDT descriptor in IA-32e mode", LONG64, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), HI(0),
	  0x20, 0, .want = OK },
	{ "16-byte LDT descriptor straddling the GDT limit", LONG64,
	  SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 0, 0x38, 0, .want = GP(0x38) },
	{ "16-byte LDT descriptor with non-zero upper type", LONG64,
	  SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), (uint64_t)TY_LDT << 40, 0x20, 0, .want = GP(0x20) },
};

Test(seg_sys, lldt_rules)
{
	for (size_t i = 0; i < N(lldt_rows); i++) {
		const struct sel_row *r = &lldt_rows[i];
		struct mmu m;
		struct mmu_fault f = { 0 };
		setup_row(&m, r);
		bool ok = seg_lldt(&m, r->sel, r->cpl, &f);
		check(r->why, ok, &f, r->want);
		if (ok && r->want.ok) {
			bool null = (r->sel & 0xfffc) == 0;
			cr_expect_eq(m.seg.ldtr.usable, !null, "%s: LDTR usable", r->why);
			cr_expect_eq(m.seg.ldtr.selector, r->sel, "%s: LDTR selector", r->why);
			if (!null)
				cr_expect_eq(m.seg.ldtr.base, LDT_PA, "%s: LDTR base", r->why);
		}
		mmu_free(&m);
	}
}

Test(seg_sys, lldt_then_data_load_through_ti)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	machine(&m, LONG64, 0);
	put_desc(&m, 0x20, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), HI(0));
	phys_write(&m.phys, LDT_PA + 8, SEG32(3, TY_DATA_RW), 8);
	cr_expect(!seg_load(&m, SEG_DS, 0x0f, 3, &f), "before LLDT: LDTR unusable");
	cr_assert(seg_lldt(&m, 0x20, 0, &f));
	cr_expect_eq(m.seg.ldtr.limit, LDT_LIMIT);
	cr_assert(seg_load(&m, SEG_DS, 0x0f, 3, &f));
	cr_expect_eq(m.seg.sr[SEG_DS].dpl, 3);
	cr_expect(phys_read(&m.phys, LDT_PA + 8, 8) >> 40 & TY_ACCESSED, "A set in the LDT");
	mmu_free(&m);
}

/* LLDT and LTR take GDT selectors only: TI = 1 faults even when the LDT
 * holds a descriptor of the right type at that index. */
Test(seg_sys, lldt_and_ltr_refuse_ldt_selectors)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	machine(&m, PROT32, 0);
	m.seg.ldtr = (struct seg_cache){ .selector = 0x30, .base = LDT_PA, .limit = LDT_LIMIT,
					 .type = TY_LDT, .p = true, .usable = true };
	phys_write(&m.phys, LDT_PA, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 8);
	phys_write(&m.phys, LDT_PA + 8, SYS(TSS_PA, 0x67, TY_TSS, 0), 8);
	cr_expect(!seg_lldt(&m, 0x04, 0, &f));
	check("LLDT of an LDT-resident LDT descriptor", false, &f, (struct expect)GP(0x04));
	cr_expect(!seg_ltr(&m, 0x0c, 0, &f));
	check("LTR of an LDT-resident TSS", false, &f, (struct expect)GP(0x0c));
	cr_expect_eq(phys_read(&m.phys, LDT_PA + 8, 8), SYS(TSS_PA, 0x67, TY_TSS, 0),
		     "the TSS in the LDT is not marked busy");
	mmu_free(&m);
}

/* seg_read_descriptor reads 16 bytes only when asked for a system
 * descriptor in IA-32e mode. */
Test(seg_sys, sixteen_byte_reads_only_when_asked)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	struct seg_desc d;
	machine(&m, LONG64, 0);
	put_desc(&m, 0x38, SYS(LDT_PA, LDT_LIMIT, TY_LDT, 0), 0);
	cr_expect(seg_read_descriptor(&m, 0x38, false, &d, &f), "8 bytes fit at 0x38");
	cr_expect_eq(d.kind, DESC_LDT);
	cr_expect_eq(d.raw[1], 0);
	cr_expect(!seg_read_descriptor(&m, 0x38, true, &d, &f), "16 bytes do not");
	check("16-byte read past the GDT limit", false, &f, (struct expect)GP(0x38));
	put_desc(&m, 0x30, SEG32(0, TY_DATA_RW), 0);
	cr_expect(seg_read_descriptor(&m, 0x30, true, &d, &f), "code/data stay 8 bytes");
	mmu_free(&m);
}

/* ======================================================================== */
/* IDT gates                                                                */
/* ======================================================================== */

Test(seg_sys, idt_gate_reads_check_limit_and_type)
{
	static const struct {
		const char *why;
		enum tmode mode;
		uint16_t idt_limit;
		uint64_t lo, hi;
		uint8_t vector;
		bool ext;
		struct expect want;
	} rows[] = {
		{ "32-bit interrupt gate within the limit", PROT32, 0x7f,
		  GATE(0x08, 0x1000, TY_INT, 0, 0), 0, 3, false, OK },
		{ "vector past the limit", PROT32, 0x7f, 0, 0, 16, false, GP(IDT_EC(16, false)) },
		{ "vector past the limit during an external event sets EXT", PROT32, 0x7f, 0, 0, 16,
		  true, GP(IDT_EC(16, true)) },
		{ "gate straddling the limit", PROT32, 0x7b, GATE(0x08, 0x1000, TY_INT, 0, 0), 0, 15,
		  false, GP(IDT_EC(15, false)) },
		{ "task gate allowed outside IA-32e mode", PROT32, 0x7f, GATE(0x28, 0, TY_TASK, 0, 0),
		  0, 8, false, OK },
		{ "16-bit trap gate allowed outside IA-32e mode", PROT32, 0x7f,
		  GATE(0x08, 0x1000, TY_TRAP16, 0, 0), 0, 1, false, OK },
		{ "call gate is not an IDT gate", PROT32, 0x7f, GATE(0x08, 0x1000, TY_CALL, 0, 0), 0,
		  3, false, GP(IDT_EC(3, false)) },
		{ "code descriptor is not an IDT gate", PROT32, 0x7f, SEG32(0, TY_CODE_XR), 0, 3, true,
		  GP(IDT_EC(3, true)) },
		{ "not-present gate reads (present is checked later)", PROT32, 0x7f,
		  NOTP(GATE(0x08, 0x1000, TY_INT, 0, 0)), 0, 3, false, OK },
		{ "64-bit gate within the limit", LONG64, 0xff, GATE(0x08, 0x1000, TY_INT, 0, 1),
		  HI(0xffffffff00000000), 15, false, OK },
		{ "IA-32e: vector 16 past 16 gates", LONG64, 0xff, 0, 0, 16, false,
		  GP(IDT_EC(16, false)) },
		{ "IA-32e: upper half of the gate past the limit", LONG64, 0xf7,
		  GATE(0x08, 0x1000, TY_INT, 0, 0), 0, 15, false, GP(IDT_EC(15, false)) },
		{ "IA-32e: 16-bit interrupt gate does not exist", LONG64, 0xff,
		  GATE(0x08, 0x1000, TY_INT16, 0, 0), 0, 2, true, GP(IDT_EC(2, true)) },
		{ "IA-32e: task gate does not exist", LONG64, 0xff, GATE(0x28, 0, TY_TASK, 0, 0), 0,
		  2, false, GP(IDT_EC(2, false)) },
	};
	for (size_t i = 0; i < N(rows); i++) {
		struct mmu m;
		struct mmu_fault f = { 0 };
		struct seg_desc g;
		machine(&m, rows[i].mode, 0);
		unsigned size = rows[i].mode == LONG64 ? 16 : 8;
		m.seg.idtr = (struct seg_dtr){ .base = IDT_PA, .limit = rows[i].idt_limit };
		phys_write(&m.phys, IDT_PA + rows[i].vector * size, rows[i].lo, 8);
		phys_write(&m.phys, IDT_PA + rows[i].vector * size + 8, rows[i].hi, 8);
		bool ok = seg_read_idt_gate(&m, rows[i].vector, rows[i].ext, &g, &f);
		check(rows[i].why, ok, &f, rows[i].want);
		mmu_free(&m);
	}
}

Test(seg_sys, ia32e_idt_gate_has_64bit_offset_and_ist)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	struct seg_desc g;
	machine(&m, LONG64, 0);
	m.seg.idtr = (struct seg_dtr){ .base = IDT_PA, .limit = 0xfff };
	phys_write(&m.phys, IDT_PA + 14 * 16, GATE(0x08, 0x89abcdef, TY_INT, 0, 3), 8);
	phys_write(&m.phys, IDT_PA + 14 * 16 + 8, HI(0xffffffff00000000), 8);
	cr_assert(seg_read_idt_gate(&m, 14, true, &g, &f));
	cr_expect_eq(g.kind, DESC_INT_GATE64);
	cr_expect_eq(g.gate_offset, UINT64_C(0xffffffff89abcdef));
	cr_expect_eq(g.gate_ist, 3);
	cr_expect_eq(g.gate_selector, 0x08);
	mmu_free(&m);
}

Test(seg_sys, idt_gate_checks_software_dpl_before_presence)
{
	static const struct {
		const char *why;
		uint64_t lo;
		bool ext, software;
		unsigned cpl;
		struct expect want;
	} rows[] = {
		{ "INT n through a DPL 3 gate at CPL 3", GATE(0x08, 0, TY_TRAP, 3, 0), false, true, 3,
		  OK },
		{ "INT n through a DPL 0 gate at CPL 3", GATE(0x08, 0, TY_INT, 0, 0), false, true, 3,
		  GP(IDT_EC(0x80, false)) },
		{ "hardware interrupt ignores gate DPL", GATE(0x08, 0, TY_INT, 0, 0), true, false, 3,
		  OK },
		{ "not-present gate, external event", NOTP(GATE(0x08, 0, TY_INT, 0, 0)), true, false,
		  3, NP(IDT_EC(0x80, true)) },
		{ "not-present gate, INT n", NOTP(GATE(0x08, 0, TY_INT, 3, 0)), false, true, 3,
		  NP(IDT_EC(0x80, false)) },
		{ "DPL before presence for INT n", NOTP(GATE(0x08, 0, TY_INT, 0, 0)), false, true, 3,
		  GP(IDT_EC(0x80, false)) },
	};
	for (size_t i = 0; i < N(rows); i++) {
		struct seg_desc g;
		struct mmu_fault f = { 0 };
		seg_decode(rows[i].lo, 0, false, &g);
		bool ok = seg_check_idt_gate(&g, 0x80, rows[i].ext, rows[i].software, rows[i].cpl,
					     &f);
		check(rows[i].why, ok, &f, rows[i].want);
	}
}

/* ======================================================================== */
/* Per-access checks                                                        */
/* ======================================================================== */

/* A usable code/data cache. */
#define SC(base_, limit_, type_, db_)                                               \
	{ .base = (base_), .limit = (limit_), .type = (type_), .s = true, .p = true, \
	  .db = (db_), .usable = true }
#define RW (TY_DATA_RW | TY_ACCESSED)
#define RO (TY_DATA_RO | TY_ACCESSED)
#define RW_DOWN (TY_DATA_RW_DOWN | TY_ACCESSED)

struct lin_row {
	const char *why;
	enum tmode mode;
	enum seg_reg reg;
	struct seg_cache c;
	uint64_t off;
	unsigned size;
	unsigned kind;
	struct expect want;
	uint64_t la;
};

static const struct lin_row lin_rows[] = {
	/* Expand-up limits (§5.3), no 32-bit wrap of the last byte. */
	{ "4 GiB: dword ending at 0xFFFFFFFF", PROT32, SEG_DS, SC(0, 0xffffffff, RW, true),
	  0xfffffffc, 4, ACC_READ, OK, 0xfffffffc },
	{ "4 GiB: byte at 0xFFFFFFFF", PROT32, SEG_DS, SC(0, 0xffffffff, RW, true), 0xffffffff, 1,
	  ACC_READ, OK, 0xffffffff },
	{ "4 GiB: dword crossing 4 GiB", PROT32, SEG_DS, SC(0, 0xffffffff, RW, true), 0xfffffffd,
	  4, ACC_READ, GP(0), 0 },
	{ "4 GiB: qword crossing 4 GiB", PROT32, SEG_ES, SC(0, 0xffffffff, RW, true), 0xfffffff9,
	  8, ACC_WRITE, GP(0), 0 },
	{ "limit 0xFFFF: last byte", PROT32, SEG_DS, SC(0, 0xffff, RW, false), 0xffff, 1, ACC_READ,
	  OK, 0xffff },
	{ "limit 0xFFFF: word crossing the limit", PROT32, SEG_DS, SC(0, 0xffff, RW, false), 0xffff,
	  2, ACC_READ, GP(0), 0 },
	/* Expand-down (§3.4.5.1, §5.3): limit+1 … 0xFFFF or 0xFFFFFFFF. */
	{ "expand-down B=0: offset = limit", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, false), 0x0fff,
	  1, ACC_READ, GP(0), 0 },
	{ "expand-down B=0: offset = limit + 1", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, false),
	  0x1000, 1, ACC_READ, OK, 0x1000 },
	{ "expand-down B=0: word ending at 0xFFFF", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, false),
	  0xfffe, 2, ACC_READ, OK, 0xfffe },
	{ "expand-down B=0: word crossing 0xFFFF", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, false),
	  0xffff, 2, ACC_READ, GP(0), 0 },
	{ "expand-down B=0: offset 0x10000", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, false),
	  0x10000, 1, ACC_READ, GP(0), 0 },
	{ "expand-down B=1: offset 0x10000", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, true),
	  0x10000, 1, ACC_READ, OK, 0x10000 },
	{ "expand-down B=1: dword ending at 0xFFFFFFFF", PROT32, SEG_DS,
	  SC(0, 0x0fff, RW_DOWN, true), 0xfffffffc, 4, ACC_READ, OK, 0xfffffffc },
	{ "expand-down B=1: dword crossing 4 GiB", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, true),
	  0xfffffffd, 4, ACC_READ, GP(0), 0 },
	{ "expand-down B=1: offset = limit", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, true), 0x0fff,
	  1, ACC_READ, GP(0), 0 },
	{ "expand-down B=1: dword straddling limit+1", PROT32, SEG_DS, SC(0, 0x0fff, RW_DOWN, true),
	  0x0ffe, 4, ACC_READ, GP(0), 0 },
	{ "expand-down with limit 0xFFFFFFFF is empty", PROT32, SEG_DS,
	  SC(0, 0xffffffff, RW_DOWN, true), 0, 1, ACC_READ, GP(0), 0 },
	{ "expand-down stack limit fault is #SS", PROT32, SEG_SS, SC(0, 0x0fff, RW_DOWN, true),
	  0x0ffc, 4, ACC_WRITE, SS(0), 0 },
	/* Types (§5.4, Table 3-1). */
	{ "write to code", PROT32, SEG_CS, SC(0, 0xffffffff, TY_CODE_XR, true), 0x100, 4,
	  ACC_WRITE, GP(0), 0 },
	{ "read of execute-only code", PROT32, SEG_DS, SC(0, 0xffffffff, TY_CODE_X, true), 0x100,
	  4, ACC_READ, GP(0), 0 },
	{ "read of readable code", PROT32, SEG_CS, SC(0, 0xffffffff, TY_CODE_XR, true), 0x100, 4,
	  ACC_READ, OK, 0x100 },
	{ "fetch from execute-only code", PROT32, SEG_CS, SC(0, 0xffffffff, TY_CODE_X, true),
	  0x100, 1, ACC_FETCH, OK, 0x100 },
	{ "fetch past the CS limit", PROT32, SEG_CS, SC(0, 0xffff, TY_CODE_X, false), 0xffff, 2,
	  ACC_FETCH, GP(0), 0 },
	{ "fetch through DS", PROT32, SEG_DS, SC(0, 0xffffffff, RW, true), 0x100, 1, ACC_FETCH,
	  GP(0), 0 },
	{ "write to read-only data", PROT32, SEG_FS, SC(0, 0xffffffff, RO, true), 0x100, 4,
	  ACC_WRITE, GP(0), 0 },
	{ "write to read-only stack is #SS", PROT32, SEG_SS, SC(0, 0xffffffff, RO, true), 0x100, 4,
	  ACC_WRITE, SS(0), 0 },
	{ "read of read-only data", PROT32, SEG_GS, SC(0, 0xffffffff, RO, true), 0x100, 4,
	  ACC_READ, OK, 0x100 },
	{ "unusable DS", PROT32, SEG_DS, { .usable = false }, 0, 1, ACC_READ, GP(0), 0 },
	{ "unusable SS in compatibility mode is #SS", COMPAT, SEG_SS, { .usable = false }, 0, 1,
	  ACC_READ, SS(0), 0 },
	{ "stack limit violation is #SS", PROT32, SEG_SS, SC(0, 0xffff, RW, false), 0xfffe, 4,
	  ACC_WRITE, SS(0), 0 },
	/* Linear address (§3.4). */
	{ "base + offset", PROT32, SEG_DS, SC(0x10000, 0xffffffff, RW, true), 0x20, 4, ACC_READ, OK,
	  0x10020 },
	{ "base + offset wraps at 4 GiB", PROT32, SEG_DS, SC(0x1000, 0xffffffff, RW, true),
	  0xfffff000, 4, ACC_READ, OK, 0 },
	{ "compatibility mode checks the limit", COMPAT, SEG_DS, SC(0, 0xffff, RW, false), 0x10000,
	  1, ACC_READ, GP(0), 0 },
	{ "compatibility mode adds the DS base", COMPAT, SEG_DS, SC(0x400000, 0xffff, RW, false),
	  0x10, 1, ACC_READ, OK, 0x400010 },
	/* 64-bit mode (§3.4.4, §5.3.1; Vol. 1 §3.3.7.1). */
	{ "64-bit: DS base and limit ignored", LONG64, SEG_DS, SC(0x1000, 0xffff, RW, true),
	  0x123456, 4, ACC_READ, OK, 0x123456 },
	{ "64-bit: FS base applied", LONG64, SEG_FS, SC(0x7f0000000000, 0, RW, true), 0x10, 8,
	  ACC_READ, OK, 0x7f0000000010 },
	{ "64-bit: GS base applied", LONG64, SEG_GS, SC(0xffff880000000000, 0, RW, true), 0x8, 8,
	  ACC_WRITE, OK, 0xffff880000000008 },
	{ "64-bit: unusable DS still addresses memory", LONG64, SEG_DS, { .usable = false }, 0x40,
	  8, ACC_READ, OK, 0x40 },
	{ "64-bit: read-only DS type ignored", LONG64, SEG_DS, SC(0, 0, RO, true), 0x40, 8,
	  ACC_WRITE, OK, 0x40 },
	{ "64-bit: non-canonical address", LONG64, SEG_DS, SC(0, 0, RW, true),
	  0x0000800000000000, 1, ACC_READ, GP(0), 0 },
	{ "64-bit: non-canonical stack address is #SS", LONG64, SEG_SS, SC(0, 0, RW, true),
	  0x0000800000000000, 8, ACC_WRITE, SS(0), 0 },
	{ "64-bit: last byte crosses into non-canonical", LONG64, SEG_DS, SC(0, 0, RW, true),
	  0x00007ffffffffffc, 8, ACC_READ, GP(0), 0 },
	{ "64-bit: qword ending at the top of the lower half", LONG64, SEG_DS, SC(0, 0, RW, true),
	  0x00007ffffffffff8, 8, ACC_READ, OK, 0x00007ffffffffff8 },
	{ "64-bit: FS base pushes the address non-canonical", LONG64, SEG_FS,
	  SC(0x00007fffffffff00, 0, RW, true), 0x100, 1, ACC_READ, GP(0), 0 },
	{ "64-bit: higher-half canonical", LONG64, SEG_DS, SC(0, 0, RW, true), 0xffff800000000000,
	  8, ACC_READ, OK, 0xffff800000000000 },
	/* Real mode: cached limit, no error code. */
	{ "real mode: word crossing the 64-KiB limit", REAL, SEG_DS, SC(0, 0xffff, RW, false),
	  0xffff, 2, ACC_READ, GP_NOEC, 0 },
	{ "real mode: stack limit is #SS", REAL, SEG_SS, SC(0, 0xffff, RW, false), 0xffff, 2,
	  ACC_WRITE, SS_NOEC, 0 },
	{ "real mode: writes to CS are allowed", REAL, SEG_CS,
	  SC(0xf0000, 0xffff, TY_CODE_XR, false), 0x10, 2, ACC_WRITE, OK, 0xf0010 },
};

Test(seg_linear, limits_types_and_canonical_form)
{
	for (size_t i = 0; i < N(lin_rows); i++) {
		const struct lin_row *r = &lin_rows[i];
		struct mmu m;
		struct mmu_fault f = { 0 };
		uint64_t la = 0;
		machine(&m, r->mode, 0);
		m.seg.sr[r->reg] = r->c;
		if (r->reg == SEG_CS && r->mode == LONG64)
			m.seg.sr[SEG_CS].l = true;
		bool ok = seg_linear(&m, r->reg, r->off, r->size, r->kind, &la, &f);
		check(r->why, ok, &f, r->want);
		if (ok && r->want.ok)
			cr_expect_eq(la, r->la, "%s: la %#llx, expected %#llx", r->why,
				     (unsigned long long)la, (unsigned long long)r->la);
		mmu_free(&m);
	}
}

Test(seg_linear, la57_widens_the_canonical_range)
{
	struct mmu m;
	struct mmu_fault f = { 0 };
	uint64_t la;
	machine(&m, LONG64, 0);
	m.cr4 |= CR4_LA57; /* pure check: no memory is read */
	cr_expect(seg_linear(&m, SEG_DS, UINT64_C(0x0000800000000000), 8, ACC_READ, &la, &f),
		  "bit 47 set is canonical with 57-bit addresses");
	cr_expect(seg_linear(&m, SEG_DS, UINT64_C(0xff00000000000000), 8, ACC_READ, &la, &f));
	cr_expect(!seg_linear(&m, SEG_DS, UINT64_C(0x0100000000000000), 8, ACC_READ, &la, &f));
	check("bit 56 set, 63:57 clear", false, &f, (struct expect)GP(0));
	mmu_free(&m);
}

Test(seg_linear, mode_follows_pe_lma_and_cs_l)
{
	struct mmu m;
	machine(&m, REAL, 0);
	cr_expect_eq(seg_mode(&m), SEG_MODE_REAL);
	mmu_free(&m);
	machine(&m, PROT32, 0);
	cr_expect_eq(seg_mode(&m), SEG_MODE_PROTECTED);
	m.seg.sr[SEG_CS].l = true;
	cr_expect_eq(seg_mode(&m), SEG_MODE_PROTECTED, "CS.L means nothing without LMA");
	mmu_free(&m);
	machine(&m, COMPAT, 0);
	cr_expect_eq(seg_mode(&m), SEG_MODE_COMPAT);
	mmu_free(&m);
	machine(&m, LONG64, 0);
	cr_expect_eq(seg_mode(&m), SEG_MODE_64);
	mmu_free(&m);
}

Test(seg_linear, reset_state_addresses_the_reset_vector)
{
	struct seg_state s;
	seg_reset(&s);
	cr_expect_eq(s.sr[SEG_CS].selector, 0xf000);
	cr_expect_eq(s.sr[SEG_CS].base + 0xfff0, 0xfffffff0, "first fetch at 0xFFFFFFF0");
	cr_expect_eq(s.sr[SEG_DS].limit, 0xffff);
	cr_expect(s.sr[SEG_SS].usable);
}
