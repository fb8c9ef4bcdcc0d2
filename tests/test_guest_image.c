/* The guest kernel image as a host tool sees it: an ELF32 Multiboot v1
 * file with one VMCOREINFO header findable by its magic. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guestos/include/vmcoreinfo.h"

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT_SEARCH_BYTES 8192

static unsigned char *read_image(size_t *size)
{
	FILE *f = fopen(GUEST_KERNEL_PATH, "rb");
	unsigned char *buf;

	cr_assert_not_null(f, "cannot open %s", GUEST_KERNEL_PATH);
	fseek(f, 0, SEEK_END);
	*size = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*size);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, *size, f), *size);
	fclose(f);
	return buf;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

Test(guest_image, is_elf32_with_a_valid_multiboot_header)
{
	size_t size, found = 0;
	unsigned char *img = read_image(&size);

	cr_assert(size > 64 && !memcmp(img, "\177ELF", 4));
	cr_assert_eq(img[4], 1, "ELF class must be 32-bit for QEMU's Multiboot loader");
	for (size_t off = 0; off + 12 <= size && off < MULTIBOOT_SEARCH_BYTES; off += 4) {
		if (le32(img + off) != MULTIBOOT_HEADER_MAGIC)
			continue;
		cr_assert_eq((uint32_t)(le32(img + off) + le32(img + off + 4) + le32(img + off + 8)), 0u,
			     "Multiboot checksum");
		found++;
	}
	cr_assert_eq(found, 1);
	free(img);
}

Test(guest_image, holds_one_vmcoreinfo_header_not_yet_filled)
{
	size_t size, found = 0;
	unsigned char *img = read_image(&size);
	struct vmcoreinfo_header h;

	for (size_t off = 0; off + sizeof h <= size; off += 16) {
		if (memcmp(img + off, VMCOREINFO_MAGIC, VMCOREINFO_MAGIC_SIZE))
			continue;
		memcpy(&h, img + off, sizeof h);
		found++;
	}
	cr_assert_eq(found, 1);
	cr_assert_eq(h.version, VMCOREINFO_VERSION);
	cr_assert_eq(h.capacity, VMCOREINFO_CAPACITY);
	cr_assert_eq(h.ready, 0, "the kernel sets ready at boot, not at build time");
	free(img);
}
