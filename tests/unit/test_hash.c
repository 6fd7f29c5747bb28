/* test_hash.c -- the JSON form of a pipeline and its canonical hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/pipeline_json.h"
#include "core/pipeline_tree.h"
#include "core/strbuf.h"
#include "core_fixture.h"

#include <openssl/evp.h>
#include <stdlib.h>

static int fn(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return 0;
}

static void cond(mp_pipeline *p, mp_cond_vec *v, mp_cond_kind kind, const char *arg,
                 const char *equals)
{
    mp_cond c = {.kind = kind, .arg = fx_str(p, arg, 1), .pos = fx_pos(1, 1)};
    if (equals) c.equals = fx_str(p, equals, 1);
    MP_VEC_PUSH(p->arena, v, c);
}

/* A pipeline that sets every field, with awkward strings. */
static mp_pipeline *rich(void)
{
    mp_pipeline *p = mp_pipeline_new("rich \"one\"");
    p->options.parallelism = 8;
    p->options.on_failure = MP_ON_FAILURE_CONTINUE;
    fx_env(p, &p->options.concurrency_groups, "db", "1", 1);
    fx_env(p, &p->options.concurrency_groups, "net", "4", 1);
    fx_env(p, &p->env, "Z", "last", 1);
    fx_env(p, &p->env, "A", "tab\there \\ \"q\" \x01 \xc3\xa9t\xc3\xa9 \xe2\x82\xac", 1);
    fx_env(p, &p->env, "BAD", "latin1 \xe9", 1); /* not UTF-8 */
    fx_env(p, &p->env, "\xff", "dropped key", 1);
    fx_env(p, &p->env, "DUP", "first", 1);
    fx_env(p, &p->env, "DUP", "second", 1);
    MP_VEC_PUSH(p->arena, &p->secrets, fx_str(p, "TOKEN", 1));
    mp_requirement r = {.cond = {.kind = MP_COND_COMMAND, .arg = fx_str(p, "git --version", 1)}};
    MP_VEC_PUSH(p->arena, &p->requirements, r);
    r.cond = (mp_cond){.kind = MP_COND_ENV, .arg = fx_str(p, "TOKEN", 1)};
    MP_VEC_PUSH(p->arena, &p->requirements, r);

    mp_module_decl *b = fx_decl(p, "build", 10);
    b->proto.run_kind = MP_RUN_ARGV;
    MP_VEC_PUSH(p->arena, &b->proto.argv, fx_str(p, "make", 11));
    MP_VEC_PUSH(p->arena, &b->proto.argv, fx_str(p, "-j4", 11));
    fx_axis(p, b, 12, "os", "linux", "macos", NULL);
    mp_produce pr = {.name = fx_str(p, "bin", 13)};
    MP_VEC_PUSH(p->arena, &pr.paths, fx_str(p, "build/**/*.so", 13));
    MP_VEC_PUSH(p->arena, &pr.paths, fx_str(p, "build/${{ matrix.os }}", 13));
    MP_VEC_PUSH(p->arena, &b->proto.produces, pr);
    fx_env(p, &b->proto.requires, "os", "${{ matrix.os }}", 14);
    b->proto.timeout_ms = 600000;
    b->proto.retries = 2;
    b->proto.retry_delay_ms = 1000;
    b->proto.priority = MP_PRIORITY_CRITICAL;
    b->proto.exclusive = true;
    for (int i = 0; i < 12; i++) { /* a big env: sorted, more than the cached width */
        char k[16];
        snprintf(k, sizeof(k), "K%02d", 11 - i);
        fx_env(p, &b->proto.env, k, "v", 15);
    }

    mp_module_decl *t = fx_decl(p, "test", 20);
    fx_dep(p, t, "build[os=linux]", 21);
    fx_after(p, t, "lint", 22);
    mp_consume co = {.name = fx_str(p, "bin", 23),
                     .from = fx_str(p, "build[os=linux]", 23),
                     .path = fx_str(p, ".", 23)};
    MP_VEC_PUSH(p->arena, &t->proto.consumes, co);
    cond(p, &t->proto.skip_if, MP_COND_ENV, "SKIP", NULL);
    cond(p, &t->proto.skip_if, MP_COND_FILE, "stop.txt", NULL);
    cond(p, &t->proto.run_if, MP_COND_ENV, "REF", "refs/heads/main");
    cond(p, &t->proto.run_if, MP_COND_OS, "linux", NULL);
    cond(p, &t->proto.run_if, MP_COND_COMMAND, "true", NULL);
    t->proto.ignore_failure = t->proto.always_run = t->proto.pin_to_master = true;
    t->proto.category = fx_str(p, "test", 24);
    MP_VEC_PUSH(p->arena, &t->proto.tags, fx_str(p, "slow", 25));
    MP_VEC_PUSH(p->arena, &t->proto.not_in_parallel, fx_str(p, "db", 26));
    t->proto.concurrency_group = fx_str(p, "db", 27);
    MP_VEC_PUSH(p->arena, &t->proto.secrets, fx_str(p, "TOKEN", 28));
    t->proto.working_dir = fx_str(p, "src", 29);
    t->proto.priority = MP_PRIORITY_LOW;

    mp_module_decl *l = fx_decl(p, "lint", 30);
    l->proto.run_kind = MP_RUN_FUNCTION;
    l->proto.fn = fn;
    if (mp_pipeline_validate(p, NULL) < 0) {
        fx_dump(p);
        fail_msg("rich pipeline invalid");
    }
    return p;
}

