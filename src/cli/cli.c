#define _POSIX_C_SOURCE 199309L
/* Option parsing and messages shared by the mnas commands: the flags
 * every command that loads a model takes, and one way to fail. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mnas: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

double cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int cli_parse_floats3(const char *s, float out[3])
{
    for (int i = 0; i < 3; i++) {
        char *end;
        out[i] = strtof(s, &end);
        if (end == s)
            return -1;
        s = end;
        if (i < 2) {
            if (*s != ',')
                return -1;
            s++;
        }
    }
    return *s ? -1 : 0;
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    const long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_common_option(cli_common *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "--json") == 0) {
        c->json = 1;
        return 1;
    }
    if (strcmp(a, "--reference") == 0) {
        c->opt.reference_kernels = 1;
        return 1;
    }
    if (strcmp(a, "--threads") == 0) {
        long n;
        if (*i + 1 >= argc)
            return cli_error("%s needs a value", a), -1;
        if (cli_parse_int(argv[++*i], 0, MNAS_MAX_THREADS, &n))
            return cli_error("--threads takes 0 (automatic) .. %d, got '%s'", MNAS_MAX_THREADS, argv[*i]), -1;
        c->opt.threads = (int)n;
        return 1;
    }
    const int is_mean = strcmp(a, "--mean") == 0, is_std = strcmp(a, "--std") == 0;
    if (is_mean || is_std || strcmp(a, "--source-size") == 0) {
        if (*i + 1 >= argc)
            return cli_error("%s needs a value", a), -1;
        const char *v = argv[++*i];
        if (is_mean || is_std) {
            if (cli_parse_floats3(v, is_mean ? c->opt.mean : c->opt.std))
                return cli_error("%s takes three numbers like 0.485,0.456,0.406, got '%s'", a, v), -1;
            c->have_norm |= is_mean ? 1 : 2;
            return 1;
        }
        long n;
        if (cli_parse_int(v, 0, MNAS_MAX_SOURCE_SIZE, &n))
            return cli_error("--source-size takes 0..%d, got '%s'", MNAS_MAX_SOURCE_SIZE, v), -1;
        c->opt.source_size = (int)n;
        return 1;
    }
    if (a[0] == '-' && a[1])
        return 0;
    if (c->n_positional >= 4)
        return cli_error("too many arguments at '%s'", a), -1;
    c->positional[c->n_positional++] = a;
    if (!c->model)
        c->model = a;
    return 1;
}

mnas_model *cli_load(const cli_common *c)
{
    if (c->have_norm && c->have_norm != 3) {
        cli_error("--mean and --std go together");
        return NULL;
    }
    mnas_model *m = NULL;
    if (mnas_create(&m)) {
        cli_error("out of memory");
        return NULL;
    }
    const mnas_status st = mnas_load_file(m, c->model, &c->opt);
    if (st) {
        cli_error("%s: %s: %s", c->model, mnas_status_name(st), mnas_error(m));
        mnas_free(m);
        return NULL;
    }
    return m;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        const unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}
