/* Fusion patterns found while lowering: an activation (or swish, a
 * sigmoid and a multiply) after its producer, a BatchNormalization folded
 * into the conv before it, a residual Add taken into the projection conv. */
#include <math.h>
#include <stdlib.h>

#include "compile/lowering.h"

/* The activation an op computes, when it is one of ours. */
mnas_status mnas_act_of_node(lowering *L, const graph_node *n, mnas_act *act, int *is_act)
{
    *is_act = 1;
    act->a = act->b = 0.0f;
    if (mnas_is_op(n, "Relu")) {
        act->kind = ACT_RELU;
    } else if (mnas_is_op(n, "Clip")) {
        /* opset 11+: min/max as optional inputs; earlier: attributes */
        float lo = -INFINITY, hi = INFINITY;
        int ok = 1;
        if (n->n_in > 1 && n->in[1] >= 0)
            lo = mnas_const_scalar(mnas_const_input(L, n, 1), &ok);
        if (n->n_in > 2 && n->in[2] >= 0)
            hi = mnas_const_scalar(mnas_const_input(L, n, 2), &ok);
        if (!ok)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "min/max must be constant scalars");
        if (mnas_graph_node_attr(n, "min"))
            lo = mnas_attr_float(n, "min", lo);
        if (mnas_graph_node_attr(n, "max"))
            hi = mnas_attr_float(n, "max", hi);
        act->kind = ACT_CLIP;
        act->a = lo;
        act->b = hi;
    } else if (mnas_is_op(n, "HardSwish")) {
        act->kind = ACT_HSWISH;
    } else if (mnas_is_op(n, "HardSigmoid")) {
        act->kind = ACT_HSIGMOID;
        act->a = mnas_attr_float(n, "alpha", 0.2f);
        act->b = mnas_attr_float(n, "beta", 0.5f);
    } else if (mnas_is_op(n, "Sigmoid")) {
        act->kind = ACT_SIGMOID;
    } else {
        *is_act = 0;
    }
    return MNAS_OK;
}

/* The scalar constant operand of binary node n whose other operand is x:
 * 1 and *k, else 0. */
static int scalar_operand(lowering *L, const graph_node *n, int x, float *k)
{
    if (n->n_in != 2 || n->n_out < 1 || (n->in[0] != x && n->in[1] != x))
        return 0;
    const graph_value *cv = mnas_const_input(L, n, n->in[0] == x ? 1 : 0);
    if (!cv || !graph_value_is_float(cv) || cv->count != 1)
        return 0;
    mnas_graph_value_floats(cv, 0, 1, k);
    return 1;
}

/* A node not yet lowered that reads x as op (with a scalar constant as the
 * other operand when want_k), or -1. */
static int reader(lowering *L, int x, const char *op, int want_k, float *k)
{
    const graph *g = L->g;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const graph_node *n = &g->nodes[ni];
        if (L->done[ni] || !mnas_is_op(n, op))
            continue;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] == x && (!want_k || scalar_operand(L, n, x, k)))
                return ni;
    }
    return -1;
}

/* Value x divided by 6 (Mul(1/6) or Div(6)) by its one reader: that node, or -1. */
static int sixth_of(lowering *L, int x)
{
    const int ni = mnas_sole_consumer(L, x);
    float k = 0.0f;
    if (ni < 0 || !scalar_operand(L, &L->g->nodes[ni], x, &k))
        return -1;
    const graph_node *n = &L->g->nodes[ni];
    if (mnas_is_op(n, "Mul") && k > 0.16666660f && k < 0.16666674f)
        return ni;
    return mnas_is_op(n, "Div") && n->in[0] == x && k == 6.0f ? ni : -1;
}

/* Keras' hard sigmoid, relu6(x + 3) / 6, as exporters spell it: node a =
 * Add(x, 3), then Clip(0, 6) (node c); *six is the Mul(1/6) or Div(6) after
 * the Clip, or -1 when the Clip's one reader is something else. 1 when a
 * and c are there. */
static int hard_head(lowering *L, int a, int *c, int *six)
{
    const graph_node *an = &L->g->nodes[a];
    *c = mnas_sole_consumer(L, an->out[0]);
    if (*c < 0)
        return 0;
    mnas_act ca;
    int is_act = 0;
    const graph_node *cn = &L->g->nodes[*c];
    if (!mnas_is_op(cn, "Clip") || mnas_act_of_node(L, cn, &ca, &is_act) || ca.a != 0.0f || ca.b != 6.0f)
        return 0;
    *six = sixth_of(L, cn->out[0]);
    return 1;
}

static void done3(lowering *L, int a, int b, int c)
{
    L->done[a] = L->done[b] = L->done[c] = 1;
}

