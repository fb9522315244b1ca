#define _POSIX_C_SOURCE 199309L
/* Running a plan: one pass over the steps, each a kernel call on arena
 * offsets fixed at load, so a run allocates nothing and takes no
 * decisions beyond the step's kind and, with threads, how to cut it.
 *
 * With threads, a heavy step becomes one parallel loop of the pool
 * (threads/pool.h): its output is cut into parts, each a kernel call on
 * that part only (kernels.h: a part's values are the whole call's, bit for
 * bit), so results never depend on the thread count or on which thread ran
 * which part. The cuts:
 *   stem and depthwise: output rows;
 *   1x1 / GEMM: output pixel rows, which keep each thread on the rows it
 *     produced in the step before (pool.c gives a thread the same share of
 *     every loop); column panels only where the output channels outnumber
 *     the pixels four to one (7x7 maps, FC layers), so that each thread
 *     reads its own share of the weights, which then dominate; a grid of
 *     both when one alone gives too few parts;
 *   classifier over the model's rows (gemv): output rows, four at a time;
 *   SE: the pooling by channels and the scaling by pixels, the two small
 *     FC layers between them on the calling thread;
 *   pooling by channels, elementwise steps by ranges of 64 floats;
 *   a fused block (plan_band): its depthwise output rows, one range per
 *     thread, each with its own scratch slot (so exactly `threads` tasks).
 * A step, or phase, too small to pay for waking the workers runs on the
 * calling thread. */
#include <math.h>
#include <time.h>

