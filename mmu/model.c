/* Machine-model files: parse, validate, format, hash (see model.h and
 * docs/model-format.md).
 *
 * Grammar, one directive per line ("#" to end of line is a comment):
 *   model NAME
 *   maxphyaddr N
 *   tlb  l1i|l1d|l2            sizes=4k[,2m,4m,1g] entries=N ways=N latency=N
 *   pwc  pml5e|pml4e|pdpte|pde entries=N ways=N latency=N
 *   cache l1d|l2|l3            size=N ways=N line=N latency=N
 *   dram latency=N
 *   walk timing=cached|flat start=N level_cycles=N ad_update=N
 * Numbers are decimal with an optional k, m or g suffix (powers of 1024).
 */
#include "mmu/model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_MAX_LINE 512
#define MODEL_MAX_TOKENS 16
#define MODEL_MAX_FILE (1u << 20)

struct model_parser {
	struct mmu_model *m;
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
	bool have_name;
};

__attribute__((format(printf, 2, 3)))
static bool model_error(struct model_parser *p, const char *fmt, ...)
{
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* Parse a decimal number with an optional k/m/g suffix into *out (<= max). */
static bool model_number(const char *s, uint64_t max, uint32_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10, end++;
	else if (*end == 'm' || *end == 'M')
		shift = 20, end++;
	else if (*end == 'g' || *end == 'G')
		shift = 30, end++;
	if (*end || v > (max >> shift))
		return false;
	*out = (uint32_t)(v << shift);
	return true;
}

static const char *const model_size_names[PG_NSIZES] = {"4k", "2m", "4m", "1g"};
static const char *const model_tlb_names[TLB_NLEVELS] = {"l1i", "l1d", "l2"};
static const char *const model_pwc_names[PWC_NKINDS] = {"pml5e", "pml4e", "pdpte", "pde"};
static const char *const model_cache_names[CACHE_NLEVELS] = {"l1d", "l2", "l3"};

static int model_lookup(const char *const *names, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

static bool model_sizes(struct model_parser *p, const char *list, uint8_t *mask)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s", list);
	*mask = 0;
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int s = model_lookup(model_size_names, PG_NSIZES, t);
		if (s < 0)
			return model_error(p, "unknown page size '%s' (expected 4k, 2m, 4m or 1g)", t);
		*mask |= (uint8_t)PG_SIZE_BIT(s);
	}
	if (!*mask)
		return model_error(p, "empty sizes= list");
	return true;
}

/* key=value settings of one directive, each allowed key mapped to a field. */
struct model_field {
	const char *key;
	uint32_t *dst;
	uint64_t max;
	bool seen;
};

static bool model_fields(struct model_parser *p, char **tok, int ntok, struct model_field *f,
			 unsigned nf, const char *directive)
{
	for (int i = 0; i < ntok; i++) {
		char *eq = strchr(tok[i], '=');
		if (!eq)
			return model_error(p, "expected key=value, got '%s'", tok[i]);
		*eq = 0;
		unsigned k;
		for (k = 0; k < nf && strcmp(f[k].key, tok[i]); k++)
			;
		if (k == nf)
			return model_error(p, "unknown key '%s' for '%s'", tok[i], directive);
		if (f[k].seen)
			return model_error(p, "key '%s' given twice", tok[i]);
		if (!model_number(eq + 1, f[k].max, f[k].dst))
			return model_error(p, "bad value '%s' for '%s' (a number up to %llu)", eq + 1,
					   tok[i], (unsigned long long)f[k].max);
		f[k].seen = true;
	}
	for (unsigned k = 0; k < nf; k++)
		if (!f[k].seen)
			return model_error(p, "'%s' needs %s=", directive, f[k].key);
	return true;
}

static bool model_geometry_ok(struct model_parser *p, uint32_t entries, uint32_t ways)
{
	if (entries == 0 || ways == 0 || entries % ways)
		return model_error(p, "entries=%u must be a non-zero multiple of ways=%u", entries, ways);
	uint32_t sets = entries / ways;
	if (sets & (sets - 1))
		return model_error(p, "entries/ways = %u sets, which is not a power of two", sets);
	return true;
}

