/* Kernel warm-up: every kernel of a set run on small zeroed tensors.
 *
 * Why: V8 (Node, Chromium) first runs wasm in its baseline compiler and
 * optimizes a function only after it has executed a while, in a background
 * thread, and a call that is already running never switches to the
 * optimized code. A model's first inference makes one long call per layer,
 * so without this each kernel's first layer (the stem and the 112x112
 * layers, the largest) ran several times slower than later inferences.
 * Called when a model starts loading, this spends a few ms of baseline
 * code so that the optimizing compiles run in the background while the
 * model is read and packed. Natively it only costs the calls themselves.
 * The outputs are discarded; values do not matter.
 *
 * How V8 decides: each function has a budget (Node 20: 1.8 MB, current
 * Chromium: 13 MB, --wasm-tiering-budget) from which its baseline code
 * subtracts, at every loop back edge and return, the machine-code size of
 * the loop body or function: roughly the bytes of code it executed. When
 * the budget runs out the function is queued for the optimizing compiler.
 * So what counts is how many loop iterations and calls a function makes,
 * not how much data it touches: the shapes below are small, and each
 * kernel is called as often as its own code size and loops need. Small
 * functions (the tile dispatch gemm_panel, the input transpose, mul) need
 * the most calls.
 *
 * Which functions: the ones a run calls, including the internal ones the
 * real layers take (the stem's im2col patches and the GEMM tiles behind
 * it, every 1x1 tile height and the narrow last panel, the one-pixel
 * matrix-vector path of the SE layers, both strides of the 3x3 and 5x5
 * depthwise kernels, the activation after each depthwise row, pooling,
 * the classifier's matrix-vector product); the threaded builds' workers
 * run the same functions on parts of a layer.
 *
 * Order: as a MnasNet first needs them (input, stem, first depthwise, 1x1,
 * strided depthwise, SE, 5x5, classifier), kernel by kernel, so that the
 * compiles of the first layers are queued, and run, first.
 *
 * `rounds` scales every count. With MNAS_WARM_ROUNDS (api/model.c) Node
 * 20 queues every function above but the smallest (pw_run_part, mul, the
 * narrow-panel tiles, which a run spends little time in), as seen with
 * --trace-wasm-compilation-times on a build linked with --profiling-funcs;
 * 12 to 16 rounds already queue them. Chromium's 7x larger budget is met
 * for the 1x1 GEMM's main tile, the late activations, the depthwise edges,
 * the row activation and add; meeting it for every kernel would cost some
 * 7x the baseline time in Node too, so the others are optimized there
 * during the first inference, as before. */
#include <string.h>

#include "kernels/kernels.h"

/* floats of each of the three regions: input (read only, stays zero),
 * residual (read only), output; the weights follow */
#define WARM_REGION 1600

/* Shapes, each inside a region and within the weights sized below. */
#define NCHW_PIXELS 256 /* input transpose: 64 blocks of four pixels */
#define STEM_CO 16      /* stem 3 -> 16, 3x3 stride 2, 3x17 -> 2x9 */
#define DW_C 8          /* depthwise channels: rows of edges and interior */
#define PW_CI 4         /* 1x1: short k loops, many tiles */
#define PW_CO 60        /* seven full panels and a narrow last one */
#define MV_CI 64        /* one pixel (SE): matrix-vector over 64 inputs */
#define SE_C 32
#define SE_PIXELS 49    /* pooling: three full runs of 16 pixels and one */
#define GEMV_CI 64      /* classifier: four-row blocks and a two-row tail */
#define GEMV_CO 22
#define EW_N 1024       /* elementwise */

size_t mnas_kernels_warm_floats(const mnas_kernels *k)
{
    size_t w = k->pw_packed_floats(MV_CI, PW_CO) + k->pw_bias_floats(PW_CO);
    size_t d = k->dw_packed_floats(DW_C, 5);
    size_t c = k->conv_packed_floats(3, STEM_CO, 3, 3);
    size_t g = (size_t)GEMV_CI * GEMV_CO + GEMV_CO;
    if (d > w)
        w = d;
    if (c > w)
        w = c;
    if (g > w)
        w = g;
    return w + 3 * (size_t)WARM_REGION;
}

