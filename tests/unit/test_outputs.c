/*
 * test_outputs.c -- the $MODPIPE_OUTPUT format (src/core/outputs): single
 * lines, blocks, CRLF, repeats, every kind of malformed input reported
 * with its line and skipped, the 1 MiB cap, and reading files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/outputs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct got {
    mp_strbuf out;      /* "key=value|" for each output */
    mp_strbuf problems; /* "line: msg\n" */
} got;

static void on_out(const char *k, size_t kl, const char *v, size_t vl, void *data)
{
    got *g = data;
    mp__strbuf_add(&g->out, k, kl);
    mp__strbuf_addch(&g->out, '=');
    mp__strbuf_add(&g->out, v, vl);
    mp__strbuf_addch(&g->out, '|');
}

static void on_problem(unsigned line, const char *msg, void *data)
{
    got *g = data;
    mp__strbuf_addf(&g->problems, "%u: %s\n", line, msg);
}

static void check(const char *text, size_t len, const char *want_out, const char *want_problems)
{
    got g = {MP_STRBUF_INIT, MP_STRBUF_INIT};
    size_t n = mp__outputs_parse(text, len, on_out, on_problem, &g);
    assert_string_equal(g.out.buf, want_out);
    assert_string_equal(g.problems.buf, want_problems);
    size_t lines = 0;
    for (const char *c = want_problems; *c; c++)
        lines += *c == '\n';
    assert_int_equal(n, lines);
    mp__strbuf_release(&g.out);
    mp__strbuf_release(&g.problems);
}

#define CHECK(text, out, probs) check(text, sizeof(text) - 1, out, probs)

static void test_lines(void **state)
{
    (void)state;
    CHECK("", "", "");
    CHECK("a=1\nb=two words\n", "a=1|b=two words|", "");
    CHECK("a=1", "a=1|", "");       /* no final newline */
    CHECK("a=\n", "a=|", "");       /* empty value */
    CHECK("a=x=y\n", "a=x=y|", ""); /* first = splits */
    CHECK("k-e_Y9= spaced \n", "k-e_Y9= spaced |", "");
    CHECK("a=1\r\nb=2\r\n", "a=1|b=2|", ""); /* CRLF */
    CHECK("\n\na=1\n\n", "a=1|", "");        /* blank lines */
    CHECK("a=1\na=2\n", "a=1|a=2|", "");     /* repeats are all reported */
    CHECK("a=x<<y\n", "a=x<<y|", "");        /* = before << */
}

static void test_blocks(void **state)
{
    (void)state;
    CHECK("m<<EOF\nline 1\nline 2\nEOF\n", "m=line 1\nline 2|", "");
    CHECK("m<<EOF\nEOF\n", "m=|", "");
    CHECK("m<<EOF\n\nEOF\n", "m=|", "");
    CHECK("m<<EOF\n\n\nEOF\n", "m=\n|", "");
    CHECK("m<<EOF\r\na\r\nb\r\nEOF\r\nx=1\n", "m=a\nb|x=1|", "");
    CHECK("m<<END\nk=v\nEOF\nEND", "m=k=v\nEOF|", ""); /* other lines are content */
    CHECK("m<<EOF\n EOF\nEOF \nEOF\n", "m= EOF\nEOF |", "");
    CHECK("a<<x=y\nv\nx=y\n", "a=v|", ""); /* << before = */
}

