/* `mnas se-stats` against a computation of its own: the class-specificity
 * of every SE block and each class's mean gates, from the gates `mnas run
 * --save-se` writes image by image, in the two-pass form (between = sum over
 * classes of n_c (m_c - m)^2, within = sum over images of (x - m_c)^2) where
 * the CLI keeps one-pass sums, on 200 images spread over the CIFAR-10 test
 * split (skipped without ../shared) and on a folder of class folders of
 * PNGs made here; and its errors: missing input, options without a value,
 * a model without SE blocks, folders without classes or images. One `mnas
 * run` per image keeps the check on what a user can see; 200 runs take a
 * few seconds. Skips when the CLI cannot be executed (cross builds). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/npy.h"
#include "cli_run.h"
#include "onnx_builder.h"
#include "png_write.h"

#define MAX_BLOCKS 32
#define MAX_IMAGES 200
#define MAX_CLASSES 10
#define CIFAR_BYTES 3073

static char out[1 << 20];

/* The gates of every image, block by block, and its class. */
typedef struct {
    int n, n_blocks, channels[MAX_BLOCKS];
    int cls[MAX_IMAGES];
    float *gates[MAX_BLOCKS];   /* [image][channel] */
} gate_table;

static void table_free(gate_table *t)
{
    for (int b = 0; b < t->n_blocks; b++)
        free(t->gates[b]);
    memset(t, 0, sizeof *t);
}

/* `mnas run MODEL IMAGE --save-se` and the gates it saved, appended to t as
 * an image of class cls. Every run writes every block's file again, and the
 * first run's count of blocks holds for the others. */
static int add_run(check_state *st, gate_table *t, const char *cli, const char *model, const char *image,
                   const char *tmp, int cls)
{
    char dir[2048], path[2200], err[512];
    snprintf(dir, sizeof dir, "%s/run_se", tmp);
    const int rc = cli_run(out, sizeof out, "'%s' run '%s' '%s' --top 1 --save-se '%s'", cli, model, image, dir);
    CHECK(st, rc == 0, "run %s --save-se: exit %d, %.300s", image, rc, out);
    if (rc || t->n >= MAX_IMAGES)
        return -1;
    for (int b = 0; b < MAX_BLOCKS; b++) {
        snprintf(path, sizeof path, "%s/se%02d.npy", dir, b);
        FILE *probe = fopen(path, "rb");
        if (!probe)
            break;
        fclose(probe);
        npy_array a;
        if (npy_read(path, &a, err, sizeof err)) {
            CHECK(st, 0, "%s", err);
            return -1;
        }
        if (t->n == 0) {
            t->n_blocks = b + 1;
            t->channels[b] = (int)a.count;
            t->gates[b] = malloc((size_t)MAX_IMAGES * a.count * sizeof(float));
        }
        const int ok = b < t->n_blocks && t->gates[b] && a.ndim == 2 && a.dims[0] == 1 && (int)a.count == t->channels[b];
        CHECK(st, ok, "%s: shape (%lld, %lld), expected (1, %d)", path, (long long)a.dims[0], (long long)a.dims[1],
              t->channels[b]);
        if (ok)
            memcpy(t->gates[b] + (size_t)t->n * a.count, a.f, a.count * sizeof(float));
        npy_free(&a);
        if (!ok)
            return -1;
    }
    t->cls[t->n++] = cls;
    return 0;
}

/* Class-specificity of block b in two passes over the images; the classes'
 * mean gates (double) in means[class * channels + j]. */
static double two_pass_specificity(const gate_table *t, int b, int n_classes, double *means)
{
    const int ch = t->channels[b];
    long count[MAX_CLASSES] = {0};
    for (int i = 0; i < t->n; i++)
        count[t->cls[i]]++;
    memset(means, 0, (size_t)n_classes * ch * sizeof *means);
    for (int i = 0; i < t->n; i++)
        for (int j = 0; j < ch; j++)
            means[t->cls[i] * ch + j] += t->gates[b][(size_t)i * ch + j];
    double between = 0, within = 0;
    for (int j = 0; j < ch; j++) {
        double grand = 0;
        for (int c = 0; c < n_classes; c++) {
            grand += means[c * ch + j];
            means[c * ch + j] = count[c] ? means[c * ch + j] / (double)count[c] : 0;
        }
        grand /= t->n;
        for (int c = 0; c < n_classes; c++)
            between += (double)count[c] * (means[c * ch + j] - grand) * (means[c * ch + j] - grand);
        for (int i = 0; i < t->n; i++) {
            const double d = t->gates[b][(size_t)i * ch + j] - means[t->cls[i] * ch + j];
            within += d * d;
        }
    }
    return between + within > 0 ? between / (between + within) : 0;
}

