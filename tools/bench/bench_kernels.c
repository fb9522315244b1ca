/* Micro-benchmark of the 1x1 convolution on MnasNet-A1's shapes (224x224
 * input). Prints GFLOP/s per shape and for the whole set, next to the
 * machine's arithmetic peak measured with the same vector width and the
 * same multiply-add (fused, or a multiply then an add), so the number
 * means the same thing on every ISA this builds for, wasm included. Then
 * times the depthwise layers against the scalar reference.
 *
 *   bench_kernels [min_seconds_per_shape]   (default 0.05) */
/* clock_gettime is POSIX, not C11. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/simd_internal.h"

typedef struct {
    int pixels, ci, co, count;
} pw_shape;

/* Every 1x1 conv of MnasNet-A1 (expansions, projections, head), with how
 * often it occurs; SE layers are left out (one pixel, negligible). */
static const pw_shape shapes[] = {
    {112 * 112, 32, 16, 1},                   /* SepConv projection */
    {112 * 112, 16, 96, 1},  {56 * 56, 96, 24, 1},
    {56 * 56, 24, 144, 1},   {56 * 56, 144, 24, 1},
    {56 * 56, 24, 72, 1},    {28 * 28, 72, 40, 1},
    {28 * 28, 40, 120, 2},   {28 * 28, 120, 40, 2},
    {28 * 28, 40, 240, 1},   {14 * 14, 240, 80, 1},
    {14 * 14, 80, 480, 4},   {14 * 14, 480, 80, 3},
    {14 * 14, 480, 112, 1},  {14 * 14, 112, 672, 2},
    {14 * 14, 672, 112, 1},  {7 * 7, 672, 160, 1},
    {7 * 7, 160, 960, 3},    {7 * 7, 960, 160, 2},
    {7 * 7, 960, 320, 1},    {7 * 7, 320, 1280, 1},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The arithmetic peak at this vector width, best of several short runs so
 * the figure is the machine's, not its neighbours' on a shared host.
 * Without -ffast-math the compiler may not reassociate the chains, so the
 * loops stay honest without barriers.
 *
 * With a fused FMA: 12 independent FMA chains (4-cycle latency x 2 ports
 * needs 8 in flight).
 *
 * Without one (wasm SIMD128, where vf_fma is a multiply then an add) the
 * kernel's multiply-add is two instructions, which most cores issue to
 * separate multiply and add ports; its ceiling is the rate of independent
 * multiply/add pairs. Six product chains and six sum chains cover two
 * ports each at 3-cycle latency and fit x86's 16 vector registers, so a
 * JIT such as V8 need not spill; each pair counts as 2 flops, as in the
 * kernel. */
#if MNAS_VEC_FUSED_FMA
enum { PEAK_CHAINS = 12 };
#else
enum { PEAK_CHAINS = 6 };
#endif

/* One timed run of the peak loop. A function of its own, called once per
 * run, so that under a JIT (V8 runs wasm in a baseline tier first and
 * switches tiers only between calls) the later runs use optimized code. */
__attribute__((noinline)) static double peak_run_seconds(long iters)
{
    vfloat a[PEAK_CHAINS];
    double t0 = now();
#if MNAS_VEC_FUSED_FMA
    for (int j = 0; j < PEAK_CHAINS; j++)
        a[j] = vf_splat(0.001f * (float)j);
    const vfloat m = vf_splat(0.999999f), c = vf_splat(1e-7f);
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < PEAK_CHAINS; j++)
            a[j] = vf_fma(a[j], m, c);
#else
    vfloat p[PEAK_CHAINS];
    for (int j = 0; j < PEAK_CHAINS; j++) {
        p[j] = vf_splat(1.0f + 0.001f * (float)j);
        a[j] = vf_zero();
    }
    /* p decays by e^-1 per run of 10^6 steps: far from denormals. */
    const vfloat m = vf_splat(0.999999f);
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < PEAK_CHAINS; j++) {
            p[j] = vf_mul(p[j], m);
            a[j] = vf_add(a[j], p[j]);
        }
#endif
    vfloat s = a[0];
    for (int j = 1; j < PEAK_CHAINS; j++)
        s = vf_add(s, a[j]);
    volatile float sink = vf_hsum(s);
    (void)sink;
    return now() - t0;
}

static double measure_peak_gflops(void)
{
    const long iters = 1000000L;
    double best = 1e30;
    for (int rep = 0; rep < 20; rep++) {
        double t = peak_run_seconds(iters);
        if (t < best)
            best = t;
    }
    return 2.0 * PEAK_CHAINS * VEC_W * (double)iters / best * 1e-9;
}

typedef struct {
    int hw, c, k, stride, count;
} dw_shape;

/* MnasNet-A1's depthwise layers (input size, channels, kernel, stride). */
static const dw_shape dw_shapes[] = {
    {112, 32, 3, 1, 1}, {112, 96, 3, 2, 1}, {56, 144, 3, 1, 1}, {56, 72, 5, 2, 1},
    {28, 120, 5, 1, 2}, {28, 240, 3, 2, 1}, {14, 480, 3, 1, 4}, {14, 672, 3, 1, 1},
    {14, 672, 5, 2, 1}, {7, 960, 5, 1, 2},  {7, 960, 3, 1, 1},
};

