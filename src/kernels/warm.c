/* Kernel warm-up: every kernel of a set run on small zeroed tensors.
 *
 * Why: V8 (Node, Chromium) first runs wasm in its baseline compiler and
 * optimizes a function only after it has executed a while, in a background
 * thread, and a call that is already running never switches to the
 * optimized code. A model's first inference makes one long call per layer,
 * so without this each kernel's first layer (the stem and the 112x112
 * layers, the largest) ran 5-10x slower than later inferences. Called when
 * a model starts loading, this spends a few ms of baseline code per kernel
 * so that the optimizing compiles run in the background while the model
 * is read and packed. Natively it only costs the few microseconds of the
 * calls themselves. The outputs are discarded; values do not matter. */
#include <string.h>

#include "kernels/kernels.h"

/* The shapes: a channel count that fills whole vectors of every backend
 * (16 lanes at most) and a 10x10 image, small enough that one round of
 * every kernel is a few thousand vector operations. */
#define WARM_C 16
#define WARM_SIDE 10
#define WARM_PIXELS (WARM_SIDE * WARM_SIDE)

size_t mnas_kernels_warm_floats(const mnas_kernels *k)
{
    size_t w = k->pw_packed_floats(WARM_C, WARM_C) + k->pw_bias_floats(WARM_C);
    size_t d = k->dw_packed_floats(WARM_C, 5);
    size_t c = k->conv_packed_floats(3, WARM_C, 3, 3);
    if (d > w)
        w = d;
    if (c > w)
        w = c;
    /* weights, input, residual, output */
    return w + 3 * (size_t)WARM_PIXELS * WARM_C;
}

void mnas_kernels_warm(const mnas_kernels *k, float *buf, int rounds)
{
    float *in = buf;
    float *res = in + WARM_PIXELS * WARM_C;
    float *out = res + WARM_PIXELS * WARM_C;
    float *w = out + WARM_PIXELS * WARM_C;
    memset(buf, 0, mnas_kernels_warm_floats(k) * sizeof *buf);

    const mnas_act acts[] = {{ACT_RELU, 0, 0}, {ACT_SIGMOID, 0, 0}, {ACT_HSWISH, 0, 0}, {ACT_CLIP, 0, 6}};
    for (int r = 0; r < rounds; r++) {
        const mnas_act act = acts[r % (int)(sizeof acts / sizeof acts[0])];
        k->pw_run(in, WARM_PIXELS, WARM_C, w, w + k->pw_packed_floats(WARM_C, WARM_C), WARM_C, act,
                  r & 1 ? res : NULL, out);
        k->gemv_run(in, WARM_C, w, w, WARM_C, act, NULL, out);
        for (int ks = 3; ks <= 5; ks += 2)
            for (int s = 1; s <= 2; s++) {
                const int o = (WARM_SIDE + 2 * (ks / 2) - ks) / s + 1;
                const dw_params p = {WARM_SIDE, WARM_SIDE, WARM_C, ks, s, ks / 2, ks / 2, o, o, act};
                k->dw_run(&p, in, w, out);
            }
        const conv_params cp = {WARM_SIDE, WARM_SIDE, 3, WARM_C, 3, 3, 2, 2, 1, 1,
                                WARM_SIDE / 2, WARM_SIDE / 2, act};
        k->conv_run(&cp, in, w, NULL, out);
        k->gap_run(in, WARM_PIXELS, WARM_C, out);
        k->scale_ch_run(in, WARM_PIXELS, WARM_C, w, out);
        k->act_run(in, WARM_PIXELS * WARM_C, act, out);
        k->add_run(in, res, WARM_PIXELS * WARM_C, act, out);
        k->mul_run(in, res, WARM_PIXELS * WARM_C, out);
    }
}
