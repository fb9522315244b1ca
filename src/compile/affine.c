/* Per-channel affine maps: Mul, Add, Sub and Div between a tensor and a
 * constant that is a scalar or one value per channel. TensorFlow graphs
 * are full of them (an unfolded BatchNorm, Keras' Rescaling of the input).
 * After a convolution they fold into its weights (fuse.c); on the graph
 * input they wait, as vinfo.affine, for the first convolution to take them
 * (lower_conv.c); anywhere else they become a 1x1 depthwise step, the one
 * kernel that already applies a weight and a bias per channel. */
#include <stdlib.h>
#include <string.h>

#include "compile/lowering.h"

static int is_affine_op(const graph_node *n)
{
    return mnas_is_op(n, "Mul") || mnas_is_op(n, "Add") || mnas_is_op(n, "Sub") || mnas_is_op(n, "Div");
}

/* The constant's value for each of the c channels of x, or an error when
 * its shape broadcasts against x other than per channel (ONNX broadcasting:
 * dims aligned from the right). */
static mnas_status per_channel(lowering *L, const graph_node *n, const graph_value *cv, int rank, int cax, float *k,
                               int c)
{
    if (cv->count == 1) {
        float v;
        mnas_graph_value_floats(cv, 0, 1, &v);
        for (int i = 0; i < c; i++)
            k[i] = v;
        return MNAS_OK;
    }
    int ok = cv->ndim <= rank && (int64_t)cv->count == c;
    for (int j = 0; ok && j < cv->ndim; j++) {
        const int a = rank - cv->ndim + j;
        ok = cv->dims[j] == 1 || (a == cax && cv->dims[j] == c);
    }
    if (!ok)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "constant '%s' is neither a scalar nor one value per channel",
                         cv->name);
    mnas_graph_value_floats(cv, 0, (size_t)c, k);
    return MNAS_OK;
}

mnas_status mnas_affine_of_node(lowering *L, const graph_node *n, int x, int rank, int cax, float *s, float *t, int c,
                                int *ok)
{
    *ok = 0;
    if (!is_affine_op(n) || n->n_in != 2 || n->n_out < 1 || (n->in[0] != x && n->in[1] != x))
        return MNAS_OK;
    const int kpos = n->in[0] == x ? 1 : 0;
    const graph_value *cv = mnas_const_input(L, n, kpos);
    if (!cv || !graph_value_is_float(cv))
        return MNAS_OK;
    float *k = malloc((size_t)c * sizeof *k);
    if (!k)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory folding '%s'", n->name);
    mnas_status st = per_channel(L, n, cv, rank, cax, k, c);
    const int sub = mnas_is_op(n, "Sub"), div = mnas_is_op(n, "Div");
    if (!st && div && kpos == 0)
        st = NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "a constant divided by a tensor");
    for (int i = 0; !st && i < c; i++) {
        if (mnas_is_op(n, "Mul")) {
            s[i] = k[i];
            t[i] = 0.0f;
        } else if (div) {
            s[i] = 1.0f / k[i];
            t[i] = 0.0f;
        } else {
            /* Add: x + k; Sub: x - k, or k - x */
            s[i] = sub && kpos == 0 ? -1.0f : 1.0f;
            t[i] = sub && kpos == 1 ? -k[i] : k[i];
        }
    }
    free(k);
    *ok = !st;
    return st;
}

mnas_status mnas_affine_alloc(lowering *L, int c, size_t *at)
{
    const size_t need = L->n_affine + 2 * (size_t)c;
    if (need > L->cap_affine) {
        size_t cap = L->cap_affine ? L->cap_affine : 256;
        while (cap < need)
            cap *= 2;
        float *q = realloc(L->affine, cap * sizeof *q);
        if (!q)
            return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory for %d channel scales", c);
        L->affine = q;
        L->cap_affine = cap;
    }
    *at = L->n_affine;
    L->n_affine = need;
    return MNAS_OK;
}

/* A 1x1 depthwise step out = w * in + b on value x; w and b as given,
 * then each channel's w times scale (folded ops after it). */
