/* The single list of internal opcodes: X(name, handler, base-cost class).
 *
 * emu/insn.h turns it into enum insn_op, emu/exec.h into handler
 * prototypes and emu/decode.c into the opcode → handler/class table.
 * Several opcodes may share a handler that reads struct insn.sub.
 * No include guard: included once per expansion.
 */
X(UD, exec_ud, CLS_SYSTEM)             /* undefined or not implemented: #UD */
X(NOP, exec_nop, CLS_SIMPLE)
X(HLT, exec_hlt, CLS_SYSTEM)
X(IO, exec_io, CLS_SYSTEM)             /* IN, OUT (sub 0 / 1) */
X(INS, exec_ins, CLS_STRING)
X(OUTS, exec_outs, CLS_STRING)
X(MOV, exec_mov, CLS_SIMPLE)
X(MOVX, exec_movx, CLS_SIMPLE)         /* MOVZX, MOVSX, MOVSXD */
X(LEA, exec_lea, CLS_SIMPLE)
X(XCHG, exec_xchg, CLS_LOCKED)
X(XADD, exec_xadd, CLS_LOCKED)
X(CMPXCHG, exec_cmpxchg, CLS_LOCKED)
X(CMPXCHG_WIDE, exec_cmpxchg_wide, CLS_LOCKED) /* CMPXCHG8B, CMPXCHG16B */
X(ALU, exec_alu, CLS_SIMPLE)           /* sub: enum alu_op */
X(UNARY, exec_unary, CLS_SIMPLE)       /* sub: enum unary_op */
/* Register-destination forms with a register or immediate source: one
 * handler per operation, the loop's most frequent work. */
