/* ONNX ModelProto bytes -> graph: the importer's entry points. */
#ifndef MNAS_ONNX_READ_H
#define MNAS_ONNX_READ_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"

/* Parse ONNX ModelProto bytes. On failure returns a status and writes a
 * message naming the byte offset / node / tensor at fault into err. */
mnas_status mnas_onnx_read(const uint8_t *buf, size_t len, graph *g, mnas_err *err);
/* The same, but float and 8-bit integer initializers of at least
 * ONNX_VIEW_MIN_ELEMS stored as raw bytes are not decoded (see
 * graph_value.raw): loading
 * then converts each weight once, straight into its packed place, instead
 * of first into a temporary fp32 copy of the whole model. */
#define ONNX_VIEW_MIN_ELEMS 4096
mnas_status mnas_onnx_read_view(const uint8_t *buf, size_t len, graph *g, mnas_err *err);
#endif
