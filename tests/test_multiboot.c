/* Multiboot v1 loader: images are built here, byte by byte, written to
 * temporary files, loaded, and the guest RAM inspected. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/multiboot.h"
#include "mmu/bits.h"

#define RAM_SIZE (UINT64_C(8) << 20)
#define KERNEL_PA 0x100000u
#define HDR_OFF 0x100u      /* Multiboot header position in the built images */
#define DATA_OFF 0x1000u    /* first segment's bytes in the file */
#define TEST_EFLAGS_IF (1u << 9)  /* SDM Vol. 1 §3.4.3 */
#define TEST_EFLAGS_VM (1u << 17)

/* ---- image builder */

struct image {
	uint8_t bytes[0x4000];
	size_t size;
};

static void put(struct image *im, size_t off, uint64_t v, unsigned n)
{
	cr_assert_leq(off + n, sizeof im->bytes);
	memcpy(im->bytes + off, &v, n);
	if (off + n > im->size)
		im->size = off + n;
}

static void put_mb_header(struct image *im, size_t off, uint32_t flags)
{
	put(im, off, MULTIBOOT_HEADER_MAGIC, 4);
	put(im, off + 4, flags, 4);
	put(im, off + 8, (uint32_t)-(MULTIBOOT_HEADER_MAGIC + flags), 4);
}

/* Segment bytes: a recognisable pattern. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + 5);
}

static void put_pattern(struct image *im, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(im, off + i, pattern(i), 1);
}

struct seg {
	uint64_t paddr, vaddr, filesz, memsz, offset;
};

/* ELF32 or ELF64 executable with the given PT_LOAD segments; program
 * headers right after the ELF header, Multiboot header at HDR_OFF. */
static void build_elf(struct image *im, bool is64, uint64_t entry, const struct seg *segs, unsigned n)
{
	memset(im, 0, sizeof *im);
	static const uint8_t ident[] = { 0x7F, 'E', 'L', 'F' };
	memcpy(im->bytes, ident, 4);
	put(im, 4, is64 ? 2 : 1, 1);        /* class */
	put(im, 5, 1, 1);                   /* little-endian */
	put(im, 6, 1, 1);                   /* version */
	put(im, 16, 2, 2);                  /* ET_EXEC */
	put(im, 18, is64 ? 62 : 3, 2);      /* machine */
	put(im, 20, 1, 4);
	unsigned w = is64 ? 8 : 4, ehdr = is64 ? 64 : 52, phsz = is64 ? 56 : 32;
	put(im, 24, entry, w);
	put(im, 24 + w, ehdr, w);           /* e_phoff */
	put(im, is64 ? 54 : 42, phsz, 2);
	put(im, is64 ? 56 : 44, n, 2);
	for (unsigned i = 0; i < n; i++) {
		size_t ph = ehdr + i * phsz;
		put(im, ph, 1, 4); /* PT_LOAD */
		put(im, ph + (is64 ? 8 : 4), segs[i].offset, w);
		put(im, ph + (is64 ? 16 : 8), segs[i].vaddr, w);
		put(im, ph + (is64 ? 24 : 12), segs[i].paddr, w);
		put(im, ph + (is64 ? 32 : 16), segs[i].filesz, w);
		put(im, ph + (is64 ? 40 : 20), segs[i].memsz, w);
		put_pattern(im, segs[i].offset, segs[i].filesz);
	}
	put_mb_header(im, HDR_OFF, MULTIBOOT_FLAG_PAGE_ALIGN | MULTIBOOT_FLAG_MEMORY_INFO);
}

static void build_simple_elf32(struct image *im)
{
	const struct seg s = { KERNEL_PA, KERNEL_PA, 0x800, 0x1F00, DATA_OFF };
	build_elf(im, false, KERNEL_PA + 0x10, &s, 1);
}

