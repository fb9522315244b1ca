/* Test support: PNG files written without libpng, so tests can hand the
 * CLI PNG images of their own making whatever the build links. */
#ifndef MNAS_TEST_PNG_WRITE_H
#define MNAS_TEST_PNG_WRITE_H

#include <stdint.h>

/* An 8-bit RGBA PNG (colour type 6) of width x height pixels, rgba packed
 * row by row; its zlib stream stored blocks, no compression. 0, or -1 when
 * the file cannot be written. */
int mnas_test_write_rgba_png(const char *path, const uint8_t *rgba, int width, int height);

#endif