static void test_problems(void **state)
{
    (void)state;
    CHECK("just text\nok=1\n", "ok=1|",
          "1: expected key=value or key<<DELIMITER, got \"just text\"\n");
    CHECK("bad key=1\n", "", "1: invalid output key \"bad key\" (keys are [A-Za-z0-9_-]+)\n");
    CHECK("=1\n", "", "1: invalid output key \"\" (keys are [A-Za-z0-9_-]+)\n");
    CHECK("a.b<<E\nE\n", "",
          "1: invalid output key \"a.b\" (keys are [A-Za-z0-9_-]+)\n"
          "2: expected key=value or key<<DELIMITER, got \"E\"\n");
    CHECK("m<<\nx=1\n", "x=1|", "1: block \"m\" has an empty delimiter\n");
    CHECK("a=1\nm<<EOF\nnever closed\n", "a=1|", "2: block \"m\" is not closed by \"EOF\"\n");
    CHECK("a=x\0y\nb=2\n", "b=2|", "1: value of \"a\" contains a NUL byte\n");
    CHECK("m<<E\nx\0\nE\nb=2\n", "b=2|", "1: value of \"m\" contains a NUL byte\n");
    /* A long garbage line is quoted only in part. */
    char line[300];
    memset(line, 'x', sizeof(line) - 2);
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = '\0';
    got g = {MP_STRBUF_INIT, MP_STRBUF_INIT};
    assert_int_equal(mp__outputs_parse(line, strlen(line), on_out, on_problem, &g), 1);
    assert_true(g.problems.len < 150);
    mp__strbuf_release(&g.out);
    mp__strbuf_release(&g.problems);
}

static void test_binary_garbage(void **state)
{
    (void)state;
    unsigned char buf[65536];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    /* Must not crash; any outputs found have valid keys. */
    got g = {MP_STRBUF_INIT, MP_STRBUF_INIT};
    mp__outputs_parse((const char *)buf, sizeof(buf), on_out, on_problem, &g);
    assert_true(g.problems.len > 0);
    mp__strbuf_release(&g.out);
    mp__strbuf_release(&g.problems);
}

static char *write_tmp(const char *data, size_t len)
{
    char *path = strdup("/tmp/mp-outputs-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
    close(fd);
    return path;
}

static void test_read_file(void **state)
{
    (void)state;
    mp_arena *a = mp__arena_new();
    mp_kv_vec out = {0};
    mp_strbuf probs = MP_STRBUF_INIT;
    const char text[] = "version=1.2\nnotes<<EOF\nfirst\nsecond\nEOF\nversion=1.3\noops\n";
    char *path = write_tmp(text, sizeof(text) - 1);
    assert_int_equal(mp__outputs_read_file(path, a, &out, &probs), 1);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.v[0].key.s, "version");
    assert_string_equal(out.v[0].value.s, "1.3"); /* the last one wins */
    assert_string_equal(out.v[1].key.s, "notes");
    assert_string_equal(out.v[1].value.s, "first\nsecond");
    assert_string_equal(probs.buf, "$MODPIPE_OUTPUT line 7: expected key=value or "
                                   "key<<DELIMITER, got \"oops\"\n");
    unlink(path);
    free(path);

    /* Missing file: nothing, no problem. */
    mp__strbuf_reset(&probs);
    out.n = 0;
    assert_int_equal(mp__outputs_read_file("/nonexistent/mp-out", a, &out, &probs), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(probs.len, 0);
    mp__strbuf_release(&probs);
    mp__arena_free(a);
}

static void test_cap(void **state)
{
    (void)state;
    /* 2 MiB of "k<i>=v" lines, then a key past the cap. */
    size_t cap = 3u << 20, len = 0;
    char *buf = malloc(cap);
    unsigned i = 0;
    while (len < (2u << 20))
        len += (size_t)snprintf(buf + len, cap - len, "k%u=vvvvvvvvvvvvvvvvvvvv\n", i++);
    len += (size_t)snprintf(buf + len, cap - len, "late=1\n");
    char *path = write_tmp(buf, len);
    mp_arena *a = mp__arena_new();
    mp_kv_vec out = {0};
    mp_strbuf probs = MP_STRBUF_INIT;
    assert_int_equal(mp__outputs_read_file(path, a, &out, &probs), 1);
    assert_non_null(strstr(probs.buf, "larger than 1048576 bytes"));
    assert_true(out.n > 1000 && out.n < i);
    for (size_t k = 0; k < out.n; k++) /* no half-read line */
        assert_string_equal(out.v[k].value.s, "vvvvvvvvvvvvvvvvvvvv");
    for (size_t k = 0; k < out.n; k++)
        assert_string_not_equal(out.v[k].key.s, "late");
    unlink(path);
    free(path);
    free(buf);
    mp__strbuf_release(&probs);
    mp__arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),     cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_problems),  cmocka_unit_test(test_binary_garbage),
        cmocka_unit_test(test_read_file), cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
