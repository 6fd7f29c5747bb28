/* test_redis_bad_input.c -- the Redis coordinator facing bad input on a
 * real redis-server: garbage written into a run's keys, state of an older
 * protocol version, error replies (NOPERM from an ACL user lacking a
 * command, OOM at maxmemory with noeviction), an unreachable server, and
 * the maxmemory-policy warning. Every failure must be a clear error
 * within its deadline (never a hang), naming what and where, and never
 * showing a password.
 * labels: redis
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "coord/coord.h"
#include "core/result.h"
#include "dist/proto.h"
#include "os/clock.h"
#include "redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HASH    "h1"
#define VERSION "0.1.0"

static int port(void)
{
    const char *p = getenv("MODPIPE_TEST_REDIS_PORT");
    if (!p || !getenv("MODPIPE_TEST_REDIS_URL")) {
        fprintf(stderr, "run under tests/support/with-services.sh redis -- ...\n");
        exit(1);
    }
    return (int)strtol(p, NULL, 10);
}

typedef struct run {
    char id[64];
    char url[160];
    mp_coord_open_opts o;
    mp_coord_master *m;
    mp_coord_worker *w;
    char warned[1024];
} run;

static void on_warn(void *data, const char *line)
{
    run *r = data;
    snprintf(r->warned, sizeof r->warned, "%s", line);
}

/* A run with modules a, b (class ""), published, one worker registered. */
static run *run_start(const char *url)
{
    static int seq;
    run *r = calloc(1, sizeof *r);
    snprintf(r->id, sizeof r->id, "bad-%d-%d", (int)getpid(), ++seq);
    snprintf(r->url, sizeof r->url, "%s", url);
    r->o = (mp_coord_open_opts){.url = r->url, .run_id = r->id, .warn = on_warn, .warn_data = r};
    mp_error err = {0};
    int rc = mp__coord_master_open(&r->o, &r->m, &err);
    if (rc) print_error("master open: %s\n", err.message);
    assert_int_equal(rc, 0);
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
    rc = mp__coord_worker_register(r->w, &reg, mp__deadline_in(2000), &err);
    if (rc) print_error("register: %s\n", err.message);
    assert_int_equal(rc, 0);
    return r;
}

static void run_end(run *r)
{
    mp__coord_worker_close(r->w);
    mp__coord_master_close(r->m);
    free(r);
}

static void cmd_ok(int p, const char *fmt, const char *a, const char *b, const char *c)
{
    redisReply *x = ts_cmd(p, fmt, a, b, c);
    assert_non_null(x);
    if (x->type == REDIS_REPLY_ERROR) print_error("%s: %s\n", fmt, x->str);
    assert_int_not_equal(x->type, REDIS_REPLY_ERROR);
    freeReplyObject(x);
}

static char *key(const run *r, const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "modpipe:{%s}:%s", r->id, name);
    return buf;
}

static char *result_json(const run *r, const char *module, const char *token)
{
    mp_proto_msg msg = {.type = MP_PROTO_RESULT, .run_id = r->id};
    msg.u.res.module = module;
    msg.u.res.token = token;
    mp__result_init(&msg.u.res.result);
    msg.u.res.result.status = MP_STATUS_SUCCEEDED;
    msg.u.res.result.attempts = 1;
    char *json = NULL;
    assert_int_equal(mp__proto_encode(&msg, &json, NULL), 0);
    return json;
}

/* The call failed with `code` quickly and its message says `want`. */
static void failed(int rc, int code, const mp_error *err, int64_t t0, const char *want)
{
    if (rc != code || !strstr(err->message, want))
        print_error("rc %d (want %d): %s [%s]\n", rc, code, err->message, err->where);
    assert_int_equal(rc, code);
    assert_non_null(strstr(err->message, want));
    assert_true(mp__clock_now_ms() - t0 < 3000);
}

