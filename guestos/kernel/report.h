/* The kernel's reports in the formats of Linux's /proc files. */
#ifndef GUESTOS_KERNEL_REPORT_H
#define GUESTOS_KERNEL_REPORT_H

/* A subset of /proc/meminfo: MemTotal, MemFree, Slab, SReclaimable,
 * SUnreclaim. MemFree counts the buddy free lists only (as Linux's
 * NR_FREE_PAGES: per-CPU list pages are not free), so it equals the sum
 * of buddyinfo's blocks. */
void show_meminfo(void);
/* buddyinfo, slabinfo, meminfo, each introduced by a "cat" line. */
void show_reports(void);
struct mm_struct;
/* The reports selected by REPORT_* bits (guestos/include/unistd_64.h);
 * REPORT_MAPS shows mm as /proc/PID/maps. */
void show_selected_reports(unsigned which, struct mm_struct *mm, int pid);

#endif
