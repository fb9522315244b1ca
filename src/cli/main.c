/* `mnas`: inspect, run, time, evaluate and pack MnasNet-family ONNX models,
 * and measure how class-specific their SE gates are. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: mnas COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  info MODEL                 layers, shapes, parameters, multiply-adds, arena size\n"
    "  run MODEL INPUT            classify an image (PPM/PNG/JPEG) or a float32 .npy of N rows (NCHW, or\n"
    "                             NHWC for a model with a channels-last input)\n"
    "      --top K  --se  --save-logits FILE.npy  --save-se DIR\n"
    "  bench MODEL                time inference: --runs N (50) --warmup N (5) --per-layer\n"
    "  eval-cifar MODEL BIN       accuracy on a CIFAR-10 binary file: --limit N --save-pred FILE.npy\n"
    "  se-stats MODEL INPUT       class-specificity of each SE block's gates over a CIFAR-10 binary file\n"
    "                             or a folder of class folders: --limit N --save DIR\n"
    "  pack IN.onnx OUT.onnx      add metadata / fp16 or int8 weights: --labels FILE --mean a,b,c\n"
    "                             --std a,b,c --source-size N --fp16 --int8\n"
    "\n" CLI_MODEL_OPTIONS_HELP
    "\n"
    "  mnas COMMAND --help | mnas help COMMAND    one command's options\n"
    "  mnas --version | --help\n";

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *usage;
} command;

static const command commands[] = {{"info", cmd_info, cmd_info_usage},
                                   {"run", cmd_run, cmd_run_usage},
                                   {"bench", cmd_bench, cmd_bench_usage},
                                   {"eval-cifar", cmd_eval_cifar, cmd_eval_cifar_usage},
                                   {"se-stats", cmd_se_stats, cmd_se_stats_usage},
                                   {"pack", cmd_pack, cmd_pack_usage}};

static const command *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return &commands[i];
    return NULL;
}

static int unknown(const char *name)
{
    fprintf(stderr, "mnas: unknown command '%s'\n\n%s", name, usage);
    return 2;
}

/* mnas help [COMMAND] */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        fputs(usage, stdout);
        return 0;
    }
    const command *c = find(argv[2]);
    if (!c)
        return unknown(argv[2]);
    fputs(c->usage, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0)
        return help(argc, argv);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("mnas %s (kernels: %s)\n", mnas_version(), mnas_backend());
        return 0;
    }
    const command *c = find(argv[1]);
    return c ? c->fn(argc - 1, argv + 1) : unknown(argv[1]);
}
