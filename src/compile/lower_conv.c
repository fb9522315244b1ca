/* Conv: the stem (a full convolution), 1x1 convolutions and depthwise
 * convolutions, with their padding rules, BN, activation and residual. */
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

/* A depthwise or full conv's weights (the BN scale applied) into the
 * kernels' layout in the blob, through one fp32 copy of the tensor. */
static mnas_status pack_spatial(lowering *L, const initializer_rows *wr, const float *bias, plan_step *s)
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
        st = mnas_plan_reserve_weights(L->p, k->dw_packed_floats(d->c, d->k), &s->u.dw.w_off, L->err);
        if (!st)
            k->dw_pack(wf, bias, d->c, d->k, L->p->weights + s->u.dw.w_off);
    } else {
        const conv_params *c = &s->u.conv.p;
        st = mnas_plan_reserve_weights(L->p, k->conv_packed_floats(c->ci, c->co, c->kh, c->kw), &s->u.conv.w_off, L->err);
        if (!st)
            k->conv_pack(wf, bias, c->ci, c->co, c->kh, c->kw, L->p->weights + s->u.conv.w_off);
    }
    free(wf);
    return st;
}

mnas_status mnas_lower_conv(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    const graph_value *W = mnas_const_input(L, n, 1);
    const graph_value *B = n->n_in > 2 && n->in[2] >= 0 ? mnas_const_input(L, n, 2) : NULL;
    if (x < 0 || L->v[x].rank != 4)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "input '%s' must be a 4-D activation", mnas_input_name(L, n, 0));
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
    conv_geom cg;
    mnas_status st = conv_geometry(L, n, h, w, kh, kw, &cg);
    if (st)
        return st;
    const int out_h = (h + cg.pads[0] + cg.pads[2] - kh) / cg.stride_h + 1;
    const int out_w = (w + cg.pads[1] + cg.pads[3] - kw) / cg.stride_w + 1;
    if (h + cg.pads[0] + cg.pads[2] < kh || w + cg.pads[1] + cg.pads[3] < kw || out_h < 1 || out_w < 1)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "kernel %dx%d larger than the padded %dx%d input", kh, kw, h, w);
    if (depthwise && cg.stride_h != cg.stride_w)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "depthwise with unequal strides");

    const size_t per_out = (size_t)cig * kh * kw;
    /* Weights go from the initializer straight into their packed place; a
     * following BatchNormalization is folded in as a per-channel scale. */
    const int next = mnas_sole_consumer(L, n->out[0]);
    const int bn_next = next >= 0 && mnas_is_op(&L->g->nodes[next], "BatchNormalization");
    float *bias = calloc((size_t)co, sizeof(float));
    float *scale = bn_next ? malloc((size_t)co * sizeof(float)) : NULL;
    if (!bias || (bn_next && !scale)) {
        free(bias);
        free(scale);
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory for the bias of '%s'", W->name);
    }
    for (int o = 0; bn_next && o < co; o++)
        scale[o] = 1.0f; /* until a fold sets it */
    if (B)
        mnas_graph_value_floats(B, 0, (size_t)co, bias);

    const int pointwise = !depthwise && kh == 1 && kw == 1 && cg.stride_h == 1 && cg.stride_w == 1 &&
                          !cg.pads[0] && !cg.pads[1] && !cg.pads[2] && !cg.pads[3];
    plan_step s;
    mnas_plan_step_init(&s, depthwise ? STEP_DW : pointwise ? STEP_PW : STEP_CONV);
    int out = n->out[0], residual = -1;
    mnas_act act;
    st = mnas_fuse_epilogue(L, &out, scale, bias, co, !depthwise, &act, &residual);
    if (!st && residual >= 0) {
        const plan_tensor *rt = &L->p->tensors[L->v[residual].tensor];
        if (rt->h != out_h || rt->w != out_w || rt->c != co || L->v[residual].rank != 4)
            st = NODE_FAIL(L, n, MNAS_E_MODEL, "residual '%s' is %dx%dx%d but the conv gives %dx%dx%d",
                           mnas_value_name(L, residual), rt->c, rt->h, rt->w, co, out_h, out_w);
        else
            residual = L->v[residual].tensor;
    }
    initializer_rows wr;
    const mnas_row_reader *rows = mnas_initializer_rows_init(&wr, W, co, per_out, 0, bn_next ? scale : NULL);
    if (!st) {
        s.in = L->v[x].tensor;
        mnas_copy_str(s.wname, sizeof s.wname, W->name);
        s.params = (int64_t)W->count + co;
        if (pointwise) {
            s.u.pw.fc = (plan_fc){.pixels = h * w, .ci = c, .co = co, .act = act};
            s.u.pw.residual = residual;
            s.macs = (int64_t)h * w * c * co;
            st = mnas_pack_pw(L, W, rows, bias, c, co, 0, &s.u.pw.fc);
        } else if (depthwise) {
            s.u.dw.p = (dw_params){.in_h = h, .in_w = w, .c = c, .k = kh, .stride = cg.stride_h, .pad_t = cg.pads[0],
                                   .pad_l = cg.pads[1], .out_h = out_h, .out_w = out_w, .act = act};
            s.macs = (int64_t)out_h * out_w * c * kh * kw;
            st = pack_spatial(L, &wr, bias, &s);
        } else {
            s.u.conv.p = (conv_params){.in_h = h, .in_w = w, .ci = c, .co = co, .kh = kh, .kw = kw,
                                       .stride_h = cg.stride_h, .stride_w = cg.stride_w, .pad_t = cg.pads[0],
                                       .pad_l = cg.pads[1], .out_h = out_h, .out_w = out_w, .act = act};
            s.u.conv.residual = residual;
            s.macs = (int64_t)out_h * out_w * co * c * kh * kw;
            st = pack_spatial(L, &wr, bias, &s);
        }
    }
    free(scale);
    free(bias);
    if (st)
        return st;
    return mnas_emit_step(L, n, &s, out, out_h, out_w, co, 4);
}

