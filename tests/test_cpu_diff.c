/* Differential tests: every supported user-level instruction form runs on
 * random inputs natively (tests/native_exec) and in the interpreter, and
 * the two must agree on every general register but RSP, the scratch page
 * and every status flag the SDM defines for the form.
 *
 * Each form is a short sequence that falls off its end (the interpreter
 * then meets a HLT). Inputs, from a fixed seed: random register values with
 * edge values mixed in, random status flags; RDI points into the scratch
 * page (at NATIVE_SCRATCH_ADDR in both worlds, 16-byte aligned), the code
 * sits at NATIVE_CODE_ADDR in both, so RIP-relative operands agree. String
 * forms get RSI/RDI inside the page, a small RCX and a random DF; bit-string
 * forms a small bit offset in RAX. Forms that may raise #DE must fault in
 * both worlds or in neither. Undefined flags are masked per form, following
 * the SDM's Flags Affected sections (docs/alu.md lists them).
 */
#include <cpuid.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "emu/alu.h"
#include "tests/cpu_support.h"
#include "tests/native_exec.h"

#define STATES 1000
#define SEED UINT64_C(0x63707564696666)
#define SCRATCH_PHYS UINT64_C(0x1100000)
#define CODE_PHYS UINT64_C(0x1200000)
#define PTR_OFFSET 0x800
#define HLT 0xf4

/* FORM_EXT: a plain form the host runs only with BMI1, BMI2, ADX and MOVBE. */
enum form_kind { FORM_PLAIN, FORM_STR, FORM_SMALL, FORM_DIV, FORM_EXT };

struct form {
	const char *text;
	const uint8_t *code;
	size_t len;
	uint64_t undefined; /* status flags the SDM leaves undefined */
	enum form_kind kind;
};

