/* Segmentation (SDM Vol. 3A chapters 3 and 5): descriptors, selector loads
 * with every protection check, the hidden descriptor caches, and the
 * per-access limit/rights/canonical checks.
 *
 * Descriptor-table reads and accessed/busy-bit writes are implicit
 * supervisor-mode accesses through paging (mmu_read_linear/mmu_write_linear),
 * so a descriptor table in unmapped memory reports #PF like hardware.
 *
 * Every function that can fault returns true on success and otherwise fills
 * a struct mmu_fault (mmu/fault.h). A selector fault carries the error code
 * selector & SEL_ERROR_MASK (SDM Vol. 3A §6.13); #GP(0), #SS(0) carry 0. On a
 * fault no segment register, LDTR or TR changes.
 *
 * The caller (the instruction layer) decides which instruction runs and in
 * what order; mmu/seg only answers "may this selector be loaded, and with
 * what hidden state" and "where does this access land". It ORs the EXT bit
 * (SEG_EC_EXT) into selector error codes itself when the load happens while
 * delivering an external event (§6.13); only seg_read_idt_gate and
 * seg_check_idt_gate take an ext argument, because the IDT error-code format
 * depends on it.
 */
#ifndef MMU_SEG_H
#define MMU_SEG_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/access.h"
#include "mmu/fault.h"

struct mmu;

/* Segment registers in the SDM's encoding order (Vol. 2 §3.1.1.3, Sreg). */
enum seg_reg { SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5,
	       SEG_NREGS = 6 };

/* Selector fields (SDM Vol. 3A §3.4.2, Figure 3-6).
 *
 *  15                                 3   2   1 0
 * +------------------------------------+----+-----+
 * |               index                | TI | RPL |
 * +------------------------------------+----+-----+
 */
#define SEL_RPL_MASK 0x3u
#define SEL_TI 0x4u             /* 1: LDT, 0: GDT */
#define SEL_INDEX_SHIFT 3
#define SEL_ERROR_MASK 0xfffcu  /* selector error code: index and TI (§6.13) */

/* Error-code bits below the index (SDM Vol. 3A §6.13, Figure 6-7). */
#define SEG_EC_EXT 0x1u  /* event external to the program */
#define SEG_EC_IDT 0x2u  /* index refers to an IDT gate */
#define SEG_EC_TI 0x4u   /* with IDT = 0: 1 = LDT, 0 = GDT */

#define SEG_DESC_SIZE 8u        /* code, data and legacy system descriptors */
#define SEG_DESC_SIZE_IA32E 16u /* system descriptors in IA-32e mode (§3.5.2) */

/* Segment descriptor, low quadword (SDM Vol. 3A §3.4.5, Figure 3-8).
 *
 *  63     56 55 54 53 52 51  48 47 46 45 44 43  40 39        16 15          0
 * +---------+--+--+--+--+------+--+-----+--+------+------------+-------------+
 * |base31:24|G |DB|L |AV|lim   |P | DPL |S | type | base 23:0  | limit 15:0  |
 * |         |  |  |  |L |19:16 |  |     |  |      |            |             |
 * +---------+--+--+--+--+------+--+-----+--+------+------------+-------------+
 *
 * System descriptors in IA-32e mode add a high quadword (§3.5.2, §7.2.3,
 * §5.8.3.1, §6.14.1): bits 31:0 hold base/offset 63:32, bits 44:40 (the
 * "type" position, bits 12:8 of the upper doubleword) must be zero.
 */
