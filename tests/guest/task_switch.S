/* Hardware task switches in 32-bit protected mode (SDM Vol. 3A §7.3,
 * §7.4, Table 7-2), without entering long mode: this image has its own
 * Multiboot entry and stays in the loader's 32-bit protected mode, paging
 * off.
 *
 *   main   CALLs task B through a task gate in the GDT;
 *   B      reports TR, NT, its previous-task link, the busy flags and
 *          CR0.TS, changes ECX and IRETs back to main;
 *   main   reports TR, NT, its own ECX (restored from its TSS) and B's
 *          busy flag, then JMPs straight to task C's TSS;
 *   C      reports TR, NT and the busy flags, then loads a selector beyond
 *          the GDT limit into DS: #GP through an IDT task gate to task D;
 *   D      pops the error code from its stack and reports it with TR, NT,
 *          its link and C's busy flag, then JMPs to task E;
 *   E      has a 16-bit TSS (§7.6): reports TR, NT, AX (the low half of
 *          EAX), FS (null: a 16-bit TSS has none) and the busy flags, then
 *          exits. Its code and stack segments are based at the load
 *          address, so its IP and SP fit in 16 bits.
 *
 * The selector values and type nibbles printed are what the SDM's tables
 * say; the same image boots in QEMU, which prints the same lines.
 */
	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x0
	.set SERIAL, 0x3f8
	.set DEBUG_EXIT, 0xf4
	.set CODE_SEL, 0x08
	.set DATA_SEL, 0x10
	.set TSS_MAIN, 0x18
	.set TSS_B, 0x20
	.set TSS_C, 0x28
	.set TSS_D, 0x30
	.set GATE_B, 0x38
	.set TSS_E, 0x40
	.set CODE_E, 0x48
	.set STACK_E_SEL, 0x50
	.set LOAD_BASE, 0x100000        /* guest.ld */
	.set TASK_E_AX, 0x1616
	.set BAD_SEL, 0x7ff8
	.set GP_VECTOR, 13
	/* 32-bit TSS (Figure 7-2) */
	.set TSS_BYTES, 0x68
	.set TSS_EIP, 0x20
	.set TSS_EFLAGS, 0x24
	.set TSS_ESP, 0x38
	.set TSS_ES, 0x48
	.set TSS_CS, 0x4c
	.set TSS_IOMAP, 0x66
	.set EFLAGS_FIXED, 0x2
	.set EFLAGS_NT_SHIFT, 14
	.set CR0_TS_SHIFT, 3
	/* TSS descriptor (Figure 7-3): present, DPL 0, available 32-bit TSS */
	.set TSS_ACCESS, 0x89
	/* 16-bit TSS (Figure 7-10) and its descriptor: available 16-bit TSS */
	.set TSS16_BYTES, 0x2c
	.set TSS16_IP, 0x0e
	.set TSS16_FLAGS, 0x10
	.set TSS16_AX, 0x12
	.set TSS16_SP, 0x1a
	.set TSS16_ES, 0x22
	.set TSS16_CS, 0x24
	.set TSS16_SS, 0x26
	.set TSS16_DS, 0x28
	.set TSS16_ACCESS, 0x81
	.set DESC_TYPE_MASK, 0xf
	.set DESC_ACCESS, 5
	.set STACK_BYTES, 0x1000

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .text
	.code32
	.globl _start
_start:
	cli
	mov $stack_main + STACK_BYTES, %esp
	call init_tasks
	lgdt gdt_ptr
	lidt idt_ptr
	ljmp $CODE_SEL, $1f
1:	mov $DATA_SEL, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov $TSS_MAIN, %ax
	ltr %ax

	mov $msg_main_call, %esi
	call puts
	mov $0x1234, %ecx
	lcall $GATE_B, $0
	mov %ecx, %edi
	mov $msg_main_back, %esi
	call report_tr_nt
	mov $msg_ecx, %esi
	call puts
	mov %edi, %eax
	call put_hex16
	mov $msg_b_type, %esi
	mov $TSS_B, %eax
	call report_type
	call newline
	mov $msg_main_jmp, %esi
	call puts
	ljmp $TSS_C, $0

task_b:
	mov $msg_task_b, %esi
	call report_tr_nt
	mov $msg_link, %esi
	call puts
	movzwl tss_b, %eax
	call put_hex16
	mov $msg_main_type, %esi
	mov $TSS_MAIN, %eax
	call report_type
	mov $msg_b_type, %esi
	mov $TSS_B, %eax
	call report_type
	mov $msg_ts, %esi
	call puts
	mov %cr0, %eax
	shr $CR0_TS_SHIFT, %eax
	call put_bit
	call newline
	mov $0x5555, %ecx
	iret

