/* Writes the fuzz seed corpora: make_seeds OUTDIR creates OUTDIR/onnx,
 * OUTDIR/pb (the seed models of tests/fuzz/seeds.c and header mutants)
 * and OUTDIR/run (one input per fuzz_run.c mode). Run by tools/fuzz/run.sh
 * into the build directory; nothing here is committed. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "seeds.h"

static int mkdir_p(const char *d)
{
    return mkdir(d, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTDIR\n");
        return 2;
    }
    char onnx[4096], pb[4096], run[4096];
    snprintf(onnx, sizeof onnx, "%s/onnx", argv[1]);
    snprintf(pb, sizeof pb, "%s/pb", argv[1]);
    snprintf(run, sizeof run, "%s/run", argv[1]);
    if (mkdir_p(argv[1]) || mkdir_p(onnx) || mkdir_p(pb) || mkdir_p(run)) {
        fprintf(stderr, "cannot create the corpus directories under %s\n", argv[1]);
        return 1;
    }
    int rc = 0, n = 0;
    for (int i = 0; i < fuzz_seed_count() + fuzz_mutant_count(); i++) {
        fuzz_seed s;
        const int is_seed = i < fuzz_seed_count();
        if (is_seed ? fuzz_seed_build(i, &s) : fuzz_mutant_build(i - fuzz_seed_count(), &s)) {
            rc = 1;
            continue;
        }
        char name[128];
        snprintf(name, sizeof name, "%s_%s.onnx", is_seed ? "seed" : "mutant", s.name);
        if (write_file(onnx, name, s.bytes, s.len) || write_file(pb, name, s.bytes, s.len))
            rc = 1;
        free(s.bytes);
        n++;
    }
    /* fuzz_run.c: first byte selects the mode (see the comment there) */
    static const struct {
        const char *name;
        uint8_t b[16];
        size_t n;
    } runs[] = {
        {"image_rgba_64x48", {0, 0, 0x40, 0x00, 0x38, 0x00, 0, 1, 10, 200, 30, 255}, 12},
        {"image_rgb_stride", {0, 1, 0x90, 0x00, 0x20, 0x00, 13, 0, 1, 2, 3, 4, 5}, 13},
        {"image_wide_1px", {0, 0, 0xff, 0xff, 0x00, 0x00, 0, 0, 128}, 9},
        {"image_tall_1px", {0, 1, 0x00, 0x00, 0xff, 0xff, 5, 0, 7}, 9},
        {"downscale_rgba", {1, 0, 0x80, 0x00, 0x60, 0x00, 3, 0, 9, 99}, 10},
        {"downscale_1x1", {1, 1, 0, 0, 0, 0, 0, 1, 255}, 9},
        {"args_ok", {2, 0x00, 0x10, 0x00, 0x08, 0, 1, 0, 1, 42}, 10},
        {"args_zero_width", {2, 0x00, 0x00, 0x00, 0x08, 0, 1, 0, 1}, 9},
        {"args_neg_stride", {2, 0x00, 0x04, 0x00, 0x04, 0xf0, 1, 1, 1}, 9},
        {"args_bad_format", {2, 0x00, 0x04, 0x00, 0x04, 0, 1, 2, 1}, 9},
        {"args_huge_side", {2, 0x50, 0x00, 0x00, 0x01, 0, 1, 0, 1}, 9},
        {"args_null", {2, 0x00, 0x04, 0x00, 0x04, 0, 1, 0, 0}, 9},
        {"floats_nhwc", {3, 4, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x7f}, 10},
        {"floats_short", {3, 0x30, 1, 2, 3, 4}, 6},
        {"floats_inplace", {3, 2, 0x00, 0x00, 0x80, 0xff}, 6},
        {"floats_nchw", {4, 5, 0x00, 0x00, 0x20, 0x41}, 6},
        {"floats_nchw_self", {4, 3, 0x00, 0x00, 0x20, 0x41}, 6},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        if (write_file(run, runs[i].name, runs[i].b, runs[i].n))
            rc = 1;
        n++;
    }
    printf("make_seeds: %d files under %s\n", n, argv[1]);
    return rc;
}
