/* Guest physical memory (see phys.h for the contract). */
#include "mmu/phys.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Guest RAM comes straight from anonymous mmap, not from malloc: its pages
 * are zero and take host memory only when the guest first touches them,
 * whatever the C library's allocator does (glibc's calloc writes every
 * byte when MALLOC_PERTURB_ is set, as meson test sets it). The emulator's
 * resident size then follows the RAM the guest uses. MADV_HUGEPAGE asks
 * for transparent huge pages: a guest that touches many untouched pages
 * (a page-touch loop, a kernel zeroing its memory) otherwise spends as
 * much host time in the host's page faults, one per 4 KiB, as in mmulab;
 * resident size then grows in 2 MiB steps. A host without them ignores
 * the advice. */
static uint8_t *ram_map(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, size, MADV_HUGEPAGE);
	return p;
}

bool phys_init(struct phys *p, uint64_t size, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	if (size < PHYS_MIN_SIZE || size > PHYS_MAX_SIZE || size % PHYS_FRAME_SIZE) {
		snprintf(err, errlen,
			 "RAM size %llu bytes is invalid: need a multiple of 4 KiB between 1 MiB and 64 GiB",
			 (unsigned long long)size);
		return false;
	}
	p->ram = ram_map(size);
	p->size = p->ram ? size : 0; /* what phys_free unmaps */
	p->nframes = size >> PHYS_FRAME_SHIFT;
	p->frame_flags = calloc(1, p->nframes);
	if (!p->ram || !p->frame_flags) {
		phys_free(p);
		snprintf(err, errlen, "cannot allocate %llu bytes of guest RAM",
			 (unsigned long long)size);
		return false;
	}
	return true;
}

void phys_free(struct phys *p)
{
	if (p->ram)
		munmap(p->ram, p->size);
	free(p->frame_flags);
	memset(p, 0, sizeof *p);
}

void phys_read_bytes(const struct phys *p, uint64_t pa, void *buf, size_t len)
{
	uint8_t *out = buf;
	if (phys_in_ram(p, pa, 1) && len <= p->size - pa) {
		memcpy(out, p->ram + pa, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = phys_in_ram(p, pa + i, 1) ? p->ram[pa + i] : 0xff;
}

void phys_write_bytes(struct phys *p, uint64_t pa, const void *buf, size_t len)
{
	const uint8_t *in = buf;
	for (size_t i = 0; i < len; i++)
		if (phys_in_ram(p, pa + i, 1))
			p->ram[pa + i] = in[i];
	/* Notify per frame so a hook sees every watched frame touched. */
	for (size_t done = 0; done < len;) {
		uint64_t a = pa + done;
		size_t chunk = PHYS_FRAME_SIZE - (a & (PHYS_FRAME_SIZE - 1));
		if (chunk > len - done)
			chunk = len - done;
		if (chunk > 0 && a >= pa)
			phys_notify_write(p, a, (unsigned)chunk);
		done += chunk;
	}
}
