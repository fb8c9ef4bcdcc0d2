/* Run the benchmark guest image under Bochs, the interpreter the CPU
 * figures are set against (docs/cpu.md, "Performance").
 *
 * Bochs has no -kernel: the image boots from a CD image that
 * grub-mkrescue builds around it, GRUB loading it with Multiboot. Bochs's
 * display is its text terminal, sent to /dev/null; its log, in the work
 * directory, is read back for the tick count and the reason it stopped.
 * The Debian package is built with Bochs's debugger, which waits for a
 * command at start: "c" (continue) is piped in.
 *
 * Kept apart from the emulator's headers, as host_cmd.c is. Host time is
 * used only here and in the figures it feeds.
 */
#include "bench/bochs_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/clock.h"
#include "bench/host_cmd.h"

/* The Bochs machine: 128 MiB like QEMU's default, a 64-bit CPU model,
 * no clock synchronisation (it runs as fast as it can). panic: fatal is
 * how the shutdown port ends the run. */
static const char BOCHSRC[] =
	"megs: 128\n"
	"cpu: model=corei7_skylake_x\n"
	"romimage: file=$BXSHARE/BIOS-bochs-latest\n"
	"vgaromimage: file=$BXSHARE/VGABIOS-lgpl-latest\n"
	"ata0-master: type=cdrom, path=%s/loops.iso, status=inserted\n"
	"boot: cdrom\n"
	"display_library: term\n"
	"speaker: enabled=0\n"
	"log: %s/bochs.log\n"
	"panic: action=fatal\n"
	"error: action=report\n"
	"clock: sync=none, time0=1\n";

/* A run that has not ended by then is stopped (and reported). */
#define BOCHS_TIMEOUT_S 600
#define SHUTDOWN_MESSAGE "Shutdown port: shutdown requested"

int bench_bochs_available(void)
{
	return bench_host_command("command -v bochs >/dev/null 2>&1 && "
				  "command -v grub-mkrescue >/dev/null 2>&1") == 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	int ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* The tick count of the log's last "quit_sim" line (its leading digits),
 * and whether the log shows the shutdown port ended the run. */
static int read_log(const char *path, uint64_t *ticks)
{
	char line[512];
	int shutdown = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	*ticks = 0;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, SHUTDOWN_MESSAGE))
			shutdown = 1;
		if (strstr(line, "quit_sim"))
			*ticks = strtoull(line, NULL, 10);
	}
	fclose(f);
	return shutdown && *ticks;
}

double bench_bochs_seconds(const char *image, const char *args, uint64_t *ticks, char *err,
			   size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char dir[400], path[512], cmd[2048], text[2048];
	double secs = -1;
	snprintf(dir, sizeof dir, "%s/mmulab-bochs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "cannot make a work directory under %s",
			 tmp && *tmp ? tmp : "/tmp");
		return -1;
	}
	snprintf(path, sizeof path, "%s/iso/boot/grub", dir);
	snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/iso/boot/loops.elf'", path, image,
		 dir);
	if (bench_host_command(cmd) != 0) {
		snprintf(err, errlen, "cannot copy %s into %s", image, dir);
		goto out;
	}
	/* GRUB passes the arguments alone; the image skips a first word. */
	snprintf(text, sizeof text,
		 "set timeout=0\nset default=0\nmenuentry loops {\n"
		 "  multiboot /boot/loops.elf loops.elf %s\n  boot\n}\n", args);
	snprintf(path, sizeof path, "%s/iso/boot/grub/grub.cfg", dir);
	if (!write_file(path, text)) {
		snprintf(err, errlen, "cannot write %s", path);
		goto out;
	}
	snprintf(cmd, sizeof cmd, "grub-mkrescue -o '%s/loops.iso' '%s/iso' >/dev/null 2>&1", dir,
		 dir);
	if (bench_host_command(cmd) != 0) {
		snprintf(err, errlen, "grub-mkrescue could not build a CD image of %s", image);
		goto out;
	}
	snprintf(text, sizeof text, BOCHSRC, dir, dir);
	snprintf(path, sizeof path, "%s/bochsrc", dir);
	if (!write_file(path, text)) {
		snprintf(err, errlen, "cannot write %s", path);
		goto out;
	}
	snprintf(cmd, sizeof cmd, "echo c | TERM=dumb timeout %d bochs -q -f '%s' >/dev/null 2>&1",
		 BOCHS_TIMEOUT_S, path);
	double t0 = bench_wall_seconds();
	(void)bench_host_command(cmd); /* the shutdown port's panic exits non-zero */
	double t = bench_wall_seconds() - t0;
	snprintf(path, sizeof path, "%s/bochs.log", dir);
	if (!read_log(path, ticks)) {
		snprintf(err, errlen, "Bochs did not reach the image's shutdown (see %s)", path);
		return -1; /* the work directory is kept for its log */
	}
	secs = t;
out:
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)bench_host_command(cmd);
	return secs;
}
