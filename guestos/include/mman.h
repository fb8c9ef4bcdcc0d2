/* mmap/mprotect flags, with Linux's values (include/uapi/asm-generic/
 * mman-common.h, mman.h). */
#ifndef GUESTOS_INCLUDE_MMAN_H
#define GUESTOS_INCLUDE_MMAN_H

#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_TYPE 0x0f /* mask for the sharing type */
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x0100

#define MAP_FAILED ((void *)-1)

#endif
