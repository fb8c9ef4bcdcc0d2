/* Reference model of x86 paging (see ref_paging.h), from Intel SDM Vol. 3A
 * chapter 4. Section and table numbers are those of the SDM.
 *
 * Layout of this file: the bits it reads, memory, a walk per paging mode
 * (each entry written out as its table describes it), then the access
 * decision of §4.6 and the error code of §4.7.
 */
#include "tests/ref_paging.h"

#include <stdio.h>

/* ---- bits the reference reads, named from the SDM ------------------------ */

static uint64_t ref_bit(unsigned n)
{
	return UINT64_C(1) << n;
}

/* Bits hi:lo set (empty when hi < lo). */
static uint64_t ref_bits(unsigned hi, unsigned lo)
{
	uint64_t v = 0;
	for (unsigned b = lo; b <= hi && b < 64; b++)
		v |= ref_bit(b);
	return v;
}

/* Linear-address bits hi:lo, shifted down to bit 0. */
static uint64_t ref_la_field(uint64_t la, unsigned hi, unsigned lo)
{
	return (la >> lo) & (ref_bits(hi, lo) >> lo);
}

/* Control registers (§2.5) and IA32_EFER (§2.2.1). */
#define CR0_PG_BIT 31
#define CR0_WP_BIT 16
#define CR4_PSE_BIT 4
#define CR4_PAE_BIT 5
#define CR4_LA57_BIT 12
#define CR4_SMEP_BIT 20
#define CR4_SMAP_BIT 21
#define CR4_PKE_BIT 22
#define EFER_LMA_BIT 10
#define EFER_NXE_BIT 11

/* Paging-structure entries: the bits with the same meaning in every mode
 * (Tables 4-4 … 4-20). */
#define ENTRY_P_BIT 0
#define ENTRY_RW_BIT 1
#define ENTRY_US_BIT 2
#define ENTRY_A_BIT 5
#define ENTRY_D_BIT 6
#define ENTRY_PS_BIT 7
#define ENTRY_XD_BIT 63     /* PAE and IA-32e paging only */
#define ENTRY_PKEY_LO 59    /* IA-32e paging, bits 62:59 of the entry that maps the page */
#define ENTRY_PKEY_HI 62

static bool has(uint64_t v, unsigned bit)
{
	return (v >> bit) & 1;
}

/* ---- memory --------------------------------------------------------------- */

uint64_t ref_mem_read(const struct ref_mem *mem, uint64_t pa, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		uint64_t a = pa + i;
		uint64_t byte = a < mem->size ? mem->ram[a] : 0xff;
		v |= byte << (8 * i);
	}
	return v;
}

/* ---- the walk state --------------------------------------------------------
 * While walking, the reference remembers three facts about the entries seen
 * so far, exactly the facts §4.6 phrases its rules in:
 *   - "the U/S flag is 0 in at least one paging-structure entry"
 *   - "the R/W flag is 0 in at least one paging-structure entry"
 *   - "the XD flag is 1 in at least one paging-structure entry"
 */
struct walk {
	const struct ref_cpu *cpu;
	const struct ref_mem *mem;
	const struct ref_access *acc;
	struct ref_result *res;
	uint64_t la;
	bool some_us_clear;
	bool some_rw_clear;
	bool some_xd_set;
};

enum paging_mode { MODE_NONE, MODE_32BIT, MODE_PAE, MODE_4LEVEL, MODE_5LEVEL };

/* Table 4-1 / §4.1.1: the mode follows CR0.PG, CR4.PAE, IA32_EFER.LMA and
 * CR4.LA57. */
static enum paging_mode ref_mode(const struct ref_cpu *c)
{
	if (!has(c->cr0, CR0_PG_BIT))
		return MODE_NONE;
	if (!has(c->cr4, CR4_PAE_BIT))
		return MODE_32BIT;
	if (!has(c->efer, EFER_LMA_BIT))
		return MODE_PAE;
	return has(c->cr4, CR4_LA57_BIT) ? MODE_5LEVEL : MODE_4LEVEL;
}

