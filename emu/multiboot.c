/* Multiboot v1 loader.
 *
 * Two phases. The plan phase reads the image and the configuration, decides
 * every address (kernel segments, modules, boot information) and checks
 * each against RAM and the reserved ranges, with every sum done so that it
 * cannot overflow. Only when the plan is complete does the write phase copy
 * bytes into guest RAM. A rejected image therefore never leaves a partly
 * loaded machine behind.
 */
#include "emu/multiboot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/cpuid.h"
#include "emu/dev_lapic.h"
#include "emu/dev_uart.h"
#include "mmu/bits.h"

/* ---- ELF (System V gABI; Intel386 and x86-64 psABI), the fields we read. */

#define ELF_IDENT_SIZE 16
#define ELF_CLASS_BYTE 4
#define ELF_DATA_BYTE 5
#define ELF_CLASS32 1
#define ELF_CLASS64 2
#define ELF_DATA_LSB 1
#define ELF_EM_386 3
#define ELF_EM_X86_64 62
#define ELF_PT_LOAD 1
#define ELF_MACHINE_OFFSET 18 /* e_machine, the same in both classes */
static const uint8_t elf_magic[4] = { 0x7F, 'E', 'L', 'F' };

/* Where each field sits in the two classes; one parser reads both. */
struct elf_layout {
	unsigned class_bits;
	uint16_t machine;
	unsigned word;          /* size of addresses and offsets: 4 or 8 */
	unsigned ehdr_size;
	unsigned e_entry, e_phoff, e_phentsize, e_phnum;
	unsigned phdr_size;
	unsigned p_offset, p_vaddr, p_paddr, p_filesz, p_memsz;
};

static const struct elf_layout elf32_layout = {
	.class_bits = 32, .machine = ELF_EM_386, .word = 4, .ehdr_size = 52,
	.e_entry = 24, .e_phoff = 28, .e_phentsize = 42, .e_phnum = 44,
	.phdr_size = 32, .p_offset = 4, .p_vaddr = 8, .p_paddr = 12, .p_filesz = 16, .p_memsz = 20,
};

static const struct elf_layout elf64_layout = {
	.class_bits = 64, .machine = ELF_EM_X86_64, .word = 8, .ehdr_size = 64,
	.e_entry = 24, .e_phoff = 32, .e_phentsize = 54, .e_phnum = 56,
	.phdr_size = 56, .p_offset = 8, .p_vaddr = 16, .p_paddr = 24, .p_filesz = 32, .p_memsz = 40,
};

/* ---- Multiboot header fields (spec §3.1.1–§3.1.3), byte offsets from the magic. */

enum mb_header_offset {
	MBH_MAGIC = 0, MBH_FLAGS = 4, MBH_CHECKSUM = 8,
	MBH_HEADER_ADDR = 12, MBH_LOAD_ADDR = 16, MBH_LOAD_END_ADDR = 20, MBH_BSS_END_ADDR = 24,
	MBH_ENTRY_ADDR = 28,
	MBH_BASIC_SIZE = 12, MBH_AOUT_SIZE = 32,
};
#define MB_HONOURED_FLAGS (MULTIBOOT_FLAG_PAGE_ALIGN | MULTIBOOT_FLAG_MEMORY_INFO | MULTIBOOT_FLAG_VIDEO_MODE)

#define MB_PAGE UINT64_C(4096)
#define MB_4GIB (UINT64_C(1) << 32)
#define MB_MAX_MMAP 8
#define MB_RESERVED_RANGES 3
/* Real-mode interrupt vector table, as the BIOS leaves IDTR (SDM Vol. 3A §20.1.4). */
#define MB_IDTR_REAL_LIMIT 0x3FF
#define MB_RFLAGS_RESERVED 0x2 /* bit 1 always reads 1 (SDM Vol. 1 §3.4.3) */

_Static_assert(MULTIBOOT_MMAP_ADDR + MB_MAX_MMAP * MMAP_ENTRY_SIZE <= MULTIBOOT_INFO_ADDR,
	       "the memory map fits below the info structure");
_Static_assert(MULTIBOOT_INFO_ADDR + MBI_SIZE <= MULTIBOOT_GDT_ADDR && MULTIBOOT_GDT_ADDR % SEG_DESC_SIZE == 0,
	       "the GDT follows the info structure, aligned");

static uint64_t rd(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, p, size);
	return v;
}

struct mb_seg {
	uint64_t paddr, vaddr, filesz, memsz, offset;
	size_t index; /* program header number, for messages */
};

struct mb_mmap_entry {
	uint64_t base, length;
	uint32_t type;
};

struct mb_plan {
	const char *name;      /* kernel file name, for messages */
	struct mb_seg *seg;
	size_t nseg;
	uint32_t entry;
	uint64_t lo, hi;       /* kernel extent */
	bool video_ignored;
	uint64_t mod_addr[MULTIBOOT_MAX_MODULES];
	struct mb_mmap_entry mmap[MB_MAX_MMAP];
	unsigned nmmap;
	uint32_t mem_upper_kib;
	/* Boot data after the kernel. */
	uint64_t mods_addr, loader_name_addr, cmdline_addr;
	uint64_t mod_cmdline_addr[MULTIBOOT_MAX_MODULES];
	uint64_t boot_data_start, boot_data_end;
};

__attribute__((format(printf, 4, 5)))
static bool mb_fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	int n = snprintf(err, errlen, "mmulab: %s: ", name);
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return false;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return v > UINT64_MAX - (a - 1) ? UINT64_MAX : (v + a - 1) & ~(a - 1);
}

/* ---- Header */

/* The first 4-byte-aligned magic in the first 8 KiB whose checksum makes
 * magic + flags + checksum zero (spec §3.1.1 layout, §3.1.2 magic fields). */
