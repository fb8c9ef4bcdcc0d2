/* Snapshots of a machine between instruction slices: the narrow,
 * read-only view the visualizer (ui/) and tools read the machine through.
 *
 * snapshot_take copies what the panels draw -- registers, counters,
 * control registers, every TLB and paging-structure-cache entry with its
 * statistics, data-cache statistics, the walks and events an attached
 * recorder saw -- into a plain struct. Guest physical memory is not
 * copied: the snapshot keeps a read-only view of RAM and of the MMU for
 * side-effect-free probes, valid until the machine runs again. Nothing
 * here changes machine state.
 */
#ifndef EMU_SNAPSHOT_H
#define EMU_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "emu/machine.h"
#include "mmu/mmu.h"

#define SNAP_WALKS 16    /* the last walks kept by a recorder */
#define SNAP_EVENTS 64   /* the last events kept by a recorder */
#define SNAP_MAX_TLBS (TLB_NLEVELS * MMU_MAX_TLBS_PER_LEVEL)

/* One page walk as the walker did it (the reads it made, in order). */
struct snap_walk {
	uint64_t la, pa, cycle;
	uint8_t nsteps;
	bool fault;
	uint8_t size;             /* enum mmu_page_size mapped */
	uint8_t pwc_level;        /* walk started below a PWC hit at this level; 0: none */
	uint32_t cycles;          /* cost of the translation */
	struct mmu_walk_step step[5];
};

enum snap_event_kind { SNAP_EV_FAULT, SNAP_EV_FLUSH, SNAP_EV_TLB_FILL };

struct snap_event {
	uint64_t cycle;
	uint64_t arg;             /* faulting la, flushed la or PCID, filled la */
	uint32_t code;            /* fault: vector << 16 | error code; flush: entries removed */
	uint8_t kind;             /* enum snap_event_kind */
	uint8_t sub;              /* flush: enum mmu_flush_kind; fill: enum mmu_tlb_level */
};

/* An MMU observer that keeps the last SNAP_WALKS walks and SNAP_EVENTS
 * events in rings. Attaching any observer sends every translation through
 * the slow path, so the visualizer attaches it for a bounded window of
 * each slice batch (sampling). */
struct snapshot_recorder {
	struct mmu_observer obs;
	const struct cpu *cpu;    /* cycle stamps */
	struct snap_walk cur;     /* the walk being recorded */
	struct snap_walk walk[SNAP_WALKS];
	uint64_t nwalks;          /* walks ever recorded; ring index nwalks % SNAP_WALKS */
	struct snap_event ev[SNAP_EVENTS];
	uint64_t nevents;
};

void snapshot_recorder_init(struct snapshot_recorder *r, const struct cpu *c);
/* Attach (on) or detach the recorder as c's MMU observer. */
void snapshot_recorder_attach(struct snapshot_recorder *r, struct cpu *c, bool on);

/* One TLB structure: geometry, statistics and its entries (a copy). */
struct snap_tlb {
	enum mmu_tlb_level level;
	uint32_t sets, ways, latency;
	uint8_t sizes;            /* PG_SIZE_BIT mask */
	uint64_t clock;           /* LRU clock: age of an entry = clock - lru */
	struct tlb_stats st;
	size_t first, n;          /* its entries: snapshot.tlb_e[first .. first + n) */
};

struct snap_pwc {
	uint32_t sets, ways, latency;  /* sets == 0: absent */
	struct pwc_stats st;
	size_t first, n;          /* snapshot.pwc_e[first .. first + n) */
};

struct snapshot {
	/* CPU */
	uint64_t gpr[CPU_NGPRS], rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, efer;
	unsigned cpl;
	enum cpu_mode mode;
	enum mmu_paging_mode paging;
	uint16_t pcid;
	uint64_t insns, cycles;
	/* MMU */
	struct mmu_stats mstats;
	unsigned ntlb;
	struct snap_tlb tlb[SNAP_MAX_TLBS];
	struct snap_pwc pwc[PWC_NKINDS];
	struct tlb_entry *tlb_e;  /* owned; grown by snapshot_take */
	size_t tlb_cap;
	struct pwc_entry *pwc_e;
	size_t pwc_cap;
	uint64_t cache_hits[CACHE_NLEVELS], cache_misses[CACHE_NLEVELS];
	unsigned cache_nlevels;
	uint64_t dram_accesses;
	uint64_t mmu_cycles;      /* mmu_stats_cycles */
	/* The recorder's rings, oldest first. */
	struct snap_walk walk[SNAP_WALKS];
	unsigned nwalk;
	struct snap_event ev[SNAP_EVENTS];
	unsigned nev;
	/* Where the loader put the kernel image (physical, [start, end)). */
	uint64_t kernel_start, kernel_end;
	/* Read-only views, valid until the machine runs again. */
	const uint8_t *ram;
	uint64_t ram_size;
	const struct mmu *mmu;
};

void snapshot_init(struct snapshot *s);
void snapshot_free(struct snapshot *s);
/* Copy m's state (and r's rings, r may be NULL). False only when out of
 * host memory (the entry copies are then empty). */
bool snapshot_take(struct snapshot *s, const struct machine *m, const struct snapshot_recorder *r);

/* Read guest physical memory: false (buf unchanged) unless all of
 * [pa, pa + n) is RAM. */
static inline bool snapshot_read_phys(const struct snapshot *s, uint64_t pa, void *buf, size_t n)
{
	if (pa > s->ram_size || n > s->ram_size - pa)
		return false;
	memcpy(buf, s->ram + pa, n);
	return true;
}

/* The walk the MMU would make for la now, with the TLB level and PWC
 * that would serve it: no TLB, PWC, cache, A/D flag or statistic
 * changes (mmu_debug_translate). */
bool snapshot_probe(const struct snapshot *s, uint64_t la, unsigned acc, struct mmu_debug_walk *w);

#endif
