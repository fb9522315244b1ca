/* mnasnet-wasm: a small inference engine for MnasNet-family CNNs.
 *
 * Public C API. Every fallible function returns an mnas_status; on failure
 * mnas_error(model) names what is wrong (node, tensor or byte offset).
 * The model object owns all memory: results returned as pointers stay valid
 * until the next run on the same model or until mnas_free. */
#ifndef MNAS_H
#define MNAS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MNAS_VERSION_MAJOR 0
#define MNAS_VERSION_MINOR 1
#define MNAS_VERSION_PATCH 0
#define MNAS_VERSION "0.1.0"

/* In WebAssembly, src/wasm/exports.txt decides what is exported, so code
 * the SDK never calls (mnas_pack and the ONNX writer) stays out of the .wasm. */
#define MNAS_API __attribute__((visibility("default")))

/* Limits a hostile model, image or argument cannot exceed. Each is checked
 * before any allocation that depends on it and fails with MNAS_E_LIMIT
 * and a message naming the value. The SDK reads the same values from the
 * WebAssembly module, so they are written down here only. */
#define MNAS_MAX_MODEL_BYTES   ((size_t)512 << 20)
#define MNAS_MAX_NODES         4096
#define MNAS_MAX_VALUES        16384
#define MNAS_MAX_NODE_IO       64     /* inputs + outputs of one node */
#define MNAS_MAX_ATTRS         64     /* attributes of one node */
#define MNAS_MAX_ATTR_ELEMS    4096   /* elements of one attribute list */
#define MNAS_MAX_PROPS         256    /* metadata_props entries */
#define MNAS_MAX_DIMS          8      /* rank of one tensor */
#define MNAS_MAX_DIM           ((int64_t)1 << 24)
#define MNAS_MAX_TENSOR_ELEMS  ((int64_t)1 << 28)
#define MNAS_MAX_PB_DEPTH      16     /* protobuf nesting (ONNX needs 6; subgraphs are rejected) */
#define MNAS_MAX_NAME_BYTES    4096   /* names, op types, metadata keys */
#define MNAS_MAX_META_VALUE    ((size_t)1 << 20) /* one metadata value (1000 ImageNet labels are ~20 KB) */
#define MNAS_MAX_IMAGE_SIDE    16384  /* mnas_run_image's width and height */
#define MNAS_MAX_SOURCE_SIZE   4096   /* mnas.source_size / mnas_options.source_size */
#define MNAS_MAX_THREADS       64     /* mnas_options.threads / mnas_set_threads */
#define MNAS_AUTO_THREADS      8      /* threads = 0 natively: the processors online, at most this many */

typedef enum {
    MNAS_OK = 0,
    MNAS_E_ARG = 1,          /* bad argument: null pointer, bad size, bad index */
    MNAS_E_FORMAT = 2,       /* bytes are not a well-formed ONNX model */
    MNAS_E_UNSUPPORTED = 3,  /* a well-formed model uses an op or attribute we do not run */
    MNAS_E_MODEL = 4,        /* inconsistent graph: shapes, sizes, cycles, missing inputs */
    MNAS_E_NOMEM = 5,
    MNAS_E_INPUT = 6,        /* bad input tensor or image */
    MNAS_E_LIMIT = 7,        /* a documented size limit was exceeded */
    MNAS_E_IO = 8,           /* file could not be read or written */
    MNAS_E_STATE = 9         /* call not valid now (e.g. run before load) */
} mnas_status;

typedef enum { MNAS_RGBA = 0, MNAS_RGB = 1 } mnas_pixel_format;

typedef struct mnas_model mnas_model;

/* Preprocessing defaults used when the model's metadata_props do not carry
 * them (keys mnas.mean, mnas.std, mnas.source_size). Zeroed fields mean
 * "ImageNet mean/std, no pre-downscale". */
typedef struct {
    float mean[3];
    float std[3];
    int source_size;
    int reference_kernels;   /* 1: run the plain scalar reference kernels (for comparisons; not in
                              * the wasm SIMD builds, where loading with it fails with MNAS_E_ARG) */
    int threads;             /* threads a run uses, the calling one included: 0 = automatic
                              * (natively the processors online, at most MNAS_AUTO_THREADS; 1 in
                              * WebAssembly, where the host starts threads: mnas_thread_work);
                              * 1 = the calling thread only. A build without threads (the
                              * single-thread .wasm files) runs on one whatever is asked:
                              * mnas_threads says what a model got. */
    int layer_by_layer;      /* 1: run every layer whole, one after another. By default the layers of
                              * an inverted-residual block run together in bands of rows (the tensors
                              * between them never exist whole), and such a block's profile time is
                              * on its first layer (mnas_layer.fused_with). Same results either way,
                              * bit for bit; this is for per-layer profiles and comparisons. */
} mnas_options;

