/* What a loaded model tells its caller: its shape, classes and layers
 * before a run, and after one the logits, the top classes and the gate of
 * every SE block, all read from the plan's arena without copying. */
#include <math.h>
#include <string.h>

#include "api/model.h"

mnas_status mnas_input_shape(const mnas_model *m, int *height, int *width, int *channels)
{
    mnas_status st = mnas_model_ready(m);
    if (st)
        return st;
    if (height)
        *height = m->p.in_h;
    if (width)
        *width = m->p.in_w;
    if (channels)
        *channels = m->p.in_c;
    return MNAS_OK;
}

int mnas_num_classes(const mnas_model *m)
{
    return m && m->loaded ? m->p.classes : 0;
}

const char *mnas_label(const mnas_model *m, int index)
{
    if (!m || !m->loaded || index < 0 || index >= m->n_labels)
        return NULL;
    return m->labels[index];
}

mnas_status mnas_get_stats(const mnas_model *m, mnas_stats *out)
{
    mnas_status st = mnas_model_ready(m);
    if (st || !out)
        return st ? st : MNAS_E_ARG;
    memset(out, 0, sizeof *out);
    out->params = m->p.params;
    out->macs = m->p.macs;
    out->arena_bytes = (int64_t)(m->p.arena_floats * sizeof(float));
    out->weight_bytes = (int64_t)((m->p.n_weights + m->p.store_floats) * sizeof(float));
    out->layers = m->p.n_steps;
    out->se_blocks = m->p.n_se;
    memcpy(out->mean, m->prep.mean, sizeof out->mean);
    memcpy(out->std, m->prep.std, sizeof out->std);
    out->source_size = m->prep.source_size;
    out->output_is_probabilities = m->p.output_probabilities;
    out->input_channels_last = m->p.input_channels_last;
    return MNAS_OK;
}

static const char *step_kind_name(const plan_step *s)
{
    switch (s->kind) {
    case STEP_CONV: return "conv";
    case STEP_PW: return s->u.pw.fc.pixels == 1 ? "fc" : "conv1x1";
    case STEP_DW: return "dwconv";
    case STEP_GAP: return "gap";
    case STEP_SE: return "se";
    case STEP_ACT: return "act";
    case STEP_ADD: return "add";
    case STEP_MUL: return "mul";
    case STEP_SCALE_CH: return "scale";
    case STEP_SOFTMAX: return "softmax";
    }
    return "?";
}

static const char *step_category(const plan_step *s)
{
    switch (s->kind) {
    case STEP_CONV: return "stem/conv";
    case STEP_PW: return s->u.pw.fc.pixels == 1 ? "other" : "1x1";
    case STEP_DW: return "depthwise";
    case STEP_SE: return "se";
    default: return "other";
    }
}

mnas_status mnas_get_layer(const mnas_model *m, int index, mnas_layer *out)
{
    mnas_status st = mnas_model_ready(m);
    if (st)
        return st;
    if (!out || index < 0 || index >= m->p.n_steps)
        return MNAS_E_ARG;
    const plan_step *s = &m->p.steps[index];
    const plan_tensor *i = &m->p.tensors[s->in], *o = &m->p.tensors[s->out];
    *out = (mnas_layer){.name = s->name, .kind = step_kind_name(s), .category = step_category(s), .in_h = i->h,
                        .in_w = i->w, .in_c = i->c, .out_h = o->h, .out_w = o->w, .out_c = o->c, .params = s->params,
                        .macs = s->macs, .time_ms = s->time_ms, .fused_with = s->band.head};
    if (s->kind == STEP_CONV) {
        out->kh = s->u.conv.p.kh;
        out->stride = s->u.conv.p.stride_h;
    } else if (s->kind == STEP_DW) {
        out->kh = s->u.dw.p.k;
        out->stride = s->u.dw.p.stride;
    } else {
        out->kh = 1;
        out->stride = 1;
    }
    return MNAS_OK;
}

mnas_status mnas_set_profiling(mnas_model *m, int on)
{
    if (!m)
        return MNAS_E_ARG;
    m->profile = on != 0;
    return MNAS_OK;
}

const float *mnas_logits(const mnas_model *m, int *count)
{
    if (!m || !m->loaded || !m->has_run) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = m->p.classes;
    return plan_data(&m->p, m->p.output);
}

mnas_status mnas_topk(const mnas_model *m, int k, int *index, float *prob, int *written)
{
    if (!m || !index || k < 0)
        return MNAS_E_ARG;
    if (!m->loaded || !m->has_run)
        return MNAS_E_STATE;
    const int n = m->p.classes;
    const float *z = plan_data(&m->p, m->p.output);
    if (k > n)
        k = n;
    /* the softmax's max and sum: only for probabilities asked of logits */
    const int logits = prob && !m->p.output_probabilities;
    float mx = z[0];
    double sum = 0;
    for (int i = 1; logits && i < n; i++)
        if (z[i] > mx)
            mx = z[i];
    for (int i = 0; logits && i < n; i++)
        sum += exp((double)(z[i] - mx));
    /* selection by repeated scan: k is small (<= 5 typically) */
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int taken = 0;
            for (int q = 0; q < j && !taken; q++)
                taken = index[q] == i;
            if (!taken && (best < 0 || z[i] > z[best]))
                best = i;
        }
        index[j] = best;
        if (prob)
            prob[j] = logits ? (float)(exp((double)(z[best] - mx)) / sum) : z[best];
    }
    if (written)
        *written = k;
    return MNAS_OK;
}

const float *mnas_embedding(const mnas_model *m, int *len)
{
    const int t = m && m->loaded ? m->p.embedding : -1;
    if (len)
        *len = t >= 0 ? m->p.tensors[t].c : 0;
    return t >= 0 ? plan_data(&m->p, t) : NULL;
}

int mnas_se_count(const mnas_model *m)
{
    return m && m->loaded ? m->p.n_se : 0;
}

mnas_status mnas_get_se(const mnas_model *m, int index, mnas_se_block *out)
{
    mnas_status st = mnas_model_ready(m);
    if (st)
        return st;
    if (!out || index < 0 || index >= m->p.n_se)
        return MNAS_E_ARG;
    const plan_se *b = &m->p.se[index];
    out->name = b->name;
    out->channels = b->channels;
    out->height = b->h;
    out->width = b->w;
    out->values = plan_data(&m->p, b->gate);
    return MNAS_OK;
}
