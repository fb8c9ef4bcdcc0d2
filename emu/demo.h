/* `mmulab mmu-demo`: a scripted walk-through of the MMU model. */
#ifndef EMU_DEMO_H
#define EMU_DEMO_H

#include <stdio.h>

#include "mmu/model.h"

/* Run the demonstration under model, printing to out. Returns an exit status. */
int demo_run(const struct mmu_model *model, FILE *out);

#endif
