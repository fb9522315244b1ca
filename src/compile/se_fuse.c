/* Recognise squeeze-and-excitation on the lowered steps:
 *   pooled = GAP(x); mid = act1(FC1(pooled)); gate = act2(FC2(mid)); y = x * gate
 * with act2 a (hard) sigmoid, and merge the five steps into one STEP_SE whose gate
 * vector stays in the arena for callers to read after each run. */
#include <string.h>

#include "compile/lowering.h"

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

mnas_status mnas_fuse_se(plan *p, mnas_err *err)
{
    for (int si = 0; si < p->n_steps; si++) {
        plan_step *s = &p->steps[si];
        if (s->kind != STEP_SCALE_CH || s->dead)
            continue;
        const int gate = s->u.ew.in2;
        const int f2 = producer_step(p, gate, STEP_PW);
        if (f2 < 0 || p->tensors[gate].consumers != 1)
            continue;
        const plan_fc *expand = &p->steps[f2].u.pw.fc;
        if (!is_gate(&expand->act) || expand->pixels != 1)
            continue;
        const int f1 = producer_step(p, p->steps[f2].in, STEP_PW);
        if (f1 < 0 || p->tensors[p->steps[f2].in].consumers != 1 || p->steps[f1].u.pw.fc.pixels != 1)
            continue;
        const plan_fc *reduce = &p->steps[f1].u.pw.fc;
        const int gp = producer_step(p, p->steps[f1].in, STEP_GAP);
        if (gp < 0 || p->tensors[p->steps[f1].in].consumers != 1 || p->steps[gp].in != s->in)
            continue;
        const plan_tensor *x = &p->tensors[s->in];
        if (reduce->ci != x->c || expand->co != x->c || expand->ci != reduce->co)
            continue;
        plan_se blk = {.step = si, .gate = gate, .channels = x->c, .h = x->h, .w = x->w};
        se_name(p->steps[f1].wname, p->steps[f2].wname, p->n_se, blk.name, sizeof blk.name);
        mnas_status st = mnas_plan_add_se(p, &blk, err);
        if (st)
            return st;
        plan_step se;
        mnas_plan_step_init(&se, STEP_SE);
        se.in = s->in;
        se.out = s->out;
        se.u.se = (plan_se_step){.reduce = *reduce, .expand = *expand, .pooled = p->steps[gp].out,
                                 .reduced = p->steps[f1].out, .gate = gate, .index = p->n_se - 1,
                                 .pixels = x->h * x->w, .c = x->c};
        se.params = p->steps[f1].params + p->steps[f2].params;
        se.macs = p->steps[f1].macs + p->steps[f2].macs;
        mnas_copy_str(se.name, sizeof se.name, blk.name);
        mnas_copy_str(se.wname, sizeof se.wname, s->wname);
        *s = se;
        p->tensors[gate].persistent = 1;
        p->steps[gp].dead = p->steps[f1].dead = p->steps[f2].dead = 1;
    }
    return MNAS_OK;
}
