/* Architectural bits the kernel sets, usable from C and assembly. */
#ifndef GUESTOS_ARCH_X86_PROCESSOR_FLAGS_H
#define GUESTOS_ARCH_X86_PROCESSOR_FLAGS_H

/* 64-bit constants that assembly accepts too. */
#ifdef __ASSEMBLER__
#define _ULL(x) x
#else
#define _ULL(x) x##ULL
#endif
#define _BITULL(n) (_ULL(1) << (n))

/* SDM Vol. 3A §3.4.5, figure 3-8: code/data segment descriptor fields
 * (§5.2.1: in 64-bit mode base and limit are ignored, L selects 64-bit
 * code). Types are given already shifted into place. */
#define DESC_TYPE_SHIFT 40
#define DESC_TYPE_DATA_RW (_ULL(0x2) << DESC_TYPE_SHIFT)   /* data, read/write */
#define DESC_TYPE_CODE_RX (_ULL(0xA) << DESC_TYPE_SHIFT)   /* code, execute/read */
#define DESC_TYPE_TSS_AVAIL (_ULL(0x9) << DESC_TYPE_SHIFT) /* 64-bit TSS, available */
#define DESC_S _BITULL(44) /* code/data (clear: system segment) */
#define DESC_DPL_SHIFT 45
#define DESC_P _BITULL(47)
#define DESC_L _BITULL(53)  /* 64-bit code */
#define DESC_DB _BITULL(54) /* 32-bit default operand size */
#define DESC_G _BITULL(55)  /* limit in 4 KiB units */
#define DESC_LIMIT_FLAT (_ULL(0xFFFF) | (_ULL(0xF) << 48)) /* limit 0xFFFFF */
/* Base 0, limit 4 GiB, present, code/data: add a type, DPL and L or DB. */
#define DESC_FLAT (DESC_LIMIT_FLAT | DESC_S | DESC_P | DESC_G)

/* SDM Vol. 3A §2.5: control registers. */
#define X86_CR0_PE (1 << 0)  /* protection enable */
#define X86_CR0_WP (1 << 16) /* supervisor writes honour read-only pages */
#define X86_CR0_PG (1 << 31) /* paging */
#define X86_CR4_PAE (1 << 5) /* physical address extension (needed for IA-32e) */

/* SDM Vol. 3A §2.2.1, §9.8.5: IA32_EFER.LME enables IA-32e mode; it becomes
 * active (LMA) when paging is turned on with PAE set. */
#define MSR_EFER 0xC0000080
#define EFER_SCE (1 << 0) /* SYSCALL/SYSRET enable */
#define EFER_LME (1 << 8)
/* SDM Vol. 3A §2.2.1, §4.6: IA32_EFER.NXE makes bit 63 of paging entries
 * execute-disable (XD) instead of reserved. */
#define EFER_NX (1 << 11)

/* SDM Vol. 3A §5.8.8, Vol. 4 table 2-2: the SYSCALL MSRs. STAR[47:32] is
 * the kernel CS (SS = CS + 8); STAR[63:48] the user base: SYSRET to
 * 64-bit code loads CS = base + 16 and SS = base + 8, both with RPL 3. */
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082        /* SYSCALL target RIP in 64-bit mode */
#define MSR_SYSCALL_MASK 0xC0000084 /* RFLAGS bits SYSCALL clears */
#define MSR_GS_BASE 0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102 /* swapped with GS_BASE by SWAPGS */
#define STAR_KERNEL_CS_SHIFT 32
#define STAR_USER_BASE_SHIFT 48

/* SDM Vol. 3A §4.5, tables 4-15..4-19: paging-structure entry bits. */
#define _PAGE_PRESENT (1 << 0)
#define _PAGE_RW (1 << 1)
#define _PAGE_USER (1 << 2)
#define _PAGE_PSE (1 << 7) /* in a PDE or PDPTE: the entry maps a large page */

/* SDM Vol. 3A §2.3: RFLAGS. */
#define X86_EFLAGS_FIXED (1 << 1) /* always 1 */
#define X86_EFLAGS_TF (1 << 8)    /* single step */
#define X86_EFLAGS_IF (1 << 9)
#define X86_EFLAGS_DF (1 << 10)
#define X86_EFLAGS_IOPL (3 << 12)
#define X86_EFLAGS_NT (1 << 14)
#define X86_EFLAGS_RF (1 << 16)
#define X86_EFLAGS_AC (1 << 18)

/* Multiboot Specification 0.6.96 §3.1.1 and §3.2. */
#define MULTIBOOT_HEADER_MAGIC 0x1BADB002
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
#define MULTIBOOT_PAGE_ALIGN (1 << 0) /* modules on page boundaries */
#define MULTIBOOT_MEMORY_INFO (1 << 1) /* mem_* and mmap_* fields wanted */

/* isa-debug-exit: writing v stops the machine with status (v << 1) | 1. */
#define DEBUG_EXIT_PORT 0xF4
#define EXIT_CODE_OK 0        /* host status 1 */
#define EXIT_CODE_PANIC 1     /* host status 3: panic() or a failed self-test */
#define EXIT_CODE_EXCEPTION 2 /* host status 5: an unexpected CPU exception */
#define EXIT_CODE_NO_MULTIBOOT 3 /* host status 7: not started by a Multiboot loader */
#define EXIT_CODE_INIT_FAILED 4  /* host status 9: init exited with a non-zero status */

#endif