/* Hard sigmoid (x has one reader) or hard swish (two: the Add and the Mul
 * by x) decomposed into elementwise ops. */
static void match_hard(lowering *L, int x, mnas_act *act, int *result, int *matched)
{
    float k = 0.0f;
    const int a = reader(L, x, "Add", 1, &k);
    int c = -1, six = -1;
    if (a < 0 || k != 3.0f || !hard_head(L, a, &c, &six))
        return;
    const int c_out = L->g->nodes[c].out[0];
    if (L->consumers[x] == 1 && six >= 0) {
        act->kind = ACT_HSIGMOID;
        act->a = 1.0f / 6.0f;
        act->b = 0.5f;
        *result = L->g->nodes[six].out[0];
        done3(L, a, c, six);
        *matched = 1;
        return;
    }
    if (L->consumers[x] != 2)
        return;
    /* x * (relu6(x + 3) / 6), or (x * relu6(x + 3)) / 6 */
    const int hs = six >= 0 ? L->g->nodes[six].out[0] : c_out;
    const int m = mnas_sole_consumer(L, hs);
    const graph_node *mn = m >= 0 ? &L->g->nodes[m] : NULL;
    if (!mn || !mnas_is_op(mn, "Mul") || mn->n_in != 2 ||
        !((mn->in[0] == x && mn->in[1] == hs) || (mn->in[1] == x && mn->in[0] == hs)))
        return;
    const int tail = six >= 0 ? six : sixth_of(L, mn->out[0]);
    if (tail < 0)
        return;
    act->kind = ACT_HSWISH;
    act->a = act->b = 0.0f;
    *result = L->g->nodes[six >= 0 ? m : tail].out[0];
    done3(L, a, c, tail);
    L->done[m] = 1;
    *matched = 1;
}

/* Whether Keras' hard sigmoid or hard swish starts at x: the Add(3) there
 * must be left to the activation, not folded into a bias. */
static int hard_starts(lowering *L, int x)
{
    float k = 0.0f;
    const int a = reader(L, x, "Add", 1, &k);
    int c = -1, six = -1;
    return a >= 0 && k == 3.0f && hard_head(L, a, &c, &six) &&
           (six >= 0 || L->consumers[x] == 2);
}

/* Recognise an activation node applied to value x (which must not be needed
 * elsewhere). Returns 1 and fills act/result/nodes consumed when it does. */
mnas_status mnas_match_act(lowering *L, int x, mnas_act *act, int *result, int *matched)
{
    const graph *g = L->g;
    *matched = 0;
    if (L->consumers[x] == 2) {
        /* swish: Mul(x, Sigmoid(x)) */
        int sig = -1, mul = -1;
        for (int ni = 0; ni < g->n_nodes; ni++) {
            const graph_node *n = &g->nodes[ni];
            if (L->done[ni])
                continue;
            for (int k = 0; k < n->n_in; k++) {
                if (n->in[k] != x)
                    continue;
                if (mnas_is_op(n, "Sigmoid") && n->n_in == 1 && sig < 0)
                    sig = ni;
                else if (mnas_is_op(n, "Mul") && n->n_in == 2)
                    mul = ni;
            }
        }
        if (sig < 0 || mul < 0) {
            match_hard(L, x, act, result, matched);
            return MNAS_OK;
        }
        const graph_node *s = &g->nodes[sig], *m = &g->nodes[mul];
        const int so = s->out[0];
        if (!((m->in[0] == x && m->in[1] == so) || (m->in[1] == x && m->in[0] == so)))
            return MNAS_OK;
        if (L->consumers[so] != 1)
            return MNAS_OK;
        act->kind = ACT_SILU;
        *result = m->out[0];
        L->done[sig] = L->done[mul] = 1;
        *matched = 1;
        return MNAS_OK;
    }
    const int ci = mnas_sole_consumer(L, x);
    if (ci < 0)
        return MNAS_OK;
    if (mnas_is_op(&g->nodes[ci], "Add")) {
        match_hard(L, x, act, result, matched);
        return MNAS_OK;
    }
    const graph_node *n = &g->nodes[ci];
    if (n->n_out < 1)
        return MNAS_OK;
    mnas_status st = mnas_act_of_node(L, n, act, matched);
    if (st || !*matched)
        return st;
    *result = n->out[0];
    L->done[ci] = 1;
    *matched = 1;
    return MNAS_OK;
}

/* Fold a BatchNormalization consuming the conv output: scale[o] multiplies
 * output channel o's weights (applied while they are packed); bias becomes
 * the BN of the old bias. */
