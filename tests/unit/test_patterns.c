/* The shapes TensorFlow/Keras exports (through tf2onnx) and PyTorch
 * exports give a small MBConv network, each next to its plain twin built
 * the way the engine always ran: a final Softmax, a channels-last input
 * behind Transpose(perm = [0, 3, 1, 2]), a Pad before a (depthwise) Conv,
 * Keras' decomposed hard sigmoid and hard swish (also as the SE gate), a
 * leading Rescaling, per-channel Mul/Add/Sub/Div after a Conv, the SE block
 * on a 1x1 map, and the pooled vector squeezed or reshaped every which way.
 * Each pattern must give its twin's logits (within 1e-4 relative) and SE
 * gates, and fold into a plan of as many steps; the refused variants must
 * say which node is at fault. With MNAS_WRITE_PATTERNS=DIR the models are
 * also written there (tests/js/patterns.test.mjs compares them with ONNX
 * Runtime); the copies committed in tests/fixtures/patterns must be what
 * this program builds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mnas.h"
#include "onnx_builder.h"

static check_state S;

/* ---- the network ---------------------------------------------------------
 * stem Conv 3x3 s2 (3 -> 8) + act; depthwise 3x3 s2 (TF-style padding:
 * none at the top/left, one at the bottom/right) + Relu; SE (8 -> 4 -> 8);
 * Conv 1x1 (8 -> 16) + Relu; pool; classifier (16 -> 5). */
enum { CI = 3, C1 = 8, CSE = 4, C2 = 16, NCLS = 5 };

typedef struct {
    int side;          /* input H = W: 12 gives a 3x3 SE map, 4 a 1x1 one */
    int nhwc;          /* input (1, H, W, 3) and Transpose(perm = [0, 3, 1, 2]) */
    int rescale;       /* 0; 1: Mul(1/127.5); 2: Mul(scale per channel) then Sub(per channel) */
    int stem_valid;    /* stem without padding */
    int stem_act;      /* 0 Relu; 1 HardSwish; 2 x * (relu6(x + 3) * (1/6)); 3 (x * relu6(x + 3)) / 6 */
    int dw_pad;        /* 0: pads attribute; 1: Pad node (opset input) + VALID conv; 2: Pad with 'pads' attribute (opset 10) */
    int gate;          /* 0 Sigmoid; 1 HardSigmoid(1/6, 1/2); 2 Add(3) Clip(0,6) Mul(1/6); 3 ... Div(6);
                        * 4 Keras 2's Mul(0.2) Add(0.5) Clip(0,1); 5 HardSigmoid(0.2, 0.5) */
    int pool_se;       /* SE squeeze: 0 ReduceMean keepdims; 1 GlobalAveragePool; 2 none (1x1 map: the FC reads x) */
    int affine;        /* after the 1x1 conv: 0 none (twin folds); 1 Mul then Add per channel; 2 Sub then Div; 3 Mul by a scalar after the Relu */
    int head;          /* 0 GAP Flatten Gemm; 1 ReduceMean(keepdims 0) MatMul Add; 2 GAP Squeeze(axes) MatMul Add;
                        * 3 GAP Reshape(-1) MatMul Add (rank 1 output); 4 ReduceMean(axes 2,3) Transpose(0,2,3,1) MatMul
                        * Add Reshape(1, 5) */
    int softmax;       /* 1: Softmax at the end; 2: Softmax right after the stem (refused) */
    int fold;          /* twin: the affine ops above folded by hand into the weights */
    int cut;           /* 1: the output is the SE block's input, flattened (the gate reference) */
    int opset;         /* 13 unless 0 */
} net;

static void fill(float *v, int n, unsigned seed, float scale)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = scale * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
}

/* The network's weights, fixed by their seeds. */
typedef struct {
    float w0[C1 * CI * 9], b0[C1], wd[C1 * 9], bd[C1], wr[CSE * C1], br[CSE], we[C1 * CSE], be[C1];
    float w1[C2 * C1], b1[C2], wc[C2 * NCLS], bc[NCLS];
    float am[C2], aa[C2];   /* the per-channel affine after the 1x1 conv */
    float rs[CI], rt[CI];   /* the rescaling's per-channel scale and shift */
} weights;

static void make_weights(weights *w)
{
    fill(w->w0, C1 * CI * 9, 1, 1.0f);
    fill(w->b0, C1, 2, 0.5f);
    fill(w->wd, C1 * 9, 3, 1.5f);
    fill(w->bd, C1, 4, 0.5f);
    fill(w->wr, CSE * C1, 5, 1.0f);
    fill(w->br, CSE, 6, 0.5f);
    fill(w->we, C1 * CSE, 7, 2.0f);
    fill(w->be, C1, 8, 1.0f);
    fill(w->w1, C2 * C1, 9, 0.8f);
    fill(w->b1, C2, 10, 0.5f);
    fill(w->wc, C2 * NCLS, 11, 1.0f);
    fill(w->bc, NCLS, 12, 0.5f);
    fill(w->am, C2, 13, 1.0f);
    fill(w->aa, C2, 14, 1.0f);
    for (int i = 0; i < C2; i++)
        w->am[i] += w->am[i] < 0 ? -0.6f : 0.6f; /* away from 0: Div by it too */
    for (int c = 0; c < CI; c++) {
        w->rs[c] = 1.0f / (60.0f + 10.0f * (float)c);
        w->rt[c] = 0.4f + 0.1f * (float)c;
    }
}

/* ---- builder shorthands ---------------------------------------------------- */

