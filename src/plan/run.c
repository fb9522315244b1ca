#define _POSIX_C_SOURCE 199309L
/* Running a plan: one pass over the steps, each a kernel call on arena
 * offsets fixed at load, so a run allocates nothing and takes no
 * decisions beyond the step's kind. */
#include <math.h>
#include <time.h>

#include "plan/plan.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* A 1x1 / FC layer over packed weights, or over the model's rows (one pixel). */
static void run_fc(const plan *p, const plan_fc *fc, const float *in, const float *res, float *out)
{
    const float *w = fc->w_ext ? fc->w_ext : p->weights + fc->w_off;
    const float *b = p->weights + fc->b_off;
    if (fc->packed)
        p->k->pw_run(in, fc->pixels, fc->ci, w, b, fc->co, fc->act, res, out);
    else
        p->k->gemv_run(in, fc->ci, w, b, fc->co, fc->act, res, out);
}

/* The output's softmax: exp of the scores less their maximum, summed in
 * double. Once per run over a few classes, so plain scalar code (not a
 * kernel of every backend). */
static void softmax(const float *in, size_t n, float *out)
{
    float mx = in[0];
    for (size_t i = 1; i < n; i++)
        mx = in[i] > mx ? in[i] : mx;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        out[i] = expf(in[i] - mx);
        sum += out[i];
    }
    const float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < n; i++)
        out[i] *= inv;
}

static const float *optional(const plan *p, int tensor)
{
    return tensor >= 0 ? plan_data(p, tensor) : NULL;
}

static void run_step(const plan *p, const plan_step *s)
{
    const mnas_kernels *k = p->k;
    const float *in = plan_data(p, s->in);
    float *out = plan_data(p, s->out);
    const plan_tensor *ot = &p->tensors[s->out];
    const size_t n = (size_t)ot->h * ot->w * ot->c;
    switch (s->kind) {
    case STEP_CONV:
        k->conv_run(&s->u.conv.p, in, p->weights + s->u.conv.w_off, optional(p, s->u.conv.residual), out);
        break;
    case STEP_PW: run_fc(p, &s->u.pw.fc, in, optional(p, s->u.pw.residual), out); break;
    case STEP_DW: k->dw_run(&s->u.dw.p, in, p->weights + s->u.dw.w_off, out); break;
    case STEP_GAP: k->gap_run(in, s->u.pixels, ot->c, out); break;
    case STEP_SE: {
        const plan_se_step *se = &s->u.se;
        float *pooled = plan_data(p, se->pooled), *reduced = plan_data(p, se->reduced), *gate = plan_data(p, se->gate);
        k->gap_run(in, se->pixels, se->c, pooled);
        run_fc(p, &se->reduce, pooled, NULL, reduced);
        run_fc(p, &se->expand, reduced, NULL, gate);
        k->scale_ch_run(in, se->pixels, se->c, gate, out);
        break;
    }
    case STEP_ACT: k->act_run(in, n, s->u.ew.act, out); break;
    case STEP_ADD: k->add_run(in, plan_data(p, s->u.ew.in2), n, s->u.ew.act, out); break;
    case STEP_MUL: k->mul_run(in, plan_data(p, s->u.ew.in2), n, out); break;
    case STEP_SCALE_CH: k->scale_ch_run(in, ot->h * ot->w, ot->c, plan_data(p, s->u.ew.in2), out); break;
    case STEP_SOFTMAX: softmax(in, n, out); break;
    default: break;
    }
}

mnas_status mnas_plan_run(plan *p, int profile)
{
    for (int i = 0; i < p->n_steps; i++) {
        plan_step *s = &p->steps[i];
        if (!profile) {
            run_step(p, s);
            continue;
        }
        const double t0 = now_ms();
        run_step(p, s);
        s->time_ms = now_ms() - t0;
    }
    return MNAS_OK;
}
