/*
 * engine_int.h -- the engine's internals shared by engine.c (setup, the
 * poll loop, teardown), engine_cond.c (a module's conditions) and
 * engine_module.c (its attempts, retries and result).
 *
 * A module taken from the scheduler (mp__sched_next) is "active" until it
 * is finished (mp__sched_done). While active it holds a slot: a mod_state,
 * one of `parallelism` the engine allocates once, taken when the module
 * starts and given back when it finishes, so what an attempt needs (its
 * process or function, log, strings) costs memory per running module, not
 * per module of the pipeline. While active a module is in one phase:
 *   COND        its skip_if / run_if conditions are being evaluated; a
 *               {command: ...} condition is a watched process
 *   ATTEMPT     an attempt runs (attempt.h)
 *   RETRY_WAIT  the last attempt failed; the next starts at retry_at
 *   FETCH       its consumed artifacts are being fetched (before the first
 *               attempt; engine_artifacts.c)
 *   PUBLISH     its attempt succeeded; its artifacts are being published
 * Active modules count against the parallelism (a module waiting for its
 * retry keeps its slot); peak concurrency counts attempts running.
 */
#ifndef MP_CORE_ENGINE_INT_H
#define MP_CORE_ENGINE_INT_H

#include "core/attempt.h"
#include "core/cond.h"
#include "core/engine.h"
#include "core/logfile.h"
#include "core/module_env.h"
#include "core/sched.h"

#include <stdint.h>

typedef struct mp_art_job mp_art_job;

typedef struct mp_engine engine;

/* A module's log / $MODPIPE_OUTPUT files may exist (left by an earlier run
 * or an earlier start): remove them before an attempt that would write
 * them. */
#define STALE_LOG 1u
#define STALE_OUT 2u

typedef enum mod_phase {
    MOD_IDLE, /* a free slot */
    MOD_COND,
    MOD_ATTEMPT,
    MOD_RETRY_WAIT,
    MOD_FETCH,
    MOD_PUBLISH,
    MOD_DONE, /* finished; the slot is given back */
} mod_phase;

/* The state of the active module in one slot. */
typedef struct mod_state {
    engine *e;
    size_t idx;
    mod_phase phase;
    /* Conditions: list 0 is skip_if, 1 is run_if; i the next to look at. */
    int cond_list;
    size_t cond_i;
    mp_cmd_check check;
    const char *check_arg; /* the resolved command of the running check */
    /* Attempts. */
    int attempts; /* started */
    int max_attempts;
    int64_t retry_at;
    int cancel; /* the run stopped it */
    const char *cancel_reason;
    mp_attempt att;
    mp_arena *att_arena;     /* strings of the current attempt (the slot's
                                own, reset for each use) */
    const char *output_path; /* $MODPIPE_OUTPUT of the current attempt */
    mp_modlog log;
    int log_open;
    int64_t run_ms;               /* time in attempts so far */
    mp_status last_status;        /* of the last finished attempt */
    const char *last_error;       /* its message (run arena) */
    const char *outputs_problems; /* from the last attempt's outputs file */
    mp_art_job *art_job;          /* FETCH / PUBLISH: its job, joined by the slot */
} mod_state;

struct mp_engine {
    const mp_pipeline *p;
    const mp_plan *plan;
    const mp_engine_opts *o;
    mp_run *run;
    mp_engine_driver drv;
    mp_sched *sched;     /* the local driver's; NULL with another driver */
    mod_state *slots;    /* parallelism of them; never moved (a function
                            worker holds a pointer into one) */
    int32_t *slot_of;    /* by module index: its slot while active, else -1 */
    int32_t *free_slots; /* nfree of them */
    size_t nfree;
    size_t *active; /* indices of active modules, nactive of them */
    size_t nactive;
    int parallelism;
    int64_t grace_ms;
    const char *workspace;
    const char *logs_dir, *outputs_dir;
    const char **log_names;
    uint8_t *stale; /* by module: STALE_* files that may exist from before */
    const mp_masker *masker;
    char *const *environ;
    mp_env_base *env_base; /* every module's run-wide environment */
    int notify_fd;         /* eventfd the function workers write */
    mp_fn_pool *fn_pool;   /* made at the first function attempt */
    int stop_fd;           /* -1 once not polled any more */
    int stop_handled;      /* running modules were cancelled for the stop */
    const char *stop_reason;
    int attempts_running;
    mp_strbuf scratch; /* output read buffer shared by all attempts */
    uint64_t rng;
};

/* The slot of active module i. */
mod_state *mp__eng_slot(engine *e, size_t i);

/* engine_cond.c */
/* Module i was handed out by the scheduler: evaluate its conditions and
 * start its first attempt (or finish it at once). */
void mp__eng_module_begin(engine *e, size_t i);
/* Its watched {command: ...} condition is done: go on from there. */
void mp__eng_cond_done(engine *e, size_t i);

/* engine_module.c */
/* Start the next attempt of module i (or finish it if it cannot start). */
void mp__eng_attempt_start(engine *e, size_t i);
/* Module i ends with st: fill its result, close its log, hand it back. */
void mp__eng_finish(engine *e, size_t i, mp_status st);
/* s masked, copied into the run arena (NULL gives NULL). */
const char *mp__eng_masked(engine *e, const char *s);
/* What module i's strings and environment are resolved against. */
mp_module_env mp__eng_env(engine *e, size_t i, const char *output_path);
/* A fresh (reset) arena for the strings of the current attempt (or
 * conditions). */
void mp__eng_fresh_arena(mod_state *s);
/* Make progress on active module i (after poll woke up or a deadline). */
void mp__eng_module_step(engine *e, size_t i);
/* The fds to poll for module i (up to 2) and its next deadline. */
size_t mp__eng_module_fds(engine *e, size_t i, struct pollfd *pfd, int64_t *deadline);
/* The run stops: end module i as cancelled (at once, or once its process
 * group is gone). */
void mp__eng_module_cancel(engine *e, size_t i, const char *reason);

/* The module failed for good with st (failed or timed_out; ignored when
 * the module ignores failures), with msg as its error. */
void mp__eng_finish_failed(engine *e, size_t i, mp_status st, const char *msg);

/* engine_artifacts.c */
/* Conditions passed: fetch its consumed artifacts, then start its first
 * attempt (or fail it). */
void mp__eng_art_before(engine *e, size_t i);
/* Its attempt succeeded: 1 when publishing started (or failed it), 0 when
 * it has nothing to publish. */
int mp__eng_art_after(engine *e, size_t i);
/* FETCH / PUBLISH: go on once the job is done. */
void mp__eng_art_step(engine *e, size_t i);
/* Ask the job to stop (the module then ends cancelled). */
void mp__eng_art_cancel(engine *e, size_t i);

/* engine.c */
/* Tell every sink. */
void mp__eng_emit_started(engine *e, size_t i, int attempt);
void mp__eng_emit_finished(engine *e, size_t i);
/* Module i reached a terminal status: drop it from the active list, give
 * back its slot, tell the sinks, hand it to the driver. */
void mp__eng_module_done(engine *e, size_t i, mp_status st);
/* Is the run stopping (the driver says so)? */
int mp__eng_stopping(engine *e);

#endif
