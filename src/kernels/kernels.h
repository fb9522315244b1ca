/* The kernel interface: pointers, dims and an activation, nothing else.
 * Two implementations exist: the scalar reference (kernels/ref.c, the
 * oracle every SIMD kernel is tested against) and the SIMD kernels written
 * once against the vector layer (kernels/simd_*.c). Each implementation
 * packs weights in its own layout, so packing lives beside the kernels; a
 * pack function writes every float of its *_packed_floats() size, padding
 * included (the weight blob is not cleared beforehand). */
#ifndef MNAS_KERNELS_H
#define MNAS_KERNELS_H

#include <stddef.h>

typedef enum {
    ACT_NONE = 0,
    ACT_RELU,       /* max(x, 0) */
    ACT_CLIP,       /* min(max(x, a), b); ReLU6 is a=0, b=6 */
    ACT_SIGMOID,    /* 1 / (1 + exp(-x)) */
    ACT_HSIGMOID,   /* max(0, min(1, a*x + b)) */
    ACT_HSWISH,     /* x * max(0, min(1, x/6 + 1/2)) */
    ACT_SILU        /* x * sigmoid(x) (swish) */
} act_kind;

typedef struct {
    int kind;       /* act_kind */
    float a, b;
} mnas_act;

/* Depthwise convolution, NHWC, square k x k kernel, channel multiplier 1. */
typedef struct {
    int in_h, in_w, c;
    int k, stride;
    int pad_t, pad_l;          /* bottom/right padding is implied by out_h/out_w */
    int out_h, out_w;
    mnas_act act;
} dw_params;

/* Full convolution (group 1), NHWC, kh x kw kernel (the stem). */
typedef struct {
    int in_h, in_w, ci, co;
    int kh, kw, stride_h, stride_w;
    int pad_t, pad_l;
    int out_h, out_w;
    mnas_act act;
} conv_params;

/* Where pw_pack reads its weights: read(r, o0, n, dst) stores rows
 * o0 .. o0+n-1 of the [co][ci] weight matrix as fp32, row-major, in dst.
 * Lowering reads them straight from the model file (fp32 or fp16), so no
 * fp32 copy of a whole tensor is made while a model loads. */
typedef struct mnas_row_reader {
    void (*read)(const struct mnas_row_reader *r, int o0, int n, float *dst);
    /* Row o of the weights is read() times scale[o] (a folded BatchNormalization
     * or Gemm's alpha); NULL for 1. pw_pack applies it while it transposes. */
    const float *scale;
} mnas_row_reader;

/* pw_pack reads at most this many rows at once: its scratch holds
 * min(co, MNAS_PACK_ROWS) * ci floats. */
#define MNAS_PACK_ROWS 32

/* Builds with threads also run kernels on parts of their output; the
 * single-thread WebAssembly modules (no atomics) leave the parts out of
 * the table, so the whole calls inline them and the modules stay small. */
#if !defined(__wasm__) || defined(__wasm_atomics__)
#define MNAS_KERNEL_PARTS 1
#else
#define MNAS_KERNEL_PARTS 0
#endif