static bool ref_ia32e(const struct ref_cpu *c)
{
	enum paging_mode m = ref_mode(c);
	return m == MODE_4LEVEL || m == MODE_5LEVEL;
}

/* §4.6.1: execute-disable is in effect with PAE or IA-32e paging when
 * IA32_EFER.NXE = 1. */
static bool ref_xd_in_effect(const struct ref_cpu *c)
{
	enum paging_mode m = ref_mode(c);
	return m != MODE_NONE && m != MODE_32BIT && has(c->efer, EFER_NXE_BIT);
}

/* A user-mode access: CPL 3 and not an implicit supervisor-mode access (§4.6). */
static bool ref_user_access(const struct ref_access *a)
{
	return a->cpl == 3 && !a->implicit;
}

/* ---- error code (§4.7) ----------------------------------------------------- */

/* The bits that describe the access rather than the cause. */
static uint32_t ref_ec_access_bits(const struct walk *w)
{
	const struct ref_cpu *c = w->cpu;
	uint32_t ec = 0;
	/* W/R: "the access causing the page-fault exception was a write". */
	if (w->acc->kind == REF_WRITE)
		ec |= REF_EC_WR;
	/* U/S: "a user-mode access caused the page-fault exception". */
	if (ref_user_access(w->acc))
		ec |= REF_EC_US;
	/* I/D: an instruction fetch, reported only if CR4.SMEP = 1, or if
	 * CR4.PAE = 1 (PAE, 4-level or 5-level paging) and IA32_EFER.NXE = 1. */
	if (w->acc->kind == REF_FETCH &&
	    (has(c->cr4, CR4_SMEP_BIT) || (has(c->cr4, CR4_PAE_BIT) && has(c->efer, EFER_NXE_BIT))))
		ec |= REF_EC_ID;
	return ec;
}

static void ref_page_fault(struct walk *w, uint32_t cause)
{
	w->res->outcome = REF_PF;
	w->res->error_code = cause | ref_ec_access_bits(w);
	w->res->cr2 = w->la;
}

/* ---- reading one entry ----------------------------------------------------- */

/* Read the entry at pa for level and record it. */
static uint64_t ref_read_entry(struct walk *w, unsigned level, uint64_t pa, unsigned bytes)
{
	struct ref_entry *e = &w->res->entry[w->res->nentries++];
	e->level = level;
	e->reg = false;
	e->pa = pa;
	e->bytes = bytes;
	e->value = ref_mem_read(w->mem, pa, bytes);
	e->set = 0;
	return e->value;
}

/* P = 0: "the fault was caused by a non-present page" (error code P = 0).
 * Returns true if the walk may go on. */
static bool ref_present(struct walk *w, uint64_t entry)
{
	if (has(entry, ENTRY_P_BIT))
		return true;
	ref_page_fault(w, 0);
	return false;
}

/* A reserved bit set in a present entry: #PF with P = 1 and RSVD = 1
 * (§4.7; reserved bits are only checked in present entries). */
static bool ref_reserved_clear(struct walk *w, uint64_t entry, uint64_t reserved)
{
	if (!(entry & reserved))
		return true;
	ref_page_fault(w, REF_EC_P | REF_EC_RSVD);
	return false;
}

/* Fold the rights of one entry into the walk (§4.6: "in every
 * paging-structure entry controlling the translation"). */
static void ref_note_rights(struct walk *w, uint64_t entry)
{
	if (!has(entry, ENTRY_US_BIT))
		w->some_us_clear = true;
	if (!has(entry, ENTRY_RW_BIT))
		w->some_rw_clear = true;
	if (ref_xd_in_effect(w->cpu) && has(entry, ENTRY_XD_BIT))
		w->some_xd_set = true;
}

/* Physical-address bits hi..lo below MAXPHYADDR: M-1:lo. */
static uint64_t ref_addr_field(const struct ref_cpu *c, unsigned lo)
{
	return ref_bits(c->maxphyaddr - 1, lo);
}

static void ref_decide(struct walk *w, uint64_t leaf);

/* The walk reached the entry that maps the page: record where it goes,
 * then apply the access rules. */
