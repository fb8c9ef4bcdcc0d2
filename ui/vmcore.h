/* The guest kernel's VMCOREINFO block (guestos/include/vmcoreinfo.h),
 * found in guest RAM and parsed into name/value pairs, and the address
 * rules it states for turning kernel virtual addresses into physical
 * ones. A kernel without the block leaves vmcore.found false; the
 * hardware panels do not need it. */
#ifndef UI_VMCORE_H
#define UI_VMCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/snapshot.h"

#define VMCORE_MAX_ENTRIES 256
#define VMCORE_KEY_MAX 56

struct vmcore_entry {
	char key[VMCORE_KEY_MAX]; /* "SYMBOL(mem_map)", "OFFSET(page.flags)", "PAGESIZE" */
	uint64_t val;
};

struct vmcore {
	bool found;               /* the header is in RAM (maybe not ready yet) */
	bool ready;               /* its text was parsed */
	uint64_t header_pa;
	uint64_t phys_base;       /* NUMBER(phys_base) */
	uint64_t page_offset;     /* the value at SYMBOL(page_offset_base) */
	unsigned n;
	struct vmcore_entry e[VMCORE_MAX_ENTRIES];
};

/* Look for the header in the loaded kernel image (16-byte aligned magic)
 * the first time, then (re)parse the text once the kernel marked it
 * ready. Cheap after the first success. */
void vmcore_update(struct vmcore *v, const struct snapshot *s);

/* The value of "KIND(name)" (or of a bare key such as PAGESIZE with kind
 * NULL); false when the kernel did not provide it. */
bool vmcore_get(const struct vmcore *v, const char *kind, const char *name, uint64_t *val);

/* A kernel virtual address's physical address by the block's rules
 * (kernel image map or direct map); false for any other address. */
bool vmcore_pa(const struct vmcore *v, uint64_t va, uint64_t *pa);

/* Read n bytes (n <= 8) at kernel virtual address va, little-endian. */
bool vmcore_read(const struct vmcore *v, const struct snapshot *s, uint64_t va, unsigned n,
		 uint64_t *val);
/* Read a NUL-terminated string of at most cap - 1 characters. */
bool vmcore_read_str(const struct vmcore *v, const struct snapshot *s, uint64_t va, char *buf,
		     unsigned cap);

#endif
