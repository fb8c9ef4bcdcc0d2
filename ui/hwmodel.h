/* The hardware panels' models: every valid TLB and paging-structure-cache
 * entry as a row (tag, frame, page size, rights, PCID, LRU age), hit
 * rates, and the counters with a timeline of recent activity. Pure data
 * over emu/snapshot.h. */
#ifndef UI_HWMODEL_H
#define UI_HWMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/snapshot.h"

#define HW_TIMELINE 120   /* samples kept */

struct hw_entry {
	uint64_t la, pa, age;
	uint16_t pcid;        /* TLB_PCID_GLOBAL set: global */
	uint8_t size, rights; /* enum mmu_page_size, TLB_R_* (PWC: accumulated rights) */
};

/* One TLB structure or PWC with its valid entries, youngest first. */
struct hw_struct {
	char name[24];        /* "L1D 4K", "L2 4K+2M", "PWC PDE" */
	bool pwc;
	uint32_t capacity, latency;
	uint64_t lookups, hits;
	size_t first, n;      /* hw_model.e[first .. first + n) */
};

struct hw_sample {
	uint64_t insns, cycles, faults, flushes, walks;
	int64_t free_kb_delta; /* change of free memory since the previous sample (0: unknown) */
};

struct hw_model {
	unsigned nstruct;
	struct hw_struct st[SNAP_MAX_TLBS + PWC_NKINDS];
	struct hw_entry *e;   /* owned */
	size_t ne, cap;
	/* counters */
	uint64_t insns, cycles, faults, flushes, walks, tlb_lookups, tlb_hits;
	double cpi;
	/* timeline: deltas between consecutive samples, oldest first */
	struct hw_sample tl[HW_TIMELINE];
	unsigned ntl;
	struct hw_sample last;  /* totals at the previous sample */
	int64_t last_free_kb;   /* -1: unknown */
	bool have_last;
};

void hw_init(struct hw_model *h);
void hw_free(struct hw_model *h);
/* Rebuild the entry lists and counters from the snapshot and append one
 * timeline sample (free_kb: the kernel's free memory, or -1 if unknown). */
bool hw_build(struct hw_model *h, const struct snapshot *s, int64_t free_kb);
/* "RWXUD"-style rights text. */
void hw_rights_text(uint8_t rights, char *buf, size_t len);
/* hits / lookups in percent; 0 when nothing was looked up. */
double hw_rate(uint64_t hits, uint64_t lookups);

#endif