static bool mb_find_header(const struct multiboot_image *k, size_t *at, uint32_t *flags,
			   char *err, size_t errlen)
{
	size_t limit = k->size < MULTIBOOT_SEARCH_BYTES ? k->size : MULTIBOOT_SEARCH_BYTES;
	bool bad_checksum = false;
	for (size_t off = 0; off + MBH_BASIC_SIZE <= limit; off += MULTIBOOT_HEADER_ALIGN) {
		const uint8_t *h = k->data + off;
		if (rd(h + MBH_MAGIC, 4) != MULTIBOOT_HEADER_MAGIC)
			continue;
		uint32_t f = (uint32_t)rd(h + MBH_FLAGS, 4);
		if ((uint32_t)(MULTIBOOT_HEADER_MAGIC + f + (uint32_t)rd(h + MBH_CHECKSUM, 4)) != 0) {
			bad_checksum = true;
			continue;
		}
		*at = off;
		*flags = f;
		return true;
	}
	if (bad_checksum)
		return mb_fail(err, errlen, k->name, "Multiboot header checksum is wrong");
	return mb_fail(err, errlen, k->name, "no Multiboot header in the first %d bytes",
		       MULTIBOOT_SEARCH_BYTES);
}

static bool mb_check_flags(const struct multiboot_image *k, uint32_t flags, char *err, size_t errlen)
{
	uint32_t unsupported = flags & MULTIBOOT_REQUIRED_MASK & ~MB_HONOURED_FLAGS;
	if (unsupported)
		return mb_fail(err, errlen, k->name,
			       "Multiboot header requires features mmulab does not provide (flags 0x%x)",
			       unsupported);
	return true;
}

/* ---- Image formats */

/* a.out kludge (spec §3.1.3): the header's address fields say which file
 * bytes go where. The header sits header_addr - load_addr bytes after the
 * first loaded byte. */
static bool mb_plan_aout(const struct multiboot_image *k, size_t hdr, struct mb_plan *pl,
			 char *err, size_t errlen)
{
	if (hdr + MBH_AOUT_SIZE > MULTIBOOT_SEARCH_BYTES || hdr + MBH_AOUT_SIZE > k->size)
		return mb_fail(err, errlen, k->name, "Multiboot header address fields lie past the first %d bytes",
			       MULTIBOOT_SEARCH_BYTES);
	const uint8_t *h = k->data + hdr;
	uint64_t header_addr = rd(h + MBH_HEADER_ADDR, 4), load_addr = rd(h + MBH_LOAD_ADDR, 4);
	uint64_t load_end = rd(h + MBH_LOAD_END_ADDR, 4), bss_end = rd(h + MBH_BSS_END_ADDR, 4);
	if (header_addr < load_addr || header_addr - load_addr > hdr)
		return mb_fail(err, errlen, k->name, "a.out kludge: header_addr 0x%llx does not match load_addr 0x%llx",
			       (unsigned long long)header_addr, (unsigned long long)load_addr);
	uint64_t file_off = hdr - (header_addr - load_addr);
	uint64_t load_size = k->size - file_off; /* load_end_addr = 0: to the end of the file */
	if (load_end) {
		if (load_end < load_addr)
			return mb_fail(err, errlen, k->name, "a.out kludge: load_end_addr is below load_addr");
		if (load_end - load_addr > load_size)
			return mb_fail(err, errlen, k->name,
				       "a.out kludge: load_end_addr 0x%llx lies past the end of the file (truncated?)",
				       (unsigned long long)load_end);
		load_size = load_end - load_addr;
	}
	uint64_t mem_size = load_size;
	if (bss_end) {
		if (bss_end < load_addr + load_size)
			return mb_fail(err, errlen, k->name, "a.out kludge: bss_end_addr is below load_end_addr");
		mem_size = bss_end - load_addr;
	}
	pl->seg[0] = (struct mb_seg){ .paddr = load_addr, .vaddr = load_addr, .filesz = load_size,
				      .memsz = mem_size, .offset = file_off };
	pl->nseg = 1;
	pl->entry = (uint32_t)rd(h + MBH_ENTRY_ADDR, 4);
	return true;
}

static const struct elf_layout *mb_elf_layout(const struct multiboot_image *k, char *err, size_t errlen)
{
	if (k->size < ELF_IDENT_SIZE || memcmp(k->data, elf_magic, sizeof elf_magic) != 0) {
		mb_fail(err, errlen, k->name, "neither ELF nor a Multiboot a.out-kludge image (header flag 16 clear)");
		return NULL;
	}
	uint8_t cls = k->data[ELF_CLASS_BYTE];
	const struct elf_layout *l = cls == ELF_CLASS32 ? &elf32_layout : cls == ELF_CLASS64 ? &elf64_layout : NULL;
	if (!l) {
		mb_fail(err, errlen, k->name, "bad ELF class %u", cls);
		return NULL;
	}
	if (k->data[ELF_DATA_BYTE] != ELF_DATA_LSB) {
		mb_fail(err, errlen, k->name, "ELF file is not little-endian");
		return NULL;
	}
	if (k->size < l->ehdr_size) {
		mb_fail(err, errlen, k->name, "truncated ELF header");
		return NULL;
	}
	uint16_t machine = (uint16_t)rd(k->data + ELF_MACHINE_OFFSET, 2);
	if (machine != l->machine) {
		mb_fail(err, errlen, k->name, "ELF%u file for machine %u, expected %u", l->class_bits, machine,
			l->machine);
		return NULL;
	}
	return l;
}

/* Read PT_LOAD program header number i into *s; false (with err) if it is
 * bad. s->memsz == 0 means nothing to load. */
