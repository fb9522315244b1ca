/* A small ONNX model builder for tests and fuzz seeds: little models made
 * in C, without Python, serialized by the engine's own writer
 * (onnx/write.c). Test-only: it is not part of libmnas. */
#ifndef MNAS_TEST_ONNX_BUILDER_H
#define MNAS_TEST_ONNX_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "onnx/write.h"

/* ---- builder --------------------------------------------------------------
 * Errors are sticky: after the first failure every call returns the same
 * status without doing anything, so a test can make a dozen calls and check
 * only ob_finish. ob_error() says what went wrong. Names are copied.
 * dims arrays are int64; a dim of -1 is written as an unknown (symbolic)
 * dimension. Values are created by name on first mention. */
typedef struct onnx_builder onnx_builder;

/* ir_version is chosen to match the opset. */
mnas_status ob_new(int64_t opset, onnx_builder **out);
void ob_free(onnx_builder *b);
const char *ob_error(const onnx_builder *b);
/* The graph built so far (for comparing against what the reader returns). */
const graph *ob_graph(const onnx_builder *b);

/* Graph input/output of element type FLOAT. dims NULL (or ndim < 0): shape unknown. */
mnas_status ob_input(onnx_builder *b, const char *name, const int64_t *dims, int ndim);
mnas_status ob_output(onnx_builder *b, const char *name, const int64_t *dims, int ndim);
/* Initializers; count = product(dims) (1 for ndim 0). as_fp16 stores the
 * tensor as FLOAT16 (the graph keeps the values rounded to half). */
mnas_status ob_init_f32(onnx_builder *b, const char *name, const int64_t *dims, int ndim,
                        const float *data, int as_fp16);
mnas_status ob_init_i64(onnx_builder *b, const char *name, const int64_t *dims, int ndim,
                        const int64_t *data);
/* An integer initializer of another element type (GRAPH_DT_INT8, _UINT8,
 * _INT32): data holds its values, which must fit that type. */
mnas_status ob_init_int(onnx_builder *b, const char *name, const int64_t *dims, int ndim, int dtype,
                        const int64_t *data);
mnas_status ob_prop(onnx_builder *b, const char *key, const char *value);

/* Adds a node; *node (may be NULL) receives its handle for ob_attr_*.
 * An input or output name that is NULL or "" is an omitted optional one. */
mnas_status ob_node(onnx_builder *b, const char *op, const char *name, const char *const *ins,
                    int n_in, const char *const *outs, int n_out, int *node);
mnas_status ob_node_domain(onnx_builder *b, int node, const char *domain);

mnas_status ob_attr_int(onnx_builder *b, int node, const char *name, int64_t v);
mnas_status ob_attr_ints(onnx_builder *b, int node, const char *name, const int64_t *v, int n);
mnas_status ob_attr_float(onnx_builder *b, int node, const char *name, float v);
mnas_status ob_attr_floats(onnx_builder *b, int node, const char *name, const float *v, int n);
mnas_status ob_attr_string(onnx_builder *b, int node, const char *name, const char *v);
/* Tensor-valued attribute (e.g. Constant's `value`). */
mnas_status ob_attr_tensor_f32(onnx_builder *b, int node, const char *name, const int64_t *dims,
                               int ndim, const float *data);
mnas_status ob_attr_tensor_i64(onnx_builder *b, int node, const char *name, const int64_t *dims,
                               int ndim, const int64_t *data);

/* Serializes the model; *bytes is malloc'ed. The builder stays usable. */
mnas_status ob_finish(onnx_builder *b, uint8_t **bytes, size_t *len);

#endif
