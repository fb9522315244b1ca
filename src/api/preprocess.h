/* Image preprocessing in C: centre square crop, optional area downscale to
 * a source size, bilinear resize (half-pixel centres, PyTorch
 * align_corners=False), mean/std normalization, NHWC float out. */
#ifndef MNAS_PREPROCESS_H
#define MNAS_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int out_h, out_w;
    float mean[3], std[3];
    int source_size;      /* 0: resize straight from the crop */
    float *source;        /* source_size^2 * 3 floats when source_size > 0 */
    int *x0;              /* out_w entries each: scratch planned at load */
    float *xf;
} prep_ctx;

/* pixels: rows of `stride` bytes, `bpp` 3 (RGB) or 4 (RGBA). */
void mnas_preprocess_image(const prep_ctx *c, const uint8_t *pixels, int width, int height, int stride, int bpp,
                      float *out);

#endif
