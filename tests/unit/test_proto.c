/*
 * test_proto.c -- the protocol codec (dist/proto.h): every message type
 * round-trips field for field; malformed, truncated, oversized,
 * wrong-version and foreign-run messages are refused with a message
 * saying which.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dist/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN "gh-123-1"

static char *encode_ok(const mp_proto_msg *m)
{
    char *s = NULL;
    mp_error err = {0};
    int rc = mp__proto_encode(m, &s, &err);
    if (rc) print_error("encode: %s\n", err.message);
    assert_int_equal(rc, 0);
    return s;
}

static void decode_ok(const char *s, mp_proto_msg *m)
{
    mp_error err = {0};
    int rc = mp__proto_decode(s, strlen(s), RUN, m, &err);
    if (rc) print_error("decode %s: %s\n", s, err.message);
    assert_int_equal(rc, 0);
}

/* Decoding s fails with `code` and a message containing `needle`. */
static void refused(const char *s, size_t len, int code, const char *needle)
{
    mp_proto_msg m;
    mp_error err = {0};
    int rc = mp__proto_decode(s, len, RUN, &m, &err);
    if (rc != code || !strstr(err.message, needle))
        print_error("%.200s: rc %d message '%s'\n", s, rc, err.message);
    assert_int_equal(rc, code);
    assert_non_null(strstr(err.message, needle));
}

static void test_registration_roundtrip(void **state)
{
    (void)state;
    mp_proto_msg m = {.type = MP_PROTO_REGISTRATION, .run_id = RUN};
    m.u.reg.instance = 3;
    m.u.reg.worker = "ci-runner-7/3";
    m.u.reg.capabilities = "arch=x86_64,os=linux";
    m.u.reg.slots = 4;
    m.u.reg.pipeline_hash = "abc123";
    m.u.reg.version = "0.1.0";
    char *s = encode_ok(&m);
    mp_proto_msg d;
    decode_ok(s, &d);
    assert_int_equal(d.type, MP_PROTO_REGISTRATION);
    assert_string_equal(d.run_id, RUN);
    assert_int_equal(d.u.reg.instance, 3);
    assert_string_equal(d.u.reg.worker, "ci-runner-7/3");
    assert_string_equal(d.u.reg.capabilities, "arch=x86_64,os=linux");
    assert_int_equal(d.u.reg.slots, 4);
    assert_string_equal(d.u.reg.pipeline_hash, "abc123");
    assert_string_equal(d.u.reg.version, "0.1.0");
    mp__proto_msg_release(&d);
    mp__proto_msg_release(&d); /* idempotent */
    free(s);
}

static void test_assignment_and_control_roundtrip(void **state)
{
    (void)state;
    mp_proto_msg m = {.type = MP_PROTO_ASSIGNMENT, .run_id = RUN};
    m.u.assign.module = "test[os=linux]";
    m.u.assign.cls = "os=linux";
    m.u.assign.token = "w1#2";
    m.u.assign.attempt = 2;
    char *s = encode_ok(&m);
    mp_proto_msg d;
    decode_ok(s, &d);
    assert_int_equal(d.type, MP_PROTO_ASSIGNMENT);
    assert_string_equal(d.u.assign.module, "test[os=linux]");
    assert_string_equal(d.u.assign.cls, "os=linux");
    assert_string_equal(d.u.assign.token, "w1#2");
    assert_int_equal(d.u.assign.attempt, 2);
    mp__proto_msg_release(&d);
    free(s);

    mp_proto_msg c = {.type = MP_PROTO_CONTROL, .run_id = RUN};
    c.u.ctl.action = MP_PROTO_CANCEL;
    c.u.ctl.reason = "build failed";
    s = encode_ok(&c);
    decode_ok(s, &d);
    assert_int_equal(d.u.ctl.action, MP_PROTO_CANCEL);
    assert_string_equal(d.u.ctl.reason, "build failed");
    mp__proto_msg_release(&d);
    free(s);
    c.u.ctl.action = MP_PROTO_COMPLETE;
    c.u.ctl.reason = NULL;
    s = encode_ok(&c);
    decode_ok(s, &d);
    assert_int_equal(d.u.ctl.action, MP_PROTO_COMPLETE);
    assert_null(d.u.ctl.reason);
    mp__proto_msg_release(&d);
    free(s);
}

