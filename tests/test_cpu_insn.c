/* General-purpose instructions in 64-bit mode (and a few in 32-bit
 * protected mode), one test per behaviour. Each test runs a few hand-
 * assembled instructions (the assembly is beside the bytes) to HLT and
 * checks registers, memory and flags. */
#include <criterion/criterion.h>

#include "emu/alu.h"
#include "tests/cpu_support.h"

#define EXPECT_REG(r, v)                                                                      \
	cr_assert_eq(c->gpr[GPR_##r], (uint64_t)(v), #r " = %#llx, expected %#llx",            \
		     (unsigned long long)c->gpr[GPR_##r], (unsigned long long)(uint64_t)(v))
#define EXPECT_MEM(la, size, v)                                                               \
	cr_assert_eq(cpu_fixture_peek(f, (la), (size)), (uint64_t)(v), "[%#llx] = %#llx",       \
		     (unsigned long long)(la), (unsigned long long)cpu_fixture_peek(f, (la), (size)))
#define EXPECT_FLAGS(mask, v) cr_assert_eq(c->rflags & (mask), (uint64_t)(v), "rflags %#llx", \
					   (unsigned long long)c->rflags)
#define SET(r, v) (c->gpr[GPR_##r] = (uint64_t)(v))
#define POKE64(la, v)                                                                         \
	do {                                                                                  \
		uint64_t v_ = (v);                                                            \
		cpu_fixture_poke(f, (la), &v_, 8);                                            \
	} while (0)

/* Place code at CPU_CODE in a new fixture and point RIP at it. */
static struct cpu_fixture *with_code(struct cpu_fixture *f, const uint8_t *code, size_t n)
{
	cpu_fixture_code(f, CPU_CODE, code, n);
	return f;
}

Test(cpu_insn, mov_forms_merge_and_zero_extend)
{
	static const uint8_t code[] = {
		0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* movabs rax,0x1122334455667788 */
		0x88, 0xdc,                              /* mov ah,bl */
		0x66, 0xb9, 0xef, 0xbe,                  /* mov cx,0xbeef */
		0xba, 0xff, 0xff, 0xff, 0xff,            /* mov edx,0xffffffff */
		0x48, 0xa3, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, /* movabs ds:0x600000,rax */
		0xa0, 0x03, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, /* movabs al,ds:0x600003 */
		0x48, 0xc7, 0x05, 0x00, 0xf0, 0x1f, 0x00, 0xfe, 0xff, 0xff, 0xff, /* mov QWORD PTR [rip+0x1ff000],0xfffffffffffffffe */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RBX, 0xab); SET(RCX, 0xffffffffffffffff); SET(RDX, 0xffffffffffffffff);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 0x112233445566ab55);
	EXPECT_REG(RCX, 0xffffffffffffbeef);
	EXPECT_REG(RDX, 0xffffffff);
	EXPECT_MEM(CPU_DATA, 8, 0x112233445566ab88);
	EXPECT_MEM(CPU_CODE + sizeof code - 1 + 0x1ff000, 8, 0xfffffffffffffffe);
	cpu_fixture_free(f);
}

Test(cpu_insn, movzx_movsx_movsxd)
{
	static const uint8_t code[] = {
		0x0f, 0xb6, 0x06,                        /* movzx eax,BYTE PTR [rsi] */
		0x48, 0x0f, 0xbf, 0x1e,                  /* movsx rbx,WORD PTR [rsi] */
		0x48, 0x63, 0x0e,                        /* movsxd rcx,DWORD PTR [rsi] */
		0x0f, 0xb6, 0xd7,                        /* movzx edx,bh */
		0x44, 0x0f, 0xbe, 0xc1,                  /* movsx r8d,cl */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA); POKE64(CPU_DATA, 0x80008001); SET(R8, UINT64_MAX);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 0x01);
	EXPECT_REG(RBX, 0xffffffffffff8001);
	EXPECT_REG(RCX, 0xffffffff80008001);
	EXPECT_REG(RDX, 0x80);
	EXPECT_REG(R8, 0x1);
	cpu_fixture_free(f);
}

Test(cpu_insn, lea_address_and_operand_sizes)
{
	static const uint8_t code[] = {
		0x48, 0x8d, 0x44, 0x8b, 0x10,            /* lea rax,[rbx+rcx*4+0x10] */
		0x8d, 0x74, 0x8b, 0x10,                  /* lea esi,[rbx+rcx*4+0x10] */
		0x48, 0x8d, 0x15, 0x00, 0x00, 0x00, 0x00, /* lea rdx,[rip+0x0] */
		0x67, 0x44, 0x8d, 0x43, 0xff,            /* lea r8d,[ebx-0x1] */
		0x66, 0x44, 0x8d, 0x4b, 0x02,            /* lea r9w,[rbx+0x2] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RBX, 0x100000000); SET(RCX, 2); SET(R9, UINT64_MAX);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 0x100000018);
	EXPECT_REG(RSI, 0x18);
	EXPECT_REG(RDX, CPU_CODE + 16);
	EXPECT_REG(R8, 0xffffffff);
	EXPECT_REG(R9, 0xffffffffffff0002);
	cpu_fixture_free(f);
}

Test(cpu_insn, xchg_xadd_cmpxchg)
{
	static const uint8_t code[] = {
		0x48, 0x87, 0x06,                        /* xchg QWORD PTR [rsi],rax */
		0x48, 0x0f, 0xc1, 0x5e, 0x08,            /* xadd QWORD PTR [rsi+0x8],rbx */
		0xf0, 0x48, 0x0f, 0xb1, 0x4e, 0x10,      /* lock cmpxchg QWORD PTR [rsi+0x10],rcx */
		0x48, 0x0f, 0xb1, 0x4e, 0x18,            /* cmpxchg QWORD PTR [rsi+0x18],rcx */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA); SET(RAX, 5); SET(RBX, 10); SET(RCX, 77);
	POKE64(CPU_DATA, 1); POKE64(CPU_DATA + 8, 100); POKE64(CPU_DATA + 16, 1); POKE64(CPU_DATA + 24, 9);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_MEM(CPU_DATA, 8, 5);
	EXPECT_REG(RBX, 100);
	EXPECT_MEM(CPU_DATA + 8, 8, 110);
	EXPECT_MEM(CPU_DATA + 16, 8, 77);
	EXPECT_MEM(CPU_DATA + 24, 8, 9);
	EXPECT_REG(RAX, 9);
	EXPECT_FLAGS(RFLAGS_ZF, 0);
	cpu_fixture_free(f);
}

