/* The strict JSON reader for mnas.* metadata (see json.h): labels and
 * mean/std arrive as JSON text inside the model file, so every byte is
 * untrusted and every read is bounded. */
#include "base/json.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t pos, len;
    const char *what;
    mnas_err *err;
} jcur;

static void skip_ws(jcur *c)
{
    while (c->pos < c->len &&
           (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
        c->pos++;
}

static mnas_status jfail(jcur *c, const char *msg)
{
    return mnas_fail(c->err, MNAS_E_ARG, "%s: JSON byte %zu: %s", c->what, c->pos, msg);
}

/* Skips whitespace and consumes ch if it is next. */
static int accept(jcur *c, char ch)
{
    skip_ws(c);
    if (c->pos < c->len && c->s[c->pos] == ch) {
        c->pos++;
        return 1;
    }
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int read_hex4(jcur *c, uint32_t *u)
{
    if (c->len - c->pos < 4)
        return 0;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(c->s[c->pos + (size_t)k]);
        if (h < 0)
            return 0;
        v = v << 4 | (uint32_t)h;
    }
    c->pos += 4;
    *u = v;
    return 1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 if invalid:
 * rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    size_t k = 0;
    uint32_t cp = 0;
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf) {
        k = 2;
        cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        k = 3;
        cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        k = 4;
        cp = b & 0x07;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t j = 1; j < k; j++) {
        if ((p[j] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[j] & 0x3f);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

/* Decodes the string starting at the opening quote into a new buffer.
 * The decoded form is never longer than the source, which sizes it. */
static mnas_status read_string(jcur *c, char **out)
{
    if (!accept(c, '"'))
        return jfail(c, "expected a string");
    size_t start = c->pos, end = start;
    while (end < c->len && c->s[end] != '"')
        end += c->s[end] == '\\' ? 2 : 1;
    if (end >= c->len)
        return jfail(c, "unterminated string");
    char *o = malloc(end - start + 1);
    if (!o)
        return mnas_fail(c->err, MNAS_E_NOMEM, "%s: out of memory", c->what);
    size_t n = 0;
    mnas_status st = MNAS_OK;
    while (c->pos < end) {
        unsigned char ch = (unsigned char)c->s[c->pos];
        if (ch < 0x20) {
            st = jfail(c, "raw control character in string");
            break;
        }
        if (ch != '\\') {
            size_t k = utf8_len((const unsigned char *)c->s + c->pos, end - c->pos);
            if (!k) {
                st = jfail(c, "invalid UTF-8");
                break;
            }
            memcpy(o + n, c->s + c->pos, k);
            n += k;
            c->pos += k;
            continue;
        }
        c->pos++;
        char e = c->s[c->pos++]; /* pos < end here: the scan above stepped over it */
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            o[n++] = map[simple - "\"\\/bfnrt"];
            continue;
        }
        uint32_t cp = 0, lo = 0;
        if (e != 'u' || !read_hex4(c, &cp)) {
            st = jfail(c, "bad escape");
            break;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (c->len - c->pos < 6 || c->s[c->pos] != '\\' || c->s[c->pos + 1] != 'u' ||
                (c->pos += 2, !read_hex4(c, &lo)) || lo < 0xdc00 || lo > 0xdfff) {
                st = jfail(c, "unpaired surrogate");
                break;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            st = jfail(c, "unpaired surrogate");
            break;
        } else if (cp == 0) {
            st = jfail(c, "\\u0000 cannot be held in a C string");
            break;
        }
        n += put_utf8(o + n, cp);
    }
    if (!st && c->pos != end)
        st = jfail(c, "escape runs past the end of the string");
    if (st) {
        free(o);
        return st;
    }
    c->pos = end + 1;
    o[n] = '\0';
    *out = o;
    return MNAS_OK;
}

static mnas_status expect_end(jcur *c)
{
    skip_ws(c);
    if (c->pos != c->len)
        return jfail(c, "unexpected text after the array");
    return MNAS_OK;
}

void mnas_json_free_strings(char **v, int count)
{
    if (!v)
        return;
    for (int k = 0; k < count; k++)
        free(v[k]);
    free(v);
}

mnas_status mnas_json_parse_string_array(const char *s, size_t len, int max_items, const char *what,
                                    char ***out, int *count, mnas_err *err)
{
    jcur c = {s, 0, s ? len : 0, what ? what : "JSON", err};
    char **v = NULL;
    int n = 0, cap = 0;
    mnas_status st = MNAS_OK;
    if (!out || !count)
        return mnas_fail(err, MNAS_E_ARG, "%s: NULL argument", c.what);
    *out = NULL;
    *count = 0;
    if (!accept(&c, '['))
        return jfail(&c, "expected '['");
    if (!accept(&c, ']')) {
        do {
            if (n >= max_items) {
                st = mnas_fail(err, MNAS_E_LIMIT, "%s: more than %d strings", c.what, max_items);
                break;
            }
            if (n == cap) {
                int nc = cap ? (cap > max_items / 2 ? max_items : cap * 2) : 16;
                char **nv = realloc(v, (size_t)nc * sizeof *nv);
                if (!nv) {
                    st = mnas_fail(err, MNAS_E_NOMEM, "%s: out of memory", c.what);
                    break;
                }
                v = nv;
                cap = nc;
            }
            if ((st = read_string(&c, &v[n])))
                break;
            n++;
        } while (accept(&c, ','));
        if (!st && !accept(&c, ']'))
            st = jfail(&c, "expected ',' or ']'");
    }
    if (!st)
        st = expect_end(&c);
    if (st) {
        mnas_json_free_strings(v, n);
        return st;
    }
    *out = v;
    *count = n;
    return MNAS_OK;
}

/* Converts an already validated JSON number. The metadata holds a few
 * float32 values printed with 9 significant digits: up to 19 digits go
 * into an exact integer and one division or multiplication by an exact
 * power of ten rounds it, which lands on the same float. strtod would do
 * too, but pulls long-double code into the .wasm. */
static double decimal_to_double(const char *s, size_t n)
{
    size_t i = 0;
    int neg = 0, digits = 0, exp10 = 0;
    uint64_t mant = 0;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (digits < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            digits += mant != 0;
        } else {
            exp10++;
        }
    }
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                digits += mant != 0;
                exp10--;
            }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0, e = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            e = e < 10000 ? e * 10 + (s[i] - '0') : e;
        exp10 += eneg ? -e : e;
    }
    double d = (double)mant;
    /* powers of ten up to 1e22 are exact doubles */
    for (; exp10 > 22 && d < 1e300; exp10 -= 22)
        d *= 1e22;
    for (; exp10 < -22 && d > 1e-300; exp10 += 22)
        d /= 1e22;
    double p10 = 1.0;
    for (int k = exp10 < 0 ? -exp10 : exp10; k > 0 && k <= 22; k--)
        p10 *= 10.0;
    if (exp10 >= -22 && exp10 <= 22)
        d = exp10 < 0 ? d / p10 : d * p10;
    return neg ? -d : d;
}

/* Validates the JSON number grammar, then converts it. */
static mnas_status read_number(jcur *c, float *out)
{
    skip_ws(c);
    size_t p = c->pos;
    const char *s = c->s;
    if (p < c->len && s[p] == '-')
        p++;
    if (p < c->len && s[p] == '0') {
        p++;
    } else if (p < c->len && s[p] >= '1' && s[p] <= '9') {
        while (p < c->len && s[p] >= '0' && s[p] <= '9')
            p++;
    } else {
        return jfail(c, "expected a number");
    }
    if (p < c->len && s[p] == '.') {
        p++;
        if (p >= c->len || s[p] < '0' || s[p] > '9')
            return jfail(c, "expected digits after '.'");
        while (p < c->len && s[p] >= '0' && s[p] <= '9')
            p++;
    }
    if (p < c->len && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < c->len && (s[p] == '+' || s[p] == '-'))
            p++;
        if (p >= c->len || s[p] < '0' || s[p] > '9')
            return jfail(c, "expected digits in exponent");
        while (p < c->len && s[p] >= '0' && s[p] <= '9')
            p++;
    }
    if (p - c->pos >= 64)
        return jfail(c, "number too long");
    const double d = decimal_to_double(s + c->pos, p - c->pos);
    if (!(d >= -FLT_MAX && d <= FLT_MAX))
        return jfail(c, "number does not fit a float");
    c->pos = p;
    *out = (float)d;
    return MNAS_OK;
}