static bool mb_elf_segment(const struct multiboot_image *k, const struct elf_layout *l, const uint8_t *ph,
			   size_t i, struct mb_seg *s, char *err, size_t errlen)
{
	*s = (struct mb_seg){
		.offset = rd(ph + l->p_offset, l->word), .vaddr = rd(ph + l->p_vaddr, l->word),
		.paddr = rd(ph + l->p_paddr, l->word), .filesz = rd(ph + l->p_filesz, l->word),
		.memsz = rd(ph + l->p_memsz, l->word), .index = i,
	};
	if (s->filesz > s->memsz)
		return mb_fail(err, errlen, k->name, "segment %zu: file size exceeds memory size", i);
	if (s->offset > k->size || s->filesz > k->size - s->offset)
		return mb_fail(err, errlen, k->name, "segment %zu: data past the end of the file (truncated?)", i);
	if (s->paddr > UINT64_MAX - s->memsz)
		return mb_fail(err, errlen, k->name, "segment %zu: address range wraps around", i);
	return true;
}

/* Entry point. ELF32: e_entry, as QEMU and GRUB use it. ELF64 (which QEMU
 * refuses without the a.out kludge): e_entry if it is a 32-bit address,
 * else translated from the segment whose virtual range holds it to its
 * physical address, as GRUB 2 does. */
static bool mb_elf_entry(const struct multiboot_image *k, uint64_t e_entry, struct mb_plan *pl,
			 char *err, size_t errlen)
{
	for (size_t i = 0; e_entry >= MB_4GIB && i < pl->nseg; i++) {
		const struct mb_seg *s = &pl->seg[i];
		if (e_entry - s->vaddr < s->memsz && e_entry >= s->vaddr)
			e_entry = s->paddr + (e_entry - s->vaddr);
	}
	if (e_entry >= MB_4GIB)
		return mb_fail(err, errlen, k->name, "entry point 0x%llx is not a 32-bit physical address",
			       (unsigned long long)e_entry);
	pl->entry = (uint32_t)e_entry;
	return true;
}

static bool mb_plan_elf(const struct multiboot_image *k, struct mb_plan *pl, char *err, size_t errlen)
{
	const struct elf_layout *l = mb_elf_layout(k, err, errlen);
	if (!l)
		return false;
	uint64_t phoff = rd(k->data + l->e_phoff, l->word);
	uint64_t phentsize = rd(k->data + l->e_phentsize, 2), phnum = rd(k->data + l->e_phnum, 2);
	if (phentsize < l->phdr_size)
		return mb_fail(err, errlen, k->name, "bad ELF program header size %llu",
			       (unsigned long long)phentsize);
	if (phoff > k->size || phnum * phentsize > k->size - phoff)
		return mb_fail(err, errlen, k->name, "ELF program headers past the end of the file (truncated?)");
	pl->seg = calloc(phnum ? phnum : 1, sizeof *pl->seg);
	if (!pl->seg)
		return mb_fail(err, errlen, k->name, "out of memory");
	for (size_t i = 0; i < phnum; i++) {
		const uint8_t *ph = k->data + phoff + i * phentsize;
		if (rd(ph, 4) != ELF_PT_LOAD)
			continue;
		struct mb_seg s;
		if (!mb_elf_segment(k, l, ph, i, &s, err, errlen))
			return false;
		if (s.memsz)
			pl->seg[pl->nseg++] = s;
	}
	if (!pl->nseg)
		return mb_fail(err, errlen, k->name, "ELF file has no loadable segment");
	return mb_elf_entry(k, rd(k->data + l->e_entry, l->word), pl, err, errlen);
}

/* ---- Memory map and placement */

static void mb_mmap_add(struct mb_plan *pl, uint64_t base, uint64_t end, uint32_t type)
{
	if (end > base && pl->nmmap < MB_MAX_MMAP)
		pl->mmap[pl->nmmap++] = (struct mb_mmap_entry){ base, end - base, type };
}

/* The map QEMU's -kernel passes on a PC is the E820 map SeaBIOS builds:
 * the EBDA at 0x9fc00, the BIOS at 0xf0000, SeaBIOS's tables in the top
 * 128 KiB of RAM, the BIOS flash below 4 GiB and (QEMU 7.1 on) a window
 * below 1 TiB. mmulab passes the same map, so kernels that print it agree
 * with QEMU; the RAM it reserves is simply left unused. QEMU moves RAM
 * above 3.5 GiB to 4 GiB; mmulab does not, so from there on (and below
 * 2 MiB) the map is the plain PC one: RAM below 640 KiB, the legacy hole,
 * RAM above 1 MiB with the local APIC's page carved out. mem_upper is
 * QEMU's too: RAM above 1 MiB up to the first hole (spec §3.3). */
#define QEMU_EBDA UINT64_C(0x9fc00)
#define QEMU_BIOS UINT64_C(0xf0000)
#define QEMU_TABLES_SIZE UINT64_C(0x20000)
#define QEMU_FLASH UINT64_C(0xfffc0000)
#define QEMU_4G UINT64_C(0x100000000)
#define QEMU_HT_WINDOW UINT64_C(0xfd00000000)
#define QEMU_HT_WINDOW_END UINT64_C(0x10000000000)
#define QEMU_LOWMEM_MAX UINT64_C(0xe0000000)

