/* `mmulab run` and `mmulab disasm`. The host clock is read here only, for
 * the MIPS figure of -stats; the machine never sees it. */
#include "emu/run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu/machine.h"
#include "emu/trace_run.h"
#include "mmu/model.h"

#define KIB UINT64_C(1024)

bool run_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	uint64_t v = strtoull(s, &end, 10), unit = KIB * KIB;
	if (errno || (end[0] && end[1]))
		return false;
	switch (*end) {
	case '\0': case 'M': case 'm': break;
	case 'k': case 'K': unit = KIB; break;
	case 'G': case 'g': unit = KIB * KIB * KIB; break;
	default: return false;
	}
	if (v == 0 || v > RUN_MAX_RAM / unit || (v * unit) % (4 * KIB))
		return false;
	*bytes = v * unit;
	return true;
}

struct run_opts {
	struct machine_config mc;
	struct mmu_model model;
	const char *serial;
	bool stats;
	bool text_screen;
	struct trace_run_opts trace;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "mmulab: run: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return RUN_STATUS_USAGE;
}

/* One option with a value at argv[*i]; 0 or a usage status. */
static int parse_valued(struct run_opts *o, const char *opt, const char *val)
{
	char err[300];
	if (!strcmp(opt, "-kernel")) {
		o->mc.kernel = val;
	} else if (!strcmp(opt, "-m")) {
		if (!run_parse_size(val, &o->mc.ram_size))
			return usage_error("bad memory size '%s' (e.g. 128M, 1G; 4 KiB multiples up to 16G)",
					   val);
	} else if (!strcmp(opt, "-serial")) {
		o->serial = val;
	} else if (!strcmp(opt, "-initrd")) {
		o->mc.initrd = val;
	} else if (!strcmp(opt, "-append")) {
		o->mc.append = val;
	} else if (!strcmp(opt, "-model")) {
		if (!mmu_model_resolve(&o->model, val, err, sizeof err))
			return usage_error("%s", err);
	} else if (!strcmp(opt, "-max-insns")) {
		char *end;
		errno = 0;
		o->mc.max_insns = strtoull(val, &end, 10);
		if (errno || *end || *val < '0' || *val > '9' || o->mc.max_insns == 0)
			return usage_error("bad instruction count '%s'", val);
	} else if (!strcmp(opt, "-trace")) {
		o->trace.file = val;
	} else if (!strcmp(opt, "-trace-from") || !strcmp(opt, "-trace-insns")) {
		char *end;
		errno = 0;
		uint64_t v = strtoull(val, &end, 10);
		if (errno || *end || *val < '0' || *val > '9')
			return usage_error("bad instruction count '%s'", val);
		*(!strcmp(opt, "-trace-from") ? &o->trace.from : &o->trace.insns) = v;
	} else if (!strcmp(opt, "-d")) {
		if (strcmp(val, "insn"))
			return usage_error("unknown log item '%s' (only 'insn')", val);
		o->mc.insn_log = stderr;
	} else {
		return usage_error("unknown option '%s' (see 'mmulab help')", opt);
	}
	return 0;
}

static bool takes_value(const char *opt)
{
	static const char *const valued[] = {"-kernel", "-m", "-serial", "-initrd", "-append",
					     "-model", "-max-insns", "-d", "-trace", "-trace-from",
					     "-trace-insns"};
	for (size_t i = 0; i < sizeof valued / sizeof valued[0]; i++)
		if (!strcmp(opt, valued[i]))
			return true;
	return false;
}

static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	memset(o, 0, sizeof *o);
	mmu_model_default(&o->model);
	o->serial = "stdio";
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i][0] == '-' && argv[i][1] == '-' ? argv[i] + 1 : argv[i];
		int rc;
		if (!strcmp(opt, "-stats")) {
			o->stats = true;
			continue;
		}
		if (!strcmp(opt, "-text-screen")) {
			o->text_screen = true;
			continue;
		}
		if (!takes_value(opt))
			return usage_error("unknown option '%s' (see 'mmulab help')", argv[i]);
		if (i + 1 >= argc)
			return usage_error("%s needs a value", argv[i]);
		if ((rc = parse_valued(o, opt, argv[++i])))
			return rc;
	}
	if (!o->mc.kernel)
		return usage_error("%s", "no kernel given (-kernel FILE)");
	if (!o->trace.file && (o->trace.from || o->trace.insns))
		return usage_error("%s", "-trace-from and -trace-insns need -trace FILE");
	o->mc.model = &o->model;
	return 0;
}

