/*
 * engine_artifacts.c -- a module's artifacts in the engine (DESIGN §3.6):
 * its `consumes` are fetched after its conditions passed and before its
 * first attempt (phase FETCH); its `produces` are published after an
 * attempt succeeded and before it counts as succeeded (phase PUBLISH).
 *
 * The work is the artifact manager's (artifacts/manager.h), on a job
 * thread per module (the slot owns it; mp__eng_art_step joins it once it
 * is done): the loop never blocks on a store. A job that ends writes the
 * engine's notify eventfd, which makes the loop step every active module.
 * Cancelling asks the job to stop at its next chunk; the module then ends
 * cancelled. Failures are final (no retry) and name the artifact, the
 * producer and the store key.
 */
#include "artifacts/manager.h"
#include "core/engine_int.h"
#include "core/module_env.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_ARTIFACT_TIMEOUT_MS (30 * 60 * 1000)

static int64_t job_deadline(engine *e)
{
    int64_t t = e->o->artifact_timeout_ms > 0 ? e->o->artifact_timeout_ms
                                              : DEFAULT_ARTIFACT_TIMEOUT_MS;
    return mp__deadline_in(t);
}

static void fail(engine *e, size_t i, const char *msg)
{
    mod_state *s = mp__eng_slot(e, i);
    if (s->log_open) mp__modlog_note(&s->log, "%s", msg);
    mp__eng_finish_failed(e, i, MP_STATUS_FAILED, msg);
}

void mp__eng_art_before(engine *e, size_t i)
{
    const mp_module *m = e->p->modules.v[i];
    if (m->consumes.n == 0 || !e->o->artifacts) {
        mp__eng_attempt_start(e, i);
        return;
    }
    mod_state *s = mp__eng_slot(e, i);
    mp_result *r = &e->run->results[i];
    if (!r->started_at) r->started_at = mp__clock_wall_ms();
    mp__eng_fresh_arena(s);
    mp_arena *a = s->att_arena;
    mp_module_env env = mp__eng_env(e, i, NULL);
    mp_art_job_item *items = mp__arena_alloc(a, m->consumes.n * sizeof *items);
    for (size_t k = 0; k < m->consumes.n; k++) {
        const mp_consume *c = &m->consumes.v[k];
        const char *pname = c->producer >= 0 ? e->p->modules.v[c->producer]->name : "?";
        const mp_artifact_ref *ar =
            c->producer >= 0 ? mp__result_artifact(&e->run->results[c->producer], c->name.s)
                             : NULL;
        if (!ar) {
            mp_status ps = c->producer >= 0 ? e->run->results[c->producer].status
                                            : MP_STATUS_PENDING;
            fail(e, i,
                 mp__arena_printf(e->run->arena,
                                  "artifact '%s' from module '%s' is missing: '%s' ended %s "
                                  "without publishing it",
                                  c->name.s, pname, pname, mp__status_name(ps)));
            return;
        }
        const char *path = c->path.s ? mp__module_subst(a, &env, c->path.s) : NULL;
        const char *target = !path || !*path ? e->workspace
                             : path[0] == '/' ? path
                                              : mp__arena_printf(a, "%s/%s", e->workspace, path);
        items[k] = (mp_art_job_item){.name = c->name.s,
                                     .producer = pname,
                                     .digest = ar->digest,
                                     .target = target};
    }
    mp_art_job_spec spec = {.publish = false,
                            .module = m->name,
                            .items = items,
                            .nitems = m->consumes.n,
                            .deadline = job_deadline(e),
                            .notify_fd = e->notify_fd};
    mp_error err = {0};
    if (mp__art_job_start(e->o->artifacts, &spec, &s->art_job, &err) < 0) {
        fail(e, i, mp__arena_strdup(e->run->arena, err.message));
        return;
    }
    s->phase = MOD_FETCH;
}

