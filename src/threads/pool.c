#define _POSIX_C_SOURCE 200809L
/* The pool's protocol (pool.h). One parallel loop at a time:
 *
 *   caller                                  worker i
 *   job = (fn, ctx, n); next = 0;
 *   pending = threads - 1;
 *   gen = (++counter << 8) | threads  ──▶   sees gen change; i < threads?
 *   claims tasks from next                  claims tasks from next
 *   waits for pending == 0           ◀──    pending -= 1
 *
 * The thread count rides in the generation word, so a worker learns from
 * one atomic load whether the loop is its business; the caller rewrites
 * the job only after every worker it named has counted itself out, so a
 * worker that reads the job after seeing its generation reads that job.
 * A loop can only be superseded once its workers have acknowledged it, so
 * no worker misses a generation that names it.
 *
 * Waiting spins first (steps follow each other within microseconds), then
 * parks (between runs). The caller parks only where it may block: a
 * WebAssembly caller can be a browser's main thread, where waiting traps,
 * so there it spins until the workers are done. */
#include "threads/pool.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "threads/park.h"

#if defined(MNAS_PARK_POSIX)
#define POOL_PTHREADS 1
#define POOL_CALLER_PARKS 1
#include <sched.h>
#include <time.h>
#include <unistd.h>
#else
#define POOL_CALLER_PARKS 0
#endif

#if MNAS_THREADS

#define GEN_THREADS_MASK 0xffu
#if MNAS_POOL_MAX > 0xff
#error "the generation word holds the thread count in 8 bits"
#endif

/* How long a waiting thread spins before it parks. Natively by the clock;
 * WebAssembly has none without a call out to JavaScript, so by count
 * (roughly 50-150 us of atomic loads). */
#define SPIN_NS 200000L
#define SPIN_ITERS (1L << 16)

struct mnas_pool {
    int size;
    unsigned counter;    /* loops run so far (the caller's own) */
    /* The job: written by the caller before it publishes a generation. */
    mnas_task_fn fn;
    void *ctx;
    int n_tasks;
    alignas(64) atomic_uint gen;
    alignas(64) atomic_int next;
    alignas(64) atomic_uint pending;
    alignas(64) atomic_int stop;
    atomic_uint exited;  /* host threads that have left mnas_pool_work */
    atomic_int taken[MNAS_POOL_MAX];
    mnas_park park_workers, park_caller;
#if defined(POOL_PTHREADS)
    int started;
    pthread_t threads[MNAS_POOL_MAX];
    struct pool_thread {
        struct mnas_pool *pool;
        int index;
    } args[MNAS_POOL_MAX];
#endif
};

int mnas_pool_spawns_threads(void)
{
#if defined(POOL_PTHREADS)
    return 1;
#else
    return 0;
#endif
}

int mnas_pool_processors(void)
{
#if defined(POOL_PTHREADS) && defined(_SC_NPROCESSORS_ONLN)
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MNAS_POOL_MAX ? MNAS_POOL_MAX : (int)n;
#else
    return 1;
#endif
}

int mnas_pool_size(const mnas_pool *p)
{
    return p ? p->size : 1;
}

#if defined(POOL_PTHREADS)
static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}
#endif

/* Returns *word once it differs from old (acquire). spin = 0 parks at once. */
static unsigned await_change(mnas_park *park, atomic_uint *word, unsigned old, int spin, int may_park)
{
    unsigned v;
#if defined(POOL_PTHREADS)
    if (spin) {
        const long t0 = now_ns();
        for (long i = 1;; i++) {
            v = atomic_load_explicit(word, memory_order_acquire);
            if (v != old)
                return v;
            mnas_park_pause();
            /* More threads than processors (tests run 4 on 2 cores):
             * hand the processor to a thread that has work. */
            if ((i & 31) == 0) {
                sched_yield();
                if (now_ns() - t0 > SPIN_NS)
                    break;
            }
        }
    }
#else
    for (long i = 0; spin && i < SPIN_ITERS; i++) {
        v = atomic_load_explicit(word, memory_order_acquire);
        if (v != old)
            return v;
        mnas_park_pause();
    }
#endif
    for (;;) {
        v = atomic_load_explicit(word, memory_order_acquire);
        if (v != old)
            return v;
        if (may_park)
            mnas_park_wait(park, word, old);
        else
            mnas_park_pause();
    }
}

static void claim_tasks(mnas_pool *p)
{
    const mnas_task_fn fn = p->fn;
    void *const ctx = p->ctx;
    const int n = p->n_tasks;
    for (;;) {
        const int t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= n)
            return;
        fn(ctx, t);
    }
}

static void worker_loop(mnas_pool *p, int index)
{
    unsigned seen = 0; /* the pool's first generation: no loop published yet */
    int named = 1;     /* in the last loop seen: spin for the next one */
    for (;;) {
        const unsigned g = await_change(&p->park_workers, &p->gen, seen, named, 1);
        seen = g;
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            return;
        named = index < (int)(g & GEN_THREADS_MASK);
        if (!named)
            continue;
        claim_tasks(p);
        if (atomic_fetch_sub(&p->pending, 1) == 1)
            mnas_park_wake(&p->park_caller, &p->pending);
    }
}

