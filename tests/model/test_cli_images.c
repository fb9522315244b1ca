/* Image files in the `mnas` CLI: a PNG with 50% alpha classifies exactly as
 * its RGB channels do (alpha dropped, as the SDK's decoder does, so CLI and
 * SDK agree), and JPEGs libjpeg cannot decode fail with the file named and
 * what is wrong (CMYK; libjpeg's own message), under valgrind when it is
 * installed so the error paths leak nothing. The files are made here. Skips
 * when the CLI cannot be executed or reads no PNG/JPEG. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cli/npy.h"
#include "cli_run.h"
#include "png_write.h"

#define SIDE 32

static char out[1 << 16];

static int write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fwrite(bytes, 1, n, f);
    return fclose(f);
}

/* A 50%-alpha PNG and a PPM of the same RGB give the same logits, bit for
 * bit; the PNG decodes under valgrind (a missing model ends the command
 * right after the decode, before any kernel runs). Leaves the valgrind
 * prefix for the JPEG checks in *vg. */
static void check_png_alpha(check_state *st, const char *cli, const char *model, const char *tmp, const char **vg_out)
{
    static uint8_t rgba[SIDE * SIDE * 4], ppm[32 + SIDE * SIDE * 3];
    const int hdr = snprintf((char *)ppm, 32, "P6\n%d %d\n255\n", SIDE, SIDE);
    for (int i = 0; i < SIDE * SIDE; i++) {
        const int x = i % SIDE, y = i / SIDE;
        const uint8_t rgb[3] = {(uint8_t)(8 * x), (uint8_t)(8 * y), (uint8_t)(255 - 4 * (x + y))};
        memcpy(rgba + 4 * i, rgb, 3);
        rgba[4 * i + 3] = 128;
        memcpy(ppm + hdr + 3 * i, rgb, 3);
    }
    char png[2048], pnm[2048];
    snprintf(png, sizeof png, "%s/half-alpha.png", tmp);
    snprintf(pnm, sizeof pnm, "%s/half-alpha.ppm", tmp);
    CHECK(st, mnas_test_write_rgba_png(png, rgba, SIDE, SIDE) == 0 && write_bytes(pnm, ppm, (size_t)hdr + sizeof rgba / 4 * 3) == 0,
          "cannot write %s", png);
    char probe[4096];
    snprintf(probe, sizeof probe, "run /nonexistent.onnx '%s'", pnm);
    const char *vg = *vg_out = cli_valgrind(st, cli, probe, 1, "the PNG and JPEG decoders");
    int rc = cli_run(out, sizeof out, "%s'%s' run /nonexistent.onnx '%s'", vg, cli, png);
    if (strstr(out, "unrecognised image format")) {
        SKIP(st, "this build reads no PNG: %s", out);
        return;
    }
    CHECK(st, rc == 1 && strcmp(out, "mnas: cannot open /nonexistent.onnx: No such file or directory\n") == 0,
          "decoding a 50%%-alpha PNG%s: exit %d, %s", *vg ? " under valgrind" : "", rc, out);
    rc = cli_run(out, sizeof out, "'%s' run '%s' '%s' --top 1 --save-logits '%s/png.npy'", cli, model, png, tmp);
    CHECK(st, rc == 0 && strstr(out, " 1. "), "run on a 50%%-alpha PNG: exit %d, %s", rc, out);
    char top_png[256] = "";
    sscanf(out, " 1. %255[^\n]", top_png);
    rc = cli_run(out, sizeof out, "'%s' run '%s' '%s' --top 1 --save-logits '%s/ppm.npy'", cli, model, pnm, tmp);
    char top_ppm[256] = "";
    sscanf(out, " 1. %255[^\n]", top_ppm);
    CHECK(st, rc == 0 && top_png[0] && strcmp(top_png, top_ppm) == 0, "top class: PNG '%s', its RGB '%s'", top_png,
          top_ppm);
    npy_array a, b;
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/png.npy", tmp);
    const int a_ok = npy_read(path, &a, err, sizeof err) == 0;
    snprintf(path, sizeof path, "%s/ppm.npy", tmp);
    const int b_ok = npy_read(path, &b, err, sizeof err) == 0;
    CHECK(st, a_ok && b_ok && a.count == 10 && b.count == 10 && memcmp(a.f, b.f, 10 * sizeof(float)) == 0,
          "logits of the 50%%-alpha PNG differ from those of its RGB channels (%s)", err);
    if (a_ok)
        npy_free(&a);
    if (b_ok)
        npy_free(&b);
}