static bool model_tlb(struct model_parser *p, char **tok, int ntok)
{
	int lvl = ntok > 0 ? model_lookup(model_tlb_names, TLB_NLEVELS, tok[0]) : -1;
	if (lvl < 0)
		return model_error(p, "tlb needs a level: l1i, l1d or l2");
	if (p->m->ntlb[lvl] == MMU_MAX_TLBS_PER_LEVEL)
		return model_error(p, "too many tlb %s structures (at most %d)", tok[0],
				   MMU_MAX_TLBS_PER_LEVEL);
	struct mmu_tlb_geom *g = &p->m->tlb[lvl][p->m->ntlb[lvl]];
	uint8_t sizes = 0;
	int rest = 0;
	char *keep[MODEL_MAX_TOKENS];
	for (int i = 1; i < ntok; i++) {
		if (!strncmp(tok[i], "sizes=", 6)) {
			if (sizes)
				return model_error(p, "key 'sizes' given twice");
			if (!model_sizes(p, tok[i] + 6, &sizes))
				return false;
		} else {
			keep[rest++] = tok[i];
		}
	}
	if (!sizes)
		return model_error(p, "'tlb' needs sizes=");
	struct model_field f[] = {
		{"entries", &g->entries, 1u << 20, false},
		{"ways", &g->ways, 1u << 20, false},
		{"latency", &g->latency, 1u << 16, false},
	};
	if (!model_fields(p, keep, rest, f, 3, "tlb") || !model_geometry_ok(p, g->entries, g->ways))
		return false;
	for (unsigned i = 0; i < p->m->ntlb[lvl]; i++)
		if (p->m->tlb[lvl][i].sizes & sizes)
			return model_error(p, "two tlb %s structures hold the same page size", tok[0]);
	g->sizes = sizes;
	p->m->ntlb[lvl]++;
	return true;
}

static bool model_pwc(struct model_parser *p, char **tok, int ntok)
{
	int k = ntok > 0 ? model_lookup(model_pwc_names, PWC_NKINDS, tok[0]) : -1;
	if (k < 0)
		return model_error(p, "pwc needs a kind: pml5e, pml4e, pdpte or pde");
	struct mmu_pwc_geom *g = &p->m->pwc[k];
	struct model_field f[] = {
		{"entries", &g->entries, 1u << 16, false},
		{"ways", &g->ways, 1u << 16, false},
		{"latency", &g->latency, 1u << 16, false},
	};
	return model_fields(p, tok + 1, ntok - 1, f, 3, "pwc") &&
	       model_geometry_ok(p, g->entries, g->ways);
}

static bool model_cache(struct model_parser *p, char **tok, int ntok)
{
	int k = ntok > 0 ? model_lookup(model_cache_names, CACHE_NLEVELS, tok[0]) : -1;
	if (k < 0)
		return model_error(p, "cache needs a level: l1d, l2 or l3");
	struct mmu_cache_geom *g = &p->m->cache[k];
	struct model_field f[] = {
		{"size", &g->size, UINT64_C(1) << 31, false},
		{"ways", &g->ways, CACHE_MAX_WAYS, false},
		{"line", &g->line, 4096, false},
		{"latency", &g->latency, 1u << 16, false},
	};
	if (!model_fields(p, tok + 1, ntok - 1, f, 4, "cache"))
		return false;
	if (g->line < 8 || (g->line & (g->line - 1)))
		return model_error(p, "line=%u must be a power of two, at least 8", g->line);
	if (g->size % g->line)
		return model_error(p, "size=%u is not a multiple of line=%u", g->size, g->line);
	return model_geometry_ok(p, g->size / g->line, g->ways);
}

static bool model_walk(struct model_parser *p, char **tok, int ntok)
{
	char *keep[MODEL_MAX_TOKENS];
	int rest = 0;
	bool timing = false;
	for (int i = 0; i < ntok; i++) {
		if (!strncmp(tok[i], "timing=", 7)) {
			if (!strcmp(tok[i] + 7, "cached"))
				p->m->walk_timing = WALK_TIMING_CACHED;
			else if (!strcmp(tok[i] + 7, "flat"))
				p->m->walk_timing = WALK_TIMING_FLAT;
			else
				return model_error(p, "timing must be cached or flat, not '%s'", tok[i] + 7);
			timing = true;
		} else {
			keep[rest++] = tok[i];
		}
	}
	if (!timing)
		return model_error(p, "'walk' needs timing=cached or timing=flat");
	struct model_field f[] = {
		{"start", &p->m->walk_start, 1u << 16, false},
		{"ad_update", &p->m->ad_update, 1u << 16, false},
		{"level_cycles", &p->m->walk_level_cycles, 1u << 16, false},
	};
	unsigned nf = p->m->walk_timing == WALK_TIMING_FLAT ? 3 : 2;
	return model_fields(p, keep, rest, f, nf, "walk");
}

