/* The public API's model object (mnas.h): creating, loading (bytes, an
 * owned buffer or a file) and freeing it, plus the build's identity. A
 * load reads the ONNX bytes into a graph, compiles it into a plan and
 * drops the graph; everything a run needs is allocated here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "compile/compile.h"
#include "onnx/read.h"

const char *mnas_version(void)
{
    return MNAS_VERSION;
}

const char *mnas_backend(void)
{
    return mnas_kernels_best()->name;
}

/* Rounds of kernels/warm.c: V8 in Node 20 queues for optimization every
 * kernel a run spends time in after 12 to 16 (its tiering budget is
 * counted in bytes of code executed; --trace-wasm-compilation-times shows
 * which); 32 also queue the smallest ones but cost twice the baseline time
 * and measured no faster first inference (tools/bench/README.md). */
#define MNAS_WARM_ROUNDS 20
/* The scalar build (engines without wasm SIMD) runs the reference kernels,
 * plain loops that execute several times the baseline code per call of the
 * SIMD ones: a quarter of the rounds costs it 4-8 ms in Node (32 rounds
 * took 35-55 ms). */
#if defined(MNAS_FORCE_SCALAR)
#define MNAS_WARM_ROUNDS_BUILD (MNAS_WARM_ROUNDS / 4)
#else
#define MNAS_WARM_ROUNDS_BUILD MNAS_WARM_ROUNDS
#endif

mnas_status mnas_warm_up(void)
{
    const mnas_kernels *k = mnas_kernels_best();
    float *buf = malloc(mnas_kernels_warm_floats(k) * sizeof *buf);
    if (!buf)
        return MNAS_E_NOMEM;
    mnas_kernels_warm(k, buf, MNAS_WARM_ROUNDS_BUILD);
    free(buf);
    return MNAS_OK;
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
    mnas_model_free_pool(m);
    mnas_plan_free(&m->p);
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

mnas_status mnas_model_fail(mnas_model *m, mnas_status st, const char *what)
{
    return mnas_fail(&m->err, st, "%s", what);
}

mnas_status mnas_model_ready(const mnas_model *m)
{
    if (!m)
        return MNAS_E_ARG;
    return m->loaded ? MNAS_OK : MNAS_E_STATE;
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
        return mnas_model_fail(m, MNAS_E_NOMEM, "out of memory for preprocessing buffers");
    return MNAS_OK;
}

/* store: onnx itself when the caller handed it over (weights may then be
 * packed in place inside it), else NULL. */
static mnas_status load(mnas_model *m, const void *onnx, size_t len, uint8_t *store, const mnas_options *opt)
{
    if (!onnx || len == 0)
        return mnas_model_fail(m, MNAS_E_ARG, "no model bytes given");
    if (len > MNAS_MAX_MODEL_BYTES)
        return mnas_fail(&m->err, MNAS_E_LIMIT, "model is %zu bytes; the limit is %zu", len,
                         (size_t)MNAS_MAX_MODEL_BYTES);
#ifdef MNAS_NO_REFERENCE_KERNELS
    if (opt && opt->reference_kernels)
        return mnas_model_fail(m, MNAS_E_ARG, "reference_kernels: this build has no reference kernels (wasm SIMD builds "
                                   "leave them out; the scalar build runs them)");
    const mnas_kernels *k = mnas_kernels_best();
#else
    const mnas_kernels *k = opt && opt->reference_kernels ? &mnas_kernels_ref : mnas_kernels_best();
#endif
    graph g;
    mnas_status st = mnas_onnx_read_view(onnx, len, &g, &m->err);
    if (st)
        return st;
    st = mnas_compile_plan(&g, k, store, len, opt && opt->layer_by_layer ? NULL : &mnas_plan_band_defaults, &m->p,
                           &m->err);
    if (!st)
        st = mnas_model_read_metadata(m, &g, opt);
    mnas_graph_free(&g);
    if (!st)
        st = plan_preprocess(m);
    if (!st)
        st = mnas_model_set_threads(m, opt ? opt->threads : 0);
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
        return mnas_model_fail(m, MNAS_E_ARG, "no model path given");
#ifdef __EMSCRIPTEN__
    /* the standalone module has no filesystem: keep stdio file calls out of it */
    (void)opt;
    return mnas_model_fail(m, MNAS_E_IO, "no filesystem in WebAssembly: read the file and pass its bytes to mnas_load");
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
                st = mnas_model_fail(m, MNAS_E_NOMEM, "out of memory reading the model file");
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

