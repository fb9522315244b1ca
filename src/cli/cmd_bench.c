#define _POSIX_C_SOURCE 200809L
/* mnas bench: steady-state latency of a model on this device (warm-up,
 * then N timed runs, optionally per layer), for timing on phones. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

typedef struct {
    cli_common c;
    long runs, warmup;
    int per_layer;
} bench_args;

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

static int parse(int argc, char **argv, bench_args *a)
{
    a->runs = 50;
    a->warmup = 5;
    for (int i = 1; i < argc; i++) {
        const int is_runs = strcmp(argv[i], "--runs") == 0;
        if ((is_runs || strcmp(argv[i], "--warmup") == 0) && i + 1 < argc) {
            if (cli_parse_int(argv[i + 1], is_runs ? 1 : 0, 1000000, is_runs ? &a->runs : &a->warmup))
                return cli_error("%s takes a count, got '%s'", argv[i], argv[i + 1]), -1;
            i++;
        } else if (strcmp(argv[i], "--per-layer") == 0) {
            a->per_layer = 1;
        } else {
            const int r = cli_common_option(&a->c, argc, argv, &i);
            if (r < 0)
                return -1;
            if (r == 0)
                return cli_error("bench: unknown option '%s'", argv[i]), -1;
        }
    }
    if (a->c.n_positional != 1)
        return cli_error("usage: mnas bench MODEL [--runs N] [--warmup N] [--per-layer] [--threads N] [--json]"), -1;
    return 0;
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

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    memset(&a, 0, sizeof a);
    if (parse(argc, argv, &a))
        return 2;
    const double t0 = cli_now_ms();
    mnas_model *m = cli_load(&a.c);
    if (!m)
        return 1;
    const double load_ms = cli_now_ms() - t0;
    mnas_stats s;
    mnas_get_stats(m, &s);
    int h, w, ch;
    mnas_input_shape(m, &h, &w, &ch);
    const size_t n = (size_t)h * w * ch;
    float *x = mnas_input_buffer(m);
    /* a fixed smooth pattern: realistic activations, identical every run */
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((int)(i % 97) - 48) / 48.0f;
    double *times = malloc((size_t)a.runs * sizeof(double));
    double *layer_ms = calloc((size_t)s.layers + 1, sizeof(double));
    layer_time *lt = calloc((size_t)s.layers + 1, sizeof *lt);
    if (!times || !layer_ms || !lt) {
        free(times);
        free(layer_ms);
        free(lt);
        mnas_free(m);
        return cli_error("out of memory");
    }
    const double f0 = cli_now_ms();
    mnas_run(m, x, n);
    const double first_ms = cli_now_ms() - f0;
    for (long i = 0; i < a.warmup; i++)
        mnas_run(m, x, n);
    mnas_set_profiling(m, a.per_layer);
    for (long r = 0; r < a.runs; r++) {
        const double r0 = cli_now_ms();
        mnas_run(m, x, n);
        times[r] = cli_now_ms() - r0;
        for (int l = 0; a.per_layer && l < s.layers; l++) {
            mnas_layer L;
            mnas_get_layer(m, l, &L);
            layer_ms[l] += L.time_ms;
        }
    }
    if (a.c.json) {
        /* per-run times in run order, so a harness can pool runs across processes */
        printf("{\"times_ms\": [");
        for (long r = 0; r < a.runs; r++)
            printf("%s%.4f", r ? ", " : "", times[r]);
        printf("], ");
    }
    qsort(times, (size_t)a.runs, sizeof(double), cmp_double);
    const double mn = times[0], med = times[a.runs / 2], p90 = times[(a.runs * 9) / 10 < a.runs ? (a.runs * 9) / 10 : a.runs - 1];
    const double gmacs = (double)s.macs / (mn * 1e6);
    /* category split */
    static const char *const cats[] = {"stem/conv", "1x1", "depthwise", "se", "other"};
    double cat_ms[5] = {0, 0, 0, 0, 0}, total_layer = 0;
    for (int l = 0; a.per_layer && l < s.layers; l++) {
        mnas_layer L;
        mnas_get_layer(m, l, &L);
        layer_ms[l] /= (double)a.runs;
        total_layer += layer_ms[l];
        for (int k = 0; k < 5; k++)
            if (strcmp(L.category, cats[k]) == 0)
                cat_ms[k] += layer_ms[l];
        lt[l].layer = l;
        lt[l].ms = layer_ms[l];
    }
    qsort(lt, (size_t)s.layers, sizeof *lt, cmp_layer);
    if (a.c.json) {
        printf("\"model\": ");
        cli_json_string(stdout, a.c.model);
        printf(", \"kernels\": \"%s\", \"threads\": %d, \"runs\": %ld, \"warmup\": %ld, \"load_ms\": %.3f, \"first_ms\": %.3f, "
               "\"min_ms\": %.4f, \"median_ms\": %.4f, \"p90_ms\": %.4f, \"macs\": %lld, \"gmacs_per_s\": %.3f, "
               "\"arena_bytes\": %lld, \"peak_rss_kb\": %ld",
               mnas_backend(), mnas_threads(m), a.runs, a.warmup, load_ms, first_ms, mn, med, p90, (long long)s.macs, gmacs,
               (long long)s.arena_bytes, peak_rss_kb());
        if (a.per_layer) {
            printf(", \"categories\": {");
            for (int k = 0; k < 5; k++)
                printf("%s\"%s\": %.4f", k ? ", " : "", cats[k], cat_ms[k]);
            printf("}, \"layers\": [");
            for (int i = 0; i < s.layers; i++) {
                mnas_layer L;
                mnas_get_layer(m, lt[i].layer, &L);
                printf("%s\n  {\"index\": %d, \"name\": ", i ? "," : "", lt[i].layer);
                cli_json_string(stdout, L.name);
                printf(", \"kind\": \"%s\", \"category\": \"%s\", \"ms\": %.5f, \"macs\": %lld}", L.kind, L.category,
                       lt[i].ms, (long long)L.macs);
            }
            printf("]");
        }
        printf("}\n");
    } else {
        printf("model     %s (%.1f M multiply-adds)\n", a.c.model, (double)s.macs / 1e6);
        const int threads = mnas_threads(m);
        printf("kernels   %s, %d thread%s\n", mnas_backend(), threads, threads == 1 ? "" : "s");
        printf("load      %.2f ms, first run %.2f ms\n", load_ms, first_ms);
        printf("latency   min %.3f ms  median %.3f ms  p90 %.3f ms  (%ld runs after %ld warm-up)\n", mn, med, p90,
               a.runs, a.warmup);
        printf("speed     %.2f GMAC/s at the minimum\n", gmacs);
        if (a.per_layer) {
            printf("\nsplit by kind (mean per run, profiled):\n");
            for (int k = 0; k < 5; k++)
                printf("  %-10s %8.3f ms  %5.1f%%\n", cats[k], cat_ms[k],
                       total_layer > 0 ? 100.0 * cat_ms[k] / total_layer : 0.0);
            printf("\n%-4s %-30s %-8s %-10s %9s %7s %9s\n", "#", "layer", "kind", "out", "ms", "%", "GMAC/s");
            for (int i = 0; i < s.layers; i++) {
                mnas_layer L;
                mnas_get_layer(m, lt[i].layer, &L);
                char out[32];
                snprintf(out, sizeof out, "%dx%dx%d", L.out_c, L.out_h, L.out_w);
                printf("%-4d %-30.30s %-8s %-10s %9.4f %6.1f%% %9.2f\n", lt[i].layer, L.name, L.kind, out, lt[i].ms,
                       total_layer > 0 ? 100.0 * lt[i].ms / total_layer : 0.0,
                       lt[i].ms > 0 ? (double)L.macs / (lt[i].ms * 1e6) : 0.0);
            }
        }
    }
    free(times);
    free(layer_ms);
    free(lt);
    mnas_free(m);
    return 0;
}
