/* start_kernel: the C entry point, called by arch/x86/head.S in 64-bit mode
 * on the boot stack, with the physical address of the Multiboot info. */
#include "guestos/arch/x86/desc.h"
#include "guestos/arch/x86/i8259.h"
#include "guestos/arch/x86/io.h"
#include "guestos/arch/x86/processor-flags.h"
#include "guestos/arch/x86/process.h"
#include "guestos/kernel/cmdline.h"
#include "guestos/kernel/exec.h"
#include "guestos/kernel/printk.h"
#include "guestos/kernel/report.h"
#include "guestos/kernel/selftest.h"
#include "guestos/kernel/setup.h"
#include "guestos/kernel/vmcoreinfo.h"
#include "guestos/mm/gfp.h"
#include "guestos/mm/init.h"
#include "guestos/mm/memblock.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/slab.h"
#include "guestos/mm/vmalloc.h"

void __noreturn start_kernel(unsigned long mbi_pa);

static void parse_early_params(const struct multiboot_info *mbi)
{
	bool has_cmdline = mbi->flags & MULTIBOOT_INFO_CMDLINE;

	cmdline_init(has_cmdline ? __va(mbi->cmdline) : "");
	console_set_loglevel((int)cmdline_get_ulong("loglevel", CONSOLE_LOGLEVEL_DEFAULT));
}

/* `faulttest` on the command line: touch an unmapped address, to show (and
 * test) the unexpected-exception report. */
static void fault_test(void)
{
	volatile u64 *unmapped = (volatile u64 *)0x1000;

	pr_info("faulttest: reading 0x1000, which is not mapped\n");
	(void)*unmapped;
}

/* With modules (and no self-tests): start `init=NAME` (default init) as
 * pid 1 and idle; the machine stops when init exits (kernel/exit.c). */
static void kernel_init(void)
{
	char name[MODULE_NAME_LEN];

	if (!nr_modules() || cmdline_has_flag("selftest"))
		return;
	cmdline_get_string("init", name, sizeof name, "init");
	if (!start_init(name))
		machine_exit(EXIT_CODE_INIT_FAILED);
	cpu_idle();
}

void start_kernel(unsigned long mbi_pa)
{
	const struct multiboot_info *mbi = __va(mbi_pa);
	u64 tsc_start = rdtsc();
	unsigned failed = 0;

	console_init();
	parse_early_params(mbi);
	pr_info("mmulab guest kernel\n");
	pr_info("Command line: %s\n", cmdline_params());
	gdt_init();
	idt_init();
	init_8259A();
	setup_memory_map(mbi);
	init_direct_mapping(memblock_end_of_DRAM());
	mem_init();
	preallocate_vmalloc_pages();
	kmem_cache_init();
	vmcoreinfo_init();
	mm_init();
	sched_init();
	syscall_init();
	modules_init(mbi);
	time_init();
	local_irq_enable();
	show_buddyinfo();
	if (cmdline_has_flag("vmcoreinfo"))
		show_vmcoreinfo();
	if (cmdline_has_flag("faulttest"))
		fault_test();
	if (cmdline_has_flag("selftest"))
		failed = run_all_selftests();
	kernel_init();
	if (cmdline_has_flag("selftest") || cmdline_has_flag("report"))
		show_reports();
	pr_info(TIMING_PREFIX "boot to exit: %lu TSC cycles, %lu timer ticks\n",
		(unsigned long)(rdtsc() - tsc_start), jiffies);
	pr_info("no init program started: exiting\n");
	machine_exit(failed ? EXIT_CODE_PANIC : EXIT_CODE_OK);
}