static void mb_plan_memory_map(struct mb_plan *pl, uint64_t ram)
{
	uint64_t apic = LAPIC_DEFAULT_BASE, apic_end = apic + LAPIC_PAGE_SIZE;
	uint64_t upper_end = ram < apic ? ram : apic;
	pl->mem_upper_kib = (uint32_t)((upper_end - MULTIBOOT_HIGH_MEMORY) / 1024);
	if (ram >= 2 * MULTIBOOT_HIGH_MEMORY && ram <= QEMU_LOWMEM_MAX) {
		mb_mmap_add(pl, 0, QEMU_EBDA, MULTIBOOT_MMAP_AVAILABLE);
		mb_mmap_add(pl, QEMU_EBDA, MULTIBOOT_LOW_MEMORY_END, MULTIBOOT_MMAP_RESERVED);
		mb_mmap_add(pl, QEMU_BIOS, MULTIBOOT_HIGH_MEMORY, MULTIBOOT_MMAP_RESERVED);
		mb_mmap_add(pl, MULTIBOOT_HIGH_MEMORY, ram - QEMU_TABLES_SIZE, MULTIBOOT_MMAP_AVAILABLE);
		mb_mmap_add(pl, ram - QEMU_TABLES_SIZE, ram, MULTIBOOT_MMAP_RESERVED);
		mb_mmap_add(pl, QEMU_FLASH, QEMU_4G, MULTIBOOT_MMAP_RESERVED);
		mb_mmap_add(pl, QEMU_HT_WINDOW, QEMU_HT_WINDOW_END, MULTIBOOT_MMAP_RESERVED);
		return;
	}
	mb_mmap_add(pl, 0, MULTIBOOT_LOW_MEMORY_END, MULTIBOOT_MMAP_AVAILABLE);
	mb_mmap_add(pl, MULTIBOOT_LOW_MEMORY_END, MULTIBOOT_HIGH_MEMORY, MULTIBOOT_MMAP_RESERVED);
	mb_mmap_add(pl, MULTIBOOT_HIGH_MEMORY, upper_end, MULTIBOOT_MMAP_AVAILABLE);
	if (ram > apic) {
		mb_mmap_add(pl, apic, apic_end, MULTIBOOT_MMAP_RESERVED);
		mb_mmap_add(pl, apic_end, ram, MULTIBOOT_MMAP_AVAILABLE);
	}
}

/* Bump allocation of the boot data; sums saturate, and the range check
 * that follows refuses a saturated end. */
static uint64_t mb_take(uint64_t *cursor, uint64_t size)
{
	uint64_t at = *cursor;
	*cursor = at > UINT64_MAX - size ? UINT64_MAX : at + size;
	return at;
}

static size_t mb_kernel_cmdline_len(const struct multiboot_config *cfg)
{
	size_t n = strlen(cfg->append ? cfg->append : "") + 1;
	return cfg->cmdline_has_name ? n + strlen(cfg->kernel.name) + 1 : n;
}

static const char *mb_module_cmdline(const struct multiboot_image *m)
{
	return m->cmdline ? m->cmdline : "";
}

/* QEMU's order after the kernel: the module list, each module's command
 * line, the kernel's command line, the boot loader name. */
static void mb_plan_boot_data(const struct multiboot_config *cfg, struct mb_plan *pl)
{
	uint64_t cur = align_up(pl->hi > MULTIBOOT_HIGH_MEMORY ? pl->hi : MULTIBOOT_HIGH_MEMORY, MB_PAGE);
	pl->boot_data_start = cur;
	pl->mods_addr = mb_take(&cur, (uint64_t)cfg->nmodules * MBM_SIZE);
	for (size_t i = 0; i < cfg->nmodules; i++)
		pl->mod_cmdline_addr[i] = mb_take(&cur, strlen(mb_module_cmdline(&cfg->modules[i])) + 1);
	pl->cmdline_addr = mb_take(&cur, mb_kernel_cmdline_len(cfg));
	pl->loader_name_addr = mb_take(&cur, sizeof MULTIBOOT_LOADER_NAME);
	pl->boot_data_end = cur;
}

/* A range that kernel, boot data or module bytes may occupy: inside RAM,
 * clear of the boot information at 0x9000, the 640K-1M hole and the APIC
 * page. */
static bool mb_check_range(const struct phys *ram, const char *name,
			   const char *what, uint64_t lo, uint64_t hi, char *err, size_t errlen)
{
	static const uint64_t reserved[MB_RESERVED_RANGES][2] = {
		{ MULTIBOOT_MMAP_ADDR, MULTIBOOT_LOW_END },
		{ MULTIBOOT_LOW_MEMORY_END, MULTIBOOT_HIGH_MEMORY },
		{ LAPIC_DEFAULT_BASE, LAPIC_DEFAULT_BASE + LAPIC_PAGE_SIZE },
	};
	static const char *const reserved_name[MB_RESERVED_RANGES] = {
		"the boot information at 0x9000", "the 640K-1M hole", "the local APIC page",
	};
	if (hi > ram->size)
		return mb_fail(err, errlen, name, "%s 0x%llx-0x%llx lies past the end of RAM (%llu MiB)", what,
			       (unsigned long long)lo, (unsigned long long)hi,
			       (unsigned long long)(ram->size >> 20));
	for (unsigned i = 0; i < MB_RESERVED_RANGES; i++)
		if (lo < reserved[i][1] && reserved[i][0] < hi)
			return mb_fail(err, errlen, name, "%s 0x%llx-0x%llx overlaps %s", what,
				       (unsigned long long)lo, (unsigned long long)hi, reserved_name[i]);
	return true;
}

static bool mb_plan_kernel_ranges(struct mb_plan *pl, const struct phys *ram, char *err, size_t errlen)
{
	pl->lo = UINT64_MAX;
	pl->hi = 0;
	for (size_t i = 0; i < pl->nseg; i++) {
		const struct mb_seg *s = &pl->seg[i];
		char what[32];
		snprintf(what, sizeof what, "segment %zu", s->index);
		if (!mb_check_range(ram, pl->name, what, s->paddr, s->paddr + s->memsz, err, errlen))
			return false;
		pl->lo = s->paddr < pl->lo ? s->paddr : pl->lo;
		pl->hi = s->paddr + s->memsz > pl->hi ? s->paddr + s->memsz : pl->hi;
	}
	return true;
}

/* The boot data and the modules follow the kernel, each module on a page
 * boundary (header flag 0 is always honoured); every address must fit
 * the 32-bit fields that point at it. */
