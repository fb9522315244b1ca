/* Results do not depend on the thread count, nor on whether blocks run
 * fused: on every model in <testdata>/models (and the shipped default
 * model), the logits and every SE gate of each reference input row are
 * compared bit for bit between one thread running every layer whole
 * (layer_by_layer) and fused blocks on 1, 2, 3 and 4 threads, each on a
 * freshly loaded model, and on one model whose thread count is changed
 * between runs with mnas_set_threads (larger counts start a new pool and
 * more band slots, smaller ones leave workers asleep). Machines with fewer
 * cores run the same counts: the split, not the hardware, decides the work
 * each thread gets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mnas.h"
#include "cli/npy.h"

static const char *const models[] = {"mnasnet_a1",        "mnasnet_b1_0.5",  "mnasnet_a1_cifar10",
                                     "mobilenet_v3_small", "mobilenetv2_050", "tinynet_e"};

/* Logits then every gate, per row: what a run's results are. */
typedef struct {
    float *v;
    size_t per_row;
    int rows;
} results;

static size_t result_floats(const mnas_model *m)
{
    size_t n = (size_t)mnas_num_classes(m);
    for (int b = 0; b < mnas_se_count(m); b++) {
        mnas_se_block blk;
        if (mnas_get_se(m, b, &blk) == MNAS_OK)
            n += (size_t)blk.channels;
    }
    return n;
}

/* Runs every row and copies the results of row r to out + r * per_row. */
static int run_rows(check_state *st, mnas_model *m, const char *name, const npy_array *in, float *out, size_t per_row)
{
    const int rows = (int)in->dims[0];
    const size_t per = in->count / (size_t)rows;
    for (int r = 0; r < rows; r++) {
        const mnas_status s = mnas_run_nchw(m, in->f + per * r, per);
        CHECK(st, s == MNAS_OK, "%s row %d (%d threads): %s", name, r, mnas_threads(m), mnas_error(m));
        if (s)
            return -1;
        int n = 0;
        const float *z = mnas_logits(m, &n);
        float *o = out + per_row * (size_t)r;
        memcpy(o, z, (size_t)n * sizeof(float));
        o += n;
        for (int b = 0; b < mnas_se_count(m); b++) {
            mnas_se_block blk;
            mnas_get_se(m, b, &blk);
            memcpy(o, blk.values, (size_t)blk.channels * sizeof(float));
            o += blk.channels;
        }
    }
    return 0;
}

static mnas_model *load(check_state *st, const char *path, int threads, int layer_by_layer)
{
    mnas_model *m = NULL;
    mnas_options opt;
    memset(&opt, 0, sizeof opt);
    opt.threads = threads;
    opt.layer_by_layer = layer_by_layer;
    mnas_create(&m);
    const mnas_status s = mnas_load_file(m, path, &opt);
    CHECK(st, s == MNAS_OK, "%s (%d threads): %s", path, threads, mnas_error(m));
    if (s) {
        mnas_free(m);
        return NULL;
    }
    CHECK(st, mnas_threads(m) == threads, "%s: loaded with threads = %d, runs on %d", path, threads, mnas_threads(m));
    return m;
}

/* Layers that run in a fused block. */
static int fused_layers(const mnas_model *m)
{
    mnas_stats s;
    int n = 0;
    if (mnas_get_stats(m, &s) != MNAS_OK)
        return 0;
    for (int i = 0; i < s.layers; i++) {
        mnas_layer l;
        n += mnas_get_layer(m, i, &l) == MNAS_OK && l.fused_with >= 0;
    }
    return n;
}

static void compare(check_state *st, const char *name, const char *how, const results *want, const float *got)
{
    const size_t n = want->per_row * (size_t)want->rows;
    size_t at = n;
    for (size_t i = 0; i < n && at == n; i++)
        if (memcmp(&want->v[i], &got[i], sizeof(float)) != 0)
            at = i;
    CHECK(st, at == n, "%s %s: result %zu of row %zu differs from one thread layer by layer (%.9g vs %.9g)", name, how,
          at % want->per_row, at / want->per_row, at < n ? (double)got[at] : 0.0, at < n ? (double)want->v[at] : 0.0);
}

