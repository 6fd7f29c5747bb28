/*
 * result.h -- module statuses and results (DESIGN §2 statuses, §5 results).
 *
 * A result is what one module's run came to, wherever it ran. The engine
 * owns the results of a run (one per module of p->modules, by index); the
 * strings in a result live in the run's arena. Terminal statuses never
 * change again.
 */
#ifndef MP_CORE_RESULT_H
#define MP_CORE_RESULT_H

#include "core/model.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum mp_status {
    MP_STATUS_PENDING,
    MP_STATUS_RUNNING,
    MP_STATUS_SUCCEEDED,
    MP_STATUS_FAILED,
    MP_STATUS_TIMED_OUT,
    MP_STATUS_SKIPPED,
    MP_STATUS_IGNORED_FAILURE,
    MP_STATUS_DEPENDENCY_FAILED,
    MP_STATUS_CANCELLED,
} mp_status;

/* "pending", "running", "succeeded", ... (the report's spelling). */
const char *mp__status_name(mp_status s);
bool mp__status_terminal(mp_status s);
/* Does this status fail the pipeline (failed, timed_out, dependency_failed
 * of a non-ignored chain, cancelled by a stop)? ignored_failure and skipped
 * do not. */
bool mp__status_is_failure(mp_status s);
/* May a module that requires a dependency with this status run?
 * succeeded and ignored_failure: yes. */
bool mp__status_satisfies(mp_status s);

/* An artifact a module published (DESIGN §5 `artifacts`): consumers
 * fetch it by digest. */
typedef struct mp_artifact_ref {
    const char *name;
    const char *digest; /* "sha256:<hex>" */
    uint64_t size;      /* bytes of the blob */
    size_t nfiles;
    const char **files; /* relative paths packed, sorted */
} mp_artifact_ref;
typedef MP_VEC(mp_artifact_ref) mp_artifact_vec;

typedef struct mp_result {
    mp_status status;
    int attempts;        /* attempts started (0 if it never ran) */
    int exit_code;       /* last attempt's exit code; -1 when none */
    int term_signal;     /* signal that ended the last attempt; 0 when none */
    int instance;        /* instance index that ran it; -1 when none */
    const char *worker;  /* worker id in distributed runs; NULL locally */
    int64_t started_at;  /* wall clock, ms since the epoch; 0 when never */
    int64_t ended_at;
    int64_t duration_ms; /* sum over attempts of time spent running */
    mp_kv_vec outputs;
    mp_artifact_vec artifacts; /* published; only when it succeeded */
    const char *skip_reason;   /* skipped / dependency_failed / cancelled */
    const char *error_message; /* failed / timed_out: what happened */
    const char *log_path;      /* its log file, when it ran and wrote one */
    const char *log_tail;      /* last lines of the log, when it failed */
} mp_result;

void mp__result_init(mp_result *r);
/* *dst = *src with every string, the outputs and the artifacts copied into arena a
 * (dst may then outlive src's owner). */
/* The artifact `name` of r, or NULL. */
const mp_artifact_ref *mp__result_artifact(const mp_result *r, const char *name);
void mp__result_copy(mp_arena *a, mp_result *dst, const mp_result *src);

#endif