static void collect(const char *s, size_t n, void *data)
{
    mp__strbuf_add(data, s, n);
}

static char *sha256_hex(const char *s)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    char *hex = malloc(2 * n + 1);
    for (unsigned i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

static void test_canonical_is_jansson_dump(void **state)
{
    (void)state;
    mp_pipeline *p = rich();
    json_t *j = mp__pipeline_to_json(p, 0);
    char *want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    mp_strbuf got = MP_STRBUF_INIT;
    mp__pipeline_canonical(p, collect, &got);
    assert_string_equal(got.buf, want);
    char *hex = sha256_hex(want);
    assert_string_equal(mp_pipeline_hash(p), hex);
    free(hex);
    /* awkward strings made it through */
    assert_non_null(strstr(want, "\"A\":\"tab\\there \\\\ \\\"q\\\" \\u0001 \xc3\xa9t\xc3\xa9"));
    assert_non_null(strstr(want, "\"BAD\":\"latin1 \xc3\xa9\""));
    assert_non_null(strstr(want, "\"DUP\":\"second\""));
    assert_null(strstr(want, "dropped key"));
    free(want);
    json_decref(j);
    mp__strbuf_release(&got);
    mp_pipeline_free(p);
}

static void test_utf8_check(void **state)
{
    (void)state;
    assert_true(mp__utf8_valid(""));
    assert_true(mp__utf8_valid("plain ascii, longer than eight bytes"));
    assert_true(mp__utf8_valid("1234567\xc3\xa9 and \xe2\x82\xac and \xf0\x9f\x98\x80 done"));
    assert_false(mp__utf8_valid("1234567\xe9 latin-1 across a word boundary"));
    assert_false(mp__utf8_valid("\xc0\xaf"));         /* overlong */
    assert_false(mp__utf8_valid("\xe0\x80\xaf"));     /* overlong */
    assert_false(mp__utf8_valid("\xed\xa0\x80"));     /* surrogate */
    assert_false(mp__utf8_valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
    assert_false(mp__utf8_valid("abc\xe2\x82"));      /* truncated at the end */
    assert_false(mp__utf8_valid("\x80"));
}

static void test_json_shape(void **state)
{
    (void)state;
    mp_pipeline *p = rich();
    json_t *j = mp__pipeline_to_json(p, 1);
    assert_string_equal(json_string_value(json_object_get(j, "schema")), "modpipe.pipeline/v1");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    json_t *o = json_object_get(j, "options");
    assert_string_equal(json_string_value(json_object_get(o, "on_failure")), "continue");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "concurrency_groups"), "net")), 4);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "distributed"), "max_attempts")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "requirements")), 2);
    json_t *mods = json_object_get(j, "modules");
    assert_int_equal(json_object_size(mods), 4);

    json_t *b = json_object_get(mods, "build[os=macos]");
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "base")), "build");
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "matrix"), "os")),
                        "macos");
    assert_true(json_is_array(json_object_get(b, "run")));
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_array_get(json_object_get(b, "produces"), 0), "paths"), 1)),
        "build/macos");
    assert_true(json_is_true(json_object_get(b, "not_in_parallel")));
    assert_string_equal(json_string_value(json_object_get(b, "priority")), "critical");
    assert_string_equal(json_string_value(json_object_get(b, "pos")), "t.yml:10:3");

    json_t *t = json_object_get(mods, "test");
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "deps"), 0)),
                        "build[os=linux]");
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "afters"), 0)), "lint");
    json_t *c0 = json_array_get(json_object_get(t, "consumes"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "producer")), "build[os=linux]");
    json_t *s0 = json_array_get(json_object_get(t, "skip_if"), 0);
    assert_string_equal(json_string_value(json_object_get(s0, "env")), "SKIP");
    assert_true(json_is_null(json_object_get(s0, "equals")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "not_in_parallel"), 0)),
                        "db");
    assert_string_equal(json_string_value(json_object_get(t, "priority")), "low");

    json_t *l = json_object_get(mods, "lint");
    assert_true(json_is_true(json_object_get(json_object_get(l, "run"), "function")));
    /* every field present, unset ones included */
    const char *keys[] = {"base",
                          "matrix",
                          "run",
                          "depends_on",
                          "after",
                          "deps",
                          "afters",
                          "env",
                          "working_dir",
                          "timeout_ms",
                          "retries",
                          "retry_delay_ms",
                          "produces",
                          "consumes",
                          "requires",
                          "skip_if",
                          "run_if",
                          "ignore_failure",
                          "always_run",
                          "pin_to_master",
                          "category",
                          "tags",
                          "priority",
                          "not_in_parallel",
                          "concurrency_group",
                          "secrets",
                          "pos"};
    size_t nk = sizeof(keys) / sizeof(keys[0]);
    assert_int_equal(json_object_size(l), nk);
    for (size_t i = 0; i < nk; i++)
        if (!json_object_get(l, keys[i])) fail_msg("missing %s", keys[i]);
    assert_true(json_is_null(json_object_get(l, "working_dir")));
    assert_true(json_is_null(json_object_get(l, "category")));
    assert_int_equal(json_integer_value(json_object_get(l, "timeout_ms")), -1);
    assert_true(json_is_false(json_object_get(l, "not_in_parallel")));
    assert_string_equal(json_string_value(json_object_get(l, "priority")), "normal");
    assert_int_equal(json_object_size(json_object_get(l, "matrix")), 0);
    json_decref(j);

    j = mp__pipeline_to_json(p, 0);
    assert_null(json_object_get(json_object_get(json_object_get(j, "modules"), "lint"), "pos"));
    json_decref(j);
    mp_pipeline_free(p);
}

