/* The sample model of the ONNX I/O tests: small, but it exercises every
 * attribute type, fp16 and int64 initializers, all Constant forms, an
 * omitted optional input and output, a custom domain and metadata. Shared
 * by the round-trip test (which checks what the reader makes of it) and
 * the mnas_pack test. */
#ifndef MNAS_TEST_SAMPLE_MODEL_H
#define MNAS_TEST_SAMPLE_MODEL_H

#include "onnx_builder.h"

/* A builder holding the sample model (opset 17), ready for ob_finish; NULL
 * when it could not be started. The caller frees it with ob_free. */
onnx_builder *sample_model_builder(void);

#endif
