/* Plan construction: growable step/tensor/weight tables and the load
 * pipeline lower -> fuse SE -> plan arena. */
#include <stdlib.h>
#include <string.h>

#include "lower_internal.h"

static mnas_status grow(void **arr, int *cap, int need, size_t elem, mnas_err *err)
{
    if (need <= *cap)
        return MNAS_OK;
    int nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*arr, (size_t)nc * elem);
    if (!q)
        return mnas_fail(err, MNAS_E_NOMEM, "out of memory growing the plan to %d entries", nc);
    *arr = q;
    *cap = nc;
    return MNAS_OK;
}

mnas_status plan_add_tensor(plan *p, int h, int w, int c, int *id, mnas_err *err)
{
    if (p->n_tensors >= MNAS_MAX_VALUES)
        return mnas_fail(err, MNAS_E_LIMIT, "more than %d tensors", MNAS_MAX_VALUES);
    mnas_status st = grow((void **)&p->tensors, &p->cap_tensors, p->n_tensors + 1, sizeof *p->tensors, err);
    if (st)
        return st;
    plan_tensor *t = &p->tensors[p->n_tensors];
    memset(t, 0, sizeof *t);
    t->h = h;
    t->w = w;
    t->c = c;
    t->first = t->last = t->producer = t->alias_of = -1;
    *id = p->n_tensors++;
    return MNAS_OK;
}

mnas_status plan_add_step(plan *p, const plan_step *s, mnas_err *err)
{
    if (p->n_steps >= MNAS_MAX_NODES)
        return mnas_fail(err, MNAS_E_LIMIT, "more than %d steps", MNAS_MAX_NODES);
    mnas_status st = grow((void **)&p->steps, &p->cap_steps, p->n_steps + 1, sizeof *p->steps, err);
    if (st)
        return st;
    const int idx = p->n_steps++;
    p->steps[idx] = *s;
    p->tensors[s->out].producer = idx;
    const int reads[3] = {s->in, s->in2, s->residual};
    for (int i = 0; i < 3; i++)
        if (reads[i] >= 0)
            p->tensors[reads[i]].consumers++;
    return MNAS_OK;
}

mnas_status plan_reserve_weights(plan *p, size_t n, size_t *off, mnas_err *err)
{
    /* keep every block 64-byte aligned for the SIMD loads */
    const size_t start = (p->n_weights + 15) & ~(size_t)15;
    if (n > ((size_t)1 << 28) || start + n < start)
        return mnas_fail(err, MNAS_E_LIMIT, "packed weights exceed %zu floats", (size_t)1 << 28);
    if (start + n > p->cap_weights) {
        size_t nc = p->cap_weights ? p->cap_weights : ((size_t)1 << 16);
        while (nc < start + n)
            nc *= 2;
        float *q = realloc(p->weights, nc * sizeof(float));
        if (!q)
            return mnas_fail(err, MNAS_E_NOMEM, "out of memory for %zu packed weights", nc);
        p->weights = q;
        p->cap_weights = nc;
    }
    /* only the alignment gap: every pack function writes its whole block */
    memset(p->weights + p->n_weights, 0, (start - p->n_weights) * sizeof(float));
    *off = start;
    p->n_weights = start + n;
    return MNAS_OK;
}

void plan_free(plan *p)
{
    free(p->steps);
    free(p->tensors);
    free(p->se);
    free(p->weights);
    free(p->arena);
    memset(p, 0, sizeof *p);
}

mnas_status plan_build(const graph *g, const mnas_kernels *k, uint8_t *store, size_t store_len, plan *p,
                       mnas_err *err)
{
    memset(p, 0, sizeof *p);
    p->k = k;
    if (store && k->pw_pack_in_place) {
        p->store = store;
        p->store_end = store + store_len;
    }
    p->input = p->output = p->embedding = -1;
    mnas_status st = plan_lower(g, p, err);
    if (!st)
        st = plan_fuse_se(g, p, err);
    if (!st)
        st = plan_arena(p, err);
    if (st) {
        plan_free(p);
        return st;
    }
    /* shrink the weight blob to what was used */
    if (p->n_weights && p->n_weights < p->cap_weights) {
        float *q = realloc(p->weights, p->n_weights * sizeof(float));
        if (q) {
            p->weights = q;
            p->cap_weights = p->n_weights;
        }
    }
    for (int i = 0; i < p->n_steps; i++) {
        p->params += p->steps[i].params;
        p->macs += p->steps[i].macs;
    }
    return MNAS_OK;
}
