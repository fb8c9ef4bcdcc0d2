/* Multiboot v1 loader (Multiboot Specification 0.6.96), following
 * QEMU's `-kernel` conventions so that one image boots in both.
 *
 * Input: a kernel image (ELF32, ELF64, or any file with the a.out-kludge
 * address fields, which take precedence), modules, a command line. Output:
 * the image, modules and boot information written into guest RAM, and the
 * CPU state the specification requires at entry (struct
 * multiboot_boot_state), for the CPU to apply.
 *
 * Everything is checked before the first byte is written: a bad image
 * leaves RAM untouched and returns false with one line
 * "mmulab: FILE: what is wrong" in err. Nothing here exits or aborts.
 *
 * Guest physical memory layout after a load, the same as QEMU's
 * (docs/multiboot.md):
 *
 *   0x00009000  memory map (MULTIBOOT_MMAP_ADDR)
 *   0x00009500  multiboot_info (MULTIBOOT_INFO_ADDR, in EBX), then the GDT;
 *               no kernel segment may overlap 0x9000..MULTIBOOT_LOW_END
 *   0x000A0000  reserved hole (VGA, BIOS), up to 1 MiB
 *   0x00100000  kernel segments at their physical addresses
 *   next page   boot data: module list, module command lines, kernel
 *               command line, boot loader name
 *   next page   modules, each page-aligned
 */
#ifndef EMU_MULTIBOOT_H
#define EMU_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/fault.h"
#include "mmu/phys.h"
#include "mmu/seg.h"

/* Header (spec §3.1). */
#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT_SEARCH_BYTES 8192
#define MULTIBOOT_HEADER_ALIGN 4
#define MULTIBOOT_FLAG_PAGE_ALIGN (1u << 0) /* modules page-aligned */
#define MULTIBOOT_FLAG_MEMORY_INFO (1u << 1) /* mem_* and mmap_* required */
#define MULTIBOOT_FLAG_VIDEO_MODE (1u << 2) /* video mode table requested */
#define MULTIBOOT_FLAG_AOUT_KLUDGE (1u << 16) /* address fields valid */
#define MULTIBOOT_REQUIRED_MASK 0x0000FFFFu /* bits 0-15: the loader must honour them or refuse */

/* Handoff (spec §3.2, §3.3). */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_INFO_MEMORY (1u << 0)
#define MULTIBOOT_INFO_BOOTDEV (1u << 1)
#define MULTIBOOT_INFO_CMDLINE (1u << 2)
#define MULTIBOOT_INFO_MODS (1u << 3)
#define MULTIBOOT_INFO_MMAP (1u << 6)
#define MULTIBOOT_INFO_LOADER_NAME (1u << 9)
#define MULTIBOOT_MMAP_AVAILABLE 1u
#define MULTIBOOT_MMAP_RESERVED 2u
#define MULTIBOOT_LOADER_NAME "mmulab"
/* "No BIOS drive, no partition", the value QEMU passes. */
#define MULTIBOOT_BOOT_DEVICE_NONE 0x8000FFFFu

/* Byte offsets in struct multiboot_info (spec §3.3). */
enum multiboot_info_offset {
	MBI_FLAGS = 0,
	MBI_MEM_LOWER = 4,
	MBI_MEM_UPPER = 8,
	MBI_BOOT_DEVICE = 12,
	MBI_CMDLINE = 16,
	MBI_MODS_COUNT = 20,
	MBI_MODS_ADDR = 24,
	MBI_MMAP_LENGTH = 44,
	MBI_MMAP_ADDR = 48,
	MBI_BOOT_LOADER_NAME = 64,
	MBI_SIZE = 116, /* through the framebuffer fields, all left zero */
};
/* A module entry: mod_start, mod_end, string, reserved. */
enum multiboot_mod_offset { MBM_START = 0, MBM_END = 4, MBM_STRING = 8, MBM_SIZE = 16 };
/* A memory-map entry: size (of the rest, 20), base_addr, length, type. */
enum multiboot_mmap_offset { MMAP_SIZE = 0, MMAP_BASE = 4, MMAP_LENGTH = 12, MMAP_TYPE = 20,
			     MMAP_ENTRY_SIZE = 24 };