X(ADD_R, exec_add_r, CLS_SIMPLE)
X(OR_R, exec_or_r, CLS_SIMPLE)
X(ADC_R, exec_adc_r, CLS_SIMPLE)
X(SBB_R, exec_sbb_r, CLS_SIMPLE)
X(AND_R, exec_and_r, CLS_SIMPLE)
X(SUB_R, exec_sub_r, CLS_SIMPLE)
X(XOR_R, exec_xor_r, CLS_SIMPLE)
X(CMP_R, exec_cmp_r, CLS_SIMPLE)
X(TEST_R, exec_test_r, CLS_SIMPLE)
X(INC_R, exec_inc_r, CLS_SIMPLE)
X(DEC_R, exec_dec_r, CLS_SIMPLE)
X(SHIFT, exec_shift, CLS_SIMPLE)       /* sub: enum shift_op */
X(SHD, exec_shd, CLS_SIMPLE)           /* SHLD/SHRD, sub: 0 left, 1 right */
X(MUL1, exec_mul1, CLS_MUL)            /* MUL, one-operand IMUL */
X(IMUL, exec_imul, CLS_MUL)            /* two- and three-operand IMUL */
X(DIV, exec_div, CLS_DIV)              /* DIV, IDIV */
X(BT, exec_bt, CLS_BITSCAN)            /* sub: enum bt_op */
X(BITSCAN, exec_bitscan, CLS_BITSCAN)  /* sub: enum bitscan_op */
X(BMI, exec_bmi, CLS_SIMPLE)           /* BMI1/BMI2 VEX forms; sub: enum bmi_op */
X(MULX, exec_bmi, CLS_MUL)             /* sub: BMI_MULX */
X(MOVBE, exec_movbe, CLS_SIMPLE)
X(ADX, exec_adx, CLS_SIMPLE)           /* ADCX, ADOX (sub 0 / 1) */
X(BSWAP, exec_bswap, CLS_SIMPLE)
X(CMOV, exec_cmov, CLS_SIMPLE)         /* sub: condition code */
X(SETCC, exec_setcc, CLS_SIMPLE)       /* sub: condition code */
X(JCC, exec_jcc, CLS_BRANCH)           /* sub: condition code */
X(JMP, exec_jmp, CLS_BRANCH)           /* relative */
X(JMP_IND, exec_jmp_ind, CLS_BRANCH)   /* register or memory */
X(CALL, exec_call, CLS_BRANCH)
X(CALL_IND, exec_call_ind, CLS_BRANCH)
X(RET, exec_ret, CLS_BRANCH)           /* imm: bytes to release */
X(LOOP, exec_loop, CLS_BRANCH)         /* sub: enum loop_op */
X(PUSH, exec_push, CLS_STACK)
X(POP, exec_pop, CLS_STACK)
X(PUSHF, exec_pushf, CLS_STACK)
X(POPF, exec_popf, CLS_STACK)
X(ENTER, exec_enter, CLS_STACK)
X(LEAVE, exec_leave, CLS_STACK)
X(CBW, exec_cbw, CLS_SIMPLE)           /* CBW, CWDE, CDQE */
X(CWD, exec_cwd, CLS_SIMPLE)           /* CWD, CDQ, CQO */
X(FLAGOP, exec_flagop, CLS_SIMPLE)     /* sub: enum flag_op */
X(LAHF, exec_lahf, CLS_SIMPLE)
X(SAHF, exec_sahf, CLS_SIMPLE)
X(MOVS, exec_movs, CLS_STRING)
X(STOS, exec_stos, CLS_STRING)
X(LODS, exec_lods, CLS_STRING)
X(CMPS, exec_cmps, CLS_STRING)
X(SCAS, exec_scas, CLS_STRING)
X(MOV_CR, exec_mov_cr, CLS_SYSTEM)     /* sub: CR number | MOV_CR_WRITE */
X(INVLPG, exec_invlpg, CLS_SYSTEM)
X(DTR, exec_dtr, CLS_SYSTEM)           /* sub: LGDT, LIDT, SGDT, SIDT */
X(LTR_LLDT, exec_ltr_lldt, CLS_SYSTEM) /* sub: LTR, LLDT */
X(CLI_STI, exec_cli_sti, CLS_SIMPLE)   /* sub: CLI, STI */
X(SWAPGS, exec_swapgs, CLS_SYSTEM)
X(MSR, exec_msr, CLS_SYSTEM)           /* sub: RDMSR, WRMSR */
X(INT, exec_int, CLS_SYSTEM)           /* INT n, INT3; imm: vector */
X(INT1, exec_int1, CLS_SYSTEM)         /* INT1 (ICEBP, F1) */
X(IRET, exec_iret, CLS_SYSTEM)           /* IRET, IRETD, IRETQ */
X(MOV_SREG, exec_mov_sreg, CLS_SYSTEM) /* sub: enum seg_reg | SREG_WRITE */
X(PUSH_SREG, exec_push_sreg, CLS_STACK) /* sub: enum seg_reg */
X(POP_SREG, exec_pop_sreg, CLS_SYSTEM)  /* sub: enum seg_reg */
X(JMP_FAR, exec_jmp_far, CLS_SYSTEM)
X(CALL_FAR, exec_call_far, CLS_SYSTEM)
X(RET_FAR, exec_ret_far, CLS_SYSTEM)   /* imm: bytes to release */
X(SYSCALL, exec_syscall, CLS_SYSTEM)
X(SYSRET, exec_sysret, CLS_SYSTEM)
X(CPUID, exec_cpuid, CLS_SYSTEM)
X(RDTSC, exec_rdtsc, CLS_SYSTEM)       /* sub: RDTSC, RDTSCP */
X(WBINVD, exec_wbinvd, CLS_SYSTEM)     /* WBINVD, INVD: CPL 0, no cache state to lose */
X(CLTS, exec_clts, CLS_SYSTEM)
X(X87_CONTROL, exec_x87_control, CLS_SYSTEM) /* sub: enum x87_control */
X(STORE_SEL, exec_store_sel, CLS_SYSTEM) /* sub: STR, SLDT */
X(INVPCID, exec_invpcid, CLS_SYSTEM)
X(LOAD_FAR_PTR, exec_load_far_ptr, CLS_SYSTEM) /* LDS/LES/LFS/LGS/LSS; sub: enum seg_reg */
X(INTO, exec_into, CLS_SYSTEM)
X(MOV_DR, exec_mov_dr, CLS_SYSTEM)     /* sub: DR number | MOV_CR_WRITE */
X(BCD, exec_bcd, CLS_SIMPLE)           /* sub: enum bcd_op; legacy modes only */
X(PUSHA, exec_pusha, CLS_STACK)        /* PUSHA, PUSHAD (legacy modes) */
X(POPA, exec_popa, CLS_STACK)          /* POPA, POPAD (legacy modes) */
X(LAR_LSL, exec_lar_lsl, CLS_SYSTEM)   /* LAR, LSL (sub 0 / 1) */
X(VERR_VERW, exec_verr_verw, CLS_SYSTEM) /* VERR, VERW (sub 0 / 1) */
