/* Guest physical memory: one RAM block, every access bounds-checked.
 *
 * Outside RAM a read returns all-ones and a write is dropped, as on a PC bus
 * with nothing decoding the address; callers that model devices (emu/)
 * dispatch MMIO before reaching here. No guest-controlled value can make
 * these functions touch host memory outside the RAM block.
 *
 * Each 4-KByte frame carries watch flags. A write to a frame with any flag
 * set calls the write hook, so observers can see stores to frames that hold
 * page tables (FRAME_WALKED, set by the walker when it reads an entry) or
 * decoded code (FRAME_CODE, set by emu/).
 */
#ifndef MMU_PHYS_H
#define MMU_PHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Guest memory is little-endian and so must the host be: values are copied
 * with memcpy. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "mmulab needs a little-endian host");

#define PHYS_FRAME_SHIFT 12
#define PHYS_FRAME_SIZE (UINT64_C(1) << PHYS_FRAME_SHIFT)

enum phys_frame_flag {
	FRAME_WALKED = 1u << 0, /* the page walker has read an entry here */
	FRAME_CODE = 1u << 1,   /* decoded instructions are cached from here */
	FRAME_USER = 1u << 2,   /* free for clients (trace recorder) */
};

typedef void (*phys_write_hook)(void *ctx, uint64_t pa, unsigned size, uint8_t frame_flags);

struct phys {
	uint8_t *ram;
	uint64_t size;          /* bytes, a multiple of the frame size */
	uint8_t *frame_flags;   /* one byte per frame */
	uint64_t nframes;
	phys_write_hook hook;
	void *hook_ctx;
};

/* Smallest and largest RAM sizes accepted (bytes). */
#define PHYS_MIN_SIZE (UINT64_C(1) << 20)
#define PHYS_MAX_SIZE (UINT64_C(64) << 30)

/* Allocate zeroed RAM; false with a reason in err for a bad size or no memory. */
bool phys_init(struct phys *p, uint64_t size, char *err, size_t errlen);
void phys_free(struct phys *p);

static inline bool phys_in_ram(const struct phys *p, uint64_t pa, unsigned size)
{
	return pa < p->size && size <= p->size - pa;
}

static inline void phys_notify_write(struct phys *p, uint64_t pa, unsigned size)
{
	if (!p->hook)
		return; /* nobody watching: no per-frame lookup on the store path */
	uint64_t first = pa >> PHYS_FRAME_SHIFT, last = (pa + size - 1) >> PHYS_FRAME_SHIFT;
	for (uint64_t f = first; f <= last && f < p->nframes; f++)
		if (p->frame_flags[f])
			p->hook(p->hook_ctx, pa, size, p->frame_flags[f]);
}

/* Read size (1..8) bytes little-endian; all-ones where outside RAM. */
static inline uint64_t phys_read(const struct phys *p, uint64_t pa, unsigned size)
{
	uint64_t v = 0;
	if (phys_in_ram(p, pa, size)) {
		memcpy(&v, p->ram + pa, size);
		return v;
	}
	for (unsigned i = 0; i < size; i++) {
		uint64_t b = phys_in_ram(p, pa + i, 1) ? p->ram[pa + i] : 0xff;
		v |= b << (8 * i);
	}
	return v;
}

/* Write size (1..8) bytes little-endian; bytes outside RAM are dropped. */
static inline void phys_write(struct phys *p, uint64_t pa, uint64_t v, unsigned size)
{
	if (phys_in_ram(p, pa, size)) {
		memcpy(p->ram + pa, &v, size);
	} else {
		for (unsigned i = 0; i < size; i++)
			if (phys_in_ram(p, pa + i, 1))
				p->ram[pa + i] = (uint8_t)(v >> (8 * i));
	}
	phys_notify_write(p, pa, size);
}

/* Bulk copies; out-of-RAM bytes read as 0xff / are dropped. */
void phys_read_bytes(const struct phys *p, uint64_t pa, void *buf, size_t len);
void phys_write_bytes(struct phys *p, uint64_t pa, const void *buf, size_t len);

#endif
