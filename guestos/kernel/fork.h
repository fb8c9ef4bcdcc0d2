#ifndef GUESTOS_KERNEL_FORK_H
#define GUESTOS_KERNEL_FORK_H

#include "guestos/kernel/sched.h"

/* sys_fork: the child's pid in the parent (the child runs later, from the
 * run queue, returning 0), or -ENOMEM. */
long kernel_clone(void);

#endif
