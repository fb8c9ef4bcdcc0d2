/* Exception and IRQ entry: one stub per vector pushes a zero error code where the
 * CPU pushes none (SDM Vol. 3A §6.13: vectors 8, 10-14, 17, 21, 29, 30
 * have one), then the vector, and jumps to the common path, which saves
 * the general registers as a struct pt_regs and calls do_exception. The
 * frame is 176 bytes above the CPU's 16-byte aligned frame start, so the
 * call happens with RSP 16-byte aligned, as the ABI requires. */

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

exception_common:
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
	movq %rsp, %rdi
	cld
	call do_exception
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
	addq $16, %rsp			/* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
