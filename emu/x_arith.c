/* Shifts and rotates, SHLD/SHRD, MUL/IMUL/DIV/IDIV, BT*, bit scans.
 * Not implemented yet: they raise #UD and are counted per mnemonic. */
#include "emu/exec.h"

enum exec_result exec_shift(struct cpu *c, const struct insn *d) { return exec_ud(c, d); }
enum exec_result exec_shd(struct cpu *c, const struct insn *d) { return exec_ud(c, d); }
enum exec_result exec_mul1(struct cpu *c, const struct insn *d) { return exec_ud(c, d); }
enum exec_result exec_imul(struct cpu *c, const struct insn *d) { return exec_ud(c, d); }
enum exec_result exec_div(struct cpu *c, const struct insn *d) { return exec_ud(c, d); }
enum exec_result exec_bt(struct cpu *c, const struct insn *d) { return exec_ud(c, d); }
enum exec_result exec_bitscan(struct cpu *c, const struct insn *d) { return exec_ud(c, d); }
