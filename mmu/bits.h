/* Architectural bits and fields the MMU model reads, each named once.
 *
 * Sources: Intel SDM Vol. 3A §2.5 (control registers), §2.2.1 (IA32_EFER),
 * §4.3–§4.5 (paging-structure entries), §4.7 (page-fault error code),
 * §4.6.2 (PKRU).
 */
#ifndef MMU_BITS_H
#define MMU_BITS_H

#include <stdint.h>

#define BIT64(n) (UINT64_C(1) << (n))

/* CR0 (SDM Vol. 3A §2.5). */
#define CR0_PE BIT64(0)  /* protection enable */
#define CR0_MP BIT64(1)
#define CR0_EM BIT64(2)
#define CR0_TS BIT64(3)
#define CR0_ET BIT64(4)
#define CR0_NE BIT64(5)
#define CR0_WP BIT64(16) /* supervisor writes honour R/W (§4.6) */
#define CR0_AM BIT64(18)
#define CR0_NW BIT64(29)
#define CR0_CD BIT64(30)
#define CR0_PG BIT64(31) /* paging enable */

/* CR3: page-table base and PCID (SDM Vol. 3A §4.5, Table 4-12/4-13). */
#define CR3_PCID_MASK UINT64_C(0xfff)   /* bits 11:0 when CR4.PCIDE=1 */
#define CR3_PWT BIT64(3)
#define CR3_PCD BIT64(4)
#define CR3_NOFLUSH BIT64(63)           /* MOV to CR3 source bit 63 (§4.10.4.1) */
#define CR3_PAE_PDPT_MASK UINT64_C(0xffffffe0) /* PAE: PDPT at bits 31:5 (§4.4.1) */

/* CR4 (SDM Vol. 3A §2.5). */
#define CR4_VME BIT64(0)
#define CR4_PVI BIT64(1)
#define CR4_TSD BIT64(2)
#define CR4_DE BIT64(3)
#define CR4_PSE BIT64(4)   /* 4-MByte pages with 32-bit paging */
#define CR4_PAE BIT64(5)
#define CR4_MCE BIT64(6)
#define CR4_PGE BIT64(7)   /* global pages */
#define CR4_PCE BIT64(8)
#define CR4_OSFXSR BIT64(9)
#define CR4_OSXMMEXCPT BIT64(10)
#define CR4_UMIP BIT64(11)
#define CR4_LA57 BIT64(12) /* 5-level paging */
#define CR4_FSGSBASE BIT64(16)
#define CR4_PCIDE BIT64(17)
#define CR4_OSXSAVE BIT64(18)
#define CR4_SMEP BIT64(20)
#define CR4_SMAP BIT64(21)
#define CR4_PKE BIT64(22)

/* IA32_EFER (SDM Vol. 3A §2.2.1). */
#define EFER_SCE BIT64(0)
#define EFER_LME BIT64(8)
#define EFER_LMA BIT64(10)
#define EFER_NXE BIT64(11)

/* RFLAGS bits the MMU reads. */
#define RFLAGS_AC BIT64(18) /* alignment check / SMAP override (§4.6) */

/* Paging-structure entry bits common to every mode (SDM Vol. 3A
 * Tables 4-4 … 4-20).
 *
 *  63  62:59  58:52  51:M  M-1:12           11:9  8  7   6  5  4   3   2   1   0
 * +---+------+------+----+------------------+----+--+---+--+--+---+---+---+---+--+
 * |XD | PKEY | ign  |rsvd| frame / next tbl |ign |G |PS |D |A |PCD|PWT|U/S|R/W|P |
 * +---+------+------+----+------------------+----+--+---+--+--+---+---+---+---+--+
 */
#define PTE_P BIT64(0)    /* present */
#define PTE_RW BIT64(1)   /* writable */
#define PTE_US BIT64(2)   /* user */
#define PTE_PWT BIT64(3)
#define PTE_PCD BIT64(4)
#define PTE_A BIT64(5)    /* accessed */
#define PTE_D BIT64(6)    /* dirty (leaf only) */
#define PTE_PS BIT64(7)   /* page size (PDE/PDPTE); PAT in a 4-KByte PTE */
#define PTE_PAT4K BIT64(7)
#define PTE_G BIT64(8)    /* global (leaf only) */
#define PTE_PAT_LARGE BIT64(12) /* PAT in a 2M/4M/1G leaf */
#define PTE_PKEY_SHIFT 59 /* protection key, bits 62:59 (§4.6.2) */
#define PTE_PKEY_MASK (UINT64_C(0xf) << PTE_PKEY_SHIFT)
#define PTE_XD BIT64(63)  /* execute-disable (PAE and IA-32e paging) */

/* 32-bit paging, 4-MByte PDE (SDM Vol. 3A Table 4-4): physical-address
 * bits 39:32 are held in PDE bits 20:13 (PSE-36), bit 21 is reserved. */
#define PDE32_4M_HIGH_SHIFT 13
#define PDE32_4M_HIGH_BITS 8
#define PDE32_4M_RSVD21 BIT64(21)

/* Page-fault error code (SDM Vol. 3A §4.7, Figure 4-12). */
#define PFEC_P BIT64(0)    /* 0: not-present; 1: protection violation */
#define PFEC_WR BIT64(1)   /* write access */
#define PFEC_US BIT64(2)   /* user-mode access */
#define PFEC_RSVD BIT64(3) /* reserved bit set in a paging-structure entry */
#define PFEC_ID BIT64(4)   /* instruction fetch (with NXE under PAE/IA-32e, or SMEP) */
#define PFEC_PK BIT64(5)   /* protection-key violation */

/* Exception vectors the MMU reports (SDM Vol. 3A §6.3.1). */
enum {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
	VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11,
	VEC_SS = 12, VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17,
	VEC_MC = 18, VEC_XM = 19,
};

#endif
