/* Shared pieces of the `mnas` CLI. The CLI uses only the public API. */
#ifndef MNAS_CLI_H
#define MNAS_CLI_H

#include <stdio.h>

#include "mnas.h"

typedef struct {
    const char *model;          /* first positional */
    const char *positional[4];
    int n_positional;
    int json;
    mnas_options opt;
    int have_norm;
} cli_common;

/* Parse one shared option at argv[*i]; returns 1 if consumed, 0 if not ours,
 * -1 on error (message printed). */
int cli_common_option(cli_common *c, int argc, char **argv, int *i);
int cli_parse_floats3(const char *s, float out[3]);
int cli_parse_int(const char *s, long lo, long hi, long *out);
/* Create + load the model; prints the error and returns NULL on failure. */
mnas_model *cli_load(const cli_common *c);
void cli_json_string(FILE *f, const char *s);
int cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
double cli_now_ms(void);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_eval_cifar(int argc, char **argv);
int cmd_pack(int argc, char **argv);

#endif
