/* test_expr.c -- `${{ }}` parsing and substitution (core/expr.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/expr.h"

#include <stdlib.h>
#include <string.h>

static int next(const char *s, size_t *off, mp_expr *e, const char **why)
{
    *why = NULL;
    return mp__expr_next(s, off, e, why);
}

static void test_forms(void **state)
{
    (void)state;
    mp_expr e;
    const char *why;
    size_t off = 0;
    const char *s = "a ${{ matrix.os }} b ${{modules.build.outputs.version}} "
                    "${{ modules.test[os=linux].status }} ${{ instance.index }} ${{run.id}}";
    assert_int_equal(next(s, &off, &e, &why), 1);
    assert_int_equal(e.kind, MP_EXPR_MATRIX);
    assert_int_equal(e.key_len, 2);
    assert_memory_equal(e.key, "os", 2);
    assert_int_equal(e.start, 2);
    assert_memory_equal(s + e.end - 2, "}}", 2);
    assert_int_equal(next(s, &off, &e, &why), 1);
    assert_int_equal(e.kind, MP_EXPR_OUTPUT);
    assert_int_equal(e.module_len, 5);
    assert_memory_equal(e.module, "build", 5);
    assert_int_equal(e.key_len, 7);
    assert_memory_equal(e.key, "version", 7);
    assert_int_equal(next(s, &off, &e, &why), 1);
    assert_int_equal(e.kind, MP_EXPR_STATUS);
    assert_int_equal(e.module_len, strlen("test[os=linux]"));
    assert_memory_equal(e.module, "test[os=linux]", e.module_len);
    assert_int_equal(next(s, &off, &e, &why), 1);
    assert_int_equal(e.kind, MP_EXPR_INSTANCE_INDEX);
    assert_int_equal(next(s, &off, &e, &why), 1);
    assert_int_equal(e.kind, MP_EXPR_RUN_ID);
    assert_int_equal(next(s, &off, &e, &why), 0);
    assert_int_equal(off, strlen(s));
}

static void test_dotted_module_names(void **state)
{
    (void)state;
    mp_expr e;
    const char *why;
    size_t off = 0;
    /* M is everything up to the last ".outputs." */
    const char *s = "${{ modules.a.outputs.b.outputs.k }}";
    assert_int_equal(next(s, &off, &e, &why), 1);
    assert_int_equal(e.kind, MP_EXPR_OUTPUT);
    assert_int_equal(e.module_len, strlen("a.outputs.b"));
    assert_memory_equal(e.module, "a.outputs.b", e.module_len);
    assert_memory_equal(e.key, "k", 1);
    off = 0;
    s = "${{ modules.lib.v2.status }}";
    assert_int_equal(next(s, &off, &e, &why), 1);
    assert_int_equal(e.kind, MP_EXPR_STATUS);
    assert_memory_equal(e.module, "lib.v2", 6);
    assert_int_equal(e.module_len, 6);
}

static void expect_malformed(const char *s, const char *why_part)
{
    mp_expr e;
    const char *why;
    size_t off = 0;
    int rc = next(s, &off, &e, &why);
    if (rc != -1) fail_msg("\"%s\": expected malformed, got %d", s, rc);
    assert_non_null(why);
    if (!strstr(why, why_part)) fail_msg("\"%s\": why \"%s\" lacks \"%s\"", s, why, why_part);
    assert_true(e.end > e.start);
    assert_true(e.end <= strlen(s));
    assert_int_equal(off, e.end);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_malformed("${{ }}", "empty");
    expect_malformed("${{}}", "empty");
    expect_malformed("x ${{ matrix.os", "unterminated");
    expect_malformed("${{ matrix. }}", "matrix key");
    expect_malformed("${{ matrix.o s }}", "matrix key");
    expect_malformed("${{ env.HOME }}", "unknown expression");
    expect_malformed("${{ run.ids }}", "unknown expression");
    expect_malformed("${{ modules.x }}", "modules.M.outputs.K");
    expect_malformed("${{ modules..status }}", "modules.M");
    expect_malformed("${{ modules.x.outputs. }}", "modules.M");
    expect_malformed("${{ modules.x.outputs.a.b }}", "modules.M");
    expect_malformed("${{ modules.a b.status }}", "modules.M");
}

static void test_scanning_continues_after_malformed(void **state)
{
    (void)state;
    const char *s = "${{ bad }} then ${{ run.id }}";
    mp_expr e;
    const char *why;
    size_t off = 0;
    assert_int_equal(next(s, &off, &e, &why), -1);
    assert_int_equal(e.start, 0);
    assert_int_equal(e.end, strlen("${{ bad }}"));
    assert_int_equal(next(s, &off, &e, &why), 1);
    assert_int_equal(e.kind, MP_EXPR_RUN_ID);
    assert_int_equal(next(s, &off, &e, &why), 0);
}

