/* Conv: the stem (a full convolution), 1x1 convolutions and depthwise
 * convolutions, with their padding rules, BN, activation and residual; a
 * Pad before one (folded into its padding) and a per-channel affine map on
 * its input (folded into its weights and bias). */
#include <stdlib.h>
#include <string.h>

#include "compile/lowering.h"

typedef struct {
    int pads[4]; /* top, left, bottom, right */
    int stride_h, stride_w;
} conv_geom;

static mnas_status conv_geometry(lowering *L, const graph_node *n, int h, int w, int kh, int kw, conv_geom *cg)
{
    const graph_attr *a;
    cg->stride_h = cg->stride_w = 1;
    memset(cg->pads, 0, sizeof cg->pads);
    if ((a = mnas_graph_node_attr(n, "strides"))) {
        if (a->type != ATTR_INTS || a->n != 2 || a->ints[0] < 1 || a->ints[1] < 1 || a->ints[0] > 64 ||
            a->ints[1] > 64)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'strides' must be two integers in 1..64");
        cg->stride_h = (int)a->ints[0];
        cg->stride_w = (int)a->ints[1];
    }
    if ((a = mnas_graph_node_attr(n, "dilations"))) {
        for (int i = 0; i < a->n; i++)
            if (a->type != ATTR_INTS || a->ints[i] != 1)
                return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'dilations' other than 1");
    }
    if ((a = mnas_graph_node_attr(n, "kernel_shape"))) {
        if (a->type != ATTR_INTS || a->n != 2 || a->ints[0] != kh || a->ints[1] != kw)
            return NODE_FAIL(L, n, MNAS_E_MODEL, "attribute 'kernel_shape' disagrees with the %dx%d weights", kh, kw);
    }
    const graph_attr *ap = mnas_graph_node_attr(n, "auto_pad");
    const char *auto_pad = ap && ap->type == ATTR_STRING && ap->s ? ap->s : "NOTSET";
    if (strcmp(auto_pad, "NOTSET") == 0) {
        if ((a = mnas_graph_node_attr(n, "pads"))) {
            if (a->type != ATTR_INTS || a->n != 4)
                return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'pads' must have 4 values");
            for (int i = 0; i < 4; i++) {
                if (a->ints[i] < 0 || a->ints[i] > 64)
                    return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "attribute 'pads' value %lld outside 0..64",
                                     (long long)a->ints[i]);
                /* ONNX order: [top, left, bottom, right] */
                cg->pads[i] = (int)a->ints[i];
            }
        }
    } else if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0) {
        const int dims[2] = {h, w}, ks[2] = {kh, kw}, ss[2] = {cg->stride_h, cg->stride_w};
        for (int d = 0; d < 2; d++) {
            const int out = (dims[d] + ss[d] - 1) / ss[d];
            int total = (out - 1) * ss[d] + ks[d] - dims[d];
            if (total < 0)
                total = 0;
            const int small = total / 2, big = total - small;
            const int upper = auto_pad[5] == 'U';
            cg->pads[d] = upper ? small : big;
            cg->pads[d + 2] = upper ? big : small;
        }
    } else if (strcmp(auto_pad, "VALID") != 0) {
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "attribute 'auto_pad' value '%s'", auto_pad);
    }
    return MNAS_OK;
}

/* Input-channel scales (a folded affine map on the conv's input) applied
 * to weights wf of co rows of cig * kk: channel i of row o is input
 * channel (depthwise ? o : i). */
static void scale_columns(float *wf, int co, int cig, int kk, int depthwise, const float *s)
{
    for (int o = 0; o < co; o++)
        for (int i = 0; i < cig; i++) {
            const float f = s[depthwise ? o : i];
            float *w = wf + ((size_t)o * cig + i) * kk;
            for (int k = 0; k < kk; k++)
                w[k] *= f;
        }
}

/* A depthwise or full conv's weights (the BN scale applied, and the input
 * channels' scales when in_scale is not NULL) into the kernels' layout in
 * the blob, through one fp32 copy of the tensor. */