Test(cpu_insn, cmpxchg16b_and_8b)
{
	static const uint8_t code[] = {
		0xf0, 0x48, 0x0f, 0xc7, 0x0e,            /* lock cmpxchg16b OWORD PTR [rsi] */
		0x49, 0x89, 0xc0,                        /* mov r8,rax */
		0xf0, 0x0f, 0xc7, 0x4e, 0x10,            /* lock cmpxchg8b QWORD PTR [rsi+0x10] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA); SET(RAX, 1); SET(RDX, 2); SET(RBX, 0x33); SET(RCX, 0x44);
	POKE64(CPU_DATA, 1); POKE64(CPU_DATA + 8, 2); POKE64(CPU_DATA + 16, 0x0000000700000006);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_MEM(CPU_DATA, 8, 0x33);
	EXPECT_MEM(CPU_DATA + 8, 8, 0x44);
	EXPECT_REG(R8, 1);
	EXPECT_REG(RAX, 6);
	EXPECT_REG(RDX, 7);
	EXPECT_FLAGS(RFLAGS_ZF, 0);
	cpu_fixture_free(f);
}

Test(cpu_insn, cmpxchg16b_misaligned_raises_gp)
{
	static const uint8_t code[] = {
		0x48, 0x0f, 0xc7, 0x0e,                  /* cmpxchg16b OWORD PTR [rsi] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA + 8);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_GP);
	cpu_fixture_free(f);
}

Test(cpu_insn, alu_group_flags_and_carry_chain)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, /* mov rax,0xffffffffffffffff */
		0x48, 0x83, 0xc0, 0x01,                  /* add rax,0x1 */
		0x48, 0x83, 0xd3, 0x00,                  /* adc rbx,0x0 */
		0x48, 0x83, 0xe9, 0x01,                  /* sub rcx,0x1 */
		0x48, 0x83, 0xda, 0x00,                  /* sbb rdx,0x0 */
		0x49, 0x83, 0xe0, 0x00,                  /* and r8,0x0 */
		0x49, 0x81, 0xc9, 0x80, 0x00, 0x00, 0x00, /* or r9,0x80 */
		0x4d, 0x31, 0xd2,                        /* xor r10,r10 */
		0x49, 0x83, 0xfb, 0x05,                  /* cmp r11,0x5 */
		0x4d, 0x85, 0xe4,                        /* test r12,r12 */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RCX, 0); SET(R11, 3); SET(R12, 0x8000000000000000);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 0);
	EXPECT_REG(RBX, 1);
	EXPECT_REG(RCX, UINT64_MAX);
	EXPECT_REG(RDX, UINT64_MAX);
	EXPECT_REG(R9, 0x80);
	EXPECT_FLAGS(RFLAGS_SF | RFLAGS_ZF | RFLAGS_CF | RFLAGS_OF, RFLAGS_SF);
	cpu_fixture_free(f);
}

Test(cpu_insn, alu_memory_destination_and_immediates)
{
	static const uint8_t code[] = {
		0x48, 0x83, 0x06, 0x10,                  /* add QWORD PTR [rsi],0x10 */
		0x83, 0x6e, 0x08, 0x01,                  /* sub DWORD PTR [rsi+0x8],0x1 */
		0x80, 0x4e, 0x10, 0xf0,                  /* or BYTE PTR [rsi+0x10],0xf0 */
		0x66, 0x01, 0x46, 0x18,                  /* add WORD PTR [rsi+0x18],ax */
		0x48, 0x83, 0x3e, 0x11,                  /* cmp QWORD PTR [rsi],0x11 */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA); SET(RAX, 0x1234); POKE64(CPU_DATA, 1); POKE64(CPU_DATA + 8, 0xffffffff00000000);
	POKE64(CPU_DATA + 16, 0x0f); POKE64(CPU_DATA + 24, 0x11110001);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_MEM(CPU_DATA, 8, 0x11);
	EXPECT_MEM(CPU_DATA + 8, 8, 0xffffffffffffffff);
	EXPECT_MEM(CPU_DATA + 16, 8, 0xff);
	EXPECT_MEM(CPU_DATA + 24, 8, 0x11111235);
	EXPECT_FLAGS(RFLAGS_ZF, RFLAGS_ZF);
	cpu_fixture_free(f);
}

Test(cpu_insn, inc_dec_neg_not_keep_or_set_cf)
{
	static const uint8_t code[] = {
		0xf9,                                    /* stc */
		0x48, 0xff, 0x06,                        /* inc QWORD PTR [rsi] */
		0xff, 0xc8,                              /* dec eax */
		0x48, 0xf7, 0xdb,                        /* neg rbx */
		0xf6, 0xd1,                              /* not cl */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA); POKE64(CPU_DATA, 41); SET(RAX, 0); SET(RBX, 5); SET(RCX, 0x0f);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_MEM(CPU_DATA, 8, 42);
	EXPECT_REG(RAX, 0xffffffff);
	EXPECT_REG(RBX, (uint64_t)-5);
	EXPECT_REG(RCX, 0xf0);
	EXPECT_FLAGS(RFLAGS_CF, RFLAGS_CF);
	cpu_fixture_free(f);
}