#define DESC_LIMIT_LO_SHIFT 0
#define DESC_LIMIT_LO_BITS 16
#define DESC_BASE_LO_SHIFT 16
#define DESC_BASE_LO_BITS 24
#define DESC_ACCESS_BYTE 5      /* byte offset of P/DPL/S/type, where A and busy live */
#define DESC_TYPE_SHIFT 40
#define DESC_TYPE_BITS 4
#define DESC_S_SHIFT 44
#define DESC_DPL_SHIFT 45
#define DESC_DPL_BITS 2
#define DESC_P_SHIFT 47
#define DESC_LIMIT_HI_SHIFT 48
#define DESC_LIMIT_HI_BITS 4
#define DESC_AVL_SHIFT 52
#define DESC_L_SHIFT 53
#define DESC_DB_SHIFT 54
#define DESC_G_SHIFT 55
#define DESC_BASE_HI_SHIFT 56
#define DESC_BASE_HI_BITS 8
#define DESC_HI_BASE_SHIFT 0    /* high quadword: base/offset 63:32 */
#define DESC_HI_BASE_BITS 32
#define DESC_HI_TYPE_SHIFT 40   /* high quadword: must-be-zero type position */
#define DESC_HI_TYPE_BITS 5
#define DESC_G_LIMIT_SHIFT 12   /* G = 1: limit = raw << 12 | 0xfff (§3.4.5) */

/* Gate descriptor, low quadword (SDM Vol. 3A §5.8.3 Figure 5-8, §6.11
 * Figure 6-2, §7.2.5, §6.14.1 Figure 6-8).
 *
 *  63           48 47 46 45 44 43  40 39 37 36   32 31          16 15          0
 * +---------------+--+-----+--+------+-----+-------+--------------+-------------+
 * | offset 31:16  |P | DPL |0 | type | 000 |params | selector     | offset 15:0 |
 * +---------------+--+-----+--+------+-----+-------+--------------+-------------+
 *
 * Call gates: bits 36:32 = parameter count. 64-bit interrupt/trap gates:
 * bits 34:32 = IST index. 16-bit gates use only offset 15:0.
 */
#define GATE_OFFSET_LO_SHIFT 0
#define GATE_OFFSET_LO_BITS 16
#define GATE_SELECTOR_SHIFT 16
#define GATE_SELECTOR_BITS 16
#define GATE_PARAMS_SHIFT 32
#define GATE_PARAMS_BITS 5
#define GATE_IST_SHIFT 32
#define GATE_IST_BITS 3
#define GATE_OFFSET_MID_SHIFT 48
#define GATE_OFFSET_MID_BITS 16

/* Descriptor type field for S = 1 (SDM Vol. 3A §3.4.5.1, Table 3-1). */
#define SEG_TYPE_ACCESSED 0x1u
#define SEG_TYPE_DATA_WRITABLE 0x2u
#define SEG_TYPE_DATA_EXPAND_DOWN 0x4u
#define SEG_TYPE_CODE_READABLE 0x2u
#define SEG_TYPE_CODE_CONFORMING 0x4u
#define SEG_TYPE_CODE 0x8u

/* System descriptor types, S = 0 (SDM Vol. 3A §3.5, Table 3-2). */
enum seg_sys_type {
	SYS_TSS16_AVAIL = 0x1, SYS_LDT = 0x2, SYS_TSS16_BUSY = 0x3, SYS_CALL_GATE16 = 0x4,
	SYS_TASK_GATE = 0x5, SYS_INT_GATE16 = 0x6, SYS_TRAP_GATE16 = 0x7,
	SYS_TSS_AVAIL = 0x9,  /* 32-bit TSS; 64-bit TSS in IA-32e mode */
	SYS_TSS_BUSY = 0xb, SYS_CALL_GATE = 0xc, SYS_INT_GATE = 0xe, SYS_TRAP_GATE = 0xf,
};
#define SYS_TSS_BUSY_BIT 0x2u

/* What a descriptor is, after decoding in a given mode. */
enum seg_desc_kind {
	DESC_INVALID = 0, DESC_DATA, DESC_CODE, DESC_LDT, DESC_TSS16, DESC_TSS32, DESC_TSS64,
	DESC_CALL_GATE16, DESC_CALL_GATE32, DESC_CALL_GATE64, DESC_TASK_GATE,
	DESC_INT_GATE16, DESC_INT_GATE32, DESC_INT_GATE64,
	DESC_TRAP_GATE16, DESC_TRAP_GATE32, DESC_TRAP_GATE64,
	DESC_NKINDS
};

