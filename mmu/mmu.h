/* The MMU model: control state, translation, invalidation, statistics.
 *
 * mmu/ knows nothing about instructions. Its inputs are linear addresses, an
 * access context (kind, user/supervisor, SMAP override) and the control
 * state held here (CR0, CR3, CR4, IA32_EFER, PKRU). Every translation returns
 * its outcome and cycle cost as a value.
 *
 * Fast path: mmu_translate() probes the L1 TLB structures inline; a hit costs
 * a set index, a few tag compares and one permission-table lookup. Misses go
 * to mmu_translate_slow() (mmu/walk.c): L2 TLB, paging-structure caches, the
 * page walk timed through the data-cache model, A/D updates, fills.
 */
#ifndef MMU_MMU_H
#define MMU_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/bits.h"
#include "mmu/cache.h"
#include "mmu/events.h"
#include "mmu/access.h"
#include "mmu/fault.h"
#include "mmu/model.h"
#include "mmu/paging.h"
#include "mmu/phys.h"
#include "mmu/pwc.h"
#include "mmu/seg.h"
#include "mmu/tlb.h"


/* Where a translation came from. */
enum mmu_source { SRC_NOPAGING = 0, SRC_L1 = 1, SRC_L2 = 2, SRC_WALK = 3 };

struct mmu_xlate {
	uint64_t pa;
	union {
		struct {
			uint32_t cycles;    /* modelled cost of this translation */
			uint8_t source;     /* enum mmu_source */
			uint8_t size;       /* enum mmu_page_size mapped (walk) or held (TLB hit) */
			uint8_t walk_reads; /* paging-structure entries read */
			uint8_t pwc_level;  /* walk started below a PWC hit at this level (0: none) */
		};
		uint64_t meta;          /* the five above, stored at once by the fast path */
	};
	struct mmu_fault fault; /* valid when the translation failed */
};
/* The meta word's layout (little-endian): cycles in bytes 0..3, then
 * source, size, walk reads and PWC level. */
_Static_assert(offsetof(struct mmu_xlate, cycles) - offsetof(struct mmu_xlate, meta) == 0 &&
		       offsetof(struct mmu_xlate, source) - offsetof(struct mmu_xlate, meta) == 4 &&
		       offsetof(struct mmu_xlate, size) - offsetof(struct mmu_xlate, meta) == 5 &&
		       offsetof(struct mmu_xlate, walk_reads) - offsetof(struct mmu_xlate, meta) == 6 &&
		       offsetof(struct mmu_xlate, pwc_level) - offsetof(struct mmu_xlate, meta) == 7,
	       "struct mmu_xlate meta layout");
#define MMU_XLATE_META_SOURCE_SHIFT 32
#define MMU_XLATE_META_SIZE_SHIFT 40

/* The meta word of an L1 TLB hit costing cycles on a page of size: no
 * walk reads, no PWC level. Never 0 (SRC_L1 is not). */
static inline uint64_t mmu_xlate_l1_meta(uint32_t cycles, uint8_t size)
{
	return (uint64_t)cycles | (uint64_t)SRC_L1 << MMU_XLATE_META_SOURCE_SHIFT |
	       (uint64_t)size << MMU_XLATE_META_SIZE_SHIFT;
}

struct mmu_stats {
	uint64_t translations;   /* slow-path translations (fast hits are in tlb stats) */
	uint64_t walks;
	uint64_t walk_reads[6];  /* by level 1..5 */
	uint64_t walk_cache[CACHE_NLEVELS + 1]; /* walk reads served by L1D..DRAM */
	uint64_t ad_updates;
	uint64_t dirty_assists;  /* writes that hit a TLB entry with D = 0 */
	uint64_t faults_pf, faults_gp;
	uint64_t spurious_pf;    /* #PF reported from a stale TLB entry */
	uint64_t cycles;         /* translation cycles except fast-path hits (see mmu_stats_cycles) */
	uint64_t flushes;
};

struct mmu {
	struct phys phys;
	struct mmu_model model;

