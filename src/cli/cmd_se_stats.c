/* mnas se-stats: how class-specific the gating of each squeeze-and-
 * excitation block is over a labelled image set (a CIFAR-10 binary file, or
 * a folder with one sub-folder of images per class), after the SENet
 * paper's look at the role of excitation, and each class's mean gates; the
 * numbers of the demo's "Excitation by class" view for a whole test split,
 * computed natively. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cifar_file.h"
#include "cli.h"
#include "image.h"
#include "npy.h"

const char cmd_se_stats_usage[] =
    "usage: mnas se-stats MODEL INPUT [options]\n"
    "\n"
    "Class-specificity of every SE block's gates over labelled images: the share of\n"
    "the gates' variance (summed over the block's channels) that lies between the\n"
    "class means; 0 when every class is gated alike, 1 when the gates tell the\n"
    "classes apart completely. The definition of the demo's Excitation by class view\n"
    "(web/app/class-stats.js) and of tools/se_class_stats.mjs.\n"
    "\n"
    "INPUT is a CIFAR-10 binary file (test_batch.bin layout, as eval-cifar reads;\n"
    "classes by label: airplane .. truck), or a folder with one sub-folder of images\n"
    "per class (classes: the sub-folder names, sorted; images: the .png, .jpg, .jpeg\n"
    "and .ppm files in them, resized to the model's input as mnas run does; hidden\n"
    "entries are skipped).\n"
    "\n"
    "options:\n"
    "  --limit N                  use N images, 1..100000000, spread evenly over the\n"
    "                             file or the folders (image i * total / N), so every\n"
    "                             class keeps its share\n"
    "  --save DIR                 write DIR/se00.npy, se01.npy, ... (one per SE block, in\n"
    "                             the order of mnas run --save-se): float32, shape\n"
    "                             (classes, channels), each row a class's mean gates, and\n"
    "                             DIR/classes.txt, the class of each row, one a line;\n"
    "                             classes with no images are left out. DIR is created\n"
    "                             (with its parents) before the run\n"
    "\n" CLI_MODEL_OPTIONS_HELP;

typedef struct {
    long limit;
    const char *save;
} stats_args;

static int stats_option(void *args, int argc, char **argv, int *i)
{
    stats_args *a = args;
    if (strcmp(argv[*i], "--limit") == 0)
        return cli_option_int(argc, argv, i, 1, 100000000, &a->limit) ? -1 : 1;
    if (strcmp(argv[*i], "--save") == 0)
        return (a->save = cli_option_value(argc, argv, i, "a directory")) ? 1 : -1;
    return 0;
}

static const cli_command stats_command = {"se-stats", 2, 1, stats_option};

/* A growing list of owned strings. */
typedef struct {
    char **items;
    int n, cap;
} name_list;

static int list_push(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 16;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    if (!(l->items[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static void list_free(name_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *name)
{
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".ppm"};
    const size_t n = strlen(name);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        const size_t k = strlen(ext[i]);
        if (n > k && strcasecmp(name + n - k, ext[i]) == 0)
            return 1;
    }
    return 0;
}

/* The sub-folders (dirs) or image files (!dirs) of dir, sorted by name,
 * hidden entries skipped: 0, or 1 after a message naming the folder. */
static int list_dir(const char *dir, int dirs, name_list *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return cli_error("cannot open folder %s: %s", dir, strerror(errno));
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (e->d_name[0] == '.' || (!dirs && !is_image_name(e->d_name)))
            continue;
        char path[4096];
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            rc = cli_error("%s/%s: %s", dir, e->d_name, strerror(ENAMETOOLONG));
        else if (stat(path, &sb))
            rc = cli_error("cannot open %s: %s", path, strerror(errno));
        else if ((dirs ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode)) && list_push(out, e->d_name))
            rc = cli_error("out of memory");
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->items, (size_t)out->n, sizeof *out->items, compare_names);
    return rc;
}

/* The labelled images: the records of a CIFAR-10 file, or the files of a
 * folder's class folders, class by class. */