#include "plan/plan.h"
#include "threads/pool.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* A 1x1 / FC layer over packed weights, or over the model's rows (one pixel). */
static void run_fc(const plan *p, const plan_fc *fc, const float *in, const float *res, float *out)
{
    const float *w = plan_fc_weights(p, fc);
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
    if (s->band.steps) {
        mnas_plan_run_band_rows(p, s, p->band, 0, plan_band_dw(s)->u.dw.p.out_h);
        return;
    }
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

#if MNAS_THREADS

/* Parts per thread: more parts than threads let a thread that was held up
 * (another process on its core) leave its share to the others. */
#define PARTS_PER_THREAD 3
/* The least work worth a part of its own: waking the workers and waiting
 * for them costs a few microseconds. */
#define PART_MIN_MACS 65536
#define PART_MIN_FLOATS 16384
/* Elementwise cuts and channel cuts fall on whole vectors. */
#define FLOATS_ALIGN 64
#define CHANNELS_ALIGN 16

typedef enum { LOOP_ROWS_CONV, LOOP_ROWS_DW, LOOP_PW, LOOP_GEMV, LOOP_GAP, LOOP_SCALE, LOOP_EW, LOOP_BANDS } loop_kind;

/* One parallel loop: a step (or an SE phase) and how its output is cut. */
typedef struct {
    const plan *p;
    const plan_step *s;
    loop_kind kind;
    const plan_fc *fc;
    const float *in, *in2, *res;
    float *out;
    int total, align, parts;     /* a 1-D cut: units, their granule, parts */
    int row_parts, col_parts;    /* LOOP_PW: a grid */
    int pixels, c;               /* LOOP_GAP, LOOP_SCALE */
} loop;

/* Part i of parts over total units cut on multiples of align: [*a, *b). */
static void cut(int total, int align, int parts, int i, int *a, int *b)
{
    const long blocks = ((long)total + align - 1) / align;
    const long b0 = i * blocks / parts * align, b1 = (i + 1) * blocks / parts * align;
    *a = b0 < total ? (int)b0 : total;
    *b = b1 < total ? (int)b1 : total;
}

/* Parts for work of this size: up to PARTS_PER_THREAD per thread, none
 * smaller than the minimum, and no more than there are granules. */
static int parts_for(int64_t work, int64_t min_work, int threads, int granules)
{
    int64_t n = work / min_work;
    if (n > (int64_t)threads * PARTS_PER_THREAD)
        n = (int64_t)threads * PARTS_PER_THREAD;
    if (n > granules)
        n = granules;
    return n < 1 ? 1 : (int)n;
}

static void loop_task(void *ctx, int t)
{
    const loop *L = ctx;
    const plan *p = L->p;
    const mnas_kernels *k = p->k;
    int a, b;
    switch (L->kind) {
    case LOOP_ROWS_CONV:
        cut(L->total, 1, L->parts, t, &a, &b);
        k->conv_run_rows(&L->s->u.conv.p, L->in, p->weights + L->s->u.conv.w_off, L->res, L->out, a, b);
        break;
    case LOOP_ROWS_DW:
        cut(L->total, 1, L->parts, t, &a, &b);
        k->dw_run_rows(&L->s->u.dw.p, L->in, p->weights + L->s->u.dw.w_off, L->out, a, b);
        break;
    case LOOP_BANDS:
        cut(L->total, 1, L->parts, t, &a, &b);
        mnas_plan_run_band_rows(p, L->s, p->band + (size_t)t * p->band_floats, a, b);
        break;
    case LOOP_PW: {
        const plan_fc *fc = L->fc;
        int o0, o1;
        cut(fc->pixels, k->pw_rows_align, L->row_parts, t / L->col_parts, &a, &b);
        cut(fc->co, k->pw_cols_align, L->col_parts, t % L->col_parts, &o0, &o1);
        const float *w = plan_fc_weights(p, fc);
        k->pw_run_part(L->in, fc->pixels, fc->ci, w, p->weights + fc->b_off, fc->co, fc->act, L->res, L->out, a, b,
                       o0, o1);
        break;
    }
    case LOOP_GEMV: {
        const plan_fc *fc = L->fc;
        cut(fc->co, k->gemv_rows_align, L->parts, t, &a, &b);
        const float *w = plan_fc_weights(p, fc) + (size_t)a * (size_t)fc->ci;
        k->gemv_run(L->in, fc->ci, w, p->weights + fc->b_off + a, b - a, fc->act, L->res ? L->res + a : NULL,
                    L->out + a);
        break;
    }
    case LOOP_GAP:
        cut(L->c, CHANNELS_ALIGN, L->parts, t, &a, &b);
        k->gap_run_part(L->in, L->pixels, L->c, L->out, a, b);
        break;
    case LOOP_SCALE: {
        cut(L->pixels, 1, L->parts, t, &a, &b);
        const size_t off = (size_t)a * (size_t)L->c;
        k->scale_ch_run(L->in + off, b - a, L->c, L->in2, L->out + off);
        break;
    }
    case LOOP_EW: {
        cut(L->total, FLOATS_ALIGN, L->parts, t, &a, &b);
        const size_t n = (size_t)(b - a);
        switch (L->s->kind) {
        case STEP_ACT: k->act_run(L->in + a, n, L->s->u.ew.act, L->out + a); break;
        case STEP_ADD: k->add_run(L->in + a, L->in2 + a, n, L->s->u.ew.act, L->out + a); break;
        default: k->mul_run(L->in + a, L->in2 + a, n, L->out + a); break;
        }
        break;
    }
    }
}

static void run_loop(mnas_pool *pool, int threads, loop *L, int tasks)
{
    mnas_pool_run(pool, threads, loop_task, L, tasks);
}

/* A 1x1 / FC layer as one loop, or on this thread when it is small. */
static void fc_loop(const plan *p, mnas_pool *pool, int threads, const plan_step *s, const plan_fc *fc,
                    const float *in, const float *res, float *out)
{
    const mnas_kernels *k = p->k;
    const int64_t macs = (int64_t)fc->pixels * fc->ci * fc->co;
    loop L = {.p = p, .s = s, .fc = fc, .in = in, .res = res, .out = out};
    if (!fc->packed) {
        L.kind = LOOP_GEMV;
        L.parts = parts_for(macs, PART_MIN_MACS, threads, (fc->co + k->gemv_rows_align - 1) / k->gemv_rows_align);
        if (L.parts > 1) {
            run_loop(pool, threads, &L, L.parts);
            return;
        }
    } else {
        const int parts = parts_for(macs, PART_MIN_MACS, threads, 1 << 30);
        const int rows = (fc->pixels + k->pw_rows_align - 1) / k->pw_rows_align;
        const int cols = (fc->co + k->pw_cols_align - 1) / k->pw_cols_align;
        int rp, cp;
        if (4 * (int64_t)fc->pixels >= fc->co) {
            rp = parts < rows ? parts : rows;
            cp = parts / rp < cols ? parts / rp : cols;
        } else {
            cp = parts < cols ? parts : cols;
            rp = parts / cp < rows ? parts / cp : rows;
        }
        L.kind = LOOP_PW;
        L.row_parts = rp < 1 ? 1 : rp;
        L.col_parts = cp < 1 ? 1 : cp;
        if (L.row_parts * L.col_parts > 1) {
            run_loop(pool, threads, &L, L.row_parts * L.col_parts);
            return;
        }
    }
    run_fc(p, fc, in, res, out);
}

static void run_step_threads(const plan *p, const plan_step *s, mnas_pool *pool, int threads)
{
    const mnas_kernels *k = p->k;
    const plan_tensor *ot = &p->tensors[s->out];
    loop L = {.p = p, .s = s, .in = plan_data(p, s->in), .out = plan_data(p, s->out)};
    if (s->band.steps) {
        int64_t macs = 0;
        for (int i = 0; i < s->band.steps; i++)
            macs += s[i].macs;
        L.kind = LOOP_BANDS;
        L.total = plan_band_dw(s)->u.dw.p.out_h;
        L.parts = parts_for(macs, PART_MIN_MACS, threads, L.total);
        if (L.parts > threads)
            L.parts = threads;
        if (L.parts > 1)
            run_loop(pool, threads, &L, L.parts);
        else
            run_step(p, s);
        return;
    }
    switch (s->kind) {
    case STEP_CONV:
        L.kind = LOOP_ROWS_CONV;
        L.res = optional(p, s->u.conv.residual);
        L.total = s->u.conv.p.out_h;
        L.parts = parts_for(s->macs, PART_MIN_MACS, threads, L.total);
        break;
    case STEP_DW:
        L.kind = LOOP_ROWS_DW;
        L.total = s->u.dw.p.out_h;
        L.parts = parts_for(s->macs, PART_MIN_MACS, threads, L.total);
        break;
    case STEP_PW:
        fc_loop(p, pool, threads, s, &s->u.pw.fc, L.in, optional(p, s->u.pw.residual), L.out);
        return;
    case STEP_GAP:
        L.kind = LOOP_GAP;
        L.pixels = s->u.pixels;
        L.c = ot->c;
        L.parts = parts_for((int64_t)L.pixels * L.c, PART_MIN_FLOATS, threads, (L.c + CHANNELS_ALIGN - 1) / CHANNELS_ALIGN);
        break;
    case STEP_SE: {
        const plan_se_step *se = &s->u.se;
        float *pooled = plan_data(p, se->pooled), *reduced = plan_data(p, se->reduced), *gate = plan_data(p, se->gate);
        const int64_t floats = (int64_t)se->pixels * se->c;
        L.pixels = se->pixels;
        L.c = se->c;
        L.kind = LOOP_GAP;
        L.out = pooled;
        L.parts = parts_for(floats, PART_MIN_FLOATS, threads, (se->c + CHANNELS_ALIGN - 1) / CHANNELS_ALIGN);
        if (L.parts > 1)
            run_loop(pool, threads, &L, L.parts);
        else
            k->gap_run(L.in, se->pixels, se->c, pooled);
        run_fc(p, &se->reduce, pooled, NULL, reduced);
        run_fc(p, &se->expand, reduced, NULL, gate);
        L.kind = LOOP_SCALE;
        L.in2 = gate;
        L.out = plan_data(p, s->out);
        L.parts = parts_for(floats, PART_MIN_FLOATS, threads, se->pixels);
        if (L.parts > 1)
            run_loop(pool, threads, &L, L.parts);
        else
            k->scale_ch_run(L.in, se->pixels, se->c, gate, L.out);
        return;
    }
    case STEP_SCALE_CH:
        L.kind = LOOP_SCALE;
        L.in2 = plan_data(p, s->u.ew.in2);
        L.pixels = ot->h * ot->w;
        L.c = ot->c;
        L.parts = parts_for((int64_t)L.pixels * L.c, PART_MIN_FLOATS, threads, L.pixels);
        break;
    case STEP_ACT: case STEP_ADD: case STEP_MUL:
        L.kind = LOOP_EW;
        L.in2 = optional(p, s->u.ew.in2);
        L.total = ot->h * ot->w * ot->c;
        L.parts = parts_for(L.total, PART_MIN_FLOATS, threads, (L.total + FLOATS_ALIGN - 1) / FLOATS_ALIGN);
        break;
    default:
        L.parts = 1;
        break;
    }
    if (L.parts > 1)
        run_loop(pool, threads, &L, L.parts);
    else
        run_step(p, s);
}

#endif

mnas_status mnas_plan_run(plan *p, mnas_pool *pool, int threads, int profile)
{
#if MNAS_THREADS
    const int parallel = pool && threads > 1;
#else
    (void)pool;
    (void)threads;
    const int parallel = 0;
#endif
    for (int i = 0; i < p->n_steps; i++) {
        plan_step *s = &p->steps[i];
        const double t0 = profile ? now_ms() : 0;
#if MNAS_THREADS
        if (parallel)
            run_step_threads(p, s, pool, threads);
        else
#endif
            run_step(p, s);
        if (profile) {
            s->time_ms = now_ms() - t0;
            for (int j = 1; j < s->band.steps; j++)
                s[j].time_ms = 0;
        }
        if (s->band.steps)
            i += s->band.steps - 1;
    }
    (void)parallel;
    return MNAS_OK;
}
