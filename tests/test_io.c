/* Port I/O instructions without devices: operand forms, the I/O
 * permission bit map (SDM Vol. 1 §19.5.2), string forms with REP. */
#include <criterion/criterion.h>

#include "emu/exec.h"
#include "tests/cpu_support.h"

#define TSS_BASE CPU_DATA
#define TSS_IOMAP_BASE_OFFSET 0x66
#define IOMAP_OFFSET 0x68
#define PORT_ALLOWED 0x3F8
#define PORT_DENIED 0x3F9

static const uint8_t in_al_dx_then_hlt[] = { 0xec, 0xf4 };   /* in al, dx; hlt */

/* A CPU at CPL 3 with IOPL 0 and a 64-bit TSS whose bit map denies
 * PORT_DENIED only; limit: the TSS limit. */
static struct cpu_fixture *user_with_tss(uint32_t limit, const void *code, size_t n)
{
	struct cpu_fixture *f = cpu_fixture_new("flat", 3);
	uint8_t map[2] = { 0, 0 };
	uint16_t base = IOMAP_OFFSET;
	map[(PORT_DENIED / 8) - (PORT_ALLOWED / 8)] = (uint8_t)(1u << (PORT_DENIED % 8));
	cpu_fixture_poke(f, TSS_BASE + TSS_IOMAP_BASE_OFFSET, &base, sizeof base);
	cpu_fixture_poke(f, TSS_BASE + IOMAP_OFFSET + PORT_ALLOWED / 8, map, sizeof map);
	cpu_fixture_tr(f, 0x28, TSS_BASE, limit);
	cpu_fixture_code(f, CPU_CODE, code, n);
	return f;
}

static enum cpu_stop in_from_port(struct cpu_fixture *f, uint16_t port)
{
	f->c.gpr[GPR_RDX] = port;
	f->c.gpr[GPR_RAX] = 0;
	return cpu_run(&f->c, 1);
}

Test(io, in_without_devices_reads_all_ones_and_yields)
{
	struct cpu_fixture *f = cpu_fixture_with_code(in_al_dx_then_hlt, sizeof in_al_dx_then_hlt);
	cr_assert_eq(in_from_port(f, 0x60), CPU_STOP_YIELD);
	cr_assert_eq(f->c.gpr[GPR_RAX], 0xff);
	cr_assert_eq(f->c.rip, CPU_CODE + 1);
	cpu_fixture_free(f);
}

Test(io, bitmap_allows_port_with_clear_bit_at_cpl3)
{
	struct cpu_fixture *f = user_with_tss(0x2000, in_al_dx_then_hlt, sizeof in_al_dx_then_hlt);
	cr_assert_eq(in_from_port(f, PORT_ALLOWED), CPU_STOP_YIELD);
	cpu_fixture_free(f);
}

Test(io, bitmap_denies_port_with_set_bit_with_gp0)
{
	struct cpu_fixture *f = user_with_tss(0x2000, in_al_dx_then_hlt, sizeof in_al_dx_then_hlt);
	cr_assert_eq(in_from_port(f, PORT_DENIED), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cr_assert_eq(f->c.exc.error_code, 0);
	cr_assert_eq(f->c.rip, CPU_CODE, "the faulting IN is not retired");
	cpu_fixture_free(f);
}

Test(io, wide_access_is_denied_when_any_of_its_ports_is)
{
	static const uint8_t in_ax_dx[] = { 0x66, 0xed }; /* in ax, dx: ports 0x3F8, 0x3F9 */
	struct cpu_fixture *f = user_with_tss(0x2000, in_ax_dx, sizeof in_ax_dx);
	cr_assert_eq(in_from_port(f, PORT_ALLOWED), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cpu_fixture_free(f);
}

Test(io, bitmap_beyond_tss_limit_denies)
{
	/* Both bit-map bytes must lie within the limit: here the second does not. */
	uint32_t limit = IOMAP_OFFSET + PORT_ALLOWED / 8;
	struct cpu_fixture *f = user_with_tss(limit, in_al_dx_then_hlt, sizeof in_al_dx_then_hlt);
	cr_assert_eq(in_from_port(f, PORT_ALLOWED), CPU_STOP_EXCEPTION);
	cr_assert_eq(f->c.exc.vector, VEC_GP);
	cpu_fixture_free(f);
}

Test(io, cpl0_ignores_the_bitmap)
{
	struct cpu_fixture *f = cpu_fixture_with_code(in_al_dx_then_hlt, sizeof in_al_dx_then_hlt);
	f->c.mmu.seg.tr = (struct seg_cache){ .usable = false };
	cr_assert_eq(in_from_port(f, PORT_DENIED), CPU_STOP_YIELD);
	cpu_fixture_free(f);
}

/* A CPU at rep_insn with the string index register on CPU_DATA. */
static struct cpu_fixture *string_io(const uint8_t *code, size_t n, unsigned index, uint64_t count)
{
	struct cpu_fixture *f = cpu_fixture_with_code(code, n);
	f->c.gpr[index] = CPU_DATA;
	f->c.gpr[GPR_RCX] = count;
	f->c.gpr[GPR_RDX] = 0x80;
	return f;
}

Test(io, rep_outsb_does_one_element_per_dispatch)
{
	static const uint8_t rep_outsb[] = { 0xf3, 0x6e, 0xf4 }; /* rep outsb; hlt */
	struct cpu_fixture *f = string_io(rep_outsb, sizeof rep_outsb, GPR_RSI, 3);
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(cpu_run(&f->c, 1), CPU_STOP_YIELD);
	cr_assert_eq(f->c.gpr[GPR_RCX], 0);
	cr_assert_eq(f->c.gpr[GPR_RSI], CPU_DATA + 3);
	cr_assert_eq(f->c.rip, CPU_CODE + 2);
	cr_assert_eq(cpu_run(&f->c, 1), CPU_STOP_HLT);
	cpu_fixture_free(f);
}

Test(io, rep_insb_with_zero_count_does_nothing)
{
	static const uint8_t rep_insb[] = { 0xf3, 0x6c, 0xf4 }; /* rep insb; hlt */
	struct cpu_fixture *f = string_io(rep_insb, sizeof rep_insb, GPR_RDI, 0);
	cr_assert_eq(cpu_run(&f->c, 2), CPU_STOP_HLT);
	cr_assert_eq(f->c.gpr[GPR_RDI], CPU_DATA);
	cpu_fixture_free(f);
}
