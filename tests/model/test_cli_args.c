/* The `mnas` CLI's arguments and files, as a user meets them: per-command
 * help on stdout with exit 0 (--threads and its range for the commands
 * that run a model, --int8 for pack), options missing their value or given
 * a bad one named with what they take, output paths checked (or created) before
 * anything runs, files that cannot be opened named with the system's
 * reason, pack refusing to overwrite its input and writing its output
 * whole or not at all (no temporary file left), and eval-cifar refusing a
 * model that is not 10-class and spreading --limit over the class-ordered
 * file. Skips when the CLI cannot be executed (cross builds). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli_run.h"

static char out[1 << 16];

/* `mnas CMD --help`, `-h` and `mnas help CMD`: the command's usage on
 * stdout (stderr discarded), exit 0. */
static void check_help(check_state *st, const char *cli)
{
    static const char *const cmds[] = {"info", "run", "bench", "eval-cifar", "se-stats", "pack"};
    static const char *const forms[] = {"'%s' %s --help", "'%s' %s -h", "'%s' help %s"};
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        char want[64];
        snprintf(want, sizeof want, "usage: mnas %s ", cmds[c]);
        for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
            char cmd[256];
            snprintf(cmd, sizeof cmd, forms[f], cli, cmds[c]);
            const int rc = cli_run(out, sizeof out, "{ %s 2>/dev/null; }", cmd);
            CHECK(st, rc == 0 && strncmp(out, want, strlen(want)) == 0, "%s: exit %d, stdout '%.200s'", cmd, rc, out);
        }
    }
    CHECK(st, cli_run(out, sizeof out, "{ '%s' run --help 2>/dev/null; }", cli) == 0 && strstr(out, "--save-se DIR") &&
                  strstr(out, "--source-size N"),
          "run --help lacks its own or the shared options: %.300s", out);
    CHECK(st, cli_run(out, sizeof out, "{ '%s' eval-cifar --help 2>/dev/null; }", cli) == 0 &&
                  strstr(out, "spread evenly over"),
          "eval-cifar --help does not say how --limit picks records: %.300s", out);
    static const char *const threaded[] = {"run", "bench", "eval-cifar", "se-stats"};
    for (size_t c = 0; c < sizeof threaded / sizeof threaded[0]; c++)
        CHECK(st, cli_run(out, sizeof out, "{ '%s' %s --help 2>/dev/null; }", cli, threaded[c]) == 0 &&
                      strstr(out, "--threads N") && strstr(out, "0..64"),
              "%s --help lacks --threads and its range: %.300s", threaded[c], out);
    CHECK(st, cli_run(out, sizeof out, "{ '%s' pack --help 2>/dev/null; }", cli) == 0 && strstr(out, "--int8") &&
                  strstr(out, "--fp16"),
          "pack --help lacks --int8: %.300s", out);
    CHECK(st, cli_run(out, sizeof out, "'%s' help frobnicate", cli) == 2 && strstr(out, "unknown command 'frobnicate'"),
          "help of an unknown command: %.200s", out);
}

