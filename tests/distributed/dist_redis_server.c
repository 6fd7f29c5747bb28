/*
 * dist_redis_server.c -- the private redis-server of --local-instances
 * (dist/redis_server.h): it starts on a free loopback port, is ready only
 * when the process answering is ours, is told apart from another server
 * on a port, and is gone after stop. Registered as "distributed.<case>".
 */
#include "dist_fixture.h"

#include "dist/redis_server.h"

#include <signal.h>

static void test_private_redis(void **state)
{
    (void)state;
    mp_redis_server a, b;
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    if (mp__redis_server_start(&a, 10000, &err) != 0) fail_msg("start: %s", err.message);
    print_message("ready after %lld ms on %s\n", (long long)(mp__clock_now_ms() - t0), a.url);
    assert_true(a.running);
    assert_true(a.port > 0);
    char want[64];
    snprintf(want, sizeof want, "redis://127.0.0.1:%d", a.port);
    assert_string_equal(a.url, want);
    /* Ours answers as ours; asked for another pid, it is another server. */
    assert_int_equal(mp__redis_ping(a.port, (long)a.proc.pid, mp__deadline_in(2000)), 0);
    assert_int_equal(mp__redis_ping(a.port, (long)a.proc.pid + 1, mp__deadline_in(2000)),
                     MP_ESTATE);
    assert_int_equal(mp__redis_ping(a.port, 0, mp__deadline_in(2000)), 0);
    /* A second one gets a port of its own. */
    if (mp__redis_server_start(&b, 10000, &err) != 0) fail_msg("start 2: %s", err.message);
    assert_int_not_equal(a.port, b.port);
    pid_t pa = a.proc.pid;
    mp__redis_server_stop(&a, 3000);
    assert_false(a.running);
    assert_int_equal(kill(pa, 0), -1); /* reaped: no such process */
    assert_true(mp__redis_ping(a.port, 0, mp__deadline_in(500)) < 0);
    mp__redis_server_stop(&a, 3000); /* idempotent */
    mp__redis_server_stop(&b, 3000);
    mp__redis_server_stop(NULL, 0);
}

/* Without redis-server in PATH: MP_ENOENT with a message saying what to do. */
static void test_private_redis_missing(void **state)
{
    (void)state;
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", "/nonexistent-dir", 1);
    mp_redis_server a;
    mp_error err = {0};
    int rc = mp__redis_server_start(&a, 1000, &err);
    if (saved) setenv("PATH", saved, 1);
    free(saved);
    assert_int_equal(rc, MP_ENOENT);
    assert_true(has(err.message, "redis-server is not installed"));
    assert_true(has(err.message, "--coordinator redis://host:port"));
    assert_false(a.running);
    mp__redis_server_stop(&a, 0);
}

static const struct CMUnitTest cases[] = {
    DIST_CASE(private_redis),
    DIST_CASE(private_redis_missing),
};

int main(int argc, char **argv)
{
    return dist_main("distributed.redis_server", cases, sizeof cases / sizeof cases[0], argc,
                     argv);
}
