/* The visualizer's drawing surface: an SDL software surface with filled
 * rectangles and monospaced text from a glyph atlas built once with
 * SDL2_ttf. Every string drawn in a frame is kept in a log, so tests
 * can check what the panels showed. Screenshots are BMP, or PNG when the
 * file name ends in ".png". */
#ifndef UI_CANVAS_H
#define UI_CANVAS_H

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CANVAS_GLYPHS 95 /* ASCII 32..126 */

struct canvas {
	SDL_Surface *s;        /* XRGB8888 */
	SDL_Surface *atlas;    /* white glyphs, ARGB8888, one cell each */
	int cw, ch;            /* character cell */
	char *log;             /* strings drawn this frame, one per line */
	size_t log_len, log_cap;
};

/* A monospaced TrueType font at pt points: $MMULAB_FONT, else DejaVu Sans
 * Mono where Debian's fonts-dejavu-core (and other distributions) put it. */
bool canvas_init(struct canvas *c, int w, int h, int pt, char *err, size_t errlen);
void canvas_free(struct canvas *c);
/* Start a frame: clear to rgb and empty the text log. */
void canvas_clear(struct canvas *c, uint32_t rgb);
void canvas_fill(struct canvas *c, int x, int y, int w, int h, uint32_t rgb);
void canvas_outline(struct canvas *c, int x, int y, int w, int h, uint32_t rgb);
/* Draw text at (x, y), clipped to max_w pixels (<= 0: no limit); returns
 * the width drawn. */
int canvas_text(struct canvas *c, int x, int y, int max_w, uint32_t rgb, const char *s);
int canvas_textf(struct canvas *c, int x, int y, int max_w, uint32_t rgb, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Write the surface: PNG if path ends in ".png", else BMP. */
bool canvas_save(const struct canvas *c, const char *path, char *err, size_t errlen);
uint32_t canvas_pixel(const struct canvas *c, int x, int y); /* 0xRRGGBB */

#endif