static mnas_status pack_spatial(lowering *L, const initializer_rows *wr, const float *bias, const float *in_scale,
                                plan_step *s)
{
    const mnas_kernels *k = L->p->k;
    const graph_value *W = wr->v;
    float *wf = malloc(W->count * sizeof(float));
    if (!wf)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory packing '%s'", W->name);
    mnas_initializer_rows_read_all(wr, wf);
    mnas_status st;
    if (s->kind == STEP_DW) {
        const dw_params *d = &s->u.dw.p;
        if (in_scale)
            scale_columns(wf, d->c, 1, d->k * d->k, 1, in_scale);
        st = mnas_plan_reserve_weights(L->p, k->dw_packed_floats(d->c, d->k), &s->u.dw.w_off, L->err);
        if (!st)
            k->dw_pack(wf, bias, d->c, d->k, L->p->weights + s->u.dw.w_off);
    } else {
        const conv_params *c = &s->u.conv.p;
        if (in_scale)
            scale_columns(wf, c->co, c->ci, c->kh * c->kw, 0, in_scale);
        st = mnas_plan_reserve_weights(L->p, k->conv_packed_floats(c->ci, c->co, c->kh, c->kw), &s->u.conv.w_off, L->err);
        if (!st)
            k->conv_pack(wf, bias, c->ci, c->co, c->kh, c->kw, L->p->weights + s->u.conv.w_off);
    }
    free(wf);
    return st;
}

/* A 1x1 conv's rows with each column (input channel) scaled. */
typedef struct {
    mnas_row_reader base;
    const mnas_row_reader *rows;
    const float *col;
    int ci;
} column_scaled_rows;

static void column_scaled_read(const mnas_row_reader *r, int o0, int n, float *dst)
{
    const column_scaled_rows *q = (const column_scaled_rows *)r;
    q->rows->read(q->rows, o0, n, dst);
    for (int o = 0; o < n; o++)
        for (int i = 0; i < q->ci; i++)
            dst[(size_t)o * q->ci + i] *= q->col[i];
}

/* Whether the affine map pending on x can go into this conv: exactly, when
 * it only scales or when the conv pads nothing (zero padding of the mapped
 * input is not the map of zero padding). */
static int affine_folds(const lowering *L, int x, int c, const int pads[4])
{
    if (!L->v[x].affine)
        return 1;
    if (!pads[0] && !pads[1] && !pads[2] && !pads[3])
        return 1;
    const float *t = L->affine + (L->v[x].affine - 1) + c;
    for (int i = 0; i < c; i++)
        if (t[i] != 0.0f)
            return 0;
    return 1;
}

/* bias[o] += sum over the taps of W[o][i] * t[i]: the shift of the input
 * map, through the conv. */
static mnas_status shift_bias(lowering *L, const graph_value *W, int co, int cig, int kk, int depthwise,
                              const float *t, float *bias)
{
    const size_t row = (size_t)cig * kk;
    float *w = malloc(row * sizeof *w);
    if (!w)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory folding into '%s'", W->name);
    for (int o = 0; o < co; o++) {
        mnas_graph_value_floats(W, (size_t)o * row, row, w);
        double acc = 0.0;
        for (int i = 0; i < cig; i++)
            for (int k = 0; k < kk; k++)
                acc += (double)w[(size_t)i * kk + k] * t[depthwise ? o : i];
        bias[o] += (float)acc;
    }
    free(w);
    return MNAS_OK;
}

