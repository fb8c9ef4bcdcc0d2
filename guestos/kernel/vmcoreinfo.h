/* Building and printing the VMCOREINFO block (guestos/include/vmcoreinfo.h). */
#ifndef GUESTOS_KERNEL_VMCOREINFO_H
#define GUESTOS_KERNEL_VMCOREINFO_H

/* Fill the text and mark the header ready; call after mem_map exists. */
void vmcoreinfo_init(void);
/* Print the text (command-line word `vmcoreinfo`). */
void show_vmcoreinfo(void);

#endif