/* INC/DEC keep the CF of whatever the lazy flags hold before them: a
 * pending ADD, logic operation, SUB, INC/DEC, or exact flags (STC). */
Test(cpu_insn, inc_dec_keep_cf_of_every_pending_operation)
{
	static const uint8_t code[] = {
		0xb8, 0xff, 0xff, 0xff, 0xff,            /* mov eax,0xffffffff */
		0x83, 0xc0, 0x01,                        /* add eax,0x1 */
		0xff, 0xc3,                              /* inc ebx */
		0x0f, 0x92, 0xc1,                        /* setb cl */
		0x31, 0xd2,                              /* xor edx,edx */
		0xff, 0xca,                              /* dec edx */
		0x0f, 0x92, 0xc5,                        /* setb ch */
		0x83, 0xee, 0x01,                        /* sub esi,0x1 */
		0xff, 0xcf,                              /* dec edi */
		0xff, 0xc7,                              /* inc edi */
		0x9c,                                    /* pushf */
		0x41, 0x5c,                              /* pop r12 */
		0x41, 0x83, 0xd0, 0x00,                  /* adc r8d,0x0 */
		0xf9,                                    /* stc */
		0x41, 0xff, 0xc2,                        /* inc r10d */
		0x41, 0x0f, 0x92, 0xc3,                  /* setb r11b */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RBX, 0); SET(RCX, 0); SET(RSI, 0); SET(RDI, 5); SET(R8, 0); SET(R10, 0); SET(R11, 0);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RBX, 1);
	EXPECT_REG(RCX, 0x0001);    /* CF after ADD carried over INC; 0 after XOR, DEC */
	EXPECT_REG(RDX, 0xffffffff);
	EXPECT_REG(RDI, 5);
	/* After SUB's borrow, DEC, INC: CF = 1, and INC's own flags on 5. */
	cr_assert_eq(c->gpr[GPR_R12] & RFLAGS_STATUS, RFLAGS_CF | RFLAGS_PF);
	EXPECT_REG(R8, 1);
	EXPECT_REG(R10, 1);
	EXPECT_REG(R11, 1);
	cpu_fixture_free(f);
}

Test(cpu_insn, shifts_and_rotates)
{
	static const uint8_t code[] = {
		0x48, 0xc1, 0xe0, 0x04,                  /* shl rax,0x4 */
		0xd3, 0xeb,                              /* shr ebx,cl */
		0x48, 0xc1, 0xfa, 0x3f,                  /* sar rdx,0x3f */
		0x66, 0x41, 0xc1, 0xc0, 0x08,            /* rol r8w,0x8 */
		0x49, 0xd1, 0xd9,                        /* rcr r9,1 */
		0x4d, 0x0f, 0xa4, 0xda, 0x08,            /* shld r10,r11,0x8 */
		0x4d, 0x0f, 0xad, 0xdc,                  /* shrd r12,r11,cl */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RAX, 0xf000000000000001); SET(RBX, 0x80); SET(RCX, 4); SET(RDX, 0x8000000000000000);
	SET(R8, 0x1234); SET(R9, 2); SET(R10, 0x00ffffffffffff00); SET(R11, 0xab00000000000000); SET(R12, 0x10);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 0x10);
	EXPECT_REG(RBX, 0x8);
	EXPECT_REG(RDX, UINT64_MAX);
	EXPECT_REG(R8, 0x3412);
	EXPECT_REG(R9, 1);
	EXPECT_REG(R10, 0xffffffffffff00ab);
	EXPECT_REG(R12, 0x0000000000000001);
	cpu_fixture_free(f);
}

Test(cpu_insn, mul_imul_div_idiv)
{
	static const uint8_t code[] = {
		0x48, 0x89, 0xd8,                        /* mov rax,rbx */
		0x48, 0xf7, 0xe1,                        /* mul rcx */
		0x49, 0x89, 0xc0,                        /* mov r8,rax */
		0x49, 0x89, 0xd1,                        /* mov r9,rdx */
		0xb8, 0xf9, 0xff, 0xff, 0xff,            /* mov eax,0xfffffff9 */
		0x99,                                    /* cdq */
		0xb9, 0x02, 0x00, 0x00, 0x00,            /* mov ecx,0x2 */
		0xf7, 0xf9,                              /* idiv ecx */
		0x49, 0x89, 0xc2,                        /* mov r10,rax */
		0x49, 0x89, 0xd3,                        /* mov r11,rdx */
		0x4d, 0x6b, 0xe5, 0xfd,                  /* imul r12,r13,0xfffffffffffffffd */
		0x4d, 0x0f, 0xaf, 0xed,                  /* imul r13,r13 */
		0xb0, 0xc8,                              /* mov al,0xc8 */
		0xb1, 0x03,                              /* mov cl,0x3 */
		0xf6, 0xe1,                              /* mul cl */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RBX, 0x8000000000000000); SET(RCX, 4); SET(R13, 7);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(R8, 0);
	EXPECT_REG(R9, 2);
	EXPECT_REG(R10, 0xfffffffd);
	EXPECT_REG(R11, 0xffffffff);
	EXPECT_REG(R12, (uint64_t)-21);
	EXPECT_REG(R13, 49);
	cr_assert_eq(c->gpr[GPR_RAX] & 0xffff, 600);
	EXPECT_FLAGS(RFLAGS_CF | RFLAGS_OF, RFLAGS_CF | RFLAGS_OF);
	cpu_fixture_free(f);
}