void mnas_pool_run(mnas_pool *p, int threads, mnas_task_fn fn, void *ctx, int n_tasks)
{
    if (p && threads > p->size)
        threads = p->size;
    if (threads > n_tasks)
        threads = n_tasks;
    if (!p || threads <= 1) {
        for (int t = 0; t < n_tasks; t++)
            fn(ctx, t);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->pending, (unsigned)threads - 1, memory_order_relaxed);
    p->counter++;
    atomic_store(&p->gen, (p->counter << 8) | (unsigned)threads);
    mnas_park_wake(&p->park_workers, &p->gen);
    claim_tasks(p);
    for (unsigned left = atomic_load_explicit(&p->pending, memory_order_acquire); left;
         left = atomic_load_explicit(&p->pending, memory_order_acquire))
        await_change(&p->park_caller, &p->pending, left, 1, POOL_CALLER_PARKS);
}

#if defined(POOL_PTHREADS)
static void *thread_main(void *arg)
{
    const struct pool_thread *t = arg;
    worker_loop(t->pool, t->index);
    return NULL;
}
#endif

/* Tells every worker to leave, then waits until they have. */
static void stop_workers(mnas_pool *p)
{
    atomic_store(&p->stop, 1);
    p->counter++;
    atomic_store(&p->gen, p->counter << 8);
    mnas_park_wake(&p->park_workers, &p->gen);
#if defined(POOL_PTHREADS)
    for (int i = 1; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
#else
    while (atomic_load(&p->exited) < (unsigned)(p->size - 1))
        mnas_park_pause();
#endif
}

mnas_status mnas_pool_create(int size, mnas_pool **out, mnas_err *err)
{
    *out = NULL;
    if (size < 2 || size > MNAS_POOL_MAX)
        return mnas_fail(err, MNAS_E_ARG, "a pool has 2..%d threads, not %d", MNAS_POOL_MAX, size);
    const size_t bytes = (sizeof(mnas_pool) + 63) & ~(size_t)63;
    mnas_pool *p = aligned_alloc(64, bytes);
    if (!p)
        return mnas_fail(err, MNAS_E_NOMEM, "out of memory for a pool of %d threads", size);
    memset(p, 0, sizeof *p);
    p->size = size;
    atomic_init(&p->gen, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->exited, 0);
    for (int i = 0; i < MNAS_POOL_MAX; i++)
        atomic_init(&p->taken[i], 0);
    if (mnas_park_init(&p->park_workers)) {
        free(p);
        return mnas_fail(err, MNAS_E_NOMEM, "cannot create the pool's wait queue");
    }
    if (mnas_park_init(&p->park_caller)) {
        mnas_park_destroy(&p->park_workers);
        free(p);
        return mnas_fail(err, MNAS_E_NOMEM, "cannot create the pool's wait queue");
    }
#if defined(POOL_PTHREADS)
    p->started = 1;
    for (int i = 1; i < size; i++) {
        p->args[i].pool = p;
        p->args[i].index = i;
        if (pthread_create(&p->threads[i], NULL, thread_main, &p->args[i])) {
            stop_workers(p);
            mnas_park_destroy(&p->park_caller);
            mnas_park_destroy(&p->park_workers);
            free(p);
            return mnas_fail(err, MNAS_E_NOMEM, "cannot start thread %d of %d", i + 1, size);
        }
        p->started = i + 1;
    }
#endif
    *out = p;
    return MNAS_OK;
}

void mnas_pool_free(mnas_pool *p)
{
    if (!p)
        return;
    stop_workers(p);
    mnas_park_destroy(&p->park_caller);
    mnas_park_destroy(&p->park_workers);
    free(p);
}

mnas_status mnas_pool_work(mnas_pool *p, int worker, mnas_err *err)
{
    if (mnas_pool_spawns_threads())
        return mnas_fail(err, MNAS_E_STATE, "this build starts its own threads");
    if (!p)
        return mnas_fail(err, MNAS_E_STATE, "no pool: the model runs on one thread");
    if (worker < 1 || worker >= p->size)
        return mnas_fail(err, MNAS_E_ARG, "worker %d: the pool's workers are 1..%d", worker, p->size - 1);
    if (atomic_exchange(&p->taken[worker], 1))
        return mnas_fail(err, MNAS_E_ARG, "worker %d is already running", worker);
    worker_loop(p, worker);
    /* The last touch of the pool: it may be freed as soon as this lands. */
    atomic_fetch_add(&p->exited, 1);
    return MNAS_OK;
}

#else /* a build without threads: every loop runs on the calling thread */

struct mnas_pool {
    int size;
};

int mnas_pool_spawns_threads(void)
{
    return 0;
}

int mnas_pool_processors(void)
{
    return 1;
}

int mnas_pool_size(const mnas_pool *p)
{
    return p ? p->size : 1;
}

mnas_status mnas_pool_create(int size, mnas_pool **out, mnas_err *err)
{
    *out = NULL;
    return mnas_fail(err, MNAS_E_ARG, "threads: %d asked for, but this build runs on one thread only", size);
}

void mnas_pool_free(mnas_pool *p)
{
    (void)p;
}

void mnas_pool_run(mnas_pool *p, int threads, mnas_task_fn fn, void *ctx, int n_tasks)
{
    (void)p;
    (void)threads;
    for (int t = 0; t < n_tasks; t++)
        fn(ctx, t);
}

mnas_status mnas_pool_work(mnas_pool *p, int worker, mnas_err *err)
{
    (void)p;
    (void)worker;
    return mnas_fail(err, MNAS_E_STATE, "this build runs on one thread only");
}

#endif