/* The blocks of se-stats --json: name, channels, specificity. */
typedef struct {
    int n;
    char name[MAX_BLOCKS][64];
    int channels[MAX_BLOCKS];
    double spec[MAX_BLOCKS];
} json_blocks;

static int parse_blocks(const char *json, json_blocks *jb)
{
    memset(jb, 0, sizeof *jb);
    const char *p = strstr(json, "\"blocks\": [");
    while (p && jb->n < MAX_BLOCKS && (p = strstr(p, "{\"name\": \""))) {
        if (sscanf(p, "{\"name\": \"%63[^\"]\", \"channels\": %d, \"specificity\": %lf", jb->name[jb->n],
                   &jb->channels[jb->n], &jb->spec[jb->n]) != 3)
            return -1;
        jb->n++;
        p++;
    }
    return jb->n ? 0 : -1;
}

/* se-stats' --json and --save against the two-pass numbers from t; the
 * classes, in row order, in want_classes. */
static void compare(check_state *st, const char *what, const char *json, const char *save, const gate_table *t,
                    const char *const *want_classes, int n_classes)
{
    json_blocks jb;
    CHECK(st, parse_blocks(json, &jb) == 0 && jb.n == t->n_blocks, "%s: %d blocks in --json, %d from run: %.300s",
          what, jb.n, t->n_blocks, json);
    char images[64];
    snprintf(images, sizeof images, "\"images\": %d, ", t->n);
    CHECK(st, strstr(json, images) != NULL, "%s: --json does not say %s: %.200s", what, images, json);
    for (int c = 0; c < n_classes; c++) {
        char want[256];
        snprintf(want, sizeof want, "{\"name\": \"%s\", \"images\": ", want_classes[c]);
        CHECK(st, strstr(json, want) != NULL, "%s: class %s missing from --json", what, want_classes[c]);
    }
    char path[2200], err[512];
    snprintf(path, sizeof path, "%s/classes.txt", save);
    FILE *f = fopen(path, "r");
    for (int c = 0; c < n_classes; c++) {
        char line[256] = "";
        const int ok = f && fgets(line, sizeof line, f);
        line[strcspn(line, "\n")] = '\0';
        CHECK(st, ok && strcmp(line, want_classes[c]) == 0, "%s: classes.txt row %d is '%s', expected '%s'", what, c,
              line, want_classes[c]);
    }
    if (f)
        fclose(f);
    double *means = malloc((size_t)MAX_CLASSES * 2048 * sizeof *means);
    for (int b = 0; means && b < jb.n && b < t->n_blocks; b++) {
        if (t->channels[b] > 2048 || jb.channels[b] != t->channels[b]) {
            CHECK(st, 0, "%s: block %s: %d channels, run saved %d", what, jb.name[b], jb.channels[b], t->channels[b]);
            continue;
        }
        const double ref = two_pass_specificity(t, b, n_classes, means);
        CHECK(st, ref > 0 && fabs(jb.spec[b] - ref) <= 1e-9 * ref, "%s: %s specificity %.17g, two-pass %.17g", what,
              jb.name[b], jb.spec[b], ref);
        snprintf(path, sizeof path, "%s/se%02d.npy", save, b);
        npy_array a;
        if (npy_read(path, &a, err, sizeof err)) {
            CHECK(st, 0, "%s: %s", what, err);
            continue;
        }
        const int ch = t->channels[b];
        const int shape_ok = a.ndim == 2 && a.dims[0] == n_classes && a.dims[1] == ch;
        CHECK(st, shape_ok, "%s: %s shape (%lld, %lld), expected (%d, %d)", what, path, (long long)a.dims[0],
              (long long)a.dims[1], n_classes, ch);
        double worst = 0;
        for (size_t i = 0; shape_ok && i < a.count; i++) {
            const double d = fabs((double)a.f[i] - means[i]);
            worst = d > worst ? d : worst;
        }
        CHECK(st, shape_ok && worst <= 1e-6, "%s: %s mean gates off by %g", what, path, worst);
        npy_free(&a);
    }
    free(means);
}

/* 200 images spread over the CIFAR-10 test split: se-stats and one `mnas
 * run` per picked record. */
