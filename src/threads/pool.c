#define _POSIX_C_SOURCE 200809L
/* The pool's protocol (pool.h). One parallel loop at a time, published in
 * one atomic word, the state: the loop's generation, whether it is still
 * open, and how many workers have joined it.
 *
 *   caller                                   worker i
 *   job = (fn, ctx, n); shares reset
 *   state = (gen + 1, open, 0)       ──▶     sees a new generation; i < threads?
 *                                            joins: state (g, open, k) -> (g, open, k + 1)
 *   claims tasks: its share, then            claims tasks: its share, then
 *   the others'                              the others'
 *   closes: state |= closed
 *   waits until no worker is joined  ◀──     leaves: state -= 1
 *
 * A worker reads the job only after it has joined, and the caller rewrites
 * the job only after the loop is closed and every joined worker has left,
 * so a worker always reads the job of the generation it joined. A worker
 * that comes late (asleep, or descheduled by another process on its core)
 * finds the loop closed and skips it: the caller never waits for a thread
 * that has no task, which keeps a busy machine from stretching every step
 * to the length of a scheduler time slice.
 *
 * Thread t's share is the t-th contiguous run of the tasks. Callers cut a
 * step's output in order (rows, pixels), so a thread tends to work on the
 * same region of the image step after step and finds its input in its own
 * cache; a thread that is done, or the caller of a loop a worker has not
 * joined, takes the rest of the others' shares, front first.
 *
 * Waiting spins first (steps follow each other within microseconds), then
 * parks (between runs). The caller parks only where it may block: a
 * WebAssembly caller can be a browser's main thread, where waiting traps,
 * so there it spins until the workers it waits for are done. */
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

/* The state word: generation << 8 | closed << 7 | workers joined. */
#define STATE_JOINED 0x7fu
#define STATE_CLOSED 0x80u
#define STATE_GEN(s) ((s) >> 8)
#if MNAS_POOL_MAX > 0x7f
#error "the state word counts joined workers in 7 bits"
#endif

/* How long a waiting thread spins before it parks. Natively by the clock;
 * WebAssembly has none without a call out to JavaScript, so by count
 * (roughly 50-150 us of atomic loads). */
#define SPIN_NS 200000L
#define SPIN_ITERS (1L << 16)

struct mnas_pool {
    int size;
    unsigned gen;        /* loops published so far (the caller's own) */
    /* The job: written by the caller before it publishes a generation. */
    mnas_task_fn fn;
    void *ctx;
    alignas(64) atomic_uint state;
    atomic_int threads;  /* threads of the current loop, the caller included */
    atomic_int stop;
    /* Per thread of the loop: the next task of its share, and the share's end. */
    struct pool_share {
        alignas(64) atomic_int next;
        int end;
    } share[MNAS_POOL_MAX];
    int n_shares;
    alignas(64) atomic_uint exited;  /* host threads that have left mnas_pool_work */
    atomic_int taken[MNAS_POOL_MAX];
    mnas_park park_workers, park_caller;
#if defined(POOL_PTHREADS)
    int started;
    pthread_t handles[MNAS_POOL_MAX];
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

/* Returns *word once `differs` says it has changed from old (acquire);
 * spin = 0 parks at once, may_park = 0 never parks. */
static unsigned await_word(mnas_park *park, atomic_uint *word, unsigned old, int spin, int may_park,
                           int (*differs)(unsigned now, unsigned old))
{
    unsigned v;
#if defined(POOL_PTHREADS)
    if (spin) {
        const long t0 = now_ns();
        for (long i = 1;; i++) {
            v = atomic_load_explicit(word, memory_order_acquire);
            if (differs(v, old))
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
        if (differs(v, old))
            return v;
        mnas_park_pause();
    }
#endif
    for (;;) {
        v = atomic_load_explicit(word, memory_order_acquire);
        if (differs(v, old))
            return v;
        if (may_park)
            mnas_park_wait(park, word, v);
        else
            mnas_park_pause();
    }
}

static int new_generation(unsigned now, unsigned old)
{
    return STATE_GEN(now) != STATE_GEN(old);
}

/* `old` is unused: the caller waits for the joined count to reach 0. */
static int all_left(unsigned now, unsigned old)
{
    (void)old;
    return (now & STATE_JOINED) == 0;
}

/* Thread `own`: its share first, then every other share in turn. */
static void claim_tasks(mnas_pool *p, int own)
{
    const mnas_task_fn fn = p->fn;
    void *const ctx = p->ctx;
    const int shares = p->n_shares;
    for (int k = 0; k < shares; k++) {
        struct pool_share *sh = &p->share[(own + k) % shares];
        for (;;) {
            const int t = atomic_fetch_add_explicit(&sh->next, 1, memory_order_relaxed);
            if (t >= sh->end)
                break;
            fn(ctx, t);
        }
    }
}

/* Joins the open loop of generation STATE_GEN(s); 0 when it closed (or
 * a newer one began) first. */
static int join(mnas_pool *p, unsigned s)
{
    const unsigned gen = STATE_GEN(s);
    while (STATE_GEN(s) == gen && !(s & STATE_CLOSED))
        if (atomic_compare_exchange_weak(&p->state, &s, s + 1))
            return 1;
    return 0;
}

static void worker_loop(mnas_pool *p, int index)
{
    unsigned seen = 0; /* generation 0: no loop published yet */
    int named = 1;     /* in the last loop seen: spin for the next one */
    for (;;) {
        const unsigned s = await_word(&p->park_workers, &p->state, seen << 8, named, 1, new_generation);
        seen = STATE_GEN(s);
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            return;
        named = index < atomic_load_explicit(&p->threads, memory_order_relaxed);
        if (!named || !join(p, s))
            continue;
        claim_tasks(p, index);
        const unsigned left = atomic_fetch_sub(&p->state, 1) - 1;
        if ((left & STATE_JOINED) == 0)
            mnas_park_wake(&p->park_caller, &p->state);
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
    p->n_shares = threads;
    for (int t = 0; t < threads; t++) {
        atomic_store_explicit(&p->share[t].next, (int)((long)n_tasks * t / threads), memory_order_relaxed);
        p->share[t].end = (int)((long)n_tasks * (t + 1) / threads);
    }
    atomic_store_explicit(&p->threads, threads, memory_order_relaxed);
    p->gen++;
    atomic_store(&p->state, p->gen << 8);
    mnas_park_wake(&p->park_workers, &p->state);
    claim_tasks(p, 0);
    /* Every task is claimed: no latecomer may join now. */
    const unsigned s = atomic_fetch_or(&p->state, STATE_CLOSED) | STATE_CLOSED;
    if (s & STATE_JOINED)
        await_word(&p->park_caller, &p->state, s, 1, POOL_CALLER_PARKS, all_left);
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
    p->gen++;
    atomic_store(&p->state, (p->gen << 8) | STATE_CLOSED);
    mnas_park_wake(&p->park_workers, &p->state);
#if defined(POOL_PTHREADS)
    for (int i = 1; i < p->started; i++)
        pthread_join(p->handles[i], NULL);
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
    atomic_init(&p->state, 0);
    atomic_init(&p->threads, 0);
    atomic_init(&p->stop, 0);
    for (int i = 0; i < MNAS_POOL_MAX; i++)
        atomic_init(&p->share[i].next, 0);
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
        if (pthread_create(&p->handles[i], NULL, thread_main, &p->args[i])) {
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
