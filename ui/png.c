/* PNG writer (ui/png.h): signature, IHDR, one IDAT, IEND; each chunk is
 * length, type, data and the CRC-32 of type and data. */
#include "ui/png.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PNG_COLOR_RGB 2
#define PNG_DEPTH 8
#define PNG_FILTER_NONE 0

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t hdr[8], crc[4];
	put32(hdr, len);
	memcpy(hdr + 4, type, 4);
	uLong c = crc32(0, hdr + 4, 4);
	c = crc32(c, data, len);
	put32(crc, (uint32_t)c);
	return fwrite(hdr, 1, 8, f) == 8 && fwrite(data, 1, len, f) == len && fwrite(crc, 1, 4, f) == 4;
}

/* Rows of a filter byte and RGB triples. */
static uint8_t *raw_rows(const void *pixels, int w, int h, int pitch, size_t *len)
{
	size_t row = 1 + 3 * (size_t)w;
	uint8_t *raw = malloc(row * (size_t)h);
	if (!raw)
		return NULL;
	for (int y = 0; y < h; y++) {
		const uint8_t *src = (const uint8_t *)pixels + (size_t)y * (size_t)pitch;
		uint8_t *d = raw + row * (size_t)y;
		*d++ = PNG_FILTER_NONE;
		for (int x = 0; x < w; x++) {
			uint32_t v;
			memcpy(&v, src + 4 * (size_t)x, 4);
			*d++ = (uint8_t)(v >> 16);
			*d++ = (uint8_t)(v >> 8);
			*d++ = (uint8_t)v;
		}
	}
	*len = row * (size_t)h;
	return raw;
}

bool png_write_xrgb(const char *path, const void *pixels, int w, int h, int pitch, char *err,
		    size_t errlen)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t rawlen = 0;
	uint8_t *raw = raw_rows(pixels, w, h, pitch, &rawlen);
	uLongf zlen = compressBound((uLong)rawlen);
	uint8_t *z = malloc(zlen);
	bool ok = raw && z && compress2(z, &zlen, raw, (uLong)rawlen, Z_BEST_COMPRESSION) == Z_OK;
	FILE *f = ok ? fopen(path, "wb") : NULL;
	if (f) {
		uint8_t ihdr[13] = { 0 };
		put32(ihdr, (uint32_t)w);
		put32(ihdr + 4, (uint32_t)h);
		ihdr[8] = PNG_DEPTH;
		ihdr[9] = PNG_COLOR_RGB;
		ok = fwrite(sig, 1, 8, f) == 8 && chunk(f, "IHDR", ihdr, 13) &&
		     chunk(f, "IDAT", z, (uint32_t)zlen) && chunk(f, "IEND", sig, 0);
		ok = (fclose(f) == 0) && ok;
	}
	if (!ok || !f)
		snprintf(err, errlen, "mmulab: gui: cannot write %s", path);
	free(raw);
	free(z);
	return ok && f;
}
