/* mnas eval-cifar: accuracy of a model on the CIFAR-10 test split in
 * its own binary layout, preprocessed in C as the SDK would, overall and
 * per class. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"

/* CIFAR-10 binary layout: 1 label byte, then 1024 R, 1024 G, 1024 B bytes. */
#define CIFAR_SIDE 32
#define CIFAR_RECORD (1 + 3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_CLASSES 10

const char cmd_eval_cifar_usage[] =
    "usage: mnas eval-cifar MODEL CIFAR_BIN [options]\n"
    "\n"
    "Top-1 accuracy of a 10-class model on a CIFAR-10 binary file (test_batch.bin\n"
    "layout: a label byte, then 1024 R, G and B bytes per record), overall and per\n"
    "class.\n"
    "\n"
    "options:\n"
    "  --limit N                  evaluate N records, 1..100000000, spread evenly over\n"
    "                             the file (record i * total / N), so a class-ordered\n"
    "                             file still gives every class its share\n"
    "  --save-pred FILE.npy       write the predicted classes (uint8, in evaluation order)\n"
    "\n" CLI_MODEL_OPTIONS_HELP;

typedef struct {
    long limit;
    const char *save_pred;
} eval_args;

static int eval_option(void *args, int argc, char **argv, int *i)
{
    eval_args *a = args;
    if (strcmp(argv[*i], "--limit") == 0)
        return cli_option_int(argc, argv, i, 1, 100000000, &a->limit) ? -1 : 1;
    if (strcmp(argv[*i], "--save-pred") == 0)
        return (a->save_pred = cli_option_value(argc, argv, i, "a .npy file to write")) ? 1 : -1;
    return 0;
}

static const cli_command eval_command = {"eval-cifar", 2, 1, eval_option};

/* What the evaluation counted. */
typedef struct {
    long n, total;              /* evaluated, records in the file */
    long seen[CIFAR_CLASSES], correct[CIFAR_CLASSES];
    uint8_t *pred;
    double ms;
} eval_result;

/* The file's record count: 0, or 1 after the message. */
static int open_records(const char *bin, FILE **f, long *total)
{
    if (!(*f = fopen(bin, "rb")))
        return cli_error("cannot open %s: %s", bin, strerror(errno));
    long size = -1;
    if (fseek(*f, 0, SEEK_END) == 0)
        size = ftell(*f);
    if (size <= 0 || size % CIFAR_RECORD) {
        fclose(*f);
        return cli_error("%s: %ld bytes is not a whole number of %d-byte CIFAR-10 records", bin, size, CIFAR_RECORD);
    }
    *total = size / CIFAR_RECORD;
    return 0;
}

/* Classify record `index` of the file; its label and the prediction. */
static int classify_record(mnas_model *m, FILE *f, const char *bin, long index, int *label, int *top)
{
    uint8_t rec[CIFAR_RECORD], rgb[CIFAR_SIDE * CIFAR_SIDE * 3];
    if (fseek(f, index * CIFAR_RECORD, SEEK_SET) || fread(rec, 1, CIFAR_RECORD, f) != CIFAR_RECORD)
        return cli_error("%s: short read at record %ld", bin, index);
    if (rec[0] >= CIFAR_CLASSES)
        return cli_error("%s: record %ld has label %d; CIFAR-10 labels are 0..9", bin, index, rec[0]);
    for (int p = 0; p < CIFAR_SIDE * CIFAR_SIDE; p++)
        for (int ch = 0; ch < 3; ch++)
            rgb[p * 3 + ch] = rec[1 + ch * CIFAR_SIDE * CIFAR_SIDE + p];
    if (mnas_run_image(m, rgb, CIFAR_SIDE, CIFAR_SIDE, 0, MNAS_RGB))
        return cli_error("%s: record %ld: %s", bin, index, mnas_error(m));
    *label = rec[0];
    mnas_topk(m, 1, top, NULL, NULL);
    return 0;
}

static int evaluate(mnas_model *m, FILE *f, const char *bin, eval_result *r)
{
    const double t0 = cli_now_ms();
    for (long i = 0; i < r->n; i++) {
        /* spread over the whole file: records are ordered by class */
        const long index = (long)((long long)i * r->total / r->n);
        int label = 0, top = 0;
        if (classify_record(m, f, bin, index, &label, &top))
            return 1;
        r->pred[i] = (uint8_t)top;
        r->seen[label]++;
        r->correct[label] += top == label;
    }
    r->ms = cli_now_ms() - t0;
    return 0;
}

static double percent(long part, long whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_result(const cli_common *c, mnas_model *m, const eval_result *r)
{
    long correct = 0;
    for (int k = 0; k < CIFAR_CLASSES; k++)
        correct += r->correct[k];
    if (c->json) {
        printf("{\"images\": %ld, \"correct\": %ld, \"accuracy\": %.4f, \"ms\": %.1f, \"per_class\": [", r->n,
               correct, percent(correct, r->n), r->ms);
        for (int k = 0; k < CIFAR_CLASSES; k++) {
            printf("%s{\"class\": %d, \"label\": ", k ? ", " : "", k);
            cli_json_string(stdout, mnas_label(m, k));
            printf(", \"images\": %ld, \"correct\": %ld}", r->seen[k], r->correct[k]);
        }
        printf("]}\n");
        return;
    }
    printf("accuracy %.2f%% (%ld / %ld) in %.1f s\n", percent(correct, r->n), correct, r->n, r->ms / 1e3);
    for (int k = 0; k < CIFAR_CLASSES; k++)
        printf("  %d %-16.16s %6.2f%%  (%ld / %ld)\n", k, mnas_label(m, k), percent(r->correct[k], r->seen[k]),
               r->correct[k], r->seen[k]);
}

int cmd_eval_cifar(int argc, char **argv)
{
    cli_common c;
    memset(&c, 0, sizeof c);
    eval_args a = {-1, NULL};
    const int parsed = cli_parse(&eval_command, argc, argv, &a, &c);
    if (parsed != CLI_PARSED)
        return cli_parse_exit(parsed, cmd_eval_cifar_usage);
    if (a.save_pred && cli_check_output(a.save_pred))
        return 1;
    const char *bin = c.positional[1];
    eval_result r;
    memset(&r, 0, sizeof r);
    FILE *f;
    if (open_records(bin, &f, &r.total))
        return 1;
    r.n = a.limit > 0 && a.limit < r.total ? a.limit : r.total;
    mnas_model *m = cli_load(&c);
    int rc = m ? 0 : 1;
    if (m && mnas_num_classes(m) != CIFAR_CLASSES)
        rc = cli_error("%s: model has %d outputs; eval-cifar needs a %d-class model", c.model, mnas_num_classes(m),
                       CIFAR_CLASSES);
    if (!rc && !(r.pred = malloc((size_t)r.n)))
        rc = cli_error("out of memory");
    if (!rc)
        rc = evaluate(m, f, bin, &r);
    fclose(f);
    if (!rc)
        print_result(&c, m, &r);
    char err[512];
    if (!rc && a.save_pred && npy_write_u8(a.save_pred, r.pred, r.n, err, sizeof err))
        rc = cli_error("%s", err);
    free(r.pred);
    mnas_free(m);
    return rc;
}
