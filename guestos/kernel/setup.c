#include "guestos/kernel/setup.h"

#include "guestos/kernel/printk.h"
#include "guestos/lib/string.h"
#include "guestos/mm/memblock.h"
#include "guestos/mm/mm.h"

#define DIRECT_MAP_END ((phys_addr_t)DIRECT_MAP_GIB << PUD_SHIFT)

extern char _end[]; /* end of the kernel image (linker script) */

static void add_usable_range(u64 base, u64 len)
{
	u64 start = ALIGN_UP(base, (u64)PAGE_SIZE);
	u64 end = ALIGN_DOWN(base + len, (u64)PAGE_SIZE);

	if (end > DIRECT_MAP_END) {
		pr_warn("RAM above %lu GiB is not used\n", (unsigned long)DIRECT_MAP_GIB);
		end = DIRECT_MAP_END;
	}
	if (end > start)
		memblock_add(start, end - start);
}

static void read_mmap(const struct multiboot_info *mbi)
{
	const u8 *p = __va(mbi->mmap_addr);
	const u8 *end = p + mbi->mmap_length;

	pr_info("multiboot: physical RAM map:\n");
	while (p < end) {
		const struct multiboot_mmap_entry *e = (const void *)p;
		bool usable = e->type == MULTIBOOT_MEMORY_AVAILABLE;

		pr_info("multiboot: [mem 0x%016lx-0x%016lx] %s\n", (unsigned long)e->addr,
			(unsigned long)(e->addr + e->len - 1), usable ? "usable" : "reserved");
		if (usable)
			add_usable_range(e->addr, e->len);
		p += e->size + sizeof(e->size);
	}
}

static void reserve_string(u32 pa)
{
	if (pa)
		memblock_reserve(pa, strlen(__va(pa)) + 1);
}

static void reserve_boot_data(const struct multiboot_info *mbi)
{
	memblock_reserve(0, PAGE_SIZE); /* page 0: a null physical pointer faults nothing */
	memblock_reserve(KERNEL_PHYS_BASE, __pa(_end) - KERNEL_PHYS_BASE);
	memblock_reserve(__pa(mbi), sizeof(*mbi));
	memblock_reserve(mbi->mmap_addr, mbi->mmap_length);
	if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
		reserve_string(mbi->cmdline);
	if (!(mbi->flags & MULTIBOOT_INFO_MODS) || !mbi->mods_count)
		return;
	const struct multiboot_mod_list *mods = __va(mbi->mods_addr);
	memblock_reserve(mbi->mods_addr, mbi->mods_count * sizeof(*mods));
	for (u32 i = 0; i < mbi->mods_count; i++) {
		memblock_reserve(mods[i].mod_start, mods[i].mod_end - mods[i].mod_start);
		reserve_string(mods[i].cmdline);
	}
}

void setup_memory_map(const struct multiboot_info *mbi)
{
	if (!(mbi->flags & MULTIBOOT_INFO_MEM_MAP))
		panic("multiboot: no memory map");
	read_mmap(mbi);
	reserve_boot_data(mbi);
	pr_info("kernel image: [mem 0x%08lx-0x%08lx]\n", (unsigned long)KERNEL_PHYS_BASE,
		(unsigned long)__pa(_end) - 1);
}
