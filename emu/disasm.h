/* Disassembly with Capstone, for `mmulab disasm` and the `-d insn` log.
 *
 * A struct disasm holds one Capstone handle per x86 code width; it is not
 * shared between machines. Disassembly never touches guest state.
 */
#ifndef EMU_DISASM_H
#define EMU_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmu/fault.h"

enum disasm_width { DISASM_16, DISASM_32, DISASM_64, DISASM_NWIDTHS };

struct disasm {
	size_t handle[DISASM_NWIDTHS]; /* csh */
	bool open[DISASM_NWIDTHS];
};

MMU_WUR bool disasm_open(struct disasm *d, char *err, size_t errlen);
void disasm_close(struct disasm *d);

/* Disassemble the instruction at buf[0..n) (address addr) into text as
 * "mnemonic operands". Returns its length, or 0 with "(bad)" in text for
 * bytes that are not an instruction. */
size_t disasm_one(struct disasm *d, enum disasm_width w, const uint8_t *buf, size_t n,
		  uint64_t addr, char *text, size_t textlen);

/* `mmulab disasm FILE`: every executable PT_LOAD segment of an ELF32
 * (i386 code) or ELF64 (x86-64 code) file, one line per instruction:
 * "address: bytes  mnemonic operands". False with one line in err for a
 * file that cannot be read or is not such an ELF file. */
MMU_WUR bool disasm_elf_file(const char *path, FILE *out, char *err, size_t errlen);

#endif
