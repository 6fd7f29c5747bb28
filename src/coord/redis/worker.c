/*
 * worker.c -- the worker side of the Redis coordinator.
 *
 * A claim runs claim.lua (pop and lease in one step); with nothing to
 * take it BLMPOPs its handle's wc list (completion) and the doorbells of
 * every class it serves at once, until its deadline or the moment the
 * master's liveness may lapse, then runs claim.lua again -- handing it
 * the doorbell token it woke with, so each queued module keeps exactly
 * one token. While the master is known alive a claim starts with the
 * pop (a module queued has a token to wake it), unless the last claim
 * saw modules still waiting: then with the script (one round trip).
 * Nothing is taken and put back.
 */
#include "coord/class.h"
#include "coord/redis/redis_int.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "os/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rc_worker {
    mp_coord_worker base;
    rc_common c;
    bool registered;
    char id[MP_COORD_WORKER_ID_MAX + 1];
    char inst[16];
    char **serves; /* classes in claim order */
    size_t n_serves;
    char **bells; /* full keys: wc:<nonce>, then bell:<class> of serves */
    /* Claimers' estimate of the master's liveness (monotonic ms; the
     * real one may only be later): 0 unknown. Written by claims only;
     * concurrent claims of one handle race harmlessly on it. */
    _Atomic int64_t master_until;
    /* The last claim saw modules still waiting: start with the script. */
    _Atomic bool backlog;
} rc_worker;

static rc_worker *downcast(mp_coord_worker *w)
{
    if (w->vt != &mp__coord_redis_worker_vtable)
        mp__die("coord.redis: not a redis worker handle (backend %s)", w->vt->name);
    return (rc_worker *)w;
}

static int w_open(const mp_coord_open_opts *o, mp_coord_worker **out, mp_error *err)
{
    rc_worker *rw = mp__xcalloc(1, sizeof *rw);
    int rc = mp__rc_open(o, &rw->c, err);
    if (rc < 0) {
        free(rw);
        return rc;
    }
    rw->base.vt = &mp__coord_redis_worker_vtable;
    *out = &rw->base;
    return 0;
}

static void w_close(mp_coord_worker *w)
{
    rc_worker *rw = downcast(w);
    mp__rc_close(&rw->c, rw->registered ? rw->id : NULL);
    for (size_t i = 0; i < rw->n_serves; i++) {
        free(rw->serves[i]);
        free(rw->bells[i + 1]);
    }
    if (rw->bells) free(rw->bells[0]);
    free(rw->serves);
    free(rw->bells);
    free(rw);
}

static char *key_of(const rc_common *c, const char *name)
{
    mp_strbuf sb = MP_STRBUF_INIT;
    mp__strbuf_addf(&sb, "%s%s", c->prefix, name);
    return mp__strbuf_detach(&sb);
}

/* Most specific class (most pairs) first, then by name (coord.md). */
static int claim_order(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int sx = mp__coord_class_size(x), sy = mp__coord_class_size(y);
    return sx != sy ? sy - sx : strcmp(x, y);
}

static int set_serves(rc_worker *rw, const redisReply *r, const char *caps, mp_error *err)
{
    rw->serves = mp__xcalloc(r->elements + 1, sizeof *rw->serves);
    for (size_t i = 1; i < r->elements; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return mp__error(err, MP_EPARSE, rw->c.prefix, "the classes of the plan are garbage");
        if (mp__coord_class_served(r->element[i]->str, caps))
            rw->serves[rw->n_serves++] = mp__xstrdup(r->element[i]->str);
    }
    qsort(rw->serves, rw->n_serves, sizeof *rw->serves, claim_order);
    rw->bells = mp__xcalloc(rw->n_serves + 1, sizeof *rw->bells);
    char wc[sizeof rw->c.nonce + 4];
    snprintf(wc, sizeof wc, "wc:%s", rw->c.nonce);
    rw->bells[0] = key_of(&rw->c, wc);
    for (size_t i = 0; i < rw->n_serves; i++) {
        mp_strbuf sb = MP_STRBUF_INIT;
        mp__strbuf_addf(&sb, "%sbell:%s", rw->c.prefix, rw->serves[i]);
        rw->bells[i + 1] = mp__strbuf_detach(&sb);
    }
    return 0;
}

/* Block on the handle's wo list up to block_ms; *popped is the list's
 * key when a token was popped (NULL on timeout). */
static int wait_wo(rc_worker *rw, int64_t block_ms, char **popped, mp_error *err)
{
    char name[sizeof rw->c.nonce + 4];
    snprintf(name, sizeof name, "wo:%s", rw->c.nonce);
    char *key = key_of(&rw->c, name);
    const char *keys[] = {key};
    int rc = mp__rc_pop(&rw->c, block_ms, 1, keys, popped, err);
    free(key);
    return rc;
}

