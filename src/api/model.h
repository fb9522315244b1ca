/* The model object shared by the API's files: what one loaded model owns
 * (its plan, labels, preprocessing buffers and the last error). Internal
 * to api/. */
#ifndef MNAS_MODEL_H
#define MNAS_MODEL_H

#include "api/preprocess.h"
#include "base/status.h"
#include "graph/graph.h"
#include "plan/plan.h"

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
    mnas_pool *pool;  /* NULL: runs on the calling thread */
    int threads;      /* threads a run uses, <= the pool's size */
};

/* Record a fixed message as the model's error. */
mnas_status mnas_model_fail(mnas_model *m, mnas_status st, const char *what);
/* MNAS_E_ARG without a model, MNAS_E_STATE before a successful load. */
mnas_status mnas_model_ready(const mnas_model *m);
/* Labels, mean/std and source size: the model's metadata, else opt, else
 * ImageNet's and the class indices. */
mnas_status mnas_model_read_metadata(mnas_model *m, const graph *g, const mnas_options *opt);
/* The pool for `threads` (0: automatic) on a loaded model (api/threads.c). */
mnas_status mnas_model_set_threads(mnas_model *m, int threads);
void mnas_model_free_pool(mnas_model *m);

#endif