task_c:
	mov $msg_task_c, %esi
	call report_tr_nt
	mov $msg_main_type, %esi
	mov $TSS_MAIN, %eax
	call report_type
	mov $msg_c_type, %esi
	mov $TSS_C, %eax
	call report_type
	call newline
	mov $msg_bad_ds, %esi
	call puts
	mov $BAD_SEL, %ax
	mov %ax, %ds
	mov $msg_not_reached, %esi
	call puts
	jmp exit

task_d:
	pop %edi
	mov $msg_task_d, %esi
	call report_tr_nt
	mov $msg_error, %esi
	call puts
	mov %edi, %eax
	call put_hex16
	mov $msg_link, %esi
	call puts
	movzwl tss_d, %eax
	call put_hex16
	mov $msg_c_type, %esi
	mov $TSS_C, %eax
	call report_type
	call newline
	ljmp $TSS_E, $0

task_e:
	mov %eax, %edi
	mov $msg_task_e, %esi
	call report_tr_nt
	mov $msg_ax, %esi
	call puts
	mov %edi, %eax
	call put_hex16
	mov $msg_fs, %esi
	call puts
	mov %fs, %ax
	call put_hex16
	mov $msg_d_type, %esi
	mov $TSS_D, %eax
	call report_type
	mov $msg_e_type, %esi
	mov $TSS_E, %eax
	call report_type
	call newline
exit:
	xor %eax, %eax
	mov $DEBUG_EXIT, %dx
	out %eax, %dx
2:	hlt
	jmp 2b

/* ---- set-up --------------------------------------------------------------- */

/* TSS descriptor for the TSS at EAX into the GDT entry at EDI. */
set_tss_desc:
	movw $TSS_BYTES - 1, (%edi)
	mov %ax, 2(%edi)
	shr $16, %eax
	mov %al, 4(%edi)
	movb $TSS_ACCESS, 5(%edi)
	movb $0, 6(%edi)
	mov %ah, 7(%edi)
	ret

/* A task's TSS at EDI: EIP = EAX, ESP = EDX, flat kernel segments, no
 * LDT, EFLAGS with only the fixed bit, no I/O bitmap. */
init_tss:
	push %eax
	push %edi
	mov $TSS_BYTES / 4, %ecx
	xor %eax, %eax
	rep stosl
	pop %edi
	pop %eax
	mov %eax, TSS_EIP(%edi)
	movl $EFLAGS_FIXED, TSS_EFLAGS(%edi)
	mov %edx, TSS_ESP(%edi)
	mov $6, %ecx
1:	movl $DATA_SEL, TSS_ES - 4(%edi, %ecx, 4)
	loop 1b
	movl $CODE_SEL, TSS_CS(%edi)
	movw $TSS_BYTES, TSS_IOMAP(%edi)
	ret

/* Task sel: its GDT descriptor for tss and, when it has an entry point,
 * its TSS (entry, stack). */
.macro TASK sel, tss, entry, stack
	mov $\tss, %eax
	mov $gdt + \sel, %edi
	call set_tss_desc
	.ifnb \entry
	mov $\tss, %edi
	mov $\entry, %eax
	mov $\stack + STACK_BYTES, %edx
	call init_tss
	.endif
.endm

/* Task E's 16-bit TSS and descriptor. */
init_tss16:
	mov $tss_e, %edi
	mov $TSS16_BYTES / 4, %ecx
	xor %eax, %eax
	rep stosl
	mov $tss_e, %edi
	movw $task_e - LOAD_BASE, TSS16_IP(%edi)
	movw $EFLAGS_FIXED, TSS16_FLAGS(%edi)
	movw $TASK_E_AX, TSS16_AX(%edi)
	movw $stack_e + STACK_BYTES - LOAD_BASE, TSS16_SP(%edi)
	movw $DATA_SEL, TSS16_ES(%edi)
	movw $CODE_E, TSS16_CS(%edi)
	movw $STACK_E_SEL, TSS16_SS(%edi)
	movw $DATA_SEL, TSS16_DS(%edi)
	mov $tss_e, %eax
	mov $gdt + TSS_E, %edi
	call set_tss_desc
	movw $TSS16_BYTES - 1, gdt + TSS_E
	movb $TSS16_ACCESS, gdt + TSS_E + DESC_ACCESS
	ret

init_tasks:
	TASK TSS_MAIN, tss_main
	TASK TSS_B, tss_b, task_b, stack_b
	TASK TSS_C, tss_c, task_c, stack_c
	TASK TSS_D, tss_d, task_d, stack_d
	jmp init_tss16

