/* Functions shared between mmu/ files, not part of the public API. */
#ifndef MMU_INTERNAL_H
#define MMU_INTERNAL_H

#include "mmu/mmu.h"

/* Invalidate TLB entries whose page contains la (non-global ones of pcid;
 * global ones too if with_global) and every PWC entry of pcid. */
unsigned mmu_invalidate_addr(struct mmu *m, uint64_t la, uint16_t pcid, bool with_global);

/* Plan which TLB structure takes each page size (walk.c); after the TLBs
 * are set up. */
void walk_plan_fills(struct mmu *m);

#endif