static bool mb_plan_modules(const struct multiboot_config *cfg, struct mb_plan *pl, const struct phys *ram,
			    char *err, size_t errlen)
{
	mb_plan_boot_data(cfg, pl);
	if (!mb_check_range(ram, pl->name, "boot data (module list, command lines)", pl->boot_data_start, pl->boot_data_end,
			    err, errlen))
		return false;
	if (pl->boot_data_end > MB_4GIB)
		return mb_fail(err, errlen, pl->name, "boot data (module list, command lines) would end above 4 GiB");
	uint64_t cur = align_up(pl->boot_data_end, MB_PAGE);
	for (size_t i = 0; i < cfg->nmodules; i++) {
		const struct multiboot_image *m = &cfg->modules[i];
		uint64_t end = cur > UINT64_MAX - m->size ? UINT64_MAX : cur + m->size;
		if (!mb_check_range(ram, m->name, "module", cur, end, err, errlen))
			return false;
		if (end > MB_4GIB)
			return mb_fail(err, errlen, m->name, "module would end above 4 GiB");
		pl->mod_addr[i] = cur;
		cur = align_up(end, MB_PAGE);
	}
	return true;
}

static bool mb_plan(const struct phys *ram, const struct multiboot_config *cfg, struct mb_plan *pl,
		    char *err, size_t errlen)
{
	const struct multiboot_image *k = &cfg->kernel;
	size_t hdr = 0;
	uint32_t flags = 0;
	if (cfg->nmodules > MULTIBOOT_MAX_MODULES)
		return mb_fail(err, errlen, k->name, "too many modules (at most %d)", MULTIBOOT_MAX_MODULES);
	if (!mb_find_header(k, &hdr, &flags, err, errlen) || !mb_check_flags(k, flags, err, errlen))
		return false;
	pl->video_ignored = flags & MULTIBOOT_FLAG_VIDEO_MODE;
	if (flags & MULTIBOOT_FLAG_AOUT_KLUDGE) {
		pl->seg = calloc(1, sizeof *pl->seg);
		if (!pl->seg)
			return mb_fail(err, errlen, k->name, "out of memory");
		if (!mb_plan_aout(k, hdr, pl, err, errlen))
			return false;
	} else if (!mb_plan_elf(k, pl, err, errlen)) {
		return false;
	}
	mb_plan_memory_map(pl, ram->size);
	return mb_plan_kernel_ranges(pl, ram, err, errlen) && mb_plan_modules(cfg, pl, ram, err, errlen);
}

/* ---- Writing */

static void mb_write_zeros(struct phys *ram, uint64_t pa, uint64_t len)
{
	static const uint8_t zeros[4096];
	while (len) {
		size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
		phys_write_bytes(ram, pa, zeros, n);
		pa += n;
		len -= n;
	}
}

static void mb_write_string(struct phys *ram, uint64_t pa, const char *s)
{
	phys_write_bytes(ram, pa, s, strlen(s) + 1);
}

/* A flat descriptor: base 0, limit 0xFFFFF in 4-KByte units (4 GiB),
 * present, DPL 0, code/data (S = 1), 32-bit (D/B = 1) (SDM Vol. 3A §3.4.5). */
static uint64_t mb_flat_descriptor(uint8_t type)
{
	const uint64_t raw_limit = 0xFFFFF;
	return (raw_limit & 0xFFFF) << DESC_LIMIT_LO_SHIFT | (raw_limit >> DESC_LIMIT_LO_BITS) << DESC_LIMIT_HI_SHIFT |
	       (uint64_t)type << DESC_TYPE_SHIFT | UINT64_C(1) << DESC_S_SHIFT | UINT64_C(1) << DESC_P_SHIFT |
	       UINT64_C(1) << DESC_DB_SHIFT | UINT64_C(1) << DESC_G_SHIFT;
}

#define MB_CODE_TYPE (SEG_TYPE_CODE | SEG_TYPE_CODE_READABLE | SEG_TYPE_ACCESSED)
#define MB_DATA_TYPE (SEG_TYPE_DATA_WRITABLE | SEG_TYPE_ACCESSED)

static void mb_write_gdt(struct phys *ram, uint64_t gdt)
{
	phys_write(ram, gdt, 0, SEG_DESC_SIZE);
	phys_write(ram, gdt + MULTIBOOT_CS_SELECTOR, mb_flat_descriptor(MB_CODE_TYPE), SEG_DESC_SIZE);
	phys_write(ram, gdt + MULTIBOOT_DS_SELECTOR, mb_flat_descriptor(MB_DATA_TYPE), SEG_DESC_SIZE);
}

static void mb_write_cmdline(struct phys *ram, const struct multiboot_config *cfg, uint64_t pa)
{
	const char *append = cfg->append ? cfg->append : "";
	if (cfg->cmdline_has_name) {
		size_t n = strlen(cfg->kernel.name);
		phys_write_bytes(ram, pa, cfg->kernel.name, n);
		phys_write(ram, pa + n, ' ', 1);
		pa += n + 1;
	}
	mb_write_string(ram, pa, append);
}

static void mb_write_mmap(struct phys *ram, const struct mb_plan *pl)
{
	for (unsigned i = 0; i < pl->nmmap; i++) {
		uint64_t e = MULTIBOOT_MMAP_ADDR + (uint64_t)i * MMAP_ENTRY_SIZE;
		phys_write(ram, e + MMAP_SIZE, MMAP_ENTRY_SIZE - MMAP_BASE, 4); /* size excludes itself */
		phys_write(ram, e + MMAP_BASE, pl->mmap[i].base, 8);
		phys_write(ram, e + MMAP_LENGTH, pl->mmap[i].length, 8);
		phys_write(ram, e + MMAP_TYPE, pl->mmap[i].type, 4);
	}
}

