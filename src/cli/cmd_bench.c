#define _POSIX_C_SOURCE 200809L
/* mnas bench: steady-state latency of a model on this device (warm-up,
 * then N timed runs, optionally per layer), for timing on phones. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

const char cmd_bench_usage[] =
    "usage: mnas bench MODEL [options]\n"
    "\n"
    "Steady-state latency on this device: one first run, warm-up runs, then timed\n"
    "runs on a fixed input; min, median and p90 in ms, GMAC/s, load time, peak RSS.\n"
    "\n"
    "options:\n"
    "  --runs N                   timed runs, 1..1000000 (50)\n"
    "  --warmup N                 untimed runs first, 0..1000000 (5)\n"
    "  --per-layer                profile each layer; time by kind and the slowest layers\n"
    "\n" CLI_MODEL_OPTIONS_HELP;

typedef struct {
    cli_common c;
    long runs, warmup;
    int per_layer;
} bench_args;

static int bench_option(void *args, int argc, char **argv, int *i)
{
    bench_args *a = args;
    const char *o = argv[*i];
    if (strcmp(o, "--runs") == 0)
        return cli_option_int(argc, argv, i, 1, 1000000, &a->runs) ? -1 : 1;
    if (strcmp(o, "--warmup") == 0)
        return cli_option_int(argc, argv, i, 0, 1000000, &a->warmup) ? -1 : 1;
    if (strcmp(o, "--per-layer") == 0) {
        a->per_layer = 1;
        return 1;
    }
    return 0;
}

static const cli_command bench_command = {"bench", 1, 1, bench_option};

static long peak_rss_kb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    int layer;
    double ms;
} layer_time;

static int cmp_layer(const void *a, const void *b)
{
    const double x = ((const layer_time *)a)->ms, y = ((const layer_time *)b)->ms;
    return x > y ? -1 : x < y;
}

/* A fused block's time is its first layer's and covers all its layers, so
 * it is a kind of its own here. */
#define N_CATS 6
static const char *const cats[N_CATS] = {"stem/conv", "1x1", "depthwise", "se", "other", "fused blocks"};

static const char *category_of(const mnas_layer *L)
{
    return L->fused_with >= 0 ? cats[N_CATS - 1] : L->category;
}

/* What was measured, and the model's counts. */
typedef struct {
    mnas_stats s;
    double load_ms, first_ms, min_ms, median_ms, p90_ms, gmacs;
    double *times;              /* per run, in run order until summarized */
    layer_time *layers;         /* mean per run, slowest first once summarized */
    double cat_ms[N_CATS], total_layer_ms;
} bench_result;

static void time_runs(const bench_args *a, mnas_model *m, bench_result *r)
{
    int h, w, ch;
    mnas_input_shape(m, &h, &w, &ch);
    const size_t n = (size_t)h * w * ch;
    float *x = mnas_input_buffer(m);
    /* a fixed smooth pattern: realistic activations, identical every run */
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((int)(i % 97) - 48) / 48.0f;
    const double f0 = cli_now_ms();
    mnas_run(m, x, n);
    r->first_ms = cli_now_ms() - f0;
    for (long i = 0; i < a->warmup; i++)
        mnas_run(m, x, n);
    mnas_set_profiling(m, a->per_layer);
    for (long k = 0; k < a->runs; k++) {
        const double r0 = cli_now_ms();
        mnas_run(m, x, n);
        r->times[k] = cli_now_ms() - r0;
        for (int l = 0; a->per_layer && l < r->s.layers; l++) {
            mnas_layer L;
            mnas_get_layer(m, l, &L);
            r->layers[l].layer = l;
            r->layers[l].ms += L.time_ms;
        }
    }
}

static void summarize(const bench_args *a, mnas_model *m, bench_result *r)
{
    const long n = a->runs;
    qsort(r->times, (size_t)n, sizeof(double), cmp_double);
    r->min_ms = r->times[0];
    r->median_ms = r->times[n / 2];
    r->p90_ms = r->times[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1];
    r->gmacs = (double)r->s.macs / (r->min_ms * 1e6);
    for (int l = 0; a->per_layer && l < r->s.layers; l++) {
        mnas_layer L;
        mnas_get_layer(m, l, &L);
        r->layers[l].ms /= (double)n;
        r->total_layer_ms += r->layers[l].ms;
        for (int k = 0; k < N_CATS; k++)
            if (strcmp(category_of(&L), cats[k]) == 0)
                r->cat_ms[k] += r->layers[l].ms;
    }
    if (a->per_layer)
        qsort(r->layers, (size_t)r->s.layers, sizeof *r->layers, cmp_layer);
}

static void print_layers_json(mnas_model *m, const bench_result *r)
{
    printf(", \"categories\": {");
    for (int k = 0; k < N_CATS; k++)
        printf("%s\"%s\": %.4f", k ? ", " : "", cats[k], r->cat_ms[k]);
    printf("}, \"layers\": [");
    for (int i = 0; i < r->s.layers; i++) {
        mnas_layer L;
        mnas_get_layer(m, r->layers[i].layer, &L);
        printf("%s\n  {\"index\": %d, \"name\": ", i ? "," : "", r->layers[i].layer);
        cli_json_string(stdout, L.name);
        printf(", \"kind\": \"%s\", \"category\": \"%s\", \"ms\": %.5f, \"macs\": %lld, \"fused_with\": %d}", L.kind,
               L.category, r->layers[i].ms, (long long)L.macs, L.fused_with);
    }
    printf("]");
}

