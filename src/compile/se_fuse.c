/* Recognise squeeze-and-excitation on the lowered steps:
 *   pooled = GAP(x); mid = act1(FC1(pooled)); gate = act2(FC2(mid)); y = x * gate
 * with act2 a (hard) sigmoid, and merge the five steps into one STEP_SE whose gate
 * vector stays in the arena for callers to read after each run. On a 1x1
 * map (MnasNet's last blocks at 32x32, say) the scale is a plain
 * same-shape Mul, and an exporter may leave the pool out (the mean of one
 * pixel is the pixel): FC1 then reads x itself. */
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

/* A gate: each channel scaled by a value in [0, 1]. */
static int is_gate(const mnas_act *a)
{
    return a->kind == ACT_SIGMOID || a->kind == ACT_HSIGMOID ||
           (a->kind == ACT_CLIP && a->a == 0.0f && a->b == 1.0f);
}

/* The FC2 step whose gated output is operand `gate` of scale step s, or -1. */
static int expand_step(const plan *p, int gate)
{
    const int f2 = producer_step(p, gate, STEP_PW);
    if (f2 < 0 || p->tensors[gate].consumers != 1)
        return -1;
    const plan_fc *expand = &p->steps[f2].u.pw.fc;
    return is_gate(&expand->act) && expand->pixels == 1 ? f2 : -1;
}

mnas_status mnas_fuse_se(plan *p, mnas_err *err)
{
    for (int si = 0; si < p->n_steps; si++) {
        plan_step *s = &p->steps[si];
        if ((s->kind != STEP_SCALE_CH && s->kind != STEP_MUL) || s->dead)
            continue;
        int xin = s->in, gate = s->u.ew.in2;
        int f2 = expand_step(p, gate);
        if (f2 < 0 && s->kind == STEP_MUL) {
            /* a same-shape Mul on a 1x1 map: the gate may be either operand */
            xin = s->u.ew.in2;
            gate = s->in;
            f2 = expand_step(p, gate);
        }
        if (f2 < 0 || (s->kind == STEP_MUL && (p->tensors[xin].h != 1 || p->tensors[xin].w != 1)))
            continue;
        const plan_fc *expand = &p->steps[f2].u.pw.fc;
        const int f1 = producer_step(p, p->steps[f2].in, STEP_PW);
        if (f1 < 0 || p->tensors[p->steps[f2].in].consumers != 1 || p->steps[f1].u.pw.fc.pixels != 1)
            continue;
        const plan_fc *reduce = &p->steps[f1].u.pw.fc;
        const int gp = producer_step(p, p->steps[f1].in, STEP_GAP);
        const int no_pool = p->steps[f1].in == xin && p->tensors[xin].h == 1 && p->tensors[xin].w == 1;
        if (!no_pool && (gp < 0 || p->tensors[p->steps[f1].in].consumers != 1 || p->steps[gp].in != xin))
            continue;
        const plan_tensor *x = &p->tensors[xin];
        if (reduce->ci != x->c || expand->co != x->c || expand->ci != reduce->co)
            continue;
        int pooled = no_pool ? -1 : p->steps[gp].out;
        if (no_pool) {
            /* the step pools into a vector of its own */
            mnas_status st = mnas_plan_add_tensor(p, 1, 1, x->c, &pooled, err);
            if (st)
                return st;
            x = &p->tensors[xin];
            p->tensors[xin].consumers--;
        }
        plan_se blk = {.step = si, .gate = gate, .channels = x->c, .h = x->h, .w = x->w};
        se_name(p->steps[f1].wname, p->steps[f2].wname, p->n_se, blk.name, sizeof blk.name);
        mnas_status st = mnas_plan_add_se(p, &blk, err);
        if (st)
            return st;
        plan_step se;
        mnas_plan_step_init(&se, STEP_SE);
        se.in = xin;
        se.out = s->out;
        se.u.se = (plan_se_step){.reduce = *reduce, .expand = *expand, .pooled = pooled,
                                 .reduced = p->steps[f1].out, .gate = gate, .index = p->n_se - 1,
                                 .pixels = x->h * x->w, .c = x->c};
        se.params = p->steps[f1].params + p->steps[f2].params;
        se.macs = p->steps[f1].macs + p->steps[f2].macs;
        mnas_copy_str(se.name, sizeof se.name, blk.name);
        mnas_copy_str(se.wname, sizeof se.wname, s->wname);
        *s = se;
        p->tensors[gate].persistent = 1;
        p->steps[f1].dead = p->steps[f2].dead = 1;
        if (!no_pool)
            p->steps[gp].dead = 1;
    }
    return MNAS_OK;
}