/* The same pipeline declared in two orders. */
static mp_pipeline *ordered(int reverse, const char *run_of_b)
{
    mp_pipeline *p = mp_pipeline_new("order");
    const char *names[] = {"a", "b", "c"};
    for (int k = 0; k < 3; k++) {
        int i = reverse ? 2 - k : k;
        mp_module *m = mp_pipeline_add_module(p, names[i], i == 1 ? run_of_b : "true", NULL);
        if (i > 0) mp_module_depends_on(m, names[i - 1]);
        if (reverse) {
            mp_module_set_env(m, "Y", "2");
            mp_module_set_env(m, "X", "1");
        } else {
            mp_module_set_env(m, "X", "1");
            mp_module_set_env(m, "Y", "2");
        }
    }
    fx_env(p, &p->env, reverse ? "G2" : "G1", reverse ? "b" : "a", 1 + (unsigned)reverse);
    fx_env(p, &p->env, reverse ? "G1" : "G2", reverse ? "a" : "b", 5);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    return p;
}

static void test_hash_ignores_order(void **state)
{
    (void)state;
    mp_pipeline *x = ordered(0, "make");
    mp_pipeline *y = ordered(1, "make");
    mp_pipeline *z = ordered(0, "make all");
    assert_string_equal(mp_pipeline_hash(x), mp_pipeline_hash(y));
    assert_string_not_equal(mp_pipeline_hash(x), mp_pipeline_hash(z));
    /* stable across validations */
    char *h = strdup(mp_pipeline_hash(x));
    assert_int_equal(mp_pipeline_validate(x, NULL), 0);
    assert_string_equal(mp_pipeline_hash(x), h);
    free(h);
    /* an option counts */
    y->options.retries = 1;
    assert_int_equal(mp_pipeline_validate(y, NULL), 0);
    assert_string_not_equal(mp_pipeline_hash(x), mp_pipeline_hash(y));
    mp_pipeline_free(x);
    mp_pipeline_free(y);
    mp_pipeline_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_is_jansson_dump),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_hash_ignores_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