/* ---- serial output (clobber EAX, EDX, ESI) -------------------------------- */

puts:
	mov $SERIAL, %dx
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	ret

newline:
	mov $msg_newline, %esi
	jmp puts

/* "0x" and the low 16 bits of EAX as four hex digits. */
put_hex16:
	push %ebx
	push %ecx
	mov %eax, %ebx
	mov $msg_hex_prefix, %esi
	call puts
	mov $4, %ecx
1:	rol $4, %bx
	mov %ebx, %eax
	and $0xf, %eax
	mov hex_digits(%eax), %al
	mov $SERIAL, %dx
	out %al, %dx
	loop 1b
	pop %ecx
	pop %ebx
	ret

/* '0' or '1': bit 0 of EAX. */
put_bit:
	and $1, %eax
	add $'0', %al
	mov $SERIAL, %dx
	out %al, %dx
	ret

/* The string at ESI, then "tr " TR and ", nt " EFLAGS.NT. */
report_tr_nt:
	call puts
	mov $msg_tr, %esi
	call puts
	str %ax
	call put_hex16
	mov $msg_nt, %esi
	call puts
	pushf
	pop %eax
	shr $EFLAGS_NT_SHIFT, %eax
	jmp put_bit

/* The string at ESI, then the type nibble of GDT entry EAX (9: available
 * TSS, b: busy) as one hex digit. */
report_type:
	push %eax
	call puts
	pop %eax
	movzbl gdt + DESC_ACCESS(%eax), %eax
	and $DESC_TYPE_MASK, %eax
	mov hex_digits(%eax), %al
	mov $SERIAL, %dx
	out %al, %dx
	ret

	.section .rodata
hex_digits:	.ascii "0123456789abcdef"
msg_hex_prefix:	.asciz "0x"
msg_newline:	.asciz "\n"
msg_tr:		.asciz "tr "
msg_nt:		.asciz ", nt "
msg_ecx:	.asciz ", ecx "
msg_link:	.asciz ", link "
msg_error:	.asciz ", error code "
msg_ts:		.asciz ", cr0.ts "
msg_main_type:	.asciz ", main tss type "
msg_b_type:	.asciz ", b tss type "
msg_c_type:	.asciz ", c tss type "
msg_main_call:	.asciz "main: call through a task gate to task b\n"
msg_task_b:	.asciz "task b: "
msg_main_back:	.asciz "main: back after iret, "
msg_main_jmp:	.asciz "main: jmp to task c's tss\n"
msg_task_c:	.asciz "task c: "
msg_bad_ds:	.asciz "task c: mov ds, 0x7ff8\n"
msg_not_reached:	.asciz "task c: no fault\n"
msg_task_d:	.asciz "task d (#GP through an idt task gate): "
msg_task_e:	.asciz "task e (16-bit tss): "
msg_ax:		.asciz ", ax "
msg_fs:		.asciz ", fs "
msg_d_type:	.asciz ", d tss type "
msg_e_type:	.asciz ", e tss type "

	.section .data
	.align 8
gdt:
	.quad 0                         /* 0x00 null */
	.quad 0x00CF9A000000FFFF        /* 0x08 code, 32-bit, flat */
	.quad 0x00CF92000000FFFF        /* 0x10 data, flat */
	.quad 0, 0, 0, 0                /* 0x18..0x30 TSSs: set_tss_desc */
	.word 0, TSS_B, 0x8500, 0       /* 0x38 task gate, DPL 0, → TSS_B */
	.quad 0                         /* 0x40 TSS_E: init_tss16 */
	.quad 0x00409A100000FFFF        /* 0x48 code, 32-bit, base LOAD_BASE, limit 0xffff */
	.quad 0x000092100000FFFF        /* 0x50 data, B = 0, base LOAD_BASE, limit 0xffff */
gdt_end:
	.align 8
idt:
	.fill GP_VECTOR, 8, 0
	.word 0, TSS_D, 0x8500, 0       /* #GP: task gate → TSS_D */
idt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
idt_ptr:
	.word idt_end - idt - 1
	.long idt

	.section .bss
	.align 16
tss_main:	.skip TSS_BYTES
tss_b:		.skip TSS_BYTES
tss_c:		.skip TSS_BYTES
tss_d:		.skip TSS_BYTES
tss_e:		.skip TSS16_BYTES
	.align 16
stack_main:	.skip STACK_BYTES
stack_b:	.skip STACK_BYTES
stack_c:	.skip STACK_BYTES
stack_d:	.skip STACK_BYTES
stack_e:	.skip STACK_BYTES
