/* _start: the entry point of every user program. The kernel enters it
 * with RSP at argc, followed by argv[], NULL, envp[], NULL and the
 * auxiliary vector (SysV x86-64 ABI §3.4.1, figure 3.9). RBP is cleared
 * to end the frame chain and RSP aligned to 16 bytes before the call, as
 * the ABI requires at a call. */
	.text
	.globl _start
_start:
	xorl %ebp, %ebp
	movq %rsp, %rdi			/* the initial stack: argc, argv... */
	andq $-16, %rsp
	call __libc_start_main		/* does not return */
	hlt

	.section .note.GNU-stack, "", @progbits
