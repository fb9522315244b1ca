#define _POSIX_C_SOURCE 200809L
/* Option parsing and messages shared by the mnas commands: the flags
 * every command that loads a model takes, option values with messages that
 * name the option and what it takes, output paths checked before any work,
 * and one way to fail. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

long cli_spread_count(long limit, long total)
{
    return limit > 0 && limit < total ? limit : total;
}

long cli_spread_index(long i, long n, long total)
{
    return (long)((long long)i * total / n);
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
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

const char *cli_option_value(int argc, char **argv, int *i, const char *kind)
{
    if (*i + 1 >= argc) {
        cli_error("%s needs a value (%s)", argv[*i], kind);
        return NULL;
    }
    return argv[++*i];
}

int cli_option_int(int argc, char **argv, int *i, long lo, long hi, long *out)
{
    char kind[96];
    snprintf(kind, sizeof kind, "a whole number %ld..%ld", lo, hi);
    const char *name = argv[*i], *v = cli_option_value(argc, argv, i, kind);
    if (!v)
        return -1;
    if (cli_parse_int(v, lo, hi, out))
        return cli_error("%s takes %s, got '%s'", name, kind, v), -1;
    return 0;
}

int cli_option_floats3(int argc, char **argv, int *i, float out[3])
{
    static const char kind[] = "three numbers like 0.485,0.456,0.406";
    const char *name = argv[*i], *v = cli_option_value(argc, argv, i, kind);
    if (!v)
        return -1;
    if (cli_parse_floats3(v, out))
        return cli_error("%s takes %s, got '%s'", name, kind, v), -1;
    return 0;
}

/* --threads or --source-size: 1 consumed, 0 neither, -1 error. */
static int model_int_option(cli_common *c, int argc, char **argv, int *i)
{
    const int threads = strcmp(argv[*i], "--threads") == 0;
    if (!threads && strcmp(argv[*i], "--source-size") != 0)
        return 0;
    long n;
    if (cli_option_int(argc, argv, i, 0, threads ? MNAS_MAX_THREADS : MNAS_MAX_SOURCE_SIZE, &n))
        return -1;
    *(threads ? &c->opt.threads : &c->opt.source_size) = (int)n;
    return 1;
}

/* The options of CLI_MODEL_OPTIONS_HELP: 1 consumed, 0 not one, -1 error. */
static int model_option(cli_common *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "--json") == 0) {
        c->json = 1;
        return 1;
    }
    if (strcmp(a, "--reference") == 0 || strcmp(a, "--layer-by-layer") == 0) {
        *(a[2] == 'r' ? &c->opt.reference_kernels : &c->opt.layer_by_layer) = 1;
        return 1;
    }
    const int is_mean = strcmp(a, "--mean") == 0;
    if (is_mean || strcmp(a, "--std") == 0) {
        if (cli_option_floats3(argc, argv, i, is_mean ? c->opt.mean : c->opt.std))
            return -1;
        c->have_norm |= is_mean ? 1 : 2;
        return 1;
    }
    return model_int_option(c, argc, argv, i);
}

static int one_argument(const cli_command *cmd, int argc, char **argv, int *i, void *args, cli_common *c)
{
    const char *a = argv[*i];
    int r = cmd->own ? cmd->own(args, argc, argv, i) : 0;
    if (r == 0 && cmd->model_options)
        r = model_option(c, argc, argv, i);
    if (r)
        return r;
    if (a[0] == '-' && a[1])
        return cli_error("%s: unknown option '%s' (mnas %s --help lists them)", cmd->name, a, cmd->name), -1;
    if (c->n_positional >= cmd->n_positional)
        return cli_error("%s: too many arguments at '%s'", cmd->name, a), -1;
    c->positional[c->n_positional++] = a;
    if (!c->model)
        c->model = a;
    return 1;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, void *args, cli_common *c)
{
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i]))
            return CLI_SHOW_HELP;
        if (one_argument(cmd, argc, argv, &i, args, c) < 0)
            return CLI_BAD_ARGS;
    }
    if (c->n_positional != cmd->n_positional) {
        cli_error("%s takes %d argument%s besides options, got %d", cmd->name, cmd->n_positional,
                  cmd->n_positional == 1 ? "" : "s", c->n_positional);
        return CLI_BAD_ARGS;
    }
    if (c->have_norm && c->have_norm != 3) {
        cli_error("--mean and --std go together");
        return CLI_BAD_ARGS;
    }
    return CLI_PARSED;
}

int cli_parse_exit(int parsed, const char *usage)
{
    if (parsed == CLI_SHOW_HELP) {
        fputs(usage, stdout);
        return 0;
    }
    const size_t line = strcspn(usage, "\n");
    fprintf(stderr, "%.*s\n", (int)line, usage);
    return 2;
}

/* 0 when dir is a directory this process can create files in; else -1
 * after "WHAT SHOWN: REASON". */
static int writable_dir(const char *dir, const char *what, const char *shown)
{
    struct stat sb;
    int e = 0;
    if (stat(dir, &sb))
        e = errno;
    else if (!S_ISDIR(sb.st_mode))
        e = ENOTDIR;
    else if (access(dir, W_OK | X_OK))
        e = errno;
    if (e)
        return cli_error("%s %s: %s", what, shown, strerror(e)), -1;
    return 0;
}

int cli_check_output(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return writable_dir(dir, "cannot create", path);
}

int cli_make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return cli_error("cannot create directory %s: %s", dir, strerror(ENAMETOOLONG)), -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) && errno != EEXIST)
            return cli_error("cannot create directory %s: %s", path, strerror(errno)), -1;
        *p = '/';
    }
    if (mkdir(path, 0777) && errno != EEXIST)
        return cli_error("cannot create directory %s: %s", path, strerror(errno)), -1;
    return writable_dir(dir, "cannot create directory", dir);
}

mnas_model *cli_load(const cli_common *c)
{
    FILE *probe = fopen(c->model, "rb");
    if (!probe) {
        cli_error("cannot open %s: %s", c->model, strerror(errno));
        return NULL;
    }
    fclose(probe);
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
