/*
 * coord.h -- the coordinator: how the master and the workers of one
 * distributed run meet (DESIGN §3, §4).
 *
 * Two interfaces, because the two roles share no method (DESIGN §7.2):
 *   - the master side (mp_coord_master): publish the plan, await workers,
 *     enqueue ready modules, tail events, requeue, cancel, complete,
 *     heartbeat, fetch results;
 *   - the worker side (mp_coord_worker): register, claim, renew, complete
 *     with a result, fetch dependency results, heartbeat, observe the run.
 * Each backend is a pair of `static const` vtables (the sqlite VFS shape):
 * versioned, named, every slot filled, no method answering "not supported".
 * A backend's handle struct embeds mp_coord_master / mp_coord_worker first
 * and downcasts after checking the vtable (git's files_downcast).
 *
 * Backends are found by URL scheme in one registry (coord.c):
 * `memory:` (in-process reference backend, coord/memory/memory.h) and
 * `redis://` (coord/redis/coord_redis.h). Callers use the mp__coord_*
 * wrappers below, never the slots directly: the wrappers validate
 * arguments and payloads once for every backend.
 *
 * The protocol (shaped on reference/redis-lease-scripts):
 *   - Every module of the plan has a capability class: the canonical,
 *     sorted, lower-cased `k=v,k=v` list of what it requires ("" = any
 *     instance; pin_to_master adds `instance=0`), see coord/class.h. One
 *     FIFO queue per class. A worker serves every class of the plan whose
 *     pairs are a subset of its capabilities (plus `instance=<index>`), and
 *     a claim blocks on all of them at once: routing is done by the queue
 *     layout, never by taking work and putting it back.
 *   - A claim pops the head of one served queue, increments the module's
 *     attempt, and records a lease: owner token `<worker>#<attempt>` and a
 *     deadline `lease_ms` ahead on the coordinator's clock (Redis TIME; the
 *     process's monotonic clock for memory), never the client's.
 *   - renew extends the lease and answers ok / lost / cancel.
 *   - complete stores the result once, only from the lease holder; a late
 *     or foreign result is rejected (MP_ESTATE) and reported to the master
 *     as an MP_COORD_EV_REJECTED event.
 *   - The master tails events (claims, results, joins/leaves, expired
 *     leases, rejections) and requeues an expired lease at the FRONT of its
 *     queue (compare-and-set on the token; the next claim gets attempt+1),
 *     or learns the attempts are exhausted.
 *   - cancel and complete are run-wide broadcasts. complete ends the run:
 *     blocked claimers wake with COMPLETED. cancel means the run is
 *     stopping (on_failure stop, an interrupt): renew answers cancel (and
 *     still extends the lease: an always_run module keeps running),
 *     observe reports CANCELLED, and claims go on serving what the master
 *     still enqueues -- after a stop that is only always_run modules
 *     (DESIGN §2), which must run in a distributed run too (§7.8).
 *   - The master settles the modules it decides without a worker
 *     (skipped, dependency_failed, cancelled before they ran, no instance
 *     able to run them, attempts exhausted): their result is stored like
 *     a worker's, so a dependent's worker fetches every dependency alike.
 *   - The master renews a liveness key; workers that see it lapse report
 *     MP_COORD_RUN_MASTER_LOST.
 *
 * Ownership: handles belong to whoever opened them and are released with
 * mp__coord_*_close (NULL-safe). Every `const char *` passed in is copied.
 * Every `char *` or struct filled for the caller is the caller's and is
 * released with the matching *_release function.
 *
 * Deadlines: absolute milliseconds on the monotonic clock (os/clock.h). A
 * blocking call returns MP_ETIMEDOUT when its deadline passes with nothing
 * to report; a deadline in the past makes it a non-blocking check.
 *
 * Thread-safety: a handle may be used from several threads at once (a
 * worker claims from one thread while another renews and heartbeats).
 * Closing a handle while another thread is inside a call on it is not
 * allowed: join those threads first.
 */
