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

const char cmd_run_usage[] =
    "usage: mnas run MODEL INPUT [options]\n"
    "\n"
    "Classify INPUT and print the top classes. INPUT is an image file (binary PPM;\n"
    "PNG and JPEG when this build reads them; PNG alpha is ignored, the colour\n"
    "channels are used as stored, as the SDK does) or a float32 .npy of N rows in\n"
    "the model's input layout: NCHW, or NHWC for a model that declares a\n"
    "channels-last input (mnas info shows which).\n"
    "\n"
    "options:\n"
    "  --top K                    how many classes to print, 1..100000 (5)\n"
    "  --se                       print each SE block's gates (min/mean/max)\n"
    "  --save-logits FILE.npy     write the model's output, shape (N, classes): logits,\n"
    "                             or probabilities for a model ending in a Softmax\n"
    "  --save-se DIR              write DIR/se00.npy, se01.npy, ... shape (N, C); DIR\n"
    "                             is created (with its parents) before the run\n"
    "\n" CLI_MODEL_OPTIONS_HELP;

static int run_option(void *args, int argc, char **argv, int *i)
{
    run_args *a = args;
    const char *o = argv[*i];
    long v;
    if (strcmp(o, "--top") == 0) {
        if (cli_option_int(argc, argv, i, 1, 100000, &v))
            return -1;
        a->top = (int)v;
    } else if (strcmp(o, "--se") == 0) {
        a->se = 1;
    } else if (strcmp(o, "--save-logits") == 0) {
        if (!(a->save_logits = cli_option_value(argc, argv, i, "a .npy file to write")))
            return -1;
    } else if (strcmp(o, "--save-se") == 0) {
        if (!(a->save_se = cli_option_value(argc, argv, i, "a directory")))
            return -1;
    } else {
        return 0;
    }
    return 1;
}

static const cli_command run_command = {"run", 2, 1, run_option};

/* Where results go is checked before the model runs, so a run never prints
 * results and then fails to save them. */
static int check_outputs(const run_args *a)
{
    if (a->save_logits && cli_check_output(a->save_logits))
        return -1;
    return a->save_se ? cli_make_dirs(a->save_se) : 0;
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

/* The input: one image, or the rows of a .npy file. */
typedef struct {
    npy_array t;
    image_rgb img;
    int rows;
    int channels_last; /* .npy rows are NHWC, as the model declares */
} run_input;

/* Read before the model loads, so a bad input fails fast. */
static int read_input(const char *input, run_input *in)
{
    char err[512];
    in->rows = 1;
    if (!ends_with(input, ".npy"))
        return image_read(input, &in->img, err, sizeof err) ? cli_error("%s", err) : 0;
    return npy_read(input, &in->t, err, sizeof err) ? cli_error("%s", err) : 0;
}

static int check_rows(const char *input, mnas_model *m, run_input *in)
{
    if (!in->t.f && !in->t.u8)
        return 0;
    int h, w, ch;
    mnas_input_shape(m, &h, &w, &ch);
    mnas_stats s;
    mnas_get_stats(m, &s);
    const int nhwc = in->channels_last = s.input_channels_last;
    /* rows in the layout the model declares */
    const int64_t want[3] = {nhwc ? h : ch, nhwc ? w : h, nhwc ? ch : w};
    const npy_array *t = &in->t;
    if (t->is_u8 || t->ndim != 4 || t->dims[1] != want[0] || t->dims[2] != want[1] || t->dims[3] != want[2] ||
        t->dims[0] < 1)
        return cli_error("%s: expected a float32 array of shape (N, %d, %d, %d) (%s, as the model's input)", input,
                         (int)want[0], (int)want[1], (int)want[2], nhwc ? "NHWC" : "NCHW");
    in->rows = (int)t->dims[0];
    return 0;
}

static int run_rows(const run_args *a, mnas_model *m, const run_input *in, run_outputs *o)
{
    int h, w, ch;
    mnas_input_shape(m, &h, &w, &ch);
    const size_t per_row = (size_t)h * w * ch;
    if (a->c.json) {
        printf("{\"model\": ");
        cli_json_string(stdout, a->c.model);
        printf(", \"results\": [");
    }
    for (int r = 0; r < in->rows; r++) {
        const float *row = in->t.f ? in->t.f + (size_t)r * per_row : NULL;
        const mnas_status st = !row ? mnas_run_image(m, in->img.rgb, in->img.width, in->img.height, 0, MNAS_RGB)
                               : in->channels_last ? mnas_run(m, row, per_row)
                                                   : mnas_run_nchw(m, row, per_row);
        if (st)
            return cli_error("%s: %s", a->c.positional[1], mnas_error(m));
        print_row(a, m, r, in->rows);
        if ((a->save_logits || a->save_se) && collect(o, m, r, in->rows))
            return cli_error("out of memory");
    }
    if (a->c.json)
        printf("]}\n");
    return 0;
}

int cmd_run(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    a.top = 5;
    const int parsed = cli_parse(&run_command, argc, argv, &a, &a.c);
    if (parsed != CLI_PARSED)
        return cli_parse_exit(parsed, cmd_run_usage);
    if (check_outputs(&a))
        return 1;
    run_input in;
    memset(&in, 0, sizeof in);
    mnas_model *m = NULL;
    int rc = read_input(a.c.positional[1], &in);
    if (!rc && !(m = cli_load(&a.c)))
        rc = 1;
    if (!rc)
        rc = check_rows(a.c.positional[1], m, &in);
    run_outputs o = {NULL, NULL};
    if (!rc)
        rc = run_rows(&a, m, &in, &o);
    if (!rc && (a.save_logits || a.save_se))
        rc = save(&a, &o, m, in.rows);
    if (o.se)
        for (int i = 0; o.se[i]; i++)
            free(o.se[i]);
    free(o.se);
    free(o.logits);
    npy_free(&in.t);
    image_free(&in.img);
    mnas_free(m);
    return rc;
}
