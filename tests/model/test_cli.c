/* The `mnas` CLI end to end, as a user runs it: --version/--help, info
 * --json, run on a .npy batch with --save-logits/--save-se checked against
 * the PyTorch reference files, run on a PNG sample image, eval-cifar on the
 * fixture, pack with labels and fp16 or int8, a channels-last model (info
 * and .npy rows in its layout) and one ending in a Softmax, and clear
 * errors with a non-zero exit for bad input. Skips when the CLI cannot be
 * executed (cross builds). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/npy.h"
#include "cli_run.h"

static double max_rel(const float *a, const float *b, size_t n)
{
    /* plain comparisons: aarch64 gcc 12 crashes vectorizing an fmax reduction here */
    double mx = 1.0, err = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double r = b[i] < 0 ? -(double)b[i] : b[i];
        const double d = a[i] > b[i] ? (double)a[i] - b[i] : (double)b[i] - a[i];
        if (r > mx)
            mx = r;
        if (d > err)
            err = d;
    }
    return err / mx;
}

/* `run` on the fp32 model's reference inputs in ../shared, the saved files
 * compared with PyTorch's, and `eval-cifar` of the default model on the
 * split's first 100 images. */
static void check_shared_inputs(check_state *st, const char *cli, const char *model, const char *tmp)
{
    const char *data = check_testdata();
    char refs[1024], path[2048], err[512], m32[1024];
    static char out[1 << 16];
    snprintf(refs, sizeof refs, "%s/models/refs/mnasnet_a1_cifar10", data);
    snprintf(m32, sizeof m32, "%s/models/mnasnet_a1_cifar10.onnx", data);
    snprintf(path, sizeof path, "%s/input.npy", refs);
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        SKIP(st, "%s not found (set MNAS_TESTDATA): run .npy and eval-cifar not checked", path);
        return;
    }
    fclose(probe);
    int rc = cli_run(out, sizeof out,
                 "'%s' run '%s' '%s/input.npy' --se --save-logits '%s/logits.npy' --save-se '%s' --source-size 32", cli,
                 m32, refs, tmp, tmp);
    CHECK(st, rc == 0 && strstr(out, "row 7") && strstr(out, "SE blocks.2.0.se"), "run .npy: %s", out);
    npy_array got, ref;
    snprintf(path, sizeof path, "%s/logits.npy", tmp);
    const int g_ok = npy_read(path, &got, err, sizeof err) == 0;
    snprintf(path, sizeof path, "%s/logits.npy", refs);
    const int r_ok = npy_read(path, &ref, err, sizeof err) == 0;
    CHECK(st, g_ok && r_ok && got.count == ref.count && got.ndim == 2, "--save-logits: %s", err);
    if (g_ok && r_ok && got.count == ref.count)
        CHECK(st, max_rel(got.f, ref.f, got.count) < 1e-2, "saved logits off by %g", max_rel(got.f, ref.f, got.count));
    if (r_ok)
        npy_free(&ref);
    /* --threads: one thread and three give the same bits as automatic */
    for (int t = 1; g_ok && t <= 3; t += 2) {
        rc = cli_run(out, sizeof out, "'%s' run '%s' '%s/input.npy' --threads %d --save-logits '%s/logits%d.npy'", cli,
                 m32, refs, t, tmp, t);
        snprintf(path, sizeof path, "%s/logits%d.npy", tmp, t);
        const int t_ok = rc == 0 && npy_read(path, &ref, err, sizeof err) == 0;
        CHECK(st, t_ok && ref.count == got.count && memcmp(ref.f, got.f, got.count * sizeof(float)) == 0,
              "run --threads %d: logits differ from automatic threads (%s)", t, out);
        if (t_ok)
            npy_free(&ref);
    }
    /* --layer-by-layer: the same bits as fused blocks; info and bench show the blocks only without it */
    rc = cli_run(out, sizeof out, "'%s' run '%s' '%s/input.npy' --layer-by-layer --save-logits '%s/logits_lbl.npy'",
                 cli, m32, refs, tmp);
    snprintf(path, sizeof path, "%s/logits_lbl.npy", tmp);
    const int l_ok = g_ok && rc == 0 && npy_read(path, &ref, err, sizeof err) == 0;
    CHECK(st, l_ok && ref.count == got.count && memcmp(ref.f, got.f, got.count * sizeof(float)) == 0,
          "run --layer-by-layer: logits differ from fused blocks' (%s)", out);
    if (l_ok)
        npy_free(&ref);
    rc = cli_run(out, sizeof out, "'%s' info '%s' --json", cli, m32);
    CHECK(st, rc == 0 && strstr(out, "\"fused_with\": 3}") && strstr(out, "\"fused_with\": -1"),
          "info --json marks no fused block: %.300s", out);
    rc = cli_run(out, sizeof out, "'%s' info '%s' --json --layer-by-layer", cli, m32);
    CHECK(st, rc == 0 && strstr(out, "\"fused_with\": -1") && !strstr(out, "\"fused_with\": 3}"),
          "info --layer-by-layer still marks a fused block: %.300s", out);
    rc = cli_run(out, sizeof out, "'%s' bench '%s' --runs 3 --per-layer", cli, m32);
    CHECK(st, rc == 0 && strstr(out, "fused blocks ") && strstr(out, " (fused block)"), "bench --per-layer: %.600s",
          out);
    rc = cli_run(out, sizeof out, "'%s' bench '%s' --runs 3 --per-layer --layer-by-layer", cli, m32);
    CHECK(st, rc == 0 && strstr(out, "fused blocks    0.000 ms") && !strstr(out, " (fused block)"),
          "bench --per-layer --layer-by-layer: %.600s", out);
    if (g_ok)
        npy_free(&got);
    snprintf(path, sizeof path, "%s/se07.npy", tmp);
    const int se_ok = npy_read(path, &got, err, sizeof err) == 0;
    CHECK(st, se_ok && got.ndim == 2 && got.dims[0] == 8 && got.dims[1] == 960, "--save-se se07.npy: %s", err);
    if (se_ok)
        npy_free(&got);

    rc = cli_run(out, sizeof out,
             "'%s' eval-cifar '%s' '%s/data/cifar10_test.bin' --limit 100 --threads 2 --save-pred '%s/pred.npy'", cli,
             model, data, tmp);
    CHECK(st, rc == 0 && strstr(out, "accuracy ") && strstr(out, "/ 100)"), "eval-cifar: %s", out);

    /* pack --int8 of the fp32 model (models/README.md) */
    rc = cli_run(out, sizeof out, "'%s' pack '%s' '%s/int8.onnx' --int8", cli, m32, tmp);
    CHECK(st, rc == 0 && strstr(out, "int8 weights"), "pack --int8: %s", out);
    rc = cli_run(out, sizeof out, "'%s' run '%s/int8.onnx' '%s/input.npy' --source-size 32", cli, tmp, refs);
    CHECK(st, rc == 0 && strstr(out, "row 7"), "run int8: %s", out);
}

