/* Seed models for the fuzzers; see seeds.h. Together they cover every op
 * the lowering accepts: Conv (group 1, depthwise, 1x1, auto_pad), BN, Relu,
 * Clip (inputs and attributes), Sigmoid, HardSigmoid, HardSwish, swish,
 * Mul, Add, ReduceMean (axes attribute and input), GlobalAveragePool,
 * Flatten, Reshape, Squeeze, Unsqueeze, Gemm, MatMul, Cast of fp16,
 * Identity, Constant and metadata_props. */
#include "seeds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_builder.h"

/* Deterministic small weights. */
static float *weights(size_t n, unsigned seed, float scale)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = scale * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
    return v;
}

static void init(onnx_builder *b, const char *name, const int64_t *dims, int nd, unsigned seed, float scale,
                 int fp16)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= (size_t)dims[i];
    float *v = weights(n, seed, scale);
    ob_init_f32(b, name, dims, nd, v, fp16);
    free(v);
}

/* BatchNormalization parameters name.{s,b,m,v} for c channels. */
static void bn(onnx_builder *b, const char *name, const char *in, const char *out, int c, unsigned seed)
{
    char s[64], bb[64], m[64], v[64];
    snprintf(s, sizeof s, "%s.s", name);
    snprintf(bb, sizeof bb, "%s.b", name);
    snprintf(m, sizeof m, "%s.m", name);
    snprintf(v, sizeof v, "%s.v", name);
    const int64_t d[1] = {c};
    init(b, s, d, 1, seed, 1.0f, 0);
    init(b, bb, d, 1, seed + 1, 0.5f, 0);
    init(b, m, d, 1, seed + 2, 0.2f, 0);
    float *var = weights((size_t)c, seed + 3, 0.5f);
    for (int i = 0; i < c; i++)
        var[i] += 0.6f;
    ob_init_f32(b, v, d, 1, var, 0);
    free(var);
    const char *ins[] = {in, s, bb, m, v}, *outs[] = {out};
    int n;
    ob_node(b, "BatchNormalization", name, ins, 5, outs, 1, &n);
    ob_attr_float(b, n, "epsilon", 1e-5f);
}

static int conv(onnx_builder *b, const char *name, const char *in, const char *w, const char *bias,
                const char *out, int k, int stride, int pad, int group)
{
    const char *ins[] = {in, w, bias}, *outs[] = {out};
    int n;
    ob_node(b, "Conv", name, ins, bias ? 3 : 2, outs, 1, &n);
    const int64_t ks[2] = {k, k}, st[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad};
    ob_attr_ints(b, n, "kernel_shape", ks, 2);
    if (stride != 1)
        ob_attr_ints(b, n, "strides", st, 2);
    if (pad)
        ob_attr_ints(b, n, "pads", pads, 4);
    if (group != 1)
        ob_attr_int(b, n, "group", group);
    return n;
}

static void unary(onnx_builder *b, const char *op, const char *name, const char *in, const char *out)
{
    const char *ins[] = {in}, *outs[] = {out};
    ob_node(b, op, name, ins, 1, outs, 1, NULL);
}

static void binary(onnx_builder *b, const char *op, const char *name, const char *x, const char *y,
                   const char *out)
{
    const char *ins[] = {x, y}, *outs[] = {out};
    ob_node(b, op, name, ins, 2, outs, 1, NULL);
}

/* Stem conv+BN+Relu, depthwise+BN+Relu, SE (ReduceMean, 1x1, Relu, 1x1,
 * HardSigmoid, Mul), projection+BN, residual Add, head 1x1+Relu, GAP,
 * Flatten, Gemm; 3x16x16 -> 10 classes with labels and preprocessing. */