static void check_cifar(check_state *st, const char *cli, const char *model, const char *tmp)
{
    static const char *const names[MAX_CLASSES] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                   "dog",      "frog",       "horse", "ship", "truck"};
    char bin[1024], save[2048], ppm[2048];
    snprintf(bin, sizeof bin, "%s/data/cifar10_test.bin", check_testdata());
    FILE *f = fopen(bin, "rb");
    if (!f) {
        SKIP(st, "%s not found (set MNAS_TESTDATA): se-stats on CIFAR-10 not checked", bin);
        return;
    }
    fseek(f, 0, SEEK_END);
    const long total = ftell(f) / CIFAR_BYTES;
    snprintf(save, sizeof save, "%s/cifar_means", tmp);
    int rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s' --limit %d --json --save '%s' --threads 2", cli, model,
                     bin, MAX_IMAGES, save);
    CHECK(st, rc == 0, "se-stats --limit %d: exit %d, %.300s", MAX_IMAGES, rc, out);
    char *json = strdup(out);
    gate_table t;
    memset(&t, 0, sizeof t);
    snprintf(ppm, sizeof ppm, "%s/record.ppm", tmp);
    for (int i = 0; json && i < MAX_IMAGES; i++) {
        uint8_t rec[CIFAR_BYTES];
        const long index = (long)((long long)i * total / MAX_IMAGES);
        if (fseek(f, index * CIFAR_BYTES, SEEK_SET) || fread(rec, 1, CIFAR_BYTES, f) != CIFAR_BYTES) {
            CHECK(st, 0, "%s: cannot read record %ld", bin, index);
            break;
        }
        FILE *p = fopen(ppm, "wb");
        if (!p)
            break;
        fprintf(p, "P6\n32 32\n255\n");
        for (int px = 0; px < 1024; px++)
            for (int ch = 0; ch < 3; ch++)
                fputc(rec[1 + ch * 1024 + px], p);
        fclose(p);
        if (add_run(st, &t, cli, model, ppm, tmp, rec[0]))
            break;
    }
    fclose(f);
    if (json && t.n == MAX_IMAGES)
        compare(st, "CIFAR-10", json, save, &t, names, MAX_CLASSES);
    /* every class keeps its share of the class-ordered file */
    for (int c = 0; json && c < MAX_CLASSES; c++) {
        char want[128];
        snprintf(want, sizeof want, "{\"name\": \"%s\", \"images\": %d}", names[c], MAX_IMAGES / MAX_CLASSES);
        CHECK(st, strstr(json, want) != NULL, "se-stats --limit %d: %s missing from %.400s", MAX_IMAGES, want, json);
    }
    /* the text table */
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s' --limit 20", cli, model, bin);
    CHECK(st, rc == 0 && strstr(out, "20 images, 10 classes") && strstr(out, "blocks.5.2.se") &&
                  strstr(out, "class-specificity"),
          "se-stats text output: %.400s", out);
    free(json);
    table_free(&t);
}

/* A w x h picture, its colours set by the class and the image's number. */
static int write_picture(const char *path, int w, int h, int cls, int k)
{
    uint8_t *rgba = malloc((size_t)w * h * 4);
    if (!rgba)
        return -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgba + ((size_t)y * w + x) * 4;
            p[0] = (uint8_t)(cls == 0 ? 40 * k + 4 * x : 20 * k);
            p[1] = (uint8_t)(cls == 1 ? 200 - 30 * k + 3 * y : 60 + 9 * ((x + y) % 7));
            p[2] = (uint8_t)(cls == 2 ? ((x / 4 + y / 4) % 2) * (150 + 30 * k) : 90 + k * x % 50);
            p[3] = 255;
        }
    const int rc = mnas_test_write_rgba_png(path, rgba, w, h);
    free(rgba);
    return rc;
}

/* Three class folders of PNGs of mixed sizes (sorted by name, which is not
 * the order they are made in), with a hidden broken PNG and a text file that
 * se-stats must skip. */