Test(cpu_insn, bt_family_and_bit_string_in_memory)
{
	static const uint8_t code[] = {
		0x48, 0x0f, 0xba, 0xe0, 0x03,            /* bt rax,0x3 */
		0x41, 0x0f, 0x92, 0xc0,                  /* setb r8b */
		0x48, 0x0f, 0xab, 0x0e,                  /* bts QWORD PTR [rsi],rcx */
		0x48, 0x0f, 0xba, 0xf3, 0x00,            /* btr rbx,0x0 */
		0x66, 0x0f, 0xba, 0x7e, 0x08, 0x0f,      /* btc WORD PTR [rsi+0x8],0xf */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RAX, 8); SET(RSI, CPU_DATA); SET(RCX, 65); SET(RBX, 3); SET(R8, 0);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(R8, 1);
	EXPECT_MEM(CPU_DATA + 8, 8, 0x8002);
	EXPECT_REG(RBX, 2);
	EXPECT_FLAGS(RFLAGS_CF, 0);
	cpu_fixture_free(f);
}

Test(cpu_insn, bt_negative_offset_addresses_below_operand)
{
	static const uint8_t code[] = {
		0x0f, 0xab, 0x0e,                        /* bts DWORD PTR [rsi],ecx */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA + 16); SET(RCX, (uint32_t)-1);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_MEM(CPU_DATA + 12, 4, 0x80000000);
	cpu_fixture_free(f);
}

Test(cpu_insn, bit_scans_and_popcnt)
{
	static const uint8_t code[] = {
		0x48, 0x0f, 0xbc, 0xc3,                  /* bsf rax,rbx */
		0x48, 0x0f, 0xbd, 0xcb,                  /* bsr rcx,rbx */
		0x49, 0x0f, 0xbc, 0xd0,                  /* bsf rdx,r8 */
		0xf3, 0x4d, 0x0f, 0xbc, 0xc8,            /* tzcnt r9,r8 */
		0xf3, 0x4c, 0x0f, 0xbd, 0xd3,            /* lzcnt r10,rbx */
		0xf3, 0x4c, 0x0f, 0xb8, 0xdb,            /* popcnt r11,rbx */
		0x41, 0x0f, 0xcc,                        /* bswap r12d */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RBX, 0x0100100); SET(R8, 0); SET(RDX, 0x5555); SET(R12, 0x11223344);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 8);
	EXPECT_REG(RCX, 20);
	EXPECT_REG(RDX, 0x5555);
	EXPECT_REG(R9, 64);
	EXPECT_REG(R10, 43);
	EXPECT_REG(R11, 2);
	EXPECT_REG(R12, 0x44332211);
	cpu_fixture_free(f);
}

Test(cpu_insn, cmov_and_setcc)
{
	static const uint8_t code[] = {
		0x48, 0x39, 0xd8,                        /* cmp rax,rbx */
		0x48, 0x0f, 0x4c, 0xca,                  /* cmovl rcx,rdx */
		0x4c, 0x0f, 0x4f, 0xc2,                  /* cmovg r8,rdx */
		0x44, 0x0f, 0x4f, 0xca,                  /* cmovg r9d,edx */
		0x41, 0x0f, 0x9c, 0xc2,                  /* setl r10b */
		0x0f, 0x95, 0x06,                        /* setne BYTE PTR [rsi] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RAX, (uint64_t)-1); SET(RBX, 1); SET(RDX, 42); SET(R9, UINT64_MAX); SET(R10, 0); SET(RSI, CPU_DATA);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RCX, 42);
	EXPECT_REG(R8, 0);
	EXPECT_REG(R9, 0xffffffff);
	EXPECT_REG(R10, 1);
	EXPECT_MEM(CPU_DATA, 1, 1);
	cpu_fixture_free(f);
}

Test(cpu_insn, call_ret_and_indirect_jumps)
{
	static const uint8_t code[] = {
		0xe8, 0x23, 0x00, 0x00, 0x00,            /* call 28 <f> */
		0x48, 0x8d, 0x1d, 0x03, 0x00, 0x00, 0x00, /* lea rbx,[rip+0x3] */
		0xff, 0xe3,                              /* jmp rbx */
		0xf4,                                    /* hlt */
		0x48, 0x8d, 0x15, 0x1a, 0x00, 0x00, 0x00, /* lea rdx,[rip+0x1a] */
		0x48, 0x89, 0x56, 0x08,                  /* mov QWORD PTR [rsi+0x8],rdx */
		0x48, 0x8d, 0x15, 0x18, 0x00, 0x00, 0x00, /* lea rdx,[rip+0x18] */
		0x48, 0x89, 0x56, 0x10,                  /* mov QWORD PTR [rsi+0x10],rdx */
		0xff, 0x66, 0x08,                        /* jmp QWORD PTR [rsi+0x8] */
		0xb8, 0x01, 0x00, 0x00, 0x00,            /* mov eax,0x1 */
		0xc2, 0x00, 0x00,                        /* ret 0x0 */
		0x83, 0xc0, 0x02,                        /* add eax,0x2 */
		0x6a, 0x00,                              /* push 0x0 */
		0xff, 0x56, 0x10,                        /* call QWORD PTR [rsi+0x10] */
		0xf4,                                    /* hlt */
		0xc2, 0x08, 0x00,                        /* ret 0x8 */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 3);
	EXPECT_REG(RSP, CPU_STACK_TOP);
	cpu_fixture_free(f);
}