/* An option at the end of argv, a word for a number, a number out of range. */
static void check_option_values(check_state *st, const char *cli, const char *model)
{
    static const struct {
        const char *args, *message;
    } cases[] = {
        {"bench M --runs", "mnas: --runs needs a value (a whole number 1..1000000)\n"},
        {"bench M --warmup", "mnas: --warmup needs a value (a whole number 0..1000000)\n"},
        {"bench M --runs zero", "mnas: --runs takes a whole number 1..1000000, got 'zero'\n"},
        {"bench M --runs 0", "mnas: --runs takes a whole number 1..1000000, got '0'\n"},
        {"bench M --runs 99999999999999999999", "mnas: --runs takes a whole number 1..1000000, got '99999999999999999999'\n"},
        {"run M x.ppm --top", "mnas: --top needs a value (a whole number 1..100000)\n"},
        {"run M x.ppm --save-se", "mnas: --save-se needs a value (a directory)\n"},
        {"run M x.ppm --save-logits", "mnas: --save-logits needs a value (a .npy file to write)\n"},
        {"info M --source-size 5000", "mnas: --source-size takes a whole number 0..4096, got '5000'\n"},
        {"info M --mean", "mnas: --mean needs a value (three numbers like 0.485,0.456,0.406)\n"},
        {"info M --mean 1,2", "mnas: --mean takes three numbers like 0.485,0.456,0.406, got '1,2'\n"},
        {"eval-cifar M x.bin --limit", "mnas: --limit needs a value (a whole number 1..100000000)\n"},
        {"eval-cifar M x.bin --save-pred", "mnas: --save-pred needs a value (a .npy file to write)\n"},
        {"run M x.ppm --threads", "mnas: --threads needs a value (a whole number 0..64)\n"},
        {"bench M --threads 65", "mnas: --threads takes a whole number 0..64, got '65'\n"},
        {"eval-cifar M x.bin --threads -1", "mnas: --threads takes a whole number 0..64, got '-1'\n"},
        {"info M --threads two", "mnas: --threads takes a whole number 0..64, got 'two'\n"},
        {"pack M y.onnx --threads 2", "mnas: pack: unknown option '--threads' (mnas pack --help lists them)\n"},
        {"pack M y.onnx --labels", "mnas: --labels needs a value (a labels file)\n"},
        {"pack M y.onnx --source-size 0", "mnas: --source-size takes a whole number 1..4096, got '0'\n"},
        {"bench M --frobnicate", "mnas: bench: unknown option '--frobnicate' (mnas bench --help lists them)\n"},
        {"run M", "mnas: run takes 2 arguments besides options, got 1\nusage: mnas run MODEL INPUT [options]\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[2048];
        const char *m = strstr(cases[i].args, " M");
        snprintf(args, sizeof args, "%.*s '%s'%s", (int)(m - cases[i].args), cases[i].args, model, m + 2);
        const int rc = cli_run(out, sizeof out, "'%s' %s", cli, args);
        CHECK(st, rc == 2 && strncmp(out, cases[i].message, strlen(cases[i].message)) == 0,
              "mnas %s: exit %d, printed '%s', want '%s'", cases[i].args, rc, out, cases[i].message);
    }
}

/* --save-se DIR is created with its parents before the run; an output that
 * cannot be created fails before any result is printed. */
static void check_outputs(check_state *st, const char *cli, const char *model, const char *src, const char *tmp)
{
    char image[2048], want[4096];
    snprintf(image, sizeof image, "%s/web/samples/cat-3000.png", src);
    int rc = cli_run(out, sizeof out, "'%s' run '%s' '%s' --se --save-se '%s/new/se/dir'", cli, model, image, tmp);
    if (strstr(out, "unrecognised image format")) {
        snprintf(image, sizeof image, "%s/gray.ppm", tmp);
        FILE *f = fopen(image, "wb");
        if (f) {
            fprintf(f, "P6\n2 2\n255\n");
            fwrite("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 1, 12, f);
            fclose(f);
        }
        rc = cli_run(out, sizeof out, "'%s' run '%s' '%s' --se --save-se '%s/new/se/dir'", cli, model, image, tmp);
    }
    CHECK(st, rc == 0 && strstr(out, " 1. "), "run --save-se into a new directory: %s", out);
    char path[4096];
    snprintf(path, sizeof path, "%s/new/se/dir/se00.npy", tmp);
    FILE *f = fopen(path, "rb");
    CHECK(st, f != NULL, "--save-se did not create %s", path);
    if (f)
        fclose(f);

    cli_run(out, sizeof out, "touch '%s/file'", tmp);
    rc = cli_run(out, sizeof out, "'%s' run '%s' '%s' --save-se '%s/file/se'", cli, model, image, tmp);
    snprintf(want, sizeof want, "mnas: cannot create directory %s/file/se: Not a directory\n", tmp);
    CHECK(st, rc == 1 && strcmp(out, want) == 0, "--save-se under a file: exit %d, '%s'", rc, out);
    rc = cli_run(out, sizeof out, "'%s' run '%s' '%s' --save-logits '%s/missing/l.npy'", cli, model, image, tmp);
    snprintf(want, sizeof want, "mnas: cannot create %s/missing/l.npy: No such file or directory\n", tmp);
    CHECK(st, rc == 1 && strcmp(out, want) == 0, "--save-logits in a missing directory: exit %d, '%s'", rc, out);
}

/* Files that cannot be opened: the path and the system's reason. */
static void check_missing_files(check_state *st, const char *cli, const char *model, const char *tmp)
{
    static const char *const cmds[] = {"info /nonexistent.onnx", "run M /nonexistent.png",
                                       "eval-cifar M /nonexistent.bin", "pack /nonexistent.onnx T/y.onnx",
                                       "pack M T/y.onnx --labels /nonexistent.txt"};
    static const char *const missing[] = {"/nonexistent.onnx", "/nonexistent.png", "/nonexistent.bin",
                                          "/nonexistent.onnx", "/nonexistent.txt"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[2048] = "", want[256];
        for (const char *p = cmds[i]; *p; p++) {
            const size_t n = strlen(args);
            if (*p == 'M' && p[1] == ' ')
                snprintf(args + n, sizeof args - n, "'%s'", model);
            else if (*p == 'T' && p[1] == '/')
                snprintf(args + n, sizeof args - n, "%s", tmp);
            else
                snprintf(args + n, sizeof args - n, "%c", *p);
        }
        snprintf(want, sizeof want, "mnas: cannot open %s: No such file or directory\n", missing[i]);
        const int rc = cli_run(out, sizeof out, "'%s' %s", cli, args);
        CHECK(st, rc == 1 && strcmp(out, want) == 0, "mnas %s: exit %d, '%s', want '%s'", cmds[i], rc, out, want);
    }
}

/* pack IN IN, through a symbolic link and a hard link: refused, the input
 * left as it was. */
static void check_pack_in_place(check_state *st, const char *cli, const char *model, const char *tmp)
{
    cli_run(out, sizeof out, "cp '%s' '%s/in.onnx' && ln -s in.onnx '%s/sym.onnx' && ln '%s/in.onnx' '%s/hard.onnx'",
            model, tmp, tmp, tmp, tmp);
    static const char *const outs[] = {"in.onnx", "sym.onnx", "hard.onnx"};
    for (size_t i = 0; i < 3; i++) {
        char want[4096];
        snprintf(want, sizeof want, "mnas: pack: OUT %s/%s is the input file %s/in.onnx; write the packed model to "
                                    "another path\n", tmp, outs[i], tmp);
        const int rc = cli_run(out, sizeof out, "'%s' pack '%s/in.onnx' '%s/%s' --fp16", cli, tmp, tmp, outs[i]);
        CHECK(st, rc == 1 && strcmp(out, want) == 0, "pack onto %s: exit %d, '%s'", outs[i], rc, out);
        CHECK(st, cli_run(out, sizeof out, "cmp '%s' '%s/in.onnx'", model, tmp) == 0, "pack onto %s changed the input",
              outs[i]);
    }
}

/* Files in dir whose name has ".tmp-" (pack's temporary files), or -1. */
static int temp_files(const char *dir)
{
    char list[4096];
    if (cli_run(list, sizeof list, "ls -A '%s'", dir) != 0)
        return -1;
    int n = 0;
    for (const char *p = list; (p = strstr(p, ".tmp-")) != NULL; p++)
        n++;
    return n;
}

/* pack writes OUT atomically: after success OUT is the whole packed model
 * (the size it reports, loadable) with the mode an existing OUT had, a
 * symbolic link's target is replaced and the link kept; after a failure
 * before writing (not a model) an existing OUT is as it was; after a
 * failure at the rename (OUT is a directory) the error names OUT; never a
 * temporary file left behind. */
static void check_pack_atomic(check_state *st, const char *cli, const char *model, const char *tmp)
{
    char dir[2048], want[4096], size[64];
    snprintf(dir, sizeof dir, "%s/atomic", tmp);
    cli_run(out, sizeof out, "mkdir -p '%s' && printf old > '%s/out.onnx' && chmod 640 '%s/out.onnx'", dir, dir, dir);

    int rc = cli_run(out, sizeof out, "'%s' pack '%s' '%s/out.onnx' --fp16", cli, model, dir);
    const char *bytes = strstr(out, "onnx (");
    CHECK(st, rc == 0 && bytes, "pack: exit %d, '%s'", rc, out);
    cli_run(size, sizeof size, "wc -c < '%s/out.onnx' && stat -c %%a '%s/out.onnx'", dir, dir);
    long reported = bytes ? strtol(bytes + 6, NULL, 10) : -1, written = strtol(size, NULL, 10);
    CHECK(st, reported > 1000000 && written == reported, "pack reported %ld bytes, OUT has %ld", reported, written);
    CHECK(st, strstr(size, "\n640\n") != NULL, "pack did not keep OUT's mode 640: '%s'", size);
    rc = cli_run(out, sizeof out, "'%s' info '%s/out.onnx'", cli, dir);
    CHECK(st, rc == 0 && strstr(out, "classes"), "the packed OUT does not load: exit %d, %.300s", rc, out);
    CHECK(st, temp_files(dir) == 0, "pack left a temporary file after success in %s", dir);

    /* OUT a link to another file: the file is replaced, the link stays */
    cli_run(out, sizeof out, "printf old > '%s/target.onnx' && ln -s target.onnx '%s/link.onnx'", dir, dir);
    rc = cli_run(out, sizeof out, "'%s' pack '%s' '%s/link.onnx' --fp16 && test -L '%s/link.onnx' && cmp '%s/out.onnx' '%s/target.onnx'",
                 cli, model, dir, dir, dir, dir);
    CHECK(st, rc == 0, "pack through a symbolic link: exit %d, '%s'", rc, out);

    /* a failure before writing: the old OUT untouched */
    cli_run(out, sizeof out, "printf 'not a model' > '%s/bad.onnx' && printf old > '%s/keep.onnx'", dir, dir);
    rc = cli_run(out, sizeof out, "'%s' pack '%s/bad.onnx' '%s/keep.onnx' --fp16", cli, dir, dir);
    CHECK(st, rc == 1 && strncmp(out, "mnas: ", 6) == 0, "pack of a non-model: exit %d, '%s'", rc, out);
    CHECK(st, cli_run(out, sizeof out, "printf old | cmp - '%s/keep.onnx'", dir) == 0, "a failed pack changed OUT: %s", out);

    /* a failure after the temporary file was written: OUT is a directory */
    cli_run(out, sizeof out, "mkdir '%s/dir.onnx'", dir);
    rc = cli_run(out, sizeof out, "'%s' pack '%s' '%s/dir.onnx' --fp16", cli, model, dir);
    snprintf(want, sizeof want, "mnas: cannot write %s/dir.onnx: Is a directory\n", dir);
    CHECK(st, rc == 1 && strcmp(out, want) == 0, "pack onto a directory: exit %d, '%s', want '%s'", rc, out, want);
    CHECK(st, temp_files(dir) == 0, "pack left a temporary file after a failure in %s", dir);
}

/* eval-cifar: a 1000-class model is refused; --limit 20 on the class-ordered
 * test file takes 2 records of every class. */
static void check_eval_cifar(check_state *st, const char *cli, const char *model)
{
    const char *data = check_testdata();
    char bin[1024], big[1024];
    snprintf(bin, sizeof bin, "%s/data/cifar10_test.bin", data);
    snprintf(big, sizeof big, "%s/models/mnasnet_a1.onnx", data);
    FILE *f = fopen(bin, "rb"), *g = fopen(big, "rb");
    if (!f || !g) {
        SKIP(st, "%s or %s not found (set MNAS_TESTDATA): eval-cifar checks skipped", bin, big);
    } else {
        char want[2048];
        snprintf(want, sizeof want, "mnas: %s: model has 1000 outputs; eval-cifar needs a 10-class model\n", big);
        int rc = cli_run(out, sizeof out, "'%s' eval-cifar '%s' '%s' --limit 10", cli, big, bin);
        CHECK(st, rc == 1 && strcmp(out, want) == 0, "eval-cifar on 1000 classes: exit %d, '%s'", rc, out);
        rc = cli_run(out, sizeof out, "'%s' eval-cifar '%s' '%s' --limit 20", cli, model, bin);
        int classes = 0;
        for (const char *p = out; (p = strstr(p, "%  (")) != NULL; p++)
            classes += strncmp(strstr(p, "/ "), "/ 2)\n", 5) == 0;
        CHECK(st, rc == 0 && strstr(out, "/ 20) in ") && classes == 10 && strstr(out, "  9 truck "),
              "eval-cifar --limit 20 does not cover every class twice (%d): %s", classes, out);
    }
    if (f)
        fclose(f);
    if (g)
        fclose(g);
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *cli = cli_under_test(&st, "test_cli_args");
    if (!cli)
        return check_summary(&st, "test_cli_args");
    const char *src = getenv("MNAS_SOURCE_DIR"), *bdir = getenv("MNAS_BUILD_DIR");
    src = src && *src ? src : ".";
    bdir = bdir && *bdir ? bdir : ".";
    char model[1024], tmp[1024];
    snprintf(model, sizeof model, "%s/models/mnasnet_a1_cifar10.onnx", src);
    snprintf(tmp, sizeof tmp, "%s/test_cli_args_tmp", bdir);
    cli_run(out, sizeof out, "rm -rf '%s' && mkdir -p '%s'", tmp, tmp);

    check_help(&st, cli);
    check_option_values(&st, cli, model);
    check_outputs(&st, cli, model, src, tmp);
    check_missing_files(&st, cli, model, tmp);
    check_pack_in_place(&st, cli, model, tmp);
    check_pack_atomic(&st, cli, model, tmp);
    check_eval_cifar(&st, cli, model);

    cli_run(out, sizeof out, "rm -rf '%s'", tmp);
    return check_summary(&st, "test_cli_args");
}