mnas_status mnas_lower_conv(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    const graph_value *W = mnas_const_input(L, n, 1);
    const graph_value *B = n->n_in > 2 && n->in[2] >= 0 ? mnas_const_input(L, n, 2) : NULL;
    if (x < 0 || L->v[x].rank != 4)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "input '%s' must be a 4-D activation", mnas_input_name(L, n, 0));
    if (L->v[x].cax != 1)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, MNAS_MSG_NHWC, mnas_input_name(L, n, 0));
    if (!W || !graph_value_is_float(W) || W->ndim != 4)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "weights must be a 4-D float initializer");
    if (n->n_in > 2 && n->in[2] >= 0 && (!B || !graph_value_is_float(B)))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "bias must be a float initializer");
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    const int h = xt->h, w = xt->w, c = xt->c;
    const int64_t group = mnas_attr_int(n, "group", 1);
    if (W->dims[0] < 1 || W->dims[1] < 1 || W->dims[2] < 1 || W->dims[3] < 1 || W->dims[0] > MNAS_MAX_DIM ||
        W->dims[1] > MNAS_MAX_DIM || W->dims[2] > 64 || W->dims[3] > 64)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "weights '%s' have unusable dims", W->name);
    const int co = (int)W->dims[0], cig = (int)W->dims[1], kh = (int)W->dims[2], kw = (int)W->dims[3];
    if (group < 1 || group > c || cig * group != c)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "group %lld with %d weight input channels does not match %d input channels",
                         (long long)group, cig, c);
    if (co % group)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "group %lld does not divide %d output channels", (long long)group, co);
    const int depthwise = group > 1;
    if (depthwise && !(group == c && co == c && kh == kw))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED,
                         "attribute 'group' = %lld: only group 1 and depthwise (group = channels, square kernel) are supported",
                         (long long)group);
    if (B && (int64_t)B->count != co)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "bias '%s' has %zu elements, expected %d", B->name, B->count, co);
    /* a Pad folded into this conv: its zeros come first, then the conv's own */
    const int *xp = L->v[x].pad;
    conv_geom cg;
    mnas_status st = conv_geometry(L, n, h + xp[0] + xp[2], w + xp[1] + xp[3], kh, kw, &cg);
    if (st)
        return st;
    for (int i = 0; i < 4; i++)
        cg.pads[i] += xp[i];
    const int out_h = (h + cg.pads[0] + cg.pads[2] - kh) / cg.stride_h + 1;
    const int out_w = (w + cg.pads[1] + cg.pads[3] - kw) / cg.stride_w + 1;
    if (h + cg.pads[0] + cg.pads[2] < kh || w + cg.pads[1] + cg.pads[3] < kw || out_h < 1 || out_w < 1)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "kernel %dx%d larger than the padded %dx%d input", kh, kw, h, w);
    if (depthwise && cg.stride_h != cg.stride_w)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "depthwise with unequal strides");
    if (!affine_folds(L, x, c, cg.pads) && (st = mnas_materialize_affine(L, x)))
        return st;
    xt = &L->p->tensors[L->v[x].tensor];
    const float *in_scale = L->v[x].affine ? L->affine + (L->v[x].affine - 1) : NULL;

    const size_t per_out = (size_t)cig * kh * kw;
    /* Weights go from the initializer straight into their packed place; a
     * following BatchNormalization or per-channel affine op is folded in as
     * a per-channel scale. */
    float *bias = calloc((size_t)co, sizeof(float));
    float *scale = malloc((size_t)co * sizeof(float));
    if (!bias || !scale) {
        free(bias);
        free(scale);
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory for the bias of '%s'", W->name);
    }
    for (int o = 0; o < co; o++)
        scale[o] = 1.0f; /* until a fold sets it */
    if (B)
        mnas_graph_value_floats(B, 0, (size_t)co, bias);
    if (in_scale)
        st = shift_bias(L, W, co, cig, kh * kw, depthwise, in_scale + c, bias);

    const int pointwise = !depthwise && kh == 1 && kw == 1 && cg.stride_h == 1 && cg.stride_w == 1 &&
                          !cg.pads[0] && !cg.pads[1] && !cg.pads[2] && !cg.pads[3];
    plan_step s;
    mnas_plan_step_init(&s, depthwise ? STEP_DW : pointwise ? STEP_PW : STEP_CONV);
    int out = n->out[0], residual = -1, scaled = 0;
    mnas_act act;
    if (!st)
        st = mnas_fuse_epilogue(L, &out, 4, 1, scale, bias, &scaled, co, !depthwise, &act, &residual);
    if (!st && residual >= 0) {
        const plan_tensor *rt = &L->p->tensors[L->v[residual].tensor];
        if (rt->h != out_h || rt->w != out_w || rt->c != co || L->v[residual].rank != 4)
            st = NODE_FAIL(L, n, MNAS_E_MODEL, "residual '%s' is %dx%dx%d but the conv gives %dx%dx%d",
                           mnas_value_name(L, residual), rt->c, rt->h, rt->w, co, out_h, out_w);
        else
            residual = L->v[residual].tensor;
    }
    initializer_rows wr;
    const mnas_row_reader *rows = mnas_initializer_rows_init(&wr, W, co, per_out, 0, scaled ? scale : NULL);
    column_scaled_rows cr = {{column_scaled_read, rows->scale}, rows, in_scale, c};
    if (!st) {
        s.in = L->v[x].tensor;
        mnas_copy_str(s.wname, sizeof s.wname, W->name);
        s.params = (int64_t)W->count + co;
        if (pointwise) {
            s.u.pw.fc = (plan_fc){.pixels = h * w, .ci = c, .co = co, .act = act};
            s.u.pw.residual = residual;
            s.macs = (int64_t)h * w * c * co;
            st = mnas_pack_pw(L, W, in_scale ? &cr.base : rows, bias, c, co, 0, &s.u.pw.fc);
        } else if (depthwise) {
            s.u.dw.p = (dw_params){.in_h = h, .in_w = w, .c = c, .k = kh, .stride = cg.stride_h, .pad_t = cg.pads[0],
                                   .pad_l = cg.pads[1], .out_h = out_h, .out_w = out_w, .act = act};
            s.macs = (int64_t)out_h * out_w * c * kh * kw;
            st = pack_spatial(L, &wr, bias, in_scale, &s);
        } else {
            s.u.conv.p = (conv_params){.in_h = h, .in_w = w, .ci = c, .co = co, .kh = kh, .kw = kw,
                                       .stride_h = cg.stride_h, .stride_w = cg.stride_w, .pad_t = cg.pads[0],
                                       .pad_l = cg.pads[1], .out_h = out_h, .out_w = out_w, .act = act};
            s.u.conv.residual = residual;
            s.macs = (int64_t)out_h * out_w * co * c * kh * kw;
            st = pack_spatial(L, &wr, bias, in_scale, &s);
        }
    }
    free(scale);
    free(bias);
    if (st)
        return st;
    return mnas_emit_step(L, n, &s, out, out_h, out_w, co, 4);
}