/* A baseline JPEG header: 8x8, `components` components (4 with no Adobe
 * marker: CMYK), quantization table 0 defined or not, then one scan of zero
 * bytes. Returns its length. */
static size_t jpeg_header(uint8_t *j, int components, int with_quant)
{
    size_t n = 0;
    j[n++] = 0xFF, j[n++] = 0xD8;
    if (with_quant) {
        j[n++] = 0xFF, j[n++] = 0xDB, j[n++] = 0, j[n++] = 67, j[n++] = 0;
        for (int i = 0; i < 64; i++)
            j[n++] = 1;
    }
    j[n++] = 0xFF, j[n++] = 0xC0, j[n++] = 0, j[n++] = (uint8_t)(8 + 3 * components), j[n++] = 8;
    j[n++] = 0, j[n++] = 8, j[n++] = 0, j[n++] = 8, j[n++] = (uint8_t)components;
    for (int c = 0; c < components; c++)
        j[n++] = (uint8_t)(c + 1), j[n++] = 0x11, j[n++] = 0;
    j[n++] = 0xFF, j[n++] = 0xDA, j[n++] = 0, j[n++] = (uint8_t)(6 + 2 * components), j[n++] = (uint8_t)components;
    for (int c = 0; c < components; c++)
        j[n++] = (uint8_t)(c + 1), j[n++] = 0;
    j[n++] = 0, j[n++] = 63, j[n++] = 0;
    for (int i = 0; i < 16; i++)
        j[n++] = 0;
    j[n++] = 0xFF, j[n++] = 0xD9;
    return n;
}

/* JPEGs that do not decode: the error names the file and says why. */
static void check_bad_jpegs(check_state *st, const char *cli, const char *model, const char *tmp, const char *vg)
{
    static const struct {
        const char *name;
        int components, with_quant;
        size_t keep; /* bytes of the header kept; 0: all */
        const char *why;
    } cases[] = {
        {"cmyk.jpg", 4, 1, 0, "CMYK JPEG is not supported; convert to RGB"},
        {"no-quant.jpg", 3, 0, 0, "Quantization table 0x00 was not defined"},
        {"soi-only.jpg", 3, 1, 2, "JPEG datastream contains no image"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t j[512];
        size_t n = jpeg_header(j, cases[i].components, cases[i].with_quant);
        n = cases[i].keep ? cases[i].keep : n;
        char path[2048], want[4096];
        snprintf(path, sizeof path, "%s/%s", tmp, cases[i].name);
        write_bytes(path, j, n);
        /* the image is read before the model loads: no kernel runs under valgrind */
        const int rc = cli_run(out, sizeof out, "%s'%s' run '%s' '%s'", vg, cli, model, path);
        if (strstr(out, "unrecognised image format")) {
            SKIP(st, "this build reads no JPEG: %s", out);
            return;
        }
        snprintf(want, sizeof want, "mnas: %s: %s\n", path, cases[i].why);
        const size_t wl = strlen(want), ol = strlen(out);
        CHECK(st, rc == 1 && ol >= wl && strcmp(out + ol - wl, want) == 0, "%s: exit %d, '%s', want '%s'",
              cases[i].name, rc, out, want);
    }
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *cli = cli_under_test(&st, "test_cli_images");
    if (!cli)
        return check_summary(&st, "test_cli_images");
    const char *src = getenv("MNAS_SOURCE_DIR"), *bdir = getenv("MNAS_BUILD_DIR");
    src = src && *src ? src : ".";
    bdir = bdir && *bdir ? bdir : ".";
    char model[1024], tmp[1024];
    snprintf(model, sizeof model, "%s/models/mnasnet_a1_cifar10.onnx", src);
    snprintf(tmp, sizeof tmp, "%s/test_cli_images_tmp", bdir);
    cli_run(out, sizeof out, "rm -rf '%s' && mkdir -p '%s'", tmp, tmp);

    const char *vg = "";
    check_png_alpha(&st, cli, model, tmp, &vg);
    check_bad_jpegs(&st, cli, model, tmp, vg);

    cli_run(out, sizeof out, "rm -rf '%s'", tmp);
    return check_summary(&st, "test_cli_images");
}