static void model_tiny(onnx_builder *b)
{
    const int64_t xd[4] = {1, 3, 16, 16};
    ob_input(b, "input", xd, 4);
    const int64_t w0[4] = {8, 3, 3, 3}, wd[4] = {8, 1, 3, 3}, ws1[4] = {4, 8, 1, 1}, ws2[4] = {8, 4, 1, 1},
                  wp[4] = {8, 8, 1, 1}, wh[4] = {16, 8, 1, 1}, wfc[2] = {10, 16}, c4[1] = {4}, c8[1] = {8},
                  c10[1] = {10};
    init(b, "stem.w", w0, 4, 1, 1.0f, 0);
    init(b, "dw.w", wd, 4, 2, 1.0f, 0);
    init(b, "se.w1", ws1, 4, 3, 1.0f, 0);
    init(b, "se.b1", c4, 1, 4, 0.5f, 0);
    init(b, "se.w2", ws2, 4, 5, 1.0f, 0);
    init(b, "se.b2", c8, 1, 6, 0.5f, 0);
    init(b, "proj.w", wp, 4, 7, 1.0f, 0);
    init(b, "head.w", wh, 4, 8, 1.0f, 0);
    init(b, "fc.w", wfc, 2, 9, 1.0f, 0);
    init(b, "fc.b", c10, 1, 10, 0.5f, 0);
    conv(b, "stem", "input", "stem.w", NULL, "c0", 3, 2, 1, 1);
    bn(b, "stem.bn", "c0", "b0", 8, 20);
    unary(b, "Relu", "stem.relu", "b0", "r0");
    conv(b, "blocks.0.dw", "r0", "dw.w", NULL, "d1", 3, 1, 1, 8);
    bn(b, "blocks.0.bn", "d1", "b1", 8, 30);
    unary(b, "Relu", "blocks.0.relu", "b1", "r1");
    int n;
    const char *rm_in[] = {"r1"}, *rm_out[] = {"s0"};
    ob_node(b, "ReduceMean", "blocks.0.se.pool", rm_in, 1, rm_out, 1, &n);
    const int64_t axes[2] = {2, 3};
    ob_attr_ints(b, n, "axes", axes, 2);
    ob_attr_int(b, n, "keepdims", 1);
    conv(b, "blocks.0.se.fc1", "s0", "se.w1", "se.b1", "s1", 1, 1, 0, 1);
    unary(b, "Relu", "blocks.0.se.relu", "s1", "s2");
    conv(b, "blocks.0.se.fc2", "s2", "se.w2", "se.b2", "s3", 1, 1, 0, 1);
    const char *hs_in[] = {"s3"}, *hs_out[] = {"s4"};
    ob_node(b, "HardSigmoid", "blocks.0.se.gate", hs_in, 1, hs_out, 1, &n);
    ob_attr_float(b, n, "alpha", 1.0f / 6.0f);
    binary(b, "Mul", "blocks.0.se", "r1", "s4", "se");
    conv(b, "blocks.0.proj", "se", "proj.w", NULL, "p", 1, 1, 0, 1);
    bn(b, "blocks.0.proj.bn", "p", "pb", 8, 40);
    binary(b, "Add", "blocks.0.add", "pb", "r0", "res");
    conv(b, "head", "res", "head.w", NULL, "h", 1, 1, 0, 1);
    unary(b, "Relu", "head.relu", "h", "hr");
    unary(b, "GlobalAveragePool", "gap", "hr", "g");
    unary(b, "Flatten", "flatten", "g", "f");
    const char *fc_in[] = {"f", "fc.w", "fc.b"}, *fc_out[] = {"logits"};
    ob_node(b, "Gemm", "classifier", fc_in, 3, fc_out, 1, &n);
    ob_attr_int(b, n, "transB", 1);
    ob_output(b, "logits", NULL, -1);
    ob_prop(b, "mnas.labels", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]");
    ob_prop(b, "mnas.mean", "[0.5, 0.5, 0.5]");
    ob_prop(b, "mnas.std", "[0.25, 0.25, 0.25]");
}

/* Clip with Constant min/max inputs, HardSwish, depthwise 5x5 s2, Sigmoid,
 * ReduceMean, Reshape by a Constant shape, MatMul + Add, Identity. */
