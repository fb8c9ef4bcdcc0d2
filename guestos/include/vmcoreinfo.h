/* The guest kernel's VMCOREINFO block: how host tools (mmulab, its
 * visualizer) find the kernel's data structures without hard-coding their
 * layout. This header is the ABI shared by the kernel and the host; it
 * needs only <stdint.h>.
 *
 * The kernel image holds one struct vmcoreinfo_header (ELF symbol
 * `vmcoreinfo_header`, 16-byte aligned, in the loaded data: a host can
 * also find it by scanning guest RAM from the kernel's load address for
 * VMCOREINFO_MAGIC at a 16-byte boundary). Early in boot the kernel fills
 * the text at physical address data_pa and sets ready to 1. The text is
 * lines ending in '\n', in the style of Linux's VMCOREINFO:
 *
 *   SYMBOL(name)=<hex virtual address of the variable>
 *   SIZE(type)=<decimal sizeof>
 *   OFFSET(type.field)=<decimal offsetof>
 *   NUMBER(name)=<decimal value>
 *   PAGESIZE=<decimal>
 *
 * Addresses are kernel virtual addresses. A kernel-image address va (at or
 * above VMCOREINFO_START_KERNEL_MAP) is at physical address
 * va - VMCOREINFO_START_KERNEL_MAP + NUMBER(phys_base), as in Linux; a
 * direct-map address minus the value stored at SYMBOL(page_offset_base)
 * is its physical address. */
#ifndef GUESTOS_INCLUDE_VMCOREINFO_H
#define GUESTOS_INCLUDE_VMCOREINFO_H

#include <stdint.h>

#define VMCOREINFO_MAGIC "mmulab-vmcore01" /* 15 characters and a NUL */
#define VMCOREINFO_MAGIC_SIZE 16
#define VMCOREINFO_VERSION 1
#define VMCOREINFO_CAPACITY 4096
#define VMCOREINFO_START_KERNEL_MAP 0xffffffff80000000ULL /* Linux's __START_KERNEL_map */

struct vmcoreinfo_header {
	char magic[VMCOREINFO_MAGIC_SIZE];
	uint32_t version;
	uint32_t ready;    /* 1 once the text is complete */
	uint64_t data_pa;  /* physical address of the text */
	uint32_t size;     /* bytes of text, no terminating NUL counted */
	uint32_t capacity; /* bytes reserved for it */
};

#endif
