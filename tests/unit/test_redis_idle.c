/* test_redis_idle.c -- idle costs nothing but heartbeats and blocking
 * waits: 3 workers blocked in a claim for IDLE_S seconds with nothing
 * queued, each heartbeating every second, and a master waiting in
 * next_event meanwhile. INFO commandstats of a redis-server of the
 * test's own, before and after, must show only the scripts (heartbeats,
 * claims, the master's sweeps), BLMPOP and XREAD, in counts bounded by
 * the wake-ups the design allows (a 10 ms polling loop would issue
 * thousands):
 *   per worker: IDLE_S+1 heartbeats, 2 claim scripts and 1 BLMPOP (one
 *   wait until the deadline: the master's liveness outlasts it; one more
 *   of each allowed for a wait the server's timer ends a hair early);
 *   master: one sweep and one XREAD per lapse it must look at -- the
 *   earliest worker liveness, worker_timeout (4 s) after a heartbeat,
 *   i.e. about every 4 - 1 = 3 s -- plus the first and the last.
 * labels: redis
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "coord/coord.h"
#include "os/clock.h"
#include "redis_server.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IDLE_S   60 /* the 60 s of idle workers */
#define WORKERS  3
#define WT_MS    4000
#define HB_MS    1000
#define HASH     "h1"
#define VERSION  "0.1.0"

typedef struct stats {
    char name[32][32];
    long long calls[32];
    int n;
} stats;

static void commandstats(int port, stats *s)
{
    memset(s, 0, sizeof *s);
    redisReply *r = ts_cmd(port, "INFO commandstats");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    for (const char *line = r->str; line && *line && s->n < 32; line = strchr(line, '\n')) {
        line += *line == '\n';
        char name[32];
        long long calls;
        if (sscanf(line, "cmdstat_%31[^:]:calls=%lld", name, &calls) == 2) {
            snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
            s->calls[s->n++] = calls;
        }
    }
    freeReplyObject(r);
}

static long long calls_of(const stats *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->name[i], name) == 0) return s->calls[i];
    return 0;
}

typedef struct idler {
    mp_coord_worker *w;
    int claim_rc, hb_fail;
    int64_t until;
} idler;

static void *claimer(void *arg)
{
    idler *x = arg;
    mp_coord_lease l;
    mp_coord_run_state st;
    x->claim_rc = mp__coord_worker_claim(x->w, x->until, &l, &st, NULL);
    return NULL;
}