static void model_clip(onnx_builder *b)
{
    const int64_t xd[4] = {1, 3, 8, 8}, w[4] = {4, 3, 1, 1}, wd[4] = {4, 1, 5, 5}, m[2] = {4, 5}, c5[1] = {5};
    ob_input(b, "x", xd, 4);
    init(b, "w", w, 4, 51, 1.0f, 0);
    init(b, "wd", wd, 4, 53, 1.0f, 0);
    init(b, "M", m, 2, 54, 1.0f, 0);
    init(b, "bias", c5, 1, 55, 0.5f, 0);
    int n;
    const char *k0_out[] = {"lo"};
    ob_node(b, "Constant", "c_lo", NULL, 0, k0_out, 1, &n);
    ob_attr_float(b, n, "value_float", 0.0f);
    const char *k1_out[] = {"hi"};
    ob_node(b, "Constant", "c_hi", NULL, 0, k1_out, 1, &n);
    const float six = 6.0f;
    ob_attr_tensor_f32(b, n, "value", NULL, 0, &six);
    const char *k2_out[] = {"shape"};
    ob_node(b, "Constant", "c_shape", NULL, 0, k2_out, 1, &n);
    const int64_t shp[2] = {1, -1};
    ob_attr_ints(b, n, "value_ints", shp, 2);
    conv(b, "pw", "x", "w", NULL, "c", 1, 1, 0, 1);
    const char *cl_in[] = {"c", "lo", "hi"}, *cl_out[] = {"c6"};
    ob_node(b, "Clip", "relu6", cl_in, 3, cl_out, 1, NULL);
    unary(b, "HardSwish", "hswish", "c6", "hs");
    conv(b, "dw", "hs", "wd", NULL, "d", 5, 2, 2, 4);
    unary(b, "Sigmoid", "sig", "d", "sg");
    unary(b, "Identity", "ident", "sg", "sgi");
    const char *rm_in[] = {"sgi"}, *rm_out[] = {"pool"};
    ob_node(b, "ReduceMean", "pool", rm_in, 1, rm_out, 1, &n);
    const int64_t axes[2] = {-2, -1};
    ob_attr_ints(b, n, "axes", axes, 2);
    binary(b, "Reshape", "reshape", "pool", "shape", "flat");
    binary(b, "MatMul", "mm", "flat", "M", "mmo");
    binary(b, "Add", "mm.bias", "mmo", "bias", "y");
    ob_output(b, "y", NULL, -1);
}

/* fp16 weights behind Cast, Clip by attributes (opset 6 style), swish
 * (Sigmoid + Mul), same-shape Mul, auto_pad SAME_UPPER, GAP, Unsqueeze /
 * Squeeze, Gemm with a Constant tensor weight, alpha, beta, transB 0. */
static void model_fp16(onnx_builder *b)
{
    const int64_t xd[4] = {1, 3, 9, 7}, w[4] = {6, 3, 3, 3}, c6[1] = {6}, gd[2] = {6, 3}, c3[1] = {3};
    ob_input(b, "x", xd, 4);
    init(b, "w16", w, 4, 61, 1.0f, 1);
    init(b, "cb16", c6, 1, 62, 0.5f, 1);
    init(b, "gb", c3, 1, 63, 0.5f, 0);
    int n;
    const char *ca_in[] = {"w16"}, *ca_out[] = {"w"};
    ob_node(b, "Cast", "cast_w", ca_in, 1, ca_out, 1, &n);
    ob_attr_int(b, n, "to", 1);
    const char *cb_in[] = {"cb16"}, *cb_out[] = {"cb"};
    ob_node(b, "Cast", "cast_b", cb_in, 1, cb_out, 1, &n);
    ob_attr_int(b, n, "to", 1);
    const char *g_out[] = {"G"};
    ob_node(b, "Constant", "c_G", NULL, 0, g_out, 1, &n);
    float *gv = weights(18, 64, 1.0f);
    ob_attr_tensor_f32(b, n, "value", gd, 2, gv);
    free(gv);
    const char *c_in[] = {"x", "w", "cb"}, *c_out[] = {"c"};
    ob_node(b, "Conv", "conv", c_in, 3, c_out, 1, &n);
    ob_attr_string(b, n, "auto_pad", "SAME_UPPER");
    const int64_t st[2] = {2, 2};
    ob_attr_ints(b, n, "strides", st, 2);
    const char *cl_in[] = {"c"}, *cl_out[] = {"cc"};
    ob_node(b, "Clip", "clip", cl_in, 1, cl_out, 1, &n);
    ob_attr_float(b, n, "min", -1.0f);
    ob_attr_float(b, n, "max", 3.0f);
    unary(b, "Sigmoid", "sw.sig", "cc", "sg");
    binary(b, "Mul", "sw.mul", "cc", "sg", "sw");
    unary(b, "Relu", "relu", "sw", "r");
    binary(b, "Mul", "square", "r", "sw", "sq");
    unary(b, "GlobalAveragePool", "gap", "sq", "g");
    const int64_t ax[2] = {2, 3};
    const char *sq_in[] = {"g"}, *sq_out[] = {"f"};
    ob_node(b, "Squeeze", "squeeze", sq_in, 1, sq_out, 1, &n);
    ob_attr_ints(b, n, "axes", ax, 2);
    const char *gm_in[] = {"f", "G", "gb"}, *gm_out[] = {"y"};
    ob_node(b, "Gemm", "gemm", gm_in, 3, gm_out, 1, &n);
    ob_attr_float(b, n, "alpha", 0.5f);
    ob_attr_float(b, n, "beta", 2.0f);
    ob_attr_int(b, n, "transB", 0);
    ob_output(b, "y", NULL, -1);
    ob_prop(b, "mnas.source_size", "12");
}