#ifndef MP_COORD_COORD_H
#define MP_COORD_COORD_H

#include "modpipe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_COORD_VTABLE_VERSION 1

/* Limits every backend enforces (and the protocol codec too). */
#define MP_COORD_WORKER_ID_MAX 128 /* bytes of a worker id */
#define MP_COORD_NAME_MAX      512 /* bytes of a module name */
#define MP_COORD_RUN_ID_MAX    128 /* bytes of a run id (dist/runid.h) */

typedef struct mp_coord_master mp_coord_master;
typedef struct mp_coord_worker mp_coord_worker;
typedef struct mp_coord_master_vtable mp_coord_master_vtable;
typedef struct mp_coord_worker_vtable mp_coord_worker_vtable;
typedef struct mp_coord_memory_hub mp_coord_memory_hub;

/* Base structs: a backend's handle embeds one of these first. The
 * wrappers fill run_id after a successful open. */
struct mp_coord_master {
    const mp_coord_master_vtable *vt;
    char run_id[MP_COORD_RUN_ID_MAX + 1];
};
struct mp_coord_worker {
    const mp_coord_worker_vtable *vt;
    char run_id[MP_COORD_RUN_ID_MAX + 1];
};

/* How to open a backend. */
typedef struct mp_coord_open_opts {
    const char *url;    /* "memory:" or "redis://..." (coord/redis/coord_redis.h) */
    const char *run_id; /* validated run id (dist/runid.h); required */
    /* memory: only -- the in-process hub every handle of the run joins
     * (coord/memory/memory.h). Memory is in-process only, which is why
     * DESIGN §7.9 forbids it for real distribution. Ignored elsewhere. */
    mp_coord_memory_hub *memory_hub;
    /* Where a backend's warnings go, one line each (the library never
     * prints): e.g. redis' maxmemory-policy is not noeviction. May be
     * NULL (warnings are dropped). Called from the opening thread. */
    void (*warn)(void *data, const char *line);
    void *warn_data;
} mp_coord_open_opts;

/* ------------------------------------------------------------------ plan */

typedef struct mp_coord_plan_module {
    const char *name; /* expanded module name, unique in the plan */
    const char *cls;  /* canonical capability class (coord/class.h) */
} mp_coord_plan_module;

/* What the master publishes once per run. Timings are the coordinator's:
 * lease_ms is the length of a lease (claim and renew), worker_timeout_ms
 * how long a worker may be silent before it counts as left, and
 * master_timeout_ms how long the master's liveness lasts after publish or
 * a heartbeat. */
typedef struct mp_coord_plan {
    const char *pipeline_hash;
    const char *version; /* modpipe version of the master */
    int instances;       /* total, master included */
    int64_t lease_ms;
    int64_t worker_timeout_ms;
    int64_t master_timeout_ms;
    size_t n_modules;
    const mp_coord_plan_module *modules;
} mp_coord_plan;

/* --------------------------------------------------------------- workers */

typedef struct mp_coord_registration {
    int instance;             /* 0 = the master's own executing side */
    const char *worker;       /* id, [A-Za-z0-9_.:/@-]+, at most 128 bytes */
    const char *capabilities; /* "k=v,k=v" (canonicalised by the wrapper) */
    int slots;                /* parallelism, >= 1 */
    const char *pipeline_hash;
    const char *version;
} mp_coord_registration;

typedef struct mp_coord_worker_info {
    int instance;
    char *worker;
    char *capabilities; /* canonical, with instance=<i> */
    int slots;
    bool alive; /* false once it closed or fell silent */
} mp_coord_worker_info;

typedef struct mp_coord_worker_list {
    size_t n;
    mp_coord_worker_info *v; /* sorted by instance */
} mp_coord_worker_list;

void mp__coord_worker_list_release(mp_coord_worker_list *l);

