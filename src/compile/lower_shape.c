/* Ops that move no data: Reshape/Flatten/Squeeze/Unsqueeze between
 * (1,C,1,1) and (1,C), and Cast/Identity/Dropout, which alias their input. */
#include "compile/lowering.h"

/* Reshape / Flatten / Squeeze / Unsqueeze: only between (1,C,1,1) and (1,C),
 * where NCHW and NHWC order coincide and no data moves. */
mnas_status mnas_lower_reshape(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an activation", mnas_input_name(L, n, 0));
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    int rank = 2;
    if (mnas_is_op(n, "Reshape")) {
        const graph_value *sv = mnas_const_input(L, n, 1);
        if (!sv || !sv->i)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "input 'shape' must be an int64 initializer");
        rank = (int)sv->count;
        const int64_t total = mnas_shape_elems(xt->h, xt->w, xt->c);
        int64_t known = 1;
        int infer = 0;
        for (size_t i = 0; i < sv->count; i++) {
            if (sv->i[i] == -1)
                infer++;
            else if (sv->i[i] == 0 && i < 4)
                known *= i == 0 ? 1 : (i == 1 ? xt->c : 1);
            else if (sv->i[i] > 0 && sv->i[i] <= MNAS_MAX_DIM)
                known *= sv->i[i];
            else
                return NODE_FAIL(L, n, MNAS_E_MODEL, "shape value %lld", (long long)sv->i[i]);
            /* factors are >= 1, so past total it can only fail; stopping here
             * also keeps the product of many 2^24 dims from overflowing */
            if (known > total)
                return NODE_FAIL(L, n, MNAS_E_MODEL, "cannot reshape %d elements to the given shape", (int)total);
        }
        if (infer > 1 || (infer == 0 && known != total) || (infer == 1 && total % known) ||
            (sv->count >= 1 && sv->i[0] != 1 && sv->i[0] != 0 && !(sv->i[0] == -1 && total == xt->c)))
            return NODE_FAIL(L, n, MNAS_E_MODEL, "cannot reshape %d elements to the given shape", (int)total);
        if (rank != 2 && rank != 4)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "reshape to rank %d", rank);
    } else if (mnas_is_op(n, "Flatten")) {
        if (mnas_attr_int(n, "axis", 1) != 1)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'axis' other than 1");
    } else if (mnas_is_op(n, "Unsqueeze")) {
        rank = 4;
    }
    if (xt->h != 1 || xt->w != 1)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED,
                         "flattening a %dx%d feature map (only (1,C,1,1) <-> (1,C) is supported)", xt->h, xt->w);
    mnas_alias_value(L, n->out[0], x, rank);
    return MNAS_OK;
}


/* Constants and activations flow through Cast (to float), Identity and
 * Dropout untouched. */
mnas_status mnas_lower_alias(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    if (n->n_in < 1 || n->in[0] < 0 || L->v[n->in[0]].kind == V_UNSET)
        return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", "missing input");
    if (mnas_is_op(n, "Cast") && mnas_attr_int(n, "to", 1) != GRAPH_DT_FLOAT)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "attribute 'to' = %lld (only float)",
                         (long long)mnas_attr_int(n, "to", 1));
    mnas_alias_value(L, n->out[0], n->in[0], L->v[n->in[0]].rank);
    return MNAS_OK;
}
