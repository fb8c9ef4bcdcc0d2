/* The one fault value every mmu/ operation reports through.
 *
 * Faults are values, never non-local exits: every function that can fault
 * returns bool (true = success) marked MMU_WUR and fills a struct mmu_fault
 * on failure. The caller (emu/) turns it into exception delivery.
 */
#ifndef MMU_FAULT_H
#define MMU_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#define MMU_WUR __attribute__((warn_unused_result))
#define MMU_LIKELY(x) __builtin_expect(!!(x), 1)
#define MMU_UNLIKELY(x) __builtin_expect(!!(x), 0)

struct mmu_fault {
	uint8_t vector;      /* exception vector (VEC_PF, VEC_GP, VEC_SS, VEC_NP, VEC_TS, ...) */
	bool has_error_code; /* whether delivery pushes error_code */
	uint32_t error_code;
	uint64_t cr2;        /* faulting linear address, meaningful for #PF only */
};

static inline void mmu_fault_set(struct mmu_fault *f, uint8_t vector, bool has_ec, uint32_t ec)
{
	f->vector = vector;
	f->has_error_code = has_ec;
	f->error_code = ec;
	f->cr2 = 0;
}

#endif