static int node(onnx_builder *b, const char *op, const char *name, const char *in0, const char *in1, const char *in2,
                const char *out)
{
    const char *ins[3] = {in0, in1, in2};
    const int n_in = in2 ? 3 : in1 ? 2 : 1;
    int h = -1;
    ob_node(b, op, name, ins, n_in, &out, 1, &h);
    return h;
}

static void init(onnx_builder *b, const char *name, const float *v, int n, int ndim, const int64_t *dims)
{
    int64_t d1[1] = {n};
    ob_init_f32(b, name, dims ? dims : d1, dims ? ndim : 1, v, 0);
}

static void scalar(onnx_builder *b, const char *name, float v)
{
    ob_init_f32(b, name, NULL, 0, &v, 0);
}

static void ints(onnx_builder *b, const char *name, const int64_t *v, int n)
{
    const int64_t d[1] = {n};
    ob_init_i64(b, name, d, 1, v);
}

static void conv_attrs(onnx_builder *b, int h, int k, int stride, const int64_t pads[4], int group)
{
    const int64_t ks[2] = {k, k}, st[2] = {stride, stride};
    ob_attr_ints(b, h, "kernel_shape", ks, 2);
    ob_attr_ints(b, h, "strides", st, 2);
    if (pads)
        ob_attr_ints(b, h, "pads", pads, 4);
    if (group > 1)
        ob_attr_int(b, h, "group", group);
}

/* x -> act -> y, in the spelling `style` picks (see net.stem_act); p names the nodes. */
static void activation(onnx_builder *b, int style, const char *p, const char *x, const char *y)
{
    char n1[64], n2[64], n3[64], v1[64], v2[64], v3[64];
    snprintf(n1, sizeof n1, "%s.add3", p);
    snprintf(n2, sizeof n2, "%s.relu6", p);
    snprintf(n3, sizeof n3, "%s.sixth", p);
    snprintf(v1, sizeof v1, "%s.a", p);
    snprintf(v2, sizeof v2, "%s.c", p);
    snprintf(v3, sizeof v3, "%s.m", p);
    switch (style) {
    case 0: node(b, "Relu", p, x, NULL, NULL, y); break;
    case 1: node(b, "HardSwish", p, x, NULL, NULL, y); break;
    case 2: /* Keras' hard_swish: x * (relu6(x + 3) * (1/6)) */
        node(b, "Add", n1, x, "three", NULL, v1);
        node(b, "Clip", n2, v1, "zero", "six", v2);
        node(b, "Mul", n3, v2, "one_sixth", NULL, v3);
        node(b, "Mul", p, x, v3, NULL, y);
        break;
    default: /* (x * relu6(x + 3)) / 6 */
        node(b, "Add", n1, "three", x, NULL, v1);
        node(b, "Clip", n2, v1, "zero", "six", v2);
        node(b, "Mul", p, v2, x, NULL, v3);
        node(b, "Div", n3, v3, "six", NULL, y);
        break;
    }
}

/* The SE gate x -> y (see net.gate). */
static void gate(onnx_builder *b, int style, const char *x, const char *y)
{
    int h;
    switch (style) {
    case 0: node(b, "Sigmoid", "se.gate", x, NULL, NULL, y); break;
    case 1:
    case 5:
        h = node(b, "HardSigmoid", "se.gate", x, NULL, NULL, y);
        ob_attr_float(b, h, "alpha", style == 1 ? 1.0f / 6.0f : 0.2f);
        ob_attr_float(b, h, "beta", 0.5f);
        break;
    case 4: /* folded into the expand conv: scale, bias, then Clip(0, 1) as the gate */
        node(b, "Mul", "se.gate.mul", x, "point_two", NULL, "se.g1");
        node(b, "Add", "se.gate.add", "se.g1", "half", NULL, "se.g2");
        node(b, "Clip", "se.gate", "se.g2", "zero", "one", y);
        break;
    default:
        node(b, "Add", "se.gate.add3", x, "three", NULL, "se.g1");
        node(b, "Clip", "se.gate.relu6", "se.g1", "zero", "six", "se.g2");
        if (style == 2)
            node(b, "Mul", "se.gate", "se.g2", "one_sixth", NULL, y);
        else
            node(b, "Div", "se.gate", "se.g2", "six", NULL, y);
        break;
    }
}