/* opset 18: ReduceMean with axes as an input and keepdims 0, Unsqueeze
 * back to (1,C,1,1), a channel-scale Mul, two-branch Add, MatMul. */
static void model_opset18(onnx_builder *b)
{
    const int64_t xd[4] = {1, 3, 6, 10}, w[4] = {5, 3, 3, 3}, c5[1] = {5}, a2[1] = {2}, m[2] = {5, 4};
    ob_input(b, "x", xd, 4);
    init(b, "w", w, 4, 71, 1.0f, 0);
    init(b, "wb", c5, 1, 72, 0.5f, 0);
    init(b, "M", m, 2, 73, 1.0f, 0);
    const int64_t axes[2] = {2, 3};
    ob_init_i64(b, "axes", a2, 1, axes);
    conv(b, "conv", "x", "w", "wb", "c", 3, 1, 1, 1);
    unary(b, "HardSwish", "hs", "c", "h");
    const char *rm_in[] = {"h", "axes"}, *rm_out[] = {"p"};
    int n;
    ob_node(b, "ReduceMean", "pool", rm_in, 2, rm_out, 1, &n);
    ob_attr_int(b, n, "keepdims", 0);
    binary(b, "Unsqueeze", "unsq", "p", "axes", "pu");
    unary(b, "Sigmoid", "gate", "pu", "gt");
    binary(b, "Mul", "scale", "h", "gt", "sc");
    binary(b, "Add", "add", "sc", "h", "s");
    unary(b, "GlobalAveragePool", "gap", "s", "g");
    unary(b, "Flatten", "flat", "g", "f");
    binary(b, "MatMul", "mm", "f", "M", "y");
    ob_output(b, "y", NULL, -1);
}

/* What tf2onnx makes of a Keras model, with int8 weights: a channels-last
 * input rescaled by Mul/Sub and transposed, hard swish spelled out, a Pad
 * before a stride-2 depthwise, an SE block on a 1x1 map with a decomposed
 * hard-sigmoid gate, a conv whose weights come through DequantizeLinear
 * (int8, per axis, zero points), the pooled vector squeezed, MatMul + Add
 * and a final Softmax. */
