/* Drawing surface, glyph atlas and screenshots (ui/canvas.h). */
#include "ui/canvas.h"

#include <SDL_ttf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/png.h"

static const char *const font_paths[] = {
	"/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
	"/usr/share/fonts/TTF/DejaVuSansMono.ttf",
	"/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
	"/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono.ttf",
};

static TTF_Font *open_font(int pt, char *err, size_t errlen)
{
	const char *env = getenv("MMULAB_FONT");
	if (env && *env) {
		TTF_Font *f = TTF_OpenFont(env, pt);
		if (!f)
			snprintf(err, errlen, "mmulab: gui: font %s: %s", env, TTF_GetError());
		return f;
	}
	for (size_t i = 0; i < sizeof font_paths / sizeof font_paths[0]; i++) {
		TTF_Font *f = TTF_OpenFont(font_paths[i], pt);
		if (f)
			return f;
	}
	snprintf(err, errlen, "mmulab: gui: no DejaVu Sans Mono font found (install fonts-dejavu-core "
			      "or set MMULAB_FONT to a .ttf file)");
	return NULL;
}

/* Render the printable ASCII glyphs once, white on transparent. */
static bool build_atlas(struct canvas *c, TTF_Font *f, char *err, size_t errlen)
{
	int adv = 0;
	TTF_GlyphMetrics(f, 'M', NULL, NULL, NULL, NULL, &adv);
	c->cw = adv > 0 ? adv : 8;
	c->ch = TTF_FontLineSkip(f);
	SDL_Color white = { 255, 255, 255, 255 };
	for (int i = 0; i < CANVAS_GLYPHS; i++) { /* a descender ('_') may reach below the line skip */
		SDL_Surface *g = TTF_RenderGlyph_Blended(f, (Uint16)(32 + i), white);
		if (g && g->h > c->ch)
			c->ch = g->h;
		if (g)
			SDL_FreeSurface(g);
	}
	c->atlas = SDL_CreateRGBSurfaceWithFormat(0, c->cw * CANVAS_GLYPHS, c->ch, 32,
						  SDL_PIXELFORMAT_ARGB8888);
	if (!c->atlas) {
		snprintf(err, errlen, "mmulab: gui: %s", SDL_GetError());
		return false;
	}
	SDL_FillRect(c->atlas, NULL, 0);
	SDL_SetSurfaceBlendMode(c->atlas, SDL_BLENDMODE_BLEND);
	for (int i = 0; i < CANVAS_GLYPHS; i++) {
		SDL_Surface *g = TTF_RenderGlyph_Blended(f, (Uint16)(32 + i), white);
		if (!g)
			continue;
		SDL_Rect dst = { i * c->cw, 0, c->cw, c->ch };
		SDL_SetSurfaceBlendMode(g, SDL_BLENDMODE_NONE);
		SDL_BlitSurface(g, NULL, c->atlas, &dst);
		SDL_FreeSurface(g);
	}
	return true;
}

bool canvas_init(struct canvas *c, int w, int h, int pt, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (!TTF_WasInit() && TTF_Init() < 0) {
		snprintf(err, errlen, "mmulab: gui: SDL_ttf: %s", TTF_GetError());
		return false;
	}
	TTF_Font *f = open_font(pt, err, errlen);
	if (!f)
		return false;
	bool ok = build_atlas(c, f, err, errlen);
	TTF_CloseFont(f);
	c->s = ok ? SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_XRGB8888) : NULL;
	if (ok && !c->s) {
		snprintf(err, errlen, "mmulab: gui: %s", SDL_GetError());
		ok = false;
	}
	if (!ok)
		canvas_free(c);
	return ok;
}

void canvas_free(struct canvas *c)
{
	if (c->s)
		SDL_FreeSurface(c->s);
	if (c->atlas)
		SDL_FreeSurface(c->atlas);
	free(c->log);
	memset(c, 0, sizeof *c);
}

static void log_text(struct canvas *c, const char *s)
{
	size_t n = strlen(s);
	if (c->log_len + n + 2 > c->log_cap) {
		size_t cap = (c->log_cap ? c->log_cap * 2 : 8192) + n;
		char *p = realloc(c->log, cap);
		if (!p)
			return;
		c->log = p;
		c->log_cap = cap;
	}
	memcpy(c->log + c->log_len, s, n);
	c->log_len += n;
	c->log[c->log_len++] = '\n';
	c->log[c->log_len] = '\0';
}

void canvas_clear(struct canvas *c, uint32_t rgb)
{
	SDL_FillRect(c->s, NULL, rgb);
	c->log_len = 0;
	if (c->log)
		c->log[0] = '\0';
}

void canvas_fill(struct canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
	SDL_Rect r = { x, y, w, h };
	SDL_FillRect(c->s, &r, rgb);
}

void canvas_outline(struct canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
	canvas_fill(c, x, y, w, 1, rgb);
	canvas_fill(c, x, y + h - 1, w, 1, rgb);
	canvas_fill(c, x, y, 1, h, rgb);
	canvas_fill(c, x + w - 1, y, 1, h, rgb);
}

int canvas_text(struct canvas *c, int x, int y, int max_w, uint32_t rgb, const char *s)
{
	int x0 = x;
	log_text(c, s);
	SDL_SetSurfaceColorMod(c->atlas, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb);
	for (; *s; s++) {
		if (max_w > 0 && x + c->cw > x0 + max_w)
			break;
		unsigned ch = (unsigned char)*s;
		if (ch > 32 && ch < 127) {
			SDL_Rect src = { (int)(ch - 32) * c->cw, 0, c->cw, c->ch };
			SDL_Rect dst = { x, y, c->cw, c->ch };
			SDL_BlitSurface(c->atlas, &src, c->s, &dst);
		}
		x += c->cw;
	}
	return x - x0;
}

int canvas_textf(struct canvas *c, int x, int y, int max_w, uint32_t rgb, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return canvas_text(c, x, y, max_w, rgb, buf);
}

uint32_t canvas_pixel(const struct canvas *c, int x, int y)
{
	if (x < 0 || y < 0 || x >= c->s->w || y >= c->s->h)
		return 0;
	const uint8_t *row = (const uint8_t *)c->s->pixels + (size_t)y * (size_t)c->s->pitch;
	uint32_t v;
	memcpy(&v, row + 4 * (size_t)x, 4);
	return v & 0xffffff;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !SDL_strcasecmp(s + n - m, suffix);
}

bool canvas_save(const struct canvas *c, const char *path, char *err, size_t errlen)
{
	if (ends_with(path, ".png")) {
		SDL_LockSurface(c->s);
		bool ok = png_write_xrgb(path, c->s->pixels, c->s->w, c->s->h, c->s->pitch, err, errlen);
		SDL_UnlockSurface(c->s);
		return ok;
	}
	if (SDL_SaveBMP(c->s, path) < 0) {
		snprintf(err, errlen, "mmulab: gui: %s: %s", path, SDL_GetError());
		return false;
	}
	return true;
}
