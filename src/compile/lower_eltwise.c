/* Standalone activations and the binary ops: a same-shape Add or Mul,
 * x * gate with a (1, C, 1, 1) gate (the excitation scale), and Mul, Add,
 * Sub, Div by a per-channel constant (affine.c). */
#include "compile/lowering.h"

mnas_status mnas_lower_act(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an activation", mnas_input_name(L, n, 0));
    plan_step s;
    mnas_plan_step_init(&s, STEP_ACT);
    int out = n->out[0], matched = 0;
    mnas_status st = MNAS_OK;
    if (mnas_is_op(n, "Sigmoid")) { /* maybe the first half of a swish */
        L->done[ni] = 0;
        st = mnas_match_act(L, x, &s.u.ew.act, &out, &matched);
        L->done[ni] = 1;
    }
    if (!st && !matched) {
        out = n->out[0];
        st = mnas_act_of_node(L, n, &s.u.ew.act, &matched);
    }
    if (st)
        return st;
    s.in = L->v[x].tensor;
    return mnas_emit_step_like(L, n, &s, out, x);
}

mnas_status mnas_lower_binary(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int a = mnas_act_input(L, n, 0), b = mnas_act_input(L, n, 1);
    if (n->n_in == 2 && (a < 0) != (b < 0)) {
        int handled = 0;
        mnas_status st = mnas_lower_affine(L, ni, a >= 0 ? a : b, &handled);
        if (st || handled)
            return st;
    }
    if (n->n_in != 2 || a < 0 || b < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s",
                         "inputs must be tensors, or a tensor and a float constant per channel");
    if (mnas_is_op(n, "Sub") || mnas_is_op(n, "Div"))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "Sub and Div of two tensors");
    for (int k = 0; k < 2; k++) {
        mnas_status st = L->v[n->in[k]].affine ? mnas_materialize_affine(L, n->in[k]) : MNAS_OK;
        if (st)
            return st;
    }
    const plan_tensor *at = &L->p->tensors[L->v[a].tensor], *bt = &L->p->tensors[L->v[b].tensor];
    if ((L->v[a].cax != 1 && (at->h > 1 || at->w > 1)) || (L->v[b].cax != 1 && (bt->h > 1 || bt->w > 1)))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, MNAS_MSG_NHWC, mnas_value_name(L, L->v[a].cax != 1 ? a : b));
    plan_step s;
    const int same = at->h == bt->h && at->w == bt->w && at->c == bt->c;
    if (mnas_is_op(n, "Add")) {
        if (!same)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "broadcasting add of %dx%dx%d and %dx%dx%d", at->c, at->h,
                             at->w, bt->c, bt->h, bt->w);
        mnas_plan_step_init(&s, STEP_ADD);
        s.in = L->v[a].tensor;
        s.u.ew.in2 = L->v[b].tensor;
        int out = n->out[0], res;
        mnas_status st =
            mnas_fuse_epilogue(L, &out, L->v[a].rank, L->v[a].cax, NULL, NULL, NULL, 0, 0, &s.u.ew.act, &res);
        if (st)
            return st;
        return mnas_emit_step_like(L, n, &s, out, a);
    }
    if (same) {
        mnas_plan_step_init(&s, STEP_MUL);
        s.in = L->v[a].tensor;
        s.u.ew.in2 = L->v[b].tensor;
        return mnas_emit_step_like(L, n, &s, n->out[0], a);
    }
    /* x * g with g of shape (1, C, 1, 1): the excitation scale */
    const plan_tensor *big = at, *vec = bt;
    int bi = a, vi = b;
    if (at->h == 1 && at->w == 1 && (bt->h > 1 || bt->w > 1)) {
        big = bt;
        vec = at;
        bi = b;
        vi = a;
    }
    if (vec->h != 1 || vec->w != 1 || vec->c != big->c || L->v[vi].rank != 4)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "broadcasting multiply of %dx%dx%d and %dx%dx%d", at->c, at->h,
                         at->w, bt->c, bt->h, bt->w);
    mnas_plan_step_init(&s, STEP_SCALE_CH);
    s.in = L->v[bi].tensor;
    s.u.ew.in2 = L->v[vi].tensor;
    return mnas_emit_step(L, n, &s, n->out[0], big->h, big->w, big->c, 4);
}

