/* Guest code cannot hurt the host: random byte sequences, at CPL 0 and
 * CPL 3, in 64-bit and 32-bit mode, with random registers, run for a
 * bounded number of instructions. Every run must end with a stop reason
 * (the sanitizer build checks memory safety on the way), and the CPU must
 * stay consistent: RIP on a canonical address, the cycle counter never
 * behind the instruction counter. A quarter of the programs start with TF
 * set, so their instructions take the single-step path. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/cpu_support.h"

#define PROGRAMS 300
#define PROGRAM_BYTES 256
#define STEPS 200
#define SEED UINT64_C(0x726f62757374)

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Registers: pointers into mapped memory, small counts or random. */
static void random_registers(struct cpu *c, uint64_t *s)
{
	for (unsigned r = 0; r < CPU_NGPRS; r++) {
		uint64_t v = rng(s);
		switch (v & 3) {
		case 0: c->gpr[r] = CPU_DATA + (rng(s) & 0xffff); break;
		case 1: c->gpr[r] = rng(s) & 0xff; break;
		default: c->gpr[r] = rng(s); break;
		}
	}
	c->gpr[GPR_RSP] = CPU_STACK_TOP - (rng(s) & 0xff0);
}

static void run_programs(unsigned cpl, bool flat32, uint64_t seed)
{
	uint8_t bytes[PROGRAM_BYTES];
	for (unsigned p = 0; p < PROGRAMS; p++) {
		struct cpu_fixture *f = flat32 ? cpu_fixture_new_flat32("flat") : cpu_fixture_new("flat", cpl);
		for (unsigned i = 0; i < PROGRAM_BYTES; i += 8) {
			uint64_t v = rng(&seed);
			memcpy(bytes + i, &v, 8);
		}
		cpu_fixture_code(f, CPU_CODE + (rng(&seed) & 0xfff), bytes, sizeof bytes);
		random_registers(&f->c, &seed);
		f->c.deliver_exceptions = p & 1;
		if (p & 2)
			f->c.rflags |= RFLAGS_TF;
		for (unsigned step = 0; step < 4; step++) {
			enum cpu_stop s = cpu_run(&f->c, STEPS);
			cr_assert(s == CPU_STOP_LIMIT || s == CPU_STOP_HLT || s == CPU_STOP_EXCEPTION ||
				  s == CPU_STOP_TRIPLE_FAULT || s == CPU_STOP_UNSUPPORTED ||
				  s == CPU_STOP_YIELD,
				  "program %u: stop %d", p, s);
			cr_assert(mmu_canonical(&f->c.mmu, f->c.rip), "program %u: RIP %#llx", p,
				  (unsigned long long)f->c.rip);
			cr_assert_geq(f->c.cycles, f->c.insns);
			if (s != CPU_STOP_LIMIT && s != CPU_STOP_HLT && s != CPU_STOP_YIELD)
				break;
		}
		cpu_fixture_free(f);
	}
}

Test(cpu_robust, random_code_at_cpl0_stops_cleanly, .timeout = 120)
{
	run_programs(0, false, SEED);
}

Test(cpu_robust, random_code_at_cpl3_stops_cleanly, .timeout = 120)
{
	run_programs(3, false, SEED + 1);
}

Test(cpu_robust, random_32bit_code_stops_cleanly, .timeout = 120)
{
	run_programs(0, true, SEED + 2);
}
