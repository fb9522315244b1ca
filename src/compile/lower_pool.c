/* Global average pooling, spelled ReduceMean over H and W or
 * GlobalAveragePool. */
#include "compile/lowering.h"

mnas_status mnas_lower_pool(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    if (x < 0 || L->v[x].rank != 4 || L->v[x].cax != 1)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be a 4-D NCHW activation", mnas_input_name(L, n, 0));
    int keep = 1;
    if (mnas_is_op(n, "ReduceMean")) {
        keep = (int)mnas_attr_int(n, "keepdims", 1);
        const int64_t *axes = NULL;
        int n_axes = 0;
        const graph_attr *a = mnas_graph_node_attr(n, "axes");
        if (a && a->type == ATTR_INTS) {
            axes = a->ints;
            n_axes = a->n;
        } else if (n->n_in > 1 && n->in[1] >= 0) {
            const graph_value *av = mnas_const_input(L, n, 1);
            if (!av || !av->i)
                return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "input 'axes' must be an int64 initializer");
            axes = av->i;
            n_axes = (int)av->count;
        }
        int seen[4] = {0, 0, 0, 0};
        for (int i = 0; i < n_axes; i++) {
            const int64_t ax = axes[i] < 0 ? axes[i] + 4 : axes[i];
            if (ax < 0 || ax > 3)
                return NODE_FAIL(L, n, MNAS_E_MODEL, "axis %lld out of range for a 4-D input", (long long)axes[i]);
            seen[ax] = 1;
        }
        if (n_axes != 2 || !seen[2] || !seen[3])
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "attribute 'axes': only the mean over H and W (axes 2, 3)");
    }
    plan_step s;
    mnas_plan_step_init(&s, STEP_GAP);
    s.in = L->v[x].tensor;
    const plan_tensor *xt = &L->p->tensors[s.in];
    s.u.pixels = xt->h * xt->w;
    return mnas_emit_step(L, n, &s, n->out[0], 1, 1, xt->c, keep ? 4 : 2);
}