/* Best time per call of the depthwise kernel of k over min_t seconds. */
static double time_dw(const mnas_kernels *k, const dw_shape *sh, double min_t)
{
    dw_params p;
    p.in_h = p.in_w = sh->hw;
    p.c = sh->c;
    p.k = sh->k;
    p.stride = sh->stride;
    p.pad_t = p.pad_l = sh->k / 2;
    p.out_h = p.out_w = (sh->hw + 2 * (sh->k / 2) - sh->k) / sh->stride + 1;
    p.act.kind = ACT_RELU;
    p.act.a = p.act.b = 0.0f;
    size_t nin = (size_t)sh->hw * sh->hw * sh->c;
    float *in = calloc(nin, sizeof(float));
    float *w = calloc((size_t)sh->c * sh->k * sh->k, sizeof(float));
    float *packed = calloc(k->dw_packed_floats(sh->c, sh->k), sizeof(float));
    float *out = calloc((size_t)p.out_h * p.out_w * sh->c, sizeof(float));
    if (!in || !w || !packed || !out) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    k->dw_pack(w, NULL, sh->c, sh->k, packed);
    k->dw_run(&p, in, packed, out);
    double per = 1e30, t_total = 0.0;
    while (t_total < min_t) {
        double t0 = now();
        k->dw_run(&p, in, packed, out);
        double t = now() - t0;
        t_total += t;
        if (t < per)
            per = t;
    }
    free(in);
    free(w);
    free(packed);
    free(out);
    return per;
}

static void bench_dw(double min_t)
{
    printf("\ndepthwise (ReLU fused)    %9s %9s %8s\n", "simd us", "ref us", "speedup");
    double ts = 0.0, tr = 0.0;
    for (size_t s = 0; s < sizeof dw_shapes / sizeof dw_shapes[0]; s++) {
        const dw_shape *sh = &dw_shapes[s];
        double a = time_dw(&mnas_kernels_simd, sh, min_t);
        double b = time_dw(&mnas_kernels_ref, sh, min_t);
        printf("%3dx%-3d c=%-4d k=%d s=%d x%d %9.1f %9.1f %7.1fx\n", sh->hw, sh->hw, sh->c, sh->k,
               sh->stride, sh->count, a * 1e6, b * 1e6, b / a);
        ts += a * sh->count;
        tr += b * sh->count;
    }
    printf("all depthwise of MnasNet-A1: simd %.3f ms, ref %.3f ms\n", ts * 1e3, tr * 1e3);
}

int main(int argc, char **argv)
{
    double min_t = argc > 1 ? atof(argv[1]) : 0.05;
    const mnas_kernels *k = &mnas_kernels_simd;
    double peak = measure_peak_gflops();
    printf("kernels %s, VEC_W %d, measured %s peak %.1f GFLOP/s (1 thread)\n", k->name, VEC_W,
           MNAS_VEC_FUSED_FMA ? "FMA" : "multiply+add", peak);
    printf("%8s %5s %5s %4s %10s %8s\n", "pixels", "ci", "co", "n", "GFLOP/s", "%peak");

    double total_flop = 0.0, total_time = 0.0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const pw_shape *sh = &shapes[s];
        size_t nin = (size_t)sh->pixels * sh->ci, nout = (size_t)sh->pixels * sh->co;
        float *in = malloc(nin * sizeof(float));
        float *w = malloc((size_t)sh->ci * sh->co * sizeof(float));
        float *bias = malloc((size_t)sh->co * sizeof(float));
        float *packed = malloc(k->pw_packed_floats(sh->ci, sh->co) * sizeof(float));
        float *pbias = malloc(k->pw_bias_floats(sh->co) * sizeof(float));
        float *out = malloc(nout * sizeof(float));
        if (!in || !w || !bias || !packed || !pbias || !out) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        for (size_t i = 0; i < nin; i++)
            in[i] = (float)(i % 17) * 0.01f - 0.08f;
        for (size_t i = 0; i < (size_t)sh->ci * sh->co; i++)
            w[i] = (float)(i % 13) * 0.01f - 0.06f;
        for (int i = 0; i < sh->co; i++)
            bias[i] = 0.1f;
        if (!mnas_pw_pack_dense(k, w, NULL, bias, sh->ci, sh->co, packed, pbias)) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        mnas_act relu = {ACT_RELU, 0.0f, 0.0f};

        k->pw_run(in, sh->pixels, sh->ci, packed, pbias, sh->co, relu, NULL, out); /* warm up */
        /* Best time per call over many calls (see measure_peak_gflops). */
        double per = 1e30, t_total = 0.0;
        while (t_total < min_t) {
            double t0 = now();
            k->pw_run(in, sh->pixels, sh->ci, packed, pbias, sh->co, relu, NULL, out);
            double t = now() - t0;
            t_total += t;
            if (t < per)
                per = t;
        }
        double flop = 2.0 * sh->pixels * sh->ci * sh->co;
        double gf = flop / per * 1e-9;
        printf("%8d %5d %5d %4d %10.1f %7.1f%%\n", sh->pixels, sh->ci, sh->co, sh->count, gf,
               100.0 * gf / peak);
        total_flop += flop * sh->count;
        total_time += per * sh->count;
        free(in);
        free(w);
        free(bias);
        free(packed);
        free(pbias);
        free(out);
    }
    double gf = total_flop / total_time * 1e-9;
    printf("all 1x1 of MnasNet-A1: %.1f MFLOP in %.3f ms: %.1f GFLOP/s, %.1f%% of peak\n",
           total_flop * 1e-6, total_time * 1e3, gf, 100.0 * gf / peak);
    bench_dw(min_t);
    return 0;
}
