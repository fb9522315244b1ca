/* Recognise squeeze-and-excitation on the lowered steps:
 *   pooled = GAP(x); mid = act1(FC1(pooled)); gate = act2(FC2(mid)); y = x * gate
 * with act2 a (hard) sigmoid, and merge it into one STEP_SE whose gate
 * vector stays in the arena for callers to read after each run. */
#include <stdlib.h>
#include <string.h>

#include "lower_internal.h"

static int producer_step(const plan *p, int tensor, int kind)
{
    if (tensor < 0)
        return -1;
    const int si = p->tensors[tensor].producer;
    if (si < 0 || p->steps[si].kind != kind || p->steps[si].dead)
        return -1;
    return si;
}

/* Longest common prefix of the two weight names, cut back to a '.'
 * ("blocks.2.0.se.conv_reduce.weight" + "...conv_expand.weight" -> "blocks.2.0.se"). */
static void se_name(const char *a, const char *b, int index, char *out, size_t cap)
{
    size_t n = 0;
    while (a[n] && a[n] == b[n])
        n++;
    while (n > 0 && a[n - 1] != '.')
        n--;
    if (n > 1 && strncmp(a, "onnx::", 6) != 0 && n - 1 < cap) {
        memcpy(out, a, n - 1);
        out[n - 1] = '\0';
    } else {
        mnas_snprintf(out, cap, "se%d", index);
    }
}

static int is_gate(const mnas_act *a)
{
    return a->kind == ACT_SIGMOID || a->kind == ACT_HSIGMOID;
}

mnas_status plan_fuse_se(const graph *g, plan *p, mnas_err *err)
{
    (void)g;
    for (int si = 0; si < p->n_steps; si++) {
        plan_step *s = &p->steps[si];
        if (s->kind != STEP_SCALE_CH || s->dead)
            continue;
        const int gate = s->in2;
        const int f2 = producer_step(p, gate, STEP_PW);
        if (f2 < 0 || p->tensors[gate].consumers != 1 || !is_gate(&p->steps[f2].act) || p->steps[f2].pixels != 1)
            continue;
        const int f1 = producer_step(p, p->steps[f2].in, STEP_PW);
        if (f1 < 0 || p->tensors[p->steps[f2].in].consumers != 1 || p->steps[f1].pixels != 1)
            continue;
        const int gp = producer_step(p, p->steps[f1].in, STEP_GAP);
        if (gp < 0 || p->tensors[p->steps[f1].in].consumers != 1 || p->steps[gp].in != s->in)
            continue;
        const plan_step *fc1 = &p->steps[f1], *fc2 = &p->steps[f2];
        const plan_tensor *x = &p->tensors[s->in];
        if (fc1->ci != x->c || fc2->co != x->c || fc2->ci != fc1->co)
            continue;
        if (p->n_se >= p->cap_se) {
            const int nc = p->cap_se ? p->cap_se * 2 : 16;
            plan_se *q = realloc(p->se, (size_t)nc * sizeof *q);
            if (!q)
                return mnas_fail(err, MNAS_E_NOMEM, "%s", "out of memory recording SE blocks");
            p->se = q;
            p->cap_se = nc;
        }
        plan_se *blk = &p->se[p->n_se];
        se_name(fc1->wname, fc2->wname, p->n_se, blk->name, sizeof blk->name);
        blk->step = si;
        blk->gate = gate;
        blk->channels = x->c;
        blk->h = x->h;
        blk->w = x->w;

        s->kind = STEP_SE;
        s->se_index = p->n_se++;
        s->gate = gate;
        s->in2 = p->steps[gp].out;   /* pooled vector */
        s->scratch = fc1->out;       /* reduced vector */
        s->pixels = x->h * x->w;
        s->ci = x->c;
        s->co = fc1->co;
        s->w_off = fc1->w_off;
        s->b_off = fc1->b_off;
        s->w_ext = fc1->w_ext;
        s->act = fc1->act;
        s->w2_off = fc2->w_off;
        s->b2_off = fc2->b_off;
        s->w2_ext = fc2->w_ext;
        s->rows = fc1->rows;
        s->rows2 = fc2->rows;
        s->act2 = fc2->act;
        s->params = fc1->params + fc2->params;
        s->macs = fc1->macs + fc2->macs;
        mnas_copy_str(s->name, sizeof s->name, blk->name);
        p->tensors[gate].persistent = 1;
        p->steps[gp].dead = p->steps[f1].dead = p->steps[f2].dead = 1;
    }
    return MNAS_OK;
}
