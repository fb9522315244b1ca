/* Camera frames and images become the model's input here, in C, so the
 * browser, the CLI and native callers preprocess identically: crop,
 * optional area downscale, bilinear resize, normalize (see preprocess.h). */
#include "api/preprocess.h"

#include <math.h>

/* Exact box filter: each output pixel averages the source rectangle it
 * covers, with fractional weights on the edges, so camera frames shrink
 * to the training resolution without aliasing. */
static void area_downscale(const uint8_t *px, int stride, int bpp, int x0, int y0, int side, int s, float *dst)
{
    const double scale = (double)side / s;
    for (int oy = 0; oy < s; oy++) {
        const double fy0 = oy * scale, fy1 = (oy + 1) * scale;
        int iy0 = (int)floor(fy0), iy1 = (int)ceil(fy1);
        if (iy1 > side)
            iy1 = side;
        for (int ox = 0; ox < s; ox++) {
            const double fx0 = ox * scale, fx1 = (ox + 1) * scale;
            int ix0 = (int)floor(fx0), ix1 = (int)ceil(fx1);
            if (ix1 > side)
                ix1 = side;
            double acc[3] = {0, 0, 0}, wsum = 0;
            for (int iy = iy0; iy < iy1; iy++) {
                const double wy = fmin(iy + 1, fy1) - fmax(iy, fy0);
                const uint8_t *row = px + (size_t)(y0 + iy) * stride + (size_t)x0 * bpp;
                for (int ix = ix0; ix < ix1; ix++) {
                    const double w = wy * (fmin(ix + 1, fx1) - fmax(ix, fx0));
                    const uint8_t *q = row + (size_t)ix * bpp;
                    acc[0] += w * q[0];
                    acc[1] += w * q[1];
                    acc[2] += w * q[2];
                    wsum += w;
                }
            }
            float *o = dst + ((size_t)oy * s + ox) * 3;
            for (int ch = 0; ch < 3; ch++)
                o[ch] = wsum > 0 ? (float)(acc[ch] / wsum) : 0.0f;
        }
    }
}

/* Source coordinate for output index o: half-pixel centres, clamped to [0, n-1]. */
static void bilinear_tap(int o, int n_in, int n_out, int *i0, float *frac)
{
    float src = ((float)o + 0.5f) * ((float)n_in / (float)n_out) - 0.5f;
    if (src < 0.0f)
        src = 0.0f;
    if (src > (float)(n_in - 1))
        src = (float)(n_in - 1);
    int i = (int)src;
    if (i > n_in - 1)
        i = n_in - 1;
    *i0 = i;
    *frac = src - (float)i;
}

void mnas_preprocess_image(const prep_ctx *c, const uint8_t *pixels, int width, int height, int stride, int bpp,
                      float *out)
{
    const int side = width < height ? width : height;
    const int cx = (width - side) / 2, cy = (height - side) / 2;
    float scale[3], shift[3];
    for (int ch = 0; ch < 3; ch++) {
        scale[ch] = 1.0f / (255.0f * c->std[ch]);
        shift[ch] = -c->mean[ch] / c->std[ch];
    }
    /* With a source size the image is first boxed down to floats; either
     * way the bilinear pass reads `n` x `n` samples of 3 channels. */
    const int n = c->source_size > 0 ? c->source_size : side;
    if (c->source_size > 0)
        area_downscale(pixels, stride, bpp, cx, cy, side, c->source_size, c->source);
    for (int ox = 0; ox < c->out_w; ox++)
        bilinear_tap(ox, n, c->out_w, &c->x0[ox], &c->xf[ox]);
    for (int oy = 0; oy < c->out_h; oy++) {
        int y0;
        float fy;
        bilinear_tap(oy, n, c->out_h, &y0, &fy);
        const int y1 = y0 + 1 < n ? y0 + 1 : y0;
        float *o = out + (size_t)oy * c->out_w * 3;
        for (int ox = 0; ox < c->out_w; ox++) {
            const int x0 = c->x0[ox], x1 = x0 + 1 < n ? x0 + 1 : x0;
            const float fx = c->xf[ox];
            for (int ch = 0; ch < 3; ch++) {
                float a, b, d, e;
                if (c->source_size > 0) {
                    const float *s = c->source;
                    a = s[((size_t)y0 * n + x0) * 3 + ch];
                    b = s[((size_t)y0 * n + x1) * 3 + ch];
                    d = s[((size_t)y1 * n + x0) * 3 + ch];
                    e = s[((size_t)y1 * n + x1) * 3 + ch];
                } else {
                    const uint8_t *r0 = pixels + (size_t)(cy + y0) * stride + (size_t)cx * bpp;
                    const uint8_t *r1 = pixels + (size_t)(cy + y1) * stride + (size_t)cx * bpp;
                    a = r0[(size_t)x0 * bpp + ch];
                    b = r0[(size_t)x1 * bpp + ch];
                    d = r1[(size_t)x0 * bpp + ch];
                    e = r1[(size_t)x1 * bpp + ch];
                }
                const float top = a + (b - a) * fx, bot = d + (e - d) * fx;
                o[(size_t)ox * 3 + ch] = (top + (bot - top) * fy) * scale[ch] + shift[ch];
            }
        }
    }
}