static const struct form forms[] = {
	{ "add rax, rbx", (const uint8_t[]){
			0x48, 0x01, 0xd8,                        /* add rax,rbx */
	  }, 3, 0, FORM_PLAIN },
	{ "adc ecx, edx", (const uint8_t[]){
			0x11, 0xd1,                              /* adc ecx,edx */
	  }, 2, 0, FORM_PLAIN },
	{ "sub r8w, r9w", (const uint8_t[]){
			0x66, 0x45, 0x29, 0xc8,                  /* sub r8w,r9w */
	  }, 4, 0, FORM_PLAIN },
	{ "sbb al, bh", (const uint8_t[]){
			0x18, 0xf8,                              /* sbb al,bh */
	  }, 2, 0, FORM_PLAIN },
	{ "and r10, r11", (const uint8_t[]){
			0x4d, 0x21, 0xda,                        /* and r10,r11 */
	  }, 3, RFLAGS_AF, FORM_PLAIN },
	{ "or ecx, 0x7f", (const uint8_t[]){
			0x83, 0xc9, 0x7f,                        /* or ecx,0x7f */
	  }, 3, RFLAGS_AF, FORM_PLAIN },
	{ "xor rax, -2", (const uint8_t[]){
			0x48, 0x83, 0xf0, 0xfe,                  /* xor rax,0xfffffffffffffffe */
	  }, 4, RFLAGS_AF, FORM_PLAIN },
	{ "cmp r12d, r13d", (const uint8_t[]){
			0x45, 0x39, 0xec,                        /* cmp r12d,r13d */
	  }, 3, 0, FORM_PLAIN },
	{ "test bl, cl", (const uint8_t[]){
			0x84, 0xcb,                              /* test bl,cl */
	  }, 2, RFLAGS_AF, FORM_PLAIN },
	{ "add al, 0x80", (const uint8_t[]){
			0x04, 0x80,                              /* add al,0x80 */
	  }, 2, 0, FORM_PLAIN },
	{ "sbb r14, 0x12345", (const uint8_t[]){
			0x49, 0x81, 0xde, 0x45, 0x23, 0x01, 0x00, /* sbb r14,0x12345 */
	  }, 7, 0, FORM_PLAIN },
	{ "cmp bx, -3", (const uint8_t[]){
			0x66, 0x83, 0xfb, 0xfd,                  /* cmp bx,0xfffd */
	  }, 4, 0, FORM_PLAIN },
	{ "add qword ptr [rdi], rax", (const uint8_t[]){
			0x48, 0x01, 0x07,                        /* add QWORD PTR [rdi],rax */
	  }, 3, 0, FORM_PLAIN },
	{ "sub dword ptr [rdi+4], 5", (const uint8_t[]){
			0x83, 0x6f, 0x04, 0x05,                  /* sub DWORD PTR [rdi+0x4],0x5 */
	  }, 4, 0, FORM_PLAIN },
	{ "adc byte ptr [rdi+1], ah", (const uint8_t[]){
			0x10, 0x67, 0x01,                        /* adc BYTE PTR [rdi+0x1],ah */
	  }, 3, 0, FORM_PLAIN },
	{ "cmp word ptr [rdi+2], bx", (const uint8_t[]){
			0x66, 0x39, 0x5f, 0x02,                  /* cmp WORD PTR [rdi+0x2],bx */
	  }, 4, 0, FORM_PLAIN },
	{ "xor rax, [rdi+8]", (const uint8_t[]){
			0x48, 0x33, 0x47, 0x08,                  /* xor rax,QWORD PTR [rdi+0x8] */
	  }, 4, RFLAGS_AF, FORM_PLAIN },
	{ "and r9d, [rdi]", (const uint8_t[]){
			0x44, 0x23, 0x0f,                        /* and r9d,DWORD PTR [rdi] */
	  }, 3, RFLAGS_AF, FORM_PLAIN },
	{ "or [rdi], cl", (const uint8_t[]){
			0x08, 0x0f,                              /* or BYTE PTR [rdi],cl */
	  }, 2, RFLAGS_AF, FORM_PLAIN },
	{ "test [rdi], edx", (const uint8_t[]){
			0x85, 0x17,                              /* test DWORD PTR [rdi],edx */
	  }, 2, RFLAGS_AF, FORM_PLAIN },
	{ "sbb qword ptr [rdi+0x10], -1", (const uint8_t[]){
			0x48, 0x83, 0x5f, 0x10, 0xff,            /* sbb QWORD PTR [rdi+0x10],0xffffffffffffffff */
	  }, 5, 0, FORM_PLAIN },
	{ "inc rax", (const uint8_t[]){
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 3, 0, FORM_PLAIN },
	{ "dec ecx", (const uint8_t[]){
			0xff, 0xc9,                              /* dec ecx */
	  }, 2, 0, FORM_PLAIN },
	{ "neg r8w", (const uint8_t[]){
			0x66, 0x41, 0xf7, 0xd8,                  /* neg r8w */
	  }, 4, 0, FORM_PLAIN },
	{ "not bl", (const uint8_t[]){
			0xf6, 0xd3,                              /* not bl */
	  }, 2, 0, FORM_PLAIN },
	{ "inc dword ptr [rdi]", (const uint8_t[]){
			0xff, 0x07,                              /* inc DWORD PTR [rdi] */
	  }, 2, 0, FORM_PLAIN },
	{ "neg qword ptr [rdi+8]", (const uint8_t[]){
			0x48, 0xf7, 0x5f, 0x08,                  /* neg QWORD PTR [rdi+0x8] */
	  }, 4, 0, FORM_PLAIN },
	{ "dec byte ptr [rdi+3]", (const uint8_t[]){
			0xfe, 0x4f, 0x03,                        /* dec BYTE PTR [rdi+0x3] */
	  }, 3, 0, FORM_PLAIN },
	{ "shl rax, cl", (const uint8_t[]){
			0x48, 0xd3, 0xe0,                        /* shl rax,cl */
	  }, 3, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "shr ebx, cl", (const uint8_t[]){
			0xd3, 0xeb,                              /* shr ebx,cl */
	  }, 2, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "sar r8w, cl", (const uint8_t[]){
			0x66, 0x41, 0xd3, 0xf8,                  /* sar r8w,cl */
	  }, 4, RFLAGS_AF | RFLAGS_OF | RFLAGS_CF, FORM_PLAIN },
	{ "rol dl, cl", (const uint8_t[]){
			0xd2, 0xc2,                              /* rol dl,cl */
	  }, 2, RFLAGS_OF, FORM_PLAIN },
	{ "ror rax, 7", (const uint8_t[]){
			0x48, 0xc1, 0xc8, 0x07,                  /* ror rax,0x7 */
	  }, 4, RFLAGS_OF, FORM_PLAIN },
	{ "rcl ecx, 1", (const uint8_t[]){
			0xd1, 0xd1,                              /* rcl ecx,1 */
	  }, 2, RFLAGS_OF, FORM_PLAIN },
	{ "rcr bx, cl", (const uint8_t[]){
			0x66, 0xd3, 0xdb,                        /* rcr bx,cl */
	  }, 3, RFLAGS_OF, FORM_PLAIN },
	{ "shl byte ptr [rdi], cl", (const uint8_t[]){
			0xd2, 0x27,                              /* shl BYTE PTR [rdi],cl */
	  }, 2, RFLAGS_AF | RFLAGS_OF | RFLAGS_CF, FORM_PLAIN },
	{ "sar qword ptr [rdi], 3", (const uint8_t[]){
			0x48, 0xc1, 0x3f, 0x03,                  /* sar QWORD PTR [rdi],0x3 */
	  }, 4, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "shr r9d, 1", (const uint8_t[]){
			0x41, 0xd1, 0xe9,                        /* shr r9d,1 */
	  }, 3, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "shld rax, rbx, cl", (const uint8_t[]){
			0x48, 0x0f, 0xa5, 0xd8,                  /* shld rax,rbx,cl */
	  }, 4, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "shrd ecx, edx, 5", (const uint8_t[]){
			0x0f, 0xac, 0xd1, 0x05,                  /* shrd ecx,edx,0x5 */
	  }, 4, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "shld qword ptr [rdi], rdx, cl", (const uint8_t[]){
			0x48, 0x0f, 0xa5, 0x17,                  /* shld QWORD PTR [rdi],rdx,cl */
	  }, 4, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "mul rbx", (const uint8_t[]){
			0x48, 0xf7, 0xe3,                        /* mul rbx */
	  }, 3, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "mul cl", (const uint8_t[]){
			0xf6, 0xe1,                              /* mul cl */
	  }, 2, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "imul ecx", (const uint8_t[]){
			0xf7, 0xe9,                              /* imul ecx */
	  }, 2, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "imul r8, r9", (const uint8_t[]){
			0x4d, 0x0f, 0xaf, 0xc1,                  /* imul r8,r9 */
	  }, 4, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "imul eax, ebx, -7", (const uint8_t[]){
			0x6b, 0xc3, 0xf9,                        /* imul eax,ebx,0xfffffff9 */
	  }, 3, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "imul dx, [rdi], 300", (const uint8_t[]){
			0x66, 0x69, 0x17, 0x2c, 0x01,            /* imul dx,WORD PTR [rdi],0x12c */
	  }, 5, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "mul dword ptr [rdi]", (const uint8_t[]){
			0xf7, 0x27,                              /* mul DWORD PTR [rdi] */
	  }, 2, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "div rcx", (const uint8_t[]){
			0x48, 0xf7, 0xf1,                        /* div rcx */
	  }, 3, RFLAGS_STATUS, FORM_DIV },
	{ "idiv ebx", (const uint8_t[]){
			0xf7, 0xfb,                              /* idiv ebx */
	  }, 2, RFLAGS_STATUS, FORM_DIV },
	{ "div bl", (const uint8_t[]){
			0xf6, 0xf3,                              /* div bl */
	  }, 2, RFLAGS_STATUS, FORM_DIV },
	{ "idiv r8w", (const uint8_t[]){
			0x66, 0x41, 0xf7, 0xf8,                  /* idiv r8w */
	  }, 4, RFLAGS_STATUS, FORM_DIV },
	{ "div qword ptr [rdi]", (const uint8_t[]){
			0x48, 0xf7, 0x37,                        /* div QWORD PTR [rdi] */
	  }, 3, RFLAGS_STATUS, FORM_DIV },
	{ "bt rax, rbx", (const uint8_t[]){
			0x48, 0x0f, 0xa3, 0xd8,                  /* bt rax,rbx */
	  }, 4, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "bts ecx, 5", (const uint8_t[]){
			0x0f, 0xba, 0xe9, 0x05,                  /* bts ecx,0x5 */
	  }, 4, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "btr r8w, r9w", (const uint8_t[]){
			0x66, 0x45, 0x0f, 0xb3, 0xc8,            /* btr r8w,r9w */
	  }, 5, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "btc rax, 63", (const uint8_t[]){
			0x48, 0x0f, 0xba, 0xf8, 0x3f,            /* btc rax,0x3f */
	  }, 5, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "bt qword ptr [rdi], rax", (const uint8_t[]){
			0x48, 0x0f, 0xa3, 0x07,                  /* bt QWORD PTR [rdi],rax */
	  }, 4, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_SMALL },
	{ "bts dword ptr [rdi], eax", (const uint8_t[]){
			0x0f, 0xab, 0x07,                        /* bts DWORD PTR [rdi],eax */
	  }, 3, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_SMALL },
	{ "btr word ptr [rdi], ax", (const uint8_t[]){
			0x66, 0x0f, 0xb3, 0x07,                  /* btr WORD PTR [rdi],ax */
	  }, 4, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_SMALL },
	{ "btc qword ptr [rdi], 70", (const uint8_t[]){
			0x48, 0x0f, 0xba, 0x3f, 0x46,            /* btc QWORD PTR [rdi],0x46 */
	  }, 5, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "bsf rax, rbx", (const uint8_t[]){
			0x48, 0x0f, 0xbc, 0xc3,                  /* bsf rax,rbx */
	  }, 4, RFLAGS_CF | RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "bsr ecx, edx", (const uint8_t[]){
			0x0f, 0xbd, 0xca,                        /* bsr ecx,edx */
	  }, 3, RFLAGS_CF | RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "tzcnt r8, r9", (const uint8_t[]){
			0xf3, 0x4d, 0x0f, 0xbc, 0xc1,            /* tzcnt r8,r9 */
	  }, 5, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "lzcnt eax, ebx", (const uint8_t[]){
			0xf3, 0x0f, 0xbd, 0xc3,                  /* lzcnt eax,ebx */
	  }, 4, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "popcnt rcx, rdx", (const uint8_t[]){
			0xf3, 0x48, 0x0f, 0xb8, 0xca,            /* popcnt rcx,rdx */
	  }, 5, 0, FORM_PLAIN },
	{ "bsf ax, [rdi]", (const uint8_t[]){
			0x66, 0x0f, 0xbc, 0x07,                  /* bsf ax,WORD PTR [rdi] */
	  }, 4, RFLAGS_CF | RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "bswap rax", (const uint8_t[]){
			0x48, 0x0f, 0xc8,                        /* bswap rax */
	  }, 3, 0, FORM_PLAIN },
	{ "bswap ecx", (const uint8_t[]){
			0x0f, 0xc9,                              /* bswap ecx */
	  }, 2, 0, FORM_PLAIN },
	{ "mov rax, [rdi+8]", (const uint8_t[]){
			0x48, 0x8b, 0x47, 0x08,                  /* mov rax,QWORD PTR [rdi+0x8] */
	  }, 4, 0, FORM_PLAIN },
	{ "mov [rdi], ecx", (const uint8_t[]){
			0x89, 0x0f,                              /* mov DWORD PTR [rdi],ecx */
	  }, 2, 0, FORM_PLAIN },
	{ "mov al, [rdi+3]", (const uint8_t[]){
			0x8a, 0x47, 0x03,                        /* mov al,BYTE PTR [rdi+0x3] */
	  }, 3, 0, FORM_PLAIN },
	{ "mov [rdi+5], bh", (const uint8_t[]){
			0x88, 0x7f, 0x05,                        /* mov BYTE PTR [rdi+0x5],bh */
	  }, 3, 0, FORM_PLAIN },
	{ "mov word ptr [rdi+6], 0x1234", (const uint8_t[]){
			0x66, 0xc7, 0x47, 0x06, 0x34, 0x12,      /* mov WORD PTR [rdi+0x6],0x1234 */
	  }, 6, 0, FORM_PLAIN },
	{ "mov r9, -5", (const uint8_t[]){
			0x49, 0xc7, 0xc1, 0xfb, 0xff, 0xff, 0xff, /* mov r9,0xfffffffffffffffb */
	  }, 7, 0, FORM_PLAIN },
	{ "mov cx, dx", (const uint8_t[]){
			0x66, 0x89, 0xd1,                        /* mov cx,dx */
	  }, 3, 0, FORM_PLAIN },
	{ "mov sil, 0x7f", (const uint8_t[]){
			0x40, 0xb6, 0x7f,                        /* mov sil,0x7f */
	  }, 3, 0, FORM_PLAIN },
	{ "mov dx, [rdi+2]", (const uint8_t[]){
			0x66, 0x8b, 0x57, 0x02,                  /* mov dx,WORD PTR [rdi+0x2] */
	  }, 4, 0, FORM_PLAIN },
	{ "mov [rdi+1], r8b", (const uint8_t[]){
			0x44, 0x88, 0x47, 0x01,                  /* mov BYTE PTR [rdi+0x1],r8b */
	  }, 4, 0, FORM_PLAIN },
	{ "mov byte ptr [rdi+4], 0x80", (const uint8_t[]){
			0xc6, 0x47, 0x04, 0x80,                  /* mov BYTE PTR [rdi+0x4],0x80 */
	  }, 4, 0, FORM_PLAIN },
	{ "movzx eax, byte ptr [rdi]", (const uint8_t[]){
			0x0f, 0xb6, 0x07,                        /* movzx eax,BYTE PTR [rdi] */
	  }, 3, 0, FORM_PLAIN },
	{ "movsx rcx, word ptr [rdi]", (const uint8_t[]){
			0x48, 0x0f, 0xbf, 0x0f,                  /* movsx rcx,WORD PTR [rdi] */
	  }, 4, 0, FORM_PLAIN },
	{ "movsxd r8, dword ptr [rdi]", (const uint8_t[]){
			0x4c, 0x63, 0x07,                        /* movsxd r8,DWORD PTR [rdi] */
	  }, 3, 0, FORM_PLAIN },
	{ "movzx ebx, ah", (const uint8_t[]){
			0x0f, 0xb6, 0xdc,                        /* movzx ebx,ah */
	  }, 3, 0, FORM_PLAIN },
	{ "movsx eax, cl", (const uint8_t[]){
			0x0f, 0xbe, 0xc1,                        /* movsx eax,cl */
	  }, 3, 0, FORM_PLAIN },
	{ "lea rax, [rbx+rcx*4+0x10]", (const uint8_t[]){
			0x48, 0x8d, 0x44, 0x8b, 0x10,            /* lea rax,[rbx+rcx*4+0x10] */
	  }, 5, 0, FORM_PLAIN },
	{ "lea ecx, [rax+rdx]", (const uint8_t[]){
			0x8d, 0x0c, 0x10,                        /* lea ecx,[rax+rdx*1] */
	  }, 3, 0, FORM_PLAIN },
	{ "lea r8w, [rip+0x100]", (const uint8_t[]){
			0x66, 0x44, 0x8d, 0x05, 0x00, 0x01, 0x00, 0x00, /* lea r8w,[rip+0x100] */
	  }, 8, 0, FORM_PLAIN },
	{ "mov eax, [edi]", (const uint8_t[]){
			0x67, 0x8b, 0x07,                        /* mov eax,DWORD PTR [edi] */
	  }, 3, 0, FORM_PLAIN },
	{ "xchg rax, rbx", (const uint8_t[]){
			0x48, 0x93,                              /* xchg rbx,rax */
	  }, 2, 0, FORM_PLAIN },
	{ "xchg [rdi], ecx", (const uint8_t[]){
			0x87, 0x0f,                              /* xchg DWORD PTR [rdi],ecx */
	  }, 2, 0, FORM_PLAIN },
	{ "xadd rax, rbx", (const uint8_t[]){
			0x48, 0x0f, 0xc1, 0xd8,                  /* xadd rax,rbx */
	  }, 4, 0, FORM_PLAIN },
	{ "xadd [rdi], cx", (const uint8_t[]){
			0x66, 0x0f, 0xc1, 0x0f,                  /* xadd WORD PTR [rdi],cx */
	  }, 4, 0, FORM_PLAIN },
	{ "cmpxchg rbx, rcx", (const uint8_t[]){
			0x48, 0x0f, 0xb1, 0xcb,                  /* cmpxchg rbx,rcx */
	  }, 4, 0, FORM_PLAIN },
	{ "cmpxchg [rdi], edx", (const uint8_t[]){
			0x0f, 0xb1, 0x17,                        /* cmpxchg DWORD PTR [rdi],edx */
	  }, 3, 0, FORM_PLAIN },
	{ "lock cmpxchg8b [rdi]", (const uint8_t[]){
			0xf0, 0x0f, 0xc7, 0x0f,                  /* lock cmpxchg8b QWORD PTR [rdi] */
	  }, 4, 0, FORM_PLAIN },
	{ "lock cmpxchg16b [rdi]", (const uint8_t[]){
			0xf0, 0x48, 0x0f, 0xc7, 0x0f,            /* lock cmpxchg16b OWORD PTR [rdi] */
	  }, 5, 0, FORM_PLAIN },
	{ "lock xadd [rdi], rax", (const uint8_t[]){
			0xf0, 0x48, 0x0f, 0xc1, 0x07,            /* lock xadd QWORD PTR [rdi],rax */
	  }, 5, 0, FORM_PLAIN },
	{ "cmovz rax, rbx", (const uint8_t[]){
			0x48, 0x0f, 0x44, 0xc3,                  /* cmove rax,rbx */
	  }, 4, 0, FORM_PLAIN },
	{ "cmovl ecx, edx", (const uint8_t[]){
			0x0f, 0x4c, 0xca,                        /* cmovl ecx,edx */
	  }, 3, 0, FORM_PLAIN },
	{ "cmovbe r8, [rdi]", (const uint8_t[]){
			0x4c, 0x0f, 0x46, 0x07,                  /* cmovbe r8,QWORD PTR [rdi] */
	  }, 4, 0, FORM_PLAIN },
	{ "cmovnp ax, bx", (const uint8_t[]){
			0x66, 0x0f, 0x4b, 0xc3,                  /* cmovnp ax,bx */
	  }, 4, 0, FORM_PLAIN },
	{ "seto al", (const uint8_t[]){
			0x0f, 0x90, 0xc0,                        /* seto al */
	  }, 3, 0, FORM_PLAIN },
	{ "setg bl", (const uint8_t[]){
			0x0f, 0x9f, 0xc3,                        /* setg bl */
	  }, 3, 0, FORM_PLAIN },
	{ "seta byte ptr [rdi]", (const uint8_t[]){
			0x0f, 0x97, 0x07,                        /* seta BYTE PTR [rdi] */
	  }, 3, 0, FORM_PLAIN },
	{ "setp cl", (const uint8_t[]){
			0x0f, 0x9a, 0xc1,                        /* setp cl */
	  }, 3, 0, FORM_PLAIN },
	{ "cbw", (const uint8_t[]){
			0x66, 0x98,                              /* cbw */
	  }, 2, 0, FORM_PLAIN },
	{ "cwde", (const uint8_t[]){
			0x98,                                    /* cwde */
	  }, 1, 0, FORM_PLAIN },
	{ "cdqe", (const uint8_t[]){
			0x48, 0x98,                              /* cdqe */
	  }, 2, 0, FORM_PLAIN },
	{ "cwd", (const uint8_t[]){
			0x66, 0x99,                              /* cwd */
	  }, 2, 0, FORM_PLAIN },
	{ "cdq", (const uint8_t[]){
			0x99,                                    /* cdq */
	  }, 1, 0, FORM_PLAIN },
	{ "cqo", (const uint8_t[]){
			0x48, 0x99,                              /* cqo */
	  }, 2, 0, FORM_PLAIN },
	{ "lahf", (const uint8_t[]){
			0x9f,                                    /* lahf */
	  }, 1, 0, FORM_PLAIN },
	{ "sahf", (const uint8_t[]){
			0x9e,                                    /* sahf */
	  }, 1, 0, FORM_PLAIN },
	{ "cmc", (const uint8_t[]){
			0xf5,                                    /* cmc */
	  }, 1, 0, FORM_PLAIN },
	{ "push rax; pop rbx", (const uint8_t[]){
			0x50,                                    /* push rax */
			0x5b,                                    /* pop rbx */
	  }, 2, 0, FORM_PLAIN },
	{ "push qword ptr [rdi]; pop qword ptr [rdi+8]", (const uint8_t[]){
			0xff, 0x37,                              /* push QWORD PTR [rdi] */
			0x8f, 0x47, 0x08,                        /* pop QWORD PTR [rdi+0x8] */
	  }, 5, 0, FORM_PLAIN },
	{ "push ax; pop cx", (const uint8_t[]){
			0x66, 0x50,                              /* push ax */
			0x66, 0x59,                              /* pop cx */
	  }, 4, 0, FORM_PLAIN },
	{ "jz 1f; inc rax; 1:", (const uint8_t[]){
			0x74, 0x03,                              /* je 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "jl 1f; inc rax; 1:", (const uint8_t[]){
			0x7c, 0x03,                              /* jl 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "jbe 1f; inc rax; 1:", (const uint8_t[]){
			0x76, 0x03,                              /* jbe 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "jp 1f; inc rax; 1:", (const uint8_t[]){
			0x7a, 0x03,                              /* jp 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "jno 1f; inc rax; 1:", (const uint8_t[]){
			0x71, 0x03,                              /* jno 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "jg 1f; inc rax; 1:", (const uint8_t[]){
			0x7f, 0x03,                              /* jg 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "loop 1f; inc rax; 1:", (const uint8_t[]){
			0xe2, 0x03,                              /* loop 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "loopz 1f; inc rax; 1:", (const uint8_t[]){
			0xe1, 0x03,                              /* loope 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "jrcxz 1f; inc rax; 1:", (const uint8_t[]){
			0xe3, 0x03,                              /* jrcxz 0x5 */
			0x48, 0xff, 0xc0,                        /* inc rax */
	  }, 5, 0, FORM_PLAIN },
	{ "sub eax, ebx; jae 1f; inc r8; 1:; js 2f; inc r9; 2:", (const uint8_t[]){
			0x29, 0xd8,                              /* sub eax,ebx */
			0x73, 0x03,                              /* jae 0x7 */
			0x49, 0xff, 0xc0,                        /* inc r8 */
			0x78, 0x03,                              /* js 0xc */
			0x49, 0xff, 0xc1,                        /* inc r9 */
	  }, 12, 0, FORM_PLAIN },
	{ "cmp rax, rbx; setl cl; setb dl; setle r8b; setbe r9b; sete r10b; sets r11b", (const uint8_t[]){
			0x48, 0x39, 0xd8,                        /* cmp rax,rbx */
			0x0f, 0x9c, 0xc1,                        /* setl cl */
			0x0f, 0x92, 0xc2,                        /* setb dl */
			0x41, 0x0f, 0x9e, 0xc0,                  /* setle r8b */
			0x41, 0x0f, 0x96, 0xc1,                  /* setbe r9b */
			0x41, 0x0f, 0x94, 0xc2,                  /* sete r10b */
			0x41, 0x0f, 0x98, 0xc3,                  /* sets r11b */
	  }, 25, 0, FORM_PLAIN },
	{ "add rax, rbx; inc rcx; setc dl; adc rdx, 0", (const uint8_t[]){
			0x48, 0x01, 0xd8,                        /* add rax,rbx */
			0x48, 0xff, 0xc1,                        /* inc rcx */
			0x0f, 0x92, 0xc2,                        /* setb dl */
			0x48, 0x83, 0xd2, 0x00,                  /* adc rdx,0x0 */
	  }, 13, 0, FORM_PLAIN },
	{ "movsb", (const uint8_t[]){
			0xa4,                                    /* movs BYTE PTR es:[rdi],BYTE PTR ds:[rsi] */
	  }, 1, 0, FORM_STR },
	{ "rep movsb", (const uint8_t[]){
			0xf3, 0xa4,                              /* rep movs BYTE PTR es:[rdi],BYTE PTR ds:[rsi] */
	  }, 2, 0, FORM_STR },
	{ "rep movsq", (const uint8_t[]){
			0xf3, 0x48, 0xa5,                        /* rep movs QWORD PTR es:[rdi],QWORD PTR ds:[rsi] */
	  }, 3, 0, FORM_STR },
	{ "rep stosd", (const uint8_t[]){
			0xf3, 0xab,                              /* rep stos DWORD PTR es:[rdi],eax */
	  }, 2, 0, FORM_STR },
	{ "lodsw", (const uint8_t[]){
			0x66, 0xad,                              /* lods ax,WORD PTR ds:[rsi] */
	  }, 2, 0, FORM_STR },
	{ "repe cmpsb", (const uint8_t[]){
			0xf3, 0xa6,                              /* repz cmps BYTE PTR ds:[rsi],BYTE PTR es:[rdi] */
	  }, 2, 0, FORM_STR },
	{ "repne scasb", (const uint8_t[]){
			0xf2, 0xae,                              /* repnz scas al,BYTE PTR es:[rdi] */
	  }, 2, 0, FORM_STR },
	{ "stosq", (const uint8_t[]){
			0x48, 0xab,                              /* stos QWORD PTR es:[rdi],rax */
	  }, 2, 0, FORM_STR },
	{ "rep lodsb", (const uint8_t[]){
			0xf3, 0xac,                              /* rep lods al,BYTE PTR ds:[rsi] */
	  }, 2, 0, FORM_STR },
	{ "xchg eax, ecx", (const uint8_t[]){
			0x91,                                    /* xchg ecx,eax */
	  }, 1, 0, FORM_PLAIN },
	{ "xchg ax, bx", (const uint8_t[]){
			0x66, 0x93,                              /* xchg bx,ax */
	  }, 2, 0, FORM_PLAIN },
	{ "imul cl", (const uint8_t[]){
			0xf6, 0xe9,                              /* imul cl */
	  }, 2, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "mul word ptr [rdi]", (const uint8_t[]){
			0x66, 0xf7, 0x27,                        /* mul WORD PTR [rdi] */
	  }, 3, RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "idiv byte ptr [rdi]", (const uint8_t[]){
			0xf6, 0x3f,                              /* idiv BYTE PTR [rdi] */
	  }, 2, RFLAGS_STATUS, FORM_DIV },
	{ "shl word ptr [rdi], 1", (const uint8_t[]){
			0x66, 0xd1, 0x27,                        /* shl WORD PTR [rdi],1 */
	  }, 3, RFLAGS_AF | RFLAGS_OF | RFLAGS_CF, FORM_PLAIN },
	{ "rol qword ptr [rdi], cl", (const uint8_t[]){
			0x48, 0xd3, 0x07,                        /* rol QWORD PTR [rdi],cl */
	  }, 3, RFLAGS_OF, FORM_PLAIN },
	{ "rcr byte ptr [rdi], 3", (const uint8_t[]){
			0xc0, 0x1f, 0x03,                        /* rcr BYTE PTR [rdi],0x3 */
	  }, 3, RFLAGS_OF, FORM_PLAIN },
	{ "shrd [rdi], eax, cl", (const uint8_t[]){
			0x0f, 0xad, 0x07,                        /* shrd DWORD PTR [rdi],eax,cl */
	  }, 3, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "not qword ptr [rdi]", (const uint8_t[]){
			0x48, 0xf7, 0x17,                        /* not QWORD PTR [rdi] */
	  }, 3, 0, FORM_PLAIN },
	{ "neg byte ptr [rdi]", (const uint8_t[]){
			0xf6, 0x1f,                              /* neg BYTE PTR [rdi] */
	  }, 2, 0, FORM_PLAIN },
	{ "setnz byte ptr [rdi+3]", (const uint8_t[]){
			0x0f, 0x95, 0x47, 0x03,                  /* setne BYTE PTR [rdi+0x3] */
	  }, 4, 0, FORM_PLAIN },
	{ "cmovs rax, [rdi]", (const uint8_t[]){
			0x48, 0x0f, 0x48, 0x07,                  /* cmovs rax,QWORD PTR [rdi] */
	  }, 4, 0, FORM_PLAIN },
	{ "xadd byte ptr [rdi], al", (const uint8_t[]){
			0x0f, 0xc0, 0x07,                        /* xadd BYTE PTR [rdi],al */
	  }, 3, 0, FORM_PLAIN },
	{ "cmpxchg byte ptr [rdi], cl", (const uint8_t[]){
			0x0f, 0xb0, 0x0f,                        /* cmpxchg BYTE PTR [rdi],cl */
	  }, 3, 0, FORM_PLAIN },
	{ "cmpxchg ax, bx", (const uint8_t[]){
			0x66, 0x0f, 0xb1, 0xd8,                  /* cmpxchg ax,bx */
	  }, 4, 0, FORM_PLAIN },
	{ "bts qword ptr [rdi], 63", (const uint8_t[]){
			0x48, 0x0f, 0xba, 0x2f, 0x3f,            /* bts QWORD PTR [rdi],0x3f */
	  }, 5, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "btr dword ptr [rdi], 7", (const uint8_t[]){
			0x0f, 0xba, 0x37, 0x07,                  /* btr DWORD PTR [rdi],0x7 */
	  }, 4, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "popcnt ax, [rdi]", (const uint8_t[]){
			0x66, 0xf3, 0x0f, 0xb8, 0x07,            /* popcnt ax,WORD PTR [rdi] */
	  }, 5, 0, FORM_PLAIN },
	{ "lzcnt r8w, [rdi]", (const uint8_t[]){
			0x66, 0xf3, 0x44, 0x0f, 0xbd, 0x07,      /* lzcnt r8w,WORD PTR [rdi] */
	  }, 6, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "tzcnt ecx, [rdi+4]", (const uint8_t[]){
			0xf3, 0x0f, 0xbc, 0x4f, 0x04,            /* tzcnt ecx,DWORD PTR [rdi+0x4] */
	  }, 5, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "bsr rax, [rdi]", (const uint8_t[]){
			0x48, 0x0f, 0xbd, 0x07,                  /* bsr rax,QWORD PTR [rdi] */
	  }, 4, RFLAGS_CF | RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF, FORM_PLAIN },
	{ "movzx rax, word ptr [rdi]", (const uint8_t[]){
			0x48, 0x0f, 0xb7, 0x07,                  /* movzx rax,WORD PTR [rdi] */
	  }, 4, 0, FORM_PLAIN },
	{ "movsx ax, byte ptr [rdi]", (const uint8_t[]){
			0x66, 0x0f, 0xbe, 0x07,                  /* movsx ax,BYTE PTR [rdi] */
	  }, 4, 0, FORM_PLAIN },
	{ "mov ah, [rdi]", (const uint8_t[]){
			0x8a, 0x27,                              /* mov ah,BYTE PTR [rdi] */
	  }, 2, 0, FORM_PLAIN },
	{ "mov [rdi], ah", (const uint8_t[]){
			0x88, 0x27,                              /* mov BYTE PTR [rdi],ah */
	  }, 2, 0, FORM_PLAIN },
	{ "cmovno r9d, [rdi+8]", (const uint8_t[]){
			0x44, 0x0f, 0x41, 0x4f, 0x08,            /* cmovno r9d,DWORD PTR [rdi+0x8] */
	  }, 5, 0, FORM_PLAIN },
	{ "adc al, [rdi]", (const uint8_t[]){
			0x12, 0x07,                              /* adc al,BYTE PTR [rdi] */
	  }, 2, 0, FORM_PLAIN },
	{ "sbb word ptr [rdi], -1", (const uint8_t[]){
			0x66, 0x83, 0x1f, 0xff,                  /* sbb WORD PTR [rdi],0xffff */
	  }, 4, 0, FORM_PLAIN },
	{ "xor eax, eax", (const uint8_t[]){
			0x31, 0xc0,                              /* xor eax,eax */
	  }, 2, 0, FORM_PLAIN },
	{ "rep stosb", (const uint8_t[]){
			0xf3, 0xaa,                              /* rep stos BYTE PTR es:[rdi],al */
	  }, 2, 0, FORM_STR },
	{ "rep movsd", (const uint8_t[]){
			0xf3, 0xa5,                              /* rep movs DWORD PTR es:[rdi],DWORD PTR ds:[rsi] */
	  }, 2, 0, FORM_STR },
	{ "repne cmpsw", (const uint8_t[]){
			0x66, 0xf2, 0xa7,                        /* repnz cmps WORD PTR ds:[rsi],WORD PTR es:[rdi] */
	  }, 3, 0, FORM_STR },
	{ "scasq", (const uint8_t[]){
			0x48, 0xaf,                              /* scas rax,QWORD PTR es:[rdi] */
	  }, 2, 0, FORM_STR },
	{ "lodsd", (const uint8_t[]){
			0xad,                                    /* lods eax,DWORD PTR ds:[rsi] */
	  }, 1, 0, FORM_STR },
	{ "movsw", (const uint8_t[]){
			0x66, 0xa5,                              /* movs WORD PTR es:[rdi],WORD PTR ds:[rsi] */
	  }, 2, 0, FORM_STR },
	{ "and rax, rbx; jz 1f; inc rcx; 1:; jb 2f; inc rdx; 2:; jle 3f; inc r8; 3:", (const uint8_t[]){
			0x48, 0x21, 0xd8,                        /* and rax,rbx */
			0x74, 0x03,                              /* je 0x8 */
			0x48, 0xff, 0xc1,                        /* inc rcx */
			0x72, 0x03,                              /* jb 0xd */
			0x48, 0xff, 0xc2,                        /* inc rdx */
			0x7e, 0x03,                              /* jle 0x12 */
			0x49, 0xff, 0xc0,                        /* inc r8 */
	  }, 18, RFLAGS_AF, FORM_PLAIN },
	{ "inc eax; jo 1f; inc rcx; 1:; jc 2f; inc rdx; 2:", (const uint8_t[]){
			0xff, 0xc0,                              /* inc eax */
			0x70, 0x03,                              /* jo 0x7 */
			0x48, 0xff, 0xc1,                        /* inc rcx */
			0x72, 0x03,                              /* jb 0xc */
			0x48, 0xff, 0xc2,                        /* inc rdx */
	  }, 12, 0, FORM_PLAIN },
	{ "dec r8b; jle 1f; inc rcx; 1:; js 2f; inc rdx; 2:; jp 3f; inc r9; 3:", (const uint8_t[]){
			0x41, 0xfe, 0xc8,                        /* dec r8b */
			0x7e, 0x03,                              /* jle 0x8 */
			0x48, 0xff, 0xc1,                        /* inc rcx */
			0x78, 0x03,                              /* js 0xd */
			0x48, 0xff, 0xc2,                        /* inc rdx */
			0x7a, 0x03,                              /* jp 0x12 */
			0x49, 0xff, 0xc1,                        /* inc r9 */
	  }, 18, 0, FORM_PLAIN },
	{ "test eax, eax; js 1f; inc rcx; 1:; jbe 2f; inc rdx; 2:; jl 3f; inc r9; 3:", (const uint8_t[]){
			0x85, 0xc0,                              /* test eax,eax */
			0x78, 0x03,                              /* js 0x7 */
			0x48, 0xff, 0xc1,                        /* inc rcx */
			0x76, 0x03,                              /* jbe 0xc */
			0x48, 0xff, 0xc2,                        /* inc rdx */
			0x7c, 0x03,                              /* jl 0x11 */
			0x49, 0xff, 0xc1,                        /* inc r9 */
	  }, 17, RFLAGS_AF, FORM_PLAIN },
	{ "cmp al, bl; setb cl; seta dl; setl r8b; setge r9b; setle r10b; setg r11b; setz r12b; sets r13b", (const uint8_t[]){
			0x38, 0xd8,                              /* cmp al,bl */
			0x0f, 0x92, 0xc1,                        /* setb cl */
			0x0f, 0x97, 0xc2,                        /* seta dl */
			0x41, 0x0f, 0x9c, 0xc0,                  /* setl r8b */
			0x41, 0x0f, 0x9d, 0xc1,                  /* setge r9b */
			0x41, 0x0f, 0x9e, 0xc2,                  /* setle r10b */
			0x41, 0x0f, 0x9f, 0xc3,                  /* setg r11b */
			0x41, 0x0f, 0x94, 0xc4,                  /* sete r12b */
			0x41, 0x0f, 0x98, 0xc5,                  /* sets r13b */
	  }, 32, 0, FORM_PLAIN },
	{ "cmp ax, 0x8000; cmovb ecx, edx; cmovl r8d, r9d; cmovo r10d, r11d", (const uint8_t[]){
			0x66, 0x3d, 0x00, 0x80,                  /* cmp ax,0x8000 */
			0x0f, 0x42, 0xca,                        /* cmovb ecx,edx */
			0x45, 0x0f, 0x4c, 0xc1,                  /* cmovl r8d,r9d */
			0x45, 0x0f, 0x40, 0xd3,                  /* cmovo r10d,r11d */
	  }, 15, 0, FORM_PLAIN },
	{ "add r8d, r9d; cmovc eax, ebx; cmovbe ecx, edx; cmovg r10d, r11d; setnp r12b", (const uint8_t[]){
			0x45, 0x01, 0xc8,                        /* add r8d,r9d */
			0x0f, 0x42, 0xc3,                        /* cmovb eax,ebx */
			0x0f, 0x46, 0xca,                        /* cmovbe ecx,edx */
			0x45, 0x0f, 0x4f, 0xd3,                  /* cmovg r10d,r11d */
			0x41, 0x0f, 0x9b, 0xc4,                  /* setnp r12b */
	  }, 17, 0, FORM_PLAIN },
	{ "add rax, 1; add rbx, rax; dec rcx; setc dl; setbe r8b", (const uint8_t[]){
			0x48, 0x83, 0xc0, 0x01,                  /* add rax,0x1 */
			0x48, 0x01, 0xc3,                        /* add rbx,rax */
			0x48, 0xff, 0xc9,                        /* dec rcx */
			0x0f, 0x92, 0xc2,                        /* setb dl */
			0x41, 0x0f, 0x96, 0xc0,                  /* setbe r8b */
	  }, 17, 0, FORM_PLAIN },
	{ "sub ecx, edx; inc ecx; seta al; setl bl", (const uint8_t[]){
			0x29, 0xd1,                              /* sub ecx,edx */
			0xff, 0xc1,                              /* inc ecx */
			0x0f, 0x97, 0xc0,                        /* seta al */
			0x0f, 0x9c, 0xc3,                        /* setl bl */
	  }, 10, 0, FORM_PLAIN },
	{ "or r8w, r9w; dec r8w; setb al; setz bl; setg cl", (const uint8_t[]){
			0x66, 0x45, 0x09, 0xc8,                  /* or r8w,r9w */
			0x66, 0x41, 0xff, 0xc8,                  /* dec r8w */
			0x0f, 0x92, 0xc0,                        /* setb al */
			0x0f, 0x94, 0xc3,                        /* sete bl */
			0x0f, 0x9f, 0xc1,                        /* setg cl */
	  }, 17, 0, FORM_PLAIN },
	{ "shl rax, 1; jc 1f; inc rcx; 1:", (const uint8_t[]){
			0x48, 0xd1, 0xe0,                        /* shl rax,1 */
			0x72, 0x03,                              /* jb 0x8 */
			0x48, 0xff, 0xc1,                        /* inc rcx */
	  }, 8, RFLAGS_AF | RFLAGS_OF, FORM_PLAIN },
	{ "movnti [rdi], rax; movnti [rdi+12], ebx", (const uint8_t[]){
			0x48, 0x0f, 0xc3, 0x07,                  /* movnti [rdi],rax */
			0x0f, 0xc3, 0x5f, 0x0c,                  /* movnti [rdi+0xc],ebx */
	  }, 8, 0, FORM_PLAIN },
	/* The x87 control words (the rest of the x87 unit is not modelled):
	 * FNINIT's values, then a random control word through FLDCW, read
	 * back by FNSTCW, and FNSTSW to memory and to AX. */
	{ "fninit; fnstcw [rdi]; fldcw [rdi+8]; fnstcw [rdi+2]; fnstsw [rdi+4]; fnstsw ax",
	  (const uint8_t[]){
			0xdb, 0xe3,                              /* fninit */
			0xd9, 0x3f,                              /* fnstcw [rdi] */
			0xd9, 0x6f, 0x08,                        /* fldcw [rdi+0x8] */
			0xd9, 0x7f, 0x02,                        /* fnstcw [rdi+0x2] */
			0xdd, 0x7f, 0x04,                        /* fnstsw [rdi+0x4] */
			0xdf, 0xe0,                              /* fnstsw ax */
	  }, 15, 0, FORM_PLAIN },
	/* BMI1 and BMI2 (VEX), MOVBE, ADCX/ADOX: compared where the host has them. */
	{ "andn rax,rbx,rcx", (const uint8_t[]){
			0xc4, 0xe2, 0xe0, 0xf2, 0xc1,            /* andn rax,rbx,rcx */
	  }, 5, RFLAGS_AF | RFLAGS_PF, FORM_EXT },
	{ "andn r8d,r9d,[rdi+0x8]", (const uint8_t[]){
			0xc4, 0x62, 0x30, 0xf2, 0x47, 0x08,      /* andn r8d,r9d,DWORD PTR [rdi+0x8] */
	  }, 6, RFLAGS_AF | RFLAGS_PF, FORM_EXT },
	{ "bextr rdx,rsi,rcx", (const uint8_t[]){
			0xc4, 0xe2, 0xf0, 0xf7, 0xd6,            /* bextr rdx,rsi,rcx */
	  }, 5, RFLAGS_AF | RFLAGS_SF | RFLAGS_PF, FORM_EXT },
	{ "bextr eax,[rdi],ebx", (const uint8_t[]){
			0xc4, 0xe2, 0x60, 0xf7, 0x07,            /* bextr eax,DWORD PTR [rdi],ebx */
	  }, 5, RFLAGS_AF | RFLAGS_SF | RFLAGS_PF, FORM_EXT },
	{ "blsi rcx,rdx", (const uint8_t[]){
			0xc4, 0xe2, 0xf0, 0xf3, 0xda,            /* blsi rcx,rdx */
	  }, 5, RFLAGS_AF | RFLAGS_PF, FORM_EXT },
	{ "blsmsk r10d,r11d", (const uint8_t[]){
			0xc4, 0xc2, 0x28, 0xf3, 0xd3,            /* blsmsk r10d,r11d */
	  }, 5, RFLAGS_AF | RFLAGS_PF, FORM_EXT },
	{ "blsr rax,[rdi+0x10]", (const uint8_t[]){
			0xc4, 0xe2, 0xf8, 0xf3, 0x4f, 0x10,      /* blsr rax,QWORD PTR [rdi+0x10] */
	  }, 6, RFLAGS_AF | RFLAGS_PF, FORM_EXT },
	{ "bzhi rbx,rcx,rdx", (const uint8_t[]){
			0xc4, 0xe2, 0xe8, 0xf5, 0xd9,            /* bzhi rbx,rcx,rdx */
	  }, 5, RFLAGS_AF | RFLAGS_PF, FORM_EXT },
	{ "bzhi eax,[rdi],ecx", (const uint8_t[]){
			0xc4, 0xe2, 0x70, 0xf5, 0x07,            /* bzhi eax,DWORD PTR [rdi],ecx */
	  }, 5, RFLAGS_AF | RFLAGS_PF, FORM_EXT },
	{ "mulx rax,rbx,rcx", (const uint8_t[]){
			0xc4, 0xe2, 0xe3, 0xf6, 0xc1,            /* mulx rax,rbx,rcx */
	  }, 5, 0, FORM_EXT },
	{ "mulx r8d,r9d,[rdi]", (const uint8_t[]){
			0xc4, 0x62, 0x33, 0xf6, 0x07,            /* mulx r8d,r9d,DWORD PTR [rdi] */
	  }, 5, 0, FORM_EXT },
	{ "mulx rcx,rcx,rbx", (const uint8_t[]){
			0xc4, 0xe2, 0xf3, 0xf6, 0xcb,            /* mulx rcx,rcx,rbx */
	  }, 5, 0, FORM_EXT },
	{ "pdep rax,rbx,rcx", (const uint8_t[]){
			0xc4, 0xe2, 0xe3, 0xf5, 0xc1,            /* pdep rax,rbx,rcx */
	  }, 5, 0, FORM_EXT },
	{ "pext r8,r9,[rdi+0x18]", (const uint8_t[]){
			0xc4, 0x62, 0xb2, 0xf5, 0x47, 0x18,      /* pext r8,r9,QWORD PTR [rdi+0x18] */
	  }, 6, 0, FORM_EXT },
	{ "pext eax,ebx,ecx", (const uint8_t[]){
			0xc4, 0xe2, 0x62, 0xf5, 0xc1,            /* pext eax,ebx,ecx */
	  }, 5, 0, FORM_EXT },
	{ "rorx rdx,rsi,0xd", (const uint8_t[]){
			0xc4, 0xe3, 0xfb, 0xf0, 0xd6, 0x0d,      /* rorx rdx,rsi,0xd */
	  }, 6, 0, FORM_EXT },
	{ "rorx eax,[rdi],0x23", (const uint8_t[]){
			0xc4, 0xe3, 0x7b, 0xf0, 0x07, 0x23,      /* rorx eax,DWORD PTR [rdi],0x23 */
	  }, 6, 0, FORM_EXT },
	{ "sarx rax,rbx,rcx", (const uint8_t[]){
			0xc4, 0xe2, 0xf2, 0xf7, 0xc3,            /* sarx rax,rbx,rcx */
	  }, 5, 0, FORM_EXT },
	{ "shlx r9d,r10d,r11d", (const uint8_t[]){
			0xc4, 0x42, 0x21, 0xf7, 0xca,            /* shlx r9d,r10d,r11d */
	  }, 5, 0, FORM_EXT },
	{ "shrx rcx,[rdi],rdx", (const uint8_t[]){
			0xc4, 0xe2, 0xeb, 0xf7, 0x0f,            /* shrx rcx,QWORD PTR [rdi],rdx */
	  }, 5, 0, FORM_EXT },
	{ "movbe eax,[rdi]", (const uint8_t[]){
			0x0f, 0x38, 0xf0, 0x07,                  /* movbe eax,DWORD PTR [rdi] */
	  }, 4, 0, FORM_EXT },
	{ "movbe [rdi+0x8],rcx", (const uint8_t[]){
			0x48, 0x0f, 0x38, 0xf1, 0x4f, 0x08,      /* movbe QWORD PTR [rdi+0x8],rcx */
	  }, 6, 0, FORM_EXT },
	{ "movbe r9w,[rdi+0x2]", (const uint8_t[]){
			0x66, 0x44, 0x0f, 0x38, 0xf0, 0x4f, 0x02, /* movbe r9w,WORD PTR [rdi+0x2] */
	  }, 7, 0, FORM_EXT },
	{ "movbe [rdi+0x6],dx", (const uint8_t[]){
			0x66, 0x0f, 0x38, 0xf1, 0x57, 0x06,      /* movbe WORD PTR [rdi+0x6],dx */
	  }, 6, 0, FORM_EXT },
	{ "adcx rax,rbx", (const uint8_t[]){
			0x66, 0x48, 0x0f, 0x38, 0xf6, 0xc3,      /* adcx rax,rbx */
	  }, 6, 0, FORM_EXT },
	{ "adcx r8d,[rdi]", (const uint8_t[]){
			0x66, 0x44, 0x0f, 0x38, 0xf6, 0x07,      /* adcx r8d,DWORD PTR [rdi] */
	  }, 6, 0, FORM_EXT },
	{ "adox rcx,rdx", (const uint8_t[]){
			0xf3, 0x48, 0x0f, 0x38, 0xf6, 0xca,      /* adox rcx,rdx */
	  }, 6, 0, FORM_EXT },
	{ "adox eax,[rdi+0x4]", (const uint8_t[]){
			0xf3, 0x0f, 0x38, 0xf6, 0x47, 0x04,      /* adox eax,DWORD PTR [rdi+0x4] */
	  }, 6, 0, FORM_EXT },
};

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t gen_value(uint64_t *s)
{
	static const uint64_t edges[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
					  0x7fffffff, 0x80000000, 0xffffffff, UINT64_MAX,
					  UINT64_C(0x8000000000000000), UINT64_C(0x7fffffffffffffff) };
	uint64_t r = rng(s);
	switch (r & 7) {
	case 0:
	case 1:
		return edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
	case 2:
		return rng(s) & 0xff;
	default:
		return rng(s);
	}
}

static void gen_state(uint64_t *s, const struct form *fm, struct native_state *st)
{
	for (unsigned r = 0; r < NATIVE_NGPR; r++)
		st->gpr[r] = gen_value(s);
	st->rflags = RFLAGS_FIXED1 | (rng(s) & RFLAGS_STATUS);
	for (unsigned i = 0; i < NATIVE_SCRATCH_SIZE; i += 8) {
		uint64_t v = rng(s);
		memcpy(&st->mem[i], &v, 8);
	}
	st->gpr[NATIVE_RDI] = NATIVE_SCRATCH_ADDR + PTR_OFFSET;
	if (fm->kind == FORM_SMALL)
		st->gpr[NATIVE_RAX] = (rng(s) % 16000) - 8000;
	if (fm->kind == FORM_STR) {
		st->gpr[NATIVE_RSI] = NATIVE_SCRATCH_ADDR + 0x600 + (rng(s) & 0xff);
		st->gpr[NATIVE_RDI] = NATIVE_SCRATCH_ADDR + 0xa00 + (rng(s) & 0xff);
		st->gpr[NATIVE_RCX] = rng(s) % 40;
		if (rng(s) & 1)
			st->rflags |= RFLAGS_DF;
		if (rng(s) & 1) /* some scans and compares that find a match */
			memset(st->mem, (int)(st->gpr[NATIVE_RAX] & 0xff), NATIVE_SCRATCH_SIZE / 2);
	}
}

/* A machine with the scratch page and the code (plus HLT) mapped where the
 * native harness puts them. */
static struct cpu_fixture *diff_machine(const struct form *fm)
{
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	const uint64_t flags = PTE_P | PTE_RW | PTE_US;
	cr_assert(ptb_map(&f->pt, NATIVE_SCRATCH_ADDR, SCRATCH_PHYS, PG_4K, flags, flags));
	cr_assert(ptb_map(&f->pt, NATIVE_CODE_ADDR, CODE_PHYS, PG_4K, flags, flags));
	cpu_fixture_poke(f, CODE_PHYS, fm->code, fm->len);
	cpu_fixture_poke(f, CODE_PHYS + fm->len, (const uint8_t[]){ HLT }, 1);
	return f;
}

/* Run one state in the interpreter; returns the stop reason. */
static enum cpu_stop emulate(struct cpu_fixture *f, const struct native_state *in)
{
	struct cpu *c = &f->c;
	for (unsigned r = 0; r < NATIVE_NGPR; r++)
		c->gpr[r] = in->gpr[r];
	c->gpr[GPR_RSP] = CPU_STACK_TOP;
	c->rflags = in->rflags;
	c->rip = NATIVE_CODE_ADDR;
	memcpy(c->mmu.phys.ram + SCRATCH_PHYS, in->mem, NATIVE_SCRATCH_SIZE);
	return cpu_run(c, 1000);
}

static void check_state(const struct form *fm, size_t k, struct cpu_fixture *f,
			const struct native_state *in, const struct native_state *out,
			const struct native_fault *nf)
{
	struct cpu *c = &f->c;
	enum cpu_stop stop = emulate(f, in);
	if (nf->signal) {
		cr_assert_eq(stop, CPU_STOP_EXCEPTION, "%s, state %zu: native signal %d, emulated %s",
			     fm->text, k, nf->signal, cpu_stop_name(stop));
		cr_assert_eq(c->exc.vector, VEC_DE, "%s, state %zu: vector %u", fm->text, k,
			     c->exc.vector);
	} else {
		cr_assert_eq(stop, CPU_STOP_HLT, "%s, state %zu: emulation stopped with %s (vector %u)",
			     fm->text, k, cpu_stop_name(stop), c->exc.vector);
	}
	for (unsigned r = 0; r < NATIVE_NGPR; r++)
		if (r != NATIVE_RSP)
			cr_assert_eq(c->gpr[r], out->gpr[r],
				     "%s, state %zu: register %u emulated %#llx, native %#llx", fm->text,
				     k, r, (unsigned long long)c->gpr[r],
				     (unsigned long long)out->gpr[r]);
	uint64_t compared = (RFLAGS_STATUS | RFLAGS_DF) & ~fm->undefined;
	cr_assert_eq(c->rflags & compared, out->rflags & compared,
		     "%s, state %zu: flags emulated %#llx, native %#llx (compared %#llx)", fm->text, k,
		     (unsigned long long)c->rflags, (unsigned long long)out->rflags,
		     (unsigned long long)compared);
	cr_assert(!memcmp(c->mmu.phys.ram + SCRATCH_PHYS, out->mem, NATIVE_SCRATCH_SIZE),
		  "%s, state %zu: scratch memory differs", fm->text, k);
}

/* CPUID.07H:EBX BMI1 (3), BMI2 (8), ADX (19); CPUID.01H:ECX MOVBE (22). */
static bool host_has_extensions(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	unsigned need7 = 1u << 3 | 1u << 8 | 1u << 19;
	bool ok = (b & need7) == need7;
	return ok && __get_cpuid(1, &a, &b, &c, &d) && (c & 1u << 22);
}

static void run_form(const struct form *fm, uint64_t *seed)
{
	struct native_state *in = calloc(STATES, sizeof *in), *out = calloc(STATES, sizeof *out);
	struct native_fault *faults = calloc(STATES, sizeof *faults);
	char err[200];
	cr_assert(in && out && faults);
	for (size_t k = 0; k < STATES; k++)
		gen_state(seed, fm, &in[k]);
	cr_assert(native_exec_batch_catch(fm->code, fm->len, in, out, faults, STATES, NULL, err,
					  sizeof err),
		  "%s: %s", fm->text, err);
	struct cpu_fixture *f = diff_machine(fm);
	for (size_t k = 0; k < STATES; k++) {
		if (fm->kind != FORM_DIV)
			cr_assert_eq(faults[k].signal, 0, "%s, state %zu: native signal %d", fm->text, k,
				     faults[k].signal);
		check_state(fm, k, f, &in[k], &out[k], &faults[k]);
	}
	cpu_fixture_free(f);
	free(in);
	free(out);
	free(faults);
}

Test(cpu_diff, every_form_matches_the_host_cpu, .timeout = 600)
{
	uint64_t seed = SEED;
	bool ext = host_has_extensions();
	if (!ext)
		cr_log_warn("the host lacks BMI1, BMI2, ADX or MOVBE: those forms are not compared");
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
		if (forms[i].kind != FORM_EXT || ext)
			run_form(&forms[i], &seed);
}
