/* The page-table panel's model: the paging-structure tree under a CR3 as
 * display rows (collapsible tables, runs of alike entries collapsed into
 * one row), and the explanation of one address's walk, level by level,
 * with the TLB/PWC/cache outcome the model would give now. Pure data,
 * read from guest memory without side effects. */
#ifndef UI_PGTREE_H
#define UI_PGTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/snapshot.h"

#define PGT_MAX_ROWS 4096
#define PGT_MAX_EXPANDED 64
#define PGT_MAX_TABLES 65536  /* tables visited by pgtree_for_each_table */
/* Bits 51:12 of a PAE/IA-32e entry: the next table or the 4-KByte frame
 * (SDM Vol. 3A §4.5, Tables 4-15 … 4-20, MAXPHYADDR at most 52). */
#define PGT_FRAME_MASK_64 UINT64_C(0x000ffffffffff000)

/* One row: entries first..last of the table at table_pa (level 5..1).
 * A run (last > first) holds alike entries: all not present, leaves with
 * equal flags mapping consecutive frames, or entries with equal flags
 * pointing at tables with no present entry (empty). */
struct pgt_row {
	uint8_t level, depth;
	bool present, leaf, expanded;
	bool empty;           /* non-leaf: the tables of first..last have no present
			       * entry (allocated ahead of use; one row for the run) */
	uint16_t first, last;
	uint64_t table_pa;
	uint64_t va;          /* linear address the first entry maps */
	uint64_t entry;       /* the first entry */
	uint64_t target;      /* frame or next table's physical address */
};

struct pgtree {
	enum mmu_paging_mode mode;
	uint64_t root;        /* physical address of the top table */
	size_t n;
	bool truncated;       /* more rows than PGT_MAX_ROWS */
	struct pgt_row row[PGT_MAX_ROWS];
	unsigned nexp;
	uint64_t expanded[PGT_MAX_EXPANDED]; /* tables shown opened */
};

void pgtree_init(struct pgtree *t);
/* Rebuild the rows for the tree under cr3 in the given paging mode
 * (IA-32e 4- or 5-level, PAE or 32-bit; none: no rows). The top table is
 * always open; others as toggled. */
void pgtree_build(struct pgtree *t, const struct snapshot *s, uint64_t cr3,
		  enum mmu_paging_mode mode);
/* Open or close the table a row's entry points to (non-leaf rows). */
void pgtree_toggle(struct pgtree *t, const struct pgt_row *r);
/* va sign-extended from its top linear-address bit (47 with 4-level
 * paging, 56 with 5-level: SDM Vol. 1 §3.3.7.1 canonical form); other
 * modes leave it as it is. */
uint64_t pgtree_canonical(enum mmu_paging_mode mode, uint64_t va);
/* "P RW US A D G XD PS" style text for an entry at a level. */
void pgtree_flags_text(uint64_t entry, unsigned level, bool leaf, char *buf, size_t len);
const char *pgtree_level_name(enum mmu_paging_mode mode, unsigned level);

/* Call fn for every paging structure reachable from cr3 (each at most
 * once per path; at most PGT_MAX_TABLES calls). */
typedef void (*pgt_table_fn)(void *ctx, uint64_t table_pa, unsigned level);
void pgtree_for_each_table(const struct snapshot *s, uint64_t cr3, enum mmu_paging_mode mode,
			   pgt_table_fn fn, void *ctx);

/* The walk of la as text lines, at most max lines of linelen bytes:
 * the TLB level that holds la now, the PWC the walk would start below,
 * each level's entry with its flags and the cache level serving its read,
 * then the outcome. Returns the number of lines. */
unsigned pgtree_explain(const struct snapshot *s, uint64_t la, char (*lines)[96], unsigned max);

#endif