/* a.out kludge: a flat file whose first byte loads at load_addr. */
static void build_aout(struct image *im, uint32_t load_addr, uint32_t load_end, uint32_t bss_end,
		       uint32_t entry, size_t file_size)
{
	memset(im, 0, sizeof *im);
	put_pattern(im, 0, file_size);
	put_mb_header(im, HDR_OFF, MULTIBOOT_FLAG_AOUT_KLUDGE | MULTIBOOT_FLAG_MEMORY_INFO);
	put(im, HDR_OFF + 12, load_addr + HDR_OFF, 4); /* header_addr */
	put(im, HDR_OFF + 16, load_addr, 4);
	put(im, HDR_OFF + 20, load_end, 4);
	put(im, HDR_OFF + 24, bss_end, 4);
	put(im, HDR_OFF + 28, entry, 4);
}

/* ---- loading through a temporary file */

struct loaded {
	struct phys ram;
	struct multiboot_boot_state st;
	char err[512];
	char path[256];
	bool ok;
};

static char *write_temp(const void *data, size_t n, char *path, size_t pathlen)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, pathlen, "%s/mmulab-mb-XXXXXX", dir && *dir ? dir : P_tmpdir);
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

/* RAM is filled with 0xCC first, so untouched and zeroed bytes differ. */
static struct loaded *load(const struct image *im, const char *initrd, const char *append)
{
	struct loaded *l = calloc(1, sizeof *l);
	cr_assert(l);
	char perr[128];
	cr_assert(phys_init(&l->ram, RAM_SIZE, perr, sizeof perr), "%s", perr);
	memset(l->ram.ram, 0xCC, RAM_SIZE);
	write_temp(im->bytes, im->size, l->path, sizeof l->path);
	l->ok = multiboot_load_files(&l->ram, l->path, initrd, append, &l->st, l->err, sizeof l->err);
	unlink(l->path);
	return l;
}

static void unload(struct loaded *l)
{
	phys_free(&l->ram);
	free(l);
}

static uint32_t rd32(const struct loaded *l, uint64_t pa)
{
	return (uint32_t)phys_read(&l->ram, pa, 4);
}

static const char *str_at(const struct loaded *l, uint64_t pa)
{
	cr_assert_lt(pa, RAM_SIZE);
	return (const char *)l->ram.ram + pa;
}

/* The load failed with one line naming the file and saying `why`, and RAM
 * was not touched. */
static void expect_rejected(struct loaded *l, const char *why)
{
	cr_assert_not(l->ok, "loaded, expected: %s", why);
	char prefix[300];
	snprintf(prefix, sizeof prefix, "mmulab: %s: ", l->path);
	cr_assert_eq(strncmp(l->err, prefix, strlen(prefix)), 0, "%s", l->err);
	cr_assert(strstr(l->err, why), "'%s' lacks '%s'", l->err, why);
	cr_assert_null(strchr(l->err, '\n'));
	for (uint64_t pa = 0; pa < RAM_SIZE; pa += 4093)
		cr_assert_eq(l->ram.ram[pa], 0xCC, "RAM written at 0x%llx", (unsigned long long)pa);
	unload(l);
}

/* ---- loading */

Test(multiboot, loads_elf32_segments_and_zeroes_bss)
{
	struct image im;
	build_simple_elf32(&im);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	for (size_t i = 0; i < 0x800; i++)
		cr_assert_eq(l->ram.ram[KERNEL_PA + i], pattern(i), "byte %zu", i);
	for (size_t i = 0x800; i < 0x1F00; i++)
		cr_assert_eq(l->ram.ram[KERNEL_PA + i], 0, "bss byte %zu", i);
	cr_assert_eq(l->ram.ram[KERNEL_PA + 0x1F00], 0xCC, "nothing past memsz");
	cr_assert_eq(l->st.eip, KERNEL_PA + 0x10);
	cr_assert_eq(l->st.kernel_start, KERNEL_PA);
	cr_assert_eq(l->st.kernel_end, KERNEL_PA + 0x1F00);
	unload(l);
}

Test(multiboot, loads_elf64_at_physical_addresses)
{
	struct image im;
	const struct seg s[2] = {
		{ 0x200000, UINT64_C(0xFFFFFFFF80200000), 0x400, 0x400, DATA_OFF },
		{ 0x300000, UINT64_C(0xFFFFFFFF80300000), 0x100, 0x1000, DATA_OFF + 0x400 },
	};
	build_elf(&im, true, 0x200040, s, 2);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	cr_assert_eq(l->ram.ram[0x200000 + 7], pattern(7));
	cr_assert_eq(l->ram.ram[0x300000 + 3], pattern(3));
	cr_assert_eq(l->ram.ram[0x300000 + 0x100], 0);
	cr_assert_eq(l->st.eip, 0x200040);
	cr_assert_eq(l->st.kernel_end, 0x301000);
	unload(l);
}

