/* The public API (mnas.h): the model object, loading, running, results. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "json.h"
#include "plan.h"
#include "preprocess.h"

struct mnas_model {
    mnas_err err;
    int loaded;
    int profile;
    int has_run;
    plan p;
    uint8_t *store;   /* the model buffer some packed weights live in (mnas_load_owned) */
    char **labels;
    int n_labels;
    int labels_block; /* labels: one block (pointers, then strings), not one allocation each */
    prep_ctx prep;
};

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

const char *mnas_version(void)
{
    return MNAS_VERSION;
}

const char *mnas_backend(void)
{
    return mnas_kernels_best()->name;
}

const char *mnas_status_name(mnas_status s)
{
    switch (s) {
    case MNAS_OK: return "ok";
    case MNAS_E_ARG: return "bad argument";
    case MNAS_E_FORMAT: return "malformed model";
    case MNAS_E_UNSUPPORTED: return "unsupported model";
    case MNAS_E_MODEL: return "invalid model";
    case MNAS_E_NOMEM: return "out of memory";
    case MNAS_E_INPUT: return "bad input";
    case MNAS_E_LIMIT: return "limit exceeded";
    case MNAS_E_IO: return "i/o error";
    case MNAS_E_STATE: return "invalid state";
    }
    return "unknown status";
}

mnas_status mnas_create(mnas_model **out)
{
    if (!out)
        return MNAS_E_ARG;
    *out = calloc(1, sizeof **out);
    return *out ? MNAS_OK : MNAS_E_NOMEM;
}

static void unload(mnas_model *m)
{
    plan_free(&m->p);
    free(m->store);
    m->store = NULL;
    for (int i = 0; i < m->n_labels && !m->labels_block; i++)
        free(m->labels[i]);
    free(m->labels);
    m->labels_block = 0;
    free(m->prep.source);
    free(m->prep.x0);
    free(m->prep.xf);
    m->labels = NULL;
    m->n_labels = 0;
    memset(&m->prep, 0, sizeof m->prep);
    m->loaded = m->has_run = 0;
}

void mnas_free(mnas_model *m)
{
    if (!m)
        return;
    unload(m);
    free(m);
}

const char *mnas_error(const mnas_model *m)
{
    return m ? m->err.msg : "no model";
}

static mnas_status fail(mnas_model *m, mnas_status st, const char *what)
{
    return mnas_fail(&m->err, st, "%s", what);
}

