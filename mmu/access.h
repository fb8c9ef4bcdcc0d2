/* Access contexts: what kind of access, by whom (SDM Vol. 3A §4.6). */
#ifndef MMU_ACCESS_H
#define MMU_ACCESS_H

#include <stdbool.h>

/* An access context is a small integer: the kind in bits 1:0, ACC_USER for a
 * user-mode access (CPL 3 and not an implicit supervisor-mode access, SDM
 * Vol. 3A §4.6), ACC_AC for an explicit supervisor-mode access made with
 * RFLAGS.AC = 1 (which SMAP honours, §4.6.1). Build it with mmu_acc(). */
enum mmu_access_kind { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };
#define ACC_KIND_MASK 3u
#define ACC_USER 4u
#define ACC_AC 8u
#define ACC_CONTEXTS 16

static inline unsigned mmu_acc(enum mmu_access_kind kind, unsigned cpl, bool implicit_supervisor,
			       bool rflags_ac)
{
	if (cpl == 3 && !implicit_supervisor)
		return (unsigned)kind | ACC_USER;
	return (unsigned)kind | (rflags_ac && !implicit_supervisor ? ACC_AC : 0);
}

#endif