MNAS_API const char *mnas_version(void);
/* The compiled-in kernel backend: "avx512", "avx2-fma", "sse2", "neon",
 * "wasm-relaxed-simd", "wasm-simd128" or "scalar". */
MNAS_API const char *mnas_backend(void);
MNAS_API const char *mnas_status_name(mnas_status s);
/* Run every kernel of this build briefly on small tensors. Where a JIT
 * compiles the code (WebAssembly in V8: Node, Chromium), it optimizes a
 * kernel only after the kernel has run for a while, so calling this before
 * a model's first load lets the optimizing compiles happen while the model
 * loads instead of during the first inference. Harmless and quick (well
 * under a millisecond) natively. MNAS_E_NOMEM when its scratch buffer
 * (some 20 KB) cannot be allocated. */
MNAS_API mnas_status mnas_warm_up(void);

MNAS_API mnas_status mnas_create(mnas_model **out);
MNAS_API void mnas_free(mnas_model *m);
/* Message for the last failure on this model ("" when none). */
MNAS_API const char *mnas_error(const mnas_model *m);

/* Load an ONNX model. The bytes are not retained after the call. */
MNAS_API mnas_status mnas_load(mnas_model *m, const void *onnx, size_t len, const mnas_options *opt);
MNAS_API mnas_status mnas_load_file(mnas_model *m, const char *path, const mnas_options *opt);
/* mnas_load that takes over onnx, a buffer from malloc: it is freed by the
 * library (on failure at once, else by the next load or mnas_free). Where
 * the kernels allow, fp32 1x1 weights are packed in place inside it, so a
 * load writes no second copy of them. */
MNAS_API mnas_status mnas_load_owned(mnas_model *m, void *onnx, size_t len, const mnas_options *opt);

/* Model description. */
MNAS_API mnas_status mnas_input_shape(const mnas_model *m, int *height, int *width, int *channels);
MNAS_API int mnas_num_classes(const mnas_model *m);
MNAS_API const char *mnas_label(const mnas_model *m, int index); /* NULL when out of range */

typedef struct {
    int64_t params;          /* weights + biases after BN folding */
    int64_t macs;            /* multiply-adds of one inference */
    int64_t arena_bytes;     /* activation arena */
    int64_t weight_bytes;    /* packed weights */
    int layers;              /* plan steps */
    int se_blocks;
    float mean[3], std[3];   /* preprocessing in effect */
    int source_size;         /* 0: no pre-downscale */
    int output_is_probabilities; /* 1: the model ends in a Softmax, so mnas_logits gives probabilities
                                  * (mnas_topk reports them as they are); 0: logits */
    int input_channels_last; /* 1: the model declares its input (1, H, W, C) (a Transpose to NCHW
                              * follows it, folded away): mnas_run takes that layout as it is */
} mnas_stats;
MNAS_API mnas_status mnas_get_stats(const mnas_model *m, mnas_stats *out);

typedef struct {
    const char *name;        /* the weight initializer's name without its last '.' or '/' component
                              * ("blocks.2.0.conv_pw"); the ONNX node name (or output tensor name)
                              * for steps without weights or with generated ones ("onnx::Conv_5") */
    const char *kind;        /* "conv", "conv1x1", "dwconv", "se", "gap", "fc", "add", "act", ... */
    const char *category;    /* "stem/conv", "1x1", "depthwise", "se", "other" */
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int kh, stride;          /* kernel size and stride (1 for non-convolutions) */
    int64_t params, macs;
    double time_ms;          /* last run, when profiling is on; else 0 */
    int fused_with;          /* the first layer of the fused block this layer runs in (its own index
                              * for that first layer, whose time_ms is the whole block's; the others'
                              * is 0), or -1 when it runs on its own (mnas_options.layer_by_layer) */
} mnas_layer;
MNAS_API mnas_status mnas_get_layer(const mnas_model *m, int index, mnas_layer *out);
MNAS_API mnas_status mnas_set_profiling(mnas_model *m, int on);

