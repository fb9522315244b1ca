/* Loading what a test built: the model an onnx_builder holds, serialized
 * and loaded into a new mnas_model, each failure recorded as a CHECK that
 * names the test. Shared by every test that builds its own models. */
#ifndef MNAS_TEST_BUILT_MODEL_H
#define MNAS_TEST_BUILT_MODEL_H

#include "check.h"
#include "mnas.h"
#include "onnx_builder.h"

/* The loaded model (free it with mnas_free), or NULL after a failed CHECK. */
mnas_model *check_load_built(check_state *st, onnx_builder *b, const char *what);

/* 1 when the reference data (models/refs/manifest.json) is there; else
 * records a SKIP naming dir and returns 0. */
int check_have_refs(check_state *st, const char *dir);

#endif
