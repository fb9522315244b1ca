/* Graph comparison for round-trip tests: what onnx/write.c writes must read
 * back as the same graph (see graph_compare.h). Differences are printed to
 * stderr so that a failed CHECK says which value or node differs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "graph_compare.h"

static int same_f(float a, float b)
{
    return check_fbits(a) == check_fbits(b) || (isnan(a) && isnan(b));
}

static int same_value(const graph_value *a, const graph_value *b, const char *ctx)
{
    int ok = a->is_const == b->is_const && a->dtype == b->dtype && a->ndim == b->ndim && a->count == b->count;
    for (int d = 0; ok && d < a->ndim; d++)
        ok = a->dims[d] == b->dims[d];
    for (size_t k = 0; ok && a->is_const && k < a->count; k++)
        ok = a->f ? (b->f && same_f(a->f[k], b->f[k])) : (b->i && a->i[k] == b->i[k]);
    if (!ok)
        fprintf(stderr, "  value '%s' differs (%s): const %d/%d dtype %d/%d ndim %d/%d count %zu/%zu\n", a->name,
                ctx, a->is_const, b->is_const, a->dtype, b->dtype, a->ndim, b->ndim, a->count, b->count);
    return ok;
}

static const char *vn(const graph *g, int idx) { return idx >= 0 ? g->values[idx].name : ""; }

static int same_attr(const graph *ga, const graph_attr *a, const graph *gb, const graph_attr *b)
{
    if (!b || a->type != b->type)
        return 0;
    switch (a->type) {
    case ATTR_FLOAT: return same_f(a->f, b->f);
    case ATTR_INT: return a->i == b->i;
    case ATTR_STRING: return strcmp(a->s, b->s) == 0;
    case ATTR_TENSOR: return same_value(&ga->values[a->tensor], &gb->values[b->tensor], "attr");
    case ATTR_FLOATS:
    case ATTR_INTS:
        if (a->n != b->n)
            return 0;
        for (int k = 0; k < a->n; k++)
            if (a->type == ATTR_FLOATS ? !same_f(a->floats[k], b->floats[k]) : a->ints[k] != b->ints[k])
                return 0;
        return 1;
    default: return 0;
    }
}

int same_graph(const graph *a, const graph *b, const char *ctx)
{
    int ok = 1;
    if (a->opset != b->opset || a->ir_version != b->ir_version || strcmp(a->producer, b->producer) ||
        a->n_nodes != b->n_nodes || a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs ||
        a->n_props != b->n_props) {
        fprintf(stderr, "  %s: header differs: opset %lld/%lld nodes %d/%d props %d/%d\n", ctx, (long long)a->opset,
                (long long)b->opset, a->n_nodes, b->n_nodes, a->n_props, b->n_props);
        return 0;
    }
    int named_a = 0, named_b = 0;
    for (int k = 0; k < a->n_values; k++) {
        const graph_value *v = &a->values[k];
        if (!v->name[0])
            continue;
        named_a++;
        int j = mnas_graph_find_value(b, v->name);
        if (j < 0) {
            fprintf(stderr, "  %s: value '%s' missing\n", ctx, v->name);
            ok = 0;
        } else {
            ok &= same_value(v, &b->values[j], ctx);
        }
    }
    for (int k = 0; k < b->n_values; k++)
        named_b += b->values[k].name[0] != 0;
    ok &= named_a == named_b;
    for (int k = 0; ok && k < a->n_nodes; k++) {
        const graph_node *x = &a->nodes[k], *y = &b->nodes[k];
        ok = strcmp(x->name, y->name) == 0 && strcmp(x->op, y->op) == 0 && strcmp(x->domain, y->domain) == 0 &&
             x->n_in == y->n_in && x->n_out == y->n_out && x->n_attr == y->n_attr;
        for (int j = 0; ok && j < x->n_in; j++)
            ok = strcmp(vn(a, x->in[j]), vn(b, y->in[j])) == 0;
        for (int j = 0; ok && j < x->n_out; j++)
            ok = strcmp(vn(a, x->out[j]), vn(b, y->out[j])) == 0;
        for (int j = 0; ok && j < x->n_attr; j++)
            ok = same_attr(a, &x->attr[j], b, mnas_graph_node_attr(y, x->attr[j].name));
        if (!ok)
            fprintf(stderr, "  %s: node #%d '%s' differs\n", ctx, k, x->name);
    }
    for (int k = 0; ok && k < a->n_inputs; k++)
        ok = strcmp(vn(a, a->inputs[k]), vn(b, b->inputs[k])) == 0;
    for (int k = 0; ok && k < a->n_outputs; k++)
        ok = strcmp(vn(a, a->outputs[k]), vn(b, b->outputs[k])) == 0;
    for (int k = 0; ok && k < a->n_props; k++)
        ok = strcmp(a->props[k].key, b->props[k].key) == 0 && strcmp(a->props[k].value, b->props[k].value) == 0;
    return ok;
}