static void ref_map_page(struct walk *w, uint64_t leaf, uint64_t pa, unsigned page_shift)
{
	w->res->pa = pa;
	w->res->page_shift = page_shift;
	ref_decide(w, leaf);
}

/* ---- 32-bit paging (§4.3) --------------------------------------------------- */

static void ref_walk_32bit(struct walk *w)
{
	const struct ref_cpu *c = w->cpu;
	uint64_t la = w->la;

	/* Table 4-3: CR3 bits 31:12 hold the page directory's address. The PDE
	 * is selected by linear-address bits 31:22. */
	uint64_t pd = c->cr3 & ref_bits(31, 12);
	uint64_t pde = ref_read_entry(w, 2, pd + ref_la_field(la, 31, 22) * 4, 4);
	if (!ref_present(w, pde))
		return;

	if (has(c->cr4, CR4_PSE_BIT) && has(pde, ENTRY_PS_BIT)) {
		/* Table 4-4, a 4-MByte page. Bits 31:22 are physical-address bits
		 * 31:22; bits 20:13 are physical-address bits 39:32 (PSE-36), of
		 * which only those below MAXPHYADDR (at most 40 with 32-bit paging)
		 * exist, the rest are reserved; bit 21 is reserved. */
		unsigned m = c->maxphyaddr < 40 ? c->maxphyaddr : 40;
		uint64_t reserved = ref_bit(21) | ref_bits(20, 13 + (m - 32));
		if (!ref_reserved_clear(w, pde, reserved))
			return;
		ref_note_rights(w, pde);
		uint64_t high = ref_la_field(pde, 20, 13);
		uint64_t pa = (pde & ref_bits(31, 22)) | high << 32 | ref_la_field(la, 21, 0);
		ref_map_page(w, pde, pa, 22);
		return;
	}

	/* Table 4-5: a PDE that references a page table (bits 31:12). With
	 * CR4.PSE = 0, bit 7 is ignored. No bit of it is reserved. */
	ref_note_rights(w, pde);
	uint64_t pt = pde & ref_bits(31, 12);
	/* Table 4-6: the PTE, selected by linear-address bits 21:12. */
	uint64_t pte = ref_read_entry(w, 1, pt + ref_la_field(la, 21, 12) * 4, 4);
	if (!ref_present(w, pte))
		return;
	ref_note_rights(w, pte);
	ref_map_page(w, pte, (pte & ref_bits(31, 12)) | ref_la_field(la, 11, 0), 12);
}

/* ---- PAE paging (§4.4) ------------------------------------------------------ */

/* Table 4-8: PDPTE bits 2:1, 8:5 and 63:M are reserved. */
static uint64_t ref_pae_pdpte_reserved(unsigned maxphyaddr)
{
	return ref_bits(2, 1) | ref_bits(8, 5) | ref_bits(63, maxphyaddr);
}

bool ref_load_pdptes(const struct ref_mem *mem, uint64_t cr3, unsigned maxphyaddr,
		     uint64_t pdpte[4])
{
	/* Table 4-7: CR3 bits 31:5 hold the PDPT's address. */
	uint64_t pdpt = cr3 & ref_bits(31, 5);
	bool ok = true;
	for (unsigned i = 0; i < 4; i++) {
		pdpte[i] = ref_mem_read(mem, pdpt + 8 * i, 8);
		if (has(pdpte[i], ENTRY_P_BIT) && (pdpte[i] & ref_pae_pdpte_reserved(maxphyaddr)))
			ok = false;
	}
	return ok;
}

/* Tables 4-9 … 4-11: bits 62:M are reserved in every PAE PDE and PTE, and
 * bit 63 too unless IA32_EFER.NXE = 1 (then it is XD). */
static uint64_t ref_pae_reserved_common(const struct ref_cpu *c)
{
	uint64_t r = ref_bits(62, c->maxphyaddr);
	if (!has(c->efer, EFER_NXE_BIT))
		r |= ref_bit(ENTRY_XD_BIT);
	return r;
}

