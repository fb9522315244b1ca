/* The work-sharing pool: a run's heavy steps are parallel loops of a few
 * tasks each, run by the calling thread and the pool's workers together.
 *
 * A pool is created when a model loads and reused by every run; running a
 * loop allocates nothing and creates no thread. The workers are either
 * POSIX threads started here, or (builds without them: WebAssembly) the
 * host's own threads, each of which enters mnas_pool_work and stays there
 * until the pool is freed.
 *
 * Which thread runs which task is left to chance (tasks are claimed from a
 * counter, so a descheduled thread does not hold the others up); callers
 * keep results independent of that by making every task write its own
 * outputs with code that does not depend on the split. */
#ifndef MNAS_THREADS_POOL_H
#define MNAS_THREADS_POOL_H

#include "base/status.h"
#include "threads/config.h"

/* The most threads a pool may have: the API's limit. */
#define MNAS_POOL_MAX MNAS_MAX_THREADS

typedef struct mnas_pool mnas_pool;

/* One task of a parallel loop: task is 0 .. n_tasks - 1. */
typedef void (*mnas_task_fn)(void *ctx, int task);

/* 1 when this build starts its own worker threads (POSIX), 0 when they
 * come from the host (mnas_pool_work). */
int mnas_pool_spawns_threads(void);

/* Processors online (1 when unknown, and in builds without POSIX threads). */
int mnas_pool_processors(void);

/* A pool of size threads: the caller and size - 1 workers (size 2 ..
 * MNAS_POOL_MAX). Spawning builds have started the workers on return. */
mnas_status mnas_pool_create(int size, mnas_pool **out, mnas_err *err);

/* Stops the workers and frees the pool; NULL is ignored. With host
 * threads, every worker the host was asked for must enter (or have
 * entered) mnas_pool_work: this waits until each has left it. */
void mnas_pool_free(mnas_pool *p);

int mnas_pool_size(const mnas_pool *p);

/* Runs fn(ctx, 0 .. n_tasks - 1) on the calling thread and workers
 * 1 .. threads - 1, returning when every task is done. threads <= 1, a
 * NULL pool or a single task run everything on the calling thread. Only
 * one thread may call this at a time (the model's own). */
void mnas_pool_run(mnas_pool *p, int threads, mnas_task_fn fn, void *ctx, int n_tasks);

/* Host threads: run as worker `worker` (1 .. size - 1) until the pool is
 * freed. MNAS_E_STATE when this build spawns its own threads, MNAS_E_ARG
 * for a bad index or one already taken. */
mnas_status mnas_pool_work(mnas_pool *p, int worker, mnas_err *err);

#endif