Test(cpu_insn, loop_loopcc_jrcxz)
{
	static const uint8_t code[] = {
		0xb9, 0x0a, 0x00, 0x00, 0x00,            /* mov ecx,0xa */
		0xff, 0xc0,                              /* inc eax */
		0xe2, 0xfc,                              /* loop 5 <a> */
		0xb9, 0x05, 0x00, 0x00, 0x00,            /* mov ecx,0x5 */
		0xff, 0xc3,                              /* inc ebx */
		0x83, 0xfb, 0x03,                        /* cmp ebx,0x3 */
		0xe0, 0xf9,                              /* loopne e <b> */
		0xe3, 0x02,                              /* jrcxz 19 <c> */
		0xff, 0xc2,                              /* inc edx */
		0x31, 0xc9,                              /* xor ecx,ecx */
		0xe3, 0x02,                              /* jrcxz 1f <d> */
		0xff, 0xc2,                              /* inc edx */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RAX, 0); SET(RBX, 0); SET(RDX, 0);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 10);
	EXPECT_REG(RBX, 3);
	EXPECT_REG(RDX, 1);
	cpu_fixture_free(f);
}

Test(cpu_insn, push_pop_forms)
{
	static const uint8_t code[] = {
		0x50,                                    /* push rax */
		0xff, 0x36,                              /* push QWORD PTR [rsi] */
		0x6a, 0xfb,                              /* push 0xfffffffffffffffb */
		0x54,                                    /* push rsp */
		0x8f, 0x46, 0x08,                        /* pop QWORD PTR [rsi+0x8] */
		0x5b,                                    /* pop rbx */
		0x59,                                    /* pop rcx */
		0x5a,                                    /* pop rdx */
		0x68, 0x34, 0x12, 0x00, 0x00,            /* push 0x1234 */
		0x5c,                                    /* pop rsp */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RAX, 7); SET(RSI, CPU_DATA); POKE64(CPU_DATA, 99);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_MEM(CPU_DATA + 8, 8, CPU_STACK_TOP - 24);
	EXPECT_REG(RBX, (uint64_t)-5);
	EXPECT_REG(RCX, 99);
	EXPECT_REG(RDX, 7);
	EXPECT_REG(RSP, 0x1234);
	cpu_fixture_free(f);
}

Test(cpu_insn, pop_memory_relative_to_rsp_uses_incremented_rsp)
{
	static const uint8_t code[] = {
		0x6a, 0x77,                              /* push 0x77 */
		0x8f, 0x04, 0x24,                        /* pop QWORD PTR [rsp] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_MEM(CPU_STACK_TOP, 8, 0x77);
	EXPECT_REG(RSP, CPU_STACK_TOP);
	cpu_fixture_free(f);
}

Test(cpu_insn, pushf_popf_and_flag_instructions)
{
	static const uint8_t code[] = {
		0xf9,                                    /* stc */
		0xfd,                                    /* std */
		0x9c,                                    /* pushf */
		0xf8,                                    /* clc */
		0xfc,                                    /* cld */
		0x9d,                                    /* popf */
		0xf5,                                    /* cmc */
		0x9f,                                    /* lahf */
		0x9e,                                    /* sahf */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_FLAGS(RFLAGS_CF | RFLAGS_DF, RFLAGS_DF);
	cr_assert_eq((c->gpr[GPR_RAX] >> 8) & 0xff, RFLAGS_FIXED1);
	cpu_fixture_free(f);
}

Test(cpu_insn, popf_at_cpl3_keeps_iopl_and_if)
{
	static const uint8_t code[] = {
		0x68, 0x01, 0x32, 0x00, 0x00,            /* push 0x3201 */
		0x9d,                                    /* popf */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 3), code, sizeof code);
	struct cpu *c = &f->c;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_GP, "HLT at CPL 3");
	EXPECT_FLAGS(RFLAGS_IOPL | RFLAGS_IF | RFLAGS_CF, RFLAGS_CF);
	cpu_fixture_free(f);
}

Test(cpu_insn, enter_leave)
{
	static const uint8_t code[] = {
		0x55,                                    /* push rbp */
		0x48, 0x89, 0xe5,                        /* mov rbp,rsp */
		0xc8, 0x20, 0x00, 0x00,                  /* enter 0x20,0x0 */
		0x48, 0x89, 0xe8,                        /* mov rax,rbp */
		0xc9,                                    /* leave */
		0xc8, 0x10, 0x00, 0x02,                  /* enter 0x10,0x2 */
		0x48, 0x89, 0xe3,                        /* mov rbx,rsp */
		0xc9,                                    /* leave */
		0x5d,                                    /* pop rbp */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RBP, 0xabc);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, CPU_STACK_TOP - 16);
	EXPECT_REG(RBX, CPU_STACK_TOP - 8 - 24 - 16);
	EXPECT_REG(RBP, 0xabc);
	EXPECT_REG(RSP, CPU_STACK_TOP);
	cpu_fixture_free(f);
}

Test(cpu_insn, sign_extensions_of_the_accumulator)
{
	static const uint8_t code[] = {
		0xb8, 0x80, 0x00, 0x00, 0x00,            /* mov eax,0x80 */
		0x66, 0x98,                              /* cbw */
		0x66, 0x89, 0xc3,                        /* mov bx,ax */
		0x98,                                    /* cwde */
		0x89, 0xc1,                              /* mov ecx,eax */
		0xb8, 0x00, 0x00, 0x00, 0x80,            /* mov eax,0x80000000 */
		0x48, 0x98,                              /* cdqe */
		0x48, 0x99,                              /* cqo */
		0x49, 0x89, 0xd0,                        /* mov r8,rdx */
		0x66, 0xb8, 0x00, 0x80,                  /* mov ax,0x8000 */
		0x66, 0x99,                              /* cwd */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RDX, 0);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RBX, 0xff80);
	EXPECT_REG(RCX, 0xffffff80);
	EXPECT_REG(RAX, 0xffffffff80008000);
	EXPECT_REG(R8, UINT64_MAX);
	cr_assert_eq(c->gpr[GPR_RDX] & 0xffff, 0xffff);
	cpu_fixture_free(f);
}

