/*
 * job.c -- a module's publishes or fetches on a thread of their own (see
 * manager.h). Threads: one per job, started by mp__art_job_start and
 * joined by mp__art_job_finish (its owner, the engine's loop thread); the
 * job only touches its own copy of the spec, the manager (thread-safe)
 * and, when done, the eventfd.
 */
#include "artifacts/manager.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct item {
    char *name, *producer, *digest, *target;
    char **patterns;
    size_t npatterns;
} item;

struct mp_art_job {
    mp_art_manager *m;
    bool publish;
    char *module, *workdir;
    item *items;
    size_t n;
    int64_t deadline;
    int notify_fd;
    pthread_t thread;
    atomic_int cancel;
    atomic_bool done;
    int rc;
    mp_error err;
    mp_art_published *out;
};

static char *dup_or_null(const char *s)
{
    return s ? mp__xstrdup(s) : NULL;
}

static void *run(void *arg)
{
    mp_art_job *j = arg;
    for (size_t i = 0; i < j->n && j->rc == 0; i++) {
        item *it = &j->items[i];
        if (j->publish)
            j->rc = mp__art_publish(j->m, j->module, j->workdir, it->name,
                                    (const char *const *)it->patterns, it->npatterns, &j->cancel,
                                    j->deadline, &j->out[i], &j->err);
        else
            j->rc = mp__art_fetch(j->m, it->producer, it->name, it->digest, it->target,
                                  &j->cancel, j->deadline, &j->err);
    }
    atomic_store(&j->done, true);
    if (j->notify_fd >= 0) {
        uint64_t one = 1;
        while (write(j->notify_fd, &one, sizeof one) < 0 && errno == EINTR)
            ;
    }
    return NULL;
}

static void job_free(mp_art_job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        item *it = &j->items[i];
        free(it->name);
        free(it->producer);
        free(it->digest);
        free(it->target);
        for (size_t k = 0; k < it->npatterns; k++) free(it->patterns[k]);
        free(it->patterns);
    }
    free(j->items);
    if (j->out) {
        for (size_t i = 0; i < j->n; i++) mp__art_published_release(&j->out[i]);
        free(j->out);
    }
    free(j->module);
    free(j->workdir);
    free(j);
}

int mp__art_job_start(mp_art_manager *m, const mp_art_job_spec *spec, mp_art_job **out,
                      mp_error *err)
{
    mp_art_job *j = mp__xcalloc(1, sizeof *j);
    j->m = m;
    j->publish = spec->publish;
    j->module = dup_or_null(spec->module);
    j->workdir = dup_or_null(spec->workdir);
    j->n = spec->nitems;
    j->items = mp__xcalloc(j->n ? j->n : 1, sizeof *j->items);
    for (size_t i = 0; i < j->n; i++) {
        const mp_art_job_item *s = &spec->items[i];
        item *it = &j->items[i];
        it->name = dup_or_null(s->name);
        it->producer = dup_or_null(s->producer);
        it->digest = dup_or_null(s->digest);
        it->target = dup_or_null(s->target);
        it->npatterns = s->npatterns;
        it->patterns = mp__xcalloc(s->npatterns ? s->npatterns : 1, sizeof(char *));
        for (size_t k = 0; k < s->npatterns; k++) it->patterns[k] = mp__xstrdup(s->patterns[k]);
    }
    if (j->publish) j->out = mp__xcalloc(j->n ? j->n : 1, sizeof *j->out);
    j->deadline = spec->deadline;
    j->notify_fd = spec->notify_fd;
    int r = pthread_create(&j->thread, NULL, run, j);
    if (r != 0) {
        job_free(j);
        return mp__error(err, MP_EIO, "", "cannot start an artifact thread: %s", strerror(r));
    }
    *out = j;
    return 0;
}

bool mp__art_job_done(const mp_art_job *j)
{
    return atomic_load(&((mp_art_job *)j)->done);
}

void mp__art_job_cancel(mp_art_job *j)
{
    atomic_store(&j->cancel, 1);
}

int mp__art_job_finish(mp_art_job *j, mp_art_published **published, mp_error *err)
{
    pthread_join(j->thread, NULL);
    int rc = j->rc;
    if (rc < 0 && err) *err = j->err;
    if (published) {
        *published = NULL;
        if (rc == 0 && j->publish) {
            *published = j->out;
            j->out = NULL;
        }
    }
    job_free(j);
    return rc;
}
