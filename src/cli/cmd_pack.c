/* mnas pack: attach labels and preprocessing to a model and optionally
 * store its weights as fp16 or int8, so the file carries what the SDK
 * needs. The output is written to a temporary file beside it and renamed
 * into place, so that OUT is either the old file or the whole new one,
 * never a part of it. */
#define _XOPEN_SOURCE 700 /* realpath, mkstemp, fchmod */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MAX_FILE ((size_t)512 << 20)

/* The file's bytes (NUL-terminated), or NULL after the message. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
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
    const int e = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf || e || n > MAX_FILE) {
        cli_error("cannot read %s: %s", path, !buf ? "out of memory" : e ? strerror(e) : "larger than 512 MB");
        free(buf);
        return NULL;
    }
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
        cli_error("out of memory");
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

const char cmd_pack_usage[] =
    "usage: mnas pack IN.onnx OUT.onnx [options]\n"
    "\n"
    "Write a copy of a model with labels and preprocessing in its metadata and\n"
    "optionally fp16 or int8 weights, so the file carries what the SDK needs. The\n"
    "packed model is loaded before it is written, to a temporary file beside OUT\n"
    "that is then renamed to OUT (an error leaves OUT as it was); OUT must not be IN.\n"
    "\n"
    "options:\n"
    "  --labels FILE              class names: a JSON array or one label per line\n"
    "  --mean a,b,c --std a,b,c   normalization (both or neither)\n"
    "  --source-size N            area-downscale frames to NxN first, 1.." CLI_STR(MNAS_MAX_SOURCE_SIZE) "\n"
    "  --fp16                     store the weights as fp16 (with --int8: the other floats)\n"
    "  --int8                     store Conv, Gemm and MatMul weights as int8, symmetric per\n"
    "                             output channel (opset 13 or later)\n"
    "  -h, --help                 this help\n";

typedef struct {
    const char *labels;
    float mean[3], std[3];
    int have_mean, have_std, fp16, int8;
    long source;
} pack_args;

static int pack_option(void *args, int argc, char **argv, int *i)
{
    pack_args *a = args;
    const char *o = argv[*i];
    const int is_fp16 = strcmp(o, "--fp16") == 0;
    if (is_fp16 || strcmp(o, "--int8") == 0) {
        *(is_fp16 ? &a->fp16 : &a->int8) = 1;
        return 1;
    }
    if (strcmp(o, "--labels") == 0)
        return (a->labels = cli_option_value(argc, argv, i, "a labels file")) ? 1 : -1;
    const int is_mean = strcmp(o, "--mean") == 0;
    if (is_mean || strcmp(o, "--std") == 0) {
        if (cli_option_floats3(argc, argv, i, is_mean ? a->mean : a->std))
            return -1;
        *(is_mean ? &a->have_mean : &a->have_std) = 1;
        return 1;
    }
    if (strcmp(o, "--source-size") == 0)
        return cli_option_int(argc, argv, i, 1, MNAS_MAX_SOURCE_SIZE, &a->source) ? -1 : 1;
    return 0;
}

static const cli_command pack_command = {"pack", 2, 0, pack_option};

/* OUT must be a new path or another file than IN: writing it must never
 * destroy the input. 0, or 1 after the message. */
static int check_paths(const char *in, const char *out)
{
    struct stat si, so;
    if (stat(in, &si))
        return cli_error("cannot open %s: %s", in, strerror(errno));
    const int same = strcmp(in, out) == 0 ||
                     (stat(out, &so) == 0 && so.st_dev == si.st_dev && so.st_ino == si.st_ino);
    if (same)
        return cli_error("pack: OUT %s is the input file %s; write the packed model to another path", out, in);
    return cli_check_output(out) ? 1 : 0;
}

