/* Gemm and MatMul (+ a bias Add): the classifier, and the SE block's two
 * layers before they are fused. MatMul takes the pooled vector at any rank
 * whose last axis holds the features, as TensorFlow exports write it. */
#include <stdlib.h>

#include "compile/lowering.h"

mnas_status mnas_lower_fc(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int gemm = mnas_is_op(n, "Gemm");
    const int x = mnas_act_input(L, n, 0);
    const graph_value *Bv = mnas_const_input(L, n, 1);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input A '%s' must be an activation", mnas_input_name(L, n, 0));
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    if (xt->h != 1 || xt->w != 1)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be (1, C), got spatial %dx%d",
                         mnas_value_name(L, x), xt->h, xt->w);
    if (!Bv || !graph_value_is_float(Bv) || Bv->ndim != 2)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "input B must be a 2-D float initializer");
    const int trans_b = gemm ? (int)mnas_attr_int(n, "transB", 0) : 0;
    if (gemm && mnas_attr_int(n, "transA", 0))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'transA' = 1");
    const float alpha = gemm ? mnas_attr_float(n, "alpha", 1.0f) : 1.0f;
    const float beta = gemm ? mnas_attr_float(n, "beta", 1.0f) : 1.0f;
    const int64_t kdim = trans_b ? Bv->dims[1] : Bv->dims[0];
    const int64_t ndim = trans_b ? Bv->dims[0] : Bv->dims[1];
    if (kdim != xt->c || ndim < 1 || ndim > MNAS_MAX_DIM)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "weights '%s' are %lldx%lld but the input has %d features", Bv->name,
                         (long long)Bv->dims[0], (long long)Bv->dims[1], xt->c);
    const int ci = xt->c, co = (int)ndim;
    float *bias = calloc((size_t)co, sizeof(float));
    float *scale = malloc((size_t)co * sizeof(float));
    if (!bias || !scale) {
        free(bias);
        free(scale);
        return mnas_fail(L->err, MNAS_E_NOMEM, "out of memory packing '%s'", Bv->name);
    }
    /* the weights are read where they lie unless something scales them */
    int scaled = alpha != 1.0f;
    for (int o = 0; o < co; o++)
        scale[o] = alpha;
    /* (1, C) for Gemm; for MatMul the input's rank, features last */
    const int rank = !gemm && L->v[x].cax == L->v[x].rank - 1 ? L->v[x].rank : 2;
    mnas_status st = MNAS_OK;
    int out = n->out[0];
    const graph_value *C = NULL;
    if (gemm && n->n_in > 2 && n->in[2] >= 0) {
        C = mnas_const_input(L, n, 2);
        if (!C || !graph_value_is_float(C) || ((int64_t)C->count != co && C->count != 1))
            st = NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input C must be a float initializer of %d or 1 elements", co);
    } else if (!gemm) {
        /* MatMul + Add(bias) is how some exporters spell Gemm */
        const int ai = mnas_sole_consumer(L, out);
        if (ai >= 0 && mnas_is_op(&L->g->nodes[ai], "Add") && L->g->nodes[ai].n_in == 2) {
            const graph_node *add = &L->g->nodes[ai];
            const int k = add->in[0] == out ? 1 : 0;
            const graph_value *cv = mnas_const_input(L, add, k);
            if (cv && graph_value_is_float(cv) && (int64_t)cv->count == co) {
                C = cv;
                L->done[ai] = 1;
                out = add->out[0];
            }
        }
    }
    if (!st && C) {
        mnas_graph_value_floats(C, 0, C->count, bias);
        for (int o = co - 1; o >= 0; o--)
            bias[o] = beta * bias[C->count == 1 ? 0 : o];
    }
    plan_step s;
    mnas_plan_step_init(&s, STEP_PW);
    s.u.pw.fc = (plan_fc){.pixels = 1, .ci = ci, .co = co};
    if (!st)
        st = mnas_fuse_epilogue(L, &out, rank, rank - 1, scale, bias, &scaled, co, 0, &s.u.pw.fc.act,
                                &s.u.pw.residual);
    initializer_rows wr;
    if (!st) {
        mnas_initializer_rows_init(&wr, Bv, co, (size_t)ci, !trans_b, scaled ? scale : NULL);
        st = mnas_place_gemv_rows(L, Bv, &wr, bias, ci, co, !trans_b, &s.u.pw.fc);
    }
    free(bias);
    free(scale);
    if (st)
        return st;
    s.in = L->v[x].tensor;
    mnas_copy_str(s.wname, sizeof s.wname, Bv->name);
    s.params = (int64_t)ci * co + co;
    s.macs = (int64_t)ci * co;
    st = mnas_emit_step(L, n, &s, out, 1, 1, co, rank);
    if (!st)
        L->v[out].cax = rank - 1;
    return st;
}