	/* Control state (architectural). */
	uint64_t cr0, cr3, cr4, efer;
	uint32_t pkru;
	uint64_t pdpte[4];        /* PAE PDPTE registers (§4.4.1) */

	/* Derived from control state by mmu_recompute(). */
	enum mmu_paging_mode mode;
	uint16_t pcid;            /* current PCID: CR3[11:0] if CR4.PCIDE, else 0 */
	bool pk_active;           /* IA-32e paging with CR4.PKE */
	bool fast_off;            /* no inline fast path: paging off, access observer or PKE */
	/* Set by differential tests and benchmarks only: every TLB miss takes
	 * the generic walk (walk.c), never the IA-32e fast path (walk_fast.c),
	 * which must give the same outcome, state, statistics and cycles. */
	bool walk_generic;
	uint16_t perm_ok[ACC_CONTEXTS];   /* bit r set: rights r allow this access */
	uint16_t perm_fast[ACC_CONTEXTS]; /* perm_ok minus writes needing a D update */
	uint64_t rsvd_table[6];   /* reserved bits of a non-leaf entry, by level */
	uint64_t rsvd_leaf[6];    /* reserved bits of a leaf (PS=1 at level >1) */
	uint64_t rsvd_ps[6];      /* IA-32e: reserved bits of an entry with bit 7 set, by level
				   * (a leaf at 3 and 2; PS itself at 5 and 4; PAT at 1) */
	uint64_t addr_mask;       /* frame bits for MAXPHYADDR, 51:12 clipped */
	/* Walk reads of 8 bytes at a pa below this are in RAM and timed
	 * through the data caches (walk_fast.c); 0 under flat walk timing. */
	uint64_t walk_read_limit;
	uint32_t l2_miss_latency; /* cycles to learn the L2 TLB missed: its largest latency */
	uint8_t fill_plan[TLB_NLEVELS][PG_NSIZES]; /* walk.c: structure << 4 | size filled per page size */

	struct tlb tlb[TLB_NLEVELS][MMU_MAX_TLBS_PER_LEVEL];
	unsigned ntlb[TLB_NLEVELS];
	struct pwc pwc[PWC_NKINDS];
	struct cache dcache;

	struct mmu_stats stats;
	const struct mmu_observer *obs; /* set with mmu_set_observer() */

	struct seg_state seg;     /* segment registers, descriptor tables */
};

/* Lifetime. ram_size in bytes (1 MiB .. 64 GiB, multiple of 4 KiB). */
MMU_WUR bool mmu_init(struct mmu *m, const struct mmu_model *model, uint64_t ram_size,
		      char *err, size_t errlen);
void mmu_free(struct mmu *m);

/* Load control state as at reset or trace start: no checks, every TLB, PWC
 * and cache entry dropped, PAE PDPTE registers loaded from memory. */
void mmu_set_control(struct mmu *m, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer);

/* Architectural writes with the SDM's checks (#GP) and flush rules
 * (§4.10.4.1). CR0 reads CS.L from the segment state (clearing PG in
 * 64-bit mode is #GP). */
MMU_WUR bool mmu_write_cr0(struct mmu *m, uint64_t v, struct mmu_fault *f);
MMU_WUR bool mmu_write_cr3(struct mmu *m, uint64_t v, struct mmu_fault *f);
MMU_WUR bool mmu_write_cr4(struct mmu *m, uint64_t v, struct mmu_fault *f);
MMU_WUR bool mmu_write_efer(struct mmu *m, uint64_t v, struct mmu_fault *f);
void mmu_write_pkru(struct mmu *m, uint32_t v);
/* Attach (or with NULL detach) the observer. */
void mmu_set_observer(struct mmu *m, const struct mmu_observer *obs);

MMU_WUR bool mmu_invlpg(struct mmu *m, uint64_t la, struct mmu_fault *f);
enum mmu_invpcid_type {
	INVPCID_ADDR = 0, INVPCID_SINGLE = 1, INVPCID_ALL_GLOBAL = 2, INVPCID_ALL_NONGLOBAL = 3,
};
MMU_WUR bool mmu_invpcid(struct mmu *m, uint64_t type, uint64_t pcid, uint64_t la,
			 struct mmu_fault *f);
