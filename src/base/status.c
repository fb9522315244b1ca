/* Error messages without libc's printf: the formatter the whole engine
 * writes its failures with, small enough for the .wasm (see status.h). */
#include "base/status.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t cap, len;
} out_buf;

static void put(out_buf *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void put_uint(out_buf *o, uint64_t v, unsigned base, int neg)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        put(o, '-');
    while (n)
        put(o, tmp[--n]);
}

int mnas_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    out_buf o = {buf, cap, 0};
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        f++;
        size_t prec = (size_t)-1;
        if (*f == '.') {
            prec = 0;
            for (f++; *f >= '0' && *f <= '9'; f++)
                prec = prec * 10 + (size_t)(*f - '0');
        }
        int longs = 0, size = 0;
        for (; *f == 'l' || *f == 'z'; f++) {
            longs += *f == 'l';
            size |= *f == 'z';
        }
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            for (s = s ? s : "(null)"; *s && prec--; s++)
                put(&o, *s);
            break;
        }
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        case 'd': case 'i': {
            const int64_t v = size ? (int64_t)va_arg(ap, ptrdiff_t)
                              : longs >= 2 ? (int64_t)va_arg(ap, long long)
                              : longs ? (int64_t)va_arg(ap, long) : (int64_t)va_arg(ap, int);
            put_uint(&o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, v < 0);
            break;
        }
        case 'u': case 'x': {
            const uint64_t v = size ? (uint64_t)va_arg(ap, size_t)
                               : longs >= 2 ? (uint64_t)va_arg(ap, unsigned long long)
                               : longs ? (uint64_t)va_arg(ap, unsigned long) : (uint64_t)va_arg(ap, unsigned);
            put_uint(&o, v, *f == 'x' ? 16 : 10, 0);
            break;
        }
        case '%': put(&o, '%'); break;
        case '\0': f--; break;
        default: put(&o, '?'); break;
        }
    }
    if (cap)
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    return (int)o.len;
}

void mnas_append_str(char *buf, size_t cap, size_t *at, const char *s, size_t max)
{
    if (!cap || *at >= cap)
        return;
    size_t n = strlen(s);
    if (n > max)
        n = max;
    if (n > cap - 1 - *at)
        n = cap - 1 - *at;
    memcpy(buf + *at, s, n);
    *at += n;
    buf[*at] = '\0';
}

void mnas_copy_str(char *buf, size_t cap, const char *src)
{
    size_t at = 0;
    mnas_append_str(buf, cap, &at, src, SIZE_MAX);
}

void mnas_append_int(char *buf, size_t cap, size_t *at, long long v)
{
    char d[24]; /* digits written backwards from the end, NUL-terminated */
    char *p = d + sizeof d - 1;
    *p = '\0';
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    mnas_append_str(buf, cap, at, p, SIZE_MAX);
}

int mnas_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = mnas_vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

mnas_status mnas_fail(mnas_err *err, mnas_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        mnas_vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}