/* Preprocessing parameters: metadata, else options, else ImageNet. */
static mnas_status read_metadata(mnas_model *m, const graph *g, const mnas_options *opt)
{
    const int have_opt_norm = opt && opt->std[0] != 0.0f && opt->std[1] != 0.0f && opt->std[2] != 0.0f;
    for (int c = 0; c < 3; c++) {
        m->prep.mean[c] = have_opt_norm ? opt->mean[c] : imagenet_mean[c];
        m->prep.std[c] = have_opt_norm ? opt->std[c] : imagenet_std[c];
    }
    m->prep.source_size = opt ? opt->source_size : 0;
    mnas_status st;
    const char *v;
    float f[3];
    int n = 0;
    static const char *const keys[2] = {"mnas.mean", "mnas.std"};
    for (int k = 0; k < 2; k++) {
        if (!(v = graph_prop_get(g, keys[k])))
            continue;
        if ((st = json_parse_float_array(v, strlen(v), f, 3, &n, keys[k], &m->err)))
            return st;
        if (n != 3)
            return mnas_fail(&m->err, MNAS_E_MODEL, "metadata '%s' has %d values; expected 3", keys[k], n);
        for (int c = 0; c < 3; c++) {
            if (!isfinite(f[c]) || (k == 1 && f[c] <= 0.0f))
                return mnas_fail(&m->err, MNAS_E_MODEL, "metadata '%s' value %d is not usable", keys[k], c);
            (k ? m->prep.std : m->prep.mean)[c] = f[c];
        }
    }
    if ((v = graph_prop_get(g, "mnas.source_size"))) {
        char *end = NULL;
        const long s = strtol(v, &end, 10);
        if (!end || *end || s < 1)
            return mnas_fail(&m->err, MNAS_E_MODEL, "metadata 'mnas.source_size' = '%.32s'; expected 1..%d", v,
                             MNAS_MAX_SOURCE_SIZE);
        if (s > MNAS_MAX_SOURCE_SIZE)
            return mnas_fail(&m->err, MNAS_E_LIMIT, "metadata 'mnas.source_size' = %ld; the limit is %d", s,
                             MNAS_MAX_SOURCE_SIZE);
        m->prep.source_size = (int)s;
    }
    if (m->prep.source_size < 0)
        return mnas_fail(&m->err, MNAS_E_ARG, "source_size %d is negative", m->prep.source_size);
    if (m->prep.source_size > MNAS_MAX_SOURCE_SIZE)
        return mnas_fail(&m->err, MNAS_E_LIMIT, "source_size %d; the limit is %d", m->prep.source_size,
                         MNAS_MAX_SOURCE_SIZE);
    if ((v = graph_prop_get(g, "mnas.labels"))) {
        if ((st = json_parse_string_array(v, strlen(v), m->p.classes + 1, "metadata 'mnas.labels'", &m->labels,
                                          &m->n_labels, &m->err)))
            return st;
        if (m->n_labels != m->p.classes)
            return mnas_fail(&m->err, MNAS_E_MODEL, "metadata 'mnas.labels' has %d labels but the model has %d classes",
                             m->n_labels, m->p.classes);
        return MNAS_OK;
    }
    /* No labels in the metadata: the class numbers, in one block rather
     * than an allocation per class (an ImageNet head has 1000). */
    enum { DIGITS = 12 }; /* classes < 2^24: 8 digits and the NUL */
    const size_t classes = (size_t)m->p.classes;
    char **label = malloc(classes * (sizeof(char *) + DIGITS));
    if (!label)
        return fail(m, MNAS_E_NOMEM, "out of memory for labels");
    char *text = (char *)(label + classes);
    for (size_t i = 0; i < classes; i++) {
        size_t at = 0;
        mnas_append_int(text, DIGITS, &at, (long long)i);
        label[i] = text;
        text += at + 1;
    }
    m->labels = label;
    m->labels_block = 1;
    m->n_labels = m->p.classes;
    return MNAS_OK;
}

static mnas_status plan_preprocess(mnas_model *m)
{
    prep_ctx *c = &m->prep;
    c->out_h = m->p.in_h;
    c->out_w = m->p.in_w;
    c->x0 = malloc((size_t)c->out_w * sizeof(int));
    c->xf = malloc((size_t)c->out_w * sizeof(float));
    if (c->source_size > 0)
        c->source = malloc((size_t)c->source_size * c->source_size * 3 * sizeof(float));
    if (!c->x0 || !c->xf || (c->source_size > 0 && !c->source))
        return fail(m, MNAS_E_NOMEM, "out of memory for preprocessing buffers");
    return MNAS_OK;
}

/* store: onnx itself when the caller handed it over (weights may then be
 * packed in place inside it), else NULL. */
static mnas_status load(mnas_model *m, const void *onnx, size_t len, uint8_t *store, const mnas_options *opt)
{
    if (!onnx || len == 0)
        return fail(m, MNAS_E_ARG, "no model bytes given");
    if (len > MNAS_MAX_MODEL_BYTES)
        return mnas_fail(&m->err, MNAS_E_LIMIT, "model is %zu bytes; the limit is %zu", len,
                         (size_t)MNAS_MAX_MODEL_BYTES);
#ifdef MNAS_NO_REFERENCE_KERNELS
    if (opt && opt->reference_kernels)
        return fail(m, MNAS_E_ARG, "reference_kernels: this build has no reference kernels (wasm SIMD builds "
                                   "leave them out; the scalar build runs them)");
    const mnas_kernels *k = mnas_kernels_best();
#else
    const mnas_kernels *k = opt && opt->reference_kernels ? &mnas_kernels_ref : mnas_kernels_best();
#endif
    graph g;
    mnas_status st = graph_from_onnx_view(onnx, len, &g, &m->err);
    if (st)
        return st;
    st = plan_build(&g, k, store, len, &m->p, &m->err);
    if (!st)
        st = read_metadata(m, &g, opt);
    graph_free(&g);
    if (!st)
        st = plan_preprocess(m);
    if (st) {
        unload(m);
        return st;
    }
    m->loaded = 1;
    return MNAS_OK;
}

