/* test_rstore_auth.c -- the redis:// store and the server's users,
 * reachability and deadlines: a password in the URL (or from
 * MODPIPE_REDIS_PASSWORD) never appears in a message; an unreachable or
 * silent server is an error within the deadline naming the redacted URL;
 * an ACL user lacking a command gets a clear NOPERM error and nothing is
 * stored; a paused server makes get fail at its deadline, leaving no file.
 * labels: redis */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_rstore_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

static const char *const passwords[] = {"Right-Pass-41", "Noset-Pass-42", "Noeval-Pass-43",
                                        "Wrong-Pass-99", "Only-Pass-44", "Gone-Pass-45",
                                        "Silent-Pass-46"};

/* err names no password, shows "***" where the URL had one. */
static void no_password(const mp_error *err)
{
    for (size_t i = 0; i < sizeof passwords / sizeof passwords[0]; i++) {
        if (strstr(err->message, passwords[i]) || strstr(err->where, passwords[i]))
            print_error("password in: %s (%s)\n", err->message, err->where);
        assert_null(strstr(err->message, passwords[i]));
        assert_null(strstr(err->where, passwords[i]));
    }
}

static int setup(void **state)
{
    (void)state;
    redisContext *c = rs_raw();
    const char *users[][6] = {
        {"rs_ok", "on", ">Right-Pass-41", "~*", "+@all", NULL},
        {"rs_noset", "on", ">Noset-Pass-42", "~*", "+@all", "-set"},
        {"rs_noeval", "on", ">Noeval-Pass-43", "~*", "+@all", "-evalsha"},
    };
    for (size_t u = 0; u < 3; u++) {
        const char *argv[8] = {"ACL", "SETUSER"};
        int argc = 2;
        for (int i = 0; i < 6 && users[u][i]; i++) argv[argc++] = users[u][i];
        redisReply *r = redisCommandArgv(c, argc, argv, NULL);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "ACL SETUSER %s: %s\n", users[u][0], r ? r->str : c->errstr);
            return -1;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return 0;
}

/* redis://<userinfo>@127.0.0.1:<port>/0?prefix=... */
static void user_url(char *buf, size_t size, const char *userinfo, int port, const char *prefix)
{
    snprintf(buf, size, "redis://%s@127.0.0.1:%d/0?prefix=%s&chunk=64KiB", userinfo, port,
             prefix);
}

static int open_err(const char *url, int64_t deadline, mp_store **s, mp_error *err)
{
    mp_store_open_opts o = {.url = url, .deadline = deadline};
    return mp__store_open(&o, s, err);
}

static void test_wrong_password(void **state)
{
    (void)state;
    char prefix[64], url[512], shown[512];
    rs_prefix(prefix, sizeof prefix);
    user_url(url, sizeof url, "rs_ok:Wrong-Pass-99", rs_port(), prefix);
    mp_store *s = NULL;
    mp_error err = {0};
    assert_int_equal(open_err(url, RS_DL(), &s, &err), MP_EIO);
    assert_null(s);
    assert_non_null(strstr(err.message, "AUTH refused for user rs_ok"));
    snprintf(shown, sizeof shown, "redis://rs_ok:***@127.0.0.1:%d/0", rs_port());
    assert_non_null(strstr(err.message, shown));
    no_password(&err);
    /* A bare password (for the default user, which has none here). */
    user_url(url, sizeof url, "Only-Pass-44", rs_port(), prefix);
    memset(&err, 0, sizeof err);
    assert_int_equal(open_err(url, RS_DL(), &s, &err), MP_EIO);
    snprintf(shown, sizeof shown, "redis://***@127.0.0.1:%d/0", rs_port());
    assert_non_null(strstr(err.message, shown));
    no_password(&err);
    char red[512];
    mp__store_redact_url(url, red, sizeof red);
    assert_null(strstr(red, "Only-Pass-44"));
}

/* The right password, in the URL or from MODPIPE_REDIS_PASSWORD: the
 * store works, and its failures still name no password. */
static void test_password_sources(void **state)
{
    (void)state;
    char prefix[64], url[512], dir[64], src[128], dst[128];
    rs_prefix(prefix, sizeof prefix);
    rs_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(dst, sizeof dst, "%s/dst", dir);
    rs_write_file(src, 150000, 5);
    for (int from_env = 0; from_env < 2; from_env++) {
        if (from_env) setenv("MODPIPE_REDIS_PASSWORD", "Right-Pass-41", 1);
        user_url(url, sizeof url, from_env ? "rs_ok:" : "rs_ok:Right-Pass-41", rs_port(),
                 prefix);
        mp_store *s = NULL;
        mp_error err = {0};
        int rc = open_err(url, RS_DL(), &s, &err);
        if (rc) print_error("open: %s\n", err.message);
        assert_int_equal(rc, 0);
        assert_null(strstr(mp__store_url_shown(s), "Right-Pass-41"));
        assert_int_equal(mp__store_put(s, "runs/p/x", src, RS_DL(), &err), 0);
        assert_int_equal(mp__store_get(s, "runs/p/x", dst, RS_DL(), &err), 0);
        assert_int_equal(mp__store_get(s, "runs/p/missing", dst, RS_DL(), &err), MP_ENOENT);
        no_password(&err);
        mp__store_close(s);
        unsetenv("MODPIPE_REDIS_PASSWORD");
    }
    rs_rmdir(dir);
}

