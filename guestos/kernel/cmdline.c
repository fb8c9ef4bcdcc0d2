#include "guestos/kernel/cmdline.h"

#include "guestos/lib/string.h"

static char command_line[COMMAND_LINE_SIZE];

void cmdline_init(const char *multiboot_cmdline)
{
	const char *p = multiboot_cmdline ? multiboot_cmdline : "";

	while (*p == ' ')
		p++;
	while (*p && *p != ' ') /* the kernel's path */
		p++;
	while (*p == ' ')
		p++;
	size_t n = MIN(strlen(p), sizeof command_line - 1);
	memcpy(command_line, p, n);
	command_line[n] = '\0';
}

const char *cmdline_params(void)
{
	return command_line;
}

/* Find a word that starts with `name` followed by the character `end`;
 * return the position after `name`, or NULL. */
static const char *find_word(const char *name, char end)
{
	size_t len = strlen(name);

	for (const char *p = command_line; *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, len) && p[len] == end)
			return p + len;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

bool cmdline_has_flag(const char *name)
{
	return find_word(name, ' ') || find_word(name, '\0');
}

unsigned long cmdline_get_ulong(const char *name, unsigned long def)
{
	const char *v = find_word(name, '=');

	return v ? simple_strtoul(v + 1, NULL) : def;
}

void cmdline_get_string(const char *name, char *buf, size_t size, const char *def)
{
	const char *v = find_word(name, '=');
	size_t n = 0;

	v = v ? v + 1 : def;
	while (v[n] && v[n] != ' ' && n + 1 < size) {
		buf[n] = v[n];
		n++;
	}
	buf[n] = '\0';
}