Test(cpu_insn, rep_movsb_copies_across_pages)
{
	static const uint8_t code[] = {
		0xf3, 0xa4,                              /* rep movs BYTE PTR es:[rdi],BYTE PTR ds:[rsi] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA + 100); SET(RDI, CPU_DATA + 0x10000 + 7); SET(RCX, 3 * 4096);
	for (unsigned i = 0; i < 3 * 4096; i++) cpu_fixture_poke(f, CPU_DATA + 100 + i, &(uint8_t){ (uint8_t)(i * 7) }, 1);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	for (unsigned i = 0; i < 3 * 4096; i++) cr_assert_eq(cpu_fixture_peek(f, CPU_DATA + 0x10007 + i, 1), (uint8_t)(i * 7));
	EXPECT_REG(RCX, 0);
	EXPECT_REG(RSI, CPU_DATA + 100 + 3 * 4096);
	EXPECT_REG(RDI, CPU_DATA + 0x10007 + 3 * 4096);
	cpu_fixture_free(f);
}

Test(cpu_insn, rep_movsb_overlapping_forward_repeats_the_pattern)
{
	static const uint8_t code[] = {
		0xf3, 0xa4,                              /* rep movs BYTE PTR es:[rdi],BYTE PTR ds:[rsi] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSI, CPU_DATA); SET(RDI, CPU_DATA + 1); SET(RCX, 100); cpu_fixture_poke(f, CPU_DATA, "\x5a", 1);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	for (unsigned i = 0; i <= 100; i++) cr_assert_eq(cpu_fixture_peek(f, CPU_DATA + i, 1), 0x5a);
	cpu_fixture_free(f);
}

Test(cpu_insn, rep_stosq_and_backward_movsw)
{
	static const uint8_t code[] = {
		0xf3, 0x48, 0xab,                        /* rep stos QWORD PTR es:[rdi],rax */
		0xfd,                                    /* std */
		0x4c, 0x89, 0xc6,                        /* mov rsi,r8 */
		0x4c, 0x89, 0xcf,                        /* mov rdi,r9 */
		0xb9, 0x02, 0x00, 0x00, 0x00,            /* mov ecx,0x2 */
		0x66, 0xf3, 0xa5,                        /* rep movs WORD PTR es:[rdi],WORD PTR ds:[rsi] */
		0xfc,                                    /* cld */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RAX, 0x0102030405060708); SET(RDI, CPU_DATA); SET(RCX, 600); SET(R8, CPU_DATA + 2); SET(R9, CPU_DATA + 0x2002);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_MEM(CPU_DATA + 8 * 599, 8, 0x0102030405060708);
	EXPECT_MEM(CPU_DATA + 8 * 600, 8, 0);
	EXPECT_MEM(CPU_DATA + 0x2000, 4, 0x05060708);
	EXPECT_REG(RSI, CPU_DATA - 2);
	EXPECT_REG(RDI, CPU_DATA + 0x1ffe);
	cpu_fixture_free(f);
}

Test(cpu_insn, repne_scasb_finds_terminator_and_repe_cmpsb_finds_difference)
{
	static const uint8_t code[] = {
		0x31, 0xc0,                              /* xor eax,eax */
		0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, /* mov rcx,0xffffffffffffffff */
		0xf2, 0xae,                              /* repnz scas al,BYTE PTR es:[rdi] */
		0x48, 0xf7, 0xd1,                        /* not rcx */
		0x48, 0xff, 0xc9,                        /* dec rcx */
		0x49, 0x89, 0xc8,                        /* mov r8,rcx */
		0x4c, 0x89, 0xce,                        /* mov rsi,r9 */
		0x4c, 0x89, 0xd7,                        /* mov rdi,r10 */
		0xb9, 0x08, 0x00, 0x00, 0x00,            /* mov ecx,0x8 */
		0xf3, 0xa6,                              /* repz cmps BYTE PTR ds:[rsi],BYTE PTR es:[rdi] */
		0x49, 0x89, 0xcb,                        /* mov r11,rcx */
		0xac,                                    /* lods al,BYTE PTR ds:[rsi] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RDI, CPU_DATA); SET(R9, CPU_DATA + 0x100); SET(R10, CPU_DATA + 0x200);
	cpu_fixture_poke(f, CPU_DATA, "hello, world", 13);
	cpu_fixture_poke(f, CPU_DATA + 0x100, "abcdefgh", 8);
	cpu_fixture_poke(f, CPU_DATA + 0x200, "abcdXfgh", 8);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(R8, 12);
	EXPECT_REG(R11, 3);
	cr_assert_eq(c->gpr[GPR_RAX] & 0xff, 'f');
	EXPECT_FLAGS(RFLAGS_ZF, 0);
	cpu_fixture_free(f);
}

Test(cpu_insn, rep_movsb_fault_leaves_progress_in_registers)
{
	static const uint8_t code[] = {
		0xf3, 0xa4,                              /* rep movs BYTE PTR es:[rdi],BYTE PTR ds:[rsi] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	cpu_fixture_unmap(f, CPU_DATA + 0x3000);
	SET(RSI, CPU_DATA); SET(RDI, CPU_DATA + 0x2000 + 0xf00); SET(RCX, 0x400);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_PF);
	cr_assert_eq(c->exc.cr2, CPU_DATA + 0x3000);
	EXPECT_REG(RCX, 0x300);
	EXPECT_REG(RSI, CPU_DATA + 0x100);
	EXPECT_REG(RDI, CPU_DATA + 0x3000);
	cr_assert_eq(c->rip, CPU_CODE, "RIP stays on the string instruction");
	cpu_fixture_free(f);
}

Test(cpu_insn, user_access_to_supervisor_page_faults_with_user_bit)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x03,                        /* mov rax,QWORD PTR [rbx] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 3), code, sizeof code);
	struct cpu *c = &f->c;
	uint64_t pte = ptb_entry_pa(&f->pt, CPU_DATA, 1);
	phys_write(&c->mmu.phys, pte, CPU_DATA | PTE_P | PTE_RW, 8);
	SET(RBX, CPU_DATA);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_PF);
	cr_assert_eq(c->exc.error_code, PFEC_P | PFEC_US);
	cpu_fixture_free(f);
}

Test(cpu_insn, non_canonical_access_raises_gp)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x03,                        /* mov rax,QWORD PTR [rbx] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RBX, 0x0000800000000000);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_GP);
	cpu_fixture_free(f);
}

Test(cpu_insn, non_canonical_stack_raises_ss)
{
	static const uint8_t code[] = {
		0x50,                                    /* push rax */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RSP, 0x0000800000000008);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_SS);
	cpu_fixture_free(f);
}

