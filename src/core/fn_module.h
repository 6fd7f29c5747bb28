/*
 * fn_module.h -- one attempt of a C-function module (MP_RUN_FUNCTION), run
 * on a thread of its own.
 *
 * Threads: mp__fn_start() creates one thread per attempt; it calls the
 * module's function with a fresh mp_ctx (ctx.h), stores the return value,
 * sets `done` and writes 1 to the engine's notify eventfd so the engine's
 * poll wakes up. The engine is the owner: it joins the thread with
 * mp__fn_join() once `done` is seen (the join then does not block), or at
 * shutdown. No lock is shared with the thread except the ctx's own.
 *
 * Cancellation (timeout or a stopping run) is cooperative: mp__fn_cancel()
 * makes mp_ctx_cancelled() true, and the engine waits for the function to
 * return. A function that ignores cancellation is waited for however long
 * it takes -- a thread cannot be killed safely -- and mp__engine_run()
 * does not return before it has.
 */
#ifndef MP_CORE_FN_MODULE_H
#define MP_CORE_FN_MODULE_H

#include "core/model.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct mp_fn_run {
    pthread_t thread;
    mp_ctx *ctx;
    mp_module_fn fn;
    void *data;
    int notify_fd;
    atomic_int done; /* the function returned; rc is valid */
    int rc;          /* its return value */
    int running;     /* a thread exists that has not been joined */
} mp_fn_run;

/* Start attempt `attempt` of module m (which must be MP_RUN_FUNCTION) on a
 * new thread. notify_fd: an eventfd written when the function returns.
 * Returns 0 or MP_EIO (thread creation failed; nothing to release). */
int mp__fn_start(mp_fn_run *r, const mp_module *m, int attempt, int notify_fd, mp_error *err);
/* Has the function returned? */
int mp__fn_done(mp_fn_run *r);
/* Ask it to stop (mp_ctx_cancelled() turns true). */
void mp__fn_cancel(mp_fn_run *r);
/* Wait for the thread (blocks until the function returns) and return the
 * function's value. Outputs stay readable in r->ctx until release. */
int mp__fn_join(mp_fn_run *r);
/* Join if needed, then free the context. Safe on a zeroed mp_fn_run. */
void mp__fn_release(mp_fn_run *r);

#endif
