/* test_redis_restart.c -- the Redis coordinator when its server goes
 * away mid-run (a redis-server of the test's own, killed with SIGKILL):
 *   - restarted with the run's keys (saved before): calls reconnect with
 *     backoff and go on, the master's event cursor included;
 *   - restarted empty (no persistence): every side says "run state lost"
 *     (MP_ELOST) at once instead of waiting;
 *   - not restarted: calls fail with MP_EIO within the URL's timeout.
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
#include <unistd.h>

#define HASH    "h1"
#define VERSION "0.1.0"

typedef struct run {
    char id[64];
    char url[160];
    mp_coord_open_opts o;
    mp_coord_master *m;
    mp_coord_worker *w;
} run;

static run *run_start(const char *url)
{
    static int seq;
    run *r = calloc(1, sizeof *r);
    snprintf(r->id, sizeof r->id, "restart-%d-%d", (int)getpid(), ++seq);
    snprintf(r->url, sizeof r->url, "%s", url);
    r->o = (mp_coord_open_opts){.url = r->url, .run_id = r->id};
    mp_error err = {0};
    assert_int_equal(mp__coord_master_open(&r->o, &r->m, &err), 0);
    mp_coord_plan_module mods[] = {{"a", ""}, {"b", ""}};
    mp_coord_plan plan = {.pipeline_hash = HASH,
                          .version = VERSION,
                          .instances = 4,
                          .lease_ms = 60000,
                          .worker_timeout_ms = 60000,
                          .master_timeout_ms = 60000,
                          .n_modules = 2,
                          .modules = mods};
    assert_int_equal(mp__coord_master_publish_plan(r->m, &plan, &err), 0);
    assert_int_equal(mp__coord_worker_open(&r->o, &r->w, &err), 0);
    mp_coord_registration reg = {.instance = 1,
                                 .worker = "w1",
                                 .capabilities = "",
                                 .slots = 1,
                                 .pipeline_hash = HASH,
                                 .version = VERSION};
    assert_int_equal(mp__coord_worker_register(r->w, &reg, mp__deadline_in(2000), &err), 0);
    return r;
}

static void run_end(run *r)
{
    mp__coord_worker_close(r->w);
    mp__coord_master_close(r->m);
    free(r);
}

typedef struct claim_arg {
    mp_coord_worker *w;
    int rc;
    mp_coord_lease l;
    mp_error err;
    int64_t took;
} claim_arg;

static void *claim_thread(void *arg)
{
    claim_arg *a = arg;
    mp_coord_run_state st;
    int64_t t0 = mp__clock_now_ms();
    a->rc = mp__coord_worker_claim(a->w, mp__deadline_in(10000), &a->l, &st, &a->err);
    a->took = mp__clock_now_ms() - t0;
    return NULL;
}

static void test_restart_with_keys(void **state)
{
    (void)state;
    ts_server s;
    ts_start(&s);
    run *r = run_start(s.url);
    mp_error err = {0};
    assert_int_equal(mp__coord_master_enqueue(r->m, "a", &err), 0);
    redisReply *x = ts_cmd(s.port, "SAVE");
    assert_int_equal(x->type, REDIS_REPLY_STATUS);
    freeReplyObject(x);
    ts_kill(&s, SIGKILL);
    claim_arg a = {.w = r->w};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, claim_thread, &a), 0);
    usleep(700 * 1000); /* the claim retries meanwhile */
    ts_restart(&s);     /* from this thread: the server dies with the test */
    pthread_join(t, NULL);
    if (a.rc) print_error("claim across the restart: %s\n", a.err.message);
    assert_int_equal(a.rc, 0);
    assert_string_equal(a.l.module, "a");
    print_message("claim across a restart took %lld ms\n", (long long)a.took);
    assert_true(a.took >= 600 && a.took < 5000); /* it waited for the server, within timeout */
    /* The master reconnects too and reads on from its cursor. */
    mp_coord_event ev;
    for (;;) {
        int rc = mp__coord_master_next_event(r->m, mp__deadline_in(5000), &ev, &err);
        if (rc) print_error("next_event: %s\n", err.message);
        assert_int_equal(rc, 0);
        bool claimed = ev.kind == MP_COORD_EV_CLAIMED;
        if (claimed) assert_string_equal(ev.module, "a");
        mp__coord_event_release(&ev);
        if (claimed) break;
    }
    run_end(r);
    ts_stop(&s);
}

static void lost(int rc, const mp_error *err, int64_t t0)
{
    if (rc != MP_ELOST) print_error("rc %d: %s\n", rc, err->message);
    assert_int_equal(rc, MP_ELOST);
    assert_non_null(strstr(err->message, "run state lost"));
    assert_true(mp__clock_now_ms() - t0 < 4000); /* told, not left waiting */
}

static void test_restart_empty(void **state)
{
    (void)state;
    ts_server s;
    ts_start(&s);
    run *r = run_start(s.url);
    ts_kill(&s, SIGKILL);
    ts_restart(&s); /* no dump: every key of the run is gone */
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    lost(mp__coord_worker_heartbeat(r->w, &err), &err, t0);
    mp_coord_lease l;
    mp_coord_run_state st;
    t0 = mp__clock_now_ms();
    lost(mp__coord_worker_claim(r->w, mp__deadline_in(10000), &l, &st, &err), &err, t0);
    t0 = mp__clock_now_ms();
    lost(mp__coord_worker_observe(r->w, mp__deadline_in(10000), &st, &err), &err, t0);
    mp_coord_event ev;
    t0 = mp__clock_now_ms();
    lost(mp__coord_master_next_event(r->m, mp__deadline_in(10000), &ev, &err), &err, t0);
    t0 = mp__clock_now_ms();
    lost(mp__coord_master_heartbeat(r->m, &err), &err, t0);
    t0 = mp__clock_now_ms();
    lost(mp__coord_master_enqueue(r->m, "a", &err), &err, t0);
    run_end(r);
    ts_stop(&s);
}

static void test_server_gone(void **state)
{
    (void)state;
    ts_server s;
    ts_start(&s);
    char url[160];
    snprintf(url, sizeof url, "%s?timeout=1s", s.url);
    run *r = run_start(url);
    ts_kill(&s, SIGKILL);
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    int rc = mp__coord_worker_heartbeat(r->w, &err);
    int64_t took = mp__clock_now_ms() - t0;
    print_message("gone: %s (%lld ms)\n", err.message, (long long)took);
    assert_int_equal(rc, MP_EIO);
    assert_non_null(strstr(err.message, "redis"));
    assert_true(took >= 900 && took < 3000); /* retried with backoff, within timeout=1s */
    mp_coord_lease l;
    mp_coord_run_state st;
    t0 = mp__clock_now_ms();
    assert_int_equal(mp__coord_worker_claim(r->w, mp__deadline_in(30000), &l, &st, &err), MP_EIO);
    assert_true(mp__clock_now_ms() - t0 < 3000);
    run_end(r); /* closing without a server does not hang either */
    ts_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_with_keys),
        cmocka_unit_test(test_restart_empty),
        cmocka_unit_test(test_server_gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
