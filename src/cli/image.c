/* Decoding image files for mnas run (see image.h): PPM always, PNG and
 * JPEG through the system libraries when the build found them. Decoder
 * errors come back by longjmp and end as a message naming the file. */
#include "image.h"

#include <errno.h>
#include <setjmp.h>
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
/* libpng's state, the error message's destination and the row table. */
typedef struct {
    png_structp png;
    png_infop info;
    png_bytep *rows;
    const char *path;
    char *err;
    size_t cap;
} png_reader;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_reader *r = png_get_error_ptr(png);
    snprintf(r->err, r->cap, "%s: %s", r->path, msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    png_reader *r = png_get_error_ptr(png);
    fprintf(stderr, "mnas: %s: warning: %s\n", r->path, msg);
}

/* 8-bit RGB with the colour channels as stored, as the SDK's decoder
 * (js/src/png.js) gives: palette looked up, grey replicated, 16-bit samples
 * rounded to 8 bits, alpha and tRNS dropped, no gamma applied. */
static void png_to_rgb_as_stored(png_structp png)
{
    png_set_scale_16(png);
    png_set_palette_to_rgb(png);
    png_set_expand_gray_1_2_4_to_8(png);
    png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
}

/* libpng reports errors by longjmp to here; nothing this function keeps in
 * its own locals is used after the jump. */
static int png_decode(png_reader *r, FILE *f, image_rgb *img)
{
    if (setjmp(png_jmpbuf(r->png)))
        return -1;
    png_init_io(r->png, f);
    png_read_info(r->png, r->info);
    const png_uint_32 w = png_get_image_width(r->png, r->info), h = png_get_image_height(r->png, r->info);
    if (w < 1 || h < 1 || w > MNAS_MAX_IMAGE_SIDE || h > MNAS_MAX_IMAGE_SIDE)
        return failf(r->err, r->cap, r->path, "PNG sides must be 1.." MNAS_STR(MNAS_MAX_IMAGE_SIDE));
    png_to_rgb_as_stored(r->png);
    png_read_update_info(r->png, r->info);
    if (png_get_rowbytes(r->png, r->info) != (size_t)w * 3)
        return failf(r->err, r->cap, r->path, "PNG does not convert to 8-bit RGB");
    img->rgb = malloc((size_t)w * h * 3);
    r->rows = malloc(h * sizeof *r->rows);
    if (!img->rgb || !r->rows)
        return failf(r->err, r->cap, r->path, "out of memory");
    for (png_uint_32 y = 0; y < h; y++)
        r->rows[y] = img->rgb + (size_t)y * w * 3;
    png_read_image(r->png, r->rows);
    png_read_end(r->png, NULL);
    img->width = (int)w;
    img->height = (int)h;
    return 0;
}

static int read_png(FILE *f, const char *path, image_rgb *img, char *err, size_t cap)
{
    png_reader r = {NULL, NULL, NULL, path, err, cap};
    r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_on_error, png_on_warning);
    r.info = r.png ? png_create_info_struct(r.png) : NULL;
    const int rc = r.info ? png_decode(&r, f, img) : failf(err, cap, path, "out of memory");
    png_destroy_read_struct(&r.png, &r.info, NULL);
    free(r.rows);
    if (rc)
        image_free(img);
    return rc;
}
#endif

#ifdef MNAS_HAVE_JPEG
/* libjpeg's error manager with the jump back and where the message goes. */
typedef struct {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    const char *path;
    char *err;
    size_t cap;
} jpeg_failure;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_failure *e = (jpeg_failure *)cinfo->err;
    char msg[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, msg);
    snprintf(e->err, e->cap, "%s: %s", e->path, msg);
    longjmp(e->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo)
{
    const jpeg_failure *e = (const jpeg_failure *)cinfo->err;
    char msg[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, msg);
    fprintf(stderr, "mnas: %s: warning: %s\n", e->path, msg);
}

/* libjpeg reports errors by longjmp to here; nothing this function keeps in
 * its own locals is used after the jump. */
static int jpeg_decode(struct jpeg_decompress_struct *cinfo, jpeg_failure *e, FILE *f, image_rgb *img)
{
    if (setjmp(e->jump))
        return -1;
    jpeg_create_decompress(cinfo);
    jpeg_stdio_src(cinfo, f);
    jpeg_read_header(cinfo, TRUE);
    if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK)
        return failf(e->err, e->cap, e->path, "CMYK JPEG is not supported; convert to RGB");
    cinfo->out_color_space = JCS_RGB;
    jpeg_start_decompress(cinfo);
    const int w = (int)cinfo->output_width, h = (int)cinfo->output_height;
    if (w < 1 || h < 1 || w > MNAS_MAX_IMAGE_SIDE || h > MNAS_MAX_IMAGE_SIDE || cinfo->output_components != 3)
        return failf(e->err, e->cap, e->path, "JPEG must be RGB with sides 1.." MNAS_STR(MNAS_MAX_IMAGE_SIDE));
    if (!(img->rgb = malloc((size_t)w * h * 3)))
        return failf(e->err, e->cap, e->path, "out of memory");
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = img->rgb + (size_t)cinfo->output_scanline * w * 3;
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_decompress(cinfo);
    img->width = w;
    img->height = h;
    return 0;
}

static int read_jpeg(FILE *f, const char *path, image_rgb *img, char *err, size_t cap)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_failure e;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jpeg_on_error;
    e.mgr.output_message = jpeg_on_message;
    e.path = path;
    e.err = err;
    e.cap = cap;
    const int rc = jpeg_decode(&cinfo, &e, f, img);
    jpeg_destroy_decompress(&cinfo);
    if (rc)
        image_free(img);
    return rc;
}
#endif

int image_read(const char *path, image_rgb *img, char *err, size_t cap)
{
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
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
