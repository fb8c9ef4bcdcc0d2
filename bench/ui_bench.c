/* Visualizer benchmark: the bundled kernel's boot and self-tests, run the
 * same number of instructions twice in one process -- headless, then with
 * the visualizer's window open (SDL's offscreen driver unless
 * SDL_VIDEODRIVER says otherwise) and the guest running:
 *
 *   ui_fps                 frames drawn per second of host time
 *   ui_guest_speed_ratio   guest instructions per second with the window
 *                          open, over the headless figure
 *
 * Seconds are this process's CPU time, so other load on a shared host
 * does not count against either figure (the visualizer paces frames by
 * wall time, which equals CPU time on an idle host).
 *
 * Output: "bench <name> <value> <unit>". Host time is used only here.
 * GUEST_KERNEL_PATH is the kernel image. */
#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/clock.h"
#include "emu/machine.h"
#include "ui/gui.h"

#define BENCH_INSNS UINT64_C(15000000)
#define BENCH_APPEND "selftest"

static void die(const char *what)
{
	fprintf(stderr, "ui_bench: %s\n", what);
	exit(1);
}

static double headless_seconds(void)
{
	char err[400];
	struct machine *m = calloc(1, sizeof *m);
	struct machine_config cfg = { .kernel = GUEST_KERNEL_PATH, .append = BENCH_APPEND,
				      .max_insns = BENCH_INSNS };
	if (!m || !machine_init(m, &cfg, err, sizeof err))
		die(err);
	double t0 = bench_cpu_seconds();
	if (machine_run(m) != MACHINE_LIMIT)
		die("the kernel stopped before the measured instructions");
	double t = bench_cpu_seconds() - t0;
	machine_free(m);
	free(m);
	return t;
}

int main(void)
{
	char err[400];
	setenv("SDL_VIDEODRIVER", "offscreen", 0);
	double headless = headless_seconds();
	if (SDL_Init(0) < 0)
		die(SDL_GetError());
	struct gui_options o = { .mc = { .kernel = GUEST_KERNEL_PATH, .append = BENCH_APPEND,
					 .max_insns = BENCH_INSNS },
				 .width = 1280, .height = 800, .window = true };
	struct gui *g = gui_open(&o, err, sizeof err);
	if (!g)
		die(err);
	gui_key(g, "Space"); /* run */
	unsigned frames = 0;
	double t0 = bench_cpu_seconds();
	while (gui_machine(g)->cpu.insns < BENCH_INSNS) {
		gui_run_frame(g);
		frames++;
	}
	double t = bench_cpu_seconds() - t0;
	gui_close(g);
	SDL_Quit();
	printf("bench ui_fps %.1f fps\n", frames / t);
	printf("bench ui_guest_speed_ratio %.2f x\n", headless / t);
	return 0;
}
