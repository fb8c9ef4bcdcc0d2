/* The Multiboot v1 boot information the kernel reads (Multiboot
 * Specification 0.6.96 §3.3). All addresses in it are physical. */
#ifndef GUESTOS_KERNEL_MULTIBOOT_H
#define GUESTOS_KERNEL_MULTIBOOT_H

#include "guestos/lib/types.h"

#define MULTIBOOT_INFO_CMDLINE (1 << 2)
#define MULTIBOOT_INFO_MODS (1 << 3)
#define MULTIBOOT_INFO_MEM_MAP (1 << 6)
#define MULTIBOOT_MEMORY_AVAILABLE 1

struct multiboot_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
	u32 apm_table;
	u32 vbe[6];
} __packed;

/* The size field counts the bytes after itself: entries are size + 4 apart. */
struct multiboot_mmap_entry {
	u32 size;
	u64 addr;
	u64 len;
	u32 type;
} __packed;

struct multiboot_mod_list {
	u32 mod_start, mod_end;
	u32 cmdline;
	u32 pad;
} __packed;

#endif
