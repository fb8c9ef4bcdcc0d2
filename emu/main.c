/* mmulab: the command-line front end. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "emu/demo.h"
#include "emu/run.h"
#include "traces/tool.h"
#include "ui/gui.h"
#include "mmu/model.h"

#define MMULAB_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmulab <command> [options]\n"
		"\n"
		"commands:\n"
		"  run -kernel FILE [options]\n"
		"                         boot a Multiboot kernel on the modelled machine\n"
		"      -m SIZE            guest RAM (default 128M; suffixes k, M, G; no suffix: MiB)\n"
		"      -serial S          COM1 output: stdio (default), file:PATH or none\n"
		"      -initrd A,B        Multiboot modules (',,' for a literal comma)\n"
		"      -append STR        kernel command line\n"
		"      -model M           machine model (see below)\n"
		"      -stats             print instructions, cycles, CPI, MIPS and MMU counters\n"
		"      -text-screen       at the end, print the VGA text buffer (80x25 at 0xB8000)\n"
		"      -max-insns N       stop after N instructions\n"
		"      -d insn            log every executed instruction to stderr\n"
		"      -trace FILE        record an MMU trace of the run (traces/FORMAT.md)\n"
		"      -trace-from N      start the trace at instruction N\n"
		"      -trace-insns M     record M instructions only\n"
		"  replay FILE [-model M] replay a trace through the MMU model alone, check every\n"
		"                         outcome; with another model: what-if statistics\n"
		"  trace-dump FILE        print a trace's records as text\n"
		"  trace-stats FILE       summarise a trace\n"
		"  gui -kernel FILE [run options] [--run] [--size WxH]\n"
		"      [--screenshot FILE --after-insns N]\n"
		"                         the visualizer: page tables, frames, free lists, slab,\n"
		"                         vmalloc, TLBs and counters over the running guest; with\n"
		"                         --screenshot, run N instructions, draw one frame into\n"
		"                         FILE (.png or .bmp) and exit, no display needed\n"
		"  disasm FILE            disassemble the executable segments of an ELF kernel\n"
		"  mmu-demo [-model M]    build page tables, translate a scripted sequence of\n"
		"                         addresses and print every walk, cache outcome and cycle\n"
		"  model [-model M]       print a machine model in canonical form with its hash\n"
		"  help                   this text\n"
		"  version                print the version\n"
		"\n"
		"  -model M   'skylake' (default), 'flat', or a model file (see docs/model-format.md)\n");
}

/* Parse the options shared by the commands that take a model. */
static int parse_model_opts(int argc, char **argv, struct mmu_model *model)
{
	char err[300];
	mmu_model_default(model);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-model") || !strcmp(argv[i], "--model")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "mmulab: %s needs a value (skylake, flat or a file)\n", argv[i]);
				return 2;
			}
			if (!mmu_model_resolve(model, argv[++i], err, sizeof err)) {
				fprintf(stderr, "mmulab: %s\n", err);
				return 2;
			}
		} else {
			fprintf(stderr, "mmulab: %s: unknown option '%s' (see 'mmulab help')\n", argv[1],
				argv[i]);
			return 2;
		}
	}
	return 0;
}

static int cmd_model(const struct mmu_model *model)
{
	char buf[4096];
	mmu_model_format(model, buf, sizeof buf);
	printf("%s# hash %016" PRIx64 "\n", buf, mmu_model_hash(model));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("mmulab %s\n", MMULAB_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "mmu-demo") || !strcmp(cmd, "model")) {
		struct mmu_model model;
		int rc = parse_model_opts(argc, argv, &model);
		if (rc)
			return rc;
		return !strcmp(cmd, "model") ? cmd_model(&model) : demo_run(&model, stdout);
	}
	if (!strcmp(cmd, "run"))
		return run_command(argc - 2, argv + 2);
	if (!strcmp(cmd, "gui"))
		return gui_command(argc - 2, argv + 2);
	if (!strcmp(cmd, "disasm"))
		return disasm_command(argc - 2, argv + 2);
	if (!strcmp(cmd, "replay"))
		return trace_replay_command(argc - 2, argv + 2, stdout);
	if (!strcmp(cmd, "trace-dump"))
		return trace_dump_command(argc - 2, argv + 2, stdout);
	if (!strcmp(cmd, "trace-stats"))
		return trace_stats_command(argc - 2, argv + 2, stdout);
	fprintf(stderr, "mmulab: unknown command '%s' (see 'mmulab help')\n", cmd);
	return 2;
}
