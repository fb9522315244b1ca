/* CIFAR-10 end to end through the C preprocessing: the shared fp32 model
 * must reproduce PyTorch's predictions (>= 99.9% identical) and the shipped
 * fp16 default model must stay within 10 images of its accuracy. The split
 * and PyTorch's predictions come from ../shared (MNAS_TESTDATA). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cifar.h"

typedef struct {
    int n, agree, correct;
} eval_result;

static eval_result evaluate(check_state *st, const char *model, const mnas_options *opt, const cifar_set *set,
                            const uint8_t *pred)
{
    eval_result r = {0, 0, 0};
    mnas_model *m = NULL;
    mnas_create(&m);
    const mnas_status s = mnas_load_file(m, model, opt);
    CHECK(st, s == MNAS_OK, "%s: %s", model, mnas_error(m));
    for (int i = 0; !s && i < set->n; i++) {
        const int top = cifar_classify(m, set, i);
        CHECK(st, top >= 0, "%s image %d: %s", model, i, mnas_error(m));
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

int main(void)
{
    check_state st = {0, 0, 0};
    const char *level = getenv("MNAS_TEST_LEVEL");
    const int reduced = level && strcmp(level, "reduced") == 0;
    char path[1024], pred_path[1024];
    const char *src = getenv("MNAS_SOURCE_DIR");
    src = src && *src ? src : ".";
    char default_model[1024];
    snprintf(default_model, sizeof default_model, "%s/models/mnasnet_a1_cifar10.onnx", src);
    mnas_options cifar_opt;
    memset(&cifar_opt, 0, sizeof cifar_opt);
    cifar_opt.source_size = 32; /* what the default model's metadata says */
    /* Reduced runs (sanitizers, qemu) see at most 200 inferences: 100 images
     * through the fp32 and the fp16 model. */
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
    snprintf(path, sizeof path, "%s/models/mnasnet_a1_cifar10.onnx", dir);
    const eval_result r32 = evaluate(&st, path, &cifar_opt, &set, pred);
    report("shared fp32 model", &r32);
    const eval_result r16 = evaluate(&st, default_model, NULL, &set, pred);
    report("default model (fp16)", &r16);
    /* 9,990 of 10,000 identical; on a reduced run at most one miss in 100 */
    const int allowed = reduced ? 1 : set.n / 1000;
    CHECK(&st, r32.n - r32.agree <= allowed, "fp32: %d of %d predictions differ from PyTorch (allowed %d)",
          r32.n - r32.agree, r32.n, allowed);
    const int gap = r16.correct > r32.correct ? r16.correct - r32.correct : r32.correct - r16.correct;
    CHECK(&st, gap <= (reduced ? 1 : 10), "fp16 accuracy differs from fp32 by %d images", gap);
    cifar_free(&set);
    free(pred);
    return check_summary(&st, "test_cifar");
}
