/* Shared pieces of the `mnas` CLI. The CLI uses only the public API. */
#ifndef MNAS_CLI_H
#define MNAS_CLI_H

#include <stdio.h>

#include "mnas.h"

/* The help text of the options every command that loads a model takes; the
 * end of each such command's usage and of `mnas --help`. */
#define CLI_MODEL_OPTIONS_HELP                                                                          \
    "options for every command that loads a model:\n"                                                \
    "  --json                     machine-readable output\n"                                             \
    "  --mean a,b,c --std a,b,c   normalization when the model's metadata has none (ImageNet otherwise)\n" \
    "  --source-size N            area-downscale frames to NxN before resizing (as mnas.source_size),\n"   \
    "                             0.." CLI_STR(MNAS_MAX_SOURCE_SIZE) "\n"                                 \
    "  --reference                use the scalar reference kernels\n"                                   \
    "  --layer-by-layer           run every layer whole, no fused blocks (per-layer profiles)\n"        \
    "  --threads N                threads, this one included, 0.." CLI_STR(MNAS_MAX_THREADS) " (0: automatic =\n"  \
    "                             the processors online, at most " CLI_STR(MNAS_AUTO_THREADS) "; 1: this thread\n"  \
    "                             only); results are the same for every N\n"                           \
    "  -h, --help                 this help\n"
/* a number macro inside a message literal */
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

/* What a command's argument parser decided. */
enum { CLI_BAD_ARGS = -1, CLI_PARSED = 0, CLI_SHOW_HELP = 1 };

typedef struct {
    const char *model;          /* first positional */
    const char *positional[4];
    int n_positional;
    int json;
    mnas_options opt;
    int have_norm;
} cli_common;

/* A command's own options at argv[*i]: 1 if consumed, 0 if not its own,
 * -1 on error (message printed). */
typedef int (*cli_own_option)(void *args, int argc, char **argv, int *i);
typedef struct {
    const char *name;           /* "run" */
    int n_positional;           /* arguments it takes besides options */
    int model_options;          /* takes the options of CLI_MODEL_OPTIONS_HELP */
    cli_own_option own;         /* may be NULL */
} cli_command;
/* Parse argv[1..] for a command: -h/--help, its own options, the shared ones
 * and positionals into c; CLI_PARSED, CLI_SHOW_HELP or CLI_BAD_ARGS (message
 * printed). */
int cli_parse(const cli_command *cmd, int argc, char **argv, void *args, cli_common *c);
/* -h or --help */
int cli_is_help(const char *arg);
/* The value of the option at argv[*i] (advancing *i), or NULL after saying
 * "OPTION needs a value (KIND)". */
const char *cli_option_value(int argc, char **argv, int *i, const char *kind);
/* An integer option lo..hi at argv[*i]; 0, or -1 after a message naming the
 * option and the range. */
int cli_option_int(int argc, char **argv, int *i, long lo, long hi, long *out);
/* A three-number option (--mean, --std) at argv[*i]; 0 or -1 as above. */
int cli_option_floats3(int argc, char **argv, int *i, float out[3]);
int cli_parse_floats3(const char *s, float out[3]);
int cli_parse_int(const char *s, long lo, long hi, long *out);
/* The exit code of a parse that did not give CLI_PARSED: the usage on
 * stdout and 0 for help; the usage line on stderr and 2 for bad arguments. */
int cli_parse_exit(int parsed, const char *usage);
/* An output file's directory exists and is writable: 0, or -1 after
 * "cannot create PATH: REASON" (checked before any work is done). */
int cli_check_output(const char *path);
/* mkdir -p DIR: 0, or -1 after "cannot create directory DIR: REASON". */
int cli_make_dirs(const char *dir);
/* Create + load the model; prints the error and returns NULL on failure. */
mnas_model *cli_load(const cli_common *c);
void cli_json_string(FILE *f, const char *s);
int cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
double cli_now_ms(void);
/* --limit over a list ordered by class (a CIFAR-10 file, a folder of class
 * folders): how many of `total` items a limit (<= 0: none) keeps, and which
 * item is the i-th of the n kept, i * total / n, so every class keeps its
 * share. */
long cli_spread_count(long limit, long total);
long cli_spread_index(long i, long n, long total);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_eval_cifar(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_se_stats(int argc, char **argv);
extern const char cmd_info_usage[], cmd_run_usage[], cmd_bench_usage[], cmd_eval_cifar_usage[], cmd_pack_usage[],
    cmd_se_stats_usage[];

#endif