typedef struct mnas_kernels {
    const char *name;

    /* 1x1 convolution / GEMM: out[p][o] = act(sum_i in[p][i] * w[o][i] + bias[o]) (+ residual[p][o]).
     * w is [co][ci] (ONNX OIHW with 1x1 spatial); bias may be NULL; residual may be NULL.
     * Packed weights (pw_packed_floats) and bias (pw_bias_floats) are separate blocks.
     * pw_pack_in_place, when not 0: pack stores the packed rows [o0, o0 + n)
     * only in w_dst[o0 * ci .. (o0 + n) * ci), after reading those rows; so
     * when pw_packed_floats(ci, co) == ci * co, w_dst may be the fp32 rows'
     * own storage (or start a little before it), aligned to this many
     * bytes, and weights are packed where the model file holds them. */
    size_t (*pw_packed_floats)(int ci, int co);
    size_t (*pw_bias_floats)(int co);
    int pw_pack_in_place;
    void (*pw_pack)(const mnas_row_reader *w, const float *bias, int ci, int co, float *w_dst, float *b_dst,
                    float *scratch);
    void (*pw_run)(const float *in, int pixels, int ci, const float *w, const float *bias, int co,
                   mnas_act act, const float *residual, float *out);
    /* The same for one pixel over unpacked weights: w is the [co][ci] rows as
     * a model stores them (read in place, nothing to pack), bias co floats or
     * NULL: out[o] = act(sum_i x[i] * w[o][i] + bias[o]) (+ residual[o]). */
    void (*gemv_run)(const float *x, int ci, const float *w, const float *bias, int co, mnas_act act,
                        const float *residual, float *out);

    /* Depthwise: w is [c][k][k] (ONNX [c][1][k][k]); bias may be NULL. */
    size_t (*dw_packed_floats)(int c, int k);
    void (*dw_pack)(const float *w, const float *bias, int c, int k, float *dst);
    void (*dw_run)(const dw_params *p, const float *in, const float *packed, float *out);

    /* Full conv: w is [co][ci][kh][kw]; bias may be NULL; residual may be NULL. */
    size_t (*conv_packed_floats)(int ci, int co, int kh, int kw);
    void (*conv_pack)(const float *w, const float *bias, int ci, int co, int kh, int kw, float *dst);
    void (*conv_run)(const conv_params *p, const float *in, const float *packed,
                     const float *residual, float *out);

    /* Global average pool over pixels: out[c] = mean_p in[p][c]. */
    void (*gap_run)(const float *in, int pixels, int c, float *out);
    /* out[p][c] = in[p][c] * scale[c]; out may equal in. */
    void (*scale_ch_run)(const float *in, int pixels, int c, const float *scale, float *out);
    /* Elementwise over n floats; out may equal an input. */
    void (*act_run)(const float *in, size_t n, mnas_act act, float *out);
    void (*add_run)(const float *a, const float *b, size_t n, mnas_act act, float *out);
    void (*mul_run)(const float *a, const float *b, size_t n, float *out);
    /* Planar to interleaved: dst[p][ch] = src[ch][p] for hw pixels of c
     * channels (an NCHW input tensor to the engine's NHWC). */
    void (*nchw_to_nhwc)(const float *src, size_t hw, int c, float *dst);

#if MNAS_KERNEL_PARTS
    /* Parts of one call, for splitting a step across threads (plan/run.c).
     * Each computes the outputs of its part exactly as the whole call does,
     * bit for bit, so a result never depends on how a step was split:
     *   pw_run_part:   pixels [p0, p1) x output channels [o0, o1); o0 and o1
     *                  multiples of pw_cols_align (o1 may be co); pixel
     *                  bounds on multiples of pw_rows_align keep tiles whole;
     *   gemv_run on rows [o0, co') of w (pointers moved by o0): the same
     *                  values when o0 is a multiple of gemv_rows_align;
     *   dw_run_rows, conv_run_rows: output rows [y0, y1);
     *   gap_run_part:  channels [c0, c1). */
    int pw_rows_align, pw_cols_align, gemv_rows_align;
    void (*pw_run_part)(const float *in, int pixels, int ci, const float *w, const float *bias, int co,
                        mnas_act act, const float *residual, float *out, int p0, int p1, int o0, int o1);
    void (*dw_run_rows)(const dw_params *p, const float *in, const float *packed, float *out, int y0, int y1);
    void (*conv_run_rows)(const conv_params *p, const float *in, const float *packed, const float *residual,
                          float *out, int y0, int y1);
    void (*gap_run_part)(const float *in, int pixels, int c, float *out, int c0, int c1);
#endif
} mnas_kernels;

extern const mnas_kernels mnas_kernels_ref;
/* The best kernels compiled into this build (the reference when no SIMD). */
const mnas_kernels *mnas_kernels_best(void);

/* mnas_row_reader over a dense [rows][row_len] fp32 array. */
typedef struct {
    mnas_row_reader base;
    const float *w;
    size_t row_len;
} mnas_dense_row_reader;
const mnas_row_reader *mnas_dense_row_reader_init(mnas_dense_row_reader *r, const float *w, size_t row_len);

/* pw_pack from a dense [co][ci] array, rows times scale[o] unless scale is
 * NULL (tests and tools); 0 when out of memory. */
int mnas_pw_pack_dense(const mnas_kernels *k, const float *w, const float *scale, const float *bias, int ci,
                       int co, float *w_dst, float *b_dst);

/* Scalar activation, shared by every implementation's tail handling. */
float mnas_act_apply(mnas_act act, float x);

/* Warm-up (warm.c): every kernel of k, called a multiple of `rounds` times
 * (as often as V8's tier-up needs for each), on small zeroed tensors in buf
 * (mnas_kernels_warm_floats(k) floats). */
size_t mnas_kernels_warm_floats(const mnas_kernels *k);
void mnas_kernels_warm(const mnas_kernels *k, float *buf, int rounds);

#endif
