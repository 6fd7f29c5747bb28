/*
 * threads.c -- a whole distributed run as threads of one process over a
 * memory hub (mp__dist_run_threads, master.h): the one-machine form of
 * distribution, for tests (and later --local-instances).
 *
 * Threads: the caller's thread runs the master (which runs its own worker
 * on a thread of its own, see master.c); one thread per other instance
 * runs mp__dist_worker_run on its own handle. Locks: none here (the hub
 * has its own). Shutdown order: the master returns after its completion
 * broadcast -> every worker thread returns (completion wakes them) and is
 * joined -> worker handles closed -> master handle closed -> hub freed.
 */
#include "coord/memory/memory.h"
#include "core/error.h"
#include "core/xalloc.h"
#include "dist/master.h"
#include "os/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_FOR_THREADS "threads"

typedef struct inst {
    mp_coord_worker *w;
    mp_dist_worker_opts o;
    char id[32];
    char state_dir[4096];
    pthread_t tid;
    mp_run run;
    int rc;
    mp_error err;
} inst;

static void *inst_main(void *arg)
{
    inst *x = arg;
    x->rc = mp__dist_worker_run(x->w, &x->o, &x->run, &x->err);
    if (x->rc == 0 || x->rc == MP_ELOST) mp__run_release(&x->run);
    return NULL;
}

static mp_engine_opts engine_opts(const mp_dist_threads_opts *o, int index, const char *state)
{
    return (mp_engine_opts){.parallelism = o->slots > 0 ? o->slots : 2,
                            .on_failure = o->on_failure,
                            .workspace = o->workspace,
                            .state_dir = state,
                            .run_id = o->run_id,
                            .instance_index = index,
                            .kill_grace_ms = o->kill_grace_ms,
                            .stop_fd = -1,
                            .keep_children = 1};
}

int mp__dist_run_threads(const mp_dist_threads_opts *o, mp_run *run, int *worker_rc, mp_error *err)
{
    memset(run, 0, sizeof *run);
    if (o->instances < 1 || !o->workspace || !o->state_root || !o->run_id)
        return mp__error(err, MP_EINVAL, "", "dist.threads: incomplete options");
    const mp_distributed_options *d = &o->p->options.distributed;
    mp_coord_memory_hub *hub = mp__coord_memory_hub_new();
    mp_coord_open_opts co = {.url = "memory:", .run_id = o->run_id, .memory_hub = hub};
    mp_coord_master *m = NULL;
    int rc = mp__coord_master_open(&co, &m, err);
    if (rc < 0) {
        mp__coord_memory_hub_free(hub);
        return rc;
    }
    int n = o->instances;
    inst *x = mp__xcalloc((size_t)n, sizeof *x);
    for (int i = 1; i < n && rc == 0; i++) {
        rc = mp__coord_worker_open(&co, &x[i].w, err);
        if (rc < 0) break;
        snprintf(x[i].id, sizeof x[i].id, "instance-%d", i);
        snprintf(x[i].state_dir, sizeof x[i].state_dir, "%s/%d", o->state_root, i);
        x[i].o =
            (mp_dist_worker_opts){.p = o->p,
                                  .plan = o->plan,
                                  .engine = engine_opts(o, i, x[i].state_dir),
                                  .worker_id = x[i].id,
                                  .capabilities = o->caps ? o->caps[i] : NULL,
                                  .version = VERSION_FOR_THREADS,
                                  .heartbeat_ms = d->heartbeat_ms,
                                  .register_deadline = mp__deadline_in(d->registration_timeout_ms),
                                  .log = o->log,
                                  .log_data = o->log_data};
    }
    int started = 0;
    for (int i = 1; i < n && rc == 0; i++, started++)
        if (pthread_create(&x[i].tid, NULL, inst_main, &x[i]) != 0)
            mp__die("dist.threads: cannot start instance %d", i);
    if (rc == 0) {
        snprintf(x[0].state_dir, sizeof x[0].state_dir, "%s/0", o->state_root);
        mp_dist_master_opts mo = {.p = o->p,
                                  .plan = o->plan,
                                  .instances = n,
                                  .on_failure = o->on_failure,
                                  .version = VERSION_FOR_THREADS,
                                  .coord = co,
                                  .log = o->log,
                                  .log_data = o->log_data};
        mo.self = (mp_dist_worker_opts){.engine = engine_opts(o, 0, x[0].state_dir),
                                        .worker_id = "instance-0",
                                        .capabilities = o->caps ? o->caps[0] : NULL};
        rc = mp__dist_master_run(m, &mo, run, err);
        if (rc < 0) { /* nothing published: the workers end at their register deadline */
            mp_error ignored = {0};
            mp__coord_master_complete(m, &ignored);
        }
    }
    for (int i = 1; i <= started; i++) {
        pthread_join(x[i].tid, NULL);
        if (worker_rc) worker_rc[i] = x[i].rc;
    }
    for (int i = 1; i < n; i++)
        mp__coord_worker_close(x[i].w);
    free(x);
    mp__coord_master_close(m);
    mp__coord_memory_hub_free(hub);
    return rc;
}
