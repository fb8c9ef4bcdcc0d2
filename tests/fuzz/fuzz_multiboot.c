/* libFuzzer target: the Multiboot loader on arbitrary images.
 *
 * An input is: one control byte, then the kernel image. The control byte's
 * low two bits give the number of modules (0..3), each made of up to 64
 * bytes taken from the end of the input; bit 2 adds a command line.
 *
 * RAM is 4 MiB. Checked after every load:
 *   - failure: one line "mmulab: <name>: ..." and guest RAM untouched;
 *   - success: the entry state the specification requires, the boot
 *     data after the kernel and inside RAM, every module inside RAM,
 *     page-aligned, at or above 1 MiB and after the boot data.
 * Any violation prints what broke and aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/multiboot.h"

#define FUZZ_RAM (UINT64_C(4) << 20)
#define FUZZ_MAX_MODULES 3
#define FUZZ_MODULE_BYTES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_multiboot: %s\n", what);
		abort();
	}
}

static bool ram_is_zero(const struct phys *ram)
{
	static const uint8_t zeros[4096];
	for (uint64_t i = 0; i < ram->size; i += sizeof zeros)
		if (memcmp(ram->ram + i, zeros, sizeof zeros) != 0)
			return false;
	return true;
}

static void check_loaded(const struct phys *ram, const struct multiboot_boot_state *st, size_t nmods)
{
	check(st->eax == MULTIBOOT_BOOTLOADER_MAGIC, "EAX is not the boot loader magic");
	check(st->ebx == MULTIBOOT_INFO_ADDR, "EBX does not point at the info structure");
	check(st->kernel_end <= ram->size && st->kernel_start < st->kernel_end, "kernel extent outside RAM");
	check(st->boot_data_start >= st->kernel_end && st->boot_data_end <= ram->size, "boot data outside RAM");
	uint64_t cmdline = phys_read(ram, st->ebx + MBI_CMDLINE, 4);
	check(cmdline >= st->boot_data_start && cmdline < st->boot_data_end, "command line outside the boot data");
	check(phys_read(ram, st->ebx + MBI_MODS_COUNT, 4) == nmods, "module count");
	uint64_t mods = phys_read(ram, st->ebx + MBI_MODS_ADDR, 4);
	for (size_t i = 0; i < nmods; i++) {
		uint64_t start = phys_read(ram, mods + i * MBM_SIZE + MBM_START, 4);
		uint64_t end = phys_read(ram, mods + i * MBM_SIZE + MBM_END, 4);
		check(start % 4096 == 0 && start >= MULTIBOOT_HIGH_MEMORY, "module placement");
		check(start >= st->boot_data_end && end <= ram->size && start <= end, "module outside RAM");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t control = data[0];
	data++;
	size--;
	struct multiboot_image mods[FUZZ_MAX_MODULES];
	size_t nmods = control & 3;
	for (size_t i = 0; i < nmods; i++) {
		size_t n = size < FUZZ_MODULE_BYTES ? size : FUZZ_MODULE_BYTES;
		mods[i] = (struct multiboot_image){ .name = "module", .data = data + size - n, .size = n,
						    .cmdline = "module arg" };
	}
	struct multiboot_config cfg = {
		.kernel = { .name = "kernel", .data = data, .size = size },
		.append = (control & 4) ? "console=ttyS0" : NULL,
		.cmdline_has_name = control & 8,
		.modules = mods,
		.nmodules = nmods,
	};
	struct phys ram;
	char err[256];
	check(phys_init(&ram, FUZZ_RAM, err, sizeof err), "phys_init");
	struct multiboot_boot_state st;
	if (multiboot_load(&ram, &cfg, &st, err, sizeof err)) {
		check_loaded(&ram, &st, nmods);
	} else {
		check(strncmp(err, "mmulab: ", 8) == 0 && !strchr(err, '\n'), "error is not one mmulab: line");
		check(ram_is_zero(&ram), "a rejected image wrote to RAM");
	}
	phys_free(&ram);
	return 0;
}