Test(multiboot, elf64_higher_half_entry_is_translated_to_physical)
{
	struct image im;
	const struct seg s = { 0x200000, UINT64_C(0xFFFFFFFF80200000), 0x400, 0x400, DATA_OFF };
	build_elf(&im, true, UINT64_C(0xFFFFFFFF80200123), &s, 1);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	cr_assert_eq(l->st.eip, 0x200123);
	unload(l);
}

Test(multiboot, aout_kludge_loads_file_bytes_and_bss)
{
	struct image im;
	build_aout(&im, 0x100000, 0x100000 + 0x1800, 0x100000 + 0x2F00, 0x100020, 0x2000);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	cr_assert_eq(memcmp(l->ram.ram + 0x100000, im.bytes, 0x1800), 0, "file bytes from offset 0");
	for (size_t i = 0x1800; i < 0x2F00; i++)
		cr_assert_eq(l->ram.ram[0x100000 + i], 0, "bss byte %zu", i);
	cr_assert_eq(l->ram.ram[0x102F00], 0xCC, "nothing past bss_end_addr");
	cr_assert_eq(l->st.eip, 0x100020);
	unload(l);
}

Test(multiboot, aout_kludge_zero_load_end_loads_to_end_of_file)
{
	struct image im;
	build_aout(&im, 0x180000, 0, 0, 0x180000, 0x1234);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	cr_assert_eq(l->st.kernel_end, 0x180000 + 0x1234);
	cr_assert_eq(l->ram.ram[0x180000 + 0x1233], pattern(0x1233));
	unload(l);
}

Test(multiboot, aout_kludge_takes_precedence_over_elf)
{
	struct image im;
	build_simple_elf32(&im);
	/* Same ELF file, but the header now carries address fields: the file
	 * from offset 0 loads at 0x400000, ELF headers and all. */
	put_mb_header(&im, HDR_OFF, MULTIBOOT_FLAG_AOUT_KLUDGE);
	put(&im, HDR_OFF + 12, 0x400000 + HDR_OFF, 4);
	put(&im, HDR_OFF + 16, 0x400000, 4);
	put(&im, HDR_OFF + 20, 0, 4);
	put(&im, HDR_OFF + 24, 0, 4);
	put(&im, HDR_OFF + 28, 0x400000 + 0x40, 4);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	cr_assert_eq(memcmp(l->ram.ram + 0x400000, "\177ELF", 4), 0);
	cr_assert_eq(l->ram.ram[KERNEL_PA], 0xCC, "the ELF segment was not loaded");
	cr_assert_eq(l->st.eip, 0x400040);
	unload(l);
}

Test(multiboot, entry_state_is_flat_protected_mode_with_magic_and_info)
{
	struct image im;
	build_simple_elf32(&im);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	const struct multiboot_boot_state *st = &l->st;
	cr_assert_eq(st->eax, MULTIBOOT_BOOTLOADER_MAGIC);
	cr_assert_eq(st->ebx, 0x9500, "where QEMU puts it");
	cr_assert(st->cr0 & CR0_PE);
	cr_assert_eq(st->cr0 & CR0_PG, 0);
	cr_assert_eq(st->rflags & TEST_EFLAGS_IF, 0);
	cr_assert_eq(st->rflags & TEST_EFLAGS_VM, 0);
	cr_assert(st->a20);
	for (unsigned r = 0; r < SEG_NREGS; r++) {
		const struct seg_cache *c = &st->sreg[r];
		cr_assert_eq(c->base, 0);
		cr_assert_eq(c->limit, UINT32_MAX);
		cr_assert(c->p && c->s && c->db && c->usable);
		cr_assert_eq(!!(c->type & SEG_TYPE_CODE), r == SEG_CS);
	}
	/* The GDT in memory matches the loaded caches. */
	for (unsigned r = 0; r < SEG_NREGS; r++) {
		struct seg_desc d;
		uint16_t sel = st->sreg[r].selector;
		cr_assert_lt(sel, st->gdtr.limit);
		seg_decode(phys_read(&l->ram, st->gdtr.base + sel, 8), 0, false, &d);
		cr_assert_eq(d.base, 0);
		cr_assert_eq(d.limit, UINT32_MAX);
		cr_assert_eq(d.type, st->sreg[r].type);
		cr_assert(d.db && d.g && d.p && d.s);
	}
	cr_assert_eq(st->gdtr.base + st->gdtr.limit + 1, MULTIBOOT_LOW_END);
	unload(l);
}