static void test_result_roundtrip(void **state)
{
    (void)state;
    mp_arena *a = mp__arena_new();
    mp_proto_msg m = {.type = MP_PROTO_RESULT, .run_id = RUN};
    m.u.res.module = "build";
    m.u.res.token = "w2#1";
    mp_result *r = &m.u.res.result;
    mp__result_init(r);
    r->status = MP_STATUS_FAILED;
    r->attempts = 3;
    r->exit_code = 2;
    r->term_signal = 0;
    r->instance = 2;
    r->worker = "w2";
    r->started_at = 1700000000000;
    r->ended_at = 1700000004321;
    r->duration_ms = 4321;
    r->error_message = "exited with 2";
    r->log_tail = "make: *** [all] Error 2\n\"quoted\" \xc3\xa9\n";
    mp_kv kv = {{"version", {0}}, {"1.2.3", {0}}};
    MP_VEC_PUSH(a, &r->outputs, kv);
    mp_kv kv2 = {{"multi", {0}}, {"a\nb", {0}}};
    MP_VEC_PUSH(a, &r->outputs, kv2);
    char *s = encode_ok(&m);
    mp_proto_msg d;
    decode_ok(s, &d);
    const mp_result *q = &d.u.res.result;
    assert_string_equal(d.u.res.module, "build");
    assert_string_equal(d.u.res.token, "w2#1");
    assert_int_equal(q->status, MP_STATUS_FAILED);
    assert_int_equal(q->attempts, 3);
    assert_int_equal(q->exit_code, 2);
    assert_int_equal(q->instance, 2);
    assert_string_equal(q->worker, "w2");
    assert_int_equal(q->started_at, 1700000000000);
    assert_int_equal(q->ended_at, 1700000004321);
    assert_int_equal(q->duration_ms, 4321);
    assert_string_equal(q->error_message, "exited with 2");
    assert_string_equal(q->log_tail, r->log_tail);
    assert_null(q->skip_reason);
    assert_int_equal(q->outputs.n, 2);
    for (size_t i = 0; i < 2; i++) { /* order is not part of the format */
        const char *k = q->outputs.v[i].key.s, *v = q->outputs.v[i].value.s;
        assert_string_equal(v, strcmp(k, "version") == 0 ? "1.2.3" : "a\nb");
    }
    mp__proto_msg_release(&d);
    free(s);

    /* A huge log tail is cut to its end, the message stays under the cap. */
    size_t big = 3 * 1024 * 1024;
    char *tail = malloc(big + 1);
    memset(tail, 'x', big);
    memcpy(tail + big - 4, "END\n", 4);
    tail[big] = '\0';
    r->log_tail = tail;
    s = encode_ok(&m);
    assert_true(strlen(s) <= MP_PROTO_MAX_BYTES);
    decode_ok(s, &d);
    assert_int_equal(strlen(d.u.res.result.log_tail), MP_PROTO_LOG_TAIL_MAX);
    assert_non_null(strstr(d.u.res.result.log_tail, "END\n"));
    mp__proto_msg_release(&d);
    free(s);
    free(tail);
    mp__arena_free(a);
}

static const char *GOOD =
    "{\"v\":1,\"run\":\"" RUN "\",\"type\":\"control\",\"action\":\"cancel\",\"reason\":null}";