/* The model net describes, with weights w; NULL on a builder failure. */
static uint8_t *build(const net *o, const weights *w, size_t *len)
{
    onnx_builder *b = NULL;
    const int opset = o->opset ? o->opset : 13;
    if (ob_new(opset, &b))
        return NULL;
    const int s = o->side;
    const int64_t in_nchw[4] = {1, CI, s, s}, in_nhwc[4] = {1, s, s, CI};
    ob_input(b, "image", o->nhwc ? in_nhwc : in_nchw, 4);
    scalar(b, "three", 3.0f);
    scalar(b, "zero", 0.0f);
    scalar(b, "six", 6.0f);
    scalar(b, "one_sixth", 1.0f / 6.0f);
    if (o->gate == 4) {
        scalar(b, "point_two", 0.2f);
        scalar(b, "half", 0.5f);
        scalar(b, "one", 1.0f);
    }
    const char *x = "image";
    if (o->rescale) {
        /* on the NHWC input the per-channel constants are (3,), as TensorFlow writes them */
        const int64_t nchw_d[4] = {1, CI, 1, 1}, nhwc_d[1] = {CI};
        if (o->rescale == 1) {
            scalar(b, "rescale.scale", 1.0f / 127.5f);
        } else {
            ob_init_f32(b, "rescale.scale", o->nhwc ? nhwc_d : nchw_d, o->nhwc ? 1 : 4, w->rs, 0);
            ob_init_f32(b, "rescale.offset", o->nhwc ? nhwc_d : nchw_d, o->nhwc ? 1 : 4, w->rt, 0);
        }
        node(b, "Mul", "rescale.mul", x, "rescale.scale", NULL, "scaled");
        x = "scaled";
        if (o->rescale == 2) {
            node(b, "Sub", "rescale.sub", x, "rescale.offset", NULL, "shifted");
            x = "shifted";
        }
    }
    if (o->nhwc) {
        const int64_t perm[4] = {0, 3, 1, 2};
        const int h = node(b, "Transpose", "to_nchw", x, NULL, NULL, "nchw");
        ob_attr_ints(b, h, "perm", perm, 4);
        x = "nchw";
    }
    const int64_t w0d[4] = {C1, CI, 3, 3}, wdd[4] = {C1, 1, 3, 3}, wrd[4] = {CSE, C1, 1, 1}, wed[4] = {C1, CSE, 1, 1},
                  w1d[4] = {C2, C1, 1, 1};
    float w1[C2 * C1], b1[C2];
    memcpy(w1, w->w1, sizeof w1);
    memcpy(b1, w->b1, sizeof b1);
    if (o->fold && (o->affine == 1 || o->affine == 2)) {
        /* 1: (conv * m) + a; 2: (conv - a) / m */
        for (int i = 0; i < C2; i++) {
            const float m = o->affine == 1 ? w->am[i] : 1.0f / w->am[i];
            for (int j = 0; j < C1; j++)
                w1[i * C1 + j] *= m;
            b1[i] = o->affine == 1 ? b1[i] * m + w->aa[i] : (b1[i] - w->aa[i]) * m;
        }
    }
    init(b, "stem.w", w->w0, 0, 4, w0d);
    init(b, "stem.b", w->b0, C1, 0, NULL);
    init(b, "dw.w", w->wd, 0, 4, wdd);
    init(b, "dw.b", w->bd, C1, 0, NULL);
    init(b, "se.reduce.w", w->wr, 0, 4, wrd);
    init(b, "se.reduce.b", w->br, CSE, 0, NULL);
    init(b, "se.expand.w", w->we, 0, 4, wed);
    init(b, "se.expand.b", w->be, C1, 0, NULL);
    init(b, "pw.w", w1, 0, 4, w1d);
    init(b, "pw.b", b1, C2, 0, NULL);

    const int64_t p1[4] = {1, 1, 1, 1}, tf_pads[4] = {0, 0, 1, 1};
    int h = node(b, "Conv", "stem", x, "stem.w", "stem.b", "stem.y");
    conv_attrs(b, h, 3, 2, o->stem_valid ? NULL : p1, 1);
    activation(b, o->stem_act, "stem.act", "stem.y", "stem.a");
    x = "stem.a";
    if (o->softmax == 2) {
        h = node(b, "Softmax", "early_softmax", x, NULL, NULL, "stem.sm");
        ob_attr_int(b, h, "axis", 1);
        x = "stem.sm";
    }
    if (o->dw_pad) {
        if (o->dw_pad == 1) {
            const int64_t pads[8] = {0, 0, 0, 0, 0, 0, 1, 1};
            ints(b, "dw.pads", pads, 8);
            node(b, "Pad", "dw.pad", x, "dw.pads", NULL, "dw.padded");
        } else {
            const int64_t pads[8] = {0, 0, 0, 0, 0, 0, 1, 1};
            h = node(b, "Pad", "dw.pad", x, NULL, NULL, "dw.padded");
            ob_attr_ints(b, h, "pads", pads, 8);
            ob_attr_string(b, h, "mode", "constant");
        }
        x = "dw.padded";
    }
    h = node(b, "Conv", "dw", x, "dw.w", "dw.b", "dw.y");
    conv_attrs(b, h, 3, 2, o->dw_pad ? NULL : tf_pads, C1);
    node(b, "Relu", "dw.relu", "dw.y", NULL, NULL, "dw.a");

    /* SE */
    if (o->cut) {
        node(b, "Flatten", "cut", "dw.a", NULL, NULL, "logits");
        ob_output(b, "logits", NULL, -1);
        uint8_t *bytes = NULL;
        mnas_status st = ob_finish(b, &bytes, len);
        CHECK(&S, st == MNAS_OK, "builder: %s", ob_error(b));
        ob_free(b);
        return bytes;
    }
    const char *pooled = "dw.a";
    if (o->pool_se == 0) {
        const int64_t axes[2] = {2, 3};
        h = node(b, "ReduceMean", "se.pool", "dw.a", NULL, NULL, "se.p");
        ob_attr_ints(b, h, "axes", axes, 2);
        ob_attr_int(b, h, "keepdims", 1);
        pooled = "se.p";
    } else if (o->pool_se == 1) {
        node(b, "GlobalAveragePool", "se.pool", "dw.a", NULL, NULL, "se.p");
        pooled = "se.p";
    }
    h = node(b, "Conv", "se.reduce", pooled, "se.reduce.w", "se.reduce.b", "se.r");
    conv_attrs(b, h, 1, 1, NULL, 1);
    node(b, "Relu", "se.relu", "se.r", NULL, NULL, "se.ra");
    h = node(b, "Conv", "se.expand", "se.ra", "se.expand.w", "se.expand.b", "se.e");
    conv_attrs(b, h, 1, 1, NULL, 1);
    gate(b, o->gate, "se.e", "se.g");
    node(b, "Mul", "se.scale", "dw.a", "se.g", NULL, "se.y");

    h = node(b, "Conv", "pw", "se.y", "pw.w", "pw.b", "pw.y");
    conv_attrs(b, h, 1, 1, NULL, 1);
    x = "pw.y";
    if (!o->fold && o->affine == 1) {
        const int64_t d3[3] = {C2, 1, 1}, d4[4] = {1, C2, 1, 1};
        ob_init_f32(b, "bn.mul", d3, 3, w->am, 0);
        ob_init_f32(b, "bn.add", d4, 4, w->aa, 0);
        node(b, "Mul", "bn.mul", "bn.mul", x, NULL, "bn.m");
        node(b, "Add", "bn.add", "bn.m", "bn.add", NULL, "bn.a");
        x = "bn.a";
    } else if (!o->fold && o->affine == 2) {
        const int64_t d3[3] = {C2, 1, 1};
        ob_init_f32(b, "bn.sub", d3, 3, w->aa, 0);
        ob_init_f32(b, "bn.div", d3, 3, w->am, 0);
        node(b, "Sub", "bn.sub", x, "bn.sub", NULL, "bn.s");
        node(b, "Div", "bn.div", "bn.s", "bn.div", NULL, "bn.d");
        x = "bn.d";
    }
    node(b, "Relu", "pw.relu", x, NULL, NULL, "pw.a");
    x = "pw.a";
    if (o->affine == 3) {
        /* after the activation: not foldable into the conv, a step of its own */
        scalar(b, "post.k", o->fold ? 1.0f : 0.75f);
        if (!o->fold) {
            node(b, "Mul", "post.mul", x, "post.k", NULL, "post.y");
            x = "post.y";
        }
    }

    /* head */
    float wc[C2 * NCLS];
    memcpy(wc, w->wc, sizeof wc);
    if (o->affine == 3 && o->fold)
        for (int i = 0; i < C2 * NCLS; i++)
            wc[i] *= 0.75f; /* the twin: the Mul by 0.75 moved into the classifier */
    const int64_t wcd[2] = {NCLS, C2}, wmd[2] = {C2, NCLS};
    const char *out = o->softmax == 1 ? "scores" : "logits";
    if (o->head == 0) {
        float t[C2 * NCLS]; /* Gemm with transB = 1 takes [N][K] */
        for (int i = 0; i < C2; i++)
            for (int j = 0; j < NCLS; j++)
                t[j * C2 + i] = wc[i * NCLS + j];
        ob_init_f32(b, "fc.w", wcd, 2, t, 0);
        init(b, "fc.b", w->bc, NCLS, 0, NULL);
        node(b, "GlobalAveragePool", "pool", x, NULL, NULL, "pooled");
        node(b, "Flatten", "flatten", "pooled", NULL, NULL, "flat");
        h = node(b, "Gemm", "fc", "flat", "fc.w", "fc.b", out);
        ob_attr_int(b, h, "transB", 1);
    } else {
        ob_init_f32(b, "fc.w", wmd, 2, wc, 0);
        init(b, "fc.b", w->bc, NCLS, 0, NULL);
        const char *v = NULL;
        if (o->head == 1 || o->head == 4) {
            const int64_t axes[2] = {2, 3};
            h = node(b, "ReduceMean", "pool", x, NULL, NULL, "pooled");
            ob_attr_ints(b, h, "axes", axes, 2);
            ob_attr_int(b, h, "keepdims", o->head == 4);
            v = "pooled";
            if (o->head == 4) {
                const int64_t perm[4] = {0, 2, 3, 1};
                h = node(b, "Transpose", "to_nhwc", v, NULL, NULL, "pooled_nhwc");
                ob_attr_ints(b, h, "perm", perm, 4);
                v = "pooled_nhwc";
            }
        } else {
            node(b, "GlobalAveragePool", "pool", x, NULL, NULL, "pooled");
            if (o->head == 2) {
                const int64_t axes[2] = {3, -2};
                ints(b, "squeeze.axes", axes, 2);
                node(b, "Squeeze", "squeeze", "pooled", "squeeze.axes", NULL, "flat");
            } else {
                const int64_t shape[1] = {-1};
                ints(b, "reshape.shape", shape, 1);
                node(b, "Reshape", "reshape", "pooled", "reshape.shape", NULL, "flat");
            }
            v = "flat";
        }
        node(b, "MatMul", "fc", v, "fc.w", NULL, "fc.mm");
        if (o->head == 4) {
            const int64_t shape[2] = {1, NCLS};
            ints(b, "out.shape", shape, 2);
            node(b, "Add", "fc.bias", "fc.mm", "fc.b", NULL, "fc.y");
            node(b, "Reshape", "out.reshape", "fc.y", "out.shape", NULL, out);
        } else {
            node(b, "Add", "fc.bias", "fc.mm", "fc.b", NULL, out);
        }
    }
    if (o->softmax == 1) {
        h = node(b, "Softmax", "softmax", out, NULL, NULL, "probs");
        if (o->head != 3)
            ob_attr_int(b, h, "axis", 1);
        out = "probs";
    }
    /* declared output shapes, as exporters write them: checked at load */
    const int64_t od1[1] = {NCLS}, od2[2] = {1, NCLS};
    ob_output(b, out, o->head == 3 ? od1 : od2, o->head == 3 ? 1 : 2);
    uint8_t *bytes = NULL;
    mnas_status st = ob_finish(b, &bytes, len);
    CHECK(&S, st == MNAS_OK, "builder: %s", ob_error(b));
    ob_free(b);
    return bytes;
}