static void ref_walk_pae(struct walk *w)
{
	const struct ref_cpu *c = w->cpu;
	uint64_t la = w->la;

	/* §4.4.1: linear-address bits 31:30 select one of the four PDPTE
	 * registers, loaded when CR3 was. They control no access rights
	 * (§4.4.2: the PDPTEs have no R/W, U/S or XD flags). */
	unsigned i = (unsigned)ref_la_field(la, 31, 30);
	struct ref_entry *reg = &w->res->entry[w->res->nentries++];
	reg->level = 3;
	reg->reg = true;
	reg->pa = (c->cr3 & ref_bits(31, 5)) + 8 * i;
	reg->bytes = 8;
	reg->value = c->pdpte[i];
	reg->set = 0;
	if (!ref_present(w, reg->value))
		return;

	/* Table 4-8: PDPTE bits M-1:12 locate the page directory; the PDE is
	 * selected by linear-address bits 29:21. */
	uint64_t pd = reg->value & ref_addr_field(c, 12);
	uint64_t pde = ref_read_entry(w, 2, pd + ref_la_field(la, 29, 21) * 8, 8);
	if (!ref_present(w, pde))
		return;
	if (has(pde, ENTRY_PS_BIT)) {
		/* Table 4-9, a 2-MByte page: bits 20:13 are reserved besides the
		 * common ones; bits M-1:21 are the page's address. */
		if (!ref_reserved_clear(w, pde, ref_pae_reserved_common(c) | ref_bits(20, 13)))
			return;
		ref_note_rights(w, pde);
		ref_map_page(w, pde, (pde & ref_addr_field(c, 21)) | ref_la_field(la, 20, 0), 21);
		return;
	}
	/* Table 4-10: a PDE that references a page table. */
	if (!ref_reserved_clear(w, pde, ref_pae_reserved_common(c)))
		return;
	ref_note_rights(w, pde);
	uint64_t pt = pde & ref_addr_field(c, 12);

	/* Table 4-11: the PTE, selected by linear-address bits 20:12. */
	uint64_t pte = ref_read_entry(w, 1, pt + ref_la_field(la, 20, 12) * 8, 8);
	if (!ref_present(w, pte))
		return;
	if (!ref_reserved_clear(w, pte, ref_pae_reserved_common(c)))
		return;
	ref_note_rights(w, pte);
	ref_map_page(w, pte, (pte & ref_addr_field(c, 12)) | ref_la_field(la, 11, 0), 12);
}

/* ---- 4-level and 5-level paging (§4.5) -------------------------------------- */

/* Tables 4-14 … 4-20: bits 51:M are reserved in every entry, and bit 63
 * unless IA32_EFER.NXE = 1 (§4.5.4, "If IA32_EFER.NXE = 0 and the P flag of
 * a paging-structure entry is 1, the XD flag (bit 63) is reserved"). Bits
 * 62:52 are ignored (62:59 hold the protection key with CR4.PKE). */
static uint64_t ref_ia32e_reserved_common(const struct ref_cpu *c)
{
	uint64_t r = ref_bits(51, c->maxphyaddr);
	if (!has(c->efer, EFER_NXE_BIT))
		r |= ref_bit(ENTRY_XD_BIT);
	return r;
}

/* A PML5E (Table 4-14) or PML4E (Table 4-15): bit 7 is reserved, bits M-1:12
 * locate the next table. Returns false if the walk stopped here. */
static bool ref_ia32e_upper(struct walk *w, unsigned level, uint64_t table, uint64_t index,
			    uint64_t *next)
{
	uint64_t e = ref_read_entry(w, level, table + index * 8, 8);
	if (!ref_present(w, e))
		return false;
	if (!ref_reserved_clear(w, e, ref_ia32e_reserved_common(w->cpu) | ref_bit(ENTRY_PS_BIT)))
		return false;
	ref_note_rights(w, e);
	*next = e & ref_addr_field(w->cpu, 12);
	return true;
}