static void test_rejects_malformed_and_truncated(void **state)
{
    (void)state;
    mp_proto_msg d;
    decode_ok(GOOD, &d);
    mp__proto_msg_release(&d);
    for (size_t n = 0; n < strlen(GOOD); n++) /* every truncation */
        refused(GOOD, n, MP_EPARSE, "malformed");
    refused("[1,2]", 5, MP_EPARSE, "not a JSON object");
    refused("{\"v\":1,\"v\":1}", 13, MP_EPARSE, "malformed");
    const char *nov = "{\"run\":\"" RUN "\",\"type\":\"control\"}";
    refused(nov, strlen(nov), MP_EPARSE, "'v'");
    const char *cases[][2] = {
        {"{\"v\":1,\"run\":\"" RUN "\",\"type\":\"shout\"}", "unknown type 'shout'"},
        {"{\"v\":1,\"type\":\"control\",\"action\":\"cancel\"}", "'run' is missing"},
        {"{\"v\":1,\"run\":\"" RUN "\",\"type\":\"control\",\"action\":\"pause\"}", "'action'"},
        {"{\"v\":1,\"run\":\"" RUN "\",\"type\":\"assignment\",\"module\":\"a\",\"class\":\"\","
         "\"token\":\"w#1\",\"attempt\":\"1\"}",
         "'attempt' is not an integer"},
        {"{\"v\":1,\"run\":\"" RUN "\",\"type\":\"assignment\",\"module\":\"a\",\"class\":\"\","
         "\"token\":\"w#1\",\"attempt\":0}",
         "'attempt' is out of range"},
        {"{\"v\":1,\"run\":\"" RUN "\",\"type\":\"registration\",\"instance\":1,\"worker\":\"w\","
         "\"capabilities\":\"\",\"slots\":0,\"pipeline_hash\":\"h\",\"version\":\"0.1.0\"}",
         "'slots' is out of range"},
        {"{\"v\":1,\"run\":\"" RUN "\",\"type\":\"result\",\"module\":\"a\",\"token\":\"w#1\"}",
         "'result' is missing"},
        {"{\"v\":1,\"run\":\"" RUN "\",\"type\":\"result\",\"module\":\"a\",\"token\":\"w#1\","
         "\"result\":{\"status\":\"running\"}}",
         "not a final module status"},
        {"{\"v\":1,\"run\":\"" RUN "\",\"type\":\"assignment\",\"module\":\"a\\u0000b\","
         "\"class\":\"\",\"token\":\"w#1\",\"attempt\":1}",
         "NUL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused(cases[i][0], strlen(cases[i][0]), MP_EPARSE, cases[i][1]);
}

static void test_rejects_version_run_and_size(void **state)
{
    (void)state;
    const char *v2 = "{\"v\":2,\"run\":\"" RUN "\",\"type\":\"control\",\"action\":\"cancel\"}";
    refused(v2, strlen(v2), MP_EINVAL, "version 2");
    const char *foreign = "{\"v\":1,\"run\":\"gl-999\",\"type\":\"control\",\"action\":\"cancel\"}";
    refused(foreign, strlen(foreign), MP_EINVAL, "another run");
    mp_proto_msg d;
    mp_error err = {0};
    assert_int_equal(mp__proto_decode(foreign, strlen(foreign), RUN, &d, &err), MP_EINVAL);
    assert_non_null(strstr(err.message, "gl-999"));
    assert_non_null(strstr(err.message, RUN));
    /* Oversized: refused before parsing, whatever it contains. */
    size_t n = MP_PROTO_MAX_BYTES + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, GOOD, strlen(GOOD));
    refused(big, n, MP_ETOOBIG, "limit");
    assert_int_equal(mp__proto_decode(big, n - 1, RUN, &d, &err), 0); /* exactly at the cap */
    mp__proto_msg_release(&d);
    free(big);
}

static void test_encode_refuses_incomplete(void **state)
{
    (void)state;
    mp_proto_msg m = {.type = MP_PROTO_RESULT, .run_id = RUN};
    mp__result_init(&m.u.res.result);
    char *s = NULL;
    mp_error err = {0};
    assert_int_equal(mp__proto_encode(&m, &s, &err), MP_EINVAL);
    assert_non_null(strstr(err.message, "module"));
    m.run_id = NULL;
    assert_int_equal(mp__proto_encode(&m, &s, &err), MP_EINVAL);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration_roundtrip),
        cmocka_unit_test(test_assignment_and_control_roundtrip),
        cmocka_unit_test(test_result_roundtrip),
        cmocka_unit_test(test_rejects_malformed_and_truncated),
        cmocka_unit_test(test_rejects_version_run_and_size),
        cmocka_unit_test(test_encode_refuses_incomplete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
