/* Capstone front end and the ELF reader of `mmulab disasm`. The ELF
 * parser checks every offset against the file size before use: the input
 * is untrusted. Field offsets are those of the System V ABI ELF header and
 * program header (ELF32 and ELF64 layouts). */
#include "emu/disasm.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PF_X 1u
#define ELF32_HEADER_SIZE 0x34
#define ELF_MAX_FILE (UINT64_C(1) << 30)

static const cs_mode cs_modes[DISASM_NWIDTHS] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };

bool disasm_open(struct disasm *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	for (unsigned w = 0; w < DISASM_NWIDTHS; w++) {
		csh h;
		if (cs_open(CS_ARCH_X86, cs_modes[w], &h) != CS_ERR_OK) {
			snprintf(err, errlen, "mmulab: cannot open the Capstone disassembler");
			disasm_close(d);
			return false;
		}
		d->handle[w] = h;
		d->open[w] = true;
	}
	return true;
}

void disasm_close(struct disasm *d)
{
	for (unsigned w = 0; w < DISASM_NWIDTHS; w++) {
		if (d->open[w]) {
			csh h = d->handle[w];
			cs_close(&h);
		}
		d->open[w] = false;
	}
}

size_t disasm_one(struct disasm *d, enum disasm_width w, const uint8_t *buf, size_t n,
		  uint64_t addr, char *text, size_t textlen)
{
	cs_insn *insn;
	size_t len = 0;
	if (cs_disasm(d->handle[w], buf, n, addr, 1, &insn) == 1) {
		snprintf(text, textlen, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "",
			 insn->op_str);
		len = insn->size;
		cs_free(insn, 1);
	} else {
		snprintf(text, textlen, "(bad)");
	}
	return len;
}

/* ---- ELF ---------------------------------------------------------------- */

struct elf_view {
	const uint8_t *p;
	size_t n;
	bool is64;
};

/* Little-endian field of `bytes` bytes at off; false if outside the file. */
static bool elf_field(const struct elf_view *e, uint64_t off, unsigned bytes, uint64_t *v)
{
	if (off > e->n || bytes > e->n - off)
		return false;
	*v = 0;
	for (unsigned i = 0; i < bytes; i++)
		*v |= (uint64_t)e->p[off + i] << (8 * i);
	return true;
}

/* One program header's type, flags, offset, address and file size. */
struct elf_phdr {
	uint64_t type, flags, offset, vaddr, filesz;
};

static bool elf_phdr_read(const struct elf_view *e, uint64_t at, struct elf_phdr *h)
{
	if (e->is64)
		return elf_field(e, at, 4, &h->type) && elf_field(e, at + 4, 4, &h->flags) &&
		       elf_field(e, at + 8, 8, &h->offset) && elf_field(e, at + 16, 8, &h->vaddr) &&
		       elf_field(e, at + 32, 8, &h->filesz);
	return elf_field(e, at, 4, &h->type) && elf_field(e, at + 4, 4, &h->offset) &&
	       elf_field(e, at + 8, 4, &h->vaddr) && elf_field(e, at + 16, 4, &h->filesz) &&
	       elf_field(e, at + 24, 4, &h->flags);
}

static void disasm_range(struct disasm *d, enum disasm_width w, const uint8_t *p, uint64_t n,
			 uint64_t addr, FILE *out)
{
	char text[160];
	uint64_t off = 0;
	while (off < n) {
		size_t len = disasm_one(d, w, p + off, n - off, addr + off, text, sizeof text);
		if (len == 0)
			len = 1;
		fprintf(out, "%08" PRIx64 ":", addr + off);
		for (size_t i = 0; i < len; i++)
			fprintf(out, " %02x", p[off + i]);
		fprintf(out, "%*s%s\n", (int)(3 * (len < 10 ? 10 - len : 0) + 2), "", text);
		off += len;
	}
}

static bool disasm_elf(struct disasm *d, const struct elf_view *e, const char *path, FILE *out,
		       char *err, size_t errlen)
{
	uint64_t machine, phoff, phentsize, phnum;
	bool ok = e->is64 ? elf_field(e, 0x20, 8, &phoff) && elf_field(e, 0x36, 2, &phentsize) &&
				    elf_field(e, 0x38, 2, &phnum)
			  : elf_field(e, 0x1c, 4, &phoff) && elf_field(e, 0x2a, 2, &phentsize) &&
				    elf_field(e, 0x2c, 2, &phnum);
	if (!ok || !elf_field(e, 0x12, 2, &machine) || (machine != EM_386 && machine != EM_X86_64)) {
		snprintf(err, errlen, "mmulab: %s: not an x86 ELF executable", path);
		return false;
	}
	enum disasm_width w = machine == EM_X86_64 ? DISASM_64 : DISASM_32;
	for (uint64_t i = 0; i < phnum; i++) {
		struct elf_phdr h;
		if (!elf_phdr_read(e, phoff + i * phentsize, &h) ||
		    (h.type == PT_LOAD && (h.offset > e->n || h.filesz > e->n - h.offset))) {
			snprintf(err, errlen, "mmulab: %s: program header %" PRIu64 " is outside the file",
				 path, i);
			return false;
		}
		if (h.type == PT_LOAD && (h.flags & PF_X))
			disasm_range(d, w, e->p + h.offset, h.filesz, h.vaddr, out);
	}
	return true;
}

static uint8_t *read_file(const char *path, size_t *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size = -1;
	if (f && fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (!f || size < 0 || (uint64_t)size > ELF_MAX_FILE || fseek(f, 0, SEEK_SET) != 0 ||
	    !(buf = malloc((size_t)size + 1)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "mmulab: %s: %s", path, f ? "cannot read the file" : strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	*n = (size_t)size;
	return buf;
}

bool disasm_elf_file(const char *path, FILE *out, char *err, size_t errlen)
{
	struct elf_view e = { 0 };
	uint8_t *buf = read_file(path, &e.n, err, errlen);
	if (!buf)
		return false;
	e.p = buf;
	bool ok = e.n >= ELF32_HEADER_SIZE && !memcmp(buf, "\x7f" "ELF", 4) && buf[EI_DATA] == ELFDATA2LSB &&
		  (buf[EI_CLASS] == ELFCLASS32 || buf[EI_CLASS] == ELFCLASS64);
	struct disasm d;
	if (!ok) {
		snprintf(err, errlen, "mmulab: %s: not a little-endian ELF32 or ELF64 file", path);
	} else if ((ok = disasm_open(&d, err, errlen))) {
		e.is64 = buf[EI_CLASS] == ELFCLASS64;
		ok = disasm_elf(&d, &e, path, out, err, errlen);
		disasm_close(&d);
	}
	free(buf);
	return ok;
}