static void ref_walk_ia32e(struct walk *w, bool five_level)
{
	const struct ref_cpu *c = w->cpu;
	uint64_t la = w->la;
	uint64_t common = ref_ia32e_reserved_common(c);

	/* Tables 4-12/4-13: CR3 bits M-1:12 locate the top table (bits 11:0
	 * are flags, or the PCID with CR4.PCIDE = 1). */
	uint64_t table = c->cr3 & ref_addr_field(c, 12);

	/* PML5E (5-level paging only): linear-address bits 56:48. */
	if (five_level && !ref_ia32e_upper(w, 5, table, ref_la_field(la, 56, 48), &table))
		return;
	/* PML4E: linear-address bits 47:39. */
	if (!ref_ia32e_upper(w, 4, table, ref_la_field(la, 47, 39), &table))
		return;

	/* PDPTE: linear-address bits 38:30. */
	uint64_t pdpte = ref_read_entry(w, 3, table + ref_la_field(la, 38, 30) * 8, 8);
	if (!ref_present(w, pdpte))
		return;
	if (has(pdpte, ENTRY_PS_BIT)) {
		/* Table 4-16, a 1-GByte page: bits 29:13 are reserved; bits
		 * M-1:30 are the page's address (bit 12 is PAT). */
		if (!ref_reserved_clear(w, pdpte, common | ref_bits(29, 13)))
			return;
		ref_note_rights(w, pdpte);
		ref_map_page(w, pdpte, (pdpte & ref_addr_field(c, 30)) | ref_la_field(la, 29, 0), 30);
		return;
	}
	/* Table 4-17: a PDPTE that references a page directory. */
	if (!ref_reserved_clear(w, pdpte, common))
		return;
	ref_note_rights(w, pdpte);
	table = pdpte & ref_addr_field(c, 12);

	/* PDE: linear-address bits 29:21. */
	uint64_t pde = ref_read_entry(w, 2, table + ref_la_field(la, 29, 21) * 8, 8);
	if (!ref_present(w, pde))
		return;
	if (has(pde, ENTRY_PS_BIT)) {
		/* Table 4-18, a 2-MByte page: bits 20:13 are reserved. */
		if (!ref_reserved_clear(w, pde, common | ref_bits(20, 13)))
			return;
		ref_note_rights(w, pde);
		ref_map_page(w, pde, (pde & ref_addr_field(c, 21)) | ref_la_field(la, 20, 0), 21);
		return;
	}
	/* Table 4-19: a PDE that references a page table. */
	if (!ref_reserved_clear(w, pde, common))
		return;
	ref_note_rights(w, pde);
	table = pde & ref_addr_field(c, 12);

	/* Table 4-20: the PTE, linear-address bits 20:12. */
	uint64_t pte = ref_read_entry(w, 1, table + ref_la_field(la, 20, 12) * 8, 8);
	if (!ref_present(w, pte))
		return;
	if (!ref_reserved_clear(w, pte, common))
		return;
	ref_note_rights(w, pte);
	ref_map_page(w, pte, (pte & ref_addr_field(c, 12)) | ref_la_field(la, 11, 0), 12);
}

/* ---- access rights (§4.6.1, §4.6.2) ------------------------------------------ */

/* Protection keys apply with IA-32e paging and CR4.PKE = 1, to data
 * accesses to user-mode addresses (§4.6.2). */
static bool ref_pkeys_apply(const struct ref_cpu *c)
{
	return ref_ia32e(c) && has(c->cr4, CR4_PKE_BIT);
}

static unsigned ref_leaf_pkey(const struct ref_cpu *c, uint64_t leaf)
{
	return ref_pkeys_apply(c) ? (unsigned)ref_la_field(leaf, ENTRY_PKEY_HI, ENTRY_PKEY_LO) : 0;
}

/* §4.6.2: PKRU bit 2i is ADi (access disable), bit 2i+1 WDi (write disable). */
static bool ref_pkru_ad(const struct ref_cpu *c, unsigned key)
{
	return (c->pkru >> (2 * key)) & 1;
}

static bool ref_pkru_wd(const struct ref_cpu *c, unsigned key)
{
	return (c->pkru >> (2 * key + 1)) & 1;
}

/* "a user-mode address with a protection key for which read access is
 * permitted": ADi = 0 (§4.6.2). */
