/* A small PNG writer (zlib-compressed, 8-bit RGB, no filtering) for the
 * visualizer's screenshots (PNG specification, ISO/IEC 15948). */
#ifndef UI_PNG_H
#define UI_PNG_H

#include <stdbool.h>
#include <stddef.h>

/* pixels: rows of 32-bit 0x00RRGGBB words, pitch bytes apart. */
bool png_write_xrgb(const char *path, const void *pixels, int w, int h, int pitch, char *err,
		    size_t errlen);

#endif
