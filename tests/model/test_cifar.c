/* CIFAR-10 end to end through the C preprocessing: the shared fp32 model
 * must reproduce PyTorch's predictions (>= 99.9% identical); its fp16
 * packing (the former default model) must stay within 10 images of its
 * accuracy; the shipped default model, int8 weights, must be exactly what
 * `mnas pack --int8` makes of the fp32 model and lose at most 0.3 points
 * (30 images), the bar it was shipped on. The split and PyTorch's
 * predictions come from ../shared (MNAS_TESTDATA). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cifar.h"

typedef struct {
    int n, agree, correct;
} eval_result;

static eval_result evaluate(check_state *st, const char *what, const uint8_t *bytes, size_t len,
                            const mnas_options *opt, const cifar_set *set, const uint8_t *pred)
{
    eval_result r = {0, 0, 0};
    mnas_model *m = NULL;
    mnas_create(&m);
    const mnas_status s = bytes ? mnas_load(m, bytes, len, opt) : MNAS_E_IO;
    CHECK(st, s == MNAS_OK, "%s: %s", what, bytes ? mnas_error(m) : "cannot read the model");
    for (int i = 0; !s && i < set->n; i++) {
        const int top = cifar_classify(m, set, i);
        CHECK(st, top >= 0, "%s image %d: %s", what, i, mnas_error(m));
        r.n++;
        r.agree += top == pred[i];
        r.correct += top == set->records[(size_t)i * CIFAR_RECORD];
    }
    mnas_free(m);
    return r;
}

static void report(const char *what, const eval_result *r)
{
    printf("%-34s %5d images  accuracy %.2f%%  identical to PyTorch %d / %d\n", what, r->n,
           r->n ? 100.0 * r->correct / r->n : 0.0, r->agree, r->n);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    rewind(f);
    uint8_t *b = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = b ? (size_t)n : 0;
    if (b)
        b[*len] = 0;
    return b;
}

/* models/cifar10_labels.txt (one a line) as a JSON array. */
static char *labels_json(const char *src)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/cifar10_labels.txt", src);
    size_t len = 0;
    char *text = (char *)read_all(path, &len);
    char *out = text ? malloc(len * 2 + 8) : NULL;
    if (!out) {
        free(text);
        return NULL;
    }
    size_t o = 0;
    out[o++] = '[';
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        o += (size_t)sprintf(out + o, "%s\"%s\"", o > 1 ? "," : "", line);
    out[o++] = ']';
    out[o] = 0;
    free(text);
    return out;
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *level = getenv("MNAS_TEST_LEVEL");
    const int reduced = level && strcmp(level, "reduced") == 0;
    char path[1024], pred_path[1024];
    const char *src = getenv("MNAS_SOURCE_DIR");
    src = src && *src ? src : ".";
    mnas_options cifar_opt;
    memset(&cifar_opt, 0, sizeof cifar_opt);
    cifar_opt.source_size = 32; /* what the default model's metadata says */
    /* Reduced runs (sanitizers, qemu) see at most 300 inferences: 100
     * images through each of the three models. */
    const char *dir = check_testdata();
    snprintf(path, sizeof path, "%s/data/cifar10_test.bin", dir);
    snprintf(pred_path, sizeof pred_path, "%s/models/refs/mnasnet_a1_cifar10/test_pred.npy", dir);
    cifar_set set;
    uint8_t *pred = NULL;
    int n_pred = 0;
    const int per_class = reduced ? 10 : 1000;
    if (cifar_read(path, 1000, per_class, &set) != 0 ||
        cifar_read_u8(pred_path, 1000, per_class, &pred, &n_pred) != 0) {
        SKIP(&st, "CIFAR-10 split not found under %s (set MNAS_TESTDATA)", dir);
        free(pred);
        return check_summary(&st, "test_cifar");
    }
    CHECK(&st, n_pred == set.n, "%d predictions for %d images", n_pred, set.n);
    size_t len32 = 0, len_def = 0, len16 = 0, len8 = 0;
    snprintf(path, sizeof path, "%s/models/mnasnet_a1_cifar10.onnx", dir);
    uint8_t *m32 = read_all(path, &len32);
    snprintf(path, sizeof path, "%s/models/mnasnet_a1_cifar10.onnx", src);
    uint8_t *def = read_all(path, &len_def);

    /* the packings of models/README.md, made here */
    char *labels = labels_json(src);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    mnas_pack_options po = {labels, mean, std, 32, 1, 0};
    uint8_t *m16 = NULL, *m8 = NULL;
    char err[256] = "";
    CHECK(&st, m32 && labels && mnas_pack(m32, len32, &po, &m16, &len16, err, sizeof err) == MNAS_OK, "fp16 pack: %s", err);
    po.fp16 = 0;
    po.int8 = 1;
    CHECK(&st, m32 && labels && mnas_pack(m32, len32, &po, &m8, &len8, err, sizeof err) == MNAS_OK, "int8 pack: %s", err);
    CHECK(&st, def && m8 && len_def == len8 && memcmp(def, m8, len8) == 0,
          "models/mnasnet_a1_cifar10.onnx (%zu bytes) is not `mnas pack --int8` of the fp32 model (%zu bytes)", len_def,
          len8);

    const eval_result r32 = evaluate(&st, "shared fp32 model", m32, len32, &cifar_opt, &set, pred);
    report("shared fp32 model", &r32);
    const eval_result r16 = evaluate(&st, "fp16 packing", m16, len16, NULL, &set, pred);
    report("fp16 packing", &r16);
    const eval_result r8 = evaluate(&st, "default model (int8)", def, len_def, NULL, &set, pred);
    report("default model (int8 weights)", &r8);
    printf("sizes: fp32 %zu bytes, fp16 %zu bytes, int8 (default) %zu bytes\n", len32, len16, len_def);
    /* 9,990 of 10,000 identical; on a reduced run at most one miss in 100 */
    const int allowed = reduced ? 1 : set.n / 1000;
    CHECK(&st, r32.n - r32.agree <= allowed, "fp32: %d of %d predictions differ from PyTorch (allowed %d)",
          r32.n - r32.agree, r32.n, allowed);
    const int gap16 = r16.correct > r32.correct ? r16.correct - r32.correct : r32.correct - r16.correct;
    CHECK(&st, gap16 <= (reduced ? 1 : 10), "fp16 accuracy differs from fp32 by %d images", gap16);
    /* shipped on: within 0.3 points of fp32 on the whole split */
    const int lost8 = r32.correct - r8.correct;
    CHECK(&st, lost8 <= (reduced ? 3 : 30), "int8 accuracy is %d images below fp32", lost8);
    cifar_free(&set);
    free(pred);
    free(m32);
    free(def);
    free(labels);
    mnas_buffer_free(m16);
    mnas_buffer_free(m8);
    return check_summary(&st, "test_cifar");
}