static void *heartbeater(void *arg)
{
    idler *x = arg;
    int64_t next = mp__clock_now_ms();
    while (next <= x->until) {
        x->hb_fail += mp__coord_worker_heartbeat(x->w, NULL) != 0;
        next += HB_MS;
        int64_t left = next - mp__clock_now_ms();
        if (left > 0) {
            struct timespec ts = {left / 1000, (left % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void test_idle_commands(void **state)
{
    (void)state;
    ts_server s;
    ts_start(&s);
    char run_id[64];
    snprintf(run_id, sizeof run_id, "idle-%d", (int)getpid());
    mp_coord_open_opts o = {.url = s.url, .run_id = run_id};
    mp_coord_master *m = NULL;
    mp_error err = {0};
    assert_int_equal(mp__coord_master_open(&o, &m, &err), 0);
    mp_coord_plan_module mods[] = {{"x", ""}};
    mp_coord_plan plan = {.pipeline_hash = HASH,
                          .version = VERSION,
                          .instances = WORKERS + 1,
                          .lease_ms = 60000,
                          .worker_timeout_ms = WT_MS,
                          .master_timeout_ms = 120000,
                          .n_modules = 1,
                          .modules = mods};
    assert_int_equal(mp__coord_master_publish_plan(m, &plan, &err), 0);
    idler x[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        x[i] = (idler){0};
        assert_int_equal(mp__coord_worker_open(&o, &x[i].w, &err), 0);
        char id[16];
        snprintf(id, sizeof id, "w%d", i + 1);
        mp_coord_registration reg = {.instance = i + 1,
                                     .worker = id,
                                     .capabilities = "",
                                     .slots = 1,
                                     .pipeline_hash = HASH,
                                     .version = VERSION};
        assert_int_equal(mp__coord_worker_register(x[i].w, &reg, mp__deadline_in(2000), &err), 0);
    }
    /* Warm up: scripts loaded (a first EVALSHA answers NOSCRIPT), the
     * join events read, so the window below is the steady idle state. */
    mp_coord_event ev;
    int events = 0, rc;
    for (int i = 0; i < WORKERS; i++) {
        mp_coord_lease l;
        mp_coord_run_state st;
        assert_int_equal(mp__coord_worker_heartbeat(x[i].w, &err), 0);
        assert_int_equal(mp__coord_worker_claim(x[i].w, mp__deadline_in(0), &l, &st, &err),
                         MP_ETIMEDOUT);
    }
    while (mp__coord_master_next_event(m, mp__deadline_in(0), &ev, &err) == 0) {
        assert_int_equal(ev.kind, MP_COORD_EV_WORKER_JOINED);
        events++;
        mp__coord_event_release(&ev);
    }
    assert_int_equal(events, WORKERS);
    stats before, after;
    commandstats(s.port, &before);
    int64_t t0 = mp__clock_now_ms(), until = t0 + IDLE_S * 1000;
    pthread_t tc[WORKERS], th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        x[i].until = until;
        assert_int_equal(pthread_create(&tc[i], NULL, claimer, &x[i]), 0);
        assert_int_equal(pthread_create(&th[i], NULL, heartbeater, &x[i]), 0);
    }
    rc = mp__coord_master_next_event(m, until, &ev, &err); /* nobody leaves */
    if (rc == 0) print_message("event %s\n", mp__coord_event_kind_name(ev.kind));
    assert_int_equal(rc, MP_ETIMEDOUT);
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(tc[i], NULL);
        pthread_join(th[i], NULL);
        assert_int_equal(x[i].claim_rc, MP_ETIMEDOUT);
        assert_int_equal(x[i].hb_fail, 0);
    }
    int64_t wall = mp__clock_now_ms() - t0;
    commandstats(s.port, &after);
    /* commandstats also counts the commands our scripts run inside
     * EVALSHA: those are bounded per script call below. */
    long long client = 0, inside = 0;
    for (int i = 0; i < after.n; i++) {
        long long d = after.calls[i] - calls_of(&before, after.name[i]);
        if (d == 0) continue;
        print_message("%-14s %lld\n", after.name[i], d);
        bool top = !strcmp(after.name[i], "evalsha") || !strcmp(after.name[i], "blmpop") ||
                   !strcmp(after.name[i], "xread") || !strcmp(after.name[i], "info") ||
                   !strcmp(after.name[i], "ping"); /* handshake of a pooled connection */
        if (top)
            client += d;
        else
            inside += d;
    }
    long long hb = IDLE_S * 1000 / HB_MS + 1; /* heartbeats per worker */
    /* A claim: its script, one BLMPOP to the deadline, its script again;
     * once more if the server's timer ended the wait a hair early. */
    long long master_wakes = IDLE_S * 1000 / (WT_MS - HB_MS) + 3;
    long long evalsha_max = WORKERS * (hb + 3) + master_wakes;
    long long blmpop_max = WORKERS * 2, xread_max = master_wakes;
    long long pings_max = 2 * WORKERS + 1;
    long long evalsha = calls_of(&after, "evalsha") - calls_of(&before, "evalsha");
    print_message("idle %lld ms: %lld client commands, %lld inside scripts; bounds evalsha %lld "
                  "blmpop %lld xread %lld\n",
                  (long long)wall, client, inside, evalsha_max, blmpop_max, xread_max);
    assert_true(inside <= 12 * evalsha); /* a few commands per script, no loop in Lua */
    assert_true(calls_of(&after, "evalsha") - calls_of(&before, "evalsha") <= evalsha_max);
    assert_true(calls_of(&after, "blmpop") - calls_of(&before, "blmpop") <= blmpop_max);
    assert_true(calls_of(&after, "xread") - calls_of(&before, "xread") <= xread_max);
    assert_true(calls_of(&after, "ping") - calls_of(&before, "ping") <= pings_max);
    assert_true(calls_of(&after, "info") - calls_of(&before, "info") <= 1);
    for (int i = 0; i < WORKERS; i++)
        mp__coord_worker_close(x[i].w);
    mp__coord_master_close(m);
    ts_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_idle_commands)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