typedef struct {
    const char *path;
    int folder;                 /* else a CIFAR-10 file */
    cifar_file cf;
    int n_classes;
    const char *const *class_names;
    name_list classes, files;   /* folder: sub-folder names, image paths */
    int *file_class;
    long total;
} image_set;

/* Every image of every class folder of s->path. */
static int open_folder(image_set *s)
{
    if (list_dir(s->path, 1, &s->classes))
        return 1;
    if (!s->classes.n)
        return cli_error("%s: no class folders (se-stats takes one sub-folder of images per class)", s->path);
    for (int k = 0; k < s->classes.n; k++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", s->path, s->classes.items[k]);
        name_list names = {NULL, 0, 0};
        int rc = list_dir(dir, 0, &names);
        if (!rc && !names.n)
            rc = cli_error("%s: no images (.png, .jpg, .jpeg or .ppm files)", dir);
        int *cls = rc ? NULL : realloc(s->file_class, (size_t)(s->files.n + names.n) * sizeof *cls);
        if (!rc && !cls)
            rc = cli_error("out of memory");
        if (cls)
            s->file_class = cls;
        for (int i = 0; !rc && i < names.n; i++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, names.items[i]);
            s->file_class[s->files.n] = k;
            if (list_push(&s->files, path))
                rc = cli_error("out of memory");
        }
        list_free(&names);
        if (rc)
            return rc;
    }
    s->n_classes = s->classes.n;
    s->class_names = (const char *const *)s->classes.items;
    s->total = s->files.n;
    return 0;
}

static int open_set(const char *path, image_set *s)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    struct stat sb;
    s->folder = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (s->folder)
        return open_folder(s);
    if (cifar_open(path, &s->cf))
        return 1;
    s->n_classes = CIFAR_CLASSES;
    s->class_names = cifar_class_names;
    s->total = s->cf.total;
    return 0;
}

static void close_set(image_set *s)
{
    cifar_close(&s->cf);
    list_free(&s->classes);
    list_free(&s->files);
    free(s->file_class);
}

/* Run image `index` of the set through the model; its class. */
static int run_image(mnas_model *m, image_set *s, long index, int *cls)
{
    char err[512];
    if (s->folder) {
        const char *path = s->files.items[index];
        image_rgb img;
        if (image_read(path, &img, err, sizeof err))
            return cli_error("%s", err);
        const mnas_status st = mnas_run_image(m, img.rgb, img.width, img.height, 0, MNAS_RGB);
        image_free(&img);
        *cls = s->file_class[index];
        return st ? cli_error("%s: %s", path, mnas_error(m)) : 0;
    }
    uint8_t rgb[CIFAR_SIDE * CIFAR_SIDE * 3];
    if (cifar_read_rgb(&s->cf, index, rgb, cls))
        return 1;
    if (mnas_run_image(m, rgb, CIFAR_SIDE, CIFAR_SIDE, 0, MNAS_RGB))
        return cli_error("%s: record %ld: %s", s->path, index, mnas_error(m));
    return 0;
}

/* Per class, the count and the per-gate sum and sum of squares in double
 * over the gates of every SE block packed one after the other (block b at
 * offset[b]), as web/app/class-stats.js keeps them: memory per class does
 * not grow with its images, and double sums keep 10,000 images exact
 * enough for the one-pass variance below. */
typedef struct {
    int n_blocks, size;
    int *offset;                /* n_blocks + 1 */
    long *count;                /* per class */
    double *sum, *sum_sq;       /* [class][size] */
} gate_sums;

