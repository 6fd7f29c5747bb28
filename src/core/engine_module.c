/*
 * engine_module.c -- a module's attempts in the engine (engine_int.h):
 * starting them (log, $MODPIPE_OUTPUT, environment, command), retries
 * with doubling delay and jitter, outputs, cancellation, and its result.
 * Conditions come before, in engine_cond.c.
 *
 * Runs on the engine's loop thread only. Every path ends in
 * mp__eng_finish(), which fills the result and hands the module back to
 * engine.c (mp__eng_module_done).
 */
#include "core/ctx.h"
#include "core/engine_int.h"
#include "core/error.h"
#include "core/module_env.h"
#include "core/outputs.h"
#include "core/xalloc.h"
#include "os/clock.h"
#include "output/mask.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_RETRY_DELAY_MS 1000
#define MAX_RETRY_DELAY_MS     (3600 * 1000)

static mp_result *res(engine *e, size_t i)
{
    return &e->run->results[i];
}

static const mp_module *mod(engine *e, size_t i)
{
    return e->p->modules.v[i];
}

const char *mp__eng_masked(engine *e, const char *s)
{
    if (!s) return NULL;
    char *m = mp__mask_string(e->masker, s);
    const char *r = mp__arena_strdup(e->run->arena, m);
    free(m);
    return r;
}

mp_module_env mp__eng_env(engine *e, size_t i, const char *output_path)
{
    mod_state *s = mp__eng_slot(e, i);
    return (mp_module_env){.base = e->env_base,
                           .p = e->p,
                           .m = mod(e, i),
                           .results = e->run->results,
                           .run_id = e->o->run_id,
                           .instance_index = e->o->instance_index,
                           .attempt = s->attempts > 0 ? s->attempts : 1,
                           .workspace = e->workspace,
                           .output_path = output_path,
                           .environ = e->environ};
}

void mp__eng_fresh_arena(mod_state *s)
{
    if (s->att_arena)
        mp__arena_reset(s->att_arena);
    else
        s->att_arena = mp__arena_new();
}

static int is_failure(mp_status st)
{
    return st == MP_STATUS_FAILED || st == MP_STATUS_TIMED_OUT || st == MP_STATUS_IGNORED_FAILURE;
}

void mp__eng_finish(engine *e, size_t i, mp_status st)
{
    mod_state *s = mp__eng_slot(e, i);
    mp_result *r = res(e, i);
    r->status = st;
    r->attempts = s->attempts;
    r->duration_ms = s->run_ms;
    if (r->started_at) r->ended_at = mp__clock_wall_ms();
    if (s->log_open) {
        if (is_failure(st)) r->log_tail = mp__modlog_tail(&s->log, e->run->arena);
        if (mp__modlog_created(&s->log)) r->log_path = mp__arena_strdup(e->run->arena, s->log.path);
        mp__modlog_close(&s->log);
        s->log_open = 0;
    }
    mp__cmd_check_release(&s->check);
    mp__arena_reset(s->att_arena);
    s->phase = MOD_DONE;
    mp__eng_module_done(e, i, st);
}

void mp__eng_finish_failed(engine *e, size_t i, mp_status st, const char *msg)
{
    mp_result *r = res(e, i);
    if (msg) r->error_message = mp__eng_masked(e, msg);
    mp__eng_finish(e, i, mod(e, i)->ignore_failure ? MP_STATUS_IGNORED_FAILURE : st);
}

/* A failure found before the attempt's process or thread could start:
 * final, no retry (it would fail the same way). */
static void fail_to_start(engine *e, size_t i, const char *msg)
{
    mod_state *s = mp__eng_slot(e, i);
    if (s->log_open) mp__modlog_note(&s->log, "%s", msg);
    mp__eng_finish_failed(e, i, MP_STATUS_FAILED, msg);
}

/* -------------------------------------------------------------- attempts */

static void echo(void *data, const char *bytes, size_t n)
{
    mod_state *s = data;
    engine *e = s->e;
    for (size_t k = 0; k < e->o->nsinks; k++) {
        const mp_sink *sk = &e->o->sinks[k];
        if (sk->vt->module_output) sk->vt->module_output(sk->data, s->idx, bytes, n);
    }
}

