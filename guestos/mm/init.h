/* Memory initialisation, in boot order: memblock is filled from the
 * Multiboot map (kernel/setup.c), then init_direct_mapping(), then
 * mem_init(). */
#ifndef GUESTOS_MM_INIT_H
#define GUESTOS_MM_INIT_H

#include "guestos/lib/types.h"

/* Map all RAM below `end` at PAGE_OFFSET; drop the boot identity map. */
void init_direct_mapping(phys_addr_t end);
/* Build mem_map and the zones, and free all unreserved RAM to the buddy
 * allocator. */
void mem_init(void);

#endif