static double host_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* -text-screen: the 80x25 characters of the VGA text buffer at physical
 * 0xB8000 (character bytes at even addresses, attributes between), as a
 * colour text mode with start address 0 shows them. No VGA register is
 * modelled; this reads RAM, so it shows what a kernel that writes the
 * buffer directly put there. Printable ASCII as itself, NUL as a space,
 * other bytes as '?'; trailing spaces dropped. */
#define TEXT_SCREEN_BASE UINT64_C(0xb8000)
#define TEXT_SCREEN_COLS 80
#define TEXT_SCREEN_ROWS 25

static void print_text_screen(struct machine *m, FILE *out)
{
	for (unsigned r = 0; r < TEXT_SCREEN_ROWS; r++) {
		char line[TEXT_SCREEN_COLS + 1];
		unsigned end = 0;
		for (unsigned col = 0; col < TEXT_SCREEN_COLS; col++) {
			uint64_t at = TEXT_SCREEN_BASE + 2 * (r * TEXT_SCREEN_COLS + col);
			unsigned ch = (unsigned)phys_read(&m->cpu.mmu.phys, at, 1);
			line[col] = ch == 0 ? ' ' : ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
			if (line[col] != ' ')
				end = col + 1;
		}
		line[end] = '\0';
		fprintf(out, "%s\n", line);
	}
}

/* Boot and run the configured machine; the process exit status. */
static int run_machine(struct run_opts *o)
{
	char err[400];
	struct machine *m = calloc(1, sizeof *m);
	if (!m) {
		fprintf(stderr, "mmulab: out of memory\n");
		return RUN_STATUS_USAGE;
	}
	if (!machine_init(m, &o->mc, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		free(m);
		return RUN_STATUS_USAGE;
	}
	double t0 = host_seconds();
	bool traced = true;
	if (o->trace.file)
		traced = trace_run_machine(m, &o->trace, err, sizeof err);
	else
		machine_run(m);
	double t1 = host_seconds();
	if (!traced)
		fprintf(stderr, "%s\n", err);
	fflush(stdout);
	if (m->msg[0])
		fprintf(stderr, "%s\n", m->msg);
	if (o->text_screen)
		print_text_screen(m, stdout);
	if (o->stats)
		machine_print_stats(m, t1 - t0, stderr);
	int status = traced ? machine_exit_status(m) : RUN_STATUS_USAGE;
	machine_free(m);
	free(m);
	return status;
}

int run_command(int argc, char **argv)
{
	struct run_opts o;
	char err[300];
	FILE *opened = NULL;
	int rc = parse_run_opts(argc, argv, &o);
	if (rc)
		return rc;
	struct devices_config dc = { 0 };
	if (!devices_serial_open(&dc, o.serial, &opened, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return RUN_STATUS_USAGE;
	}
	o.mc.serial_sink = dc.serial_sink;
	o.mc.serial_ctx = dc.serial_ctx;
	o.mc.warn = stderr;
	rc = run_machine(&o);
	if (opened)
		fclose(opened);
	return rc;
}

int disasm_command(int argc, char **argv)
{
	char err[400];
	if (argc != 1) {
		fprintf(stderr, "mmulab: disasm: usage: mmulab disasm FILE\n");
		return RUN_STATUS_USAGE;
	}
	if (!disasm_elf_file(argv[0], stdout, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return RUN_STATUS_USAGE;
	}
	return 0;
}

int run_parse_config(int argc, char **argv, struct machine_config *mc, struct mmu_model *model,
		     const char **serial)
{
	struct run_opts o;
	int rc = parse_run_opts(argc, argv, &o);
	if (rc)
		return rc;
	*mc = o.mc;
	*model = o.model;
	mc->model = model;
	*serial = o.serial;
	return 0;
}