static int w_register(mp_coord_worker *w, const mp_coord_registration *r, int64_t deadline,
                      mp_error *err)
{
    rc_worker *rw = downcast(w);
    if (rw->registered)
        return mp__error(err, MP_EEXIST, r->worker, "this handle is already registered");
    char inst[16], slots[16];
    snprintf(inst, sizeof inst, "%d", r->instance);
    snprintf(slots, sizeof slots, "%d", r->slots);
    const char *argv[] = {r->worker, inst, slots, r->capabilities, r->pipeline_hash, r->version};
    for (;;) {
        redisReply *rep = NULL;
        int rc = mp__rc_eval(&rw->c, &mp__rc_register, 6, argv, NULL, &rep, err);
        if (rc < 0) return rc;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
            rep->element[0]->type != REDIS_REPLY_INTEGER) {
            freeReplyObject(rep);
            return mp__error(err, MP_EPARSE, r->worker, "script register: unexpected reply");
        }
        if (rep->element[0]->integer == 1) {
            rw->c.planned_seen = true;
            rc = set_serves(rw, rep, r->capabilities, err);
            freeReplyObject(rep);
            if (rc < 0) return rc;
            rw->registered = true;
            snprintf(rw->id, sizeof rw->id, "%s", r->worker);
            snprintf(rw->inst, sizeof rw->inst, "%d", r->instance);
            return 0;
        }
        freeReplyObject(rep);
        int64_t block = mp__deadline_remaining_ms(deadline);
        if (block <= 0)
            return mp__error(err, MP_ETIMEDOUT, r->worker, "the master published no plan in time");
        char *popped = NULL;
        rc = wait_wo(rw, block, &popped, err);
        free(popped);
        if (rc < 0) return rc;
    }
}

static int me(rc_worker *rw, mp_error *err)
{
    if (!rw->registered) return mp__error(err, MP_ESTATE, rw->c.prefix, "worker not registered");
    return 0;
}

/* claim.lua once: 1 when it answered (lease, or a state in *state), 0
 * for "nothing", with *pttl the master's liveness left. */
static int claim_script(rc_worker *rw, const char **argv, size_t argc, mp_coord_lease *lease,
                        mp_coord_run_state *state, long long *pttl, mp_error *err)
{
    redisReply *r = NULL;
    int rc = mp__rc_eval(&rw->c, &mp__rc_claim, (int)argc, argv, NULL, &r, err);
    if (rc < 0) return rc;
    const char *what = r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
                               r->element[0]->type == REDIS_REPLY_STRING
                           ? r->element[0]->str
                           : "";
    rc = 1;
    if (strcmp(what, "ok") == 0 && r->elements == 5 && r->element[1]->type == REDIS_REPLY_STRING &&
        r->element[2]->type == REDIS_REPLY_INTEGER && r->element[3]->type == REDIS_REPLY_STRING &&
        r->element[4]->type == REDIS_REPLY_INTEGER) {
        snprintf(lease->module, sizeof lease->module, "%s", r->element[1]->str);
        snprintf(lease->token, sizeof lease->token, "%s", r->element[3]->str);
        lease->attempt = (int)r->element[2]->integer;
        *state = MP_COORD_RUN_ACTIVE;
        rw->backlog = r->element[4]->integer > 0;
    } else if (strcmp(what, "completed") == 0) {
        *state = MP_COORD_RUN_COMPLETED;
    } else if (strcmp(what, "lost") == 0) {
        *state = MP_COORD_RUN_MASTER_LOST;
    } else if (strcmp(what, "none") == 0 && r->elements == 2 &&
               r->element[1]->type == REDIS_REPLY_INTEGER) {
        *pttl = r->element[1]->integer;
        rc = 0;
    } else {
        rc = mp__error(err, MP_EPARSE, rw->id, "script claim: unexpected reply");
    }
    freeReplyObject(r);
    return rc;
}

static int w_claim(mp_coord_worker *w, int64_t deadline, mp_coord_lease *lease,
                   mp_coord_run_state *state, mp_error *err)
{
    rc_worker *rw = downcast(w);
    int rc = me(rw, err);
    if (rc < 0) return rc;
    size_t argc = 4 + rw->n_serves;
    const char **argv = mp__xcalloc(argc, sizeof *argv);
    argv[0] = rw->id;
    argv[1] = rw->inst;
    for (size_t i = 0; i < rw->n_serves; i++)
        argv[4 + i] = rw->serves[i];
    /* Every queued module has a doorbell token nobody holds, or one a
     * claimer holds on its way to claim.lua: so while the master is known
     * alive, a claim may start with the blocking pop. */
    bool script = rw->backlog || mp__clock_now_ms() >= rw->master_until;
    const char *held = NULL; /* class of the doorbell token woken with */
    for (;;) {
        if (script) {
            long long pttl = -1;
            argv[2] = held ? "1" : "0";
            argv[3] = held ? held : "";
            rc = claim_script(rw, argv, argc, lease, state, &pttl, err);
            if (rc != 0) break;
            rw->backlog = false;
            rw->master_until = pttl == -1   ? MP_DEADLINE_NONE
                               : pttl >= 0 ? mp__deadline_in(pttl)
                                           : 0;
        }
        held = NULL;
        int64_t block = mp__deadline_remaining_ms(deadline);
        int64_t left = mp__deadline_remaining_ms(rw->master_until);
        if (left < block) block = left + 1;
        if (block <= 0 || left <= 0) {
            if (!script) { /* look once before giving up */
                script = true;
                continue;
            }
            rc = mp__error(err, MP_ETIMEDOUT, rw->id, "nothing to claim");
            break;
        }
        char *key = NULL;
        rc = mp__rc_pop(&rw->c, block, (int)rw->n_serves + 1, (const char *const *)rw->bells,
                        &key, err);
        if (rc < 0) break;
        if (key && strcmp(key, rw->bells[0]) == 0)
            mp__rc_repush(&rw->c, key, "complete"); /* for other claimers of this handle */
        for (size_t i = 0; key && i < rw->n_serves; i++)
            if (strcmp(key, rw->bells[i + 1]) == 0) held = rw->serves[i];
        free(key);
        script = true;
    }
    free(argv);
    return rc < 0 ? rc : 0;
}