static int sums_init(gate_sums *g, mnas_model *m, int n_classes)
{
    g->n_blocks = mnas_se_count(m);
    if (!(g->offset = malloc((size_t)(g->n_blocks + 1) * sizeof *g->offset)))
        return -1;
    g->offset[0] = 0;
    for (int b = 0; b < g->n_blocks; b++) {
        mnas_se_block blk;
        mnas_get_se(m, b, &blk);
        g->offset[b + 1] = g->offset[b] + blk.channels;
    }
    g->size = g->offset[g->n_blocks];
    g->count = calloc((size_t)n_classes, sizeof *g->count);
    g->sum = calloc((size_t)n_classes * g->size, sizeof *g->sum);
    g->sum_sq = calloc((size_t)n_classes * g->size, sizeof *g->sum_sq);
    return g->count && g->sum && g->sum_sq ? 0 : -1;
}

static void sums_free(gate_sums *g)
{
    free(g->offset);
    free(g->count);
    free(g->sum);
    free(g->sum_sq);
}

/* The gates of the last run, into class cls. */
static void sums_add(gate_sums *g, mnas_model *m, int cls)
{
    double *sum = g->sum + (size_t)cls * g->size, *sq = g->sum_sq + (size_t)cls * g->size;
    for (int b = 0; b < g->n_blocks; b++) {
        mnas_se_block blk;
        mnas_get_se(m, b, &blk);
        for (int j = 0; j < blk.channels; j++) {
            const double x = blk.values[j];
            sum[g->offset[b] + j] += x;
            sq[g->offset[b] + j] += x * x;
        }
    }
    g->count[cls]++;
}

/* Class-specificity of block b: exactly blockStats() of
 * web/app/class-stats.js, so the CLI, the demo and tools/se_class_stats.mjs
 * give the same number. Over the classes with images, per channel,
 *   between = sum_c n_c (m_c - m)^2 / N,  within = sum_c (sum x^2 - n_c m_c^2) / N
 * (the latter clamped at 0 per class against rounding), and the block's
 * specificity is sum between / sum (between + within), 0 when nothing varies. */
static double block_specificity(const gate_sums *g, int n_classes, int b)
{
    long n = 0;
    for (int c = 0; c < n_classes; c++)
        n += g->count[c];
    double between = 0, total = 0;
    for (int j = g->offset[b]; j < g->offset[b + 1]; j++) {
        double s = 0;
        for (int c = 0; c < n_classes; c++)
            s += g->sum[(size_t)c * g->size + j];
        const double mean = n ? s / (double)n : 0;
        double bv = 0, wv = 0;
        for (int c = 0; c < n_classes; c++) {
            if (!g->count[c])
                continue;
            const double nc = (double)g->count[c], mc = g->sum[(size_t)c * g->size + j] / nc;
            const double rest = g->sum_sq[(size_t)c * g->size + j] - nc * mc * mc;
            bv += nc * (mc - mean) * (mc - mean);
            wv += rest > 0 ? rest : 0;
        }
        bv = n ? bv / (double)n : 0;
        wv = n ? wv / (double)n : 0;
        between += bv;
        total += bv + wv;
    }
    return total > 0 ? between / total : 0;
}

static void print_stats(const cli_common *c, mnas_model *m, const image_set *s, const gate_sums *g, long n, double ms)
{
    if (c->json) {
        printf("{\"model\": ");
        cli_json_string(stdout, c->model);
        printf(", \"input\": ");
        cli_json_string(stdout, s->path);
        printf(", \"images\": %ld, \"ms\": %.1f, \"classes\": [", n, ms);
        for (int k = 0, first = 1; k < s->n_classes; k++) {
            if (!g->count[k])
                continue;
            printf("%s{\"name\": ", first ? "" : ", ");
            cli_json_string(stdout, s->class_names[k]);
            printf(", \"images\": %ld}", g->count[k]);
            first = 0;
        }
        printf("], \"blocks\": [");
        for (int b = 0; b < g->n_blocks; b++) {
            mnas_se_block blk;
            mnas_get_se(m, b, &blk);
            printf("%s{\"name\": ", b ? ", " : "");
            cli_json_string(stdout, blk.name);
            printf(", \"channels\": %d, \"specificity\": %.17g}", blk.channels, block_specificity(g, s->n_classes, b));
        }
        printf("]}\n");
        return;
    }
    int used = 0;
    for (int k = 0; k < s->n_classes; k++)
        used += g->count[k] > 0;
    printf("%ld images, %d classes, in %.1f s\n", n, used, ms / 1e3);
    for (int k = 0; k < s->n_classes; k++)
        if (g->count[k])
            printf("  %-24s %6ld images\n", s->class_names[k], g->count[k]);
    printf("\n  %-24s %8s  %s\n", "SE block", "channels", "class-specificity");
    for (int b = 0; b < g->n_blocks; b++) {
        mnas_se_block blk;
        mnas_get_se(m, b, &blk);
        printf("  %-24s %8d  %.4f\n", blk.name, blk.channels, block_specificity(g, s->n_classes, b));
    }
}

