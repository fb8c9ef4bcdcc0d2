/* Multiboot entry of the guest test images.
 *
 * The loader leaves 32-bit protected mode with paging off, EAX = the
 * Multiboot magic and EBX = the info address (Multiboot 0.6.96 §3.2). This
 * code builds identity page tables for the first 1 GiB (the first 2 MiB in
 * 4-KiB pages, user-accessible, so tests can change single pages; the rest
 * in 2-MiB supervisor pages), enables CR4.PAE, EFER.LME and EFER.NXE, then
 * CR0.PG and CR0.WP, loads a 64-bit GDT and far-jumps to 64-bit code,
 * which calls kmain(magic, info) and exits with status 0 if it returns
 * (SDM Vol. 3A §10.8.5, initializing IA-32e mode).
 */
	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x3              /* page-aligned modules, memory info */
	.set PTE_P, 0x1
	.set PTE_W, 0x2
	.set PTE_U, 0x4
	.set PDE_PS, 0x80
	.set CR4_PAE, 0x20
	.set CR0_PG_WP, 0x80010000
	.set MSR_EFER, 0xC0000080
	.set EFER_LME_NXE, 0x900
	.set PAGE, 0x1000
	.set LARGE_PAGE, 0x200000
	.set ENTRIES, 512

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .text
	.code32
	.globl _start
_start:
	mov $boot_stack_top, %esp
	mov %eax, mb_magic
	mov %ebx, mb_info

	/* pt0: the first 2 MiB in 4-KiB pages */
	mov $pt0, %edi
	mov $(PTE_P | PTE_W | PTE_U), %eax
	mov $ENTRIES, %ecx
1:	mov %eax, (%edi)
	movl $0, 4(%edi)
	add $PAGE, %eax
	add $8, %edi
	loop 1b

	/* pd: entry 0 → pt0, entries 1..511 → 2-MiB pages */
	movl $(pt0 + PTE_P + PTE_W + PTE_U), pd
	mov $(LARGE_PAGE | PTE_P | PTE_W | PDE_PS), %eax
	mov $1, %ecx
2:	mov %eax, pd(, %ecx, 8)
	movl $0, pd + 4(, %ecx, 8)
	add $LARGE_PAGE, %eax
	inc %ecx
	cmp $ENTRIES, %ecx
	jne 2b
	movl $(pd + PTE_P + PTE_W + PTE_U), pdpt
	movl $(pdpt + PTE_P + PTE_W + PTE_U), pml4

	mov $pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME_NXE, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG_WP, %eax
	mov %eax, %cr0
	lgdt gdt64_ptr
	ljmp $0x08, $start64

	.code64
start64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	mov mb_magic, %edi
	mov mb_info, %esi
	call kmain
	xor %edi, %edi
	call guest_exit

	.section .data
	.align 16
	.globl gdt64
gdt64:
	.quad 0                         /* 0x00 null */
	.quad 0x00AF9A000000FFFF        /* 0x08 kernel code, 64-bit */
	.quad 0x00CF92000000FFFF        /* 0x10 kernel data */
	.quad 0x00CFF2000000FFFF        /* 0x18 user data (DPL 3) */
	.quad 0x00AFFA000000FFFF        /* 0x20 user code, 64-bit (DPL 3) */
	.quad 0, 0                      /* 0x28 TSS (16 bytes, filled by tss_init) */
	.quad 0x00CF12000000FFFF        /* 0x38 data, not present */
gdt64_end:
gdt64_ptr:
	.word gdt64_end - gdt64 - 1
	.quad gdt64

	.section .bss
	.align PAGE
	.globl pml4, pdpt, pd, pt0
pml4:	.skip PAGE
pdpt:	.skip PAGE
pd:	.skip PAGE
pt0:	.skip PAGE
	.align 16
	.skip 4 * PAGE
	.globl boot_stack_top
boot_stack_top:
mb_magic: .long 0
mb_info: .long 0