static bool model_directive(struct model_parser *p, char **tok, int ntok)
{
	const char *d = tok[0];
	if (!strcmp(d, "model")) {
		if (ntok != 2 || strlen(tok[1]) >= sizeof p->m->name)
			return model_error(p, "'model' needs one name of at most %zu characters",
					   sizeof p->m->name - 1);
		snprintf(p->m->name, sizeof p->m->name, "%s", tok[1]);
		p->have_name = true;
		return true;
	}
	if (!strcmp(d, "maxphyaddr")) {
		uint32_t v;
		if (ntok != 2 || !model_number(tok[1], 52, &v) || v < 32)
			return model_error(p, "maxphyaddr needs a number from 32 to 52");
		p->m->maxphyaddr = v;
		return true;
	}
	if (!strcmp(d, "tlb"))
		return model_tlb(p, tok + 1, ntok - 1);
	if (!strcmp(d, "pwc"))
		return model_pwc(p, tok + 1, ntok - 1);
	if (!strcmp(d, "cache"))
		return model_cache(p, tok + 1, ntok - 1);
	if (!strcmp(d, "dram")) {
		struct model_field f[] = {{"latency", &p->m->dram_latency, 1u << 20, false}};
		return model_fields(p, tok + 1, ntok - 1, f, 1, "dram");
	}
	if (!strcmp(d, "walk"))
		return model_walk(p, tok + 1, ntok - 1);
	return model_error(p, "unknown directive '%s'", d);
}

static bool model_complete(struct model_parser *p)
{
	if (!p->have_name)
		return model_error(p, "no 'model NAME' line");
	if (!p->m->ntlb[TLB_L1I] || !p->m->ntlb[TLB_L1D])
		return model_error(p, "the model needs at least one tlb l1i and one tlb l1d");
	for (unsigned l = TLB_L1I; l <= TLB_L1D; l++)
		if (!(p->m->tlb[l][0].sizes & PG_SIZE_BIT(PG_4K)))
			return model_error(p, "the first tlb %s structure must hold 4k pages",
					   model_tlb_names[l]);
	for (unsigned l = TLB_L1I; l <= TLB_L1D; l++)
		for (unsigned i = 0; i < p->m->ntlb[l]; i++)
			if (p->m->tlb[l][i].ways & (p->m->tlb[l][i].ways - 1))
				return model_error(p, "tlb %s structures need a power-of-two number of ways",
						   model_tlb_names[l]);
	if (p->m->walk_timing == WALK_TIMING_CACHED && !p->m->cache[CACHE_L1D].size)
		return model_error(p, "walk timing=cached needs at least 'cache l1d'");
	for (unsigned i = 1; i < CACHE_NLEVELS; i++)
		if (p->m->cache[i].size && !p->m->cache[i - 1].size)
			return model_error(p, "cache %s given without cache %s", model_cache_names[i],
					   model_cache_names[i - 1]);
	return true;
}

