/* Reading the Multiboot boot information into memblock. */
#ifndef GUESTOS_KERNEL_SETUP_H
#define GUESTOS_KERNEL_SETUP_H

#include "guestos/kernel/multiboot.h"

/* Print the memory map, add its usable RAM (whole pages, below the direct
 * map's reach) to memblock, and reserve page 0, the kernel image, the
 * boot information and the modules. Panics without a memory map. */
void setup_memory_map(const struct multiboot_info *mbi);

#endif