/* ---------------------------------------------------------------- events */

typedef enum mp_coord_event_kind {
    MP_COORD_EV_WORKER_JOINED, /* instance, worker */
    MP_COORD_EV_WORKER_LEFT,   /* instance, worker, detail (why) */
    MP_COORD_EV_CLAIMED,       /* module, token, attempt, instance, worker */
    MP_COORD_EV_RESULT,        /* module, token, attempt, instance, worker, status */
    MP_COORD_EV_LEASE_EXPIRED, /* module, token, attempt: requeue it */
    MP_COORD_EV_REJECTED,      /* module, token (the sender's), detail */
} mp_coord_event_kind;

/* Strings are heap-owned by the event (NULL when not applicable). */
typedef struct mp_coord_event {
    mp_coord_event_kind kind;
    int instance; /* -1 when not applicable */
    int attempt;  /* 0 when not applicable */
    char *worker;
    char *module;
    char *token;
    char *status;
    char *detail;
} mp_coord_event;

void mp__coord_event_release(mp_coord_event *ev);
const char *mp__coord_event_kind_name(mp_coord_event_kind k);

typedef enum mp_coord_requeue_outcome {
    MP_COORD_REQUEUED,  /* back at the front of its queue */
    MP_COORD_STALE,     /* token no longer holds it: completed or reclaimed */
    MP_COORD_EXHAUSTED, /* attempts >= max_attempts: not requeued */
} mp_coord_requeue_outcome;

/* ----------------------------------------------------------------- lease */

typedef struct mp_coord_lease {
    char module[MP_COORD_NAME_MAX];
    char token[MP_COORD_WORKER_ID_MAX + 16]; /* "<worker>#<attempt>" */
    int attempt;                             /* 1 for the first claim */
} mp_coord_lease;

typedef enum mp_coord_run_state {
    MP_COORD_RUN_ACTIVE,      /* plan published, nothing broadcast */
    MP_COORD_RUN_CANCELLED,   /* master broadcast cancel */
    MP_COORD_RUN_COMPLETED,   /* master broadcast completion */
    MP_COORD_RUN_MASTER_LOST, /* master's liveness lapsed */
} mp_coord_run_state;

const char *mp__coord_run_state_name(mp_coord_run_state s);

typedef enum mp_coord_renew_answer {
    MP_COORD_RENEW_OK,     /* extended by lease_ms */
    MP_COORD_RENEW_LOST,   /* no longer the holder: stop, do not publish */
    MP_COORD_RENEW_CANCEL, /* run cancelled (or completed): stop it, report cancelled */
} mp_coord_renew_answer;

/* --------------------------------------------------------------- vtables */

struct mp_coord_master_vtable {
    int version;      /* MP_COORD_VTABLE_VERSION */
    const char *name; /* "memory" */
    int (*open)(const mp_coord_open_opts *o, mp_coord_master **out, mp_error *err);
    void (*close)(mp_coord_master *m);
    int (*publish_plan)(mp_coord_master *m, const mp_coord_plan *plan, mp_error *err);
    int (*await_workers)(mp_coord_master *m, size_t count, int64_t deadline,
                         mp_coord_worker_list *out, mp_error *err);
    int (*enqueue)(mp_coord_master *m, const char *module, mp_error *err);
    int (*next_event)(mp_coord_master *m, int64_t deadline, mp_coord_event *ev, mp_error *err);
    int (*requeue)(mp_coord_master *m, const char *module, const char *token, int max_attempts,
                   const char *reason, mp_coord_requeue_outcome *out, mp_error *err);
    int (*cancel)(mp_coord_master *m, const char *reason, mp_error *err);
    int (*complete)(mp_coord_master *m, mp_error *err);
    int (*heartbeat)(mp_coord_master *m, mp_error *err);
    int (*fetch_result)(mp_coord_master *m, const char *module, char **json, mp_error *err);
    /* result_json was decoded and checked by the wrapper (run, module). */
    int (*settle)(mp_coord_master *m, const char *module, const char *result_json, mp_error *err);
};

