/* The public API's threads (mnas.h): how many a model runs on, its pool,
 * and the entry through which a host's own threads (WebAssembly) become
 * the pool's workers. */
#include "api/model.h"

#if MNAS_THREADS
static int automatic(void)
{
    if (!mnas_pool_spawns_threads())
        return 1; /* the host decides (the SDK asks for a count) */
    const int n = mnas_pool_processors();
    return n < MNAS_AUTO_THREADS ? n : MNAS_AUTO_THREADS;
}
#endif

void mnas_model_free_pool(mnas_model *m)
{
    mnas_pool_free(m->pool);
    m->pool = NULL;
    m->threads = 1;
}

mnas_status mnas_model_set_threads(mnas_model *m, int threads)
{
    if (threads < 0 || threads > MNAS_MAX_THREADS)
        return mnas_fail(&m->err, threads < 0 ? MNAS_E_ARG : MNAS_E_LIMIT,
                         "threads: %d; expected 0 (automatic) to %d", threads, MNAS_MAX_THREADS);
#if !MNAS_THREADS
    /* a build without threads runs on one, whatever is asked */
    m->threads = 1;
    return MNAS_OK;
#else
    const int n = threads ? threads : automatic();
    mnas_status st = mnas_plan_band_slots(&m->p, n, &m->err);
    if (st)
        return st;
    if (n <= mnas_pool_size(m->pool)) {
        m->threads = n;
        return MNAS_OK;
    }
    if (m->pool && !mnas_pool_spawns_threads())
        return mnas_fail(&m->err, MNAS_E_STATE,
                         "threads: %d; the pool has %d threads from the host and cannot grow (reload the model)", n,
                         mnas_pool_size(m->pool));
    mnas_model_free_pool(m);
    st = mnas_pool_create(n, &m->pool, &m->err);
    if (st)
        return st;
    m->threads = n;
    return MNAS_OK;
#endif
}

int mnas_threads(const mnas_model *m)
{
    return m && m->loaded ? m->threads : 1;
}

mnas_status mnas_set_threads(mnas_model *m, int threads)
{
    mnas_status st = mnas_model_ready(m);
    if (st)
        return st == MNAS_E_STATE ? mnas_model_fail(m, st, "no model loaded") : st;
    return mnas_model_set_threads(m, threads);
}

/* Runs on a host thread while the model's own thread goes on using the
 * model: it reads only the pool pointer (set before the host was told to
 * start this worker) and reports through the status alone, since the
 * model's error message belongs to the model's thread. */
mnas_status mnas_thread_work(mnas_model *m, int worker)
{
    if (!m)
        return MNAS_E_ARG;
    mnas_err err;
    return mnas_pool_work(m->pool, worker, &err);
}
