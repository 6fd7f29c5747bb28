/*
 * memory_int.h -- the hub's state, shared by hub.c, master.c and worker.c.
 *
 * Locking: everything below is guarded by hub->mu. cv_worker wakes
 * claimers, observers and registrations waiting for the plan (broadcast
 * on enqueue, requeue, plan, cancel, complete); cv_master wakes the
 * master's next_event and await_workers (broadcast on every event).
 */
#ifndef MP_COORD_MEMORY_INT_H
#define MP_COORD_MEMORY_INT_H

#include "coord/coord.h"
#include "coord/memory/memory.h"

#include <pthread.h>
#include <stdbool.h>

typedef enum mem_state {
    MEM_IDLE,      /* in the plan, never enqueued */
    MEM_QUEUED,    /* in its class queue */
    MEM_LEASED,    /* claimed; token and lease_deadline hold */
    MEM_DONE,      /* result stored */
    MEM_EXHAUSTED, /* lost max_attempts times */
} mem_state;

typedef struct mem_module {
    char *name;
    size_t cls; /* index into hub->classes */
    mem_state state;
    int attempt; /* claims so far */
    char token[MP_COORD_WORKER_ID_MAX + 16];
    int64_t lease_deadline;
    bool expiry_reported;
    char *result; /* result message, MEM_DONE */
    struct mem_module *qnext;
} mem_module;

typedef struct mem_class {
    char *name;
    int size; /* pairs */
    mem_module *head, *tail;
} mem_class;

typedef struct mem_worker {
    int instance;
    char *id;
    char *caps;
    int slots;
    size_t *serves; /* class indices, most specific first */
    size_t n_serves;
    int64_t alive_until;
    bool alive;
} mem_worker;

struct mp_coord_memory_hub {
    pthread_mutex_t mu;
    pthread_cond_t cv_worker, cv_master;
    int handles;      /* open handles */
    bool master_open; /* one master handle at a time */
    char run_id[MP_COORD_RUN_ID_MAX + 1];

    bool planned;
    char *hash, *version;
    int instances;
    int64_t lease_ms, worker_timeout_ms, master_timeout_ms;
    mem_module *mods;
    size_t n_mods;
    mem_class *classes;
    size_t n_classes;

    mem_worker *workers;
    size_t n_workers, cap_workers;

    mp_coord_event *events; /* FIFO: [ev_head, n_events) */
    size_t ev_head, n_events, cap_events;

    bool cancelled, completed;
    int64_t master_alive_until;
};

/* hub.c -- every function expects hub->mu held unless it says otherwise. */
int mp__mem_join(mp_coord_memory_hub *h, const char *run_id, bool master, mp_error *err);
void mp__mem_leave(mp_coord_memory_hub *h, bool master); /* takes the lock */
/* Wait on cv until `deadline` (MP_DEADLINE_NONE: no limit). */
void mp__mem_wait(mp_coord_memory_hub *h, pthread_cond_t *cv, int64_t deadline);
void mp__mem_event(mp_coord_memory_hub *h, mp_coord_event_kind kind, int instance, int attempt,
                   const char *worker, const char *module, const char *token, const char *status,
                   const char *detail);
mem_module *mp__mem_module(mp_coord_memory_hub *h, const char *name);
int mp__mem_fetch(mp_coord_memory_hub *h, const char *module, char **json, mp_error *err);
/* The state a worker sees now: COMPLETED, else MASTER_LOST, else
 * CANCELLED (a stopping run whose master is gone is lost), else ACTIVE. */
mp_coord_run_state mp__mem_run_state(mp_coord_memory_hub *h, int64_t now);
void mp__mem_queue_push(mp_coord_memory_hub *h, mem_module *m, bool front);

#endif
