#define _POSIX_C_SOURCE 199309L
/* Executing a plan: one pass over the steps, kernels only, no allocation. */
#include <time.h>

#include "plan.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* A 1x1 / FC step over packed weights, or over plain rows (one pixel). */
static void pointwise(const mnas_kernels *k, int rows, const float *in, int pixels, int ci, const float *w,
                      const float *b, int co, mnas_act act, const float *res, float *out)
{
    if (rows)
        k->fc_rows_run(in, ci, w, b, co, act, res, out);
    else
        k->pw_run(in, pixels, ci, w, b, co, act, res, out);
}

static void run_step(const plan *p, const plan_step *s)
{
    const mnas_kernels *k = p->k;
    const float *in = plan_data(p, s->in);
    float *out = plan_data(p, s->out);
    const float *res = s->residual >= 0 ? plan_data(p, s->residual) : NULL;
    const float *w = s->w_ext ? s->w_ext : p->weights + s->w_off;
    const float *b = p->weights + s->b_off;
    const plan_tensor *ot = &p->tensors[s->out];
    const size_t n = (size_t)ot->h * ot->w * ot->c;
    switch (s->kind) {
    case STEP_CONV: k->conv_run(&s->conv, in, w, res, out); break;
    case STEP_PW: pointwise(k, s->rows, in, s->pixels, s->ci, w, b, s->co, s->act, res, out); break;
    case STEP_DW: k->dw_run(&s->dw, in, w, out); break;
    case STEP_GAP: k->gap_run(in, s->pixels, s->ci, out); break;
    case STEP_SE: {
        float *pooled = plan_data(p, s->in2), *mid = plan_data(p, s->scratch), *gate = plan_data(p, s->gate);
        k->gap_run(in, s->pixels, s->ci, pooled);
        const float *w2 = s->w2_ext ? s->w2_ext : p->weights + s->w2_off;
        pointwise(k, s->rows, pooled, 1, s->ci, w, b, s->co, s->act, NULL, mid);
        pointwise(k, s->rows2, mid, 1, s->co, w2, p->weights + s->b2_off, s->ci, s->act2, NULL, gate);
        k->scale_ch_run(in, s->pixels, s->ci, gate, out);
        break;
    }
    case STEP_ACT: k->act_run(in, n, s->act, out); break;
    case STEP_ADD: k->add_run(in, plan_data(p, s->in2), n, s->act, out); break;
    case STEP_MUL: k->mul_run(in, plan_data(p, s->in2), n, out); break;
    case STEP_SCALE_CH: k->scale_ch_run(in, ot->h * ot->w, ot->c, plan_data(p, s->in2), out); break;
    default: break;
    }
}

mnas_status plan_run(plan *p, int profile)
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