/* A decoded descriptor (SDM Vol. 3A §3.4.5 Figure 3-8, §3.5, §5.8.3, §6.11,
 * §6.14.1, §7.2.3). */
struct seg_desc {
	enum seg_desc_kind kind;
	uint64_t base;       /* segments, LDT, TSS: 32-bit base (64-bit for system
			      * descriptors in IA-32e mode); 0 for gates */
	uint32_t limit;      /* byte-granular: raw limit scaled by G; 0 for gates */
	uint32_t raw_limit;  /* the 20-bit field */
	uint8_t type;        /* 4-bit type field */
	bool s;              /* 1: code/data, 0: system */
	uint8_t dpl;
	bool p, avl, l, db, g;
	/* gates */
	uint16_t gate_selector; /* target code segment; TSS for a task gate */
	uint64_t gate_offset;
	uint8_t gate_params; /* 16/32-bit call gate parameter count */
	uint8_t gate_ist;    /* 64-bit interrupt/trap gate IST index */
	uint64_t raw[2];     /* the descriptor as read (raw[1] = 0 for 8 bytes) */
};

/* Hidden part of a segment register (SDM Vol. 3A §3.4.3). */
struct seg_cache {
	uint16_t selector;
	uint64_t base;
	uint32_t limit;      /* byte-granular */
	uint8_t type;
	bool s;
	uint8_t dpl;
	bool p, l, db, g, avl;
	bool usable;         /* false after loading a null selector */
};

struct seg_dtr {
	uint64_t base;
	uint16_t limit;
};

struct seg_state {
	struct seg_cache sr[SEG_NREGS];
	struct seg_cache ldtr, tr;
	struct seg_dtr gdtr, idtr;
};

/* Operating mode as segmentation sees it (SDM Vol. 3A §2.2, §3.4.4). */
enum seg_mode {
	SEG_MODE_REAL = 0,      /* CR0.PE = 0 */
	SEG_MODE_PROTECTED = 1, /* CR0.PE = 1, IA32_EFER.LMA = 0 */
	SEG_MODE_COMPAT = 2,    /* LMA = 1, CS.L = 0 */
	SEG_MODE_64 = 3,        /* LMA = 1, CS.L = 1 */
};

/* How a code-segment selector reaches CS; each way has its own privilege
 * rules (SDM Vol. 3A §5.8; Vol. 2 JMP, CALL, RET, IRET, INT n). */
enum seg_cs_via {
	SEG_CS_JMP_CALL = 0, /* far JMP/CALL straight to a code segment (§5.8.1) */
	SEG_CS_GATE_JMP = 1, /* JMP through a call gate (§5.8.4, Table 5-1) */
	SEG_CS_GATE_CALL = 2,/* CALL through a call gate (§5.8.4) */
	SEG_CS_INT = 3,      /* interrupt/trap gate target (§6.12.1.1) */
	SEG_CS_RET = 4,      /* far RET (§5.8.6) */
	SEG_CS_IRET = 5,     /* IRET to protected/compatibility/64-bit code */
};

/* What a far JMP/CALL selector names (Vol. 2 JMP, CALL). */
enum seg_far_kind {
	SEG_FAR_CODE = 0,      /* load CS directly: seg_commit_cs */
	SEG_FAR_CALL_GATE = 1, /* then seg_check_cs(gate_selector, SEG_CS_GATE_*) */
	SEG_FAR_TASK_GATE = 2, /* task switch through gate_selector (legacy only) */
	SEG_FAR_TSS = 3,       /* task switch to this TSS (legacy only) */
};

struct seg_far_target {
	enum seg_far_kind kind;
	struct seg_desc desc;  /* the code segment, gate or TSS descriptor */
};

