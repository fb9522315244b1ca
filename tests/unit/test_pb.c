/* The protobuf wire-format reader (onnx/pb.h) on hand-made bytes: varint
 * edge cases, bad keys, lengths past the end, fixed-width reads, skipping
 * every wire type, the nesting limit and packed-field counts. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "onnx/pb.h"
#include "pb_scratch.h"

static check_state S;

static void test_pb(void)
{
    pb_cursor c;
    mnas_err e;
    uint64_t v;
    uint32_t f;
    int w;

    static const uint8_t trunc[] = {0x80, 0x80};
    mnas_pb_init(&c, trunc, sizeof trunc);
    CHECK(&S, pb_varint(&c, &v, &e) == MNAS_E_FORMAT && strstr(e.msg, "byte 0"), "truncated varint: %s", e.msg);

    static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    mnas_pb_init(&c, max, sizeof max);
    CHECK(&S, pb_varint(&c, &v, &e) == MNAS_OK && v == UINT64_MAX && c.pos == 10, "max varint");

    static const uint8_t ovf[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    mnas_pb_init(&c, ovf, sizeof ovf);
    CHECK(&S, pb_varint(&c, &v, &e) == MNAS_E_FORMAT, "overflowing varint");

    static const uint8_t longv[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    mnas_pb_init(&c, longv, sizeof longv);
    CHECK(&S, pb_varint(&c, &v, &e) == MNAS_E_FORMAT, "11-byte varint");

    static const uint8_t f0[] = {0x02, 0x00};
    mnas_pb_init(&c, f0, sizeof f0);
    CHECK(&S, pb_key(&c, &f, &w, &e) == MNAS_E_FORMAT, "field 0");
    static const uint8_t grp[] = {0x0b};
    mnas_pb_init(&c, grp, sizeof grp);
    CHECK(&S, pb_key(&c, &f, &w, &e) == MNAS_E_FORMAT && strstr(e.msg, "group"), "group: %s", e.msg);
    static const uint8_t w6[] = {0x0e};
    mnas_pb_init(&c, w6, sizeof w6);
    CHECK(&S, pb_key(&c, &f, &w, &e) == MNAS_E_FORMAT, "wire type 6");

    /* Length 2^40 must fail even where size_t is 32 bits. */
    static const uint8_t big[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00};
    const uint8_t *p;
    size_t n;
    mnas_pb_init(&c, big, sizeof big);
    CHECK(&S, pb_key(&c, &f, &w, &e) == MNAS_OK && f == 1 && w == PB_LEN, "len key");
    CHECK(&S, mnas_pb_bytes(&c, &p, &n, NULL, &e) == MNAS_E_FORMAT && strstr(e.msg, "exceeds"), "huge len: %s", e.msg);
    static const uint8_t over[] = {0x0a, 0x03, 0x61, 0x62};
    mnas_pb_init(&c, over, sizeof over);
    pb_key(&c, &f, &w, &e);
    CHECK(&S, mnas_pb_bytes(&c, &p, &n, NULL, &e) == MNAS_E_FORMAT, "len one past end");

    static const uint8_t fx[] = {0x01, 0x02, 0x03};
    mnas_pb_init(&c, fx, sizeof fx);
    uint32_t u32;
    CHECK(&S, mnas_pb_fixed32(&c, &u32, &e) == MNAS_E_FORMAT, "short fixed32");
    static const uint8_t fx8[] = {1, 2, 3, 4, 5, 6, 7, 8};
    mnas_pb_init(&c, fx8, sizeof fx8);
    CHECK(&S, mnas_pb_fixed64(&c, &v, &e) == MNAS_OK && v == 0x0807060504030201ull, "fixed64 LE");

    /* Skipping every wire type lands exactly on the next field. */
    tb t = {{0}, 0};
    tb_int(&t, 1, 300);
    tb_key(&t, 2, 1);
    tb_raw(&t, fx8, 8);
    tb_key(&t, 3, 5);
    tb_raw(&t, fx8, 4);
    tb_str(&t, 4, "skip me");
    tb_int(&t, 5, 7);
    mnas_pb_init(&c, t.b, t.n);
    int ok = 1;
    for (int k = 0; k < 4; k++)
        ok &= pb_key(&c, &f, &w, &e) == MNAS_OK && mnas_pb_skip(&c, w, f, &e) == MNAS_OK;
    ok &= pb_key(&c, &f, &w, &e) == MNAS_OK && f == 5 && pb_varint(&c, &v, &e) == MNAS_OK && v == 7 && !pb_more(&c);
    CHECK(&S, ok, "skip all wire types");

    /* Nesting deeper than MNAS_MAX_PB_DEPTH. */
    tb nest = {{0}, 0}, tmp;
    tb_int(&nest, 1, 1);
    for (int k = 0; k < MNAS_MAX_PB_DEPTH + 2; k++) {
        tmp = nest;
        nest.n = 0;
        tb_msg(&nest, 1, &tmp);
    }
    mnas_pb_init(&c, nest.b, nest.n);
    mnas_status st = MNAS_OK;
    int depth = 0;
    while (!st) {
        pb_cursor sub;
        if ((st = pb_key(&c, &f, &w, &e)) || w != PB_LEN)
            break;
        if ((st = mnas_pb_sub(&c, &sub, &e)))
            break;
        c = sub;
        depth++;
    }
    CHECK(&S, st == MNAS_E_LIMIT && depth == MNAS_MAX_PB_DEPTH, "depth limit: st=%d depth=%d", st, depth);

    static const uint8_t pk[] = {0x01, 0x96, 0x01, 0x80};
    pb_cursor pc;
    mnas_pb_init(&pc, pk, 3);
    CHECK(&S, mnas_pb_packed_varint_count(&pc, &n, &e) == MNAS_OK && n == 2, "packed count");
    mnas_pb_init(&pc, pk, 4);
    CHECK(&S, mnas_pb_packed_varint_count(&pc, &n, &e) == MNAS_E_FORMAT, "packed truncated");
    CHECK(&S, mnas_pb_packed_fixed_count(&pc, 4, &n, &e) == MNAS_OK && n == 1, "packed fixed");
    mnas_pb_init(&pc, pk, 3);
    CHECK(&S, mnas_pb_packed_fixed_count(&pc, 4, &n, &e) == MNAS_E_FORMAT, "packed fixed ragged");
}

int main(void)
{
    test_pb();
    return check_summary(&S, "test_pb");
}