static void mb_write_module_list(struct phys *ram, const struct multiboot_config *cfg, const struct mb_plan *pl)
{
	for (size_t i = 0; i < cfg->nmodules; i++) {
		uint64_t e = pl->mods_addr + i * MBM_SIZE;
		phys_write(ram, e + MBM_START, pl->mod_addr[i], 4);
		phys_write(ram, e + MBM_END, pl->mod_addr[i] + cfg->modules[i].size, 4);
		phys_write(ram, e + MBM_STRING, pl->mod_cmdline_addr[i], 4);
		phys_write(ram, e + MBM_STRING + 4, 0, 4); /* reserved */
		mb_write_string(ram, pl->mod_cmdline_addr[i], mb_module_cmdline(&cfg->modules[i]));
	}
}

static void mb_write_info(struct phys *ram, const struct multiboot_config *cfg, const struct mb_plan *pl)
{
	uint64_t mbi = MULTIBOOT_INFO_ADDR;
	mb_write_zeros(ram, mbi, MBI_SIZE);
	phys_write(ram, mbi + MBI_FLAGS, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_BOOTDEV | MULTIBOOT_INFO_CMDLINE |
		   MULTIBOOT_INFO_MODS | MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_LOADER_NAME, 4);
	phys_write(ram, mbi + MBI_MEM_LOWER, MULTIBOOT_LOW_MEMORY_END / 1024, 4);
	phys_write(ram, mbi + MBI_MEM_UPPER, pl->mem_upper_kib, 4);
	phys_write(ram, mbi + MBI_BOOT_DEVICE, MULTIBOOT_BOOT_DEVICE_NONE, 4);
	phys_write(ram, mbi + MBI_CMDLINE, pl->cmdline_addr, 4);
	phys_write(ram, mbi + MBI_MODS_COUNT, cfg->nmodules, 4);
	phys_write(ram, mbi + MBI_MODS_ADDR, pl->mods_addr, 4);
	phys_write(ram, mbi + MBI_MMAP_LENGTH, (uint64_t)pl->nmmap * MMAP_ENTRY_SIZE, 4);
	phys_write(ram, mbi + MBI_MMAP_ADDR, MULTIBOOT_MMAP_ADDR, 4);
	phys_write(ram, mbi + MBI_BOOT_LOADER_NAME, pl->loader_name_addr, 4);
	mb_write_mmap(ram, pl);
	mb_write_module_list(ram, cfg, pl);
	mb_write_gdt(ram, MULTIBOOT_GDT_ADDR);
	mb_write_string(ram, pl->loader_name_addr, MULTIBOOT_LOADER_NAME);
	mb_write_cmdline(ram, cfg, pl->cmdline_addr);
}

/* The BIOS data area as SeaBIOS leaves it under QEMU, where kernels
 * that find low memory and serial ports there before trusting the
 * Multiboot information look (Xen's 32-bit entry code reads the EBDA
 * segment and the base-memory size to place its trampoline): COM1's I/O
 * base, the EBDA's segment and its size word, and the base memory below
 * the EBDA in KiB. Written only with the QEMU-style memory map, whose
 * reserved EBDA these fields describe. */
#define BDA_COM1 UINT64_C(0x400)
#define BDA_EBDA_SEGMENT UINT64_C(0x40e)
#define BDA_BASE_MEMORY_KIB UINT64_C(0x413)
#define EBDA_SIZE_KIB 1u

/* An Intel MultiProcessor Specification 1.4 table in the EBDA's first
 * KiB, where kernels search first (spec §4): the floating pointer, then
 * the configuration table for this machine: one processor (the BSP, local
 * APIC ID 0, with CPUID's signature and features), the ISA bus, and the
 * local interrupts as a PC wires them (ExtINT to LINT0, NMI to LINT1). No
 * I/O APIC: there is none, and the 8259A reaches the CPU through LINT0 in
 * virtual-wire mode (feature byte 2 = 0: no IMCR). SeaBIOS leaves an MP
 * table under QEMU too; kernels without ACPI take their CPUs from it. */
#define MP_FLOAT_ADDR (QEMU_EBDA + 0x10)
#define MP_CONFIG_ADDR (QEMU_EBDA + 0x20)
#define MP_SPEC_REV 4
/* Floating pointer structure (spec Figure 4-1): 16 bytes. */
#define MPF_SIGNATURE 0      /* "_MP_" */
#define MPF_CONFIG 4         /* physical address of the configuration table */
#define MPF_LENGTH 8         /* in 16-byte units */
#define MPF_SPEC 9
#define MPF_CHECKSUM 10      /* feature bytes 1-5 follow, all 0: a table, virtual wire */
#define MPF_BYTES 16
/* Configuration table header (Figure 4-2): 44 bytes. */
#define MPC_SIGNATURE 0      /* "PCMP" */
#define MPC_LENGTH 4         /* base table length, 16 bits */
#define MPC_SPEC 6
#define MPC_CHECKSUM 7
#define MPC_OEM 8            /* 8 characters */
#define MPC_PRODUCT 16       /* 12 characters */
#define MPC_ENTRY_COUNT 34   /* 16 bits */
#define MPC_LAPIC 36         /* the local APIC's address */
#define MPC_HEADER_BYTES 44
/* Entries (Figures 4-4, 4-5, 4-9): the type in byte 0. */
#define MP_ENTRY_PROCESSOR 0 /* 20 bytes: APIC ID, version, flags, signature, features */
#define MP_PROC_APIC_VERSION 2
#define MP_PROC_FLAGS 3
#define MP_PROC_SIGNATURE 4
#define MP_PROC_FEATURES 8
#define MP_PROC_BYTES 20
#define MP_ENTRY_BUS 1       /* 8 bytes: bus ID, six-character type */
#define MP_BUS_TYPE 2
#define MP_ENTRY_LOCAL_INT 4 /* 8 bytes: type, flags, source bus and IRQ, APIC, LINTIN# */
#define MP_LINT_TYPE 1
#define MP_LINT_DEST_APIC 6
#define MP_LINT_DEST_LINTIN 7
#define MP_SMALL_ENTRY_BYTES 8
#define MP_CPU_ENABLED 0x01
#define MP_CPU_BSP 0x02
#define MP_INT_NMI 1
#define MP_INT_EXTINT 3
#define MP_ALL_APICS 0xFF
#define MP_ENTRIES 4
#define MP_CONFIG_BYTES (MPC_HEADER_BYTES + MP_PROC_BYTES + 3 * MP_SMALL_ENTRY_BYTES)

