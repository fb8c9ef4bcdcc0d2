/* The Multiboot v1 header and the 32-bit entry stub.
 *
 * The loader enters _start32 in 32-bit protected mode with paging off, EAX =
 * the Multiboot magic and EBX = the physical address of multiboot_info (spec
 * §3.2). Everything here runs at physical addresses, so kernel symbols are
 * used through PHYS(), their load address. The stub:
 *   1. builds boot page tables in .bss (2 MiB pages):
 *        identity       0..1 GiB  (so the next instruction after paging is on
 *                                  still has a mapping; removed later in C)
 *        kernel image   __START_KERNEL_map + 0..1 GiB
 *        direct map     PAGE_OFFSET + 0..1 GiB (C extends it to all RAM)
 *   2. turns on PAE, EFER.LME and paging: IA-32e mode (SDM Vol. 3A §9.8.5);
 *   3. loads a boot GDT with a 64-bit code segment and far-jumps into it;
 *   4. jumps to the higher half and calls start_kernel(mbi physical address).
 */
#include "guestos/arch/x86/memlayout.h"
#include "guestos/arch/x86/processor-flags.h"

#define PHYS(sym) ((sym) - __START_KERNEL_map)
#define PDE_LARGE (_PAGE_PRESENT | _PAGE_RW | _PAGE_PSE)
#define PTE_TABLE (_PAGE_PRESENT | _PAGE_RW)
#define PGD_INDEX(va) (((va) >> PGDIR_SHIFT) & (PTRS_PER_TABLE - 1))
#define PUD_INDEX(va) (((va) >> PUD_SHIFT) & (PTRS_PER_TABLE - 1))
#define BOOT_CS 0x08
#define BOOT_DS 0x10

	.section .multiboot, "a"
	.balign 4
multiboot_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO
	.long -(MULTIBOOT_HEADER_MAGIC + (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO))

	.section .boot.text, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cmpl $MULTIBOOT_BOOTLOADER_MAGIC, %eax
	jne no_multiboot
	movl %ebx, %edi			/* kept for start_kernel (first argument) */
	movl $PHYS(boot_stack_top), %esp

	/* pd_boot: 512 large pages mapping physical 0..1 GiB. */
	movl $PHYS(pd_boot), %ebx
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $PMD_SHIFT, %eax
	orl $PDE_LARGE, %eax
	movl %eax, (%ebx, %ecx, 8)
	incl %ecx
	cmpl $PTRS_PER_TABLE, %ecx
	jne 1b

	/* Each of the three regions: one PGD entry -> its PUD page -> pd_boot. */
	movl $(PHYS(pud_ident) + PTE_TABLE), PHYS(boot_pgd) + 8 * PGD_INDEX(0)
	movl $(PHYS(pd_boot) + PTE_TABLE), PHYS(pud_ident) + 8 * PUD_INDEX(0)
	movl $(PHYS(pud_kernel) + PTE_TABLE), PHYS(boot_pgd) + 8 * PGD_INDEX(__START_KERNEL_map)
	movl $(PHYS(pd_boot) + PTE_TABLE), PHYS(pud_kernel) + 8 * PUD_INDEX(__START_KERNEL_map)
	movl $(PHYS(pud_direct) + PTE_TABLE), PHYS(boot_pgd) + 8 * PGD_INDEX(PAGE_OFFSET)
	movl $(PHYS(pd_boot) + PTE_TABLE), PHYS(pud_direct) + 8 * PUD_INDEX(PAGE_OFFSET)

	movl %cr4, %eax
	orl $X86_CR4_PAE, %eax
	movl %eax, %cr4
	movl $PHYS(boot_pgd), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NX), %eax	/* IA-32e mode; XD bits honoured */
	wrmsr
	movl %cr0, %eax
	orl $(X86_CR0_PG | X86_CR0_WP), %eax
	movl %eax, %cr0			/* IA-32e mode active, still 32-bit code */
	lgdt boot_gdt_desc
	ljmp $BOOT_CS, $start64_low

no_multiboot:
	movw $DEBUG_EXIT_PORT, %dx
	movl $EXIT_CODE_NO_MULTIBOOT, %eax
	outl %eax, %dx
2:	hlt
	jmp 2b

	.code64
start64_low:
	movabsq $start64, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.balign 8
boot_gdt:
	.quad 0
	.quad DESC_FLAT | DESC_TYPE_CODE_RX | DESC_L	/* 0x08: 64-bit code, DPL 0 */
	.quad DESC_FLAT | DESC_TYPE_DATA_RW | DESC_DB	/* 0x10: data, DPL 0 */
boot_gdt_desc:
	.word boot_gdt_desc - boot_gdt - 1
	.long boot_gdt

	.text
start64:
	movl $BOOT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movabsq $boot_stack_top, %rsp
	movl %edi, %edi			/* upper half undefined after the switch */
	xorl %ebp, %ebp
	call start_kernel
3:	hlt
	jmp 3b

	.section .bss..page_aligned, "aw", @nobits
	.balign PAGE_SIZE
	.globl boot_pgd, pud_direct, pd_direct
boot_pgd:	.skip PAGE_SIZE
pud_ident:	.skip PAGE_SIZE
pud_kernel:	.skip PAGE_SIZE
pud_direct:	.skip PAGE_SIZE
pd_boot:	.skip PAGE_SIZE
pd_direct:	.skip PAGE_SIZE * DIRECT_MAP_GIB
	.balign 16
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
