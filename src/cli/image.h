/* Image files for `mnas run`: binary PPM always; PNG and JPEG when the
 * build found libpng / libjpeg. Decoded to packed 8-bit RGB. */
#ifndef MNAS_IMAGE_H
#define MNAS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int width, height;
    uint8_t *rgb;
} image_rgb;

int image_read(const char *path, image_rgb *out, char *err, size_t err_cap);
void image_free(image_rgb *img);
/* Which formats this build reads, e.g. "ppm png jpeg". */
const char *image_formats(void);

#endif