static void check_folder(check_state *st, const char *cli, const char *model, const char *tmp)
{
    static const char *const classes[3] = {"b-red", "a-green", "c-checks"};
    static const char *const sorted[3] = {"a-green", "b-red", "c-checks"};
    static const int sizes[3][2] = {{32, 32}, {40, 24}, {17, 50}};
    char root[2048], path[2400], save[2100];
    snprintf(root, sizeof root, "%s/folder", tmp);
    gate_table t;
    memset(&t, 0, sizeof t);
    /* made class by class in sorted order, so the table's images are in se-stats' order */
    for (int s = 0; s < 3; s++) {
        const int c = s == 0 ? 1 : s == 1 ? 0 : 2;
        snprintf(path, sizeof path, "%s/%s", root, classes[c]);
        cli_run(out, sizeof out, "mkdir -p '%s'", path);
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/%s/img%d.png", root, classes[c], k);
            CHECK(st, write_picture(path, sizes[k][0], sizes[k][1], c, k) == 0, "cannot write %s", path);
        }
    }
    snprintf(path, sizeof path, "%s/a-green/.hidden.png", root);
    FILE *f = fopen(path, "w");
    if (f)
        fputs("not a PNG", f), fclose(f);
    snprintf(path, sizeof path, "%s/b-red/notes.txt", root);
    if ((f = fopen(path, "w")))
        fputs("not an image", f), fclose(f);
    snprintf(save, sizeof save, "%s/folder_means/deeper", tmp);
    int rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s' --json --save '%s'", cli, model, root, save);
    if (strstr(out, "unrecognised image format")) {
        SKIP(st, "this build reads no PNG: %s", out);
        return;
    }
    CHECK(st, rc == 0 && strstr(out, "\"images\": 9, "), "se-stats on class folders: exit %d, %.400s", rc, out);
    char *json = strdup(out);
    for (int s = 0; json && s < 3; s++)
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/%s/img%d.png", root, sorted[s], k);
            if (add_run(st, &t, cli, model, path, tmp, s))
                s = 3, k = 3;
        }
    if (json && t.n == 9)
        compare(st, "class folders", json, save, &t, sorted, 3);
    free(json);
    table_free(&t);

    /* --limit 3 of 9 class-ordered images: img0 of each class, one image a
     * class, so all of every block's variance lies between the classes */
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s' --limit 3 --json", cli, model, root);
    json_blocks jb;
    const int parsed = rc == 0 && parse_blocks(out, &jb) == 0;
    CHECK(st, parsed && strstr(out, "{\"name\": \"a-green\", \"images\": 1}") &&
                  strstr(out, "{\"name\": \"c-checks\", \"images\": 1}"),
          "se-stats --limit 3 on class folders: %.400s", out);
    for (int b = 0; parsed && b < jb.n; b++)
        CHECK(st, jb.spec[b] == 1.0, "--limit 3, one image a class: %s specificity %.17g, expected 1", jb.name[b],
              jb.spec[b]);
}

/* A 3-channel Conv -> GlobalAveragePool -> Flatten -> Gemm model: no SE
 * block. Written to path; 0 on success. */
static int write_model_without_se(check_state *st, const char *path)
{
    onnx_builder *b = NULL;
    if (ob_new(13, &b))
        return -1;
    const int64_t xd[4] = {1, 3, 8, 8}, wd[4] = {4, 3, 3, 3}, gd[2] = {2, 4};
    float w[4 * 3 * 3 * 3];
    for (int i = 0; i < (int)(sizeof w / sizeof w[0]); i++)
        w[i] = (float)((i * 5) % 9 - 4) * 0.125f;
    ob_input(b, "x", xd, 4);
    ob_init_f32(b, "conv.weight", wd, 4, w, 0);
    ob_init_f32(b, "fc.weight", gd, 2, w, 0);
    const char *c_in[] = {"x", "conv.weight"}, *c_out[] = {"c"};
    ob_node(b, "Conv", "conv", c_in, 2, c_out, 1, NULL);
    const char *g_in[] = {"c"}, *g_out[] = {"g"};
    ob_node(b, "GlobalAveragePool", "pool", g_in, 1, g_out, 1, NULL);
    const char *f_in[] = {"g"}, *f_out[] = {"f"};
    ob_node(b, "Flatten", "flatten", f_in, 1, f_out, 1, NULL);
    int node = 0;
    const char *m_in[] = {"f", "fc.weight"}, *m_out[] = {"y"};
    ob_node(b, "Gemm", "fc", m_in, 2, m_out, 1, &node);
    ob_attr_int(b, node, "transB", 1);
    ob_output(b, "y", NULL, -1);
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = ob_finish(b, &bytes, &len) ? -1 : 0;
    CHECK(st, rc == 0, "build a model without SE: %s", ob_error(b));
    FILE *f = rc ? NULL : fopen(path, "wb");
    if (f) {
        rc = fwrite(bytes, 1, len, f) == len ? 0 : -1;
        rc |= fclose(f);
    }
    free(bytes);
    ob_free(b);
    return f ? rc : -1;
}

