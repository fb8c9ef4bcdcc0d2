/* Error numbers, with Linux x86-64's values (include/uapi/asm-generic/
 * errno-base.h). Kernel functions return 0 or one of these negated. */
#ifndef GUESTOS_INCLUDE_ERRNO_H
#define GUESTOS_INCLUDE_ERRNO_H

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENOSPC 28
#define ESPIPE 29
#define ERANGE 34
#define ENOSYS 38

#endif
