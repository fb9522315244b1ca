/* A graph's strings and small arrays come from a bump allocator and are
 * freed together by mnas_graph_free. Reading a model makes a few thousand of
 * them (names, node inputs/outputs, attributes); one malloc each was a
 * measurable part of a load in WebAssembly, where the allocator runs as
 * baseline code during a cold start. */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

#define BUMP_ALIGN 16
#define BUMP_FIRST ((size_t)64 << 10)
#define BUMP_MAX_STEP ((size_t)1 << 20)

struct graph_chunk {
    graph_chunk *next;
    size_t used, cap;
};

/* Data starts at the first aligned offset after the header. */
#define CHUNK_HEAD ((sizeof(graph_chunk) + BUMP_ALIGN - 1) & ~(size_t)(BUMP_ALIGN - 1))

static unsigned char *chunk_data(graph_chunk *c)
{
    return (unsigned char *)c + CHUNK_HEAD;
}

static graph_chunk *chunk_new(size_t cap)
{
    if (cap > SIZE_MAX - CHUNK_HEAD)
        return NULL;
    graph_chunk *c = malloc(CHUNK_HEAD + cap);
    if (c) {
        c->next = NULL;
        c->used = 0;
        c->cap = cap;
    }
    return c;
}

void *mnas_graph_alloc(graph *g, size_t n)
{
    if (n > SIZE_MAX - BUMP_ALIGN)
        return NULL;
    n = (n + BUMP_ALIGN - 1) & ~(size_t)(BUMP_ALIGN - 1);
    if (n == 0)
        n = BUMP_ALIGN;
    graph_chunk *head = g->chunks;
    if (head && head->cap - head->used >= n) {
        void *p = chunk_data(head) + head->used;
        head->used += n;
        return p;
    }
    /* a large block gets a chunk of its own behind the head, so the head's
     * free space stays in use for the small ones */
    const size_t step = head ? (head->cap < BUMP_MAX_STEP ? head->cap * 2 : BUMP_MAX_STEP) : BUMP_FIRST;
    if (head && n > step / 4) {
        graph_chunk *c = chunk_new(n);
        if (!c)
            return NULL;
        c->used = n;
        c->next = head->next;
        head->next = c;
        return chunk_data(c);
    }
    graph_chunk *c = chunk_new(n > step ? n : step);
    if (!c)
        return NULL;
    c->used = n;
    c->next = head;
    g->chunks = c;
    return chunk_data(c);
}

void *mnas_graph_calloc(graph *g, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = mnas_graph_alloc(g, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *mnas_graph_strndup(graph *g, const char *s, size_t n)
{
    char *d = mnas_graph_alloc(g, n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void mnas_graph_bump_free(graph *g)
{
    for (graph_chunk *c = g->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    g->chunks = NULL;
}