static inline unsigned seg_sel_rpl(uint16_t sel) { return sel & SEL_RPL_MASK; }
static inline unsigned seg_sel_index(uint16_t sel) { return sel >> SEL_INDEX_SHIFT; }
/* Null selector: index 0 in the GDT, any RPL (SDM Vol. 3A §3.4.2). A
 * selector with TI = 1 and index 0 names LDT entry 0 and is not null. */
static inline bool seg_sel_is_null(uint16_t sel) { return (sel & SEL_ERROR_MASK) == 0; }

/* Decode one descriptor. lo/hi are the two 8-byte halves (hi is read only
 * for system descriptors in IA-32e mode, which are 16 bytes). Types that do
 * not exist in the mode decode as DESC_INVALID (§3.5 Table 3-2). */
void seg_decode(uint64_t lo, uint64_t hi, bool ia32e, struct seg_desc *d);

/* Real/protected/compatibility/64-bit mode from CR0.PE, IA32_EFER.LMA and
 * the CS cache's L bit. */
enum seg_mode seg_mode(const struct mmu *m);

/* Segment registers as after RESET/INIT (SDM Vol. 3A §9.1.1, Table 9-1). */
void seg_reset(struct seg_state *s);

/* Read and decode the descriptor sel names in the GDT or LDT. want16: the
 * caller accepts a system descriptor (LLDT, LTR, far JMP/CALL target), so in
 * IA-32e mode a system descriptor is read as 16 bytes, all of them within
 * the table limit and with a zero upper type field; otherwise 8 bytes are
 * read and hi is taken as 0. Faults: descriptor beyond the GDTR/LDTR limit,
 * TI = 1 with an unusable LDTR, non-zero upper type → #GP(sel); #PF from the
 * read. The null check is the caller's (its fault differs per instruction). */
MMU_WUR bool seg_read_descriptor(struct mmu *m, uint16_t sel, bool want16, struct seg_desc *d,
				 struct mmu_fault *f);

/* MOV/POP Sreg, LDS/LES/LFS/LGS/LSS: load SS, DS, ES, FS or GS with every
 * check of Vol. 2 MOV and Vol. 3A §5.6, §5.7, set the descriptor's accessed
 * bit (§3.4.5.1) and fill the cache. cpl is the privilege level the load is
 * checked against (the new CPL on a return to an outer level). In real mode
 * only the selector and base (selector << 4) change. SEG_CS → #UD (MOV CS). */
MMU_WUR bool seg_load(struct mmu *m, enum seg_reg r, uint16_t sel, unsigned cpl,
		      struct mmu_fault *f);

/* Check sel as a new CS reached via `via` from privilege level cpl, and set
 * the descriptor's accessed bit; the cache is not changed. Returns the
 * descriptor for seg_commit_cs. null → #GP(0); beyond limit, not code,
 * L = D = 1 in IA-32e mode, privilege rules of via → #GP(sel); gate/INT
 * targets in IA-32e mode must be 64-bit code → #GP(sel); not present →
 * #NP(sel). */
MMU_WUR bool seg_check_cs(struct mmu *m, uint16_t sel, unsigned cpl, enum seg_cs_via via,
			  struct seg_desc *d, struct mmu_fault *f);
/* The CPL after a CS load via `via` (RPL for returns; DPL for a call or
 * interrupt through a gate to non-conforming code; otherwise unchanged). */
unsigned seg_cs_new_cpl(enum seg_cs_via via, uint16_t sel, unsigned cpl, const struct seg_desc *d);
/* Fill the CS cache from a checked descriptor; CS.RPL becomes new_cpl. */
void seg_commit_cs(struct mmu *m, uint16_t sel, const struct seg_desc *d, unsigned new_cpl);
/* seg_check_cs, then seg_commit_cs with seg_cs_new_cpl. */
MMU_WUR bool seg_load_cs(struct mmu *m, uint16_t sel, unsigned cpl, enum seg_cs_via via,
			 struct mmu_fault *f);