static bool ref_pkey_permits_read(const struct ref_cpu *c, unsigned key)
{
	return !ref_pkeys_apply(c) || !ref_pkru_ad(c, key);
}

/* Write access is permitted for key i unless ADi = 1, or WDi = 1 and the
 * access is a user-mode access or CR0.WP = 1 (§4.6.2). */
static bool ref_pkey_permits_write(const struct ref_cpu *c, unsigned key, bool user_access)
{
	if (!ref_pkeys_apply(c))
		return true;
	if (ref_pkru_ad(c, key))
		return false;
	return !(ref_pkru_wd(c, key) && (user_access || has(c->cr0, CR0_WP_BIT)));
}

/* Supervisor-mode accesses (§4.6.1, first list). */
static bool ref_supervisor_allows(const struct walk *w, bool user_address, unsigned key)
{
	const struct ref_cpu *c = w->cpu;
	const struct ref_access *a = w->acc;
	bool wp = has(c->cr0, CR0_WP_BIT), smap = has(c->cr4, CR4_SMAP_BIT);
	/* Explicit supervisor-mode accesses are those made at CPL < 3 that
	 * are not implicit. */
	bool explicit_with_ac = !a->implicit && a->cpl < 3 && a->ac;

	switch (a->kind) {
	case REF_READ:
		/* "Data may be read (implicitly or explicitly) from any
		 * supervisor-mode address." */
		if (!user_address)
			return true;
		/* From a user-mode address: with CR4.SMAP = 1 only explicitly
		 * with EFLAGS.AC = 1; and the key must permit reading. */
		if (smap && !explicit_with_ac)
			return false;
		return ref_pkey_permits_read(c, key);

	case REF_WRITE:
		if (!user_address) {
			/* CR0.WP = 0: any supervisor-mode address. CR0.WP = 1:
			 * only with R/W = 1 in every entry. */
			return !wp || !w->some_rw_clear;
		}
		if (smap && !explicit_with_ac)
			return false;
		if (wp && w->some_rw_clear)
			return false;
		return ref_pkey_permits_write(c, key, false);

	case REF_FETCH:
		/* From a user-mode address: never with CR4.SMEP = 1. */
		if (user_address && has(c->cr4, CR4_SMEP_BIT))
			return false;
		/* IA32_EFER.NXE = 0: any address; NXE = 1: XD = 0 in every
		 * entry. (some_xd_set is only ever true when XD is in effect.) */
		return !w->some_xd_set;
	}
	return false;
}

/* User-mode accesses (§4.6.1, second list): user-mode addresses only. */
static bool ref_user_allows(const struct walk *w, bool user_address, unsigned key)
{
	const struct ref_cpu *c = w->cpu;
	if (!user_address)
		return false;
	switch (w->acc->kind) {
	case REF_READ:
		return ref_pkey_permits_read(c, key);
	case REF_WRITE:
		/* R/W = 1 in every entry, whatever CR0.WP. */
		return !w->some_rw_clear && ref_pkey_permits_write(c, key, true);
	case REF_FETCH:
		return !w->some_xd_set;
	}
	return false;
}

/* §4.7, PK: set when IA32_EFER.LMA = CR4.PKE = 1, the access is a data
 * access to a user-mode address with key i, and PKRU has ADi = 1, or WDi = 1
 * for a write that is a user-mode access or made with CR0.WP = 1. */
static bool ref_pk_flag(const struct walk *w, bool user_address, unsigned key)
{
	const struct ref_cpu *c = w->cpu;
	const struct ref_access *a = w->acc;
	if (!ref_pkeys_apply(c) || a->kind == REF_FETCH || !user_address)
		return false;
	if (ref_pkru_ad(c, key))
		return true;
	return a->kind == REF_WRITE && ref_pkru_wd(c, key) &&
	       (ref_user_access(a) || has(c->cr0, CR0_WP_BIT));
}

