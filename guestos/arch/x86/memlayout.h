/* The guest kernel's address-space layout, shared by C and the entry stub.
 *
 * Virtual addresses (x86-64, 4-level paging):
 *
 *   0xffffffffffffffff ┌──────────────────────────────┐
 *                      │ kernel image (text, data,    │ va = __START_KERNEL_map + pa
 *                      │ bss): physical 0..1 GiB      │
 *   0xffffffff80000000 ├──────────────────────────────┤ __START_KERNEL_map
 *                      │ unused                       │
 *                      ├──────────────────────────────┤ PAGE_OFFSET + end of RAM
 *                      │ direct map of all RAM        │ __va(pa) = pa + PAGE_OFFSET
 *                      │ (2 MiB pages)                │
 *   0xffff888000000000 ├──────────────────────────────┤ PAGE_OFFSET (page_offset_base)
 *                      │ unused                       │
 *   0x00007ffffffff000 ├──────────────────────────────┤ TASK_SIZE (mm/mm_types.h)
 *                      │ user space: one mm_struct    │ [stack] below TASK_SIZE,
 *                      │ per process (mm/mmap.h)      │ mmap below 0x7f0000000000,
 *                      │                              │ programs at 0x400000
 *   0x0000000000000000 └──────────────────────────────┘
 *
 * During boot the first GiB is also identity-mapped, so that the 32-bit stub
 * survives turning paging on; the kernel removes that mapping once it runs
 * from the higher half.
 *
 * Physical memory (as loaded by a Multiboot loader, QEMU's placement):
 *
 *   0x00000000  page 0: never allocated (catches physical null pointers)
 *   0x00009000  Multiboot memory map and info: reserved
 *   0x000A0000  VGA and BIOS hole: not RAM
 *   0x00100000  kernel image (KERNEL_PHYS_BASE), then the Multiboot
 *               command lines and modules: reserved
 *   ...         free pages
 *   0x01000000  end of ZONE_DMA, start of ZONE_NORMAL
 *   top of RAM  mem_map, the struct page array (memblock allocates from
 *               the top down)
 */
#ifndef GUESTOS_ARCH_X86_MEMLAYOUT_H
#define GUESTOS_ARCH_X86_MEMLAYOUT_H

#define KERNEL_PHYS_BASE 0x100000
#define __START_KERNEL_map 0xffffffff80000000
#define PAGE_OFFSET 0xffff888000000000

#define PAGE_SHIFT 12
#define PAGE_SIZE (1 << PAGE_SHIFT)
#define PMD_SHIFT 21 /* one page-directory entry maps 2 MiB */
#define PMD_SIZE (1 << PMD_SHIFT)
#define PUD_SHIFT 30 /* one page-directory-pointer entry maps 1 GiB */
#define PGDIR_SHIFT 39
#define PTRS_PER_TABLE 512

/* The direct map reaches this far: four page directories of 2 MiB pages.
 * RAM above it is left unused (and said so at boot). */
#define DIRECT_MAP_GIB 4

/* GDT selectors, in Linux's order (arch/x86/include/asm/segment.h): SYSRET
 * needs user data right below user code, 8 bytes apart. */
#define GDT_ENTRY_KERNEL32_CS 1
#define GDT_ENTRY_KERNEL_CS 2
#define GDT_ENTRY_KERNEL_DS 3
#define GDT_ENTRY_USER32_CS 4
#define GDT_ENTRY_USER_DS 5
#define GDT_ENTRY_USER_CS 6
#define GDT_ENTRY_TSS 7 /* a 64-bit TSS descriptor takes two entries */
#define GDT_ENTRIES 9
#define __KERNEL_CS (GDT_ENTRY_KERNEL_CS * 8)
#define __KERNEL_DS (GDT_ENTRY_KERNEL_DS * 8)
#define __USER32_CS (GDT_ENTRY_USER32_CS * 8 + 3)
#define __USER_DS (GDT_ENTRY_USER_DS * 8 + 3)
#define __USER_CS (GDT_ENTRY_USER_CS * 8 + 3)
#define __TSS_SEL (GDT_ENTRY_TSS * 8)
#define SEGMENT_RPL_MASK 3 /* a selector's requested privilege level (SDM Vol. 3A §3.4.2) */
#define USER_RPL 3

/* Stacks (bytes). */
#define BOOT_STACK_SIZE 16384
#define IST_STACK_SIZE 8192

#endif