/* A channels-last model (Keras through tf2onnx) and one ending in a
 * Softmax, from the pattern fixtures: info says so, run takes .npy rows in
 * the model's own layout. */
static void check_layouts(check_state *st, const char *cli, const char *src, const char *tmp)
{
    static char out[1 << 16];
    char model[1024], path[2048], err[512];
    snprintf(model, sizeof model, "%s/tests/fixtures/patterns/keras_all.onnx", src);
    int rc = cli_run(out, sizeof out, "'%s' info '%s' --json", cli, model);
    CHECK(st, rc == 0 && strstr(out, "\"input\": [1, 12, 12, 3]") && strstr(out, "\"input_layout\": \"NHWC\"") &&
                  strstr(out, "\"output\": \"logits\""),
          "info of a channels-last model: %.300s", out);
    float x[2 * 12 * 12 * 3];
    for (int i = 0; i < 2 * 12 * 12 * 3; i++)
        x[i] = (float)(i % 255);
    const int64_t nhwc[4] = {2, 12, 12, 3}, nchw[4] = {2, 3, 12, 12};
    snprintf(path, sizeof path, "%s/nhwc.npy", tmp);
    CHECK(st, npy_write_f32(path, x, 4, nhwc, err, sizeof err) == 0, "%s", err);
    rc = cli_run(out, sizeof out, "'%s' run '%s' '%s' --top 2", cli, model, path);
    CHECK(st, rc == 0 && strstr(out, "row 1") && strstr(out, " 2. "), "run NHWC rows: %s", out);
    snprintf(path, sizeof path, "%s/nchw.npy", tmp);
    CHECK(st, npy_write_f32(path, x, 4, nchw, err, sizeof err) == 0, "%s", err);
    rc = cli_run(out, sizeof out, "'%s' run '%s' '%s'", cli, model, path);
    CHECK(st, rc == 1 && strstr(out, "(N, 12, 12, 3) (NHWC"), "NCHW rows for an NHWC model: %s", out);
    snprintf(model, sizeof model, "%s/tests/fixtures/patterns/softmax.onnx", src);
    rc = cli_run(out, sizeof out, "'%s' info '%s'", cli, model);
    CHECK(st, rc == 0 && strstr(out, "probabilities (the model ends in a Softmax)") && strstr(out, "softmax"),
          "info of a Softmax model: %.300s", out);
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *cli = cli_under_test(&st, "test_cli");
    const char *src = getenv("MNAS_SOURCE_DIR");
    const char *bdir = getenv("MNAS_BUILD_DIR");
    src = src && *src ? src : ".";
    bdir = bdir && *bdir ? bdir : ".";
    static char out[1 << 16];
    if (!cli || cli_run(out, sizeof out, "'%s' --version", cli) != 0)
        return check_summary(&st, "test_cli");
    CHECK(&st, strstr(out, "mnas 0.") != NULL, "--version printed '%s'", out);
    CHECK(&st, cli_run(out, sizeof out, "'%s' --help", cli) == 0 && strstr(out, "eval-cifar"), "--help");
    CHECK(&st, cli_run(out, sizeof out, "'%s' frobnicate", cli) == 2 && strstr(out, "unknown command"),
          "unknown command: %s", out);

    char model[1024], tmp[1024];
    snprintf(model, sizeof model, "%s/models/mnasnet_a1_cifar10.onnx", src);
    snprintf(tmp, sizeof tmp, "%s/test_cli_tmp", bdir);
    cli_run(out, sizeof out, "rm -rf '%s' && mkdir -p '%s'", tmp, tmp);

    /* info --json: the default model's metadata and SE blocks */
    CHECK(&st, cli_run(out, sizeof out, "'%s' info '%s' --json", cli, model) == 0, "info: %s", out);
    CHECK(&st, strstr(out, "\"classes\": 10") && strstr(out, "\"automobile\"") && strstr(out, "\"source_size\": 32") &&
                   strstr(out, "blocks.5.2.se"),
          "info --json lacks classes/labels/source size/SE blocks");

    /* run .npy and eval-cifar on data from ../shared */
    check_shared_inputs(&st, cli, model, tmp);
    check_layouts(&st, cli, src, tmp);

    char path[2048];
    int rc;
    /* an image file: a demo sample PNG (when this build reads PNG) */
    rc = cli_run(out, sizeof out, "'%s' run '%s' '%s/web/samples/automobile-1000.png' --top 3", cli, model, src);
    if (strstr(out, "unrecognised image format"))
        SKIP(&st, "this build reads no PNG: %s", out);
    else
        CHECK(&st, rc == 0 && strstr(out, " 1. automobile"), "run PNG: %s", out);

    /* pack: labels file + fp16; the packed model loads and carries them */
    snprintf(path, sizeof path, "%s/labels.txt", tmp);
    FILE *f = fopen(path, "w");
    for (int i = 0; f && i < 10; i++)
        fprintf(f, "class \"%d\"\n", i);
    if (f)
        fclose(f);
    rc = cli_run(out, sizeof out, "'%s' pack '%s' '%s/packed.onnx' --labels '%s' --mean 0.5,0.5,0.5 --std 0.25,0.25,0.25 --fp16",
             cli, model, tmp, path);
    CHECK(&st, rc == 0 && strstr(out, "fp16 weights"), "pack: %s", out);
    rc = cli_run(out, sizeof out, "'%s' info '%s/packed.onnx' --json", cli, tmp);
    CHECK(&st, rc == 0 && strstr(out, "\"class \\\"3\\\"\"") && strstr(out, "\"mean\": [0.5, 0.5, 0.5]"),
          "packed labels/mean not read back: %.300s", out);

    /* errors: clear message, non-zero exit */
    CHECK(&st, cli_run(out, sizeof out, "'%s' run '%s' /nonexistent.ppm", cli, model) != 0 &&
                   strstr(out, "cannot open /nonexistent.ppm: No such file or directory"),
          "missing image: %s", out);
    CHECK(&st, cli_run(out, sizeof out, "'%s' info '%s/web/samples/index.json'", cli, src) == 1 &&
                   strstr(out, "malformed model"),
          "not a model: %s", out);
    CHECK(&st, cli_run(out, sizeof out, "'%s' bench '%s' --runs zero", cli, model) == 2 && strstr(out, "--runs"),
          "bad --runs: %s", out);
    CHECK(&st, cli_run(out, sizeof out, "'%s' bench '%s' --runs 2 --threads 2", cli, model) == 0 &&
                   strstr(out, ", 2 threads"),
          "bench --threads 2 does not say so: %s", out);
    CHECK(&st, cli_run(out, sizeof out, "'%s' run '%s' x.npy --threads 65", cli, model) == 2 &&
                   strstr(out, "--threads"),
          "bad --threads: %s", out);
    CHECK(&st, cli_run(out, sizeof out, "'%s' pack '%s' '%s/x.onnx' --mean 1,2", cli, model, tmp) == 2,
          "bad --mean accepted: %s", out);

    cli_run(out, sizeof out, "rm -rf '%s'", tmp);
    return check_summary(&st, "test_cli");
}