static void model_keras_int8(onnx_builder *b)
{
    const int64_t xd[4] = {1, 2, 2, 3}, c3[1] = {3}, w0[4] = {8, 3, 3, 3}, c8[1] = {8}, wd[4] = {8, 1, 3, 3},
                  ws1[4] = {4, 8, 1, 1}, ws2[4] = {8, 4, 1, 1}, c4[1] = {4}, wq[4] = {6, 8, 1, 1}, c6[1] = {6},
                  wm[2] = {6, 5}, c5[1] = {5}, a8[1] = {8}, a2[1] = {2};
    ob_input(b, "image", xd, 4);
    init(b, "scale", c3, 1, 91, 0.02f, 0);
    init(b, "offset", c3, 1, 92, 1.0f, 0);
    init(b, "stem.w", w0, 4, 93, 1.0f, 0);
    init(b, "stem.b", c8, 1, 94, 0.5f, 0);
    init(b, "dw.w", wd, 4, 95, 1.0f, 0);
    init(b, "se1.w", ws1, 4, 96, 1.0f, 0);
    init(b, "se1.b", c4, 1, 97, 0.5f, 0);
    init(b, "se2.w", ws2, 4, 98, 1.0f, 0);
    init(b, "se2.b", c8, 1, 99, 0.5f, 0);
    init(b, "q.scale", c6, 1, 100, 0.01f, 0);
    init(b, "fc.w", wm, 2, 101, 1.0f, 0);
    init(b, "fc.b", c5, 1, 102, 0.5f, 0);
    const float three = 3.0f, zero = 0.0f, six = 6.0f, sixth = 1.0f / 6.0f;
    ob_init_f32(b, "three", NULL, 0, &three, 0);
    ob_init_f32(b, "zero", NULL, 0, &zero, 0);
    ob_init_f32(b, "six", NULL, 0, &six, 0);
    ob_init_f32(b, "sixth", NULL, 0, &sixth, 0);
    int64_t q[6 * 8], z[6];
    for (int i = 0; i < 48; i++)
        q[i] = (i * 37) % 255 - 127;
    for (int i = 0; i < 6; i++)
        z[i] = i - 3;
    ob_init_int(b, "q.x", wq, 4, GRAPH_DT_INT8, q);
    ob_init_int(b, "q.zero", c6, 1, GRAPH_DT_INT8, z);
    const int64_t pads[8] = {0, 0, 0, 0, 0, 0, 1, 1}, axes[2] = {2, 3};
    ob_init_i64(b, "pads", a8, 1, pads);
    ob_init_i64(b, "axes", a2, 1, axes);
    int n;
    binary(b, "Mul", "rescale", "image", "scale", "r1");
    binary(b, "Sub", "shift", "r1", "offset", "r2");
    const int64_t perm[4] = {0, 3, 1, 2};
    const char *t_in[] = {"r2"}, *t_out[] = {"nchw"};
    ob_node(b, "Transpose", "to_nchw", t_in, 1, t_out, 1, &n);
    ob_attr_ints(b, n, "perm", perm, 4);
    conv(b, "stem", "nchw", "stem.w", "stem.b", "s", 3, 1, 1, 1);
    binary(b, "Add", "hs.add", "s", "three", "h1");
    const char *c_in[] = {"h1", "zero", "six"}, *c_out[] = {"h2"};
    ob_node(b, "Clip", "hs.clip", c_in, 3, c_out, 1, NULL);
    binary(b, "Mul", "hs.mul", "s", "h2", "h3");
    binary(b, "Div", "hs.div", "h3", "six", "h");
    binary(b, "Pad", "pad", "h", "pads", "hp");
    conv(b, "dw", "hp", "dw.w", NULL, "d0", 3, 2, 0, 8);
    unary(b, "Relu", "dw.relu", "d0", "d");
    conv(b, "se1", "d", "se1.w", "se1.b", "e1", 1, 1, 0, 1);
    unary(b, "Relu", "se1.relu", "e1", "e2");
    conv(b, "se2", "e2", "se2.w", "se2.b", "e3", 1, 1, 0, 1);
    binary(b, "Add", "gate.add", "e3", "three", "g1");
    const char *g_in[] = {"g1", "zero", "six"}, *g_out[] = {"g2"};
    ob_node(b, "Clip", "gate.clip", g_in, 3, g_out, 1, NULL);
    binary(b, "Mul", "gate.mul", "g2", "sixth", "g");
    binary(b, "Mul", "se", "d", "g", "x");
    const char *dq_in[] = {"q.x", "q.scale", "q.zero"}, *dq_out[] = {"q.w"};
    ob_node(b, "DequantizeLinear", "q.dq", dq_in, 3, dq_out, 1, &n);
    ob_attr_int(b, n, "axis", 0);
    conv(b, "proj", "x", "q.w", NULL, "p", 1, 1, 0, 1);
    binary(b, "Squeeze", "squeeze", "p", "axes", "v");
    binary(b, "MatMul", "fc", "v", "fc.w", "m");
    binary(b, "Add", "fc.bias", "m", "fc.b", "l");
    unary(b, "Softmax", "softmax", "l", "probs");
    ob_output(b, "probs", NULL, -1);
}

typedef struct {
    const char *name;
    int64_t opset;
    void (*fn)(onnx_builder *);
} seed_def;

static const seed_def seeds[] = {
    {"mnas_tiny", 13, model_tiny},
    {"clip_constant_matmul", 13, model_clip},
    {"fp16_swish_gemm", 13, model_fp16},
    {"opset18_reduce_scale", 18, model_opset18},
    {"keras_int8", 13, model_keras_int8},
};

int fuzz_seed_count(void)
{
    return (int)(sizeof seeds / sizeof seeds[0]);
}