/* The translation is complete: allow it (and set A/D) or fault with P = 1. */
static void ref_decide(struct walk *w, uint64_t leaf)
{
	struct ref_result *res = w->res;
	/* §4.6: a user-mode address has U/S = 1 in every entry. */
	bool user_address = !w->some_us_clear;
	unsigned key = ref_leaf_pkey(w->cpu, leaf);
	bool allowed = ref_user_access(w->acc) ? ref_user_allows(w, user_address, key)
					       : ref_supervisor_allows(w, user_address, key);
	if (!allowed) {
		ref_page_fault(w, REF_EC_P | (ref_pk_flag(w, user_address, key) ? REF_EC_PK : 0));
		return;
	}
	res->outcome = REF_OK;
	res->pkey = key;
	/* §4.8: A in every entry used, D in the one that maps the page on a
	 * write. The last recorded entry is that one. */
	for (unsigned i = 0; i < res->nentries; i++) {
		struct ref_entry *e = &res->entry[i];
		if (e->reg)
			continue;
		e->set = ref_bit(ENTRY_A_BIT);
		if (i == res->nentries - 1 && w->acc->kind == REF_WRITE)
			e->set |= ref_bit(ENTRY_D_BIT);
	}
}

/* ---- entry point ------------------------------------------------------------ */

/* Vol. 1 §3.3.7.1: in IA-32e mode a linear address must be canonical, bits
 * 63:47 (63:56 with 5-level paging) all equal; otherwise #GP(0). */
static bool ref_canonical(uint64_t la, bool five_level)
{
	unsigned top = five_level ? 56 : 47;
	uint64_t upper = ref_la_field(la, 63, top);
	return upper == 0 || upper == ref_bits(63 - top, 0);
}

void ref_translate(const struct ref_cpu *cpu, const struct ref_mem *mem,
		   const struct ref_access *acc, struct ref_result *res)
{
	*res = (struct ref_result){.outcome = REF_OK};
	struct walk w = {.cpu = cpu, .mem = mem, .acc = acc, .res = res, .la = acc->la};
	enum paging_mode mode = ref_mode(cpu);

	switch (mode) {
	case MODE_NONE:
		/* §4.1.1: without paging, linear addresses are physical ones
		 * (32 bits: IA-32e mode needs paging). */
		res->pa = acc->la & ref_bits(31, 0);
		return;
	case MODE_32BIT:
		w.la = acc->la & ref_bits(31, 0);
		ref_walk_32bit(&w);
		return;
	case MODE_PAE:
		w.la = acc->la & ref_bits(31, 0);
		ref_walk_pae(&w);
		return;
	case MODE_4LEVEL:
	case MODE_5LEVEL:
		if (!ref_canonical(acc->la, mode == MODE_5LEVEL)) {
			res->outcome = REF_GP;
			res->error_code = 0;
			return;
		}
		ref_walk_ia32e(&w, mode == MODE_5LEVEL);
		return;
	}
}

/* ---- messages ---------------------------------------------------------------- */

const char *ref_error_code_str(uint32_t ec, char *buf, size_t len)
{
	static const char *const names[] = {"P", "W", "U", "RSVD", "I", "PK"};
	size_t n = 0;
	buf[0] = 0;
	for (unsigned b = 0; b < 6; b++) {
		if (!((ec >> b) & 1))
			continue;
		int k = snprintf(buf + n, len - n, "%s%s", n ? "|" : "", names[b]);
		if (k < 0 || (size_t)k >= len - n)
			break;
		n += (size_t)k;
	}
	if (!n)
		snprintf(buf, len, "0");
	return buf;
}

const char *ref_result_str(const struct ref_result *res, char *buf, size_t len)
{
	char ec[40];
	switch (res->outcome) {
	case REF_OK:
		snprintf(buf, len, "ok pa=%#llx", (unsigned long long)res->pa);
		break;
	case REF_PF:
		snprintf(buf, len, "#PF ec=%#x (%s) cr2=%#llx", res->error_code,
			 ref_error_code_str(res->error_code, ec, sizeof ec),
			 (unsigned long long)res->cr2);
		break;
	case REF_GP:
		snprintf(buf, len, "#GP(0)");
		break;
	}
	return buf;
}