/* The module creates its $MODPIPE_OUTPUT file if it has outputs: remove
 * the one an earlier run left. */
static int remove_stale(const char *path, mp_error *err)
{
    if (unlink(path) < 0 && errno != ENOENT)
        return mp__error(err, MP_EIO, path, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static int64_t timeout_of(engine *e, const mp_module *m)
{
    int64_t t = m->timeout_ms >= 0 ? m->timeout_ms : e->p->options.timeout_ms;
    return t > 0 ? t : 0;
}

/* Fill the process part of spec; a message on failure. */
static const char *prepare_process(engine *e, size_t i, mp_attempt_spec *spec, mp_error *err)
{
    mod_state *s = mp__eng_slot(e, i);
    const mp_module *m = mod(e, i);
    mp_arena *a = s->att_arena;
    s->output_path = mp__arena_printf(a, "%s/%s.%d", e->outputs_dir, e->log_names[i], s->attempts);
    if ((e->stale[i] & STALE_OUT) && remove_stale(s->output_path, err) < 0) return err->message;
    e->stale[i] |= STALE_OUT; /* the module may write it now */
    mp_module_env me = mp__eng_env(e, i, s->output_path);
    const char **envp = NULL;
    if (mp__module_env_build(a, &me, &envp, err) < 0) return err->message;
    spec->envp = envp;
    spec->cwd = mp__module_workdir(a, &me);
    if (m->run_kind == MP_RUN_SHELL) {
        spec->shell = mp__module_subst(a, &me, m->run.s ? m->run.s : "");
    } else if (m->run_kind == MP_RUN_ARGV && m->argv.n) {
        const char **argv = mp__arena_alloc(a, (m->argv.n + 1) * sizeof(*argv));
        for (size_t k = 0; k < m->argv.n; k++)
            argv[k] = mp__module_subst(a, &me, m->argv.v[k].s);
        spec->argv = argv;
    } else {
        snprintf(err->message, sizeof(err->message), "module \"%s\" has nothing to run", m->name);
        return err->message;
    }
    return NULL;
}

static const char *check_secrets(engine *e, size_t i, mp_error *err)
{
    const mp_module *m = mod(e, i);
    for (size_t k = 0; k < m->secrets.n; k++) {
        const char *v = mp__environ_get(e->environ, m->secrets.v[k].s);
        if (!v || !*v) {
            mp__error(err, MP_ENOENT, m->secrets.v[k].s,
                      "secret \"%s\" of module \"%s\" is not set in the environment",
                      m->secrets.v[k].s, m->name);
            return err->message;
        }
    }
    return NULL;
}

void mp__eng_attempt_start(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    const mp_module *m = mod(e, i);
    mp_result *r = res(e, i);
    mp_error err = {0};
    int k = ++s->attempts;
    if (k == 1) {
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s.log", e->logs_dir, e->log_names[i]);
        r->started_at = mp__clock_wall_ms();
        if (n < 0 || (size_t)n >= sizeof(path)) {
            fail_to_start(e, i,
                          mp__arena_printf(e->run->arena, "log file path too long: %s/%s.log",
                                           e->logs_dir, e->log_names[i]));
            return;
        }
        mp_modlog_opts lo = {.path = path,
                             .masker = e->masker,
                             .echo = echo,
                             .echo_data = s,
                             .may_exist = (e->stale[i] & STALE_LOG) != 0};
        e->stale[i] |= STALE_LOG; /* from here on it may exist */
        if (mp__modlog_open(&s->log, &lo, &err) < 0) {
            fail_to_start(e, i, err.message);
            return;
        }
        s->log_open = 1;
    }
    mp__modlog_begin_attempt(&s->log, k);
    mp__eng_fresh_arena(s);
    mp_attempt_spec spec = {.module = m,
                            .attempt = k,
                            .fn_pool = e->fn_pool,
                            .timeout_ms = timeout_of(e, m),
                            .kill_grace_ms = e->grace_ms,
                            .log = &s->log};
    if (m->run_kind == MP_RUN_FUNCTION && !e->fn_pool)
        spec.fn_pool = e->fn_pool = mp__fn_pool_new(e->parallelism, e->notify_fd);
    const char *why = m->run_kind == MP_RUN_FUNCTION ? check_secrets(e, i, &err)
                                                     : prepare_process(e, i, &spec, &err);
    mp__eng_emit_started(e, i, k);
    if (!why && mp__attempt_start(&s->att, &spec, &err) < 0) why = err.message;
    if (why) {
        fail_to_start(e, i, why);
        return;
    }
    s->phase = MOD_ATTEMPT;
    if (++e->attempts_running > e->run->peak_concurrency)
        e->run->peak_concurrency = e->attempts_running;
}

static int64_t retry_delay(engine *e, size_t i)
{
    const mp_module *m = mod(e, i);
    int64_t d = m->retry_delay_ms >= 0 ? m->retry_delay_ms : DEFAULT_RETRY_DELAY_MS;
    for (int k = 1; k < mp__eng_slot(e, i)->attempts && d < MAX_RETRY_DELAY_MS; k++)
        d *= 2;
    if (d > MAX_RETRY_DELAY_MS) d = MAX_RETRY_DELAY_MS;
    /* xorshift64*: jitter of +-20% so retries of many modules spread out. */
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    uint64_t x = e->rng * 0x2545F4914F6CDD1DULL;
    double f = 0.8 + 0.4 * ((double)(x >> 11) / (double)(1ULL << 53));
    return (int64_t)((double)d * f);
}

static void add_output(mp_arena *a, mp_kv_vec *out, const mp_masker *mk, const char *key,
                       size_t klen, const char *value, size_t vlen)
{
    if (!mk || !mp__masker_count(mk)) {
        mp__outputs_set(a, out, key, klen, value, vlen);
        return;
    }
    char *v = mp__xmalloc(vlen + 1);
    memcpy(v, value, vlen);
    v[vlen] = '\0';
    char *mv = mp__mask_string(mk, v);
    mp__outputs_set(a, out, key, klen, mv, strlen(mv));
    free(mv);
    free(v);
}

typedef struct ctx_collect {
    engine *e;
    mp_kv_vec *out;
} ctx_collect;

static void ctx_output(const char *key, const char *value, void *data)
{
    ctx_collect *c = data;
    add_output(c->e->run->arena, c->out, c->e->masker, key, strlen(key), value, strlen(value));
}

/* The outputs of the attempt that just ended become the result's. */
static void collect_outputs(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    mp_result *r = res(e, i);
    r->outputs.n = 0;
    s->outputs_problems = NULL;
    if (s->att.is_fn) {
        ctx_collect c = {e, &r->outputs};
        mp__ctx_outputs(s->att.fn.ctx, ctx_output, &c);
        return;
    }
    mp_kv_vec raw = {0};
    mp_strbuf problems = MP_STRBUF_INIT;
    mp__outputs_read_file(s->output_path, s->att_arena, &raw, &problems);
    /* The values are in the result now, masked; the file holds them in the
     * clear (secrets included), so it does not outlive the attempt. */
    unlink(s->output_path);
    for (size_t k = 0; k < raw.n; k++)
        add_output(e->run->arena, &r->outputs, e->masker, raw.v[k].key.s, strlen(raw.v[k].key.s),
                   raw.v[k].value.s, strlen(raw.v[k].value.s));
    if (problems.len) {
        problems.buf[--problems.len] = '\0'; /* the final newline */
        mp__modlog_note(&s->log, "%s", problems.buf);
        s->outputs_problems = mp__eng_masked(e, problems.buf);
    }
    mp__strbuf_release(&problems);
}

static int stopping_for(engine *e, size_t i)
{
    return mp__eng_slot(e, i)->cancel || (mp__eng_stopping(e) && !mod(e, i)->always_run);
}

static void attempt_ended(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    mp_attempt *a = &s->att;
    mp_result *r = res(e, i);
    e->attempts_running--;
    s->run_ms += a->ended_ms - a->started_ms;
    r->exit_code = a->exit_code;
    r->term_signal = a->term_signal;
    collect_outputs(e, i);
    mp_status st = a->status;
    const char *msg = a->error[0] ? mp__arena_strdup(e->run->arena, a->error) : NULL;
    mp__attempt_release(a);
    if (st == MP_STATUS_CANCELLED) {
        r->skip_reason = s->cancel_reason ? s->cancel_reason : e->stop_reason;
        mp__eng_finish(e, i, MP_STATUS_CANCELLED);
        return;
    }
    if (st == MP_STATUS_SUCCEEDED) {
        r->error_message = s->outputs_problems;
        if (mp__eng_art_after(e, i)) return; /* publishing, or failed */
        mp__eng_finish(e, i, MP_STATUS_SUCCEEDED);
        return;
    }
    s->last_status = st;
    s->last_error = msg;
    if (s->attempts < s->max_attempts && !stopping_for(e, i)) {
        int64_t d = retry_delay(e, i);
        mp__modlog_note(&s->log, "attempt %d of %d %s; retrying in %lld ms", s->attempts,
                        s->max_attempts, st == MP_STATUS_TIMED_OUT ? "timed out" : "failed",
                        (long long)d);
        s->retry_at = mp__deadline_in(d);
        s->phase = MOD_RETRY_WAIT;
        return;
    }
    if (s->max_attempts > 1 && msg)
        msg = mp__arena_printf(e->run->arena, "%s (attempt %d of %d)", msg, s->attempts,
                               s->max_attempts);
    mp__eng_finish_failed(e, i, st, msg);
}

/* ------------------------------------------------------------ the loop's */

void mp__eng_module_step(engine *e, size_t i)
{
    mod_state *s = mp__eng_slot(e, i);
    switch (s->phase) {
    case MOD_COND:
        if (mp__cmd_check_step(&s->check)) mp__eng_cond_done(e, i);
        break;
    case MOD_ATTEMPT:
        if (mp__attempt_step(&s->att, &e->scratch)) attempt_ended(e, i);
        break;
    case MOD_RETRY_WAIT:
        if (mp__deadline_passed(s->retry_at)) mp__eng_attempt_start(e, i);
        break;
    case MOD_FETCH:
    case MOD_PUBLISH:
        mp__eng_art_step(e, i);
        break;
    case MOD_IDLE:
    case MOD_DONE:
        break;
    }
}

size_t mp__eng_module_fds(engine *e, size_t i, struct pollfd *pfd, int64_t *deadline)
{
    mod_state *s = mp__eng_slot(e, i);
    switch (s->phase) {
    case MOD_COND:
        *deadline = mp__cmd_check_deadline(&s->check);
        return mp__cmd_check_fds(&s->check, pfd);
    case MOD_ATTEMPT:
        *deadline = mp__attempt_deadline(&s->att);
        return mp__attempt_fds(&s->att, pfd);
    case MOD_RETRY_WAIT:
        *deadline = s->retry_at;
        return 0;
    case MOD_FETCH:
    case MOD_PUBLISH: /* the job writes the notify fd */
    case MOD_IDLE:
    case MOD_DONE:
        break;
    }
    *deadline = MP_DEADLINE_NONE;
    return 0;
}

void mp__eng_module_cancel(engine *e, size_t i, const char *reason)
{
    mod_state *s = mp__eng_slot(e, i);
    if (s->cancel) return;
    s->cancel = 1;
    s->cancel_reason = reason;
    switch (s->phase) {
    case MOD_COND:
        mp__cmd_check_release(&s->check);
        res(e, i)->skip_reason = reason;
        mp__eng_finish(e, i, MP_STATUS_CANCELLED);
        break;
    case MOD_ATTEMPT:
        mp__attempt_cancel(&s->att);
        break;
    case MOD_RETRY_WAIT:
        /* Its last attempt failed; the retry will not happen. */
        mp__modlog_note(&s->log, "no retry: %s", reason);
        mp__eng_finish_failed(e, i, s->last_status,
                      mp__arena_printf(e->run->arena, "%s (attempt %d of %d; no retry: %s)",
                                       s->last_error ? s->last_error : "failed", s->attempts,
                                       s->max_attempts, reason));
        break;
    case MOD_FETCH:
    case MOD_PUBLISH:
        mp__eng_art_cancel(e, i);
        break;
    case MOD_IDLE:
    case MOD_DONE:
        break;
    }
}
