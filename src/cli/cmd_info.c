/* mnas info: what a model is once loaded (layers, shapes, parameters,
 * multiply-adds, memory), as text or JSON. */
#include <string.h>

#include "cli.h"

const char cmd_info_usage[] =
    "usage: mnas info MODEL [options]\n"
    "\n"
    "What a model is once loaded: input shape, classes and labels, parameters,\n"
    "multiply-adds, arena bytes, preprocessing, SE blocks and every layer.\n"
    "\n" CLI_MODEL_OPTIONS_HELP;

static const cli_command info_command = {"info", 1, 1, NULL};

/* The words for what the model takes and gives. */
static const char *layout_name(const mnas_stats *s)
{
    return s->input_channels_last ? "NHWC" : "NCHW";
}

static const char *output_name(const mnas_stats *s)
{
    return s->output_is_probabilities ? "probabilities" : "logits";
}

static void print_json(const cli_common *c, mnas_model *m, const mnas_stats *s, int h, int w, int ch)
{
    printf("{\"model\": ");
    cli_json_string(stdout, c->model);
    /* the input as the model declares it */
    const int nhwc = s->input_channels_last;
    printf(", \"version\": \"%s\", \"kernels\": \"%s\", \"input\": [1, %d, %d, %d], \"input_layout\": \"%s\", "
           "\"output\": \"%s\", \"classes\": %d, "
           "\"params\": %lld, \"macs\": %lld, \"arena_bytes\": %lld, \"weight_bytes\": %lld, "
           "\"mean\": [%.9g, %.9g, %.9g], \"std\": [%.9g, %.9g, %.9g], \"source_size\": %d, \"labels\": [",
           mnas_version(), mnas_backend(), nhwc ? h : ch, nhwc ? w : h, nhwc ? ch : w, layout_name(s),
           output_name(s), mnas_num_classes(m), (long long)s->params, (long long)s->macs,
           (long long)s->arena_bytes, (long long)s->weight_bytes, s->mean[0], s->mean[1], s->mean[2], s->std[0],
           s->std[1], s->std[2], s->source_size);
    for (int i = 0; i < mnas_num_classes(m); i++) {
        printf(i ? ", " : "");
        cli_json_string(stdout, mnas_label(m, i));
    }
    printf("], \"se_blocks\": [");
    for (int i = 0; i < s->se_blocks; i++) {
        mnas_se_block b;
        mnas_get_se(m, i, &b);
        printf("%s{\"name\": ", i ? ", " : "");
        cli_json_string(stdout, b.name);
        printf(", \"channels\": %d, \"height\": %d, \"width\": %d}", b.channels, b.height, b.width);
    }
    printf("], \"layers\": [");
    for (int i = 0; i < s->layers; i++) {
        mnas_layer l;
        mnas_get_layer(m, i, &l);
        printf("%s\n  {\"name\": ", i ? "," : "");
        cli_json_string(stdout, l.name);
        printf(", \"kind\": \"%s\", \"category\": \"%s\", \"kernel\": %d, \"stride\": %d, \"in\": [%d, %d, %d], "
               "\"out\": [%d, %d, %d], \"params\": %lld, \"macs\": %lld, \"fused_with\": %d}",
               l.kind, l.category, l.kh, l.stride, l.in_c, l.in_h, l.in_w, l.out_c, l.out_h, l.out_w,
               (long long)l.params, (long long)l.macs, l.fused_with);
    }
    printf("]}\n");
}

static void print_text(const cli_common *c, mnas_model *m, const mnas_stats *s, int h, int w, int ch)
{
    printf("model        %s\n", c->model);
    if (s->input_channels_last)
        printf("input        1x%dx%dx%d (NHWC float, channels last as the model declares)\n", h, w, ch);
    else
        printf("input        1x%dx%dx%d (NCHW float)\n", ch, h, w);
    printf("output       %s\n", s->output_is_probabilities ? "probabilities (the model ends in a Softmax)" : "logits");
    printf("classes      %d (%s, %s, ...)\n", mnas_num_classes(m), mnas_label(m, 0),
           mnas_num_classes(m) > 1 ? mnas_label(m, 1) : "");
    printf("params       %lld\n", (long long)s->params);
    printf("multiply-add %lld (%.1f M)\n", (long long)s->macs, (double)s->macs / 1e6);
    printf("arena        %lld bytes, packed weights %lld bytes\n", (long long)s->arena_bytes,
           (long long)s->weight_bytes);
    printf("preprocess   mean %.4g,%.4g,%.4g std %.4g,%.4g,%.4g source size %d\n", s->mean[0], s->mean[1],
           s->mean[2], s->std[0], s->std[1], s->std[2], s->source_size);
    printf("kernels      %s\n", mnas_backend());
    printf("SE blocks    %d\n", s->se_blocks);
    for (int i = 0; i < s->se_blocks; i++) {
        mnas_se_block b;
        mnas_get_se(m, i, &b);
        printf("  %-24s %4d channels on %dx%d\n", b.name, b.channels, b.height, b.width);
    }
    printf("\n%-4s %-28s %-8s %-6s %-16s %-16s %10s %12s  %s\n", "#", "layer", "kind", "k/s", "in (CxHxW)",
           "out (CxHxW)", "params", "MACs", "fused");
    for (int i = 0; i < s->layers; i++) {
        mnas_layer l;
        mnas_get_layer(m, i, &l);
        char in[32], out[32], ks[16];
        snprintf(in, sizeof in, "%dx%dx%d", l.in_c, l.in_h, l.in_w);
        snprintf(out, sizeof out, "%dx%dx%d", l.out_c, l.out_h, l.out_w);
        snprintf(ks, sizeof ks, "%d/%d", l.kh, l.stride);
        /* a fused block's layers are marked with its first layer's number */
        char fused[16] = "";
        if (l.fused_with >= 0)
            snprintf(fused, sizeof fused, "#%d", l.fused_with);
        printf("%-4d %-28.28s %-8s %-6s %-16s %-16s %10lld %12lld  %s\n", i, l.name, l.kind, ks, in, out,
               (long long)l.params, (long long)l.macs, fused);
    }
}

int cmd_info(int argc, char **argv)
{
    cli_common c;
    memset(&c, 0, sizeof c);
    const int parsed = cli_parse(&info_command, argc, argv, NULL, &c);
    if (parsed != CLI_PARSED)
        return cli_parse_exit(parsed, cmd_info_usage);
    mnas_model *m = cli_load(&c);
    if (!m)
        return 1;
    mnas_stats s;
    int h, w, ch;
    mnas_get_stats(m, &s);
    mnas_input_shape(m, &h, &w, &ch);
    (c.json ? print_json : print_text)(&c, m, &s, h, w, ch);
    mnas_free(m);
    return 0;
}
