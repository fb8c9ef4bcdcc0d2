/* A reference model of x86 linear-address translation, for tests and the
 * fuzzer: given the control registers, physical memory and one access, say
 * whether the access is allowed or which page fault it raises (with its
 * exact error code), and which accessed/dirty flags it sets.
 *
 * It is written from the text of the Intel SDM Vol. 3A, chapter 4, and
 * shares nothing with mmu/: not its headers, not its bit names, not its
 * rights encoding. Each paging mode is written out entry by entry as the
 * SDM's entry-format tables describe it (Tables 4-3 … 4-20), and the access
 * decision follows the bullet lists of §4.6.1 and §4.6.2 one case at a
 * time. It is slow on purpose: no TLB, no caches, no precomputed tables.
 *
 * A/D rule (§4.8, as mmulab documents it): a translation that succeeds sets
 * A in every paging-structure entry it used and D in the entry that maps
 * the page when the access is a write; a translation that faults sets no
 * flag. The PAE PDPTE registers (§4.4.1) are not entries in memory and have
 * no A flag.
 */
#ifndef TESTS_REF_PAGING_H
#define TESTS_REF_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ref_kind { REF_READ = 0, REF_WRITE = 1, REF_FETCH = 2 };

/* One access as the instruction makes it. The reference derives user or
 * supervisor mode itself (§4.6): a user-mode access is one made at CPL 3
 * that is not an implicit supervisor-mode access. */
struct ref_access {
	uint64_t la;     /* outside IA-32e mode only bits 31:0 are used */
	enum ref_kind kind;
	unsigned cpl;    /* 0..3 */
	bool implicit;   /* implicit supervisor-mode access (GDT, IDT, TSS, ...) */
	bool ac;         /* RFLAGS.AC */
};

/* Physical memory: one RAM block at address 0. Outside it a read returns
 * all ones (nothing decodes the address) and a write goes nowhere. */
struct ref_mem {
	const uint8_t *ram;
	uint64_t size;
};

struct ref_cpu {
	uint64_t cr0, cr3, cr4, efer;
	uint32_t pkru;
	unsigned maxphyaddr;  /* M in the SDM's tables, 32..52 */
	uint64_t pdpte[4];    /* PAE paging: the PDPTE registers (ref_load_pdptes) */
};

enum ref_outcome { REF_OK = 0, REF_PF = 1, REF_GP = 2 };

/* The page-fault error code (§4.7, Figure 4-12), named here independently. */
#define REF_EC_P (1u << 0)
#define REF_EC_WR (1u << 1)
#define REF_EC_US (1u << 2)
#define REF_EC_RSVD (1u << 3)
#define REF_EC_ID (1u << 4)
#define REF_EC_PK (1u << 5)

#define REF_MAX_ENTRIES 5

struct ref_entry {
	unsigned level;   /* 5 PML5E, 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE */
	bool reg;         /* a PAE PDPTE register: no memory read, no A flag */
	uint64_t pa;      /* where the entry is (PAE: where the register was loaded from) */
	unsigned bytes;   /* 4 (32-bit paging) or 8 */
	uint64_t value;   /* as read */
	uint64_t set;     /* flags the translation sets in it (A, D); 0 on a fault */
};

struct ref_result {
	enum ref_outcome outcome;
	uint32_t error_code;  /* REF_PF: the error code; REF_GP: 0 */
	uint64_t cr2;         /* REF_PF: the faulting linear address */
	uint64_t pa;          /* REF_OK: the physical address */
	unsigned page_shift;  /* REF_OK with paging: 12, 21, 22 or 30 */
	unsigned pkey;        /* REF_OK: protection key of the page (0 where none) */
	unsigned nentries;    /* entries consulted, top level first */
	struct ref_entry entry[REF_MAX_ENTRIES];
};

/* Physical read of 1..8 bytes, little-endian, all ones outside RAM. */
uint64_t ref_mem_read(const struct ref_mem *mem, uint64_t pa, unsigned bytes);

/* Load the four PAE PDPTE registers from the PDPT that CR3 bits 31:5 locate
 * (§4.4.1). Returns false, as MOV to CR3 would raise #GP(0), if a present
 * PDPTE has a reserved bit set (Table 4-8); pdpte[] is filled either way. */
bool ref_load_pdptes(const struct ref_mem *mem, uint64_t cr3, unsigned maxphyaddr,
		     uint64_t pdpte[4]);

/* Translate one access. Never writes memory: the caller applies entry[].set
 * to predict memory afterwards. */
void ref_translate(const struct ref_cpu *cpu, const struct ref_mem *mem,
		   const struct ref_access *acc, struct ref_result *res);

/* "ok pa=0x... 4K", "#PF ec=0x7 (P W U)", "#GP(0)": for failure messages. */
const char *ref_result_str(const struct ref_result *res, char *buf, size_t len);
/* Error-code flags spelled out, e.g. "P|W|U|PK". */
const char *ref_error_code_str(uint32_t ec, char *buf, size_t len);

#endif