mnas_status mnas_json_parse_float_array(const char *s, size_t len, float *out, int cap, int *count,
                                   const char *what, mnas_err *err)
{
    jcur c = {s, 0, s ? len : 0, what ? what : "JSON", err};
    int n = 0;
    mnas_status st;
    if (!count || (cap > 0 && !out))
        return mnas_fail(err, MNAS_E_ARG, "%s: NULL argument", c.what);
    *count = 0;
    if (!accept(&c, '['))
        return jfail(&c, "expected '['");
    if (!accept(&c, ']')) {
        do {
            float f = 0;
            if ((st = read_number(&c, &f)))
                return st;
            if (n >= cap)
                return mnas_fail(err, MNAS_E_ARG, "%s: more than %d numbers", c.what, cap);
            out[n++] = f;
        } while (accept(&c, ','));
        if (!accept(&c, ']'))
            return jfail(&c, "expected ',' or ']'");
    }
    if ((st = expect_end(&c)))
        return st;
    *count = n;
    return MNAS_OK;
}

mnas_status mnas_json_write_string_array(char *const *v, int count, char **out, mnas_err *err)
{
    if (!out || count < 0 || (count && !v))
        return mnas_fail(err, MNAS_E_ARG, "mnas_json_write_string_array: bad arguments");
    /* Worst case 6 bytes per input byte (\u00XX); sized exactly in pass one. */
    size_t total = 3;
    for (int k = 0; k < count; k++) {
        const unsigned char *p = (const unsigned char *)(v[k] ? v[k] : "");
        total += 3;
        for (; *p; p++) {
            size_t add = (*p == '"' || *p == '\\' || *p == '\n' || *p == '\t' || *p == '\r') ? 2 : *p < 0x20 ? 6 : 1;
            if (total > SIZE_MAX - add)
                return mnas_fail(err, MNAS_E_LIMIT, "JSON output too large");
            total += add;
        }
    }
    char *o = malloc(total);
    if (!o)
        return mnas_fail(err, MNAS_E_NOMEM, "out of memory writing JSON");
    size_t n = 0;
    o[n++] = '[';
    for (int k = 0; k < count; k++) {
        const unsigned char *p = (const unsigned char *)(v[k] ? v[k] : "");
        if (k)
            o[n++] = ',';
        o[n++] = '"';
        for (; *p; p++) {
            if (*p == '"' || *p == '\\') {
                o[n++] = '\\';
                o[n++] = (char)*p;
            } else if (*p == '\n' || *p == '\t' || *p == '\r') {
                o[n++] = '\\';
                o[n++] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
            } else if (*p < 0x20) {
                static const char hex[] = "0123456789abcdef";
                memcpy(o + n, "\\u00", 4);
                o[n + 4] = hex[*p >> 4];
                o[n + 5] = hex[*p & 15];
                n += 6;
            } else {
                o[n++] = (char)*p;
            }
        }
        o[n++] = '"';
    }
    o[n++] = ']';
    o[n] = '\0';
    *out = o;
    return MNAS_OK;
}