/* Write the checksum byte at pa + at that makes [pa, pa + n) sum to 0. */
static void mp_checksum(struct phys *ram, uint64_t pa, unsigned n, unsigned at)
{
	uint8_t sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum = (uint8_t)(sum + phys_read(ram, pa + i, 1));
	phys_write(ram, pa + at, (uint8_t)-sum, 1);
}

static void mb_write_mp_table(struct phys *ram)
{
	const uint64_t t = MP_CONFIG_ADDR, f = MP_FLOAT_ADDR;
	mb_write_zeros(ram, f, MPF_BYTES);
	mb_write_zeros(ram, t, MP_CONFIG_BYTES);
	phys_write_bytes(ram, t + MPC_SIGNATURE, "PCMP", 4);
	phys_write(ram, t + MPC_LENGTH, MP_CONFIG_BYTES, 2);
	phys_write(ram, t + MPC_SPEC, MP_SPEC_REV, 1);
	phys_write_bytes(ram, t + MPC_OEM, "MMULAB  ", 8);
	phys_write_bytes(ram, t + MPC_PRODUCT, "MMULAB PC   ", 12);
	phys_write(ram, t + MPC_ENTRY_COUNT, MP_ENTRIES, 2);
	phys_write(ram, t + MPC_LAPIC, LAPIC_DEFAULT_BASE, 4);
	uint64_t e = t + MPC_HEADER_BYTES;
	phys_write(ram, e, MP_ENTRY_PROCESSOR, 1); /* APIC ID 0 */
	phys_write(ram, e + MP_PROC_APIC_VERSION, LAPIC_VERSION_VALUE & 0xff, 1);
	phys_write(ram, e + MP_PROC_FLAGS, MP_CPU_ENABLED | MP_CPU_BSP, 1);
	phys_write(ram, e + MP_PROC_SIGNATURE, CPUID1_SIGNATURE, 4);
	phys_write(ram, e + MP_PROC_FEATURES, cpuid_leaf1_edx(true), 4);
	e += MP_PROC_BYTES;
	phys_write(ram, e, MP_ENTRY_BUS, 1); /* bus ID 0 */
	phys_write_bytes(ram, e + MP_BUS_TYPE, "ISA   ", 6);
	for (unsigned lint = 0; lint < 2; lint++) { /* from bus 0 IRQ 0, conforming */
		e += MP_SMALL_ENTRY_BYTES;
		phys_write(ram, e, MP_ENTRY_LOCAL_INT, 1);
		phys_write(ram, e + MP_LINT_TYPE, lint ? MP_INT_NMI : MP_INT_EXTINT, 1);
		phys_write(ram, e + MP_LINT_DEST_APIC, MP_ALL_APICS, 1);
		phys_write(ram, e + MP_LINT_DEST_LINTIN, lint, 1);
	}
	mp_checksum(ram, t, MP_CONFIG_BYTES, MPC_CHECKSUM);
	phys_write_bytes(ram, f + MPF_SIGNATURE, "_MP_", 4);
	phys_write(ram, f + MPF_CONFIG, t, 4);
	phys_write(ram, f + MPF_LENGTH, MPF_BYTES / 16, 1);
	phys_write(ram, f + MPF_SPEC, MP_SPEC_REV, 1);
	mp_checksum(ram, f, MPF_BYTES, MPF_CHECKSUM);
}

static void mb_write_bios_data(struct phys *ram, const struct mb_plan *pl)
{
	if (!pl->nmmap || pl->mmap[0].length != QEMU_EBDA)
		return; /* the plain PC map: no EBDA */
	phys_write(ram, BDA_COM1, UART_COM1_PORT, 2);
	phys_write(ram, BDA_EBDA_SEGMENT, QEMU_EBDA >> 4, 2);
	phys_write(ram, BDA_BASE_MEMORY_KIB, QEMU_EBDA / 1024, 2);
	phys_write(ram, QEMU_EBDA, EBDA_SIZE_KIB, 2);
	mb_write_mp_table(ram);
}

static void mb_write(struct phys *ram, const struct multiboot_config *cfg, const struct mb_plan *pl)
{
	for (size_t i = 0; i < pl->nseg; i++) {
		const struct mb_seg *s = &pl->seg[i];
		phys_write_bytes(ram, s->paddr, cfg->kernel.data + s->offset, s->filesz);
		mb_write_zeros(ram, s->paddr + s->filesz, s->memsz - s->filesz); /* bss */
	}
	for (size_t i = 0; i < cfg->nmodules; i++)
		phys_write_bytes(ram, pl->mod_addr[i], cfg->modules[i].data, cfg->modules[i].size);
	mb_write_info(ram, cfg, pl);
	mb_write_bios_data(ram, pl);
}

static struct seg_cache mb_flat_cache(uint16_t selector, uint8_t type)
{
	return (struct seg_cache){ .selector = selector, .base = 0, .limit = UINT32_MAX, .type = type, .s = true,
				   .dpl = 0, .p = true, .db = true, .g = true, .usable = true };
}

