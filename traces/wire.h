/* Fixed layouts shared by the writer and the reader (traces/FORMAT.md):
 * header and block-header field offsets, little-endian helpers. */
#ifndef TRACES_WIRE_H
#define TRACES_WIRE_H

#include <stdint.h>
#include <string.h>

/* Header, FORMAT.md "Header". */
enum {
	HDR_MAGIC = 0, HDR_VERSION = 8, HDR_LEN = 12, HDR_FLAGS = 16, HDR_RAM = 24,
	HDR_MODEL_HASH = 32, HDR_MODEL_NAME = 40, HDR_EMU_VERSION = 72, HDR_CR0 = 88,
	HDR_CR3 = 96, HDR_CR4 = 104, HDR_EFER = 112, HDR_PKRU = 120, HDR_CPL = 124,
	HDR_CS_L = 125, HDR_START_INSNS = 128, HDR_START_CYCLES = 136, HDR_CRC = 144,
	HDR_SIZE = 148,
};

/* Block header, FORMAT.md "Blocks". */
enum { BLK_KIND = 0, BLK_LEN = 4, BLK_RECORDS = 8, BLK_CRC = 12, BLK_HDR_SIZE = 16 };

/* Largest encoded access record: tag, la, detail, five steps, five A/D. */
#define WIRE_ACCESS_MAX 256

static inline void wire_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* little-endian host: mmu/phys.h checks */
}
static inline void wire_put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}
static inline uint32_t wire_get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static inline uint64_t wire_get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Arguments each control operation carries (enum mmu_ctl_op). */
static inline unsigned wire_ctl_nargs(unsigned op)
{
	static const uint8_t nargs[] = {4, 1, 1, 1, 1, 1, 1, 3, 0};
	return op < sizeof nargs ? nargs[op] : 0;
}

#endif