struct mp_coord_worker_vtable {
    int version;
    const char *name;
    int (*open)(const mp_coord_open_opts *o, mp_coord_worker **out, mp_error *err);
    void (*close)(mp_coord_worker *w);
    /* reg->capabilities is canonical and includes instance=<i>. */
    int (*register_)(mp_coord_worker *w, const mp_coord_registration *reg, int64_t deadline,
                     mp_error *err);
    int (*claim)(mp_coord_worker *w, int64_t deadline, mp_coord_lease *lease,
                 mp_coord_run_state *state, mp_error *err);
    int (*renew)(mp_coord_worker *w, const mp_coord_lease *lease, mp_coord_renew_answer *answer,
                 mp_error *err);
    /* result_json was decoded and checked by the wrapper (run, module,
     * token); status is its status name. */
    int (*complete)(mp_coord_worker *w, const mp_coord_lease *lease, const char *status,
                    const char *result_json, mp_error *err);
    int (*fetch_result)(mp_coord_worker *w, const char *module, char **json, mp_error *err);
    int (*heartbeat)(mp_coord_worker *w, mp_error *err);
    int (*observe)(mp_coord_worker *w, int64_t deadline, mp_coord_run_state *state, mp_error *err);
};

/* 0 when url's scheme names a registered backend; else MP_EUSAGE with
 * the message of an open (it lists the known schemes). Opens nothing. */
int mp__coord_scheme_check(const char *url, mp_error *err);

/* ----------------------------------------------------------- master side */

/* Open the backend named by o->url's scheme. On failure there is nothing
 * to close. MP_EUSAGE for an unknown scheme (message lists the known). */
int mp__coord_master_open(const mp_coord_open_opts *o, mp_coord_master **out, mp_error *err);
void mp__coord_master_close(mp_coord_master *m); /* NULL-safe */
const char *mp__coord_master_backend(const mp_coord_master *m);

/* Publish the plan, once per run (MP_EEXIST the second time). Counts as
 * the master's first heartbeat. Module names must be unique, classes
 * canonical (MP_EINVAL otherwise). */
int mp__coord_master_publish_plan(mp_coord_master *m, const mp_coord_plan *plan, mp_error *err);
/* Block until at least `count` workers (any instance, the master's own
 * registration included) have registered, or the deadline. Fills `out`
 * with every registration so far in both cases. Returns 0 or
 * MP_ETIMEDOUT. */
int mp__coord_master_await_workers(mp_coord_master *m, size_t count, int64_t deadline,
                                   mp_coord_worker_list *out, mp_error *err);
/* Put a module of the plan at the back of its class queue. Its attempt
 * counter is kept: the claim that takes it makes it attempt+1. MP_ENOENT
 * when not in the plan, MP_ESTATE when queued, leased or finished. */
int mp__coord_master_enqueue(mp_coord_master *m, const char *module, mp_error *err);
/* Block until the next event or the deadline (MP_ETIMEDOUT). A lease
 * past its deadline is reported once, as MP_COORD_EV_LEASE_EXPIRED, at
 * its deadline (the wait is bounded by the earliest lease, no polling);
 * likewise a worker silent for worker_timeout_ms as WORKER_LEFT. The
 * event is the caller's: mp_coord_event_release. */
int mp__coord_master_next_event(mp_coord_master *m, int64_t deadline, mp_coord_event *ev,
                                mp_error *err);
/* Compare-and-set requeue of a leased module held by `token`: at the
 * FRONT of its queue, or EXHAUSTED when its attempts reached
 * max_attempts, or STALE when the token no longer holds it. */
int mp__coord_master_requeue(mp_coord_master *m, const char *module, const char *token,
                             int max_attempts, const char *reason, mp_coord_requeue_outcome *out,
                             mp_error *err);