/* Machine state at entry (spec §3.2). */
static void mb_boot_state(const struct mb_plan *pl, struct multiboot_boot_state *out)
{
	*out = (struct multiboot_boot_state){
		.eip = pl->entry, .eax = MULTIBOOT_BOOTLOADER_MAGIC, .ebx = (uint32_t)MULTIBOOT_INFO_ADDR,
		.cr0 = CR0_PE | CR0_ET, .rflags = MB_RFLAGS_RESERVED,
		.gdtr = { .base = MULTIBOOT_GDT_ADDR, .limit = MULTIBOOT_GDT_ENTRIES * SEG_DESC_SIZE - 1 },
		.idtr = { .base = 0, .limit = MB_IDTR_REAL_LIMIT },
		.a20 = true,
		.kernel_start = pl->lo, .kernel_end = pl->hi,
		.boot_data_start = pl->boot_data_start, .boot_data_end = pl->boot_data_end,
		.video_request_ignored = pl->video_ignored,
	};
	for (unsigned r = 0; r < SEG_NREGS; r++)
		out->sreg[r] = mb_flat_cache(MULTIBOOT_DS_SELECTOR, MB_DATA_TYPE);
	out->sreg[SEG_CS] = mb_flat_cache(MULTIBOOT_CS_SELECTOR, MB_CODE_TYPE);
}

bool multiboot_load(struct phys *ram, const struct multiboot_config *cfg, struct multiboot_boot_state *out,
		    char *err, size_t errlen)
{
	struct mb_plan *pl = calloc(1, sizeof *pl);
	if (!pl)
		return mb_fail(err, errlen, cfg->kernel.name, "out of memory");
	pl->name = cfg->kernel.name;
	bool ok = mb_plan(ram, cfg, pl, err, errlen);
	if (ok) {
		mb_write(ram, cfg, pl);
		mb_boot_state(pl, out);
	}
	free(pl->seg);
	free(pl);
	return ok;
}

/* ---- Files */

/* Read a whole file of at most `limit` bytes into a fresh buffer. */
static bool mb_read_file(const char *path, uint64_t limit, uint8_t **data, size_t *size, char *err,
			 size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return mb_fail(err, errlen, path, "%s", strerror(errno));
	bool ok = false;
	long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
		mb_fail(err, errlen, path, "cannot determine the file size");
	} else if ((uint64_t)len > limit) {
		mb_fail(err, errlen, path, "file is larger than guest RAM");
	} else if (!(*data = malloc(len ? (size_t)len : 1))) {
		mb_fail(err, errlen, path, "out of memory");
	} else if (fread(*data, 1, (size_t)len, f) != (size_t)len) {
		mb_fail(err, errlen, path, "read error");
		free(*data);
		*data = NULL;
	} else {
		*size = (size_t)len;
		ok = true;
	}
	fclose(f);
	return ok;
}

/* Split QEMU's -initrd list: ',' separates modules, ",," is a literal comma.
 * Returns the number of modules, each a fresh string in specs[]; -1 if
 * there are more than MULTIBOOT_MAX_MODULES or memory runs out. */
static int mb_split_initrd(const char *list, char **specs)
{
	int n = 0;
	const char *p = list;
	while (*p) {
		if (n == MULTIBOOT_MAX_MODULES)
			return -1;
		char *s = malloc(strlen(p) + 1);
		if (!s)
			return -1;
		specs[n++] = s;
		for (; *p; p++) {
			if (*p == ',' && p[1] != ',')
				break;
			*s++ = *p;
			p += *p == ','; /* ",," → ',' */
		}
		*s = '\0';
		p += *p == ',';
	}
	return n;
}

struct mb_files {
	uint8_t *kernel;
	char *specs[MULTIBOOT_MAX_MODULES];
	char *paths[MULTIBOOT_MAX_MODULES];
	uint8_t *data[MULTIBOOT_MAX_MODULES];
	struct multiboot_image mods[MULTIBOOT_MAX_MODULES];
	int nmods;
};

static void mb_files_free(struct mb_files *f)
{
	free(f->kernel);
	for (int i = 0; i < MULTIBOOT_MAX_MODULES; i++) {
		free(f->specs[i]);
		free(f->paths[i]);
		free(f->data[i]);
	}
	free(f);
}

/* One module: the file is the text before the first space; the whole text
 * is its command line (QEMU). */
static bool mb_read_module(struct mb_files *f, int i, uint64_t limit, char *err, size_t errlen)
{
	const char *spec = f->specs[i];
	size_t n = strcspn(spec, " ");
	f->paths[i] = strndup(spec, n);
	if (!f->paths[i])
		return mb_fail(err, errlen, spec, "out of memory");
	f->mods[i] = (struct multiboot_image){ .name = f->paths[i], .cmdline = spec };
	if (!mb_read_file(f->paths[i], limit, &f->data[i], &f->mods[i].size, err, errlen))
		return false;
	f->mods[i].data = f->data[i];
	return true;
}

bool multiboot_load_files(struct phys *ram, const char *kernel_path, const char *initrd, const char *append,
			  struct multiboot_boot_state *out, char *err, size_t errlen)
{
	struct mb_files *f = calloc(1, sizeof *f);
	if (!f)
		return mb_fail(err, errlen, kernel_path, "out of memory");
	struct multiboot_config cfg = { .kernel = { .name = kernel_path }, .append = append,
					.cmdline_has_name = true };
	bool ok = mb_read_file(kernel_path, ram->size, &f->kernel, &cfg.kernel.size, err, errlen);
	cfg.kernel.data = f->kernel;
	if (ok && initrd) {
		f->nmods = mb_split_initrd(initrd, f->specs);
		if (f->nmods < 0)
			ok = mb_fail(err, errlen, kernel_path, "too many modules in -initrd (at most %d)",
				     MULTIBOOT_MAX_MODULES);
		for (int i = 0; ok && i < f->nmods; i++)
			ok = mb_read_module(f, i, ram->size, err, errlen);
		cfg.modules = f->mods;
		cfg.nmodules = ok ? (size_t)f->nmods : 0;
	}
	ok = ok && multiboot_load(ram, &cfg, out, err, errlen);
	mb_files_free(f);
	return ok;
}