/* A user lacking SET (chunks) or EVALSHA (commit, exists, delete). */
static void test_noperm(void **state)
{
    (void)state;
    char prefix[64], url[512], dir[64], src[128];
    rs_prefix(prefix, sizeof prefix);
    rs_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/src", dir);
    rs_write_file(src, 150000, 6);
    const char *users[] = {"rs_noset:Noset-Pass-42", "rs_noeval:Noeval-Pass-43"};
    for (size_t u = 0; u < 2; u++) {
        user_url(url, sizeof url, users[u], rs_port(), prefix);
        mp_store *s = rs_open(url);
        mp_error err = {0};
        assert_int_equal(mp__store_put(s, "runs/n/x", src, RS_DL(), &err), MP_EIO);
        if (!strstr(err.message, "NOPERM")) print_error("%s\n", err.message);
        assert_non_null(strstr(err.message, "NOPERM"));
        assert_non_null(strstr(err.message, "lacks a permission (ACL)"));
        assert_non_null(strstr(err.message, "put 'runs/n/x'"));
        assert_string_equal(err.where, "runs/n/x");
        no_password(&err);
        if (u == 1) {
            memset(&err, 0, sizeof err);
            assert_int_equal(mp__store_exists(s, "runs/n/x", NULL, RS_DL(), &err), MP_EIO);
            assert_non_null(strstr(err.message, "NOPERM"));
            no_password(&err);
        }
        mp__store_close(s);
    }
    /* Nothing was stored: no object, no chunk left behind by rs_noset. */
    redisContext *c = rs_raw();
    size_t n;
    char **keys = rs_keys(c, prefix, &n);
    for (size_t i = 0; i < n; i++)
        assert_null(strstr(keys[i], "/runs/")); /* no metadata */
    rs_keys_free(keys);
    redisFree(c);
    rs_rmdir(dir);
}

/* A loopback port nothing listens on (or, with listen_fd, a socket that
 * listens but never answers). */
static int free_port(int *listen_fd)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    if (listen_fd) {
        assert_int_equal(listen(fd, 16), 0);
        *listen_fd = fd;
    } else {
        close(fd);
    }
    return ntohs(a.sin_port);
}

static void test_unreachable(void **state)
{
    (void)state;
    char url[512], shown[512];
    int port = free_port(NULL);
    user_url(url, sizeof url, "rs_ok:Gone-Pass-45", port, "x");
    mp_store *s = NULL;
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    int rc = open_err(url, mp__deadline_in(3000), &s, &err);
    int64_t took = mp__clock_now_ms() - t0;
    assert_true(rc == MP_EIO || rc == MP_ETIMEDOUT);
    assert_true(took < 3000 + 5000);
    snprintf(shown, sizeof shown, "redis://rs_ok:***@127.0.0.1:%d/0", port);
    if (!strstr(err.message, shown)) print_error("%s\n", err.message);
    assert_non_null(strstr(err.message, shown));
    assert_non_null(strstr(err.where, shown));
    no_password(&err);
}

/* Connected, but the server never answers: open ends at its deadline
 * (never early; late only within a wide margin). */
static void test_silent_server(void **state)
{
    (void)state;
    char url[512], shown[512];
    int lfd = -1;
    int port = free_port(&lfd);
    user_url(url, sizeof url, "rs_ok:Silent-Pass-46", port, "x");
    mp_store *s = NULL;
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    int rc = open_err(url, mp__deadline_in(1500), &s, &err);
    int64_t took = mp__clock_now_ms() - t0;
    close(lfd);
    assert_int_equal(rc, MP_ETIMEDOUT);
    assert_true(took >= 1400);
    assert_true(took < 1500 + 5000);
    snprintf(shown, sizeof shown, "redis://rs_ok:***@127.0.0.1:%d/0", port);
    assert_non_null(strstr(err.message, shown));
    no_password(&err);
}

/* A server that stops answering mid-use (CLIENT PAUSE): get fails at
 * its deadline naming the key and the redacted URL; no file is left. */
static void test_paused_server(void **state)
{
    (void)state;
    char prefix[64], url[512], dir[64], src[128], dst[128];
    rs_prefix(prefix, sizeof prefix);
    rs_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(dst, sizeof dst, "%s/out", dir);
    assert_int_equal(mkdir(dst, 0755), 0);
    rs_write_file(src, 300000, 9);
    user_url(url, sizeof url, "rs_ok:Right-Pass-41", rs_port(), prefix);
    mp_store *s = rs_open(url);
    assert_int_equal(mp__store_put(s, "runs/q/x", src, RS_DL(), NULL), 0);
    redisContext *c = rs_raw();
    redisReply *r = redisCommand(c, "CLIENT PAUSE 4000 ALL");
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    char target[160];
    snprintf(target, sizeof target, "%s/x", dst);
    mp_error err = {0};
    int64_t t0 = mp__clock_now_ms();
    int rc = mp__store_get(s, "runs/q/x", target, mp__deadline_in(1000), &err);
    int64_t took = mp__clock_now_ms() - t0;
    r = redisCommand(c, "CLIENT UNPAUSE");
    if (r) freeReplyObject(r);
    redisFree(c);
    if (rc != MP_ETIMEDOUT) print_error("rc %d: %s\n", rc, err.message);
    assert_int_equal(rc, MP_ETIMEDOUT);
    assert_true(took >= 900);
    assert_true(took < 1000 + 3000);
    assert_string_equal(err.where, "runs/q/x");
    char shown[256];
    snprintf(shown, sizeof shown, "redis://rs_ok:***@127.0.0.1:%d/0", rs_port());
    assert_non_null(strstr(err.message, shown));
    no_password(&err);
    assert_int_equal(rs_dir_entries(dst), 0);
    /* The server answers again: the same handle works (reconnects). */
    assert_int_equal(mp__store_get(s, "runs/q/x", target, RS_DL(), &err), 0);
    mp__store_close(s);
    rs_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_password), cmocka_unit_test(test_password_sources),
        cmocka_unit_test(test_noperm),         cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_silent_server),  cmocka_unit_test(test_paused_server),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