Test(cpu_insn, fs_and_gs_bases_apply_in_64bit_mode)
{
	static const uint8_t code[] = {
		0x64, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00, /* mov rax,QWORD PTR fs:0x8 */
		0x65, 0x48, 0x89, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00, /* mov QWORD PTR gs:0x10,rax */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	c->mmu.seg.sr[SEG_FS].base = CPU_DATA; c->mmu.seg.sr[SEG_GS].base = CPU_DATA + 0x100; POKE64(CPU_DATA + 8, 0x5151);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 0x5151);
	EXPECT_MEM(CPU_DATA + 0x110, 8, 0x5151);
	cpu_fixture_free(f);
}

Test(cpu_insn, protected_mode_32bit_code_runs)
{
	static const uint8_t code[] = {
		0xb8, 0x78, 0x56, 0x34, 0x12,            /* mov eax,0x12345678 */
		0x50,                                    /* push eax */
		0x5b,                                    /* pop ebx */
		0xe8, 0x01, 0x00, 0x00, 0x00,            /* call d <f> */
		0xf4,                                    /* hlt */
		0x83, 0xc3, 0x01,                        /* add ebx,0x1 */
		0xc3,                                    /* ret */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new_flat32("flat"), code, sizeof code);
	struct cpu *c = &f->c;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->mode, CPU_MODE_PROT32);
	EXPECT_REG(RBX, 0x12345679);
	EXPECT_REG(RSP, CPU_STACK_TOP);
	cpu_fixture_free(f);
}

Test(cpu_insn, protected_mode_data_limit_raises_gp)
{
	static const uint8_t code[] = {
		0x8b, 0x03,                              /* mov eax,DWORD PTR [ebx] */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new_flat32("flat"), code, sizeof code);
	struct cpu *c = &f->c;
	c->mmu.seg.sr[SEG_DS].limit = 0xfff; SET(RBX, 0xffe);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_GP);
	cr_assert_eq(c->exc.error_code, 0);
	cpu_fixture_free(f);
}

Test(cpu_insn, bcd_adjustments_in_32bit_mode)
{
	static const uint8_t code[] = {
		0xb0, 0x79,                              /* mov al,0x79 */
		0x04, 0x35,                              /* add al,0x35 */
		0x27,                                    /* daa */
		0x88, 0xc3,                              /* mov bl,al */
		0x66, 0xb8, 0x07, 0x02,                  /* mov ax,0x207 */
		0xd5, 0x0a,                              /* aad 0xa */
		0x88, 0xc1,                              /* mov cl,al */
		0xb0, 0x3f,                              /* mov al,0x3f */
		0xd4, 0x0a,                              /* aam 0xa */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new_flat32("flat"), code, sizeof code);
	struct cpu *c = &f->c;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(c->gpr[GPR_RBX] & 0xff, 0x14, "79 + 35 = 114 in BCD");
	cr_assert_eq(c->gpr[GPR_RCX] & 0xff, 27, "AAD: 2 * 10 + 7");
	cr_assert_eq(c->gpr[GPR_RAX] & 0xffff, 0x0603, "AAM: 63 = 6, 3");
	cpu_fixture_free(f);
}

Test(cpu_insn, pushad_popad_round_trip_and_skip_esp)
{
	static const uint8_t code[] = {
		0x60,                                    /* pusha */
		0x8b, 0x44, 0x24, 0x1c,                  /* mov eax,DWORD PTR [esp+0x1c] */
		0x8b, 0x5c, 0x24, 0x0c,                  /* mov ebx,DWORD PTR [esp+0xc] */
		0xc7, 0x44, 0x24, 0x0c, 0x00, 0x00, 0x00, 0x00, /* mov DWORD PTR [esp+0xc],0x0 */
		0xc7, 0x04, 0x24, 0x99, 0x00, 0x00, 0x00, /* mov DWORD PTR [esp],0x99 */
		0x61,                                    /* popa */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new_flat32("flat"), code, sizeof code);
	struct cpu *c = &f->c;
	SET(RAX, 0x11); SET(RBX, 0x22); SET(RDI, 0x77);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	EXPECT_REG(RAX, 0x11);
	EXPECT_REG(RBX, 0x22);
	EXPECT_REG(RDI, 0x99);
	EXPECT_REG(RSP, CPU_STACK_TOP);
	cpu_fixture_free(f);
}

