/* libFuzzer target: mnas_load on arbitrary bytes; when a model loads, run
 * it once on a fixed input, read every result accessor, and free it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mnas.h"

/* Loaded models may be legitimately large (the limits allow 2^28-element
 * tensors); running one of those would only slow the fuzzer down. */
#define RUN_MAX_MACS ((int64_t)20 * 1000 * 1000)
#define RUN_MAX_ARENA ((int64_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mnas_model *m = NULL;
    if (mnas_create(&m))
        return 0;
    mnas_status st = mnas_load(m, data, size, NULL);
    if (st) {
        /* every failure carries a message */
        if (!mnas_error(m)[0])
            abort();
        mnas_free(m);
        return 0;
    }
    mnas_stats stats;
    int h = 0, w = 0, c = 0;
    if (mnas_get_stats(m, &stats) || mnas_input_shape(m, &h, &w, &c))
        abort();
    for (int i = 0; i < stats.layers; i++) {
        mnas_layer l;
        if (mnas_get_layer(m, i, &l) || !l.name || !l.kind)
            abort();
    }
    if (stats.macs <= RUN_MAX_MACS && stats.arena_bytes <= RUN_MAX_ARENA) {
        const size_t n = (size_t)h * w * c;
        float *x = mnas_input_buffer(m);
        for (size_t i = 0; i < n; i++)
            x[i] = (float)(i % 17) * 0.125f - 1.0f;
        if (mnas_run(m, x, n))
            abort();
        /* and once through the image path (crop, optional downscale, resize) */
        if (c == 3) {
            static uint8_t px[5 * 23];
            for (size_t i = 0; i < sizeof px; i++)
                px[i] = (uint8_t)(i * 37 + size);
            if (mnas_run_image(m, px, 7, 5, 23, MNAS_RGB))
                abort();
        }
        int count = 0;
        const float *z = mnas_logits(m, &count);
        if (!z || count != mnas_num_classes(m))
            abort();
        int idx[5];
        float prob[5];
        int written = 0;
        if (mnas_topk(m, 5, idx, prob, &written))
            abort();
        for (int i = 0; i < written; i++)
            if (idx[i] < 0 || idx[i] >= count || !mnas_label(m, idx[i]))
                abort();
        for (int i = 0; i < mnas_se_count(m); i++) {
            mnas_se_block b;
            if (mnas_get_se(m, i, &b) || !b.values)
                abort();
            volatile float sink = b.values[b.channels - 1];
            (void)sink;
        }
    }
    mnas_free(m);
    return 0;
}
