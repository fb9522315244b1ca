/* mnas run: classify an image or a batch of rows from a .npy file (NCHW,
 * or NHWC for a model that declares a channels-last input), print the top
 * classes and save logits and SE gates for comparison with PyTorch's. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"
#include "npy.h"

typedef struct {
    cli_common c;
    int top, se;
    const char *save_logits, *save_se;
} run_args;

static int parse(int argc, char **argv, run_args *a)
{
    a->top = 5;
    for (int i = 1; i < argc; i++) {
        long v;
        if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 1, 100000, &v))
                return cli_error("--top takes a positive count, got '%s'", argv[i]), -1;
            a->top = (int)v;
        } else if (strcmp(argv[i], "--se") == 0) {
            a->se = 1;
        } else if (strcmp(argv[i], "--save-logits") == 0 && i + 1 < argc) {
            a->save_logits = argv[++i];
        } else if (strcmp(argv[i], "--save-se") == 0 && i + 1 < argc) {
            a->save_se = argv[++i];
        } else {
            const int r = cli_common_option(&a->c, argc, argv, &i);
            if (r < 0)
                return -1;
            if (r == 0)
                return cli_error("run: unknown option '%s'", argv[i]), -1;
        }
    }
    if (a->c.n_positional != 2)
        return cli_error("usage: mnas run MODEL INPUT [--top K] [--se] [--save-logits F.npy] [--save-se DIR] [--threads N] [--json]"),
               -1;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void print_row(const run_args *a, mnas_model *m, int row, int rows)
{
    int idx[16];
    float prob[16];
    int k = a->top < 16 ? a->top : 16, got = 0;
    mnas_topk(m, k, idx, prob, &got);
    if (a->c.json) {
        printf("%s{\"row\": %d, \"top\": [", row ? ",\n " : "", row);
        for (int i = 0; i < got; i++) {
            printf("%s{\"index\": %d, \"label\": ", i ? ", " : "", idx[i]);
            cli_json_string(stdout, mnas_label(m, idx[i]));
            printf(", \"probability\": %.6g}", prob[i]);
        }
        printf("], \"se\": [");
        for (int i = 0; a->se && i < mnas_se_count(m); i++) {
            mnas_se_block b;
            mnas_get_se(m, i, &b);
            printf("%s{\"name\": ", i ? ", " : "");
            cli_json_string(stdout, b.name);
            printf(", \"channels\": %d, \"values\": [", b.channels);
            for (int j = 0; j < b.channels; j++)
                printf("%s%.7g", j ? ", " : "", b.values[j]);
            printf("]}");
        }
        printf("]}");
        return;
    }
    if (rows > 1)
        printf("row %d\n", row);
    for (int i = 0; i < got; i++)
        printf("  %2d. %-20s %6.2f%%  (class %d)\n", i + 1, mnas_label(m, idx[i]), 100.0 * prob[i], idx[i]);
    for (int i = 0; a->se && i < mnas_se_count(m); i++) {
        mnas_se_block b;
        mnas_get_se(m, i, &b);
        float lo = b.values[0], hi = b.values[0];
        double sum = 0;
        for (int j = 0; j < b.channels; j++) {
            lo = b.values[j] < lo ? b.values[j] : lo;
            hi = b.values[j] > hi ? b.values[j] : hi;
            sum += b.values[j];
        }
        printf("  SE %-22s %4d ch  min %.4f  mean %.4f  max %.4f\n", b.name, b.channels, lo, sum / b.channels, hi);
    }
}

/* Per-row outputs collected for --save-logits / --save-se. */
typedef struct {
    float *logits;
    float **se;
} run_outputs;