Test(multiboot, info_reports_memory_cmdline_loader_and_flags)
{
	struct image im;
	build_simple_elf32(&im);
	struct loaded *l = load(&im, NULL, "console=ttyS0 quiet");
	cr_assert(l->ok, "%s", l->err);
	uint64_t mbi = l->st.ebx;
	uint32_t flags = rd32(l, mbi + MBI_FLAGS);
	cr_assert_eq(flags, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_BOOTDEV | MULTIBOOT_INFO_CMDLINE |
				    MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_LOADER_NAME);
	cr_assert_eq(rd32(l, mbi + MBI_MEM_LOWER), 640);
	cr_assert_eq(rd32(l, mbi + MBI_MEM_UPPER), (RAM_SIZE >> 10) - 1024);
	char expect[300];
	snprintf(expect, sizeof expect, "%s console=ttyS0 quiet", l->path);
	cr_assert_str_eq(str_at(l, rd32(l, mbi + MBI_CMDLINE)), expect, "QEMU puts the file name first");
	cr_assert_str_eq(str_at(l, rd32(l, mbi + MBI_BOOT_LOADER_NAME)), "mmulab");
	cr_assert_eq(rd32(l, mbi + MBI_MODS_COUNT), 0);
	cr_assert_eq(rd32(l, mbi + MBI_MMAP_ADDR), 0x9000, "where QEMU puts it");
	/* QEMU's boot data: right after the kernel, command line then name. */
	cr_assert_eq(l->st.boot_data_start, KERNEL_PA + 0x2000);
	cr_assert_eq(rd32(l, mbi + MBI_MODS_ADDR), l->st.boot_data_start);
	cr_assert_eq(rd32(l, mbi + MBI_CMDLINE), l->st.boot_data_start);
	cr_assert_eq(rd32(l, mbi + MBI_BOOT_LOADER_NAME), l->st.boot_data_start + strlen(expect) + 1);
	unload(l);
}

Test(multiboot, memory_map_is_the_e820_map_qemu_passes)
{
	struct image im;
	build_simple_elf32(&im);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	uint64_t mbi = l->st.ebx, at = rd32(l, mbi + MBI_MMAP_ADDR);
	uint32_t len = rd32(l, mbi + MBI_MMAP_LENGTH);
	static const struct { uint64_t base, length; uint32_t type; } want[] = {
		/* As qemu-system-x86_64 -kernel shows it (SeaBIOS's E820). */
		{ 0, 0x9fc00, MULTIBOOT_MMAP_AVAILABLE },
		{ 0x9fc00, 0x400, MULTIBOOT_MMAP_RESERVED },
		{ 0xf0000, 0x10000, MULTIBOOT_MMAP_RESERVED },
		{ 0x100000, RAM_SIZE - 0x100000 - 0x20000, MULTIBOOT_MMAP_AVAILABLE },
		{ RAM_SIZE - 0x20000, 0x20000, MULTIBOOT_MMAP_RESERVED },
		{ 0xfffc0000, 0x40000, MULTIBOOT_MMAP_RESERVED },
		{ 0xfd00000000, 0x300000000, MULTIBOOT_MMAP_RESERVED },
	};
	unsigned n = 0;
	/* Walk as a kernel does: each entry's size field excludes itself. */
	for (uint64_t e = at; e < at + len; e += rd32(l, e) + 4, n++) {
		cr_assert_lt(n, 7);
		cr_assert_eq(phys_read(&l->ram, e + MMAP_BASE, 8), want[n].base);
		cr_assert_eq(phys_read(&l->ram, e + MMAP_LENGTH, 8), want[n].length);
		cr_assert_eq(rd32(l, e + MMAP_TYPE), want[n].type);
	}
	cr_assert_eq(n, 7);
	unload(l);
}

