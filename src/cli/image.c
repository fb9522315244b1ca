/* Decoding image files for mnas run (see image.h): PPM always, PNG and
 * JPEG through the system libraries when the build found them. */
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MNAS_HAVE_PNG
#include <png.h>
#endif
#ifdef MNAS_HAVE_JPEG
#include <jpeglib.h>
#endif

#include "mnas.h"

/* the limit inside message literals */
#define STR_(x) #x
#define MNAS_STR(x) STR_(x)

static int failf(char *err, size_t cap, const char *path, const char *what)
{
    snprintf(err, cap, "%s: %s", path, what);
    return -1;
}

static int ppm_int(FILE *f, int *v)
{
    int c;
    do {
        c = fgetc(f);
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
    } while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    if (c < '0' || c > '9')
        return -1;
    long n = 0;
    while (c >= '0' && c <= '9') {
        n = n * 10 + (c - '0');
        if (n > 1 << 20)
            return -1;
        c = fgetc(f);
    }
    *v = (int)n;
    return 0;
}

static int read_ppm(FILE *f, const char *path, image_rgb *img, char *err, size_t cap)
{
    int w, h, maxv;
    if (ppm_int(f, &w) || ppm_int(f, &h) || ppm_int(f, &maxv) || w < 1 || h < 1 || w > MNAS_MAX_IMAGE_SIDE || h > MNAS_MAX_IMAGE_SIDE ||
        maxv != 255)
        return failf(err, cap, path, "unsupported PPM header (need P6, 8-bit, sides 1.." MNAS_STR(MNAS_MAX_IMAGE_SIDE) ")");
    const size_t n = (size_t)w * h * 3;
    if (!(img->rgb = malloc(n)))
        return failf(err, cap, path, "out of memory");
    if (fread(img->rgb, 1, n, f) != n) {
        image_free(img);
        return failf(err, cap, path, "PPM pixel data is truncated");
    }
    img->width = w;
    img->height = h;
    return 0;
}

#ifdef MNAS_HAVE_PNG
static int read_png(FILE *f, const char *path, image_rgb *img, char *err, size_t cap)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&pi, f))
        return failf(err, cap, path, pi.message);
    if (pi.width < 1 || pi.height < 1 || pi.width > MNAS_MAX_IMAGE_SIDE || pi.height > MNAS_MAX_IMAGE_SIDE) {
        png_image_free(&pi);
        return failf(err, cap, path, "PNG sides must be 1.." MNAS_STR(MNAS_MAX_IMAGE_SIDE));
    }
    pi.format = PNG_FORMAT_RGB;
    const size_t n = PNG_IMAGE_SIZE(pi);
    if (!(img->rgb = malloc(n))) {
        png_image_free(&pi);
        return failf(err, cap, path, "out of memory");
    }
    if (!png_image_finish_read(&pi, NULL, img->rgb, 0, NULL)) {
        image_free(img);
        return failf(err, cap, path, pi.message);
    }
    img->width = (int)pi.width;
    img->height = (int)pi.height;
    return 0;
}
#endif

#ifdef MNAS_HAVE_JPEG
static int read_jpeg(FILE *f, const char *path, image_rgb *img, char *err, size_t cap)
{
    /* libjpeg's default error handler exits; decode only what it validated */
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        jpeg_destroy_decompress(&cinfo);
        return failf(err, cap, path, "not a readable JPEG");
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    if (w < 1 || h < 1 || w > MNAS_MAX_IMAGE_SIDE || h > MNAS_MAX_IMAGE_SIDE || cinfo.output_components != 3) {
        jpeg_destroy_decompress(&cinfo);
        return failf(err, cap, path, "JPEG must be RGB with sides 1.." MNAS_STR(MNAS_MAX_IMAGE_SIDE));
    }
    if (!(img->rgb = malloc((size_t)w * h * 3))) {
        jpeg_destroy_decompress(&cinfo);
        return failf(err, cap, path, "out of memory");
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = img->rgb + (size_t)cinfo.output_scanline * w * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    img->width = w;
    img->height = h;
    return 0;
}
#endif

int image_read(const char *path, image_rgb *img, char *err, size_t cap)
{
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f)
        return failf(err, cap, path, "cannot open");
    unsigned char magic[4] = {0, 0, 0, 0};
    const size_t got = fread(magic, 1, 4, f);
    int rc;
    if (got >= 2 && magic[0] == 'P' && magic[1] == '6') {
        fseek(f, 2, SEEK_SET);
        rc = read_ppm(f, path, img, err, cap);
    }
#ifdef MNAS_HAVE_PNG
    else if (got == 4 && magic[0] == 0x89 && magic[1] == 'P' && magic[2] == 'N' && magic[3] == 'G') {
        rewind(f);
        rc = read_png(f, path, img, err, cap);
    }
#endif
#ifdef MNAS_HAVE_JPEG
    else if (got >= 2 && magic[0] == 0xFF && magic[1] == 0xD8) {
        rewind(f);
        rc = read_jpeg(f, path, img, err, cap);
    }
#endif
    else {
        char what[96];
        snprintf(what, sizeof what, "unrecognised image format (this build reads: %s)", image_formats());
        rc = failf(err, cap, path, what);
    }
    fclose(f);
    return rc;
}

void image_free(image_rgb *img)
{
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

const char *image_formats(void)
{
#if defined(MNAS_HAVE_PNG) && defined(MNAS_HAVE_JPEG)
    return "ppm png jpeg";
#elif defined(MNAS_HAVE_PNG)
    return "ppm png";
#elif defined(MNAS_HAVE_JPEG)
    return "ppm jpeg";
#else
    return "ppm";
#endif
}