/* Where the boot information goes: QEMU's addresses. */
#define MULTIBOOT_MMAP_ADDR UINT64_C(0x9000)
#define MULTIBOOT_INFO_ADDR UINT64_C(0x9500)
#define MULTIBOOT_GDT_ADDR UINT64_C(0x9578) /* after the 116-byte info, 8-aligned */
#define MULTIBOOT_LOW_END (MULTIBOOT_GDT_ADDR + MULTIBOOT_GDT_ENTRIES * SEG_DESC_SIZE)
#define MULTIBOOT_LOW_MEMORY_END UINT64_C(0xA0000)  /* 640 KiB */
#define MULTIBOOT_HIGH_MEMORY UINT64_C(0x100000)    /* 1 MiB */
#define MULTIBOOT_MAX_MODULES 256

/* GDT the loader leaves for the kernel (selectors as QEMU's loader uses). */
#define MULTIBOOT_CS_SELECTOR 0x08
#define MULTIBOOT_DS_SELECTOR 0x10
#define MULTIBOOT_GDT_ENTRIES 3

/* One input file: its name (for messages and, for the kernel, the command
 * line as QEMU builds it), its bytes, and for a module its command line. */
struct multiboot_image {
	const char *name;
	const uint8_t *data;
	size_t size;
	const char *cmdline; /* modules: the string passed in mods[i].string */
};

struct multiboot_config {
	struct multiboot_image kernel;
	const char *append;         /* -append text; NULL = "" */
	bool cmdline_has_name;      /* QEMU: cmdline = "<kernel name> <append>" */
	const struct multiboot_image *modules;
	size_t nmodules;
};

/* The machine state at the kernel's entry (spec §3.2): 32-bit protected
 * mode, paging off, flat 4-GiB code and data segments, A20 on, interrupts
 * off. The CPU applies it as is. */
struct multiboot_boot_state {
	uint32_t eip;
	uint32_t eax;                      /* MULTIBOOT_BOOTLOADER_MAGIC */
	uint32_t ebx;                      /* physical address of multiboot_info */
	uint64_t cr0;                      /* PE (and ET, which is fixed at 1) */
	uint64_t cr4, efer;                /* 0 */
	uint64_t rflags;                   /* 0x2: IF = 0, VM = 0 */
	struct seg_cache sreg[SEG_NREGS];  /* CS 0x08 execute/read, others 0x10 read/write */
	struct seg_dtr gdtr;               /* the GDT at MULTIBOOT_GDT_ADDR */
	struct seg_dtr idtr;               /* base 0, limit 0x3FF, as the BIOS leaves it */
	bool a20;                          /* true */
	/* Where things went, for diagnostics and tests. */
	uint64_t kernel_start, kernel_end; /* lowest and highest+1 byte of the kernel */
	uint64_t boot_data_start, boot_data_end; /* module list and strings */
	bool video_request_ignored;        /* header flag 2 set: no video info given (as QEMU) */
};

/* Load from memory buffers (the fuzzer uses this). On failure RAM is
 * unchanged and err holds the one-line reason. */
MMU_WUR bool multiboot_load(struct phys *ram, const struct multiboot_config *cfg,
			    struct multiboot_boot_state *out, char *err, size_t errlen);

/* The `-kernel`, `-initrd`, `-append` front end: read the files and load.
 * initrd (may be NULL) is QEMU's list: modules separated by ',', ",," for a
 * literal comma; within one module, text after the first space is its
 * arguments, and the whole text is its command line. */
MMU_WUR bool multiboot_load_files(struct phys *ram, const char *kernel_path, const char *initrd,
				  const char *append, struct multiboot_boot_state *out, char *err,
				  size_t errlen);

#endif
