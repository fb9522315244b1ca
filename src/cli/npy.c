/* Reading and writing .npy files (see npy.h), the CLI's tensor format
 * for inputs, logits and gates. */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_HEADER 65536
#define NPY_MAX_ELEMS ((int64_t)1 << 31)

static int failf(char *err, size_t cap, const char *path, const char *what)
{
    snprintf(err, cap, "%s: %s", path, what);
    return -1;
}

/* "cannot open PATH: REASON" from errno */
static int fail_errno(char *err, size_t cap, const char *what, const char *path)
{
    snprintf(err, cap, "%s %s: %s", what, path, strerror(errno));
    return -1;
}

/* The header is a Python dict literal; we need three keys of it. */
static int parse_header(const char *h, npy_array *a)
{
    const char *d = strstr(h, "'descr'");
    const char *f = strstr(h, "'fortran_order'");
    const char *s = strstr(h, "'shape'");
    if (!d || !f || !s)
        return -1;
    const char *q = strchr(d + 7, '\'');
    if (!q)
        return -1;
    if (strncmp(q, "'<f4'", 5) == 0)
        a->is_u8 = 0;
    else if (strncmp(q, "'|u1'", 5) == 0)
        a->is_u8 = 1;
    else
        return -2;
    const char *c = strchr(f + 15, ':');
    if (!c)
        return -1;
    c += 1 + strspn(c + 1, " ");
    if (strncmp(c, "False", 5) != 0)
        return -3;
    const char *p = strchr(s, '(');
    if (!p)
        return -1;
    p++;
    a->ndim = 0;
    a->count = 1;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            break;
        char *end;
        const long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || a->ndim >= 8)
            return -1;
        a->dims[a->ndim++] = v;
        if (v > 0 && (int64_t)a->count > NPY_MAX_ELEMS / v)
            return -4;
        a->count *= (size_t)v;
        p = end;
    }
    return *p == ')' ? 0 : -1;
}

int npy_read(const char *path, npy_array *a, char *err, size_t cap)
{
    memset(a, 0, sizeof *a);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return fail_errno(err, cap, "cannot open", path);
    unsigned char pre[10];
    int rc = -1;
    char *hdr = NULL;
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        failf(err, cap, path, "not a .npy file (bad magic)");
        goto out;
    }
    size_t hlen = pre[8] | (size_t)pre[9] << 8;
    if (pre[6] >= 2) {
        unsigned char more[2];
        if (fread(more, 1, 2, fp) != 2) {
            failf(err, cap, path, "truncated header");
            goto out;
        }
        hlen |= (size_t)more[0] << 16 | (size_t)more[1] << 24;
    }
    if (hlen > NPY_MAX_HEADER || !(hdr = calloc(hlen + 1, 1)) || fread(hdr, 1, hlen, fp) != hlen) {
        failf(err, cap, path, "bad or truncated header");
        goto out;
    }
    const int ph = parse_header(hdr, a);
    if (ph) {
        failf(err, cap, path,
              ph == -2 ? "only little-endian float32 ('<f4') and uint8 arrays are read"
                       : ph == -3 ? "Fortran-order arrays are not read" : "unreadable shape in header");
        goto out;
    }
    const size_t esz = a->is_u8 ? 1 : 4;
    void *data = malloc(a->count ? a->count * esz : 1);
    if (!data) {
        failf(err, cap, path, "out of memory");
        goto out;
    }
    if (fread(data, esz, a->count, fp) != a->count) {
        free(data);
        failf(err, cap, path, "data shorter than the header's shape");
        goto out;
    }
    if (a->is_u8)
        a->u8 = data;
    else
        a->f = data; /* every supported host is little-endian */
    rc = 0;
out:
    free(hdr);
    fclose(fp);
    return rc;
}

void npy_free(npy_array *a)
{
    free(a->f);
    free(a->u8);
    memset(a, 0, sizeof *a);
}

static int write_any(const char *path, const char *descr, const void *data, size_t esz, int ndim,
                     const int64_t *dims, char *err, size_t cap)
{
    char shape[256] = "", dict[400];
    size_t count = 1, used = 0;
    for (int i = 0; i < ndim; i++) {
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%lld,%s", (long long)dims[i],
                                 i + 1 < ndim ? " " : "");
        count *= (size_t)dims[i];
        if (used >= sizeof shape)
            return failf(err, cap, path, "shape too long");
    }
    if (ndim > 1 && used > 0)
        shape[used - 1] = '\0'; /* (a, b) rather than (a, b,) */
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
    /* pad so the data starts on a 64-byte boundary, header ends in '\n' */
    const int total = 10 + n + 1;
    const int pad = (64 - total % 64) % 64;
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return fail_errno(err, cap, "cannot create", path);
    const unsigned hl = (unsigned)(n + pad + 1);
    const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 255),
                                   (unsigned char)(hl >> 8)};
    int ok = fwrite(pre, 1, 10, fp) == 10 && fwrite(dict, 1, (size_t)n, fp) == (size_t)n;
    for (int i = 0; ok && i < pad; i++)
        ok = fputc(' ', fp) != EOF;
    ok = ok && fputc('\n', fp) != EOF && fwrite(data, esz, count, fp) == count;
    const int e = ok ? 0 : errno;
    ok = (fclose(fp) == 0) && ok;
    if (!ok && e)
        errno = e;
    return ok ? 0 : fail_errno(err, cap, "cannot write", path);
}

int npy_write_f32(const char *path, const float *data, int ndim, const int64_t *dims, char *err, size_t cap)
{
    return write_any(path, "<f4", data, 4, ndim, dims, err, cap);
}

int npy_write_u8(const char *path, const uint8_t *data, int64_t n, char *err, size_t cap)
{
    return write_any(path, "|u1", data, 1, 1, &n, err, cap);
}