static void check_errors(check_state *st, const char *cli, const char *model, const char *tmp)
{
    char path[2048], empty[2048];
    int rc = cli_run(out, sizeof out, "'%s' se-stats '%s' /nonexistent.bin", cli, model);
    CHECK(st, rc == 1 && strcmp(out, "mnas: cannot open /nonexistent.bin: No such file or directory\n") == 0,
          "missing input: exit %d, %s", rc, out);
    rc = cli_run(out, sizeof out, "'%s' se-stats /nonexistent.onnx /nonexistent.bin --limit", cli);
    CHECK(st, rc == 2 && strstr(out, "mnas: --limit needs a value (a whole number 1..100000000)\n"),
          "--limit without a value: exit %d, %s", rc, out);
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' x.bin --limit 0", cli, model);
    CHECK(st, rc == 2 && strstr(out, "mnas: --limit takes a whole number 1..100000000, got '0'\n"),
          "--limit 0: exit %d, %s", rc, out);
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' x.bin --save", cli, model);
    CHECK(st, rc == 2 && strstr(out, "mnas: --save needs a value (a directory)\n"), "--save without a value: %s", out);
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s'", cli, model);
    CHECK(st, rc == 2 && strstr(out, "se-stats takes 2 arguments besides options, got 1"), "one argument: %s", out);

    /* not CIFAR-10 records: 100 bytes */
    snprintf(path, sizeof path, "%s/short.bin", tmp);
    FILE *f = fopen(path, "wb");
    for (int i = 0; f && i < 100; i++)
        fputc(i, f);
    if (f)
        fclose(f);
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s'", cli, model, path);
    CHECK(st, rc == 1 && strstr(out, "short.bin: 100 bytes is not a whole number of 3073-byte CIFAR-10 records"),
          "a 100-byte file: exit %d, %s", rc, out);

    /* --save under a file */
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s' --save '%s/sub'", cli, model, path, path);
    CHECK(st, rc == 1 && strstr(out, "cannot create directory") && strstr(out, "short.bin"),
          "--save under a file: exit %d, %s", rc, out);

    /* a model without SE blocks, refused before any image runs */
    snprintf(path, sizeof path, "%s/no_se.onnx", tmp);
    if (write_model_without_se(st, path) == 0) {
        char bin[2100];
        snprintf(bin, sizeof bin, "%s/one.bin", tmp);
        f = fopen(bin, "wb");
        for (int i = 0; f && i < CIFAR_BYTES; i++)
            fputc(i == 0 ? 3 : i % 251, f);
        if (f)
            fclose(f);
        rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s'", cli, path, bin);
        CHECK(st, rc == 1 && strstr(out, "no_se.onnx: the model has no squeeze-and-excitation blocks"),
              "a model without SE: exit %d, %s", rc, out);
    }

    /* a folder without class folders; a class folder without images */
    snprintf(empty, sizeof empty, "%s/no_classes", tmp);
    cli_run(out, sizeof out, "mkdir -p '%s' && touch '%s/x.png'", empty, empty);
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s'", cli, model, empty);
    CHECK(st, rc == 1 && strstr(out, "no_classes: no class folders"), "no class folders: exit %d, %s", rc, out);
    cli_run(out, sizeof out, "mkdir -p '%s/cats' '%s/dogs' && touch '%s/dogs/readme.txt'", empty, empty, empty);
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s'", cli, model, empty);
    CHECK(st, rc == 1 && strstr(out, "no_classes/cats: no images"), "a class folder without images: exit %d, %s", rc,
          out);
    /* an image that does not decode is named */
    cli_run(out, sizeof out, "rm -rf '%s/cats' && echo junk > '%s/dogs/bad.png'", empty, empty);
    rc = cli_run(out, sizeof out, "'%s' se-stats '%s' '%s'", cli, model, empty);
    CHECK(st, rc == 1 && strstr(out, "dogs/bad.png"), "an image that does not decode: exit %d, %s", rc, out);
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *cli = cli_under_test(&st, "test_cli_se_stats");
    if (!cli)
        return check_summary(&st, "test_cli_se_stats");
    const char *src = getenv("MNAS_SOURCE_DIR"), *bdir = getenv("MNAS_BUILD_DIR");
    src = src && *src ? src : ".";
    bdir = bdir && *bdir ? bdir : ".";
    char model[1024], tmp[1024];
    snprintf(model, sizeof model, "%s/models/mnasnet_a1_cifar10.onnx", src);
    snprintf(tmp, sizeof tmp, "%s/test_cli_se_stats_tmp", bdir);
    cli_run(out, sizeof out, "rm -rf '%s' && mkdir -p '%s'", tmp, tmp);

    check_errors(&st, cli, model, tmp);
    check_folder(&st, cli, model, tmp);
    check_cifar(&st, cli, model, tmp);

    cli_run(out, sizeof out, "rm -rf '%s'", tmp);
    return check_summary(&st, "test_cli_se_stats");
}