int fuzz_seed_build(int i, fuzz_seed *out)
{
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= fuzz_seed_count())
        return -1;
    onnx_builder *b = NULL;
    if (ob_new(seeds[i].opset, &b))
        return -1;
    seeds[i].fn(b);
    mnas_status st = ob_finish(b, &out->bytes, &out->len);
    if (st)
        fprintf(stderr, "seed %s: %s\n", seeds[i].name, ob_error(b));
    ob_free(b);
    out->name = seeds[i].name;
    return st ? -1 : 0;
}

/* ---- header mutants ------------------------------------------------------ */

static const char *const mutant_names[] = {
    "trunc_1", "trunc_half", "trunc_last", "ir_version_as_len", "graph_as_varint", "huge_graph_len",
    "varint_11_bytes", "group_wire", "field_0", "opset_1", "opset_huge", "second_graph",
};

int fuzz_mutant_count(void)
{
    return (int)(sizeof mutant_names / sizeof mutant_names[0]);
}

/* Offset of the first top-level key with this field number, or -1. */
static long find_field(const uint8_t *p, size_t n, unsigned field)
{
    size_t pos = 0;
    while (pos < n) {
        size_t at = pos;
        uint64_t k = 0;
        for (int s = 0; pos < n; s += 7) {
            uint8_t c = p[pos++];
            k |= (uint64_t)(c & 0x7f) << s;
            if (!(c & 0x80) || s > 56)
                break;
        }
        if ((k >> 3) == field)
            return (long)at;
        uint64_t len = 0;
        switch (k & 7) {
        case 0:
            while (pos < n && (p[pos++] & 0x80)) {}
            break;
        case 1: pos += 8; break;
        case 5: pos += 4; break;
        case 2:
            for (int s = 0; pos < n; s += 7) {
                uint8_t c = p[pos++];
                len |= (uint64_t)(c & 0x7f) << s;
                if (!(c & 0x80) || s > 56)
                    break;
            }
            pos += (size_t)len;
            break;
        default: return -1;
        }
    }
    return -1;
}

int fuzz_mutant_build(int v, fuzz_seed *out)
{
    fuzz_seed s;
    memset(out, 0, sizeof *out);
    if (v < 0 || v >= fuzz_mutant_count() || fuzz_seed_build(0, &s))
        return -1;
    uint8_t *p = malloc(s.len + 32);
    size_t n = s.len;
    memcpy(p, s.bytes, n);
    free(s.bytes);
    const long ir = find_field(p, n, 1), gr = find_field(p, n, 7), op = find_field(p, n, 8);
    switch (v) {
    case 0: n = 1; break;
    case 1: n /= 2; break;
    case 2: n -= 1; break;
    case 3:
        if (ir >= 0)
            p[ir] = (uint8_t)(1 << 3 | 2);
        break;
    case 4:
        if (gr >= 0)
            p[gr] = (uint8_t)(7 << 3 | 0);
        break;
    case 5:
        if (gr >= 0 && (size_t)gr + 5 <= n) {
            /* length varint of 0xffffff.. over the real one (prefix bytes only) */
            p[gr + 1] |= 0x80;
        }
        break;
    case 6:
        memmove(p + 12, p, n);
        p[0] = 1 << 3;
        for (int i = 1; i < 11; i++)
            p[i] = 0xff;
        p[11] = 0x01;
        n += 12;
        break;
    case 7:
        memmove(p + 1, p, n);
        p[0] = (uint8_t)(3 << 3 | 3);
        n += 1;
        break;
    case 8:
        memmove(p + 2, p, n);
        p[0] = 0;
        p[1] = 0;
        n += 2;
        break;
    case 9:
    case 10:
        if (op >= 0) {
            /* opset_import = {version: 1 or 2^63}; appended, so a later one wins */
            uint8_t *q = p + n;
            if (v == 9) {
                const uint8_t add[] = {8 << 3 | 2, 2, 2 << 3, 1};
                memcpy(q, add, sizeof add);
                n += sizeof add;
            } else {
                const uint8_t add[] = {8 << 3 | 2, 11, 2 << 3, 0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x80, 0x80, 0x80, 0x80, 0x01};
                memcpy(q, add, sizeof add);
                n += sizeof add;
            }
        }
        break;
    case 11: {
        const uint8_t add[] = {7 << 3 | 2, 0};
        memcpy(p + n, add, sizeof add);
        n += sizeof add;
        break;
    }
    }
    out->name = mutant_names[v];
    out->bytes = p;
    out->len = n;
    return 0;
}
