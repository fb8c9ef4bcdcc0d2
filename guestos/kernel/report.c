#include "guestos/kernel/report.h"

#include "guestos/include/unistd_64.h"
#include "guestos/kernel/printk.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/slab.h"
#include "guestos/mm/vmalloc.h"

/* fs/proc/meminfo.c show_val_kb(): a 16-column label, 8-column kB value. */
static void show_val_kb(const char *label, unsigned long pages)
{
	pr_info("%-16s%8lu kB\n", label, pages * (PAGE_SIZE / 1024));
}

void show_meminfo(void)
{
	show_val_kb("MemTotal:", totalram_pages());
	show_val_kb("MemFree:", nr_free_pages());
	show_val_kb("Slab:", slab_pages());
	show_val_kb("SReclaimable:", 0);
	show_val_kb("SUnreclaim:", slab_pages());
}

void show_selected_reports(unsigned which, struct mm_struct *mm, int pid)
{
	if (which & REPORT_BUDDYINFO) {
		pr_info("# cat /proc/buddyinfo\n");
		show_buddyinfo();
	}
	if (which & REPORT_SLABINFO) {
		pr_info("# cat /proc/slabinfo\n");
		show_slabinfo();
	}
	if ((which & REPORT_MAPS) && mm) {
		pr_info("# cat /proc/%d/maps\n", pid);
		show_map(mm, pid);
	}
	if (which & REPORT_VMALLOCINFO) {
		pr_info("# cat /proc/vmallocinfo\n");
		show_vmallocinfo();
	}
	if (which & REPORT_MEMINFO) {
		pr_info("# cat /proc/meminfo\n");
		show_meminfo();
	}
}

void show_reports(void)
{
	show_selected_reports(REPORT_ALL & ~REPORT_MAPS, NULL, 0);
}