/* Read and classify a far JMP/CALL target (Vol. 2 JMP, CALL). A code
 * segment gets the SEG_CS_JMP_CALL checks and its accessed bit (commit it
 * with seg_commit_cs after pushing the return address). A call gate, task
 * gate or TSS gets its DPL checks (DPL ≥ CPL and DPL ≥ RPL → else #GP(sel);
 * a busy TSS → #GP(sel)) and present check (#NP(sel)); the decoded gate is
 * returned for the transfer. null → #GP(0); anything else, or a task
 * gate/TSS in IA-32e mode → #GP(sel). */
MMU_WUR bool seg_far_target(struct mmu *m, uint16_t sel, unsigned cpl, struct seg_far_target *t,
			    struct mmu_fault *f);

/* On a return to an outer privilege level: DS, ES, FS and GS holding data
 * or non-conforming code with DPL < new_cpl become null (Vol. 2 RET, IRET). */
void seg_drop_inaccessible(struct mmu *m, unsigned new_cpl);

/* LLDT (Vol. 2 LLDT). Real mode → #UD; CPL ≠ 0 → #GP(0); null → LDTR
 * unusable; TI = 1, not an LDT descriptor → #GP(sel); not present →
 * #NP(sel). 16-byte descriptor in IA-32e mode. */
MMU_WUR bool seg_lldt(struct mmu *m, uint16_t sel, unsigned cpl, struct mmu_fault *f);
/* LTR (Vol. 2 LTR). Real mode → #UD; CPL ≠ 0, null → #GP(0); TI = 1, not
 * an available TSS of this mode → #GP(sel); not present → #NP(sel). Sets
 * the busy bit in the descriptor in memory and in TR's cache. */
MMU_WUR bool seg_ltr(struct mmu *m, uint16_t sel, unsigned cpl, struct mmu_fault *f);
/* Fill TR's cache from d, a TSS descriptor a task switch checked and
 * marked busy (SDM Vol. 3A §7.3 step 10); the caller wrote the busy flag
 * in memory. */
void seg_commit_tr(struct mmu *m, uint16_t sel, const struct seg_desc *d);

/* Read the IDT gate for vector (8 bytes, 16 in IA-32e mode; SDM Vol. 3A
 * §6.10, §6.11, §6.14.1). Beyond the IDTR limit, or not a gate the mode
 * allows in the IDT (legacy: task, 16/32-bit interrupt and trap gates;
 * IA-32e: 64-bit interrupt and trap gates) → #GP(vector * 8 + 2 + ext). The
 * present bit is checked by seg_check_idt_gate. */
MMU_WUR bool seg_read_idt_gate(struct mmu *m, uint8_t vector, bool ext, struct seg_desc *g,
			       struct mmu_fault *f);
/* Protection checks on a gate from seg_read_idt_gate, in the SDM's order
 * (§6.12.1.1): a software interrupt (INT n, INT3, INTO) through a gate with
 * DPL < CPL → #GP(vector * 8 + 2); not present → #NP(vector * 8 + 2 + ext). */
MMU_WUR bool seg_check_idt_gate(const struct seg_desc *g, uint8_t vector, bool ext, bool software,
				unsigned cpl, struct mmu_fault *f);

/* Translate a logical address (segment r, offset) for an access of size
 * bytes (size ≥ 1) of the given kind (an enum mmu_access_kind value:
 * ACC_READ, ACC_WRITE, ACC_FETCH) into a linear address, with the checks of
 * SDM Vol. 3A §5.3 (limits), §5.4 (types), §3.4.4 and Vol. 1 §3.3.7.1
 * (64-bit mode canonical form). Faults are #GP(0), or #SS(0) for SS; real
 * mode pushes no error code. The caller passes offset already truncated to
 * the address size. */
MMU_WUR bool seg_linear(struct mmu *m, enum seg_reg r, uint64_t offset, unsigned size,
			enum mmu_access_kind kind, uint64_t *la, struct mmu_fault *f);

#endif
