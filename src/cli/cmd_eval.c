/* mnas eval-cifar: accuracy of a model on the CIFAR-10 test split in
 * its own binary layout, preprocessed in C as the SDK would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"

/* CIFAR-10 binary layout: 1 label byte, then 1024 R, 1024 G, 1024 B bytes. */
#define CIFAR_SIDE 32
#define CIFAR_RECORD (1 + 3 * CIFAR_SIDE * CIFAR_SIDE)

int cmd_eval_cifar(int argc, char **argv)
{
    cli_common c;
    memset(&c, 0, sizeof c);
    long limit = -1;
    const char *save_pred = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 1, 100000000, &limit))
                return cli_error("--limit takes a positive count, got '%s'", argv[i]), 2;
        } else if (strcmp(argv[i], "--save-pred") == 0 && i + 1 < argc) {
            save_pred = argv[++i];
        } else {
            const int r = cli_common_option(&c, argc, argv, &i);
            if (r < 0)
                return 2;
            if (r == 0)
                return cli_error("eval-cifar: unknown option '%s'", argv[i]), 2;
        }
    }
    if (c.n_positional != 2)
        return cli_error("usage: mnas eval-cifar MODEL CIFAR_BIN [--limit N] [--save-pred FILE.npy] [--threads N] [--json]"), 2;
    const char *bin = c.positional[1];
    FILE *f = fopen(bin, "rb");
    if (!f)
        return cli_error("%s: cannot open", bin);
    fseek(f, 0, SEEK_END);
    const long size = ftell(f);
    rewind(f);
    if (size <= 0 || size % CIFAR_RECORD) {
        fclose(f);
        return cli_error("%s: %ld bytes is not a whole number of %d-byte CIFAR-10 records", bin, size, CIFAR_RECORD);
    }
    long n = size / CIFAR_RECORD;
    if (limit > 0 && limit < n)
        n = limit;
    mnas_model *m = cli_load(&c);
    if (!m) {
        fclose(f);
        return 1;
    }
    uint8_t rec[CIFAR_RECORD], rgb[CIFAR_SIDE * CIFAR_SIDE * 3];
    uint8_t *pred = malloc((size_t)n);
    long correct = 0;
    int rc = 0;
    const double t0 = cli_now_ms();
    for (long i = 0; i < n && pred; i++) {
        if (fread(rec, 1, CIFAR_RECORD, f) != CIFAR_RECORD) {
            rc = cli_error("%s: short read at record %ld", bin, i);
            break;
        }
        for (int p = 0; p < CIFAR_SIDE * CIFAR_SIDE; p++)
            for (int ch = 0; ch < 3; ch++)
                rgb[p * 3 + ch] = rec[1 + ch * CIFAR_SIDE * CIFAR_SIDE + p];
        if (mnas_run_image(m, rgb, CIFAR_SIDE, CIFAR_SIDE, 0, MNAS_RGB)) {
            rc = cli_error("record %ld: %s", i, mnas_error(m));
            break;
        }
        int top = 0;
        mnas_topk(m, 1, &top, NULL, NULL);
        pred[i] = (uint8_t)top;
        correct += top == rec[0];
    }
    fclose(f);
    if (!pred)
        rc = cli_error("out of memory");
    const double ms = cli_now_ms() - t0;
    if (!rc) {
        if (c.json)
            printf("{\"images\": %ld, \"correct\": %ld, \"accuracy\": %.4f, \"ms\": %.1f}\n", n, correct,
                   100.0 * (double)correct / (double)n, ms);
        else
            printf("accuracy %.2f%% (%ld / %ld) in %.1f s\n", 100.0 * (double)correct / (double)n, correct, n,
                   ms / 1e3);
        char err[512];
        if (save_pred && npy_write_u8(save_pred, pred, n, err, sizeof err))
            rc = cli_error("%s", err);
    }
    free(pred);
    mnas_free(m);
    return rc;
}
