/* Start code, console output and the small string helpers. */
#include "guestos/user/ulib.h"

char **environ;

int main(int argc, char **argv);
__attribute__((noreturn)) void __libc_start_main(long *sp);

/* Called by crt0.S with the initial stack: argc, argv[argc], NULL, envp. */
void __libc_start_main(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);

	environ = argv + argc + 1;
	exit(main(argc, argv));
}

static int write_all(int fd, const char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		long r = write(fd, buf + done, n - done);
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return (int)n;
}

static int vdprintf(int fd, const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);

	return write_all(fd, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vdprintf(1, fmt, ap);
	va_end(ap);
	return n;
}

int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	return printf("%s\n", s);
}

const char *getenv(const char *name)
{
	size_t len = strlen(name);

	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, name, len) && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

unsigned long atoul(const char *s, unsigned long def)
{
	return s && *s ? simple_strtoul(s, NULL) : def;
}
