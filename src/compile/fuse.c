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
        if (sig < 0 || mul < 0)
            return MNAS_OK;
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
    float *prm = malloc((size_t)co * 3 * sizeof(float));
    if (!prm)
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory folding BatchNormalization '%s'", bn->name);
    float *bb = prm, *mm = prm + co, *vv = prm + 2 * (size_t)co;
    mnas_graph_value_floats(sc, 0, (size_t)co, scale);
    mnas_graph_value_floats(b, 0, (size_t)co, bb);
    mnas_graph_value_floats(mean, 0, (size_t)co, mm);
    mnas_graph_value_floats(var, 0, (size_t)co, vv);
    const float eps = mnas_attr_float(bn, "epsilon", 1e-5f);
    for (int o = 0; o < co; o++) {
        const float s = scale[o] / sqrtf(vv[o] + eps);
        scale[o] = s;
        bias[o] = (bias[o] - mm[o]) * s + bb[o];
    }
    free(prm);
    return MNAS_OK;
}

/* After a conv-like step's raw output value `out`: fuse BN (convs only),
 * then an activation, then a residual Add. Updates the final value id. */
mnas_status mnas_fuse_epilogue(lowering *L, int *out, float *scale, float *bias, int co, int allow_residual,
                          mnas_act *act, int *residual)
{
    mnas_status st;
    int ci;
    act->kind = ACT_NONE;
    act->a = act->b = 0.0f;
    *residual = -1;
    if (scale && (ci = mnas_sole_consumer(L, *out)) >= 0 && mnas_is_op(&L->g->nodes[ci], "BatchNormalization") &&
        L->g->nodes[ci].n_out >= 1) {
        if ((st = fold_bn(L, &L->g->nodes[ci], scale, bias, co)))
            return st;
        L->done[ci] = 1;
        *out = L->g->nodes[ci].out[0];
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