static void check_model(check_state *st, const char *name, const char *model_path, const char *input_path)
{
    char err[512];
    npy_array in;
    if (npy_read(input_path, &in, err, sizeof err)) {
        CHECK(st, 0, "%s", err);
        return;
    }
    mnas_model *m = load(st, model_path, 1, 1);
    if (!m) {
        npy_free(&in);
        return;
    }
    results want = {NULL, result_floats(m), (int)in.dims[0]};
    want.v = malloc(want.per_row * (size_t)want.rows * sizeof(float));
    float *got = malloc(want.per_row * (size_t)want.rows * sizeof(float));
    if (!want.v || !got || run_rows(st, m, name, &in, want.v, want.per_row)) {
        CHECK(st, want.v && got, "out of memory");
        goto done;
    }
    mnas_free(m);
    m = NULL;

    int fused = 0;
    for (int t = 1; t <= 4; t++) {
        mnas_model *mt = load(st, model_path, t, 0);
        if (!mt)
            continue;
        if (t == 1)
            fused = fused_layers(mt);
        char how[64];
        snprintf(how, sizeof how, "fused, loaded with %d threads", t);
        if (run_rows(st, mt, name, &in, got, want.per_row) == 0)
            compare(st, name, how, &want, got);
        mnas_free(mt);
    }

    /* Fusion must have happened where it matters most: the 224x224 A1. */
    if (strcmp(name, "mnasnet_a1") == 0)
        CHECK(st, fused > 0, "%s: no layer runs in a fused block", name);

    /* One model, its thread count changed between runs. */
    static const int sequence[] = {4, 1, 3, 2, 4, 1, 6};
    m = load(st, model_path, 2, 0);
    for (size_t i = 0; m && i < sizeof sequence / sizeof sequence[0]; i++) {
        const int t = sequence[i];
        CHECK(st, mnas_set_threads(m, t) == MNAS_OK && mnas_threads(m) == t, "%s: set_threads(%d): %s, runs on %d",
              name, t, mnas_error(m), mnas_threads(m));
        char how[64];
        snprintf(how, sizeof how, "fused, set to %d threads", t);
        if (run_rows(st, m, name, &in, got, want.per_row) == 0)
            compare(st, name, how, &want, got);
    }
    printf("%-20s rows %d, %zu results a row, %d layers in fused blocks: layer by layer = fused on 1 = 2 = 3 = 4 "
           "= switched threads, bit for bit\n", name, want.rows, want.per_row, fused);
done:
    free(want.v);
    free(got);
    mnas_free(m);
    npy_free(&in);
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *dir = check_testdata();
    char probe[1024], path[1024];
    snprintf(probe, sizeof probe, "%s/models/refs/manifest.json", dir);
    FILE *f = fopen(probe, "rb");
    if (!f) {
        SKIP(&st, "reference data not found at %s (set MNAS_TESTDATA)", dir);
        return check_summary(&st, "test_threads");
    }
    fclose(f);
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        snprintf(path, sizeof path, "%s/models/%s.onnx", dir, models[i]);
        snprintf(probe, sizeof probe, "%s/models/refs/%s/input.npy", dir, models[i]);
        check_model(&st, models[i], path, probe);
    }
    /* the shipped default model: fp16 weights, labels and preprocessing metadata */
    const char *src = getenv("MNAS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/models/mnasnet_a1_cifar10.onnx", src && *src ? src : ".");
    snprintf(probe, sizeof probe, "%s/models/refs/mnasnet_a1_cifar10/input.npy", dir);
    check_model(&st, "default model", path, probe);

    /* Asking for threads: limits and states. */
    mnas_model *m = NULL;
    mnas_create(&m);
    CHECK(&st, mnas_set_threads(m, 2) == MNAS_E_STATE, "set_threads before a load");
    CHECK(&st, mnas_threads(m) == 1 && mnas_threads(NULL) == 1, "threads without a model");
    mnas_options opt;
    memset(&opt, 0, sizeof opt);
    opt.threads = MNAS_MAX_THREADS + 1;
    CHECK(&st, mnas_load_file(m, path, &opt) == MNAS_E_LIMIT && strstr(mnas_error(m), "to 64"),
          "threads over the limit: %s", mnas_error(m));
    opt.threads = -1;
    CHECK(&st, mnas_load_file(m, path, &opt) == MNAS_E_ARG, "negative threads: %s", mnas_error(m));
    opt.threads = 0;
    CHECK(&st, mnas_load_file(m, path, &opt) == MNAS_OK && mnas_threads(m) >= 1 &&
                   mnas_threads(m) <= MNAS_AUTO_THREADS,
          "automatic threads: %d (%s)", mnas_threads(m), mnas_error(m));
    CHECK(&st, mnas_set_threads(m, MNAS_MAX_THREADS + 1) == MNAS_E_LIMIT, "set_threads over the limit");
    CHECK(&st, mnas_thread_work(m, 1) == MNAS_E_STATE, "native builds start their own workers");
    printf("automatic: %d threads\n", mnas_threads(m));
    mnas_free(m);
    return check_summary(&st, "test_threads");
}