/* ---- running ------------------------------------------------------------- */

typedef struct {
    mnas_status st;
    char err[512];
    float logits[C2], prob[NCLS], emb[C2]; /* logits: room for the cut models' outputs */
    int top[NCLS];
    int n_logits, n_emb;
    int layers, se, se_h, se_w, probs, nhwc, in_h, in_w, in_c;
    float gate[C1];
} result;

/* The input image, NCHW, values in 0..255 when raw (the rescaling's
 * input), else about -2..2. */
static void image(int side, int raw, float *x)
{
    fill(x, CI * side * side, 99, raw ? 255.0f : 4.0f);
    for (int i = 0; raw && i < CI * side * side; i++)
        x[i] += 127.5f;
}

static result run_bytes(const uint8_t *bytes, size_t len, int nhwc, const float *nchw, int side)
{
    result r;
    memset(&r, 0, sizeof r);
    mnas_model *m = NULL;
    mnas_create(&m);
    r.st = mnas_load(m, bytes, len, NULL);
    snprintf(r.err, sizeof r.err, "%s", mnas_error(m));
    if (!r.st) {
        const size_t n = (size_t)CI * side * side;
        float *t = malloc(n * sizeof *t);
        for (int c = 0; c < CI; c++)
            for (int p = 0; p < side * side; p++)
                t[(size_t)p * CI + c] = nchw[(size_t)c * side * side + p];
        /* a channels-last model takes NHWC as it is; the NCHW twin through mnas_run_nchw */
        r.st = nhwc ? mnas_run(m, t, n) : mnas_run_nchw(m, nchw, n);
        snprintf(r.err, sizeof r.err, "%s", mnas_error(m));
        free(t);
    }
    if (!r.st) {
        const float *z = mnas_logits(m, &r.n_logits);
        memcpy(r.logits, z, sizeof(float) * (size_t)(r.n_logits < C2 ? r.n_logits : C2));
        int got = 0;
        mnas_topk(m, NCLS, r.top, r.prob, &got);
        const float *e = mnas_embedding(m, &r.n_emb);
        if (e && r.n_emb <= C2)
            memcpy(r.emb, e, sizeof(float) * (size_t)r.n_emb);
        mnas_stats s;
        mnas_get_stats(m, &s);
        r.layers = s.layers;
        r.se = s.se_blocks;
        r.probs = s.output_is_probabilities;
        r.nhwc = s.input_channels_last;
        mnas_input_shape(m, &r.in_h, &r.in_w, &r.in_c);
        mnas_se_block blk;
        if (r.se == 1 && mnas_get_se(m, 0, &blk) == MNAS_OK && blk.channels == C1) {
            memcpy(r.gate, blk.values, sizeof r.gate);
            r.se_h = blk.height;
            r.se_w = blk.width;
        }
    }
    mnas_free(m);
    return r;
}

