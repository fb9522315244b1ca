/* The compile driver: analyze and lower the graph, fuse SE blocks on the
 * steps, then let the plan lay out its memory. Each pass is a file of
 * compile/; this one only orders them and owns the lowering state. */
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "compile/lowering.h"

static mnas_status lower(const graph *g, plan *p, mnas_err *err)
{
    lowering L = {.g = g, .p = p, .err = err};
    mnas_status st = MNAS_OK;
    int *order = NULL;
    L.v = calloc((size_t)g->n_values + 1, sizeof *L.v);
    L.consumers = calloc((size_t)g->n_values + 1, sizeof(int));
    L.consumer = calloc((size_t)g->n_values + 1, sizeof(int));
    L.producer = calloc((size_t)g->n_values + 1, sizeof(int));
    L.done = calloc((size_t)g->n_nodes + 1, 1);
    order = calloc((size_t)g->n_nodes + 1, sizeof(int));
    if (!L.v || !L.consumers || !L.consumer || !L.producer || !L.done || !order) {
        st = mnas_fail(err, MNAS_E_NOMEM, "out of memory lowering %d nodes", g->n_nodes);
        goto out;
    }
    if ((st = mnas_setup_values(&L)) || (st = mnas_raw_floors(&L)) || (st = mnas_topo_order(&L, order)))
        goto out;
    const size_t bound = mnas_weights_bound(&L);
    if (bound && !p->weights && (p->weights = malloc(bound * sizeof(float))))
        p->cap_weights = bound;
    if ((st = mnas_lower_graph(&L, order)))
        goto out;
    const int ov = g->outputs[0];
    if (L.v[ov].kind == V_ACT && L.v[ov].affine && (st = mnas_materialize_affine(&L, ov)))
        goto out;
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].kind == STEP_SOFTMAX && (L.v[ov].kind != V_ACT || p->steps[i].out != L.v[ov].tensor)) {
            st = mnas_fail(err, MNAS_E_UNSUPPORTED, "node '%s' (Softmax): %s", p->steps[i].name, MNAS_MSG_SOFTMAX);
            goto out;
        }
    if (L.v[ov].kind != V_ACT || L.v[ov].tensor == p->input)
        st = mnas_fail(err, MNAS_E_MODEL, "output '%s' is not computed from the input", g->values[ov].name);
    else if (p->tensors[L.v[ov].tensor].h != 1 || p->tensors[L.v[ov].tensor].w != 1)
        st = mnas_fail(err, MNAS_E_UNSUPPORTED, "output '%s' is a %dx%d map; expected class scores (1, N)",
                       g->values[ov].name, p->tensors[L.v[ov].tensor].h, p->tensors[L.v[ov].tensor].w);
    if (st)
        goto out;
    p->output = L.v[ov].tensor;
    p->tensors[p->output].persistent = 1;
    p->classes = p->tensors[p->output].c;
    /* The embedding is the input of the classifier, the Gemm/MatMul (a
     * STEP_PW on one pixel) that computes the output, or the logits a
     * final Softmax reads. It is kept like the SE gates so that
     * mnas_embedding reads it after a run at no cost. */
    int cls = p->tensors[p->output].producer;
    if (cls >= 0 && p->steps[cls].kind == STEP_SOFTMAX) {
        p->output_probabilities = 1;
        cls = p->tensors[p->steps[cls].in].producer;
    }
    if (cls >= 0 && p->steps[cls].kind == STEP_PW && p->steps[cls].u.pw.fc.pixels == 1) {
        p->embedding = p->steps[cls].in;
        p->tensors[p->embedding].persistent = 1;
    }
    st = mnas_check_declared(&L);
out:
    free(L.v);
    free(L.consumers);
    free(L.consumer);
    free(L.producer);
    free(L.done);
    free(L.floor);
    free(L.affine);
    free(order);
    return st;
}

mnas_status mnas_compile_plan(const graph *g, const mnas_kernels *k, uint8_t *store, size_t store_len,
                              const plan_band_tuning *bands, plan *p, mnas_err *err)
{
    memset(p, 0, sizeof *p);
    p->k = k;
    if (store && k->pw_pack_in_place) {
        p->store = store;
        p->store_end = store + store_len;
    }
    p->input = p->output = p->embedding = -1;
    mnas_status st = lower(g, p, err);
    if (!st)
        st = mnas_fuse_se(p, err);
    if (!st)
        st = mnas_plan_finish(p, bands, err);
    if (st)
        mnas_plan_free(p);
    return st;
}