static int w_renew(mp_coord_worker *w, const mp_coord_lease *lease, mp_coord_renew_answer *answer,
                   mp_error *err)
{
    rc_worker *rw = downcast(w);
    const char *argv[] = {lease->module, lease->token};
    redisReply *r = NULL;
    int rc = mp__rc_eval(&rw->c, &mp__rc_renew, 2, argv, NULL, &r, err);
    if (rc < 0) return rc;
    if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "ok") == 0)
        *answer = MP_COORD_RENEW_OK;
    else if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "cancel") == 0)
        *answer = MP_COORD_RENEW_CANCEL;
    else if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "lost") == 0)
        *answer = MP_COORD_RENEW_LOST;
    else
        rc = mp__error(err, MP_EPARSE, lease->module, "script renew: unexpected reply");
    freeReplyObject(r);
    return rc;
}

static int w_complete(mp_coord_worker *w, const mp_coord_lease *lease, const char *status,
                      const char *result_json, mp_error *err)
{
    rc_worker *rw = downcast(w);
    mp_strbuf v = MP_STRBUF_INIT;
    mp__strbuf_addf(&v, "%s\n%s", MP_COORD_REDIS_PROTO, result_json);
    char att[16];
    snprintf(att, sizeof att, "%d", lease->attempt);
    const char *argv[] = {lease->module, lease->token, status,  v.buf,
                          rw->registered ? rw->id : "", rw->registered ? rw->inst : "-1", att};
    size_t lens[7];
    for (int i = 0; i < 7; i++)
        lens[i] = i == 3 ? v.len : strlen(argv[i]);
    int rc = mp__rc_eval(&rw->c, &mp__rc_complete, 7, argv, lens, NULL, err);
    mp__strbuf_release(&v);
    return rc;
}

static int w_fetch_result(mp_coord_worker *w, const char *module, char **json, mp_error *err)
{
    return mp__rc_fetch(&downcast(w)->c, module, json, err);
}

static int w_heartbeat(mp_coord_worker *w, mp_error *err)
{
    rc_worker *rw = downcast(w);
    int rc = me(rw, err);
    if (rc < 0) return rc;
    const char *argv[] = {rw->id};
    return mp__rc_eval(&rw->c, &mp__rc_wheartbeat, 1, argv, NULL, NULL, err);
}

static int w_observe(mp_coord_worker *w, int64_t deadline, mp_coord_run_state *state, mp_error *err)
{
    rc_worker *rw = downcast(w);
    char *popped = NULL;
    int rc = 0;
    for (;;) {
        rc_state st;
        rc = mp__rc_get_state(&rw->c, &st, err);
        if (rc < 0) break;
        if (!st.planned) {
            rc = mp__error(err, MP_ESTATE, rw->c.prefix, "no plan published yet");
            break;
        }
        *state = mp__rc_run_state(&st);
        if (*state != MP_COORD_RUN_ACTIVE) {
            if (popped) /* other observers of this handle may wait on it */
                mp__rc_repush(&rw->c, popped, "wake");
            break;
        }
        int64_t block = mp__rc_block_ms(deadline, st.master_pttl);
        if (block <= 0) break;
        free(popped);
        popped = NULL;
        rc = wait_wo(rw, block, &popped, err);
        if (rc < 0) break;
    }
    free(popped);
    return rc;
}

const mp_coord_worker_vtable mp__coord_redis_worker_vtable = {
    .version = MP_COORD_VTABLE_VERSION,
    .name = "redis",
    .open = w_open,
    .close = w_close,
    .register_ = w_register,
    .claim = w_claim,
    .renew = w_renew,
    .complete = w_complete,
    .fetch_result = w_fetch_result,
    .heartbeat = w_heartbeat,
    .observe = w_observe,
};
