/* Interrupt entry stubs: one per vector, 16 bytes apart from isr_stubs.
 * Each pushes a zero where the CPU pushes no error code (SDM Vol. 3A
 * §6.13: vectors 8, 10-14, 17 and 21 push one), then the vector, and
 * joins isr_common, which saves the GPRs as a struct frame (guest.h) and
 * calls isr_dispatch(frame). The frame is 16-byte aligned at the call:
 * the CPU aligns RSP to 16 before its 48-byte (with error code) push,
 * the vector and 15 registers add 128. */
	.section .text
	.code64
	.macro STUB v
	.align 16
	.if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21)
	.else
	push $0
	.endif
	push $\v
	jmp isr_common
	.endm

	.align 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	STUB vec
	.set vec, vec + 1
	.endr

isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	call isr_dispatch
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq
