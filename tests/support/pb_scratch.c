/* The scratch protobuf writer of pb_scratch.h: the wire format written by
 * hand, so tests can build exactly the bytes they mean, broken or not. */
#include <string.h>

#include "pb_scratch.h"

void tb_raw(tb *t, const void *p, size_t n)
{
    if (t->n + n <= sizeof t->b) {
        memcpy(t->b + t->n, p, n);
        t->n += n;
    }
}

void tb_varint(tb *t, uint64_t v)
{
    while (v >= 0x80) {
        uint8_t c = (uint8_t)(v | 0x80);
        tb_raw(t, &c, 1);
        v >>= 7;
    }
    uint8_t c = (uint8_t)v;
    tb_raw(t, &c, 1);
}

void tb_key(tb *t, unsigned f, int w) { tb_varint(t, (uint64_t)f << 3 | (unsigned)w); }

void tb_int(tb *t, unsigned f, int64_t v) { tb_key(t, f, 0); tb_varint(t, (uint64_t)v); }

void tb_bytes(tb *t, unsigned f, const void *p, size_t n)
{
    tb_key(t, f, 2);
    tb_varint(t, n);
    tb_raw(t, p, n);
}

void tb_str(tb *t, unsigned f, const char *s) { tb_bytes(t, f, s, strlen(s)); }

void tb_msg(tb *t, unsigned f, const tb *m) { tb_bytes(t, f, m->b, m->n); }

void tb_model(tb *out, const tb *graph_body)
{
    tb op = {{0}, 0};
    out->n = 0;
    tb_int(out, 1, 8);
    tb_str(&op, 1, "");
    tb_int(&op, 2, 13);
    tb_msg(out, 8, &op);
    tb_msg(out, 7, graph_body);
}
