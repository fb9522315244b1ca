/* libFuzzer target: a fixed small valid model (seeds.c, seed 0: stem conv,
 * BN, depthwise, SE, residual, Gemm on 3x16x16) run on inputs derived from
 * the fuzz bytes:
 *   mode 0/1  mnas_run_image with a consistent size, stride and format; the
 *             pixel buffer is exactly as large as the image needs (the last
 *             row without its padding), filled by tiling the fuzz bytes;
 *             mode 1 uses a model loaded with source_size (area downscale)
 *   mode 2    mnas_run_image argument validation: small, possibly
 *             inconsistent width/height/stride/format that the harness
 *             predicts; rejected calls get a 1-byte buffer
 *   mode 3/4  mnas_run / mnas_run_nchw on arbitrary floats (NaN, inf),
 *             sometimes with a wrong count
 * Image runs must give finite logits; every failure must carry a message. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnas.h"
#include "seeds.h"

#define MAX_PIXEL_BYTES ((size_t)256 << 10) /* keeps exec/s up; sides still reach 16384 */
#define MAX_SIDE 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mnas_model *plain, *downscale;

static mnas_model *load_seed(int source_size)
{
    fuzz_seed s;
    if (fuzz_seed_build(0, &s)) {
        fprintf(stderr, "fuzz_run: cannot build the seed model\n");
        abort();
    }
    mnas_model *m = NULL;
    mnas_options opt;
    memset(&opt, 0, sizeof opt);
    opt.source_size = source_size;
    if (mnas_create(&m) || mnas_load(m, s.bytes, s.len, &opt)) {
        fprintf(stderr, "fuzz_run: seed model does not load: %s\n", m ? mnas_error(m) : "");
        abort();
    }
    free(s.bytes);
    return m;
}

/* Released at exit so LeakSanitizer sees a clean heap. */
static void release(void)
{
    mnas_free(plain);
    mnas_free(downscale);
    plain = downscale = NULL;
}

typedef struct {
    const uint8_t *p;
    size_t n, pos;
} reader;

static uint32_t take(reader *r, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | (r->pos < r->n ? r->p[r->pos++] : 0);
    return v;
}

/* Fills dst by tiling the rest of the input (zeros when nothing is left). */
static void tile(uint8_t *dst, size_t len, const reader *r)
{
    const uint8_t *src = r->p + r->pos;
    const size_t n = r->n - r->pos;
    if (!n) {
        memset(dst, 0, len);
        return;
    }
    for (size_t i = 0; i < len; i += n)
        memcpy(dst + i, src, len - i < n ? len - i : n);
}

static void check_logits(mnas_model *m, int finite)
{
    int count = 0;
    const float *z = mnas_logits(m, &count);
    if (!z || count != 10)
        abort();
    for (int i = 0; finite && i < count; i++)
        if (!isfinite(z[i]))
            abort();
    int idx[3], written = 0;
    float prob[3];
    if (mnas_topk(m, 3, idx, prob, &written) || written != 3)
        abort();
    for (int i = 0; i < 3; i++)
        if (idx[i] < 0 || idx[i] >= 10)
            abort();
}

static void run_image(reader *r, mnas_model *m)
{
    const mnas_pixel_format fmt = take(r, 1) & 1 ? MNAS_RGB : MNAS_RGBA;
    const int bpp = fmt == MNAS_RGBA ? 4 : 3;
    /* sides 1..16384, biased small by cubing a 16-bit fraction */
    const uint64_t a = take(r, 2), b = take(r, 2), one = 65535;
    int w = 1 + (int)(a * a / one * a * (MAX_SIDE - 1) / (one * one));
    int h = 1 + (int)(b * b / one * b * (MAX_SIDE - 1) / (one * one));
    const int pad = (int)(take(r, 1) % 67);
    const int packed = pad == 0 && (take(r, 1) & 1);
    int stride = w * bpp + pad;
    /* keep the buffer bounded: shrink the height first, then the width */
    while ((size_t)(h - 1) * stride + (size_t)w * bpp > MAX_PIXEL_BYTES) {
        if (h > 1) {
            h = h / 2 > 1 ? h / 2 : 1;
        } else {
            w /= 2;
            stride = w * bpp + pad;
        }
    }
    const size_t len = (size_t)(h - 1) * stride + (size_t)w * bpp;
    uint8_t *px = malloc(len);
    if (!px)
        return;
    tile(px, len, r);
    const mnas_status st = mnas_run_image(m, px, w, h, packed ? 0 : stride, fmt);
    if (st) {
        fprintf(stderr, "run_image %dx%d stride %d fmt %d: %s\n", w, h, stride, (int)fmt, mnas_error(m));
        abort();
    }
    check_logits(m, 1);
    free(px);
}

