/* The graph's own API: finding values by name, a node's attributes, the
 * model's metadata, and freeing it all. Import fills a graph, lowering
 * reads one; both go through these, neither owns them. */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

static uint32_t name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static int name_eq(const char *vname, const char *p, size_t n)
{
    /* strncmp stops at vname's NUL, so a shorter name cannot be over-read. */
    return strncmp(vname, p, n) == 0 && vname[n] == '\0';
}

int mnas_graph_find_value_n(const graph *g, const char *p, size_t n)
{
    if (g->name_index_cap > 0) {
        uint32_t mask = (uint32_t)g->name_index_cap - 1;
        for (uint32_t h = name_hash(p, n) & mask;; h = (h + 1) & mask) {
            int k = g->name_index[h];
            if (k < 0)
                break;
            if (k < g->n_values && name_eq(g->values[k].name, p, n))
                return k;
        }
    }
    int start = g->name_index_cap > 0 ? g->name_index_n : 0;
    for (int k = start; k < g->n_values; k++)
        if (g->values[k].name && name_eq(g->values[k].name, p, n))
            return k;
    return -1;
}

int mnas_graph_find_value(const graph *g, const char *name)
{
    if (!g || !name || !*name)
        return -1;
    return mnas_graph_find_value_n(g, name, strlen(name));
}

const graph_attr *mnas_graph_node_attr(const graph_node *n, const char *name)
{
    if (!n || !name)
        return NULL;
    for (int k = 0; k < n->n_attr; k++)
        if (n->attr[k].name && strcmp(n->attr[k].name, name) == 0)
            return &n->attr[k];
    return NULL;
}

const char *mnas_graph_prop_get(const graph *g, const char *key)
{
    if (!g || !key)
        return NULL;
    /* Later entries win, as with repeated keys in a protobuf map. */
    for (int k = g->n_props - 1; k >= 0; k--)
        if (g->props[k].key && strcmp(g->props[k].key, key) == 0)
            return g->props[k].value;
    return NULL;
}

void mnas_graph_index_insert(graph *g, int idx)
{
    const char *nm = g->values[idx].name;
    uint32_t mask = (uint32_t)g->name_index_cap - 1;
    uint32_t h = name_hash(nm, strlen(nm)) & mask;
    while (g->name_index[h] >= 0)
        h = (h + 1) & mask;
    g->name_index[h] = idx;
}


void mnas_graph_free(graph *g)
{
    if (!g)
        return;
    free(g->values);
    free(g->nodes);
    free(g->props);
    free(g->inputs);
    free(g->outputs);
    free(g->name_index);
    mnas_graph_bump_free(g);
    memset(g, 0, sizeof *g);
}
