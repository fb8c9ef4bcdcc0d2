/* Guest boot benchmark: boot the bundled kernel with its init program in
 * mmulab, the full MMU and cycle model on, until the kernel says it starts
 * the first user program ("Run init as init process" on the console).
 *
 *   guest_boot_insns   guest instructions from reset to that line
 *   guest_boot_cycles  modelled cycles to that line
 *   guest_boot_s       host seconds (wall time) for it
 *
 * Output: "bench <name> <value> <unit>". Run from the build directory's
 * parent or anywhere: the image paths are compiled in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/clock.h"
#include "emu/machine.h"

#define MARKER "Run init as init process\n"
#define MAX_INSNS (UINT64_C(1) << 32) /* a kernel that never gets there */

/* The serial sink: matches MARKER against the output as it arrives and
 * stops the machine (at the end of the current slice) once it is seen. */
struct watch {
	struct machine *m;
	size_t matched;
	bool seen;
};

static void watch_byte(void *ctx, uint8_t byte)
{
	struct watch *w = ctx;

	if (w->seen)
		return;
	w->matched = (byte == (uint8_t)MARKER[w->matched]) ? w->matched + 1
							   : (byte == (uint8_t)MARKER[0]);
	if (w->matched == strlen(MARKER)) {
		w->seen = true;
		w->m->cfg.max_insns = w->m->cpu.insns; /* machine_run stops next */
	}
}

int main(void)
{
	static struct machine m;
	struct watch w = {.m = &m};
	struct machine_config cfg = {
		.kernel = GUEST_KERNEL_PATH,
		.initrd = GUEST_INIT_PATH,
		.append = "run=",
		.serial_sink = watch_byte,
		.serial_ctx = &w,
		.max_insns = MAX_INSNS,
	};
	char err[300];

	if (!machine_init(&m, &cfg, err, sizeof err)) {
		fprintf(stderr, "guest_bench: %s\n", err);
		return 1;
	}
	double t0 = bench_wall_seconds();
	machine_run(&m);
	double secs = bench_wall_seconds() - t0;
	if (!w.seen) {
		fprintf(stderr, "guest_bench: the kernel never started init (%s)\n", m.msg);
		machine_free(&m);
		return 1;
	}
	printf("bench guest_boot_insns %llu insns\n", (unsigned long long)m.cpu.insns);
	printf("bench guest_boot_cycles %llu cycles\n", (unsigned long long)m.cpu.cycles);
	printf("bench guest_boot_s %.3f s\n", secs);
	machine_free(&m);
	return 0;
}