Test(multiboot, bios_data_area_holds_com1_and_the_ebda_as_seabios_leaves_them)
{
	struct image im;
	build_simple_elf32(&im);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	cr_assert_eq(phys_read(&l->ram, 0x400, 2), 0x3f8, "COM1's I/O base");
	cr_assert_eq(phys_read(&l->ram, 0x40e, 2), 0x9fc0, "the EBDA's segment");
	cr_assert_eq(phys_read(&l->ram, 0x413, 2), 639, "base memory below the EBDA, KiB");
	cr_assert_eq(phys_read(&l->ram, 0x9fc00, 2), 1, "the EBDA's size, KiB");
	unload(l);
}

static uint8_t byte_sum(struct phys *ram, uint64_t pa, unsigned n)
{
	uint8_t sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum = (uint8_t)(sum + phys_read(ram, pa + i, 1));
	return sum;
}

/* The MP specification's search (§4): a 16-byte-aligned "_MP_" in the
 * EBDA's first KiB, its checksum 0; the "PCMP" table it points to, its
 * checksum 0, with the BSP (APIC ID 0) enabled, the ISA bus and the local
 * interrupts ExtINT on LINT0 and NMI on LINT1. */
Test(multiboot, mp_table_in_the_ebda_names_one_processor_the_bsp)
{
	struct image im;
	build_simple_elf32(&im);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	uint64_t f = 0;
	for (uint64_t a = 0x9fc00; a < 0xa0000 && !f; a += 16)
		if (phys_read(&l->ram, a, 4) == 0x5f504d5f) /* "_MP_" */
			f = a;
	cr_assert_neq(f, 0, "no MP floating pointer in the EBDA");
	cr_assert_eq(byte_sum(&l->ram, f, 16), 0);
	cr_assert_eq(phys_read(&l->ram, f + 8, 1), 1, "16 bytes");
	cr_assert_eq(phys_read(&l->ram, f + 9, 1), 4, "specification 1.4");
	cr_assert_eq(phys_read(&l->ram, f + 11, 1), 0, "a configuration table follows");
	uint64_t t = phys_read(&l->ram, f + 4, 4);
	cr_assert_eq(phys_read(&l->ram, t, 4), 0x504d4350, "PCMP");
	unsigned len = (unsigned)phys_read(&l->ram, t + 4, 2);
	cr_assert_eq(byte_sum(&l->ram, t, len), 0);
	cr_assert_eq(phys_read(&l->ram, t + 34, 2), 4, "four entries");
	cr_assert_eq(phys_read(&l->ram, t + 36, 4), 0xfee00000, "the local APIC");
	uint64_t e = t + 44;
	cr_assert_eq(phys_read(&l->ram, e, 1), 0, "a processor entry");
	cr_assert_eq(phys_read(&l->ram, e + 1, 1), 0, "APIC ID 0");
	cr_assert_eq(phys_read(&l->ram, e + 3, 1), 3, "enabled, the BSP");
	cr_assert_eq(phys_read(&l->ram, e + 20, 1), 1, "a bus entry");
	cr_assert_eq(phys_read(&l->ram, e + 22, 4), 0x20415349, "ISA");
	cr_assert_eq(phys_read(&l->ram, e + 28, 1), 4, "local interrupt");
	cr_assert_eq(phys_read(&l->ram, e + 29, 1), 3, "ExtINT");
	cr_assert_eq(phys_read(&l->ram, e + 35, 1), 0, "to LINT0");
	cr_assert_eq(phys_read(&l->ram, e + 37, 1), 1, "NMI");
	cr_assert_eq(phys_read(&l->ram, e + 43, 1), 1, "to LINT1");
	cr_assert_eq(e + 44, t + len);
	unload(l);
}