static mnas_status fold_bn(lowering *L, const graph_node *bn, float *scale, float *bias, int co)
{
    const graph_value *sc = mnas_const_input(L, bn, 1), *b = mnas_const_input(L, bn, 2), *mean = mnas_const_input(L, bn, 3),
                      *var = mnas_const_input(L, bn, 4);
    if (!sc || !b || !mean || !var || !graph_value_is_float(sc) || !graph_value_is_float(b) ||
        !graph_value_is_float(mean) || !graph_value_is_float(var))
        return NODE_FAIL(L, bn, MNAS_E_UNSUPPORTED, "%s", "scale, B, mean and var must be initializers");
    if ((int64_t)sc->count != co || (int64_t)b->count != co || (int64_t)mean->count != co ||
        (int64_t)var->count != co)
        return NODE_FAIL(L, bn, MNAS_E_MODEL, "parameters must have %d elements, as the conv has outputs", co);
    float *prm = malloc((size_t)co * 4 * sizeof(float));
    if (!prm)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory folding BatchNormalization '%s'", bn->name);
    float *bb = prm, *mm = prm + co, *vv = prm + 2 * (size_t)co, *gg = prm + 3 * (size_t)co;
    mnas_graph_value_floats(sc, 0, (size_t)co, gg);
    mnas_graph_value_floats(b, 0, (size_t)co, bb);
    mnas_graph_value_floats(mean, 0, (size_t)co, mm);
    mnas_graph_value_floats(var, 0, (size_t)co, vv);
    const float eps = mnas_attr_float(bn, "epsilon", 1e-5f);
    for (int o = 0; o < co; o++) {
        const float s = gg[o] / sqrtf(vv[o] + eps);
        scale[o] *= s; /* 1 unless ops before the BN folded into it too */
        bias[o] = (bias[o] - mm[o]) * s + bb[o];
    }
    free(prm);
    return MNAS_OK;
}

/* Node ci, a Mul, Add, Sub or Div of x by a per-channel constant, folded
 * into scale and bias: 1 when it was (mnas_affine_of_node tells). */
static mnas_status fold_affine(lowering *L, int ci, int x, int rank, int cax, float *scale, float *bias, int co,
                               int *folded)
{
    *folded = 0;
    const graph_node *n = &L->g->nodes[ci];
    float *st = malloc(2 * (size_t)co * sizeof *st);
    if (!st)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory folding '%s'", n->name);
    mnas_status e = mnas_affine_of_node(L, n, x, rank, cax, st, st + co, co, folded);
    for (int o = 0; !e && *folded && o < co; o++) {
        scale[o] *= st[o];
        bias[o] = bias[o] * st[o] + st[co + o];
    }
    free(st);
    return e;
}

/* After a conv-like step's raw output value `out`: fold BatchNormalization
 * and per-channel affine ops (when scale is given), then an activation,
 * then a residual Add. Updates the final value id. */
mnas_status mnas_fuse_epilogue(lowering *L, int *out, int rank, int cax, float *scale, float *bias, int *scaled,
                               int co, int allow_residual, mnas_act *act, int *residual)
{
    mnas_status st;
    int ci;
    act->kind = ACT_NONE;
    act->a = act->b = 0.0f;
    *residual = -1;
    while (scale && (ci = mnas_sole_consumer(L, *out)) >= 0 && L->g->nodes[ci].n_out >= 1) {
        const graph_node *n = &L->g->nodes[ci];
        int folded = 0;
        if (mnas_is_op(n, "BatchNormalization")) {
            if ((st = fold_bn(L, n, scale, bias, co)))
                return st;
            folded = 1;
        } else if (!(mnas_is_op(n, "Add") && hard_starts(L, *out)) &&
                   (st = fold_affine(L, ci, *out, rank, cax, scale, bias, co, &folded))) {
            return st;
        }
        if (!folded)
            break;
        *scaled = 1;
        L->done[ci] = 1;
        *out = n->out[0];
    }
    int matched = 0, res = *out;
    if ((st = mnas_match_act(L, *out, act, &res, &matched)))
        return st;
    if (matched)
        *out = res;
    if (!allow_residual || (ci = mnas_sole_consumer(L, *out)) < 0)
        return MNAS_OK;
    const graph_node *add = &L->g->nodes[ci];
    if (!mnas_is_op(add, "Add") || add->n_in != 2 || add->n_out < 1)
        return MNAS_OK;
    const int other = add->in[0] == *out ? add->in[1] : add->in[0];
    if (other < 0 || other == *out || L->v[other].kind != V_ACT)
        return MNAS_OK;
    *residual = other;
    L->done[ci] = 1;
    *out = add->out[0];
    return MNAS_OK;
}

