/* Finding and parsing the VMCOREINFO block (ui/vmcore.h). */
#include "ui/vmcore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guestos/include/vmcoreinfo.h"

#define VMCORE_ALIGN 16

static bool find_header(struct vmcore *v, const struct snapshot *s)
{
	uint64_t start = s->kernel_start & ~(uint64_t)(VMCORE_ALIGN - 1);
	uint64_t end = s->kernel_end < s->ram_size ? s->kernel_end : s->ram_size;
	for (uint64_t pa = start; pa + sizeof(struct vmcoreinfo_header) <= end; pa += VMCORE_ALIGN) {
		if (!memcmp(s->ram + pa, VMCOREINFO_MAGIC, VMCOREINFO_MAGIC_SIZE)) {
			v->found = true;
			v->header_pa = pa;
			return true;
		}
	}
	return false;
}

/* One "KEY=value" line; SYMBOL values are hex, the rest decimal. */
static void parse_line(struct vmcore *v, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	if (!eq || eq == line || (size_t)(eq - line) >= VMCORE_KEY_MAX || v->n >= VMCORE_MAX_ENTRIES)
		return;
	char val[32];
	size_t vl = len - (size_t)(eq + 1 - line);
	if (vl == 0 || vl >= sizeof val)
		return;
	memcpy(val, eq + 1, vl);
	val[vl] = '\0';
	struct vmcore_entry *e = &v->e[v->n++];
	memcpy(e->key, line, (size_t)(eq - line));
	e->key[eq - line] = '\0';
	e->val = !strncmp(line, "SYMBOL(", 7) ? strtoull(val, NULL, 16)
					      : (uint64_t)strtoll(val, NULL, 10);
}

static void parse_text(struct vmcore *v, const struct snapshot *s, const struct vmcoreinfo_header *h)
{
	char text[VMCOREINFO_CAPACITY + 1];
	uint32_t size = h->size < VMCOREINFO_CAPACITY ? h->size : VMCOREINFO_CAPACITY;
	if (!snapshot_read_phys(s, h->data_pa, text, size))
		return;
	text[size] = '\0';
	v->n = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		parse_line(v, p, len);
		p += len + (nl != NULL);
	}
	v->ready = true;
	uint64_t pob = 0;
	vmcore_get(v, "NUMBER", "phys_base", &v->phys_base);
	if (vmcore_get(v, "SYMBOL", "page_offset_base", &pob))
		vmcore_read(v, s, pob, 8, &v->page_offset);
}

void vmcore_update(struct vmcore *v, const struct snapshot *s)
{
	struct vmcoreinfo_header h;
	if (v->ready)
		return;
	if (!v->found && !find_header(v, s))
		return;
	if (!snapshot_read_phys(s, v->header_pa, &h, sizeof h) || h.ready != 1 ||
	    h.version != VMCOREINFO_VERSION)
		return;
	parse_text(v, s, &h);
}

bool vmcore_get(const struct vmcore *v, const char *kind, const char *name, uint64_t *val)
{
	char key[VMCORE_KEY_MAX];
	if (kind)
		snprintf(key, sizeof key, "%s(%s)", kind, name);
	else
		snprintf(key, sizeof key, "%s", name);
	for (unsigned i = 0; i < v->n; i++) {
		if (!strcmp(v->e[i].key, key)) {
			*val = v->e[i].val;
			return true;
		}
	}
	return false;
}

bool vmcore_pa(const struct vmcore *v, uint64_t va, uint64_t *pa)
{
	if (va >= VMCOREINFO_START_KERNEL_MAP) {
		*pa = va - VMCOREINFO_START_KERNEL_MAP + v->phys_base;
		return true;
	}
	if (v->page_offset && va >= v->page_offset) {
		*pa = va - v->page_offset;
		return true;
	}
	return false;
}

bool vmcore_read(const struct vmcore *v, const struct snapshot *s, uint64_t va, unsigned n,
		 uint64_t *val)
{
	uint64_t pa;
	uint8_t b[8] = { 0 };
	if (n > 8 || !vmcore_pa(v, va, &pa) || !snapshot_read_phys(s, pa, b, n))
		return false;
	*val = 0;
	for (unsigned i = 0; i < n; i++)
		*val |= (uint64_t)b[i] << (8 * i);
	return true;
}

bool vmcore_read_str(const struct vmcore *v, const struct snapshot *s, uint64_t va, char *buf,
		     unsigned cap)
{
	uint64_t pa;
	if (!cap || !vmcore_pa(v, va, &pa))
		return false;
	for (unsigned i = 0; i + 1 < cap; i++) {
		char c;
		if (!snapshot_read_phys(s, pa + i, &c, 1))
			return false;
		buf[i] = (c >= ' ' && c < 0x7f) ? c : '\0';
		if (!c) {
			buf[i] = '\0';
			return true;
		}
		if (!buf[i])
			buf[i] = '?';
	}
	buf[cap - 1] = '\0';
	return true;
}