/* The packed model, checked to load; NULL after the message. */
static uint8_t *pack_bytes(const char *in, const pack_args *a, size_t *plen)
{
    size_t len;
    uint8_t *bytes = read_file(in, &len);
    if (!bytes)
        return NULL;
    char *lj = NULL;
    if (a->labels && !(lj = labels_json(a->labels))) {
        free(bytes);
        return NULL;
    }
    mnas_pack_options po = {.labels_json = lj, .mean = a->have_mean ? a->mean : NULL,
                            .std = a->have_std ? a->std : NULL, .source_size = (int)a->source, .fp16 = a->fp16,
                            .int8 = a->int8};
    uint8_t *packed = NULL;
    char err[512] = "";
    const mnas_status st = mnas_pack(bytes, len, &po, &packed, plen, err, sizeof err);
    free(bytes);
    free(lj);
    if (st) {
        cli_error("%s: %s: %s", in, mnas_status_name(st), err);
        return NULL;
    }
    /* prove the result loads before writing it */
    mnas_model *m = NULL;
    mnas_status ls = mnas_create(&m);
    if (!ls)
        ls = mnas_load(m, packed, *plen, NULL);
    if (ls) {
        cli_error("packed model does not load: %s", m ? mnas_error(m) : "out of memory");
        mnas_buffer_free(packed);
        packed = NULL;
    }
    mnas_free(m);
    return packed;
}

/* The bytes into a new file at tmp (a mkstemp template), with the given
 * mode, flushed to disk; 0 or an errno, tmp removed then. */
static int write_temp(char *tmp, const uint8_t *bytes, size_t len, mode_t mode)
{
    const int fd = mkstemp(tmp);
    if (fd < 0)
        return errno;
    int e = 0;
    for (size_t done = 0; done < len && !e;) {
        const ssize_t n = write(fd, bytes + done, len - done);
        if (n < 0 && errno != EINTR)
            e = errno;
        else if (n > 0)
            done += (size_t)n;
    }
    if (!e && fchmod(fd, mode))
        e = errno;
    if (!e && fsync(fd))
        e = errno;
    if (close(fd) && !e)
        e = errno;
    if (e)
        unlink(tmp);
    return e;
}

/* OUT written whole or not at all: a temporary file in OUT's directory
 * (rename() moves within one file system only), renamed over OUT. A
 * symbolic link OUT has its target replaced, as writing through it would;
 * an existing OUT keeps its permissions, a new one gets 0666 less the umask. */
static int write_file(const char *path, const uint8_t *bytes, size_t len)
{
    struct stat sb;
    char *real = NULL;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
        real = realpath(path, NULL);
    const char *dst = real ? real : path;
    mode_t mode;
    if (stat(dst, &sb) == 0 && S_ISREG(sb.st_mode)) {
        mode = sb.st_mode & 07777;
    } else {
        const mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    char tmp[4096];
    int e = 0;
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", dst) >= (int)sizeof tmp)
        e = ENAMETOOLONG;
    if (!e)
        e = write_temp(tmp, bytes, len, mode);
    if (!e && rename(tmp, dst)) {
        e = errno;
        unlink(tmp);
    }
    free(real);
    return e ? cli_error("cannot write %s: %s", path, strerror(e)) : 0;
}

int cmd_pack(int argc, char **argv)
{
    pack_args a;
    memset(&a, 0, sizeof a);
    cli_common c;
    memset(&c, 0, sizeof c);
    const int parsed = cli_parse(&pack_command, argc, argv, &a, &c);
    if (parsed != CLI_PARSED)
        return cli_parse_exit(parsed, cmd_pack_usage);
    if (a.have_mean != a.have_std)
        return cli_error("--mean and --std go together"), 2;
    const char *in = c.positional[0], *out = c.positional[1];
    if (check_paths(in, out))
        return 1;
    size_t plen = 0;
    uint8_t *packed = pack_bytes(in, &a, &plen);
    if (!packed)
        return 1;
    const int rc = write_file(out, packed, plen);
    mnas_buffer_free(packed);
    if (!rc)
        printf("wrote %s (%zu bytes%s%s)\n", out, plen, a.int8 ? ", int8 weights" : "",
               a.fp16 ? (a.int8 ? ", other floats fp16" : ", fp16 weights") : "");
    return rc;
}