/* Store the result message (dist/proto.h, this run, for `module`) of a
 * module the master decided without running it, or took back from its
 * queue (a queued module is removed from it). Nothing is told to the
 * master (it decided). MP_ESTATE when the module is leased or has a
 * result; MP_ENOENT when it is not in the plan. */
int mp__coord_master_settle(mp_coord_master *m, const char *module, const char *result_json,
                            mp_error *err);
/* Broadcasts. Both are idempotent; cancel after complete is MP_ESTATE.
 * After cancel, enqueue still works (always_run modules); after complete
 * it is MP_ESTATE. */
int mp__coord_master_cancel(mp_coord_master *m, const char *reason, mp_error *err);
int mp__coord_master_complete(mp_coord_master *m, mp_error *err);
/* Extend the master's liveness by the plan's master_timeout_ms. */
int mp__coord_master_heartbeat(mp_coord_master *m, mp_error *err);
/* The stored result message (dist/proto.h) of a module; MP_ENOENT when
 * none. *json is the caller's (free). */
int mp__coord_master_fetch_result(mp_coord_master *m, const char *module, char **json,
                                  mp_error *err);

/* ----------------------------------------------------------- worker side */

int mp__coord_worker_open(const mp_coord_open_opts *o, mp_coord_worker **out, mp_error *err);
void mp__coord_worker_close(mp_coord_worker *w); /* NULL-safe; reported as WORKER_LEFT */
const char *mp__coord_worker_backend(const mp_coord_worker *w);

/* Register once per handle. Blocks until the master published its plan
 * (MP_ETIMEDOUT at the deadline). Refused with MP_EINVAL when the
 * pipeline hash or version differs (the message names both values) or
 * instance is outside [0, instances); MP_EEXIST when the instance index
 * or worker id is already registered. */
int mp__coord_worker_register(mp_coord_worker *w, const mp_coord_registration *reg,
                              int64_t deadline, mp_error *err);
/* Block until a module of a served class is available, the run is
 * completed or its master lost, or the deadline (MP_ETIMEDOUT). A
 * cancelled run still hands out what is enqueued (see above): *state is
 * never CANCELLED here; renew and observe tell a worker of a cancel.
 * Returns 0 with *state ACTIVE and *lease filled when a module was
 * claimed, or 0 with *state telling why nothing will come. */
int mp__coord_worker_claim(mp_coord_worker *w, int64_t deadline, mp_coord_lease *lease,
                           mp_coord_run_state *state, mp_error *err);
/* Never blocks beyond one round trip. OK and CANCEL both extend the
 * lease by lease_ms. */
int mp__coord_worker_renew(mp_coord_worker *w, const mp_coord_lease *lease,
                           mp_coord_renew_answer *answer, mp_error *err);
/* Store the result of a leased module: result_json must be a result
 * message (dist/proto.h) of this run for lease->module carrying
 * lease->token. Accepted once, from the holder only; otherwise MP_ESTATE
 * (stale or duplicate, the master is told) or MP_EINVAL/MP_EPARSE/
 * MP_ETOOBIG for a bad message. */
int mp__coord_worker_complete(mp_coord_worker *w, const mp_coord_lease *lease,
                              const char *result_json, mp_error *err);
int mp__coord_worker_fetch_result(mp_coord_worker *w, const char *module, char **json,
                                  mp_error *err);
/* Extend this worker's liveness by the plan's worker_timeout_ms. */
int mp__coord_worker_heartbeat(mp_coord_worker *w, mp_error *err);
/* Block until the run leaves ACTIVE or the deadline (then 0 with ACTIVE):
 * a watcher thread's wait for cancel, completion or a lost master. */
int mp__coord_worker_observe(mp_coord_worker *w, int64_t deadline, mp_coord_run_state *state,
                             mp_error *err);

#endif
