/* Zydis → struct insn. Private to emu/. */
#ifndef EMU_DECODE_H
#define EMU_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "emu/insn.h"

enum decode_status {
	DECODE_OK = 0,       /* d is filled (possibly as OP_UD for #UD) */
	DECODE_NEED_MORE,    /* buf ends before the instruction does */
};

/* Decode the instruction at buf[0..n) for mode into d. Bytes that are not
 * a valid instruction, and instructions mmulab does not implement, decode
 * as OP_UD (d->mnemonic says which, ZYDIS_MNEMONIC_INVALID for garbage). */
enum decode_status decode_insn(enum cpu_mode mode, const uint8_t *buf, size_t n, struct insn *d);

/* Longest x86 instruction (SDM Vol. 2 §2.1). */
#define INSN_MAX_LEN 15

/* Number of Zydis mnemonics (for per-mnemonic counters) and their names. */
unsigned decode_mnemonic_count(void);
const char *decode_mnemonic_name(unsigned mnemonic);

#endif
