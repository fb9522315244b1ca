/* The plan's growable tables (steps, tensors, SE blocks, the weight blob)
 * and what every step kind reads and writes. The compiler fills them
 * through these functions only. */
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

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

void mnas_plan_step_init(plan_step *s, int kind)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->in = s->out = -1;
    s->band.head = -1;
    switch (kind) {
    case STEP_CONV: s->u.conv.residual = -1; break;
    case STEP_PW: s->u.pw.residual = -1; break;
    case STEP_SE: s->u.se.pooled = s->u.se.reduced = s->u.se.gate = s->u.se.index = -1; break;
    case STEP_ACT: case STEP_ADD: case STEP_MUL: case STEP_SCALE_CH: s->u.ew.in2 = -1; break;
    default: break;
    }
}

int mnas_plan_step_tensors(const plan_step *s, int *ids, int *writes)
{
    int r[3] = {s->in, -1, -1}, w[4] = {-1, -1, -1, s->out};
    switch (s->kind) {
    case STEP_CONV: r[1] = s->u.conv.residual; break;
    case STEP_PW: r[1] = s->u.pw.residual; break;
    case STEP_SE:
        w[0] = s->u.se.pooled;
        w[1] = s->u.se.reduced;
        w[2] = s->u.se.gate;
        break;
    case STEP_ACT: case STEP_ADD: case STEP_MUL: case STEP_SCALE_CH: r[1] = s->u.ew.in2; break;
    default: break;
    }
    int n = 0;
    for (int i = 0; i < 3; i++)
        if (r[i] >= 0) {
            ids[n] = r[i];
            writes[n++] = 0;
        }
    for (int i = 0; i < 4; i++)
        if (w[i] >= 0) {
            ids[n] = w[i];
            writes[n++] = 1;
        }
    return n;
}

mnas_status mnas_plan_add_tensor(plan *p, int h, int w, int c, int *id, mnas_err *err)
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

mnas_status mnas_plan_add_step(plan *p, const plan_step *s, mnas_err *err)
{
    if (p->n_steps >= MNAS_MAX_NODES)
        return mnas_fail(err, MNAS_E_LIMIT, "more than %d steps", MNAS_MAX_NODES);
    mnas_status st = grow((void **)&p->steps, &p->cap_steps, p->n_steps + 1, sizeof *p->steps, err);
    if (st)
        return st;
    const int idx = p->n_steps++;
    p->steps[idx] = *s;
    p->tensors[s->out].producer = idx;
    int ids[PLAN_STEP_TENSORS], wr[PLAN_STEP_TENSORS];
    const int n = mnas_plan_step_tensors(s, ids, wr);
    for (int i = 0; i < n; i++)
        if (!wr[i])
            p->tensors[ids[i]].consumers++;
    return MNAS_OK;
}

mnas_status mnas_plan_add_se(plan *p, const plan_se *se, mnas_err *err)
{
    mnas_status st = grow((void **)&p->se, &p->cap_se, p->n_se + 1, sizeof *p->se, err);
    if (!st)
        p->se[p->n_se++] = *se;
    return st;
}

mnas_status mnas_plan_reserve_weights(plan *p, size_t n, size_t *off, mnas_err *err)
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

void mnas_plan_free(plan *p)
{
    free(p->steps);
    free(p->tensors);
    free(p->se);
    free(p->weights);
    free(p->arena);
    free(p->band);
    memset(p, 0, sizeof *p);
}