/* Drop every TLB, PWC and data-cache entry (tests, model switches). */
void mmu_flush_all(struct mmu *m);

/* Linear-address width and canonical check for the current paging mode
 * (SDM Vol. 1 §3.3.7.1; 57 bits with LA57). */
#define MMU_LA_BITS_4LEVEL 48 /* linear-address width, CR4.LA57 = 0 (§4.5) */
#define MMU_LA_BITS_5LEVEL 57 /* CR4.LA57 = 1 */
static inline bool mmu_canonical(const struct mmu *m, uint64_t la)
{
	/* Bits 63:47 all equal: canonical with 48 and with 57 bits, no
	 * CR4 read needed (the common case); else only LA57 can save it. */
	if ((uint64_t)(((int64_t)la >> (MMU_LA_BITS_4LEVEL - 1)) + 1) <= 1)
		return true;
	return (m->cr4 & CR4_LA57) &&
	       (uint64_t)(((int64_t)la >> (MMU_LA_BITS_5LEVEL - 1)) + 1) <= 1;
}

MMU_WUR bool mmu_translate_slow(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x);
/* The same, after the inline fast path found no entry for la in the first
 * L1 structure's smallest size (it is not probed again) and checked that
 * bits 63:59 of la are all equal. */
MMU_WUR bool mmu_translate_miss(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x);

/* The inline path's hit in the second L1 structure t (entry e), counted
 * as walk_slow_path counts it: a miss in the first structure (skipped: it
 * holds nothing near la), a hit in the second, a slow-path translation
 * with its cycles. Out of line: inlined at every call site, the first
 * structure's hit loop kept its instruction count (callgrind: 49 per hit)
 * but ran at about 0.7x in alternating wall-clock runs. */
bool mmu_translate_second_hit(struct mmu *m, struct tlb *t, struct tlb_entry *e, uint64_t la,
			      struct mmu_xlate *x);

/* Probe one L1 structure's smallest size with its precomputed constants:
 * the first (second = false) or, where the first holds nothing near la,
 * the second. second is a constant at each call, so the first structure's
 * hit path carries no test of it. */
MMU_WUR static inline __attribute__((always_inline)) bool
mmu_translate_l1(struct mmu *m, struct tlb *t, uint64_t la, unsigned acc, struct mmu_xlate *x,
		 bool second)
{
	uint64_t vpn = la >> t->shift0;
	struct tlb_entry *e = &t->e[(vpn & t->set_mask) << t->way_shift];
	struct tlb_entry *end = e + t->ways;
	uint64_t key = vpn << TLB_KEY_VPN_SHIFT | t->key_low;
	uint64_t key_g = vpn << TLB_KEY_VPN_SHIFT | t->key_global;
	do {
		if (e->key != key && e->key != key_g)
			continue;
		if (MMU_UNLIKELY(!((m->perm_fast[acc] >> e->rights) & 1)))
			return mmu_translate_slow(m, la, acc, x);
		if (second)
			return mmu_translate_second_hit(m, t, e, la, x);
		t->st.fast_hits++;
		e->lru = ++t->clock;
		x->pa = e->pa | (la & t->offset_mask);
		x->meta = t->hit_meta;
		return true;
	} while (++e != end);
	return mmu_translate_miss(m, la, acc, x);
}

/* mmu_translate for an la the caller has found canonical (SDM Vol. 1
 * §3.3.7.1: bits 63:47, or 63:56 with LA57, all equal), or a 32-bit
 * linear address: bits 63:59 are then all equal, which is all the inline
 * probe needs, and mmu_translate's test of them is skipped. */
