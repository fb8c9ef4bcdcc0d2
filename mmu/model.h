/* Machine models: TLB/PWC geometry, data-cache hierarchy and latencies.
 *
 * A model is a small text file (see docs/model-format.md and
 * the files in mmu/models/). The parser rejects a bad file with "file:line: reason".
 * The default model (Skylake-like) is compiled in from mmu/models/skylake.model
 * so the program works without locating data files.
 */
#ifndef MMU_MODEL_H
#define MMU_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Page sizes, in the order they appear in a page-size mask. */
enum mmu_page_size { PG_4K = 0, PG_2M = 1, PG_4M = 2, PG_1G = 3, PG_NSIZES = 4 };
#define PG_SIZE_BIT(s) (1u << (s))

static inline unsigned mmu_page_shift(enum mmu_page_size s)
{
	static const unsigned shift[PG_NSIZES] = {12, 21, 22, 30};
	return shift[s];
}

enum mmu_tlb_level { TLB_L1I = 0, TLB_L1D = 1, TLB_L2 = 2, TLB_NLEVELS = 3 };
#define MMU_MAX_TLBS_PER_LEVEL 4

/* Paging-structure caches, named by the entry they hold (SDM Vol. 3A §4.10.3). */
enum mmu_pwc_kind { PWC_PML5E = 0, PWC_PML4E = 1, PWC_PDPTE = 2, PWC_PDE = 3, PWC_NKINDS = 4 };

#define CACHE_MAX_WAYS 32 /* a data-cache set's tags fit two host cache lines */

enum mmu_cache_level { CACHE_L1D = 0, CACHE_L2 = 1, CACHE_L3 = 2, CACHE_NLEVELS = 3,
		       CACHE_DRAM = 3 /* "served by DRAM" in outcomes */ };

struct mmu_tlb_geom {
	uint32_t entries;   /* total entries; entries / ways sets, a power of two */
	uint32_t ways;
	uint8_t sizes;      /* PG_SIZE_BIT mask of page sizes held */
	uint32_t latency;   /* cycles for a hit at this structure */
};

struct mmu_pwc_geom {
	uint32_t entries;   /* 0 = this cache is absent */
	uint32_t ways;
	uint32_t latency;   /* cycles added when the walk starts from a hit here */
};

struct mmu_cache_geom {
	uint32_t size;      /* bytes; 0 = level absent */
	uint32_t ways;
	uint32_t line;      /* bytes, power of two */
	uint32_t latency;   /* load-to-use cycles for a hit at this level */
};

enum mmu_walk_timing { WALK_TIMING_CACHED = 0, WALK_TIMING_FLAT = 1 };

struct mmu_model {
	char name[32];
	unsigned maxphyaddr;                /* M in the SDM tables, 32..52 */
	struct mmu_tlb_geom tlb[TLB_NLEVELS][MMU_MAX_TLBS_PER_LEVEL];
	unsigned ntlb[TLB_NLEVELS];
	struct mmu_pwc_geom pwc[PWC_NKINDS];
	struct mmu_cache_geom cache[CACHE_NLEVELS];
	uint32_t dram_latency;
	enum mmu_walk_timing walk_timing;
	uint32_t walk_start;                /* cycles from L2 TLB miss to the first walk read */
	uint32_t walk_level_cycles;         /* flat timing: cycles per walk read */
	uint32_t ad_update;                 /* cycles per locked A/D update */
};

/* Parse model text. name is used in messages ("name:line: reason").
 * On failure returns false and writes one line (no newline) to err. */
bool mmu_model_parse(struct mmu_model *m, const char *text, const char *name,
		     char *err, size_t errlen);
/* Load and parse a model file; a missing file is an error in err. */
bool mmu_model_load(struct mmu_model *m, const char *path, char *err, size_t errlen);
/* The compiled-in Skylake-like model and the flat test model. */
void mmu_model_default(struct mmu_model *m);
void mmu_model_flat(struct mmu_model *m);
/* Resolve a -model argument: "skylake", "flat" or a file path. */
bool mmu_model_resolve(struct mmu_model *m, const char *arg, char *err, size_t errlen);
/* Stable 64-bit hash of every field that affects outcomes or timing. */
uint64_t mmu_model_hash(const struct mmu_model *m);
/* Write the model back as model-file text (round-trips through the parser). */
size_t mmu_model_format(const struct mmu_model *m, char *buf, size_t len);

extern const char mmu_model_skylake_text[];
extern const char mmu_model_flat_text[];

#endif
