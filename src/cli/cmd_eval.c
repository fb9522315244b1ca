/* mnas eval-cifar: accuracy of a model on the CIFAR-10 test split in
 * its own binary layout, preprocessed in C as the SDK would, overall and
 * per class. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar_file.h"
#include "cli.h"
#include "npy.h"

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

/* Classify record `index` of the file; its label and the prediction. */
static int classify_record(mnas_model *m, cifar_file *cf, long index, int *label, int *top)
{
    uint8_t rgb[CIFAR_SIDE * CIFAR_SIDE * 3];
    if (cifar_read_rgb(cf, index, rgb, label))
        return 1;
    if (mnas_run_image(m, rgb, CIFAR_SIDE, CIFAR_SIDE, 0, MNAS_RGB))
        return cli_error("%s: record %ld: %s", cf->path, index, mnas_error(m));
    mnas_topk(m, 1, top, NULL, NULL);
    return 0;
}

static int evaluate(mnas_model *m, cifar_file *cf, eval_result *r)
{
    const double t0 = cli_now_ms();
    for (long i = 0; i < r->n; i++) {
        int label = 0, top = 0;
        if (classify_record(m, cf, cli_spread_index(i, r->n, r->total), &label, &top))
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
    eval_result r;
    memset(&r, 0, sizeof r);
    cifar_file cf;
    if (cifar_open(c.positional[1], &cf))
        return 1;
    r.total = cf.total;
    r.n = cli_spread_count(a.limit, r.total);
    mnas_model *m = cli_load(&c);
    int rc = m ? 0 : 1;
    if (m && mnas_num_classes(m) != CIFAR_CLASSES)
        rc = cli_error("%s: model has %d outputs; eval-cifar needs a %d-class model", c.model, mnas_num_classes(m),
                       CIFAR_CLASSES);
    if (!rc && !(r.pred = malloc((size_t)r.n)))
        rc = cli_error("out of memory");
    if (!rc)
        rc = evaluate(m, &cf, &r);
    cifar_close(&cf);
    if (!rc)
        print_result(&c, m, &r);
    char err[512];
    if (!rc && a.save_pred && npy_write_u8(a.save_pred, r.pred, r.n, err, sizeof err))
        rc = cli_error("%s", err);
    free(r.pred);
    mnas_free(m);
    return rc;
}
