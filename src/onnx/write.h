/* ONNX writer: serializes a graph (as mnas_onnx_read produces it) back to
 * ModelProto bytes, and a small builder that tests and fuzz seeds use to
 * make little models without Python.
 *
 * Everything graph.h holds round-trips through mnas_onnx_write_graph +
 * mnas_onnx_read: ops, names, domains, attributes, const data and dtypes,
 * declared shapes (as input/output/value_info), ir_version, opset, producer
 * and metadata_props. Not kept: fields graph.h does not hold (doc strings,
 * the graph name), value order, and the Constant nodes the reader turned
 * into values (they come back as initializers). DequantizeLinear nodes the
 * reader folded into values come back as DequantizeLinear nodes (first in
 * the node list). All output buffers are
 * malloc'ed; release them with free() (or mnas_buffer_free). */
#ifndef MNAS_ONNX_WRITE_H
#define MNAS_ONNX_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "base/status.h"

typedef struct {
    /* Store FLOAT initializers of >= 16 elements as FLOAT16 raw_data under
     * a new name, each followed by Cast(to=FLOAT) back to the original name.
     * The Cast nodes come first in the node list. */
    int fp16;
    /* metadata_props to add; a key the graph already has gets this value. */
    const graph_prop *props;
    int n_props;
    const char *producer;     /* NULL: keep g->producer */
    /* Store the weights of Conv (input W), Gemm and MatMul (input B) as
     * int8, symmetric per output channel (scale = max |w| / 127, zero point
     * 0), each followed by a DequantizeLinear back to the original name.
     * Needs opset 13 (per-axis DequantizeLinear). With fp16, the other
     * float initializers are stored as fp16. */
    int int8;
} onnx_write_opts;

/* opts may be NULL. On success *out (malloc'ed) holds *len bytes. */
mnas_status mnas_onnx_write_graph(const graph *g, const onnx_write_opts *opts, uint8_t **out, size_t *len,
                             mnas_err *err);

/* The IR version a model of this default-domain opset declares. */
int64_t mnas_onnx_ir_for_opset(int64_t opset);

#endif
