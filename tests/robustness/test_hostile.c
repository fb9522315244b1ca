/* Hostile models made from the default model and by hand: every one must
 * end in a clean error with a message, or load and run; never crash. The
 * sanitizer build runs this too (ASan + UBSan + LeakSanitizer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mnas.h"
#include "onnx_builder.h"

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Load (and when that works, run once): 1 loaded, 0 clean error, -1 bad. */
static int try_model(check_state *st, const uint8_t *bytes, size_t len, const char *what, mnas_status *status,
                     char *msg, size_t cap)
{
    mnas_model *m = NULL;
    mnas_create(&m);
    const mnas_status s = mnas_load(m, bytes, len, NULL);
    int rc = 0;
    if (status)
        *status = s;
    if (msg)
        snprintf(msg, cap, "%s", mnas_error(m));
    if (s == MNAS_OK) {
        int h, w, c;
        mnas_input_shape(m, &h, &w, &c);
        float *x = mnas_input_buffer(m);
        for (size_t i = 0; i < (size_t)h * w * c; i++)
            x[i] = (float)(i % 13) * 0.1f - 0.6f;
        const mnas_status r = mnas_run(m, x, (size_t)h * w * c);
        CHECK(st, r == MNAS_OK, "%s: loaded but run failed: %s", what, mnas_error(m));
        rc = 1;
    } else {
        CHECK(st, strlen(mnas_error(m)) > 0, "%s: status %d without a message", what, (int)s);
    }
    mnas_free(m);
    return rc;
}

/* mnas_load_owned: the buffer is the caller's no more, whatever happens
 * (LeakSanitizer checks that), and a model packed in place computes what
 * the same model loaded from const bytes does, bit for bit. */
static void owned_loads(check_state *st, const uint8_t *bytes, size_t len, const char *what)
{
    uint8_t *b = malloc(len);
    memcpy(b, bytes, len);
    CHECK(st, mnas_load_owned(NULL, b, len, NULL) == MNAS_E_ARG, "%s: owned load without a model", what);

    mnas_model *a = NULL, *o = NULL;
    mnas_create(&a);
    mnas_create(&o);
    b = malloc(len / 2);
    memcpy(b, bytes, len / 2);
    CHECK(st, mnas_load_owned(o, b, len / 2, NULL) != MNAS_OK && mnas_error(o)[0], "%s: truncated owned load", what);

    b = malloc(len);
    memcpy(b, bytes, len);
    const mnas_status sa = mnas_load(a, bytes, len, NULL), so = mnas_load_owned(o, b, len, NULL);
    CHECK(st, sa == MNAS_OK && so == MNAS_OK, "%s: load %s / owned load %s", what, mnas_error(a), mnas_error(o));
    if (sa == MNAS_OK && so == MNAS_OK) {
        int h = 0, w = 0, c = 0;
        mnas_input_shape(a, &h, &w, &c);
        const size_t n = (size_t)h * w * c;
        float *x = malloc(n * sizeof *x);
        uint32_t seed = 7;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1664525u + 1013904223u;
            x[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
        }
        int na = 0, no = 0;
        CHECK(st, mnas_run(a, x, n) == MNAS_OK && mnas_run(o, x, n) == MNAS_OK, "%s: run", what);
        const float *la = mnas_logits(a, &na), *lo = mnas_logits(o, &no);
        CHECK(st, la && lo && na == no && na > 0 && memcmp(la, lo, (size_t)na * sizeof *la) == 0,
              "%s: owned load computes other logits", what);
        /* a second load into the same model frees the first buffer */
        b = malloc(len);
        memcpy(b, bytes, len);
        CHECK(st, mnas_load_owned(o, b, len, NULL) == MNAS_OK, "%s: reload %s", what, mnas_error(o));
        free(x);
    }
    printf("%-28s -> owned loads ok\n", what);
    mnas_free(a);
    mnas_free(o);
}

/* ---- a minimal protobuf emitter for models the writer refuses to make -- */

typedef struct {
    uint8_t b[4096];
    size_t n;
} pbuf;

