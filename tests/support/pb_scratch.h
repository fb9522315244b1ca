/* A scratch protobuf writer for tests: hand-made messages, often broken on
 * purpose, to feed the pb reader and the ONNX reader field by field (the
 * builder in onnx_builder.h only writes well-formed models). Writes past
 * the buffer are dropped. */
#ifndef MNAS_TEST_PB_SCRATCH_H
#define MNAS_TEST_PB_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t b[8192];
    size_t n;
} tb;

void tb_raw(tb *t, const void *p, size_t n);
void tb_varint(tb *t, uint64_t v);
/* A field key: field number f, wire type w. */
void tb_key(tb *t, unsigned f, int w);
/* Field f as a varint. */
void tb_int(tb *t, unsigned f, int64_t v);
/* Field f as length-delimited bytes, a string or an embedded message. */
void tb_bytes(tb *t, unsigned f, const void *p, size_t n);
void tb_str(tb *t, unsigned f, const char *s);
void tb_msg(tb *t, unsigned f, const tb *m);
/* out = a ModelProto (IR version 8, default-domain opset 13) around one
 * graph body. */
void tb_model(tb *out, const tb *graph_body);

#endif