static void run_args(reader *r, mnas_model *m)
{
    const int w = (int)(int16_t)take(r, 2), h = (int)(int16_t)take(r, 2);
    const int stride = (int)(int8_t)take(r, 1) * (int)(take(r, 1) % 4 + 1);
    const int fmt = (int)(int8_t)take(r, 1) % 4;
    const int null_px = (take(r, 1) & 7) == 0;
    const int bpp = fmt == MNAS_RGBA ? 4 : 3;
    mnas_status want = MNAS_OK;
    if (fmt != MNAS_RGBA && fmt != MNAS_RGB)
        want = MNAS_E_ARG;
    else if (null_px || w < 1 || h < 1 || (stride != 0 && stride < w * bpp))
        want = MNAS_E_INPUT;
    else if (w > MAX_SIDE || h > MAX_SIDE)
        want = MNAS_E_LIMIT;
    if (want == MNAS_OK) {
        /* consistent after all: run it on an exact buffer (small: w, h < 2^15) */
        const int s = stride ? stride : w * bpp;
        const size_t len = (size_t)(h - 1) * s + (size_t)w * bpp;
        if (len > MAX_PIXEL_BYTES)
            return;
        uint8_t *px = malloc(len);
        tile(px, len, r);
        if (mnas_run_image(m, px, w, h, stride, (mnas_pixel_format)fmt))
            abort();
        check_logits(m, 1);
        free(px);
        return;
    }
    uint8_t *one = malloc(1);
    one[0] = 0;
    const mnas_status st = mnas_run_image(m, null_px ? NULL : one, w, h, stride, (mnas_pixel_format)fmt);
    /* the harness and the API may order the checks differently: any rejection of
     * a call that is wrong in several ways is fine, but it must be a rejection */
    if (st == MNAS_OK || !mnas_error(m)[0]) {
        fprintf(stderr, "run_image(%d, %d, stride %d, fmt %d, %s) = %d, expected %d\n", w, h, stride, fmt,
                null_px ? "NULL" : "1 byte", (int)st, (int)want);
        abort();
    }
    if (st != want && !(want == MNAS_E_INPUT && st == MNAS_E_LIMIT)) {
        fprintf(stderr, "run_image(%d, %d, stride %d, fmt %d, %s) = %d (%s), expected %d\n", w, h, stride, fmt,
                null_px ? "NULL" : "1 byte", (int)st, mnas_error(m), (int)want);
        abort();
    }
    free(one);
}

static void run_floats(reader *r, mnas_model *m, int nchw)
{
    int h = 0, w = 0, c = 0;
    mnas_input_shape(m, &h, &w, &c);
    const size_t n = (size_t)h * w * c;
    const uint32_t how = take(r, 1);
    size_t count = n;
    if ((how & 15) == 0)
        count = n - 1 - (how >> 4);      /* short */
    else if ((how & 15) == 1)
        count = n + 1 + (how >> 4);      /* long */
    float *x = malloc((count ? count : 1) * sizeof *x);
    tile((uint8_t *)x, (count ? count : 1) * sizeof *x, r);
    const int in_place = !nchw && (how & 15) == 2;
    if (in_place)
        memcpy(mnas_input_buffer(m), x, n * sizeof *x);
    const mnas_status st = nchw ? mnas_run_nchw(m, x, count)
                                : mnas_run(m, in_place ? mnas_input_buffer(m) : x, count);
    if (count != n) {
        if (st != MNAS_E_INPUT || !mnas_error(m)[0])
            abort();
    } else {
        if (st)
            abort();
        check_logits(m, 0);
    }
    /* the input buffer itself is not a valid NCHW source */
    if (nchw && (how & 15) == 3 && mnas_run_nchw(m, mnas_input_buffer(m), n) != MNAS_E_INPUT)
        abort();
    free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!plain) {
        plain = load_seed(0);
        downscale = load_seed(24);
        atexit(release);
    }
    reader r = {data, size, 0};
    switch (take(&r, 1) % 5) {
    case 0: run_image(&r, plain); break;
    case 1: run_image(&r, downscale); break;
    case 2: run_args(&r, plain); break;
    case 3: run_floats(&r, plain, 0); break;
    default: run_floats(&r, plain, 1); break;
    }
    return 0;
}