static void put_varint(pbuf *p, uint64_t v)
{
    do {
        p->b[p->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void put_field_varint(pbuf *p, int field, uint64_t v)
{
    put_varint(p, (uint64_t)field << 3);
    put_varint(p, v);
}

static void put_field_bytes(pbuf *p, int field, const void *data, size_t len)
{
    put_varint(p, (uint64_t)field << 3 | 2);
    put_varint(p, len);
    memcpy(p->b + p->n, data, len);
    p->n += len;
}

static void put_field_msg(pbuf *p, int field, const pbuf *m)
{
    put_field_bytes(p, field, m->b, m->n);
}

static void put_str(pbuf *p, int field, const char *s)
{
    put_field_bytes(p, field, s, strlen(s));
}

/* ValueInfo for a float tensor with the given dims. */
static void value_info(pbuf *out, int field, const char *name, const int64_t *dims, int nd)
{
    pbuf shape = {.n = 0}, tt = {.n = 0}, type = {.n = 0}, vi = {.n = 0};
    for (int i = 0; i < nd; i++) {
        pbuf dim = {.n = 0};
        put_field_varint(&dim, 1, (uint64_t)dims[i]);
        put_field_msg(&shape, 1, &dim);
    }
    put_field_varint(&tt, 1, 1);
    put_field_msg(&tt, 2, &shape);
    put_field_msg(&type, 1, &tt);
    put_str(&vi, 1, name);
    put_field_msg(&vi, 2, &type);
    put_field_msg(out, field, &vi);
}

static void node(pbuf *g, const char *op, const char *name, const char *in0, const char *in1, const char *out)
{
    pbuf n = {.n = 0};
    put_str(&n, 1, in0);
    if (in1)
        put_str(&n, 1, in1);
    put_str(&n, 2, out);
    put_str(&n, 3, name);
    put_str(&n, 4, op);
    put_field_msg(g, 1, &n);
}

/* An initializer whose dims and raw byte count can disagree. */
static void initializer(pbuf *g, const char *name, const int64_t *dims, int nd, size_t raw_bytes)
{
    pbuf t = {.n = 0};
    for (int i = 0; i < nd; i++)
        put_field_varint(&t, 1, (uint64_t)dims[i]);
    put_field_varint(&t, 2, 1);
    put_str(&t, 8, name);
    static const uint8_t zeros[512];
    put_field_bytes(&t, 9, zeros, raw_bytes);
    put_field_msg(g, 5, &t);
}

static size_t model(pbuf *out, const pbuf *g)
{
    pbuf opset = {.n = 0};
    put_field_varint(&opset, 2, 17);
    out->n = 0;
    put_field_varint(out, 1, 8);
    put_field_msg(out, 8, &opset);
    put_field_msg(out, 7, g);
    return out->n;
}

static void expect_error(check_state *st, const pbuf *g, mnas_status want, const char *needle, const char *what)
{
    pbuf m;
    model(&m, g);
    mnas_status s;
    char msg[600];
    try_model(st, m.b, m.n, what, &s, msg, sizeof msg);
    CHECK(st, s == want, "%s: status %d (%s), expected %d", what, (int)s, msg, (int)want);
    CHECK(st, strstr(msg, needle) != NULL, "%s: message '%s' does not name '%s'", what, msg, needle);
    printf("%-28s -> %s\n", what, msg);
}

static void handmade(check_state *st)
{
    const int64_t xd[4] = {1, 3, 8, 8};
    {
        pbuf g = {.n = 0};
        const int64_t wd[4] = {4, 3, 3, 3};
        node(&g, "Conv", "conv0", "x", "W", "y");
        initializer(&g, "W", wd, 4, 100); /* 4*3*3*3 floats need 432 bytes */
        value_info(&g, 11, "x", xd, 4);
        value_info(&g, 12, "y", NULL, 0);
        expect_error(st, &g, MNAS_E_MODEL, "'W'", "initializer of the wrong size");
    }
    {
        pbuf g = {.n = 0};
        const int64_t wd[2] = {2147483647, 2147483647};
        node(&g, "MatMul", "mm", "x", "W", "y");
        initializer(&g, "W", wd, 2, 16);
        value_info(&g, 11, "x", xd, 4);
        value_info(&g, 12, "y", NULL, 0);
        pbuf m;
        model(&m, &g);
        mnas_status s;
        char msg[600];
        try_model(st, m.b, m.n, "initializer dims near 2^31", &s, msg, sizeof msg);
        CHECK(st, s == MNAS_E_LIMIT || s == MNAS_E_MODEL, "dims near 2^31: status %d (%s)", (int)s, msg);
        printf("%-28s -> %s\n", "initializer dims near 2^31", msg);
    }
    {
        pbuf g = {.n = 0};
        const int64_t big[4] = {1, 3, 2147483647, 2147483647};
        node(&g, "Relu", "r", "x", NULL, "y");
        value_info(&g, 11, "x", big, 4);
        value_info(&g, 12, "y", NULL, 0);
        expect_error(st, &g, MNAS_E_LIMIT, "dim 2147483647", "input dims near 2^31");
    }
    {
        pbuf g = {.n = 0};
        node(&g, "Relu", "first", "x", NULL, "a");
        node(&g, "Add", "loop_a", "a", "c", "b");
        node(&g, "Relu", "loop_b", "b", NULL, "c");
        value_info(&g, 11, "x", xd, 4);
        value_info(&g, 12, "c", NULL, 0);
        expect_error(st, &g, MNAS_E_MODEL, "cycle", "cyclic graph");
    }
    {
        pbuf g = {.n = 0};
        node(&g, "Softmax", "probabilities", "x", NULL, "y");
        value_info(&g, 11, "x", xd, 4);
        value_info(&g, 12, "y", NULL, 0);
        expect_error(st, &g, MNAS_E_UNSUPPORTED, "'probabilities' (Softmax)", "unsupported op");
    }
    {
        pbuf g = {.n = 0};
        node(&g, "Relu", "r", "x", NULL, "y");
        node(&g, "Relu", "r2", "nowhere", NULL, "z");
        value_info(&g, 11, "x", xd, 4);
        value_info(&g, 12, "y", NULL, 0);
        expect_error(st, &g, MNAS_E_MODEL, "'nowhere'", "input nobody produces");
    }
}

int main(void)
{
    check_state st = {0, 0, 0};
    const char *level = getenv("MNAS_TEST_LEVEL");
    const int reduced = level && strcmp(level, "reduced") == 0;
    handmade(&st);

    const char *src = getenv("MNAS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/models/mnasnet_a1_cifar10.onnx", src && *src ? src : ".");
    size_t len = 0;
    uint8_t *orig = read_all(path, &len);
    CHECK(&st, orig != NULL, "cannot read the default model %s", path);
    if (!orig)
        return check_summary(&st, "test_hostile");
    uint8_t *buf = malloc(len);

    /* truncated at 64 evenly spaced lengths: all must fail cleanly */
    int loaded = 0;
    for (int i = 0; i < 64; i++) {
        const size_t cut = len * (size_t)i / 64;
        char what[64];
        snprintf(what, sizeof what, "truncated at %zu", cut);
        loaded += try_model(&st, orig, cut, what, NULL, NULL, 0);
    }
    CHECK(&st, loaded == 0, "%d truncated models loaded", loaded);

    /* seeded random byte flips: load and run, or a clean error */
    const int flips = reduced ? 100 : 1000;
    uint32_t seed = 12345;
    int ok = 0, errors = 0;
    for (int i = 0; i < flips; i++) {
        memcpy(buf, orig, len);
        seed = seed * 1664525u + 1013904223u;
        const size_t at = (size_t)(((uint64_t)seed << 16 | (seed >> 16)) % len);
        seed = seed * 1664525u + 1013904223u;
        buf[at] ^= (uint8_t)(1u << (seed >> 29));
        char what[64];
        snprintf(what, sizeof what, "byte flip at %zu", at);
        if (try_model(&st, buf, len, what, NULL, NULL, 0))
            ok++;
        else
            errors++;
    }
    printf("byte flips: %d loaded and ran, %d clean errors\n", ok, errors);
    CHECK(&st, ok + errors == flips, "flip count");

    /* unsupported op inside the real model: rename the first Relu */
    memcpy(buf, orig, len);
    int renamed = 0;
    for (size_t i = 0; i + 4 <= len && !renamed; i++)
        if (memcmp(buf + i, "Relu", 4) == 0 && buf[i - 1] == 4) {
            buf[i + 3] = 'q';
            renamed = 1;
        }
    CHECK(&st, renamed, "no Relu op_type found to rename");
    mnas_status s;
    char msg[600];
    try_model(&st, buf, len, "renamed op", &s, msg, sizeof msg);
    CHECK(&st, s == MNAS_E_UNSUPPORTED && strstr(msg, "Relq"), "renamed op: status %d, '%s'", (int)s, msg);
    printf("%-28s -> %s\n", "unsupported op in the model", msg);

    /* API misuse */
    mnas_model *m = NULL;
    mnas_create(&m);
    CHECK(&st, mnas_run(m, NULL, 0) == MNAS_E_STATE, "run before load");
    CHECK(&st, mnas_load(m, NULL, 0, NULL) == MNAS_E_ARG, "load of nothing");
    CHECK(&st, mnas_load(m, orig, len, NULL) == MNAS_OK, "load: %s", mnas_error(m));
    float x[16];
    CHECK(&st, mnas_run(m, x, 16) == MNAS_E_INPUT, "short tensor accepted");
    uint8_t px[12] = {0};
    CHECK(&st, mnas_run_image(m, px, 0, 3, 0, MNAS_RGBA) == MNAS_E_INPUT, "zero-width image accepted");
    CHECK(&st, mnas_run_image(m, px, 2, 2, 3, MNAS_RGB) == MNAS_E_INPUT, "stride below the row size accepted");
    CHECK(&st, mnas_run_image(m, px, 1, 1, 0, (mnas_pixel_format)7) == MNAS_E_ARG, "bad pixel format accepted");
    CHECK(&st, mnas_run_image(m, px, 1, 1, 0, MNAS_RGBA) == MNAS_OK, "1x1 image: %s", mnas_error(m));
    mnas_se_block blk;
    CHECK(&st, mnas_get_se(m, 99, &blk) == MNAS_E_ARG, "SE index out of range accepted");
    CHECK(&st, mnas_label(m, -1) == NULL && mnas_label(m, 10) == NULL, "label out of range");
    mnas_free(m);
    mnas_free(NULL);

    owned_loads(&st, orig, len, "default model (int8 weights)");
    const char *data = getenv("MNAS_TESTDATA");
    char p32[1024];
    snprintf(p32, sizeof p32, "%s/models/mnasnet_a1_cifar10.onnx", data && *data ? data : "../shared");
    size_t len32 = 0;
    uint8_t *m32 = read_all(p32, &len32);
    if (m32)
        owned_loads(&st, m32, len32, "shared fp32 model (packed in place)");
    else
        printf("skip: %s not found\n", p32);
    free(m32);

    free(buf);
    free(orig);
    return check_summary(&st, "test_hostile");
}