Test(multiboot, modules_are_page_aligned_after_the_kernel_with_their_command_lines)
{
	char p1[256], p2[256];
	write_temp("first module", 12, p1, sizeof p1);
	uint8_t big[5000];
	memset(big, 0x5A, sizeof big);
	write_temp(big, sizeof big, p2, sizeof p2);
	char initrd[600];
	snprintf(initrd, sizeof initrd, "%s a=1 b,,c,%s", p1, p2);
	struct image im;
	build_simple_elf32(&im);
	struct loaded *l = load(&im, initrd, NULL);
	unlink(p1);
	unlink(p2);
	cr_assert(l->ok, "%s", l->err);
	uint64_t mbi = l->st.ebx, mods = rd32(l, mbi + MBI_MODS_ADDR);
	cr_assert_eq(rd32(l, mbi + MBI_MODS_COUNT), 2);
	uint32_t s0 = rd32(l, mods + MBM_START), e0 = rd32(l, mods + MBM_END);
	uint32_t s1 = rd32(l, mods + MBM_SIZE + MBM_START), e1 = rd32(l, mods + MBM_SIZE + MBM_END);
	cr_assert_eq(mods, KERNEL_PA + 0x2000, "the module list follows the kernel's bss");
	cr_assert_eq(s0, KERNEL_PA + 0x3000, "modules start on the page after the boot data");
	cr_assert_eq(rd32(l, mods + MBM_STRING), mods + 2 * MBM_SIZE, "module command lines follow the list");
	cr_assert_eq(e0 - s0, 12);
	cr_assert_eq(s1 % 4096, 0);
	cr_assert_geq(s1, e0);
	cr_assert_eq(e1 - s1, sizeof big);
	cr_assert_eq(memcmp(l->ram.ram + s0, "first module", 12), 0);
	cr_assert_eq(l->ram.ram[e1 - 1], 0x5A);
	char expect[300];
	snprintf(expect, sizeof expect, "%s a=1 b,c", p1);
	cr_assert_str_eq(str_at(l, rd32(l, mods + MBM_STRING)), expect);
	cr_assert_str_eq(str_at(l, rd32(l, mods + MBM_SIZE + MBM_STRING)), p2);
	unload(l);
}

Test(multiboot, video_mode_request_is_accepted_without_video_info)
{
	struct image im;
	build_simple_elf32(&im);
	put_mb_header(&im, HDR_OFF, MULTIBOOT_FLAG_VIDEO_MODE | MULTIBOOT_FLAG_MEMORY_INFO);
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	cr_assert(l->st.video_request_ignored);
	unload(l);
}

Test(multiboot, loads_from_a_memory_buffer_into_two_machines_identically)
{
	struct image im;
	build_simple_elf32(&im);
	struct phys a, b;
	char err[256];
	cr_assert(phys_init(&a, RAM_SIZE, err, sizeof err));
	cr_assert(phys_init(&b, RAM_SIZE, err, sizeof err));
	struct multiboot_config cfg = { .kernel = { .name = "k", .data = im.bytes, .size = im.size },
					.append = "x" };
	struct multiboot_boot_state sa, sb;
	cr_assert(multiboot_load(&a, &cfg, &sa, err, sizeof err), "%s", err);
	cr_assert(multiboot_load(&b, &cfg, &sb, err, sizeof err), "%s", err);
	cr_assert_eq(memcmp(a.ram, b.ram, RAM_SIZE), 0);
	cr_assert_eq(memcmp(&sa, &sb, sizeof sa), 0);
	cr_assert_str_eq((const char *)a.ram + phys_read(&a, sa.ebx + MBI_CMDLINE, 4), "x");
	phys_free(&a);
	phys_free(&b);
}

/* ---- rejections */

Test(multiboot, multiboot_rejects_bad_checksum)
{
	struct image im;
	build_simple_elf32(&im);
	put(&im, HDR_OFF + 8, 0x12345678, 4);
	expect_rejected(load(&im, NULL, NULL), "checksum");
}

Test(multiboot, multiboot_rejects_missing_header)
{
	struct image im;
	build_simple_elf32(&im);
	put(&im, HDR_OFF, 0, 4);
	expect_rejected(load(&im, NULL, NULL), "no Multiboot header");
}

Test(multiboot, multiboot_rejects_header_past_8k)
{
	struct image im;
	build_simple_elf32(&im);
	put(&im, HDR_OFF, 0, 4);
	put_mb_header(&im, 8192, 0);
	expect_rejected(load(&im, NULL, NULL), "no Multiboot header");
}