static mnas_status affine_step(lowering *L, const graph_node *n, int x, const float *w, const float *b,
                               const float *scale, const mnas_act *act, int out)
{
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    const int c = xt->c;
    float *ws = malloc((size_t)c * sizeof *ws);
    if (!ws)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory lowering '%s'", n->name);
    for (int i = 0; i < c; i++)
        ws[i] = scale ? w[i] * scale[i] : w[i];
    plan_step s;
    mnas_plan_step_init(&s, STEP_DW);
    s.in = L->v[x].tensor;
    s.u.dw.p = (dw_params){.in_h = xt->h, .in_w = xt->w, .c = c, .k = 1, .stride = 1, .out_h = xt->h,
                           .out_w = xt->w, .act = *act};
    s.params = 2 * (int64_t)c;
    s.macs = mnas_shape_elems(xt->h, xt->w, c);
    const mnas_kernels *k = L->p->k;
    mnas_status st = mnas_plan_reserve_weights(L->p, k->dw_packed_floats(c, 1), &s.u.dw.w_off, L->err);
    if (!st)
        k->dw_pack(ws, b, c, 1, L->p->weights + s.u.dw.w_off);
    free(ws);
    return st ? st : mnas_emit_step_like(L, n, &s, out, x);
}

mnas_status mnas_materialize_affine(lowering *L, int vi)
{
    const vinfo v = L->v[vi];
    const int c = L->p->tensors[v.tensor].c;
    const mnas_act none = {ACT_NONE, 0.0f, 0.0f};
    /* the step reads the source tensor and gives vi a tensor of its own */
    mnas_status st = affine_step(L, &L->g->nodes[v.affine_node], vi, L->affine + (v.affine - 1),
                                 L->affine + (v.affine - 1) + c, NULL, &none, vi);
    if (!st)
        memcpy(L->v[vi].pad, v.pad, sizeof v.pad);
    return st;
}

/* Node ni (Mul, Add, Sub or Div by a constant) on activation x: kept
 * pending on the graph input for the first Conv, else a 1x1 depthwise step
 * that also takes the affine ops and activation after it. */
mnas_status mnas_lower_affine(lowering *L, int ni, int x, int *handled)
{
    const graph_node *n = &L->g->nodes[ni];
    const int c = L->p->tensors[L->v[x].tensor].c;
    *handled = 0;
    size_t at = 0;
    mnas_status st = mnas_affine_alloc(L, c, &at);
    if (st)
        return st;
    float *s = L->affine + at, *t = s + c;
    int ok = 0;
    if ((st = mnas_affine_of_node(L, n, x, L->v[x].rank, L->v[x].cax, s, t, c, &ok)) || !ok) {
        L->n_affine = at;
        return st;
    }
    *handled = 1;
    const int out = n->out[0];
    if (L->v[x].affine || L->v[x].tensor == L->p->input) {
        /* y = s1 * (s0 * x + t0) + t1 */
        if (L->v[x].affine) {
            const float *s0 = L->affine + (L->v[x].affine - 1), *t0 = s0 + c;
            for (int i = 0; i < c; i++) {
                t[i] = s[i] * t0[i] + t[i];
                s[i] = s[i] * s0[i];
            }
        }
        mnas_alias_value(L, out, x, L->v[x].rank, L->v[x].cax);
        L->v[out].affine = at + 1;
        L->v[out].affine_node = ni;
        return MNAS_OK;
    }
    /* copies: the epilogue may grow L->affine while it folds */
    float *buf = malloc(3 * (size_t)c * sizeof *buf);
    if (!buf)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory lowering '%s'", n->name);
    float *w = buf, *bias = buf + c, *scale = buf + 2 * (size_t)c;
    memcpy(w, s, (size_t)c * sizeof *w);
    memcpy(bias, t, (size_t)c * sizeof *bias);
    L->n_affine = at;
    for (int i = 0; i < c; i++)
        scale[i] = 1.0f;
    int res = out, scaled = 0, residual = -1;
    mnas_act act;
    st = mnas_fuse_epilogue(L, &res, L->v[x].rank, L->v[x].cax, scale, bias, &scaled, c, 0, &act, &residual);
    if (!st)
        st = affine_step(L, n, x, w, bias, scale, &act, res);
    free(buf);
    return st;
}