/* `calls` depthwise runs of a k x k, stride s kernel on h x wd x DW_C,
 * padded as MnasNet pads (k / 2), with the activations of its rows. */
static void warm_dw(const mnas_kernels *k, int ks, int s, int h, int wd, const float *in, const float *w,
                    float *out, int calls)
{
    const mnas_act acts[] = {{ACT_RELU, 0, 0}, {ACT_CLIP, 0, 6}};
    const int pad = ks / 2;
    for (int r = 0; r < calls; r++) {
        const dw_params p = {h, wd, DW_C, ks, s, pad, pad, (h + 2 * pad - ks) / s + 1,
                             (wd + 2 * pad - ks) / s + 1, acts[r & 1]};
        k->dw_run(&p, in, w, out);
    }
}

void mnas_kernels_warm(const mnas_kernels *k, float *buf, int rounds)
{
    const float *in = buf;
    const float *res = buf + WARM_REGION;
    float *out = buf + 2 * WARM_REGION;
    float *w = buf + 3 * WARM_REGION;
    memset(buf, 0, mnas_kernels_warm_floats(k) * sizeof *buf);
    const mnas_act acts[] = {{ACT_RELU, 0, 0}, {ACT_CLIP, 0, 6}, {ACT_SIGMOID, 0, 0}, {ACT_HSWISH, 0, 0}};

    for (int r = 0; r < 4 * rounds; r++)
        k->nchw_to_nhwc(in, NCHW_PIXELS, 3, out);

    /* the stem: patches of pixels inside and on the border, then their GEMM */
    for (int r = 0; r < 4 * rounds; r++) {
        const conv_params cp = {3, 17, 3, STEM_CO, 3, 3, 2, 2, 1, 1, 2, 9, acts[r & 1]};
        k->conv_run(&cp, in, w, NULL, out);
    }

    warm_dw(k, 3, 1, 8, 4, in, w, out, 8 * rounds);

    /* 1x1: 13 pixels take tiles of 4+4+3+2 rows (6+4+3 with six-row
     * tiles), 14 take 4+4+4+2 (6+6+2); late activations and residuals
     * too; then one pixel, the SE layers' matrix-vector path */
    const float *bias = w + k->pw_packed_floats(MV_CI, PW_CO);
    for (int r = 0; r < 8 * rounds; r++) {
        k->pw_run(in, r & 2 ? 14 : 13, PW_CI, w, bias, PW_CO, acts[r & 3], r & 1 ? res : NULL, out);
        k->pw_run(in, 1, MV_CI, w, bias, PW_CO, acts[r & 3], NULL, out);
    }

    /* strided depthwise: twice the rows in, as many rows out */
    warm_dw(k, 3, 2, 16, 8, in, w, out, 6 * rounds);
    warm_dw(k, 5, 2, 16, 10, in, w, out, 3 * rounds);

    for (int r = 0; r < 4 * rounds; r++)
        k->gap_run(in, SE_PIXELS, SE_C, out);
    for (int r = 0; r < 8 * rounds; r++)
        k->scale_ch_run(in, SE_PIXELS, SE_C, w, out);

    warm_dw(k, 5, 1, 8, 6, in, w, out, 4 * rounds);

    for (int r = 0; r < 4 * rounds; r++)
        k->gemv_run(in, GEMV_CI, w, w, GEMV_CO, acts[r & 3], NULL, out);

    for (int r = 0; r < 4 * rounds; r++) {
        k->act_run(in, EW_N, acts[r & 3], out);
        k->add_run(in, res, EW_N, acts[r & 1], out);
        k->mul_run(in, res, EW_N, out);
    }
}