/* Pad: zeros around an NCHW map, kept on the value (vinfo.pad) for the
 * Conv it must feed. Pads come from the 'pads' attribute (opset < 11) or
 * input, for all four axes (the opset-18 'axes' input is not taken). */
mnas_status mnas_lower_pad(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    if (x < 0 || L->v[x].rank != 4 || L->v[x].cax != 1)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be a 4-D NCHW activation", mnas_input_name(L, n, 0));
    const graph_attr *ma = mnas_graph_node_attr(n, "mode");
    float value = mnas_attr_float(n, "value", 0.0f);
    int ok = 1;
    if (n->n_in > 2 && n->in[2] >= 0)
        value = mnas_const_scalar(mnas_const_input(L, n, 2), &ok);
    const graph_attr *a = mnas_graph_node_attr(n, "pads");
    const graph_value *pv = mnas_const_input(L, n, 1);
    const int64_t *pads = a && a->type == ATTR_INTS ? a->ints : pv ? pv->i : NULL;
    const int n_pads = a && a->type == ATTR_INTS ? a->n : pv ? (int)pv->count : 0;
    /* [n, c, top, left] begins, then [n, c, bottom, right] ends: 0..64 on H and W only */
    ok &= !(ma && (ma->type != ATTR_STRING || strcmp(ma->s, "constant") != 0)) && value == 0.0f &&
          !(n->n_in > 3 && n->in[3] >= 0) && pads && n_pads == 8 && !pads[0] && !pads[1] && !pads[4] && !pads[5];
    for (int i = 0; ok && i < 4; i++)
        ok = pads[i < 2 ? 2 + i : 4 + i] >= 0 && pads[i < 2 ? 2 + i : 4 + i] <= 64;
    if (!ok)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "mode '%s': only constant zero padding of H and W (0..64) is supported",
                         ma && ma->type == ATTR_STRING ? ma->s : "constant");
    const int next = mnas_sole_consumer(L, n->out[0]);
    if (next < 0 || !mnas_is_op(&L->g->nodes[next], "Conv") || L->g->nodes[next].in[0] != n->out[0])
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "output '%s' must feed one Conv, whose padding it becomes",
                         mnas_value_name(L, n->out[0]));
    mnas_alias_value(L, n->out[0], x, 4, 1);
    for (int i = 0; i < 4; i++)
        L->v[n->out[0]].pad[i] += (int)pads[i < 2 ? 2 + i : 4 + i];
    return MNAS_OK;
}
