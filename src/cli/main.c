/* `mnas`: inspect, run, time, evaluate and pack MnasNet-family ONNX models. */
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
    "  pack IN.onnx OUT.onnx      add metadata / fp16 or int8 weights: --labels FILE --mean a,b,c\n"
    "                             --std a,b,c --source-size N --fp16 --int8\n"
    "\n"
    "options for every command that loads a model:\n"
    "  --json                     machine-readable output\n"
    "  --mean a,b,c --std a,b,c   normalization when the model's metadata has none (ImageNet otherwise)\n"
    "  --source-size N            area-downscale frames to NxN before resizing (as mnas.source_size)\n"
    "  --reference                use the scalar reference kernels\n"
    "  --threads N                threads, this one included (0: automatic = the processors online,\n"
    "                             at most 8; 1: this thread only); results are the same for every N\n"
    "\n"
    "  mnas --version | --help\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("mnas %s (kernels: %s)\n", mnas_version(), mnas_backend());
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"info", cmd_info}, {"run", cmd_run}, {"bench", cmd_bench},
                {"eval-cifar", cmd_eval_cifar}, {"pack", cmd_pack}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "mnas: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
