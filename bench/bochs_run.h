/* Bochs as a second reference for the benchmarks (bench/bochs_run.c). */
#ifndef BENCH_BOCHS_RUN_H
#define BENCH_BOCHS_RUN_H

#include <stddef.h>
#include <stdint.h>

/* Whether bochs and grub-mkrescue are on PATH. */
int bench_bochs_available(void);

/* Boot the Multiboot image under Bochs from a GRUB CD image, with the
 * command line args (after the placeholder kernel name QEMU's -kernel
 * puts first). The image must end the run through Bochs's shutdown port.
 * Returns the host seconds Bochs ran (the CD image is built before the
 * clock starts) and Bochs's final tick count in *ticks, or a negative
 * value with a one-line reason in err. */
double bench_bochs_seconds(const char *image, const char *args, uint64_t *ticks, char *err,
			   size_t errlen);

#endif
