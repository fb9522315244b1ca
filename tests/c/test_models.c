/* Whole-model numerics: every model in <testdata>/models against the
 * PyTorch reference tensors in models/refs (logits and SE gates). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "mnas.h"
#include "npy.h"

typedef struct {
    const char *name;
    int se_blocks;
} model_case;

static const model_case cases[] = {
    {"mnasnet_a1", 8},       {"mnasnet_b1_0.5", 0},  {"mnasnet_a1_cifar10", 8},
    {"mobilenet_v3_small", 9}, {"mobilenetv2_050", 0}, {"tinynet_e", 10},
};

/* max |a-b| / max(1, max|ref|) over a row */
static double row_error(const float *a, const float *ref, int n)
{
    double mx = 1.0, err = 0.0;
    for (int i = 0; i < n; i++) {
        const double r = ref[i] < 0 ? -ref[i] : ref[i];
        if (r > mx)
            mx = r;
    }
    for (int i = 0; i < n; i++) {
        const double d = a[i] > ref[i] ? a[i] - ref[i] : ref[i] - a[i];
        if (d > err)
            err = d;
    }
    return err / mx;
}

static void check_model(check_state *st, const char *dir, const model_case *mc, int reference)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/models/%s.onnx", dir, mc->name);
    mnas_model *m = NULL;
    mnas_options opt;
    memset(&opt, 0, sizeof opt);
    opt.reference_kernels = reference;
    mnas_create(&m);
    const mnas_status s = mnas_load_file(m, path, &opt);
    CHECK(st, s == MNAS_OK, "%s: load: %s", mc->name, mnas_error(m));
    if (s) {
        mnas_free(m);
        return;
    }
    CHECK(st, mnas_se_count(m) == mc->se_blocks, "%s: %d SE blocks, expected %d", mc->name, mnas_se_count(m),
          mc->se_blocks);
    npy_array in, logits;
    snprintf(path, sizeof path, "%s/models/refs/%s/input.npy", dir, mc->name);
    if (npy_read(path, &in, err, sizeof err)) {
        CHECK(st, 0, "%s", err);
        mnas_free(m);
        return;
    }
    snprintf(path, sizeof path, "%s/models/refs/%s/logits.npy", dir, mc->name);
    if (npy_read(path, &logits, err, sizeof err)) {
        CHECK(st, 0, "%s", err);
        npy_free(&in);
        mnas_free(m);
        return;
    }
    npy_array se[16];
    memset(se, 0, sizeof se);
    for (int b = 0; b < mc->se_blocks && b < 16; b++) {
        snprintf(path, sizeof path, "%s/models/refs/%s/se%02d.npy", dir, mc->name, b);
        CHECK(st, npy_read(path, &se[b], err, sizeof err) == 0, "%s", err);
    }
    const int rows = (int)in.dims[0], classes = (int)logits.dims[1];
    const size_t per = in.count / (size_t)rows;
    double worst = 0, worst_se = 0;
    for (int r = 0; r < rows; r++) {
        const mnas_status rs = mnas_run_nchw(m, in.f + per * r, per);
        CHECK(st, rs == MNAS_OK, "%s row %d: %s", mc->name, r, mnas_error(m));
        int n = 0;
        const float *z = mnas_logits(m, &n);
        CHECK(st, n == classes, "%s: %d logits, expected %d", mc->name, n, classes);
        if (rs || n != classes)
            continue;
        const double e = row_error(z, logits.f + (size_t)classes * r, classes);
        worst = e > worst ? e : worst;
        CHECK(st, e <= 1e-4, "%s row %d: logits off by %.3g (relative)", mc->name, r, e);
        for (int b = 0; b < mc->se_blocks && b < 16; b++) {
            mnas_se_block blk;
            if (!se[b].f || mnas_get_se(m, b, &blk))
                continue;
            const int ch = (int)se[b].dims[1];
            CHECK(st, blk.channels == ch, "%s %s: %d channels, expected %d", mc->name, blk.name, blk.channels, ch);
            if (blk.channels != ch)
                continue;
            double es = 0;
            for (int c = 0; c < ch; c++) {
                const double d = blk.values[c] - se[b].f[(size_t)ch * r + c];
                es = d < 0 ? (-d > es ? -d : es) : (d > es ? d : es);
            }
            worst_se = es > worst_se ? es : worst_se;
            CHECK(st, es <= 1e-5, "%s row %d %s: gate off by %.3g", mc->name, r, blk.name, es);
        }
    }
    printf("%-20s %-9s rows %d  max logit error %.2e  max gate error %.2e\n", mc->name,
           reference ? "reference" : mnas_backend(), rows, worst, worst_se);
    for (int b = 0; b < 16; b++)
        npy_free(&se[b]);
    npy_free(&in);
    npy_free(&logits);
    mnas_free(m);
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *dir = check_testdata();
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/models/refs/manifest.json", dir);
    FILE *f = fopen(probe, "rb");
    if (!f) {
        SKIP(&st, "reference data not found at %s (set MNAS_TESTDATA)", dir);
        return check_summary(&st, "test_models");
    }
    fclose(f);
    const char *level = getenv("MNAS_TEST_LEVEL");
    const int reduced = level && strcmp(level, "reduced") == 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_model(&st, dir, &cases[i], 0);
        /* the scalar oracle too, where time allows */
        if (!reduced)
            check_model(&st, dir, &cases[i], 1);
    }
    return check_summary(&st, "test_models");
}