/* Inference. The input tensor is NHWC float32, already normalized,
 * count = height * width * channels. */
MNAS_API float *mnas_input_buffer(mnas_model *m);
MNAS_API mnas_status mnas_run(mnas_model *m, const float *nhwc, size_t count);
/* Same, NCHW (as PyTorch holds tensors). */
MNAS_API mnas_status mnas_run_nchw(mnas_model *m, const float *nchw, size_t count);
/* Run on 8-bit RGBA or RGB pixels of any size: centre square crop,
 * optional area-downscale to source_size, bilinear resize to the input
 * size, mean/std normalization. stride is bytes per row (0: packed). */
MNAS_API mnas_status mnas_run_image(mnas_model *m, const uint8_t *pixels, int width, int height,
                                    int stride, mnas_pixel_format fmt);

/* Threads. A model's pool is created when it loads and reused by every
 * run; logits and SE gates are the same bit for bit whatever the thread
 * count. Runs on one model must not overlap (as for every call here). */
/* Threads the next run uses (1 without a model). */
MNAS_API int mnas_threads(const mnas_model *m);
/* Use `threads` threads from the next run on (0: automatic, as at load).
 * Fewer than the pool has leave the others asleep; more start a larger
 * pool natively, and in WebAssembly create the pool when the model has
 * none (MNAS_E_STATE when it has one: its host threads are fixed). */
MNAS_API mnas_status mnas_set_threads(mnas_model *m, int threads);
/* WebAssembly only, called by a host thread: be worker `worker` (1 ..
 * mnas_threads - 1) of the model's pool until the model is freed,
 * reloaded or given a new pool. The host must start every worker of a pool
 * it creates: freeing the model waits until each has come and gone. Native
 * builds start their own threads: MNAS_E_STATE. */
MNAS_API mnas_status mnas_thread_work(mnas_model *m, int worker);

/* Results of the last run: the model's output, logits (or probabilities
 * when the model ends in a Softmax: mnas_stats.output_is_probabilities). */
MNAS_API const float *mnas_logits(const mnas_model *m, int *count);
/* Top-k classes by probability, best first; k is clamped to the class
 * count. The probabilities are the softmax of the logits, or the model's
 * own output when it ends in a Softmax (never a softmax applied twice). */
MNAS_API mnas_status mnas_topk(const mnas_model *m, int k, int *index, float *prob, int *written);

/* The embedding of the last run: the feature vector the classifier (the
 * Gemm/MatMul computing the output, e.g. 1280 floats for MnasNet-A1) takes
 * as input. *len receives its length. The pointer is fixed while the model
 * stays loaded; the values are those of the last run. NULL with *len = 0
 * when nothing is loaded or the output is not computed by such a classifier. */
MNAS_API const float *mnas_embedding(const mnas_model *m, int *len);

/* Squeeze-and-excitation blocks, in network order. */
MNAS_API int mnas_se_count(const mnas_model *m);
typedef struct {
    const char *name;        /* e.g. "blocks.2.0.se" */
    int channels;
    int height, width;       /* feature map the gate scales */
    const float *values;     /* gate of the last run, `channels` floats */
} mnas_se_block;
MNAS_API mnas_status mnas_get_se(const mnas_model *m, int index, mnas_se_block *out);

/* Rewrite an ONNX model with mnas.* metadata and optionally fp16 weights
 * (Cast nodes restore fp32) or int8 weights (DequantizeLinear nodes
 * restore them). *out is allocated with malloc; free it with
 * mnas_buffer_free. Errors are written into err (may be NULL). */
typedef struct {
    const char *labels_json; /* JSON array of strings, or NULL */
    const float *mean;       /* 3 floats or NULL */
    const float *std;        /* 3 floats or NULL */
    int source_size;         /* 0: leave unset */
    int fp16;                /* float initializers (with int8: the others) as fp16 */
    int int8;                /* Conv, Gemm and MatMul weights as int8, symmetric per output channel
                              * (scale = max |w| / 127, zero point 0); needs opset >= 13 */
} mnas_pack_options;
MNAS_API mnas_status mnas_pack(const void *onnx, size_t len, const mnas_pack_options *opt,
                               uint8_t **out, size_t *out_len, char *err, size_t err_cap);
MNAS_API void mnas_buffer_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
