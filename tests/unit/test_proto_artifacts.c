/* test_proto_artifacts.c -- a result's artifacts in the protocol's result
 * message (dist/proto.h): name, digest, size and files round-trip; a file
 * list too big for a message is left out (the count and digest stay); a
 * result without "artifacts" (older sender) decodes with none; a bad
 * digest is malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dist/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN "run-art-1"
#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static mp_proto_msg result_msg(mp_arena *a, size_t nfiles)
{
    mp_proto_msg m = {.type = MP_PROTO_RESULT, .run_id = RUN};
    m.u.res.module = "build";
    m.u.res.token = "w1#1";
    mp_result *r = &m.u.res.result;
    mp__result_init(r);
    r->status = MP_STATUS_SUCCEEDED;
    r->attempts = 1;
    r->exit_code = 0;
    r->instance = 1;
    mp_artifact_ref ar = {.name = "bins", .digest = DIGEST, .size = 12345, .nfiles = nfiles};
    ar.files = mp__arena_alloc(a, (nfiles ? nfiles : 1) * sizeof(char *));
    for (size_t i = 0; i < nfiles; i++)
        ar.files[i] = mp__arena_printf(a, "out/dir-%06zu/file.so", i);
    MP_VEC_PUSH(a, &r->artifacts, ar);
    return m;
}

static void test_roundtrip(void **state)
{
    (void)state;
    mp_arena *a = mp__arena_new();
    mp_proto_msg m = result_msg(a, 3);
    char *s = NULL;
    assert_int_equal(mp__proto_encode(&m, &s, NULL), 0);
    mp_proto_msg d;
    mp_error err = {0};
    assert_int_equal(mp__proto_decode(s, strlen(s), RUN, &d, &err), 0);
    const mp_result *q = &d.u.res.result;
    assert_int_equal(q->artifacts.n, 1);
    assert_string_equal(q->artifacts.v[0].name, "bins");
    assert_string_equal(q->artifacts.v[0].digest, DIGEST);
    assert_int_equal(q->artifacts.v[0].size, 12345);
    assert_int_equal(q->artifacts.v[0].nfiles, 3);
    assert_string_equal(q->artifacts.v[0].files[2], "out/dir-000002/file.so");
    assert_non_null(mp__result_artifact(q, "bins"));
    assert_null(mp__result_artifact(q, "other"));
    mp__proto_msg_release(&d);
    free(s);

    /* 40,000 files (about 1 MB of names): the list is left out, the
     * message stays under the cap and still carries the digest. */
    m = result_msg(a, 40000);
    assert_int_equal(mp__proto_encode(&m, &s, NULL), 0);
    assert_true(strlen(s) <= MP_PROTO_MAX_BYTES);
    assert_int_equal(mp__proto_decode(s, strlen(s), RUN, &d, &err), 0);
    q = &d.u.res.result;
    assert_string_equal(q->artifacts.v[0].digest, DIGEST);
    assert_int_equal(q->artifacts.v[0].nfiles, 0);
    assert_non_null(strstr(s, "\"file_count\":40000"));
    mp__proto_msg_release(&d);
    free(s);
    mp__arena_free(a);
}

static void test_optional_and_malformed(void **state)
{
    (void)state;
#define BASE                                                                                       \
    "{\"v\":1,\"run\":\"" RUN "\",\"type\":\"result\",\"module\":\"m\"," \
    "\"token\":\"w#1\",\"result\":{\"status\":\"succeeded\",\"attempts\":1,"                     \
    "\"exit_code\":0,\"term_signal\":0,\"instance\":0,\"worker\":null,"                            \
    "\"started_at\":0,\"ended_at\":0,\"duration_ms\":0,\"outputs\":{},"                            \
    "\"skip_reason\":null,\"error\":{\"message\":null,\"log_tail\":null}%s}}"
    char buf[2048];
    mp_proto_msg d;
    mp_error err = {0};
    snprintf(buf, sizeof buf, BASE, "");
    assert_int_equal(mp__proto_decode(buf, strlen(buf), RUN, &d, &err), 0);
    assert_int_equal(d.u.res.result.artifacts.n, 0);
    mp__proto_msg_release(&d);
    snprintf(buf, sizeof buf, BASE,
             ",\"artifacts\":[{\"name\":\"a\",\"digest\":\"md5:x\",\"size\":1,\"file_count\":0,"
             "\"files\":[]}]");
    assert_int_equal(mp__proto_decode(buf, strlen(buf), RUN, &d, &err), MP_EPARSE);
    assert_non_null(strstr(err.message, "digest"));
    snprintf(buf, sizeof buf, BASE, ",\"artifacts\":{}");
    assert_int_equal(mp__proto_decode(buf, strlen(buf), RUN, &d, &err), MP_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_optional_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
