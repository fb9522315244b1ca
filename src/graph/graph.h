/* The plain graph that ONNX import produces and lowering consumes.
 * It knows ONNX concepts (ops, attributes, initializers) but nothing about
 * kernels, plans or activation arenas. All strings and arrays are owned by
 * the graph. */
#ifndef MNAS_GRAPH_H
#define MNAS_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef enum {
    GRAPH_DT_UNDEFINED = 0,
    GRAPH_DT_FLOAT = 1,   /* ONNX TensorProto.FLOAT */
    GRAPH_DT_UINT8 = 2,
    GRAPH_DT_INT8 = 3,
    GRAPH_DT_INT32 = 6,
    GRAPH_DT_INT64 = 7,
    GRAPH_DT_FLOAT16 = 10,
    GRAPH_DT_DOUBLE = 11
} graph_dtype;

/* What DequantizeLinear makes of an integer initializer: element k of the
 * value is (q[k] - zero[ch]) * scale[ch] with ch = k / inner % channels
 * (channels 1: one scale for the tensor). The reader folds such nodes into
 * their output value at load (onnx/read_dequant.c), so weights stored as
 * int8 reach lowering as one more kind of float constant. */
typedef struct {
    int dtype;                /* of q: GRAPH_DT_INT8, GRAPH_DT_UINT8 or GRAPH_DT_INT32 */
    const uint8_t *raw;       /* q as little-endian bytes in the model buffer, or NULL: */
    const int64_t *i;         /* q decoded */
    const float *scale;       /* channels floats */
    const int32_t *zero;      /* channels zero points, or NULL for 0 */
    int channels, axis;
    size_t inner;             /* elements per step along the axis (per tensor: all of them) */
    int q, q_scale, q_zero;   /* value indices of x, x_scale, x_zero_point (-1: none), to write them back */
} graph_quant;

/* A value is anything a node input/output names: the graph input, an
 * initializer, a Constant's output or an intermediate tensor. */
typedef struct {
    char *name;
    int is_const;             /* initializer or Constant output: data below */
    int dtype;                /* original element type (graph_dtype) */
    int ndim;                 /* -1 when the shape is unknown */
    int64_t dims[MNAS_MAX_DIMS];
    /* For constants: float data (fp32, fp16 and double converted to fp32)
     * or integer data (int32/int64 widened to int64). count = product of dims. */
    float *f;
    int64_t *i;
    size_t count;
    /* mnas_onnx_read_view leaves large fp32/fp16 initializers undecoded:
     * f is NULL and raw points at their little-endian bytes inside the
     * model buffer (any alignment), valid while that buffer lives. Read
     * them with mnas_graph_value_floats. */
    const uint8_t *raw;
    /* A dequantized integer constant (f, i and raw NULL; dtype FLOAT):
     * mnas_graph_value_floats computes its values. */
    const graph_quant *quant;
} graph_value;

typedef enum {
    ATTR_UNDEFINED = 0, ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3,
    ATTR_TENSOR = 4, ATTR_FLOATS = 6, ATTR_INTS = 7
} graph_attr_type;

typedef struct {
    char *name;
    int type;                 /* graph_attr_type */
    float f;
    int64_t i;
    char *s;                  /* ATTR_STRING, NUL-terminated */
    float *floats;            /* ATTR_FLOATS */
    int64_t *ints;            /* ATTR_INTS */
    int n;                    /* element count of floats/ints */
    int tensor;               /* ATTR_TENSOR: index of a const value holding it */
} graph_attr;

typedef struct {
    char *name;               /* node name, or "" when the exporter left none */
    char *op;                 /* op_type */
    char *domain;             /* "" for the default ONNX domain */
    int n_in, n_out;
    int *in;                  /* value indices; -1 for an omitted optional input ("") */
    int *out;
    int n_attr;
    graph_attr *attr;
} graph_node;

typedef struct {
    char *key, *value;
} graph_prop;

typedef struct graph_chunk graph_chunk;

typedef struct {
    int64_t ir_version;
    int64_t opset;            /* default-domain opset; 0 when not declared */
    char *producer;
    int n_values, n_nodes, n_props;
    graph_value *values;
    graph_node *nodes;        /* in file order (not necessarily topological) */
    graph_prop *props;        /* metadata_props */
    int n_inputs, n_outputs;  /* graph inputs that are not initializers; outputs */
    int *inputs, *outputs;    /* value indices */
    /* Name lookup for mnas_graph_find_value, built by the reader: an
     * open-addressing table of value indices (-1 empty, capacity a power of
     * two). Only values[0 .. name_index_n) are in it, so code that appends
     * values later still finds them (by a linear scan of the rest). */
    int *name_index;
    int name_index_cap, name_index_n;
    /* Everything the arrays above point to (names, op types, node
     * inputs/outputs/attributes, attribute lists, decoded constant data,
     * metadata strings) comes from a bump allocator (mnas_graph_alloc); the arrays
     * themselves are malloc'ed. mnas_graph_free releases both. */
    graph_chunk *chunks;
} graph;

void mnas_graph_free(graph *g);

/* The graph's bump allocator: 16-byte aligned blocks that live until mnas_graph_free.
 * NULL when out of memory. mnas_graph_calloc zeroes; mnas_graph_strndup copies n
 * bytes and terminates them. */
void *mnas_graph_alloc(graph *g, size_t n);
void *mnas_graph_calloc(graph *g, size_t count, size_t size);
char *mnas_graph_strndup(graph *g, const char *s, size_t n);
void mnas_graph_bump_free(graph *g);

/* A float constant: decoded (f), left in the file (raw) or dequantized
 * from integers (quant). */
static inline int graph_value_is_float(const graph_value *v)
{
    return v->f != NULL || (v->raw != NULL && v->dtype != GRAPH_DT_INT8 && v->dtype != GRAPH_DT_UINT8) ||
           v->quant != NULL;
}
/* Elements [start, start + n) of a float constant as fp32. */
void mnas_graph_value_floats(const graph_value *v, size_t start, size_t n, float *dst);
/* Elements [start, start + n) of a dequantized constant (graph/quant.c). */
void mnas_graph_dequantize(const graph_quant *q, size_t start, size_t n, float *dst);
/* n little-endian IEEE halves (any alignment) to floats. */
void mnas_graph_halves_to_floats(const uint8_t *p, size_t n, float *out);

int mnas_graph_find_value(const graph *g, const char *name);
/* The same for n bytes that need not be NUL-terminated (names in the file). */
int mnas_graph_find_value_n(const graph *g, const char *p, size_t n);
/* Add values[idx] to the name index; the caller keeps it at most half full. */
void mnas_graph_index_insert(graph *g, int idx);
const graph_attr *mnas_graph_node_attr(const graph_node *n, const char *name);
const char *mnas_graph_prop_get(const graph *g, const char *key);

/* IEEE binary16 <-> binary32. half->float is exact (subnormals, inf, NaN);
 * float->half rounds to nearest even and overflows to inf. */
float mnas_graph_half_to_float(uint16_t h);
uint16_t mnas_graph_float_to_half(float f);

#endif