static void print_json(const bench_args *a, mnas_model *m, const bench_result *r)
{
    printf("\"model\": ");
    cli_json_string(stdout, a->c.model);
    printf(", \"kernels\": \"%s\", \"threads\": %d, \"runs\": %ld, \"warmup\": %ld, \"load_ms\": %.3f, "
           "\"first_ms\": %.3f, \"min_ms\": %.4f, \"median_ms\": %.4f, \"p90_ms\": %.4f, \"macs\": %lld, "
           "\"gmacs_per_s\": %.3f, \"arena_bytes\": %lld, \"peak_rss_kb\": %ld",
           mnas_backend(), mnas_threads(m), a->runs, a->warmup, r->load_ms, r->first_ms, r->min_ms, r->median_ms,
           r->p90_ms, (long long)r->s.macs, r->gmacs, (long long)r->s.arena_bytes, peak_rss_kb());
    if (a->per_layer)
        print_layers_json(m, r);
    printf("}\n");
}

static double percent(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

/* The multiply-adds a layer's time covers: a fused block's first layer's
 * time is the whole block's. */
static int64_t timed_macs(mnas_model *m, const mnas_layer *L, int index, int layers)
{
    if (L->fused_with != index)
        return L->macs;
    int64_t macs = 0;
    for (int i = index; i < layers; i++) {
        mnas_layer o;
        if (mnas_get_layer(m, i, &o) != MNAS_OK || o.fused_with != index)
            break;
        macs += o.macs;
    }
    return macs;
}

static void print_layers_text(mnas_model *m, const bench_result *r)
{
    printf("\nsplit by kind (mean per run, profiled):\n");
    for (int k = 0; k < N_CATS; k++)
        printf("  %-12s %8.3f ms  %5.1f%%\n", cats[k], r->cat_ms[k], percent(r->cat_ms[k], r->total_layer_ms));
    printf("\n%-4s %-40s %-8s %-10s %9s %7s %9s\n", "#", "layer", "kind", "out", "ms", "%", "GMAC/s");
    for (int i = 0; i < r->s.layers; i++) {
        const layer_time *t = &r->layers[i];
        mnas_layer L;
        mnas_get_layer(m, t->layer, &L);
        char out[32];
        snprintf(out, sizeof out, "%dx%dx%d", L.out_c, L.out_h, L.out_w);
        if (L.fused_with >= 0 && L.fused_with != t->layer)
            continue; /* timed with its block's first layer */
        char name[48];
        snprintf(name, sizeof name, "%s%s", L.name, L.fused_with >= 0 ? " (fused block)" : "");
        printf("%-4d %-40.40s %-8s %-10s %9.4f %6.1f%% %9.2f\n", t->layer, name, L.kind, out, t->ms,
               percent(t->ms, r->total_layer_ms),
               t->ms > 0 ? (double)timed_macs(m, &L, t->layer, r->s.layers) / (t->ms * 1e6) : 0.0);
    }
}

static void print_text(const bench_args *a, mnas_model *m, const bench_result *r)
{
    printf("model     %s (%.1f M multiply-adds)\n", a->c.model, (double)r->s.macs / 1e6);
    const int threads = mnas_threads(m);
    printf("kernels   %s, %d thread%s\n", mnas_backend(), threads, threads == 1 ? "" : "s");
    printf("load      %.2f ms, first run %.2f ms\n", r->load_ms, r->first_ms);
    printf("latency   min %.3f ms  median %.3f ms  p90 %.3f ms  (%ld runs after %ld warm-up)\n", r->min_ms,
           r->median_ms, r->p90_ms, a->runs, a->warmup);
    printf("speed     %.2f GMAC/s at the minimum\n", r->gmacs);
    if (a->per_layer)
        print_layers_text(m, r);
}

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    memset(&a, 0, sizeof a);
    a.runs = 50;
    a.warmup = 5;
    const int parsed = cli_parse(&bench_command, argc, argv, &a, &a.c);
    if (parsed != CLI_PARSED)
        return cli_parse_exit(parsed, cmd_bench_usage);
    bench_result r;
    memset(&r, 0, sizeof r);
    const double t0 = cli_now_ms();
    mnas_model *m = cli_load(&a.c);
    if (!m)
        return 1;
    r.load_ms = cli_now_ms() - t0;
    mnas_get_stats(m, &r.s);
    r.times = malloc((size_t)a.runs * sizeof(double));
    r.layers = calloc((size_t)r.s.layers + 1, sizeof *r.layers);
    int rc = 0;
    if (r.times && r.layers) {
        time_runs(&a, m, &r);
        if (a.c.json) {
            /* per-run times in run order, so a harness can pool runs across processes */
            printf("{\"times_ms\": [");
            for (long k = 0; k < a.runs; k++)
                printf("%s%.4f", k ? ", " : "", r.times[k]);
            printf("], ");
        }
        summarize(&a, m, &r);
        (a.c.json ? print_json : print_text)(&a, m, &r);
    } else {
        rc = cli_error("out of memory");
    }
    free(r.times);
    free(r.layers);
    mnas_free(m);
    return rc;
}
