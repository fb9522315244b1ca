/* mnas pack: attach labels and preprocessing to a model and optionally
 * store its weights as fp16 or int8, so the file carries what the SDK
 * needs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_FILE ((size_t)512 << 20)

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        const size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0 || n > MAX_FILE)
            break;
        if (n == cap) {
            uint8_t *q = realloc(buf, cap * 2 + 1);
            if (!q) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* A labels file is either a JSON array or one label per line. */
static char *labels_json(const char *path)
{
    size_t len;
    char *text = (char *)read_file(path, &len);
    if (!text)
        return NULL;
    const char *p = text + strspn(text, " \t\r\n");
    if (*p == '[')
        return text;
    char *out = malloc(len * 6 + 16);
    if (!out) {
        free(text);
        return NULL;
    }
    size_t o = 0;
    out[o++] = '[';
    int first = 1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = 0;
        if (!l)
            continue;
        if (!first)
            out[o++] = ',';
        first = 0;
        out[o++] = '"';
        for (size_t i = 0; i < l; i++) {
            const unsigned char ch = (unsigned char)line[i];
            if (ch == '"' || ch == '\\') {
                out[o++] = '\\';
                out[o++] = (char)ch;
            } else if (ch < 0x20) {
                o += (size_t)sprintf(out + o, "\\u%04x", ch);
            } else {
                out[o++] = (char)ch;
            }
        }
        out[o++] = '"';
    }
    out[o++] = ']';
    out[o] = 0;
    free(text);
    return out;
}

int cmd_pack(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *labels = NULL;
    float mean[3], std[3];
    int have_mean = 0, have_std = 0, fp16 = 0, int8 = 0;
    long source = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--fp16") == 0) {
            fp16 = 1;
        } else if (strcmp(a, "--int8") == 0) {
            int8 = 1;
        } else if (i + 1 < argc && strcmp(a, "--labels") == 0) {
            labels = argv[++i];
        } else if (i + 1 < argc && (strcmp(a, "--mean") == 0 || strcmp(a, "--std") == 0)) {
            const int is_mean = a[2] == 'm';
            if (cli_parse_floats3(argv[++i], is_mean ? mean : std))
                return cli_error("%s takes three numbers like 0.485,0.456,0.406", a), 2;
            *(is_mean ? &have_mean : &have_std) = 1;
        } else if (i + 1 < argc && strcmp(a, "--source-size") == 0) {
            if (cli_parse_int(argv[++i], 1, MNAS_MAX_SOURCE_SIZE, &source))
                return cli_error("--source-size takes 1..%d, got '%s'", MNAS_MAX_SOURCE_SIZE, argv[i]), 2;
        } else if (a[0] == '-') {
            return cli_error("pack: unknown option '%s'", a), 2;
        } else if (!in) {
            in = a;
        } else if (!out) {
            out = a;
        } else {
            return cli_error("pack: too many arguments at '%s'", a), 2;
        }
    }
    if (!in || !out)
        return cli_error("usage: mnas pack IN.onnx OUT.onnx [--labels FILE] [--mean a,b,c --std a,b,c] "
                         "[--source-size N] [--fp16] [--int8]"),
               2;
    if (have_mean != have_std)
        return cli_error("--mean and --std go together"), 2;
    size_t len;
    uint8_t *bytes = read_file(in, &len);
    if (!bytes)
        return cli_error("%s: cannot read", in);
    char *lj = NULL;
    if (labels && !(lj = labels_json(labels))) {
        free(bytes);
        return cli_error("%s: cannot read labels", labels);
    }
    mnas_pack_options po = {.labels_json = lj, .mean = have_mean ? mean : NULL, .std = have_std ? std : NULL,
                            .source_size = (int)source, .fp16 = fp16, .int8 = int8};
    uint8_t *packed = NULL;
    size_t plen = 0;
    char err[512] = "";
    const mnas_status st = mnas_pack(bytes, len, &po, &packed, &plen, err, sizeof err);
    free(bytes);
    free(lj);
    if (st)
        return cli_error("%s: %s: %s", in, mnas_status_name(st), err);
    /* prove the result loads before writing it */
    mnas_model *m = NULL;
    mnas_status ls = mnas_create(&m);
    if (!ls)
        ls = mnas_load(m, packed, plen, NULL);
    if (ls) {
        cli_error("packed model does not load: %s", m ? mnas_error(m) : "out of memory");
        mnas_free(m);
        mnas_buffer_free(packed);
        return 1;
    }
    mnas_free(m);
    FILE *f = fopen(out, "wb");
    const int ok = f && fwrite(packed, 1, plen, f) == plen;
    const int closed = f ? fclose(f) == 0 : 0;
    mnas_buffer_free(packed);
    if (!ok || !closed)
        return cli_error("%s: write failed", out);
    printf("wrote %s (%zu bytes%s%s)\n", out, plen, int8 ? ", int8 weights" : "",
           fp16 ? (int8 ? ", other floats fp16" : ", fp16 weights") : "");
    return 0;
}