static void test_garbage_in_keys(void **state)
{
    (void)state;
    int p = port();
    run *r = run_start(getenv("MODPIPE_TEST_REDIS_URL"));
    mp_error err = {0};
    /* a queue replaced by a string: the claim says so, it does not hang */
    cmd_ok(p, "SET %s %s", key(r, "q:"), "garbage", NULL);
    cmd_ok(p, "RPUSH %s %s", key(r, "bell:"), "1", NULL);
    mp_coord_lease l;
    mp_coord_run_state st;
    int64_t t0 = mp__clock_now_ms();
    int rc = mp__coord_worker_claim(r->w, mp__deadline_in(10000), &l, &st, &err);
    failed(rc, MP_EPARSE, &err, t0, "garbage");
    /* a module state nobody wrote */
    cmd_ok(p, "HSET %s %s %s", key(r, "mstate"), "b", "sideways");
    t0 = mp__clock_now_ms();
    failed(mp__coord_master_enqueue(r->m, "b", &err), MP_EPARSE, &err, t0, "unknown state sideways");
    /* a stored result that is not ours */
    cmd_ok(p, "HSET %s %s %s", key(r, "results"), "a", "{\"not\": \"ours\"}");
    char *json = NULL;
    t0 = mp__clock_now_ms();
    failed(mp__coord_worker_fetch_result(r->w, "a", &json, &err), MP_EPARSE, &err, t0, "garbage");
    assert_null(json);
    /* an event the master cannot read */
    cmd_ok(p, "XADD %s * %s %s", key(r, "events"), "hello", "world");
    mp_coord_event ev;
    t0 = mp__clock_now_ms();
    for (;;) { /* the joined event first, then the garbage */
        rc = mp__coord_master_next_event(r->m, mp__deadline_in(10000), &ev, &err);
        if (rc != 0) break;
        mp__coord_event_release(&ev);
    }
    failed(rc, MP_EPARSE, &err, t0, "not a coordinator event");
    /* the plan settings themselves */
    cmd_ok(p, "HSET %s %s %s", key(r, "meta"), "lease_ms", "soon");
    t0 = mp__clock_now_ms();
    failed(mp__coord_master_heartbeat(r->m, &err), MP_EPARSE, &err, t0, "garbage");
    run_end(r);
}

static void test_older_protocol(void **state)
{
    (void)state;
    int p = port();
    run *r = run_start(getenv("MODPIPE_TEST_REDIS_URL"));
    mp_error err = {0};
    char *js = result_json(r, "a", "w1#1");
    char stored[4096];
    snprintf(stored, sizeof stored, "0\n%s", js);
    free(js);
    cmd_ok(p, "HSET %s %s %s", key(r, "results"), "a", stored);
    char *json = NULL;
    int64_t t0 = mp__clock_now_ms();
    failed(mp__coord_master_fetch_result(r->m, "a", &json, &err), MP_EPARSE, &err, t0,
           "from coordinator protocol 0");
    cmd_ok(p, "XADD %s * v 0 k %s", key(r, "events"), "result", NULL);
    mp_coord_event ev;
    int rc;
    t0 = mp__clock_now_ms();
    while ((rc = mp__coord_master_next_event(r->m, mp__deadline_in(10000), &ev, &err)) == 0)
        mp__coord_event_release(&ev);
    failed(rc, MP_EPARSE, &err, t0, "written by coordinator protocol 0");
    cmd_ok(p, "HSET %s %s %s", key(r, "meta"), "proto", "0");
    t0 = mp__clock_now_ms();
    failed(mp__coord_master_enqueue(r->m, "a", &err), MP_EPARSE, &err, t0,
           "written by coordinator protocol 0, this modpipe speaks protocol 1");
    mp_coord_renew_answer a;
    mp_coord_lease l = {.module = "a", .token = "w1#1", .attempt = 1};
    failed(mp__coord_worker_renew(r->w, &l, &a, &err), MP_EPARSE, &err, t0, "protocol 0");
    /* A second worker of the new version cannot join the old run either. */
    mp_coord_worker *w2 = NULL;
    assert_int_equal(mp__coord_worker_open(&r->o, &w2, &err), 0);
    mp_coord_registration reg = {.instance = 2,
                                 .worker = "w2",
                                 .capabilities = "",
                                 .slots = 1,
                                 .pipeline_hash = HASH,
                                 .version = VERSION};
    t0 = mp__clock_now_ms();
    failed(mp__coord_worker_register(w2, &reg, mp__deadline_in(10000), &err), MP_EPARSE, &err, t0,
           "protocol 0");
    mp__coord_worker_close(w2);
    run_end(r);
}