mnas_status mnas_load(mnas_model *m, const void *onnx, size_t len, const mnas_options *opt)
{
    if (!m)
        return MNAS_E_ARG;
    m->err.msg[0] = '\0';
    unload(m);
    return load(m, onnx, len, NULL, opt);
}

mnas_status mnas_load_owned(mnas_model *m, void *onnx, size_t len, const mnas_options *opt)
{
    if (!m) {
        free(onnx);
        return MNAS_E_ARG;
    }
    m->err.msg[0] = '\0';
    unload(m);
    const mnas_status st = load(m, onnx, len, onnx, opt);
    if (!st && m->p.store_used)
        m->store = onnx;
    else
        free(onnx);
    return st;
}

mnas_status mnas_load_file(mnas_model *m, const char *path, const mnas_options *opt)
{
    if (!m)
        return MNAS_E_ARG;
    if (!path)
        return fail(m, MNAS_E_ARG, "no model path given");
#ifdef __EMSCRIPTEN__
    /* the standalone module has no filesystem: keep stdio file calls out of it */
    (void)opt;
    return fail(m, MNAS_E_IO, "no filesystem in WebAssembly: read the file and pass its bytes to mnas_load");
#else
    FILE *f = fopen(path, "rb");
    if (!f)
        return mnas_fail(&m->err, MNAS_E_IO, "cannot open '%s'", path);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    mnas_status st = MNAS_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= MNAS_MAX_MODEL_BYTES) {
                st = mnas_fail(&m->err, MNAS_E_LIMIT, "'%s' is larger than the %zu-byte model limit", path,
                               (size_t)MNAS_MAX_MODEL_BYTES);
                break;
            }
            cap = cap ? cap * 2 : ((size_t)1 << 20);
            uint8_t *q = realloc(buf, cap);
            if (!q) {
                st = fail(m, MNAS_E_NOMEM, "out of memory reading the model file");
                break;
            }
            buf = q;
        }
        const size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = mnas_fail(&m->err, MNAS_E_IO, "error reading '%s'", path);
            break;
        }
    }
    fclose(f);
    if (st) {
        free(buf);
        return st;
    }
    return mnas_load_owned(m, buf, len, opt);
#endif
}

static mnas_status need_model(const mnas_model *m)
{
    if (!m)
        return MNAS_E_ARG;
    return m->loaded ? MNAS_OK : MNAS_E_STATE;
}

mnas_status mnas_input_shape(const mnas_model *m, int *height, int *width, int *channels)
{
    mnas_status st = need_model(m);
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
    mnas_status st = need_model(m);
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
    return MNAS_OK;
}

static const char *step_kind_name(const plan_step *s)
{
    switch (s->kind) {
    case STEP_CONV: return "conv";
    case STEP_PW: return s->pixels == 1 ? "fc" : "conv1x1";
    case STEP_DW: return "dwconv";
    case STEP_GAP: return "gap";
    case STEP_SE: return "se";
    case STEP_ACT: return "act";
    case STEP_ADD: return "add";
    case STEP_MUL: return "mul";
    case STEP_SCALE_CH: return "scale";
    }
    return "?";
}

static const char *step_category(const plan_step *s)
{
    switch (s->kind) {
    case STEP_CONV: return "stem/conv";
    case STEP_PW: return s->pixels == 1 ? "other" : "1x1";
    case STEP_DW: return "depthwise";
    case STEP_SE: return "se";
    default: return "other";
    }
}