bool mmu_model_parse(struct mmu_model *m, const char *text, const char *name, char *err,
		     size_t errlen)
{
	struct model_parser p = {.m = m, .name = name, .err = err, .errlen = errlen};
	memset(m, 0, sizeof *m);
	m->maxphyaddr = 46;
	bool seen_walk = false;
	for (const char *s = text; *s;) {
		const char *eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) : strlen(s);
		p.line++;
		if (len >= MODEL_MAX_LINE)
			return model_error(&p, "line longer than %d characters", MODEL_MAX_LINE - 1);
		char buf[MODEL_MAX_LINE];
		memcpy(buf, s, len);
		buf[len] = 0;
		s += len + (eol ? 1 : 0);
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *tok[MODEL_MAX_TOKENS];
		int ntok = 0;
		for (char *save, *t = strtok_r(buf, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
			if (ntok == MODEL_MAX_TOKENS)
				return model_error(&p, "too many words on one line");
			tok[ntok++] = t;
		}
		if (ntok == 0)
			continue;
		for (const char *c = tok[0]; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				return model_error(&p, "non-text byte in directive");
		if (!strcmp(tok[0], "walk"))
			seen_walk = true;
		if (!model_directive(&p, tok, ntok))
			return false;
	}
	if (!seen_walk)
		return model_error(&p, "no 'walk timing=...' line");
	return model_complete(&p);
}

bool mmu_model_load(struct mmu_model *m, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open model file: %s", path, strerror(errno));
		return false;
	}
	char *buf = malloc(MODEL_MAX_FILE + 1);
	size_t n = buf ? fread(buf, 1, MODEL_MAX_FILE + 1, f) : 0;
	bool read_error = ferror(f);
	fclose(f);
	if (!buf || read_error) {
		free(buf);
		snprintf(err, errlen, "%s: cannot read model file", path);
		return false;
	}
	if (n > MODEL_MAX_FILE || memchr(buf, 0, n)) {
		free(buf);
		snprintf(err, errlen, "%s: not a model file (binary data or larger than %u bytes)", path,
			 MODEL_MAX_FILE);
		return false;
	}
	buf[n] = 0;
	bool ok = mmu_model_parse(m, buf, path, err, errlen);
	free(buf);
	return ok;
}

static void model_builtin(struct mmu_model *m, const char *text, const char *name)
{
	char err[256];
	if (!mmu_model_parse(m, text, name, err, sizeof err)) {
		/* The built-in texts are tested; reaching here is a build defect. */
		fprintf(stderr, "mmulab: built-in model broken: %s\n", err);
		abort();
	}
}

void mmu_model_default(struct mmu_model *m)
{
	model_builtin(m, mmu_model_skylake_text, "skylake.model");
}

void mmu_model_flat(struct mmu_model *m)
{
	model_builtin(m, mmu_model_flat_text, "flat.model");
}

bool mmu_model_resolve(struct mmu_model *m, const char *arg, char *err, size_t errlen)
{
	if (!strcmp(arg, "skylake") || !strcmp(arg, "default")) {
		mmu_model_default(m);
		return true;
	}
	if (!strcmp(arg, "flat")) {
		mmu_model_flat(m);
		return true;
	}
	return mmu_model_load(m, arg, err, errlen);
}

size_t mmu_model_format(const struct mmu_model *m, char *buf, size_t len)
{
	size_t n = 0;
#define OUT(...) (n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, __VA_ARGS__))
	OUT("model %s\nmaxphyaddr %u\n", m->name, m->maxphyaddr);
	for (unsigned l = 0; l < TLB_NLEVELS; l++) {
		for (unsigned i = 0; i < m->ntlb[l]; i++) {
			const struct mmu_tlb_geom *g = &m->tlb[l][i];
			OUT("tlb %s sizes=", model_tlb_names[l]);
			const char *sep = "";
			for (unsigned s = 0; s < PG_NSIZES; s++)
				if (g->sizes & PG_SIZE_BIT(s))
					OUT("%s%s", sep, model_size_names[s]), sep = ",";
			OUT(" entries=%u ways=%u latency=%u\n", g->entries, g->ways, g->latency);
		}
	}
	for (unsigned k = 0; k < PWC_NKINDS; k++)
		if (m->pwc[k].entries)
			OUT("pwc %s entries=%u ways=%u latency=%u\n", model_pwc_names[k], m->pwc[k].entries,
			    m->pwc[k].ways, m->pwc[k].latency);
	for (unsigned c = 0; c < CACHE_NLEVELS; c++)
		if (m->cache[c].size)
			OUT("cache %s size=%u ways=%u line=%u latency=%u\n", model_cache_names[c],
			    m->cache[c].size, m->cache[c].ways, m->cache[c].line, m->cache[c].latency);
	OUT("dram latency=%u\n", m->dram_latency);
	if (m->walk_timing == WALK_TIMING_FLAT)
		OUT("walk timing=flat start=%u ad_update=%u level_cycles=%u\n", m->walk_start,
		    m->ad_update, m->walk_level_cycles);
	else
		OUT("walk timing=cached start=%u ad_update=%u\n", m->walk_start, m->ad_update);
#undef OUT
	return n;
}

uint64_t mmu_model_hash(const struct mmu_model *m)
{
	char buf[4096];
	size_t n = mmu_model_format(m, buf, sizeof buf);
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64 */
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)buf[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}
