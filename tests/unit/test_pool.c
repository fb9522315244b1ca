#define _POSIX_C_SOURCE 200809L
/* The work-sharing pool (src/threads/pool.c) on its own: every task of a
 * loop runs exactly once; a loop for N threads runs on no more than N
 * distinct threads and, when its tasks can only finish together, on N at
 * once; loops follow each other with and without pauses long enough for
 * the workers to fall asleep; pools are created and freed repeatedly. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "threads/pool.h"

static check_state st;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- every task exactly once, on at most `threads` threads ---- */

#define MAX_TASKS 200

typedef struct {
    atomic_int runs[MAX_TASKS];
    atomic_int n_ids;
    pthread_t ids[MNAS_POOL_MAX];
    pthread_mutex_t lock;
} count_ctx;

static void count_task(void *arg, int t)
{
    count_ctx *c = arg;
    atomic_fetch_add(&c->runs[t], 1);
    const pthread_t self = pthread_self();
    pthread_mutex_lock(&c->lock);
    int known = 0;
    for (int i = 0; i < atomic_load(&c->n_ids); i++)
        known |= pthread_equal(c->ids[i], self);
    if (!known && atomic_load(&c->n_ids) < MNAS_POOL_MAX)
        c->ids[atomic_fetch_add(&c->n_ids, 1)] = self;
    pthread_mutex_unlock(&c->lock);
}

static void test_counts(void)
{
    mnas_err err;
    mnas_pool *p = NULL;
    CHECK(&st, mnas_pool_create(4, &p, &err) == MNAS_OK && mnas_pool_size(p) == 4, "create(4): %s", err.msg);
    if (!p)
        return;
    count_ctx c;
    pthread_mutex_init(&c.lock, NULL);
    uint32_t seed = 12345;
    int bad_runs = 0, too_many_threads = 0;
    for (int loop = 0; loop < 3000; loop++) {
        seed = seed * 1664525u + 1013904223u;
        const int n = 1 + (int)(seed >> 8) % MAX_TASKS;
        const int threads = 1 + (int)(seed >> 20) % 5; /* 1..5: 5 is more than the pool has */
        for (int t = 0; t < MAX_TASKS; t++)
            atomic_init(&c.runs[t], 0);
        atomic_init(&c.n_ids, 0);
        mnas_pool_run(p, threads, count_task, &c, n);
        for (int t = 0; t < MAX_TASKS; t++)
            bad_runs += atomic_load(&c.runs[t]) != (t < n);
        too_many_threads += atomic_load(&c.n_ids) > (threads < 4 ? threads : 4);
        /* now and then a pause long enough for the workers to park */
        if (loop % 500 == 499) {
            const struct timespec ms = {0, 2000000};
            nanosleep(&ms, NULL);
        }
    }
    CHECK(&st, bad_runs == 0, "%d tasks did not run exactly once over 3000 loops", bad_runs);
    CHECK(&st, too_many_threads == 0, "%d loops ran on more threads than they asked for", too_many_threads);
    pthread_mutex_destroy(&c.lock);
    mnas_pool_free(p);

    /* no pool: the caller runs every task */
    for (int t = 0; t < MAX_TASKS; t++)
        atomic_init(&c.runs[t], 0);
    atomic_init(&c.n_ids, 0);
    pthread_mutex_init(&c.lock, NULL);
    mnas_pool_run(NULL, 8, count_task, &c, 10);
    int ok = atomic_load(&c.n_ids) == 1 && pthread_equal(c.ids[0], pthread_self());
    for (int t = 0; t < 10; t++)
        ok &= atomic_load(&c.runs[t]) == 1;
    CHECK(&st, ok, "a NULL pool runs every task on the calling thread");
    pthread_mutex_destroy(&c.lock);
}

/* ---- tasks that can only finish together: N threads at once ---- */

typedef struct {
    atomic_int arrived;
    int need;
    atomic_int timed_out;
} meet_ctx;

static void meet_task(void *arg, int t)
{
    (void)t;
    meet_ctx *c = arg;
    atomic_fetch_add(&c->arrived, 1);
    const double t0 = now_s();
    while (atomic_load(&c->arrived) < c->need)
        if (now_s() - t0 > 10.0) {
            atomic_store(&c->timed_out, 1);
            return;
        }
}

static void test_concurrency(void)
{
    for (int size = 2; size <= 4; size++) {
        mnas_err err;
        mnas_pool *p = NULL;
        CHECK(&st, mnas_pool_create(size, &p, &err) == MNAS_OK, "create(%d): %s", size, err.msg);
        if (!p)
            continue;
        int late = 0;
        for (int round = 0; round < 20; round++) {
            meet_ctx c;
            atomic_init(&c.arrived, 0);
            atomic_init(&c.timed_out, 0);
            c.need = size;
            mnas_pool_run(p, size, meet_task, &c, size);
            late += atomic_load(&c.timed_out);
        }
        CHECK(&st, late == 0, "pool of %d: %d of 20 loops never had %d tasks running at once", size, late, size);
        mnas_pool_free(p);
    }
}

/* ---- many pools ---- */

static void add_task(void *arg, int t)
{
    atomic_fetch_add((atomic_int *)arg, t + 1);
}

static void test_lifecycle(void)
{
    int wrong = 0;
    for (int i = 0; i < 200; i++) {
        mnas_err err;
        mnas_pool *p = NULL;
        const int size = 2 + i % 7;
        if (mnas_pool_create(size, &p, &err)) {
            CHECK(&st, 0, "create(%d) #%d: %s", size, i, err.msg);
            break;
        }
        atomic_int sum;
        atomic_init(&sum, 0);
        if (i % 3)
            mnas_pool_run(p, size, add_task, &sum, 64);
        wrong += atomic_load(&sum) != (i % 3 ? 64 * 65 / 2 : 0);
        mnas_pool_free(p);
    }
    CHECK(&st, wrong == 0, "%d of 200 short-lived pools summed wrong", wrong);
    mnas_pool_free(NULL);

    mnas_err err;
    mnas_pool *p = NULL;
    CHECK(&st, mnas_pool_create(1, &p, &err) == MNAS_E_ARG && !p, "a pool of one thread is refused");
    CHECK(&st, mnas_pool_create(MNAS_POOL_MAX + 1, &p, &err) == MNAS_E_ARG && !p, "a pool over the limit is refused");
    CHECK(&st, mnas_pool_spawns_threads() && mnas_pool_processors() >= 1, "native pools start POSIX threads");
    CHECK(&st, mnas_pool_create(2, &p, &err) == MNAS_OK, "create(2)");
    CHECK(&st, mnas_pool_work(p, 1, &err) == MNAS_E_STATE, "host threads are refused natively");
    mnas_pool_free(p);
}

int main(void)
{
    test_counts();
    test_concurrency();
    test_lifecycle();
    return check_summary(&st, "test_pool");
}