static int collect(run_outputs *o, mnas_model *m, int row, int rows)
{
    int n;
    const float *z = mnas_logits(m, &n);
    const int nse = mnas_se_count(m);
    if (!o->logits) {
        o->logits = malloc((size_t)rows * n * sizeof(float));
        o->se = calloc((size_t)nse + 1, sizeof(float *));
        if (!o->logits || !o->se)
            return -1;
        for (int i = 0; i < nse; i++) {
            mnas_se_block b;
            mnas_get_se(m, i, &b);
            if (!(o->se[i] = malloc((size_t)rows * b.channels * sizeof(float))))
                return -1;
        }
    }
    memcpy(o->logits + (size_t)row * n, z, (size_t)n * sizeof(float));
    for (int i = 0; i < nse; i++) {
        mnas_se_block b;
        mnas_get_se(m, i, &b);
        memcpy(o->se[i] + (size_t)row * b.channels, b.values, (size_t)b.channels * sizeof(float));
    }
    return 0;
}

static int save(const run_args *a, const run_outputs *o, mnas_model *m, int rows)
{
    char err[512];
    if (a->save_logits) {
        const int64_t dims[2] = {rows, mnas_num_classes(m)};
        if (npy_write_f32(a->save_logits, o->logits, 2, dims, err, sizeof err))
            return cli_error("%s", err);
    }
    for (int i = 0; a->save_se && i < mnas_se_count(m); i++) {
        mnas_se_block b;
        mnas_get_se(m, i, &b);
        char path[4096];
        snprintf(path, sizeof path, "%s/se%02d.npy", a->save_se, i);
        const int64_t dims[2] = {rows, b.channels};
        if (npy_write_f32(path, o->se[i], 2, dims, err, sizeof err))
            return cli_error("%s", err);
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    if (parse(argc, argv, &a))
        return 2;
    mnas_model *m = cli_load(&a.c);
    if (!m)
        return 1;
    const char *input = a.c.positional[1];
    int rc = 0, rows = 1;
    char err[512];
    run_outputs o = {NULL, NULL};
    npy_array t;
    memset(&t, 0, sizeof t);
    image_rgb img;
    memset(&img, 0, sizeof img);
    int h, w, ch;
    mnas_input_shape(m, &h, &w, &ch);
    mnas_stats stats;
    mnas_get_stats(m, &stats);
    const int nhwc = stats.input_channels_last;
    const size_t per_row = (size_t)h * w * ch;
    if (ends_with(input, ".npy")) {
        if (npy_read(input, &t, err, sizeof err)) {
            rc = cli_error("%s", err);
            goto out;
        }
        /* rows in the layout the model declares */
        const int64_t want[3] = {nhwc ? h : ch, nhwc ? w : h, nhwc ? ch : w};
        if (t.is_u8 || t.ndim != 4 || t.dims[1] != want[0] || t.dims[2] != want[1] || t.dims[3] != want[2] ||
            t.dims[0] < 1) {
            rc = cli_error("%s: expected a float32 array of shape (N, %d, %d, %d) (%s, as the model's input)", input,
                           (int)want[0], (int)want[1], (int)want[2], nhwc ? "NHWC" : "NCHW");
            goto out;
        }
        rows = (int)t.dims[0];
    } else if (image_read(input, &img, err, sizeof err)) {
        rc = cli_error("%s", err);
        goto out;
    }
    if (a.c.json)
    {
        printf("{\"model\": ");
        cli_json_string(stdout, a.c.model);
        printf(", \"results\": [");
    }
    for (int r = 0; r < rows; r++) {
        const mnas_status st = t.f ? (nhwc ? mnas_run : mnas_run_nchw)(m, t.f + (size_t)r * per_row, per_row)
                                   : mnas_run_image(m, img.rgb, img.width, img.height, 0, MNAS_RGB);
        if (st) {
            rc = cli_error("%s: %s", input, mnas_error(m));
            goto out;
        }
        print_row(&a, m, r, rows);
        if ((a.save_logits || a.save_se) && collect(&o, m, r, rows)) {
            rc = cli_error("out of memory");
            goto out;
        }
    }
    if (a.c.json)
        printf("]}\n");
    if (a.save_logits || a.save_se)
        rc = save(&a, &o, m, rows);
out:
    if (o.se)
        for (int i = 0; i < mnas_se_count(m); i++)
            free(o.se[i]);
    free(o.se);
    free(o.logits);
    npy_free(&t);
    image_free(&img);
    mnas_free(m);
    return rc;
}
