/* The ONNX reader's internals, shared by its files in src/onnx/ and by no
 * one else (the entry points are in onnx/read.h): the reader's state and
 * the helpers that more than one message's parser needs.
 *
 * How the reader works: ModelProto -> graph. Messages are walked with the
 * pb reader, usually twice: once to count repeated fields (so limits are
 * enforced and arrays sized before anything is allocated) and once to fill
 * them. Every array in the graph is calloc'ed and its count set before it
 * is filled, and what they point to comes from the graph's bump allocator
 * (mnas_graph_alloc), so mnas_graph_free can clean up a half-built graph on
 * any error path.
 *
 *   read_model.c   ModelProto, opsets, metadata; mnas_onnx_read(_view)
 *   read_graph.c   GraphProto parts, ValueInfoProto (types and shapes)
 *   read_node.c    NodeProto, Constant nodes
 *   read_attr.c    AttributeProto and its float/int lists
 *   read_tensor.c  TensorProto: dims, raw data, typed values
 *   read_dequant.c DequantizeLinear of initializers, folded into values
 *   reader.c       checked strings, the value table and its name index */
#ifndef MNAS_ONNX_READER_H
#define MNAS_ONNX_READER_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "onnx/pb.h"

typedef struct {
    graph *g;
    mnas_err *err;
    int cap_values;
    /* Who defines each value, to reject a second definition:
     * -1 nobody yet, -2 initializer/Constant, >= 0 node index. */
    int *producer;
    unsigned char *indexed;   /* 1 when the value is in g->name_index */
    int n_indexed;
    int view;                 /* mnas_onnx_read_view: keep large float data raw */
} reader;

/* ---- reader.c --------------------------------------------------------------
 * Names and strings are checked before they are looked up or copied: C
 * strings cannot hold NUL, and the cap (MNAS_MAX_NAME_BYTES unless a _max
 * variant says otherwise) keeps error messages and hashing cheap on hostile
 * input. */
mnas_status mnas_onnx_check_str(reader *r, const uint8_t *p, size_t n, size_t off, const char *what);
/* A length-delimited field read as a checked string copied into the graph. */
mnas_status mnas_onnx_read_str(reader *r, pb_cursor *c, const char *what, char **out);
mnas_status mnas_onnx_read_str_max(reader *r, pb_cursor *c, const char *what, char **out, size_t max);
/* "byte N: <msg> field F has wire type W" */
mnas_status mnas_onnx_wrong_wire(reader *r, size_t off, const char *msg, uint32_t field, int wire);
/* Moves c to just past the key of the next field `want`, skipping the
 * others: *found is 0 when the message ends first. */
mnas_status mnas_onnx_seek_field(reader *r, pb_cursor *c, uint32_t want, int *wire, int *found);

/* Forgets a value's fields; its name and data stay in the bump allocator
 * until mnas_graph_free. */
void mnas_onnx_value_clear(graph_value *v);
/* Appends a zeroed value that takes ownership of `name`; indexes it by name
 * when `named`, so anonymous attribute tensors do not shadow real values. */
mnas_status mnas_onnx_append_value(reader *r, char *name, int named, int *idx);
/* Value index for the name at p[0..n), creating an unknown-shape value the
 * first time a name is seen. The bytes must have passed mnas_onnx_check_str. */
mnas_status mnas_onnx_value_ref(reader *r, const uint8_t *p, size_t n, size_t off, int *idx);
/* A name field read as a value reference; an empty name gives -1 (an
 * omitted optional input or output). */
mnas_status mnas_onnx_read_value_ref(reader *r, pb_cursor *c, const char *what, int *idx);

/* ---- read_tensor.c --------------------------------------------------------- */
/* Reads one element of a typed repeated field (wire PB_FIXED32 into *d as a
 * float, PB_FIXED64 into *d as a double, else a varint into *iv); packed
 * payloads are handled by the caller looping over a sub-cursor. */
mnas_status mnas_onnx_typed_elem(reader *r, pb_cursor *c, int wire, double *d, int64_t *iv);
/* Parses a TensorProto into *v (which must be zeroed with ndim -1; on
 * failure the caller clears it). `ctx` names where the tensor sits when it
 * has no name of its own. */
mnas_status mnas_onnx_read_tensor(reader *r, pb_cursor m, graph_value *v, const char *ctx);

/* ---- read_attr.c ----------------------------------------------------------- */
/* Parses one attribute of `node` (a label for messages). A tensor value
 * (field t) is parsed into *tensor, which the caller owns and places;
 * a->tensor is left at -1. */
mnas_status mnas_onnx_read_attr(reader *r, pb_cursor m, graph_attr *a, const char *node, graph_value *tensor,
                                int *has_tensor);

/* ---- read_node.c ----------------------------------------------------------- */
/* Node number file_idx of the graph (counting Constants, which become
 * const values instead of nodes). */
mnas_status mnas_onnx_read_node(reader *r, pb_cursor m, int file_idx);

/* ---- read_graph.c ---------------------------------------------------------- */
mnas_status mnas_onnx_read_graph(reader *r, pb_cursor m);

/* ---- read_dequant.c -------------------------------------------------------- */
/* Once the graph is read: every DequantizeLinear of constants becomes its
 * output value (a quantized constant, graph_value.quant) and leaves the
 * node list. One on a tensor computed at run time stays a node. */
mnas_status mnas_onnx_fold_dequantize(reader *r);

#endif