mnas_status mnas_get_layer(const mnas_model *m, int index, mnas_layer *out)
{
    mnas_status st = need_model(m);
    if (st)
        return st;
    if (!out || index < 0 || index >= m->p.n_steps)
        return MNAS_E_ARG;
    const plan_step *s = &m->p.steps[index];
    const plan_tensor *i = &m->p.tensors[s->in], *o = &m->p.tensors[s->out];
    out->name = s->name;
    out->kind = step_kind_name(s);
    out->category = step_category(s);
    out->in_h = i->h;
    out->in_w = i->w;
    out->in_c = i->c;
    out->out_h = o->h;
    out->out_w = o->w;
    out->out_c = o->c;
    out->params = s->params;
    out->macs = s->macs;
    out->time_ms = s->time_ms;
    if (s->kind == STEP_CONV) {
        out->kh = s->conv.kh;
        out->stride = s->conv.stride_h;
    } else if (s->kind == STEP_DW) {
        out->kh = s->dw.k;
        out->stride = s->dw.stride;
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

float *mnas_input_buffer(mnas_model *m)
{
    return m && m->loaded ? plan_data(&m->p, m->p.input) : NULL;
}

static mnas_status run_loaded(mnas_model *m)
{
    mnas_status st = plan_run(&m->p, m->profile);
    if (!st)
        m->has_run = 1;
    return st;
}

static mnas_status check_tensor(mnas_model *m, const float *data, size_t count)
{
    mnas_status st = need_model(m);
    if (st)
        return st == MNAS_E_STATE ? fail(m, st, "no model loaded") : st;
    const size_t want = (size_t)m->p.in_h * m->p.in_w * m->p.in_c;
    if (!data)
        return fail(m, MNAS_E_INPUT, "no input tensor given");
    if (count != want)
        return mnas_fail(&m->err, MNAS_E_INPUT, "input has %zu floats; the model takes %d x %d x %d = %zu", count,
                         m->p.in_c, m->p.in_h, m->p.in_w, want);
    return MNAS_OK;
}

mnas_status mnas_run(mnas_model *m, const float *nhwc, size_t count)
{
    mnas_status st = check_tensor(m, nhwc, count);
    if (st)
        return st;
    float *in = plan_data(&m->p, m->p.input);
    if (nhwc != in)
        memmove(in, nhwc, count * sizeof(float));
    return run_loaded(m);
}

mnas_status mnas_run_nchw(mnas_model *m, const float *nchw, size_t count)
{
    mnas_status st = check_tensor(m, nchw, count);
    if (st)
        return st;
    float *in = plan_data(&m->p, m->p.input);
    if (nchw == in)
        return fail(m, MNAS_E_INPUT, "an NCHW tensor cannot be transposed in the input buffer itself");
    m->p.k->nchw_to_nhwc(nchw, (size_t)m->p.in_h * m->p.in_w, m->p.in_c, in);
    return run_loaded(m);
}

mnas_status mnas_run_image(mnas_model *m, const uint8_t *pixels, int width, int height, int stride,
                           mnas_pixel_format fmt)
{
    mnas_status st = need_model(m);
    if (st)
        return st == MNAS_E_STATE ? fail(m, st, "no model loaded") : st;
    if (fmt != MNAS_RGBA && fmt != MNAS_RGB)
        return mnas_fail(&m->err, MNAS_E_ARG, "pixel format %d; expected RGBA (0) or RGB (1)", (int)fmt);
    const int bpp = fmt == MNAS_RGBA ? 4 : 3;
    if (!pixels)
        return fail(m, MNAS_E_INPUT, "no pixels given");
    if (width < 1 || height < 1)
        return mnas_fail(&m->err, MNAS_E_INPUT, "image is %dx%d; each side must be 1..%d", width, height,
                         MNAS_MAX_IMAGE_SIDE);
    if (width > MNAS_MAX_IMAGE_SIDE || height > MNAS_MAX_IMAGE_SIDE)
        return mnas_fail(&m->err, MNAS_E_LIMIT, "image is %dx%d; the limit is %d pixels a side", width, height,
                         MNAS_MAX_IMAGE_SIDE);
    if (stride == 0)
        stride = width * bpp;
    if (stride < width * bpp)
        return mnas_fail(&m->err, MNAS_E_INPUT, "row stride %d is smaller than %d pixels x %d bytes", stride, width,
                         bpp);
    if (m->p.in_c != 3)
        return mnas_fail(&m->err, MNAS_E_STATE, "the model takes %d channels; images give 3", m->p.in_c);
    preprocess_image(&m->prep, pixels, width, height, stride, bpp, plan_data(&m->p, m->p.input));
    return run_loaded(m);
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
    float mx = z[0];
    for (int i = 1; i < n; i++)
        if (z[i] > mx)
            mx = z[i];
    double sum = 0;
    for (int i = 0; i < n; i++)
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
            prob[j] = (float)(exp((double)(z[best] - mx)) / sum);
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
    mnas_status st = need_model(m);
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