MMU_WUR static inline __attribute__((always_inline)) bool
mmu_translate_canonical(struct mmu *m, uint64_t la, unsigned acc, struct mmu_xlate *x)
{
	struct tlb *t = &m->tlb[(acc & ACC_KIND_MASK) == ACC_FETCH ? TLB_L1I : TLB_L1D][0];
	if (MMU_UNLIKELY(m->fast_off))
		return mmu_translate_slow(m, la, acc, x);
	/* L1, first structure, its smallest page size: the common case.
	 * Statistics: one count; its cycles are fast_hits x latency. Where
	 * the first structure holds nothing in la's 2 MiB region
	 * bucket it cannot hit, so the next structure's smallest size (2M
	 * pages: a kernel's direct map) is probed here instead; the hit is
	 * counted as the generic path counts it (a miss in the first
	 * structure, a hit in the second). */
	if (MMU_UNLIKELY(!t->region[tlb_region(la)])) {
		if (!t->has_next || !(t[1].live & PG_SIZE_BIT(t[1].size0)))
			return mmu_translate_miss(m, la, acc, x);
		return mmu_translate_l1(m, t + 1, la, acc, x, true);
	}
	return mmu_translate_l1(m, t, la, acc, x, false);
}

/* Translate one linear address. Returns false with x->fault set on a fault.
 * The caller splits accesses that cross a page boundary. */
MMU_WUR static inline bool mmu_translate(struct mmu *m, uint64_t la, unsigned acc,
					 struct mmu_xlate *x)
{
	/* Keys hold linear-address bits 59:12, and cached pages are canonical:
	 * bits 63:59 of la must be all 0 or all 1, or it is non-canonical
	 * (SDM Vol. 1 §3.3.7.1) and the slow path reports #GP. */
	if (MMU_UNLIKELY((uint64_t)(((int64_t)la >> 59) + 1) > 1))
		return mmu_translate_slow(m, la, acc, x);
	return mmu_translate_canonical(m, la, acc, x);
}

/* ---- side-effect-free views (tools, visualizer, tests) ------------------ */
struct mmu_debug_level {
	uint8_t level;         /* 5..1 */
	uint64_t entry_pa;
	uint64_t entry;
	uint8_t cache_now;     /* enum mmu_cache_level that would serve the read now */
};
struct mmu_debug_walk {
	enum mmu_paging_mode mode;
	unsigned nlevels;
	struct mmu_debug_level lv[5];
	bool ok;
	uint64_t pa;
	uint8_t size;          /* enum mmu_page_size */
	uint8_t rights;        /* TLB_R_* the walk computes */
	uint8_t pkey;
	struct mmu_fault fault;
	int tlb_level_now;     /* TLB level holding la now (TLB_L1I..TLB_L2), or -1 */
	int pwc_level_now;     /* deepest PWC hit for la now (level 5..2), or 0 */
};
/* Walk the paging structures in memory as the walker would, touching no
 * TLB, PWC, cache, A/D flag or statistic. Returns w->ok. */
bool mmu_debug_translate(const struct mmu *m, uint64_t la, unsigned acc, struct mmu_debug_walk *w);

/* Read/write through translation (implicit supervisor accesses by mmu/seg,
 * tools). Accesses may cross pages; each page is translated. */
MMU_WUR bool mmu_read_linear(struct mmu *m, uint64_t la, void *buf, size_t len, unsigned acc,
			     struct mmu_fault *f);
MMU_WUR bool mmu_write_linear(struct mmu *m, uint64_t la, const void *buf, size_t len,
			      unsigned acc, struct mmu_fault *f);

/* Statistics. */
void mmu_stats_reset(struct mmu *m);
/* Total translation cycles: stats.cycles plus fast-path hits x latency. */
uint64_t mmu_stats_cycles(const struct mmu *m);
/* Print every counter as "name value" lines, stable order. */
void mmu_stats_print(const struct mmu *m, void *file /* FILE * */);

/* Names for messages. */
const char *mmu_paging_mode_name(enum mmu_paging_mode mode);
const char *mmu_tlb_level_name(enum mmu_tlb_level l);
const char *mmu_page_size_name(enum mmu_page_size s);
const char *mmu_cache_level_name(enum mmu_cache_level l);

#endif