/* DIR/seNN.npy: the mean gates of each class with images, one row each;
 * DIR/classes.txt: which class each row is. */
static int save_means(const char *dir, const image_set *s, const gate_sums *g)
{
    char path[4096], err[512];
    int used = 0;
    snprintf(path, sizeof path, "%s/classes.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return cli_error("cannot create %s: %s", path, strerror(errno));
    for (int k = 0; k < s->n_classes; k++)
        if (g->count[k]) {
            fprintf(f, "%s\n", s->class_names[k]);
            used++;
        }
    if (fclose(f))
        return cli_error("cannot write %s: %s", path, strerror(errno));
    float *rows = malloc((size_t)used * g->size * sizeof *rows);
    if (!rows)
        return cli_error("out of memory");
    int rc = 0;
    for (int b = 0; !rc && b < g->n_blocks; b++) {
        const int ch = g->offset[b + 1] - g->offset[b];
        for (int k = 0, r = 0; k < s->n_classes; k++) {
            if (!g->count[k])
                continue;
            for (int j = 0; j < ch; j++)
                rows[(size_t)r * ch + j] =
                    (float)(g->sum[(size_t)k * g->size + g->offset[b] + j] / (double)g->count[k]);
            r++;
        }
        snprintf(path, sizeof path, "%s/se%02d.npy", dir, b);
        const int64_t dims[2] = {used, ch};
        if (npy_write_f32(path, rows, 2, dims, err, sizeof err))
            rc = cli_error("%s", err);
    }
    free(rows);
    return rc;
}

/* The model, with SE blocks: NULL after the message otherwise. */
static mnas_model *load_with_se(const cli_common *c)
{
    mnas_model *m = cli_load(c);
    if (m && mnas_se_count(m) == 0) {
        cli_error("%s: the model has no squeeze-and-excitation blocks; se-stats measures their gates", c->model);
        mnas_free(m);
        return NULL;
    }
    return m;
}

int cmd_se_stats(int argc, char **argv)
{
    cli_common c;
    memset(&c, 0, sizeof c);
    stats_args a = {-1, NULL};
    const int parsed = cli_parse(&stats_command, argc, argv, &a, &c);
    if (parsed != CLI_PARSED)
        return cli_parse_exit(parsed, cmd_se_stats_usage);
    if (a.save && cli_make_dirs(a.save))
        return 1;
    image_set s;
    int rc = open_set(c.positional[1], &s);
    mnas_model *m = rc ? NULL : load_with_se(&c);
    gate_sums g;
    memset(&g, 0, sizeof g);
    if (!rc && !m)
        rc = 1;
    if (!rc && sums_init(&g, m, s.n_classes))
        rc = cli_error("out of memory");
    const long n = cli_spread_count(a.limit, s.total);
    const double t0 = cli_now_ms();
    for (long i = 0; !rc && i < n; i++) {
        int cls = 0;
        rc = run_image(m, &s, cli_spread_index(i, n, s.total), &cls);
        if (!rc)
            sums_add(&g, m, cls);
    }
    if (!rc)
        print_stats(&c, m, &s, &g, n, cli_now_ms() - t0);
    if (!rc && a.save)
        rc = save_means(a.save, &s, &g);
    sums_free(&g);
    close_set(&s);
    mnas_free(m);
    return rc;
}