Test(cpu_insn, aam_by_zero_raises_de)
{
	static const uint8_t code[] = {
		0xd4, 0x00,                              /* aam 0x0 */
		0xf4,                                    /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new_flat32("flat"), code, sizeof code);
	struct cpu *c = &f->c;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_EXCEPTION);
	cr_assert_eq(c->exc.vector, VEC_DE);
	cpu_fixture_free(f);
}

Test(cpu_insn, x87_control_words_after_fninit_fldcw_and_fnclex)
{
	static const uint8_t code[] = {
		0xd9, 0x3e,       /* fnstcw [rsi]: the RESET value */
		0xdb, 0xe3,       /* fninit */
		0xd9, 0x7e, 0x02, /* fnstcw [rsi + 2] */
		0xdf, 0xe0,       /* fnstsw ax */
		0xd9, 0x6e, 0x08, /* fldcw [rsi + 8] */
		0x9b,             /* fwait */
		0xd9, 0x7e, 0x04, /* fnstcw [rsi + 4] */
		0xdb, 0xe2,       /* fnclex */
		0xdd, 0x7e, 0x06, /* fnstsw [rsi + 6] */
		0xf4,             /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	struct cpu *c = &f->c;
	c->gpr[GPR_RSI] = CPU_DATA;
	c->gpr[GPR_RAX] = 0xffffffffffffffff;
	uint16_t cw = 0x027f; /* round to nearest, 53-bit precision, all masked */
	cpu_fixture_poke(f, CPU_DATA + 8, &cw, 2);
	cpu_fixture_poke(f, CPU_DATA + 6, &cw, 2);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(cpu_fixture_peek(f, CPU_DATA, 2), 0x0040, "FCW after RESET");
	cr_assert_eq(cpu_fixture_peek(f, CPU_DATA + 2, 2), 0x037f, "FCW after FNINIT");
	cr_assert_eq(c->gpr[GPR_RAX], 0xffffffffffff0000, "FNSTSW AX: FSW 0, AX only");
	cr_assert_eq(cpu_fixture_peek(f, CPU_DATA + 4, 2), 0x027f, "FLDCW");
	cr_assert_eq(cpu_fixture_peek(f, CPU_DATA + 6, 2), 0, "FSW");
	cr_assert_eq(c->fpu_tw, 0xffff, "every register empty");
	cpu_fixture_free(f);
}

Test(cpu_insn, x87_control_raises_nm_with_cr0_em_or_ts_and_wait_only_with_mp_and_ts)
{
	static const uint8_t fninit[] = { 0xdb, 0xe3, 0xf4 }, fwait[] = { 0x9b, 0xf4 };
	static const struct {
		const uint8_t *code;
		size_t n;
		uint64_t cr0_set;
		bool nm;
	} cases[] = {
		{ fninit, sizeof fninit, CR0_EM, true },  { fninit, sizeof fninit, CR0_TS, true },
		{ fninit, sizeof fninit, CR0_MP, false }, { fwait, sizeof fwait, CR0_TS, false },
		{ fwait, sizeof fwait, CR0_EM, false },   { fwait, sizeof fwait, CR0_MP | CR0_TS, true },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), cases[i].code, cases[i].n);
		struct cpu *c = &f->c;
		cr_assert(mmu_write_cr0(&c->mmu, c->mmu.cr0 | cases[i].cr0_set, &c->fault));
		enum cpu_stop s = cpu_fixture_run(f);
		if (cases[i].nm) {
			cr_assert_eq(s, CPU_STOP_EXCEPTION, "case %zu", i);
			cr_assert_eq(c->exc.vector, VEC_NM, "case %zu", i);
			cr_assert_eq(c->exc.rip, CPU_CODE, "case %zu: a fault", i);
		} else {
			cr_assert_eq(s, CPU_STOP_HLT, "case %zu", i);
		}
		cpu_fixture_free(f);
	}
}

Test(cpu_insn, rdssp_is_a_nop_without_shadow_stacks)
{
	static const uint8_t code[] = {
		0xf3, 0x48, 0x0f, 0x1e, 0xc8, /* rdsspq rax */
		0xf3, 0x0f, 0x1e, 0xc9,       /* rdsspd ecx */
		0xf4,                         /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	f->c.gpr[GPR_RAX] = 0;
	f->c.gpr[GPR_RCX] = 0x1234;
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RAX], 0, "unchanged: software reads 0 as no shadow stack");
	cr_assert_eq(f->c.gpr[GPR_RCX], 0x1234);
	cpu_fixture_free(f);
}

Test(cpu_insn, movnti_stores_like_mov)
{
	static const uint8_t code[] = {
		0x48, 0x0f, 0xc3, 0x06,       /* movnti [rsi], rax */
		0x0f, 0xc3, 0x5e, 0x08,       /* movnti [rsi + 8], ebx */
		0xf4,                         /* hlt */
	};
	struct cpu_fixture *f = with_code(cpu_fixture_new("flat", 0), code, sizeof code);
	f->c.gpr[GPR_RSI] = CPU_DATA;
	f->c.gpr[GPR_RAX] = 0x1122334455667788;
	f->c.gpr[GPR_RBX] = 0xaabbccdd99887766;
	POKE64(CPU_DATA + 8, UINT64_MAX);
	cr_assert_eq(cpu_fixture_run(f), CPU_STOP_HLT);
	cr_assert_eq(cpu_fixture_peek(f, CPU_DATA, 8), 0x1122334455667788);
	cr_assert_eq(cpu_fixture_peek(f, CPU_DATA + 8, 8), 0xffffffff99887766, "a dword store");
	cpu_fixture_free(f);
}
