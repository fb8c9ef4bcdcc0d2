/* Exception and IRQ entry: one stub per vector pushes a zero error code where the
 * CPU pushes none (SDM Vol. 3A §6.13: vectors 8, 10-14, 17, 21, 29, 30
 * have one), then the vector, and jumps to the common path, which saves
 * the general registers as a struct pt_regs and calls do_exception. The
 * frame is 176 bytes above the CPU's 16-byte aligned frame start, so the
 * call happens with RSP 16-byte aligned, as the ABI requires. */

#include "guestos/arch/x86/memlayout.h"

	.altmacro
	.macro EXCEPTION_STUB vector
	.balign 16
exception_stub_\vector:
	.if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || \
	    (\vector == 21) || (\vector == 29) || (\vector == 30)
	.else
	pushq $0
	.endif
	pushq $\vector
	jmp exception_common
	.pushsection .rodata
	.quad exception_stub_\vector
	.popsection
	.endm

	.pushsection .rodata
	.balign 8
	.globl exception_stub_table
exception_stub_table:
	.popsection

	.text
	.set vec, 0
	.rept 48			/* 32 exceptions, then the 16 legacy IRQs */
	EXCEPTION_STUB %vec
	.set vec, vec + 1
	.endr

	/* The general registers of struct pt_regs, last field first. */
	.macro SAVE_REGS
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rax
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	.endm

	.macro RESTORE_REGS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rax
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	.endm

/* Offsets in struct pt_regs once the general registers are popped. */
#define PT_SP_AFTER_REGS 40		/* vector, error_code, ip, cs, flags, then sp */

exception_common:
	SAVE_REGS
	movq %rsp, %rdi
	cld
	call do_exception
	.globl restore_regs_and_iret
restore_regs_and_iret:
	RESTORE_REGS
	addq $16, %rsp			/* vector and error code */
	iretq

/* SYSCALL from user mode (SDM Vol. 2B SYSCALL, Vol. 3A §5.8.8): RCX holds
 * the user RIP, R11 the user RFLAGS, interrupts are off (SFMASK) and RSP
 * is still the user's. SWAPGS reaches the per-CPU entry area (struct
 * cpu_entry_area) to swap in the task's kernel stack; the frame built
 * there is a struct pt_regs as an interrupt from CPL 3 would leave it,
 * with vector -1 and the system-call number in the error-code slot. */
	.globl entry_SYSCALL_64
entry_SYSCALL_64:
	swapgs
	movq %rsp, %gs:0		/* CPU_ENTRY_USER_RSP */
	movq %gs:8, %rsp		/* CPU_ENTRY_TOP_OF_STACK */
	pushq $__USER_DS		/* ss */
	pushq %gs:0			/* sp */
	pushq %r11			/* flags */
	pushq $__USER_CS		/* cs */
	pushq %rcx			/* ip */
	pushq %rax			/* error_code: the system-call number */
	pushq $-1			/* vector: a system call */
	swapgs				/* the kernel uses GS nowhere else */
	SAVE_REGS
	movq %rsp, %rdi
	cld
	call do_syscall_64
	testb %al, %al
	jz restore_regs_and_iret
	/* SYSRET: RCX and R11 hold RIP and RFLAGS (do_syscall_64 checked),
	 * interrupts stay off until SYSRET loads RFLAGS. */
	RESTORE_REGS
	movq PT_SP_AFTER_REGS(%rsp), %rsp
	sysretq

/* A new task's first switch_to returns here, on its kernel stack, right
 * below the struct pt_regs it enters user mode with. */
	.globl ret_from_fork
ret_from_fork:
	jmp restore_regs_and_iret

/* __switch_to_asm(unsigned long *prev_sp, unsigned long next_sp): push the
 * callee-saved registers (struct inactive_task_frame), save RSP in
 * *prev_sp, load next_sp, pop next's registers and return where it
 * switched out (or to ret_from_fork). */
	.globl __switch_to_asm
__switch_to_asm:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack, "", @progbits
