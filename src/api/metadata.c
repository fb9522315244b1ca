/* What a model says about itself beyond its graph: class labels, input
 * mean/std and the pre-downscale size, from metadata_props (mnas.*), else
 * from the caller's options, else ImageNet's values and class numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "base/json.h"

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

/* Preprocessing parameters: metadata, else options, else ImageNet. */
mnas_status mnas_model_read_metadata(mnas_model *m, const graph *g, const mnas_options *opt)
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
        if (!(v = mnas_graph_prop_get(g, keys[k])))
            continue;
        if ((st = mnas_json_parse_float_array(v, strlen(v), f, 3, &n, keys[k], &m->err)))
            return st;
        if (n != 3)
            return mnas_fail(&m->err, MNAS_E_MODEL, "metadata '%s' has %d values; expected 3", keys[k], n);
        for (int c = 0; c < 3; c++) {
            if (!isfinite(f[c]) || (k == 1 && f[c] <= 0.0f))
                return mnas_fail(&m->err, MNAS_E_MODEL, "metadata '%s' value %d is not usable", keys[k], c);
            (k ? m->prep.std : m->prep.mean)[c] = f[c];
        }
    }
    if ((v = mnas_graph_prop_get(g, "mnas.source_size"))) {
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
    if ((v = mnas_graph_prop_get(g, "mnas.labels"))) {
        if ((st = mnas_json_parse_string_array(v, strlen(v), m->p.classes + 1, "metadata 'mnas.labels'", &m->labels,
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
        return mnas_model_fail(m, MNAS_E_NOMEM, "out of memory for labels");
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

