/* Native soak: 200 mnas_run_image calls on the default model with frames
 * from 1x1 to 1920x1080, RGBA and RGB, packed and padded strides, in a
 * scrambled order. Every frame must give bit-identical logits each time it
 * comes back, on a second model instance too, and an RGB frame must give
 * the same logits as the same pixels in RGBA with arbitrary alpha. The
 * sanitizer build runs all 200 runs as well (ASan + UBSan + LSan). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mnas.h"

#define RUNS 200

typedef struct {
    int w, h, pad;
    mnas_pixel_format fmt;
} frame;

static const frame frames[] = {
    {1, 1, 0, MNAS_RGBA},      {1, 1, 5, MNAS_RGB},        {2, 3, 0, MNAS_RGB},      {31, 17, 3, MNAS_RGBA},
    {32, 32, 0, MNAS_RGB},     {33, 32, 1, MNAS_RGBA},     {640, 480, 0, MNAS_RGBA}, {480, 640, 64, MNAS_RGB},
    {1280, 720, 0, MNAS_RGB},  {1920, 1080, 0, MNAS_RGBA}, {1920, 1080, 7, MNAS_RGB}, {1, 1080, 0, MNAS_RGBA},
    {1920, 1, 2, MNAS_RGB},    {300, 299, 11, MNAS_RGBA},
};
#define NF ((int)(sizeof frames / sizeof frames[0]))

/* A smooth gradient plus noise, different per frame. */
static uint8_t *make_pixels(const frame *f, int idx, int *stride)
{
    const int bpp = f->fmt == MNAS_RGBA ? 4 : 3;
    *stride = f->w * bpp + f->pad;
    const size_t len = (size_t)*stride * f->h;
    uint8_t *p = malloc(len);
    uint32_t s = 2166136261u ^ (uint32_t)idx;
    for (int y = 0; y < f->h; y++)
        for (int x = 0; x < *stride; x++) {
            s = s * 1664525u + 1013904223u;
            const int grad = (x * 255 / (*stride > 1 ? *stride - 1 : 1) + y * 255 / (f->h > 1 ? f->h - 1 : 1)) / 2;
            p[(size_t)y * *stride + x] = (uint8_t)((grad + (int)(s >> 28) + idx * 37) & 255);
        }
    return p;
}

static int same(const float *a, const float *b, int n)
{
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *src = getenv("MNAS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/models/mnasnet_a1_cifar10.onnx", src && *src ? src : ".");
    mnas_model *m = NULL, *m2 = NULL;
    mnas_create(&m);
    mnas_create(&m2);
    mnas_status s = mnas_load_file(m, path, NULL);
    CHECK(&st, s == MNAS_OK, "load %s: %s", path, mnas_error(m));
    s = s ? s : mnas_load_file(m2, path, NULL);
    if (s) {
        mnas_free(m);
        mnas_free(m2);
        return check_summary(&st, "test_soak");
    }
    const int classes = mnas_num_classes(m);
    uint8_t *px[NF];
    int stride[NF];
    float *ref = malloc((size_t)NF * classes * sizeof *ref);
    for (int i = 0; i < NF; i++) {
        px[i] = make_pixels(&frames[i], i, &stride[i]);
        /* packed frames also go through stride 0 */
        const int pass_stride = frames[i].pad == 0 && (i & 1) ? 0 : stride[i];
        s = mnas_run_image(m, px[i], frames[i].w, frames[i].h, pass_stride, frames[i].fmt);
        CHECK(&st, s == MNAS_OK, "frame %dx%d: %s", frames[i].w, frames[i].h, mnas_error(m));
        int n = 0;
        const float *z = mnas_logits(m, &n);
        CHECK(&st, z && n == classes, "frame %d: no logits", i);
        if (!z)
            return check_summary(&st, "test_soak");
        int finite = 1;
        for (int k = 0; k < n; k++)
            finite &= isfinite(z[k]) != 0;
        CHECK(&st, finite, "frame %dx%d: logits not finite", frames[i].w, frames[i].h);
        memcpy(ref + (size_t)i * classes, z, (size_t)classes * sizeof *z);
    }

    /* the soak: a scrambled walk over the frames, two model instances; reduced
     * runs (sanitizers, qemu) walk the frames up to 640x480 only, having
     * checked the large ones once above */
    const char *level = getenv("MNAS_TEST_LEVEL");
    const long max_pixels = level && strcmp(level, "reduced") == 0 ? 640L * 480 : 1L << 40;
    int walk[NF], n_walk = 0;
    for (int i = 0; i < NF; i++)
        if ((long)frames[i].w * frames[i].h <= max_pixels)
            walk[n_walk++] = i;
    int mismatches = 0;
    uint32_t r = 12345;
    for (int run = 0; run < RUNS; run++) {
        r = r * 1664525u + 1013904223u;
        const int i = walk[(r >> 8) % (uint32_t)n_walk];
        mnas_model *mm = run % 3 == 2 ? m2 : m;
        s = mnas_run_image(mm, px[i], frames[i].w, frames[i].h, stride[i], frames[i].fmt);
        int n = 0;
        const float *z = s ? NULL : mnas_logits(mm, &n);
        if (s || !z || n != classes || !same(z, ref + (size_t)i * classes, classes)) {
            mismatches++;
            fprintf(stderr, "run %d frame %dx%d fmt %d: %s\n", run, frames[i].w, frames[i].h, (int)frames[i].fmt,
                    s ? mnas_error(mm) : "logits differ");
        }
    }
    CHECK(&st, mismatches == 0, "%d of %d soak runs differ from the first run", mismatches, RUNS);
    printf("soak: %d runs over %d frame sizes, %d mismatches\n", RUNS, NF, mismatches);

    /* RGB pixels and the same pixels as RGBA with noise in alpha agree */
    for (int i = 0; i < NF; i++) {
        if (frames[i].fmt != MNAS_RGB)
            continue;
        const frame *f = &frames[i];
        uint8_t *rgba = malloc((size_t)f->w * f->h * 4);
        for (int y = 0; y < f->h; y++)
            for (int x = 0; x < f->w; x++) {
                memcpy(rgba + ((size_t)y * f->w + x) * 4, px[i] + (size_t)y * stride[i] + (size_t)x * 3, 3);
                rgba[((size_t)y * f->w + x) * 4 + 3] = (uint8_t)(x * 7 + y);
            }
        s = mnas_run_image(m, rgba, f->w, f->h, 0, MNAS_RGBA);
        int n = 0;
        const float *z = s ? NULL : mnas_logits(m, &n);
        CHECK(&st, z && same(z, ref + (size_t)i * classes, classes), "frame %dx%d: RGBA copy of RGB differs", f->w,
              f->h);
        free(rgba);
    }

    for (int i = 0; i < NF; i++)
        free(px[i]);
    free(ref);
    mnas_free(m);
    mnas_free(m2);
    return check_summary(&st, "test_soak");
}