static void test_escape(void **state)
{
    (void)state;
    mp_expr e;
    const char *why;
    size_t off = 0;
    assert_int_equal(next("echo $${{ not.an.expr }}", &off, &e, &why), 0);
    off = 0;
    assert_int_equal(next("$$${{ run.id }}", &off, &e, &why), 0); /* "$" + escape */
    off = 0;
    assert_int_equal(next("$ ${{ run.id }}", &off, &e, &why), 1);
    assert_int_equal(e.start, 2);
    off = 0;
    assert_int_equal(next("", &off, &e, &why), 0);
    off = 0;
    assert_int_equal(next(NULL, &off, &e, &why), 0);
}

static int resolve(const mp_expr *e, mp_strbuf *sb, void *data)
{
    (void)data;
    if (e->kind == MP_EXPR_MATRIX && e->key_len == 2 && memcmp(e->key, "os", 2) == 0) {
        mp__strbuf_adds(sb, "linux");
        return 0;
    }
    if (e->kind == MP_EXPR_RUN_ID) {
        mp__strbuf_adds(sb, "partial");
        return -1; /* what was appended must be dropped */
    }
    return -1;
}

static void test_substitute(void **state)
{
    (void)state;
    mp_arena *a = mp__arena_new();
    assert_string_equal(
        mp__expr_substitute(a, "t ${{ matrix.os }}/${{matrix.os}}", resolve, NULL, 0),
        "t linux/linux");
    assert_string_equal(
        mp__expr_substitute(a, "${{ matrix.arch }} ${{ run.id }}", resolve, NULL, 0),
        "${{ matrix.arch }} ${{ run.id }}");
    assert_string_equal(
        mp__expr_substitute(a, "$${{ matrix.os }} ${{ matrix.os }}", resolve, NULL, 0),
        "$${{ matrix.os }} linux");
    assert_string_equal(
        mp__expr_substitute(a, "$${{ matrix.os }} ${{ matrix.os }}", resolve, NULL, 1),
        "${{ matrix.os }} linux");
    assert_string_equal(mp__expr_substitute(a, "${{ bad }} ${{ matrix.os", resolve, NULL, 1),
                        "${{ bad }} ${{ matrix.os");
    assert_string_equal(mp__expr_substitute(a, "plain $HOME", resolve, NULL, 1), "plain $HOME");
    assert_string_equal(mp__expr_substitute(a, "${{ matrix.os }}", NULL, NULL, 1),
                        "${{ matrix.os }}");
    assert_null(mp__expr_substitute(a, NULL, resolve, NULL, 1));
    mp__arena_free(a);
}

/* Random and adversarial inputs: never crash, offsets always advance and
 * stay in bounds, substitution without a resolver is the identity (except
 * unescaping). */
static void test_robust(void **state)
{
    (void)state;
    static const char *const parts[] = {
        "${{",     "}}",       "$",         "$${{",    "{",      "}", " ",
        "matrix.", "modules.", ".outputs.", ".status", "run.id", "x", "instance.index",
        "\n",      "\xff",     "[a=b]"};
    size_t np = sizeof(parts) / sizeof(parts[0]);
    mp_arena *a = mp__arena_new();
    srand(12345);
    char buf[512];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int k = rand() % 24;
        buf[0] = '\0';
        for (int j = 0; j < k; j++) {
            const char *part = parts[(size_t)rand() % np];
            size_t pl = strlen(part);
            if (len + pl + 1 >= sizeof(buf)) break;
            memcpy(buf + len, part, pl + 1);
            len += pl;
        }
        size_t off = 0, prev = 0;
        mp_expr e;
        const char *why;
        int rc, guard = 0;
        while ((rc = mp__expr_next(buf, &off, &e, &why)) != 0) {
            assert_true(off > prev || (off == prev && rc == 0));
            assert_true(off <= len);
            assert_true(e.start < e.end && e.end <= len);
            prev = off;
            assert_true(++guard < 1000);
        }
        char *same = mp__expr_substitute(a, buf, NULL, NULL, 0);
        assert_string_equal(same, buf);
    }
    /* A long string of openers is linear, not quadratic-per-opener. */
    size_t big = 1 << 20;
    char *s = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        s[i] = "${{"[i % 3];
    s[big] = '\0';
    size_t off = 0;
    mp_expr e;
    const char *why;
    assert_int_equal(mp__expr_next(s, &off, &e, &why), -1);
    assert_int_equal(off, big);
    assert_int_equal(mp__expr_next(s, &off, &e, &why), 0);
    free(s);
    mp__arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),     cmocka_unit_test(test_dotted_module_names),
        cmocka_unit_test(test_malformed), cmocka_unit_test(test_scanning_continues_after_malformed),
        cmocka_unit_test(test_escape),    cmocka_unit_test(test_substitute),
        cmocka_unit_test(test_robust),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
