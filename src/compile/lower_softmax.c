/* Softmax: classifiers exported from Keras (always) and from PyTorch
 * (often) end in one. It becomes the plan's last step, the output holds
 * probabilities, and the plan says so (plan.output_probabilities) so that
 * callers do not apply a softmax a second time. One anywhere else is an
 * error: the engine's output is a vector of class scores. */
#include "compile/lowering.h"

/* Ops that pass the probabilities on to the graph output unchanged. */
static int passes_on(const graph_node *n)
{
    static const char *const ops[] = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Cast", "Dropout"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (mnas_is_op(n, ops[i]))
            return 1;
    return 0;
}

mnas_status mnas_lower_softmax(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an activation", mnas_input_name(L, n, 0));
    for (int v = n->out[0]; v != L->g->outputs[0];) {
        const int ci = mnas_sole_consumer(L, v);
        if (ci < 0 || !passes_on(&L->g->nodes[ci]))
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED,
                             "output '%s' is not the graph output: a Softmax is supported only as the last op "
                             "(then the output holds probabilities)", mnas_value_name(L, n->out[0]));
        v = L->g->nodes[ci].out[0];
    }
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    const int r = L->v[x].rank;
    /* before opset 13 the softmax is over all axes from `axis` on, flattened */
    const int coerced = L->g->opset > 0 && L->g->opset < 13;
    int64_t axis = mnas_attr_int(n, "axis", coerced ? 1 : -1);
    if (axis < 0)
        axis += r;
    const int cax = L->v[x].cax;
    if (xt->h != 1 || xt->w != 1 || axis < 0 || (coerced ? axis > cax : axis != cax))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED,
                         "softmax over axis %lld of a %dx%dx%d tensor: only over the classes of the output vector",
                         (long long)mnas_attr_int(n, "axis", -1), xt->c, xt->h, xt->w);
    plan_step s;
    mnas_plan_step_init(&s, STEP_SOFTMAX);
    s.in = L->v[x].tensor;
    return mnas_emit_step_like(L, n, &s, n->out[0], x);
}