int mp__eng_art_after(engine *e, size_t i)
{
    const mp_module *m = e->p->modules.v[i];
    if (m->produces.n == 0 || !e->o->artifacts) return 0;
    mod_state *s = mp__eng_slot(e, i);
    mp__eng_fresh_arena(s);
    mp_arena *a = s->att_arena;
    mp_module_env env = mp__eng_env(e, i, NULL);
    mp_art_job_item *items = mp__arena_alloc(a, m->produces.n * sizeof *items);
    for (size_t k = 0; k < m->produces.n; k++) {
        const mp_produce *pr = &m->produces.v[k];
        const char **pats = mp__arena_alloc(a, (pr->paths.n ? pr->paths.n : 1) * sizeof(char *));
        for (size_t j = 0; j < pr->paths.n; j++)
            pats[j] = mp__module_subst(a, &env, pr->paths.v[j].s);
        items[k] = (mp_art_job_item){
            .name = pr->name.s, .patterns = pats, .npatterns = pr->paths.n};
    }
    mp_art_job_spec spec = {.publish = true,
                            .module = m->name,
                            .workdir = mp__module_workdir(a, &env),
                            .items = items,
                            .nitems = m->produces.n,
                            .deadline = job_deadline(e),
                            .notify_fd = e->notify_fd};
    mp_error err = {0};
    if (mp__art_job_start(e->o->artifacts, &spec, &s->art_job, &err) < 0) {
        fail(e, i, mp__arena_strdup(e->run->arena, err.message));
        return 1;
    }
    s->phase = MOD_PUBLISH;
    return 1;
}

void mp__eng_art_step(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    if (!s->art_job || !mp__art_job_done(s->art_job)) return;
    mp_art_published *pub = NULL;
    mp_error err = {0};
    int rc = mp__art_job_finish(s->art_job, &pub, &err);
    s->art_job = NULL;
    mod_phase was = s->phase;
    mp_result *r = &e->run->results[i];
    /* Stopped while fetching: it does not start. Stopped while publishing:
     * cancelled only if the publish did not complete. */
    if (s->cancel && (was == MOD_FETCH || rc < 0)) {
        r->skip_reason = s->cancel_reason ? s->cancel_reason : e->stop_reason;
        if (pub) {
            for (size_t k = 0; k < e->p->modules.v[i]->produces.n; k++)
                mp__art_published_release(&pub[k]);
            free(pub);
        }
        mp__eng_finish(e, i, MP_STATUS_CANCELLED);
        return;
    }
    if (rc < 0) {
        fail(e, i, mp__arena_strdup(e->run->arena, err.message));
        return;
    }
    if (was == MOD_FETCH) {
        mp__eng_attempt_start(e, i);
        return;
    }
    const mp_module *m = e->p->modules.v[i];
    mp_arena *ra = e->run->arena;
    for (size_t k = 0; k < m->produces.n; k++) {
        mp_art_published *p = &pub[k];
        mp_artifact_ref ar = {.name = mp__arena_strdup(ra, p->name),
                              .digest = mp__arena_strdup(ra, p->digest),
                              .size = p->size,
                              .nfiles = p->nfiles};
        ar.files = mp__arena_alloc(ra, (p->nfiles ? p->nfiles : 1) * sizeof(char *));
        for (size_t f = 0; f < p->nfiles; f++) ar.files[f] = mp__arena_strdup(ra, p->files[f]);
        MP_VEC_PUSH(ra, &r->artifacts, ar);
        if (s->log_open)
            mp__modlog_note(&s->log, "artifact '%s': %s, %zu files, %llu bytes%s", p->name,
                            p->digest, p->nfiles, (unsigned long long)p->size,
                            p->uploaded ? "" : " (already in the store)");
        mp__art_published_release(p);
    }
    free(pub);
    mp__eng_finish(e, i, MP_STATUS_SUCCEEDED);
}

void mp__eng_art_cancel(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    if (s->art_job) mp__art_job_cancel(s->art_job);
}
