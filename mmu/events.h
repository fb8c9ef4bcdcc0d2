/* Observers of MMU activity (trace recorder, visualizer, tests).
 *
 * struct mmu holds one pointer to a struct mmu_observer; with none attached
 * the cost is one predictable branch per event site. Callbacks may be NULL.
 * Callbacks must not call back into the translating functions of the same
 * struct mmu.
 */
#ifndef MMU_EVENTS_H
#define MMU_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/model.h"

struct mmu_xlate;

enum mmu_tlb_event_kind { TLB_EV_FILL, TLB_EV_EVICT, TLB_EV_INVALIDATE };

struct mmu_walk_step {
	uint8_t level;      /* 5 = PML5E … 1 = PTE; PAE PDPTE registers are not read */
	uint8_t cache;      /* enum mmu_cache_level that served the read */
	uint64_t entry_pa;  /* physical address of the entry */
	uint64_t entry;     /* value read */
	uint32_t cycles;    /* latency of this read */
};

enum mmu_flush_kind {
	FLUSH_CR0, FLUSH_CR3, FLUSH_CR4, FLUSH_INVLPG, FLUSH_INVPCID, FLUSH_PF, FLUSH_API,
};

/* Control operations that change how later translations come out: the
 * public mmu_* entry points below, reported after they ran, with their
 * arguments as passed and whether they succeeded. A trace replays them by
 * calling the same function with the same arguments. */
enum mmu_ctl_op {
	CTL_SET_CONTROL = 0, /* mmu_set_control(arg0..3 = CR0, CR3, CR4, EFER) */
	CTL_CR0 = 1,         /* mmu_write_cr0(arg0) */
	CTL_CR3 = 2,         /* mmu_write_cr3(arg0) */
	CTL_CR4 = 3,         /* mmu_write_cr4(arg0) */
	CTL_EFER = 4,        /* mmu_write_efer(arg0) */
	CTL_PKRU = 5,        /* mmu_write_pkru(arg0) */
	CTL_INVLPG = 6,      /* mmu_invlpg(arg0 = linear address) */
	CTL_INVPCID = 7,     /* mmu_invpcid(arg0 = type, arg1 = PCID, arg2 = linear address) */
	CTL_FLUSH_ALL = 8,   /* mmu_flush_all() */
	CTL_NOPS = 9,
};

struct mmu_ctl_event {
	enum mmu_ctl_op op;
	uint64_t arg[4];
	bool ok;             /* false: the operation raised #GP and changed nothing */
};

struct mmu_observer {
	void *ctx;
	/* Every translation, after its outcome is known. */
	void (*access)(void *ctx, uint64_t la, unsigned acc, const struct mmu_xlate *x);
	/* Each paging-structure entry read by a walk. */
	void (*walk_step)(void *ctx, const struct mmu_walk_step *s);
	/* A/D flag set by the walker: entry address, old and new value. */
	void (*ad_update)(void *ctx, uint64_t entry_pa, uint64_t old, uint64_t new_);
	/* TLB fill or eviction in a structure (level, index within level). */
	void (*tlb)(void *ctx, enum mmu_tlb_event_kind k, enum mmu_tlb_level level, unsigned idx,
		    uint64_t la, uint64_t pa, enum mmu_page_size size);
	/* A flush operation: kind, argument (la or PCID), entries removed. */
	void (*flush)(void *ctx, enum mmu_flush_kind k, uint64_t arg, unsigned removed);
	/* A fault reported by a translation. */
	void (*fault)(void *ctx, uint64_t la, unsigned acc, uint8_t vector, uint32_t error_code);
	/* A control operation (enum mmu_ctl_op), after it ran. */
	void (*ctl)(void *ctx, const struct mmu_ctl_event *e);
};

#endif