Test(multiboot, multiboot_rejects_unsupported_required_flags)
{
	struct image im;
	build_simple_elf32(&im);
	put_mb_header(&im, HDR_OFF, MULTIBOOT_FLAG_MEMORY_INFO | (1u << 5));
	expect_rejected(load(&im, NULL, NULL), "flags 0x20");
}

Test(multiboot, multiboot_accepts_unknown_optional_flags)
{
	struct image im;
	build_simple_elf32(&im);
	put_mb_header(&im, HDR_OFF, MULTIBOOT_FLAG_MEMORY_INFO | (1u << 20));
	struct loaded *l = load(&im, NULL, NULL);
	cr_assert(l->ok, "%s", l->err);
	unload(l);
}

Test(multiboot, multiboot_rejects_segment_past_ram)
{
	struct image im;
	const struct seg s = { RAM_SIZE - 0x1000, RAM_SIZE - 0x1000, 0x800, 0x2000, DATA_OFF };
	build_elf(&im, false, RAM_SIZE - 0x1000, &s, 1);
	expect_rejected(load(&im, NULL, NULL), "past the end of RAM");
}

Test(multiboot, multiboot_rejects_segment_with_wrapping_range)
{
	struct image im;
	const struct seg s = { UINT64_C(0xFFFFFFFFFFFFF000), 0, 0x10, 0x2000, DATA_OFF };
	build_elf(&im, true, 0x100000, &s, 1);
	expect_rejected(load(&im, NULL, NULL), "wraps");
}

Test(multiboot, multiboot_rejects_segment_over_info_area)
{
	struct image im;
	const struct seg s = { 0x9400, 0x9400, 0x10, 0x200, DATA_OFF };
	build_elf(&im, false, 0x9400, &s, 1);
	expect_rejected(load(&im, NULL, NULL), "overlaps the boot information at 0x9000");
}

Test(multiboot, multiboot_rejects_segment_in_legacy_hole)
{
	struct image im;
	const struct seg s = { 0xB8000, 0xB8000, 0x10, 0x10, DATA_OFF };
	build_elf(&im, false, 0xB8000, &s, 1);
	expect_rejected(load(&im, NULL, NULL), "640K-1M hole");
}

Test(multiboot, multiboot_rejects_truncated_elf)
{
	struct image im;
	build_simple_elf32(&im);
	im.size = DATA_OFF + 0x100; /* segment data cut short */
	expect_rejected(load(&im, NULL, NULL), "segment 0: data past the end of the file (truncated?)");
}

Test(multiboot, multiboot_rejects_program_headers_past_eof)
{
	struct image im;
	build_simple_elf32(&im);
	put(&im, 44, 4000, 2); /* e_phnum */
	expect_rejected(load(&im, NULL, NULL), "program headers past the end");
}

Test(multiboot, multiboot_rejects_huge_segment_offset)
{
	struct image im;
	const struct seg s = { KERNEL_PA, KERNEL_PA, 0x100, 0x100, UINT64_C(0xFFFFFFFFFFFFFF80) };
	build_elf(&im, true, KERNEL_PA, &s, 0);
	put(&im, 56, 1, 2);
	put(&im, 64, 1, 4);
	put(&im, 64 + 8, s.offset, 8);
	put(&im, 64 + 24, s.paddr, 8);
	put(&im, 64 + 32, s.filesz, 8);
	put(&im, 64 + 40, s.memsz, 8);
	expect_rejected(load(&im, NULL, NULL), "segment 0: data past the end of the file");
}

Test(multiboot, multiboot_rejects_wrong_machine_and_class)
{
	struct image im;
	build_simple_elf32(&im);
	put(&im, 18, 62, 2); /* x86-64 machine in an ELF32 file */
	expect_rejected(load(&im, NULL, NULL), "machine 62");
	build_simple_elf32(&im);
	put(&im, 4, 3, 1);
	expect_rejected(load(&im, NULL, NULL), "ELF class 3");
	build_simple_elf32(&im);
	put(&im, 5, 2, 1);
	expect_rejected(load(&im, NULL, NULL), "little-endian");
}

Test(multiboot, multiboot_rejects_filesz_above_memsz)
{
	struct image im;
	const struct seg s = { KERNEL_PA, KERNEL_PA, 0x200, 0x100, DATA_OFF };
	build_elf(&im, false, KERNEL_PA, &s, 1);
	expect_rejected(load(&im, NULL, NULL), "file size exceeds memory size");
}

