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

#endif
