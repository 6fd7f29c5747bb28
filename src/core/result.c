/* result.c -- module statuses and results (see result.h). */
#include "core/result.h"

#include <string.h>

const char *mp__status_name(mp_status s)
{
    switch (s) {
    case MP_STATUS_PENDING:
        return "pending";
    case MP_STATUS_RUNNING:
        return "running";
    case MP_STATUS_SUCCEEDED:
        return "succeeded";
    case MP_STATUS_FAILED:
        return "failed";
    case MP_STATUS_TIMED_OUT:
        return "timed_out";
    case MP_STATUS_SKIPPED:
        return "skipped";
    case MP_STATUS_IGNORED_FAILURE:
        return "ignored_failure";
    case MP_STATUS_DEPENDENCY_FAILED:
        return "dependency_failed";
    case MP_STATUS_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

bool mp__status_terminal(mp_status s)
{
    switch (s) {
    case MP_STATUS_SUCCEEDED:
    case MP_STATUS_FAILED:
    case MP_STATUS_TIMED_OUT:
    case MP_STATUS_SKIPPED:
    case MP_STATUS_IGNORED_FAILURE:
    case MP_STATUS_DEPENDENCY_FAILED:
    case MP_STATUS_CANCELLED:
        return true;
    case MP_STATUS_PENDING:
    case MP_STATUS_RUNNING:
        break;
    }
    return false;
}

bool mp__status_is_failure(mp_status s)
{
    switch (s) {
    case MP_STATUS_FAILED:
    case MP_STATUS_TIMED_OUT:
    case MP_STATUS_DEPENDENCY_FAILED:
    case MP_STATUS_CANCELLED:
        return true;
    default:
        break;
    }
    return false;
}

bool mp__status_satisfies(mp_status s)
{
    return s == MP_STATUS_SUCCEEDED || s == MP_STATUS_IGNORED_FAILURE;
}

void mp__result_init(mp_result *r)
{
    memset(r, 0, sizeof(*r));
    r->status = MP_STATUS_PENDING;
    r->exit_code = -1;
    r->instance = -1;
}

static const char *dup_or_null(mp_arena *a, const char *s)
{
    return s ? mp__arena_strdup(a, s) : NULL;
}

void mp__result_copy(mp_arena *a, mp_result *dst, const mp_result *src)
{
    mp_result r = *src;
    r.worker = dup_or_null(a, src->worker);
    r.skip_reason = dup_or_null(a, src->skip_reason);
    r.error_message = dup_or_null(a, src->error_message);
    r.log_path = dup_or_null(a, src->log_path);
    r.log_tail = dup_or_null(a, src->log_tail);
    r.outputs = (mp_kv_vec){0};
    for (size_t k = 0; k < src->outputs.n; k++) {
        mp_kv kv = {0};
        kv.key.s = mp__arena_strdup(a, src->outputs.v[k].key.s);
        kv.value.s = mp__arena_strdup(a, src->outputs.v[k].value.s);
        MP_VEC_PUSH(a, &r.outputs, kv);
    }
    r.artifacts = (mp_artifact_vec){0};
    for (size_t k = 0; k < src->artifacts.n; k++) {
        const mp_artifact_ref *sa = &src->artifacts.v[k];
        mp_artifact_ref ar = {.name = mp__arena_strdup(a, sa->name),
                              .digest = mp__arena_strdup(a, sa->digest),
                              .size = sa->size,
                              .nfiles = sa->nfiles};
        ar.files = mp__arena_alloc(a, (sa->nfiles ? sa->nfiles : 1) * sizeof(char *));
        for (size_t f = 0; f < sa->nfiles; f++) ar.files[f] = mp__arena_strdup(a, sa->files[f]);
        MP_VEC_PUSH(a, &r.artifacts, ar);
    }
    *dst = r;
}

const mp_artifact_ref *mp__result_artifact(const mp_result *r, const char *name)
{
    for (size_t k = 0; k < r->artifacts.n; k++)
        if (strcmp(r->artifacts.v[k].name, name) == 0) return &r->artifacts.v[k];
    return NULL;
}