static const char *write_dir(void)
{
    const char *d = getenv("MNAS_WRITE_PATTERNS");
    return d && *d ? d : NULL;
}

/* The committed fixture `name` must be these bytes (and is rewritten when
 * MNAS_WRITE_PATTERNS names a directory). */
static void fixture(const char *name, const uint8_t *bytes, size_t len)
{
    char path[1024];
    const char *dir = write_dir();
    if (dir) {
        snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
        FILE *f = fopen(path, "wb");
        CHECK(&S, f && fwrite(bytes, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
        return;
    }
    const char *src = getenv("MNAS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/fixtures/patterns/%s.onnx", src && *src ? src : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        CHECK(&S, 0, "fixture %s is missing: run with MNAS_WRITE_PATTERNS=tests/fixtures/patterns", path);
        return;
    }
    uint8_t *have = malloc(len + 1);
    const size_t got = fread(have, 1, len + 1, f);
    fclose(f);
    CHECK(&S, got == len && memcmp(have, bytes, len) == 0,
          "fixture %s is not what the builder makes now (%zu vs %zu bytes): rewrite it with MNAS_WRITE_PATTERNS", path,
          got, len);
    free(have);
}

static double rel_diff(const float *a, const float *b, int n)
{
    /* plain comparisons: aarch64 gcc 12 crashes vectorizing an fmax reduction here */
    double worst = 0;
    for (int i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (d > worst)
            worst = d;
    }
    return worst;
}

/* Pattern p against twin t on the same image (rescaled for the twin when
 * p rescales it): same logits, gates and (plus extra) plan steps. */
static void compare(const char *what, const net *p, const net *t, int extra_steps)
{
    weights w;
    make_weights(&w);
    size_t lp = 0, lt = 0;
    uint8_t *bp = build(p, &w, &lp), *bt = build(t, &w, &lt);
    if (!bp || !bt) {
        CHECK(&S, 0, "%s: build", what);
        free(bp);
        free(bt);
        return;
    }
    fixture(what, bp, lp);
    const int side = p->side, n = CI * side * side;
    float *x = malloc((size_t)n * sizeof *x), *xt = malloc((size_t)n * sizeof *xt);
    image(side, p->rescale != 0, x);
    for (int c = 0; c < CI; c++)
        for (int i = 0; i < side * side; i++) {
            const float v = x[c * side * side + i];
            xt[c * side * side + i] = p->rescale == 1 ? v / 127.5f : p->rescale == 2 ? v * w.rs[c] - w.rt[c] : v;
        }
    const result rp = run_bytes(bp, lp, p->nhwc, x, side), rt = run_bytes(bt, lt, t->nhwc, xt, side);
    CHECK(&S, rp.st == MNAS_OK, "%s: %s", what, rp.err);
    CHECK(&S, rt.st == MNAS_OK, "%s (twin): %s", what, rt.err);
    if (!rp.st && !rt.st) {
        const double d = rel_diff(rp.logits, rt.logits, NCLS);
        CHECK(&S, rp.n_logits == NCLS && d <= 1e-4, "%s: logits off by %.3g relative", what, d);
        CHECK(&S, rp.se == rt.se && rp.se == 1, "%s: %d SE blocks, twin %d", what, rp.se, rt.se);
        const double g = rel_diff(rp.gate, rt.gate, C1);
        CHECK(&S, g <= 1e-4, "%s: SE gates off by %.3g", what, g);
        CHECK(&S, rp.layers == rt.layers + extra_steps, "%s: %d plan steps, twin %d (+%d expected)", what, rp.layers,
              rt.layers, extra_steps);
        CHECK(&S, rp.nhwc == p->nhwc && rp.in_h == side && rp.in_w == side && rp.in_c == CI,
              "%s: input %dx%dx%d, channels-last %d", what, rp.in_h, rp.in_w, rp.in_c, rp.nhwc);
        printf("%-34s logits %.1e, gates %.1e, %d steps (twin %d)\n", what, d, g, rp.layers, rt.layers);
    }
    free(x);
    free(xt);
    free(bp);
    free(bt);
}

static const net BASE = {.side = 12};

static void test_folds(void)
{
    net p = BASE, t = BASE;
    p.nhwc = 1;
    compare("nhwc_input", &p, &t, 0);

    p = BASE;
    p.dw_pad = 1;
    compare("pad_asymmetric", &p, &t, 0);
    p.dw_pad = 2;
    p.opset = 10;
    t.opset = 10;
    compare("pad_attribute_opset10", &p, &t, 0);

    p = t = BASE;
    p.rescale = 1; /* the twin's image is rescaled by the test instead */
    compare("rescale_scale", &p, &t, 0);
    p.rescale = 2;
    p.stem_valid = t.stem_valid = 1;
    compare("rescale_affine_valid_conv", &p, &t, 0);
    /* a shift before a padding conv cannot go into its weights (the pads
     * would see the shift): one 1x1 depthwise step applies it */
    p.stem_valid = t.stem_valid = 0;
    compare("rescale_affine_padded_conv", &p, &t, 1);
    p.nhwc = 1;
    compare("rescale_nhwc_keras", &p, &t, 1);

    for (int a = 1; a <= 2; a++) {
        p = t = BASE;
        p.affine = a;
        t.affine = a;
        t.fold = 1;
        compare(a == 1 ? "affine_mul_add_after_conv" : "affine_sub_div_after_conv", &p, &t, 0);
    }
    p = t = BASE;
    p.affine = t.affine = 3;
    t.fold = 1;
    compare("affine_after_relu", &p, &t, 1);

    for (int s = 2; s <= 3; s++) {
        p = t = BASE;
        p.stem_act = s;
        t.stem_act = 1;
        compare(s == 2 ? "hard_swish_keras" : "hard_swish_div", &p, &t, 0);
        p = t = BASE;
        p.gate = s;
        t.gate = 1;
        compare(s == 2 ? "hard_sigmoid_gate_mul" : "hard_sigmoid_gate_div", &p, &t, 0);
    }

    p = t = BASE;
    p.gate = 4;
    t.gate = 5;
    compare("hard_sigmoid_gate_keras2", &p, &t, 0);

    for (int h = 1; h <= 4; h++) {
        static const char *const names[] = {"", "head_reducemean_matmul", "head_squeeze_axes", "head_reshape_rank1",
                                            "head_nhwc_vector"};
        p = t = BASE;
        p.head = h;
        compare(names[h], &p, &t, 0);
    }

    /* everything at once, as tf2onnx writes a Keras MobileNetV3-like model */
    p = t = BASE;
    p.nhwc = 1;
    p.rescale = 2;
    p.stem_valid = t.stem_valid = 1;
    p.stem_act = 2;
    t.stem_act = 1;
    p.dw_pad = 1;
    p.gate = 2;
    t.gate = 1;
    p.affine = 1;
    t.affine = 1;
    t.fold = 1;
    p.head = 1;
    compare("keras_all", &p, &t, 0);
}

/* A final Softmax: probabilities out, one step more, top-k reports them
 * as they are (not softmaxed again). */
static void test_softmax(void)
{
    for (int h = 0; h <= 3; h += 3) {
        net p = BASE, t = BASE;
        p.softmax = 1;
        p.head = t.head = h;
        weights w;
        make_weights(&w);
        size_t lp = 0, lt = 0;
        uint8_t *bp = build(&p, &w, &lp), *bt = build(&t, &w, &lt);
        fixture(h ? "softmax_rank1" : "softmax", bp, lp);
        float x[CI * 12 * 12];
        image(12, 0, x);
        const result rp = run_bytes(bp, lp, 0, x, 12), rt = run_bytes(bt, lt, 0, x, 12);
        CHECK(&S, rp.st == MNAS_OK && rt.st == MNAS_OK, "softmax: %s / %s", rp.err, rt.err);
        double mx = rt.logits[0], sum = 0, worst = 0, psum = 0;
        /* plain comparisons: aarch64 gcc 12 crashes vectorizing an fmax reduction here */
        for (int i = 1; i < NCLS; i++)
            if (rt.logits[i] > mx)
                mx = rt.logits[i];
        for (int i = 0; i < NCLS; i++)
            sum += exp(rt.logits[i] - mx);
        for (int i = 0; i < NCLS; i++) {
            const double d = fabs(rp.logits[i] - exp(rt.logits[i] - mx) / sum);
            if (d > worst)
                worst = d;
            psum += rp.logits[i];
        }
        CHECK(&S, worst <= 1e-6 && fabs(psum - 1.0) < 1e-5, "softmax: output off by %.3g (sum %.7f)", worst, psum);
        CHECK(&S, rp.probs == 1 && rt.probs == 0, "output_is_probabilities %d (twin %d)", rp.probs, rt.probs);
        CHECK(&S, rp.layers == rt.layers + 1, "softmax: %d steps, twin %d", rp.layers, rt.layers);
        for (int i = 0; i < NCLS; i++) {
            CHECK(&S, rp.top[i] == rt.top[i], "top %d: class %d, twin %d", i, rp.top[i], rt.top[i]);
            CHECK(&S, rp.prob[i] == rp.logits[rp.top[i]], "top %d: %g is not the model's own %g", i, rp.prob[i],
                  rp.logits[rp.top[i]]);
            CHECK(&S, fabs(rp.prob[i] - rt.prob[i]) < 1e-6, "top %d: %g, twin %g", i, rp.prob[i], rt.prob[i]);
        }
        CHECK(&S, rp.n_emb == C2 && rel_diff(rp.emb, rt.emb, C2) == 0, "softmax: embedding %d floats", rp.n_emb);
        printf("%-34s probabilities off by %.1e, %d steps (twin %d)\n", h ? "softmax (rank-1 output)" : "softmax",
               worst, rp.layers, rt.layers);
        free(bp);
        free(bt);
    }
}

/* SE on a 1x1 map (a 4x4 input): recognized with the pool as ReduceMean,
 * GlobalAveragePool or left out; its gate against the one computed here in
 * double from the block's input (the model cut there). */
static void test_se_1x1(void)
{
    weights w;
    make_weights(&w);
    net cut = BASE;
    cut.side = 4;
    cut.cut = 1;
    size_t lc = 0;
    uint8_t *bc = build(&cut, &w, &lc);
    float x[CI * 4 * 4];
    image(4, 0, x);
    const result rc = run_bytes(bc, lc, 0, x, 4);
    free(bc);
    CHECK(&S, rc.st == MNAS_OK && rc.n_logits == C1, "SE input: %s (%d values)", rc.err, rc.n_logits);
    double want[C1];
    for (int o = 0; o < C1; o++) {
        double e = w.be[o];
        for (int j = 0; j < CSE; j++) {
            double r = w.br[j];
            for (int i = 0; i < C1; i++)
                r += (double)w.wr[j * C1 + i] * rc.logits[i];
            e += (double)w.we[o * CSE + j] * (r > 0 ? r : 0);
        }
        want[o] = 1.0 / (1.0 + exp(-e));
    }
    static const char *const names[] = {"se_1x1_reducemean", "se_1x1_globalaveragepool", "se_1x1_no_pool"};
    for (int pool = 0; pool < 3; pool++) {
        net p = BASE;
        p.side = 4;
        p.pool_se = pool;
        size_t lp = 0;
        uint8_t *bp = build(&p, &w, &lp);
        fixture(names[pool], bp, lp);
        const result rp = run_bytes(bp, lp, 0, x, 4);
        CHECK(&S, rp.st == MNAS_OK, "%s: %s", names[pool], rp.err);
        CHECK(&S, rp.se == 1 && rp.se_h == 1 && rp.se_w == 1, "%s: %d SE blocks on %dx%d", names[pool], rp.se,
              rp.se_h, rp.se_w);
        double worst = 0;
        for (int o = 0; o < C1; o++) {
            const double d = fabs(rp.gate[o] - want[o]);
            if (d > worst)
                worst = d;
        }
        CHECK(&S, worst < 1e-5, "%s: gate off by %.3g", names[pool], worst);
        printf("%-34s gate off by %.1e, %d steps\n", names[pool], worst, rp.layers);
        free(bp);
    }
}

/* Refused variants: the error names the node and says what is supported. */
static void refused(const char *what, const uint8_t *bytes, size_t len, mnas_status want, const char *needle1,
                    const char *needle2)
{
    mnas_model *m = NULL;
    mnas_create(&m);
    const mnas_status st = mnas_load(m, bytes, len, NULL);
    const char *e = mnas_error(m);
    CHECK(&S, st == want && strstr(e, needle1) && strstr(e, needle2), "%s: status %d, '%s'", what, (int)st, e);
    printf("%-34s refused: %s\n", what, e);
    mnas_free(m);
}

/* A copy of bytes with the first occurrence of `from` replaced by `to` (same length). */
static uint8_t *patch(const uint8_t *bytes, size_t len, const void *from, const void *to, size_t n)
{
    uint8_t *q = malloc(len);
    memcpy(q, bytes, len);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(q + i, from, n) == 0) {
            memcpy(q + i, to, n);
            return q;
        }
    CHECK(&S, 0, "patch: pattern not found");
    return q;
}

static void test_refused(void)
{
    weights w;
    make_weights(&w);
    size_t len = 0;
    net p = BASE;
    p.softmax = 2;
    uint8_t *b = build(&p, &w, &len);
    refused("softmax in the middle", b, len, MNAS_E_UNSUPPORTED, "'early_softmax' (Softmax)", "last op");
    free(b);
    /* on the pooled vector, with the classifier still to come */
    onnx_builder *sb = NULL;
    ob_new(13, &sb);
    const int64_t vd[4] = {1, 4, 3, 3}, md[2] = {4, 2};
    float mw[8];
    fill(mw, 8, 5, 1.0f);
    ob_input(sb, "x", vd, 4);
    ob_init_f32(sb, "m", md, 2, mw, 0);
    node(sb, "GlobalAveragePool", "gap", "x", NULL, NULL, "g");
    node(sb, "Flatten", "flat", "g", NULL, NULL, "f");
    node(sb, "Softmax", "vector_softmax", "f", NULL, NULL, "s");
    node(sb, "MatMul", "fc", "s", "m", NULL, "y");
    ob_output(sb, "y", NULL, -1);
    uint8_t *sbytes = NULL;
    ob_finish(sb, &sbytes, &len);
    refused("softmax before the classifier", sbytes, len, MNAS_E_UNSUPPORTED, "'vector_softmax' (Softmax)", "last op");
    ob_free(sb);
    free(sbytes);

    /* a Pad of 1.0 instead of 0, reflect padding, a Pad before something else */
    onnx_builder *ob = NULL;
    ob_new(13, &ob);
    const int64_t xd[4] = {1, 2, 5, 5}, wd[4] = {2, 2, 3, 3}, pads[8] = {0, 0, 1, 1, 0, 0, 1, 1};
    float wt[2 * 2 * 9];
    fill(wt, 36, 3, 1.0f);
    ob_input(ob, "x", xd, 4);
    ob_init_f32(ob, "w", wd, 4, wt, 0);
    ints(ob, "pads", pads, 8);
    scalar(ob, "one", 1.0f);
    node(ob, "Pad", "pad_one", "x", "pads", "one", "p");
    node(ob, "Conv", "conv", "p", "w", NULL, "c");
    node(ob, "GlobalAveragePool", "gap", "c", NULL, NULL, "g");
    node(ob, "Flatten", "flat", "g", NULL, NULL, "y");
    ob_output(ob, "y", NULL, -1);
    uint8_t *bytes = NULL;
    ob_finish(ob, &bytes, &len);
    refused("pad of 1.0", bytes, len, MNAS_E_UNSUPPORTED, "'pad_one' (Pad)", "mode 'constant': only constant zero padding");
    ob_free(ob);
    free(bytes);

    ob_new(13, &ob);
    ob_input(ob, "x", xd, 4);
    ob_init_f32(ob, "w", wd, 4, wt, 0);
    ints(ob, "pads", pads, 8);
    int h = node(ob, "Pad", "pad_reflect", "x", "pads", NULL, "p");
    ob_attr_string(ob, h, "mode", "reflect");
    node(ob, "Conv", "conv", "p", "w", NULL, "c");
    node(ob, "GlobalAveragePool", "gap", "c", NULL, NULL, "g");
    node(ob, "Flatten", "flat", "g", NULL, NULL, "y");
    ob_output(ob, "y", NULL, -1);
    ob_finish(ob, &bytes, &len);
    refused("reflect pad", bytes, len, MNAS_E_UNSUPPORTED, "'pad_reflect' (Pad)", "mode 'reflect': only");
    ob_free(ob);
    free(bytes);

    ob_new(13, &ob);
    ob_input(ob, "x", xd, 4);
    ints(ob, "pads", pads, 8);
    node(ob, "Pad", "pad_pool", "x", "pads", NULL, "p");
    node(ob, "GlobalAveragePool", "gap", "p", NULL, NULL, "g");
    node(ob, "Flatten", "flat", "g", NULL, NULL, "y");
    ob_output(ob, "y", NULL, -1);
    ob_finish(ob, &bytes, &len);
    refused("pad before a pool", bytes, len, MNAS_E_UNSUPPORTED, "'pad_pool' (Pad)", "must feed one Conv");
    ob_free(ob);
    free(bytes);

    /* Transpose(perm = [0, 2, 3, 1]) of a map: patch the channels-last model's perm */
    p = BASE;
    p.nhwc = 1;
    b = build(&p, &w, &len);
    /* the perm list is packed varints 0,3,1,2 after field 8 (ints) */
    const uint8_t from[6] = {0x42, 0x04, 0, 3, 1, 2}, to[6] = {0x42, 0x04, 0, 2, 3, 1};
    uint8_t *q = patch(b, len, from, to, 6);
    refused("transpose [0,2,3,1]", q, len, MNAS_E_UNSUPPORTED, "'to_nchw' (Transpose)", "only perm [0,3,1,2]");
    free(q);
    free(b);
}

/* The network with int8 weights (`mnas pack --int8`), for the comparison
 * with ONNX Runtime: it must load and stay near the float network. */
static void test_int8_fixture(void)
{
    weights w;
    make_weights(&w);
    size_t len = 0, plen = 0;
    uint8_t *bytes = build(&BASE, &w, &len), *packed = NULL;
    mnas_pack_options po;
    memset(&po, 0, sizeof po);
    po.int8 = 1;
    char err[256];
    const mnas_status st = mnas_pack(bytes, len, &po, &packed, &plen, err, sizeof err);
    CHECK(&S, st == MNAS_OK, "pack --int8: %s", err);
    if (!st) {
        fixture("int8_weights", packed, plen);
        float x[CI * 12 * 12];
        image(12, 0, x);
        const result r8 = run_bytes(packed, plen, 0, x, 12), rf = run_bytes(bytes, len, 0, x, 12);
        const double d = rel_diff(r8.logits, rf.logits, NCLS);
        CHECK(&S, r8.st == MNAS_OK && rf.st == MNAS_OK && d < 0.05 && r8.se == 1, "int8 network: %s, off by %.3g",
              r8.err, d);
        printf("%-34s %zu -> %zu bytes, logits off the float network by %.1e\n", "int8_weights", len, plen, d);
    }
    mnas_buffer_free(packed);
    free(bytes);
}

int main(void)
{
    test_folds();
    test_int8_fixture();
    test_softmax();
    test_se_1x1();
    test_refused();
    return check_summary(&S, "test_patterns");
}
