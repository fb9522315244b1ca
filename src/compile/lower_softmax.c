/* Softmax: classifiers exported from Keras (always) and from PyTorch
 * (often) end in one. It becomes the plan's last step, the output holds
 * probabilities, and the plan says so (plan.output_probabilities) so that
 * callers do not apply a softmax a second time. One anywhere else is an
 * error (compile.c checks, once all is lowered, that it gives the output):
 * the engine's output is a vector of class scores. */
#include "compile/lowering.h"

mnas_status mnas_lower_softmax(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an activation", mnas_input_name(L, n, 0));
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    /* before opset 13 the softmax is over all axes from `axis` on, flattened */
    const int r = L->v[x].rank, cax = L->v[x].cax, coerced = L->g->opset > 0 && L->g->opset < 13;
    int64_t axis = mnas_attr_int(n, "axis", coerced ? 1 : -1);
    if (axis < 0)
        axis += r;
    if (xt->h != 1 || xt->w != 1 || axis < 0 || (coerced ? axis > cax : axis != cax))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", MNAS_MSG_SOFTMAX);
    plan_step s;
    mnas_plan_step_init(&s, STEP_SOFTMAX);
    s.in = L->v[x].tensor;
    return mnas_emit_step_like(L, n, &s, n->out[0], x);
}
