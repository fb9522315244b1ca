/* Ops that move no data: Reshape/Flatten/Squeeze/Unsqueeze/Transpose of a
 * 1x1 map (the pooled vector, whose elements keep their order whatever
 * the shape around them), the Transpose that makes a channels-last graph
 * input NCHW (the engine is NHWC inside, so it costs nothing), and
 * Cast/Identity/Dropout, which alias their input. */
#include <string.h>

#include "compile/lowering.h"

/* One message for every shape, axis or perm these ops cannot give the pooled vector. */
#define BAD_SHAPE "a shape, axes or perm the pooled vector cannot take"

/* The int64 list of attribute `name` (before opset 13) or input k (after),
 * or none (*n = -1). */
static mnas_status int_list(lowering *L, const graph_node *n, const char *name, int k, const int64_t **v, int *cnt)
{
    const graph_attr *a = mnas_graph_node_attr(n, name);
    *cnt = -1;
    if (a && a->type == ATTR_INTS) {
        *v = a->ints;
        *cnt = a->n;
    } else if (k < n->n_in && n->in[k] >= 0) {
        const graph_value *cv = mnas_const_input(L, n, k);
        if (!cv || (!cv->i && cv->count))
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an int64 initializer", name);
        *v = cv->i;
        *cnt = (int)cv->count;
    }
    return MNAS_OK;
}

/* The layout of a 1x1 map of c channels with these dims: the one axis
 * that holds the channels (any, when c is 1). */
static mnas_status vector_layout(lowering *L, const graph_node *n, const int64_t *dims, int rank, int c, int *cax)
{
    int64_t total = 1;
    *cax = rank == 1 ? 0 : 1;
    int found = 0;
    for (int d = 0; d < rank; d++) {
        total *= dims[d];
        if (dims[d] != 1 && !found) {
            *cax = d;
            found = dims[d] == c;
        }
    }
    if (rank < 1 || rank > 4 || total != c || (c > 1 && !found))
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", BAD_SHAPE);
    return MNAS_OK;
}

/* Axes (negative ones counted from the end of a rank-r tensor) as a bit set. */
static mnas_status axis_set(lowering *L, const graph_node *n, const int64_t *ax, int cnt, int r, unsigned *set)
{
    *set = 0;
    for (int i = 0; i < cnt; i++) {
        const int64_t a = ax[i] < 0 ? ax[i] + r : ax[i];
        if (a < 0 || a >= r || (*set >> a & 1))
            return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", BAD_SHAPE);
        *set |= 1u << a;
    }
    return MNAS_OK;
}

/* Reshape, Flatten, Squeeze, Unsqueeze of a 1x1 map. */
mnas_status mnas_lower_reshape(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an activation", mnas_input_name(L, n, 0));
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    if (xt->h != 1 || xt->w != 1)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED,
                         "flattening a %dx%d feature map (only the pooled vector, a 1x1 map, can be reshaped)", xt->h,
                         xt->w);
    const int r = L->v[x].rank, c = xt->c;
    int64_t in[4], out[8];
    mnas_value_dims(L, x, in);
    int rank = 0;
    const int64_t *v = NULL;
    int cnt = -1;
    unsigned set = 0;
    mnas_status st;
    if (mnas_is_op(n, "Reshape")) {
        const graph_value *sv = mnas_const_input(L, n, 1);
        if (!sv || !sv->i)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", "input 'shape' must be an int64 initializer");
        if (sv->count < 1 || sv->count > 4)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s", BAD_SHAPE);
        rank = (int)sv->count;
        int infer = -1;
        int64_t known = 1;
        for (int i = 0; i < rank; i++) {
            int64_t d = sv->i[i];
            if (d == 0 && i < r && mnas_attr_int(n, "allowzero", 0) == 0)
                d = in[i];
            if (d == -1 && infer < 0) {
                infer = i;
                continue;
            }
            known *= d; /* stays small: checked against c at once */
            if (d < 1 || d > MNAS_MAX_DIM || known > c)
                return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", BAD_SHAPE);
            out[i] = d;
        }
        if (infer >= 0)
            out[infer] = c / known; /* a wrong product fails in vector_layout */
    } else if (mnas_is_op(n, "Flatten")) {
        int64_t axis = mnas_attr_int(n, "axis", 1);
        if (axis < 0)
            axis += r;
        rank = 2;
        out[0] = out[1] = 1;
        out[L->v[x].cax < axis ? 0 : 1] = c;
    } else {
        const int unsq = mnas_is_op(n, "Unsqueeze");
        if ((st = int_list(L, n, "axes", 1, &v, &cnt)))
            return st;
        if (unsq) {
            rank = r + (cnt < 0 ? 0 : cnt);
            if (cnt < 1 || rank > 4 || (st = axis_set(L, n, v, cnt, rank, &set)))
                return st;
            for (int d = 0, j = 0; d < rank; d++)
                out[d] = set >> d & 1 ? 1 : in[j++];
        } else {
            if (cnt < 0)
                for (int d = 0; d < r; d++)
                    set |= (unsigned)(in[d] == 1) << d;
            else if ((st = axis_set(L, n, v, cnt, r, &set)))
                return st;
            for (int d = 0; d < r; d++) {
                if (!(set >> d & 1))
                    out[rank++] = in[d];
                else if (in[d] != 1)
                    return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", BAD_SHAPE);
            }
        }
    }
    int cax = 0;
    if ((st = vector_layout(L, n, out, rank, c, &cax)))
        return st;
    mnas_alias_value(L, n->out[0], x, rank, cax);
    return MNAS_OK;
}

/* Transpose: free on a 1x1 map; on a map, only the channels-last graph
 * input's perm [0, 3, 1, 2], which the NHWC engine needs no data moved for. */
mnas_status mnas_lower_transpose(lowering *L, int ni)
{
    const graph_node *n = &L->g->nodes[ni];
    const int x = mnas_act_input(L, n, 0);
    if (x < 0)
        return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "input '%s' must be an activation", mnas_input_name(L, n, 0));
    const int r = L->v[x].rank, cax = L->v[x].cax;
    int64_t perm[4];
    const graph_attr *a = mnas_graph_node_attr(n, "perm");
    unsigned seen = 0;
    for (int d = 0; d < r; d++) {
        perm[d] = a && a->type == ATTR_INTS && a->n == r ? a->ints[d] : r - 1 - d;
        if ((a && (a->type != ATTR_INTS || a->n != r)) || perm[d] < 0 || perm[d] >= r || (seen >> perm[d] & 1))
            return NODE_FAIL(L, n, MNAS_E_MODEL, "%s", BAD_SHAPE);
        seen |= 1u << perm[d];
    }
    const plan_tensor *xt = &L->p->tensors[L->v[x].tensor];
    int to = 0;
    if (xt->h > 1 || xt->w > 1) {
        if (r != 4 || cax != 3 || perm[0] != 0 || perm[1] != 3 || perm[2] != 1 || perm[3] != 2)
            return NODE_FAIL(L, n, MNAS_E_UNSUPPORTED, "%s",
                             "on a map only perm [0,3,1,2] of a channels-last graph input is supported");
        to = 1;
    } else {
        for (int d = 0; d < r; d++)
            if (perm[d] == cax)
                to = d;
    }
    mnas_alias_value(L, n->out[0], x, r, to);
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
    mnas_alias_value(L, n->out[0], n->in[0], L->v[n->in[0]].rank, L->v[n->in[0]].cax);
    return MNAS_OK;
}
