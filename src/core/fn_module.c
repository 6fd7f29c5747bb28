/*
 * fn_module.c -- C-function module attempts on threads (fn_module.h).
 *
 * Threads: one per attempt, started by mp__fn_start, joined by its owner
 * (the engine loop) through mp__fn_join/mp__fn_release. The thread touches
 * only its mp_fn_run's fn, data, ctx, rc and done, and the notify fd.
 * Shutdown order: cancel (optional) -> join -> free the ctx.
 */
#include "core/fn_module.h"
#include "core/ctx.h"
#include "core/error.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static void *fn_thread(void *arg)
{
    mp_fn_run *r = arg;
    r->rc = r->fn(r->ctx, r->data);
    atomic_store(&r->done, 1);
    uint64_t one = 1;
    ssize_t w;
    do
        w = write(r->notify_fd, &one, sizeof(one));
    while (w < 0 && errno == EINTR);
    return NULL;
}

int mp__fn_start(mp_fn_run *r, const mp_module *m, int attempt, int notify_fd, mp_error *err)
{
    memset(r, 0, sizeof(*r));
    atomic_init(&r->done, 0);
    r->fn = m->fn;
    r->data = m->fn_data;
    r->notify_fd = notify_fd;
    r->ctx = mp__ctx_new(m->name, attempt);
    int e = pthread_create(&r->thread, NULL, fn_thread, r);
    if (e != 0) {
        mp__ctx_free(r->ctx);
        r->ctx = NULL;
        return mp__error(err, MP_EIO, m->name, "cannot start a thread for module \"%s\": %s",
                         m->name, strerror(e));
    }
    r->running = 1;
    return 0;
}

int mp__fn_done(mp_fn_run *r)
{
    return atomic_load(&r->done);
}

void mp__fn_cancel(mp_fn_run *r)
{
    mp__ctx_cancel(r->ctx);
}

int mp__fn_join(mp_fn_run *r)
{
    if (r->running) {
        pthread_join(r->thread, NULL);
        r->running = 0;
    }
    return r->rc;
}

void mp__fn_release(mp_fn_run *r)
{
    mp__fn_join(r);
    mp__ctx_free(r->ctx);
    r->ctx = NULL;
}