static void test_noperm(void **state)
{
    (void)state;
    int p = port();
    /* an ACL user that may do everything but block on lists */
    redisReply *x = ts_cmd(p, "ACL SETUSER limited reset on >Sup3r-s3cret ~* &* +@all -blmpop");
    assert_non_null(x);
    assert_int_not_equal(x->type, REDIS_REPLY_ERROR);
    freeReplyObject(x);
    char url[160];
    snprintf(url, sizeof url, "redis://limited:Sup3r-s3cret@127.0.0.1:%d/0", p);
    run *r = run_start(url);
    mp_error err = {0};
    mp_coord_lease l;
    mp_coord_run_state st;
    int64_t t0 = mp__clock_now_ms();
    int rc = mp__coord_worker_claim(r->w, mp__deadline_in(10000), &l, &st, &err);
    failed(rc, MP_EIO, &err, t0, "lacks a permission");
    assert_non_null(strstr(err.message, "blmpop"));
    assert_null(strstr(err.message, "Sup3r-s3cret"));
    assert_null(strstr(err.where, "Sup3r-s3cret"));
    assert_non_null(strstr(err.where, "limited:***@"));
    run_end(r);
    /* a wrong password: refused at open, password not shown */
    snprintf(url, sizeof url, "redis://limited:Wr0ng-pw@127.0.0.1:%d/0", p);
    mp_coord_open_opts o = {.url = url, .run_id = "noperm-x"};
    mp_coord_master *m = NULL;
    t0 = mp__clock_now_ms();
    failed(mp__coord_master_open(&o, &m, &err), MP_EIO, &err, t0, "AUTH refused for user limited");
    assert_null(strstr(err.message, "Wr0ng-pw"));
    assert_null(strstr(err.where, "Wr0ng-pw"));
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd); /* nobody listens there now */
    return ntohs(a.sin_port);
}

static void test_unreachable(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "redis://ops:T0p-secret@127.0.0.1:%d/0?timeout=1s", free_port());
    mp_coord_open_opts o = {.url = url, .run_id = "unreachable"};
    mp_coord_master *m = NULL;
    mp_coord_worker *w = NULL;
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    failed(mp__coord_master_open(&o, &m, &err), MP_EIO, &err, t0, "cannot connect to redis");
    assert_non_null(strstr(err.where, "redis://ops:***@127.0.0.1:"));
    assert_null(strstr(err.message, "T0p-secret"));
    assert_null(strstr(err.where, "T0p-secret"));
    failed(mp__coord_worker_open(&o, &w, &err), MP_EIO, &err, t0, "cannot connect to redis");
    /* A blackholed address: the connect itself is bounded by timeout=1s. */
    snprintf(url, sizeof url, "redis://:T0p-secret@10.255.255.1:6379?timeout=1s");
    t0 = mp__clock_now_ms();
    int rc = mp__coord_master_open(&o, &m, &err);
    assert_int_equal(rc, MP_EIO);
    int64_t took = mp__clock_now_ms() - t0;
    if (took > 2500) print_error("open took %lld ms with timeout=1s\n", (long long)took);
    assert_true(took <= 2500);
    assert_null(strstr(err.message, "T0p-secret"));
    assert_non_null(strstr(err.where, "redis://:***@10.255.255.1"));
    /* Bad options are refused before connecting. */
    snprintf(url, sizeof url, "redis://127.0.0.1:1?ttl=forever");
    assert_int_equal(mp__coord_master_open(&o, &m, &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "bad ttl 'forever'"));
    snprintf(url, sizeof url, "redis://127.0.0.1:1?ttl=500ms");
    assert_int_equal(mp__coord_master_open(&o, &m, &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "below the minimum"));
}

static void test_oom_and_eviction_warning(void **state)
{
    (void)state;
    ts_server s;
    ts_start(&s);
    redisReply *x = ts_cmd(s.port, "CONFIG SET maxmemory-policy allkeys-lru");
    freeReplyObject(x);
    run *r = run_start(s.url);
    assert_non_null(strstr(r->warned, "maxmemory-policy is allkeys-lru, not noeviction"));
    assert_non_null(strstr(r->warned, s.url));
    run_end(r);
    x = ts_cmd(s.port, "CONFIG SET maxmemory-policy noeviction");
    freeReplyObject(x);
    r = run_start(s.url);
    assert_string_equal(r->warned, ""); /* noeviction: nothing to say */
    /* fill the server past a 1mb maxmemory: every write is refused */
    char *filler = calloc(1, 2 << 20);
    x = ts_cmd(s.port, "SET filler %b", filler, (size_t)(2 << 20));
    free(filler);
    assert_int_not_equal(x->type, REDIS_REPLY_ERROR);
    freeReplyObject(x);
    x = ts_cmd(s.port, "CONFIG SET maxmemory 1mb");
    assert_int_not_equal(x->type, REDIS_REPLY_ERROR);
    freeReplyObject(x);
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    failed(mp__coord_master_enqueue(r->m, "a", &err), MP_EIO, &err, t0, "out of memory");
    assert_non_null(strstr(err.where, s.url));
    char *js = result_json(r, "a", "master");
    failed(mp__coord_master_settle(r->m, "a", js, &err), MP_EIO, &err, t0, "out of memory");
    free(js);
    run_end(r);
    ts_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_in_keys),
        cmocka_unit_test(test_older_protocol),
        cmocka_unit_test(test_noperm),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_oom_and_eviction_warning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