Test(multiboot, multiboot_rejects_elf_without_loadable_segment)
{
	struct image im;
	build_elf(&im, false, KERNEL_PA, NULL, 0);
	expect_rejected(load(&im, NULL, NULL), "no loadable segment");
}

Test(multiboot, multiboot_rejects_entry_above_4g)
{
	struct image im;
	const struct seg s = { 0x200000, 0x200000, 0x400, 0x400, DATA_OFF };
	build_elf(&im, true, UINT64_C(0x100000000), &s, 1);
	expect_rejected(load(&im, NULL, NULL), "not a 32-bit physical address");
}

Test(multiboot, multiboot_rejects_non_elf_without_kludge)
{
	struct image im;
	build_aout(&im, 0x100000, 0, 0, 0x100000, 0x800);
	put_mb_header(&im, HDR_OFF, 0);
	expect_rejected(load(&im, NULL, NULL), "neither ELF");
}

Test(multiboot, multiboot_rejects_aout_load_end_past_eof)
{
	struct image im;
	build_aout(&im, 0x100000, 0x100000 + 0x3000, 0, 0x100000, 0x1000);
	expect_rejected(load(&im, NULL, NULL), "load_end_addr 0x103000 lies past the end of the file");
}

Test(multiboot, multiboot_rejects_aout_inconsistent_addresses)
{
	struct image im;
	build_aout(&im, 0x100000, 0, 0, 0x100000, 0x800);
	put(&im, HDR_OFF + 12, 0x0FFFFF, 4); /* header_addr below load_addr */
	expect_rejected(load(&im, NULL, NULL), "header_addr");
	build_aout(&im, 0x100000, 0x100000 + 0x400, 0x100000 + 0x200, 0x100000, 0x800);
	expect_rejected(load(&im, NULL, NULL), "bss_end_addr");
	build_aout(&im, 0x100000, 0x0FF000, 0, 0x100000, 0x800);
	expect_rejected(load(&im, NULL, NULL), "load_end_addr");
}

Test(multiboot, multiboot_rejects_module_past_ram)
{
	struct image im;
	/* Kernel, boot data page, then 8 KiB of RAM left for a 12 KiB module. */
	const struct seg s = { RAM_SIZE - 0x4000, RAM_SIZE - 0x4000, 0x10, 0x800, DATA_OFF };
	build_elf(&im, false, RAM_SIZE - 0x4000, &s, 1);
	char p[256];
	static const uint8_t module[0x3000];
	write_temp(module, sizeof module, p, sizeof p);
	struct loaded *l = load(&im, p, NULL);
	unlink(p);
	cr_assert_not(l->ok);
	cr_assert(strstr(l->err, "past the end of RAM"), "%s", l->err);
	cr_assert(strstr(l->err, p), "the module is named: %s", l->err);
	unload(l);
}

Test(multiboot, multiboot_rejects_missing_files)
{
	struct phys ram;
	char err[256];
	struct multiboot_boot_state st;
	cr_assert(phys_init(&ram, RAM_SIZE, err, sizeof err));
	cr_assert_not(multiboot_load_files(&ram, "/nonexistent/kernel", NULL, NULL, &st, err, sizeof err));
	cr_assert(strstr(err, "mmulab: /nonexistent/kernel: "), "%s", err);
	struct image im;
	build_simple_elf32(&im);
	char p[256];
	write_temp(im.bytes, im.size, p, sizeof p);
	cr_assert_not(multiboot_load_files(&ram, p, "/nonexistent/mod arg", NULL, &st, err, sizeof err));
	unlink(p);
	cr_assert(strstr(err, "mmulab: /nonexistent/mod: "), "%s", err);
	phys_free(&ram);
}

Test(multiboot, multiboot_rejects_command_line_past_ram)
{
	struct image im;
	build_simple_elf32(&im);
	size_t n = RAM_SIZE;
	char *huge = malloc(n + 1);
	memset(huge, 'a', n);
	huge[n] = 0;
	struct loaded *l = load(&im, NULL, huge);
	free(huge);
	expect_rejected(l, "boot data (module list, command lines) 0x102000-");
}
