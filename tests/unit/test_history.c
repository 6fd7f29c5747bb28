/* test_history.c -- module durations of earlier runs (core/history.h):
 * round trip, moving average, expected_ms, corrupt files, atomic save;
 * the streaming writer and reader (history_json.c): odd names escaped and
 * read back, the file agreeing with jansson, every truncation of a file
 * ignored with a warning, JSON the reader must accept or reject. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/history.h"
#include "core_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct tmpdir {
    char root[64];  /* mkdtemp */
    char state[96]; /* root/.modpipe (not created) */
    char file[128]; /* state/history.json */
} tmpdir;

static void tmp_make(tmpdir *t)
{
    snprintf(t->root, sizeof(t->root), "/tmp/mp_history_XXXXXX");
    assert_non_null(mkdtemp(t->root));
    snprintf(t->state, sizeof(t->state), "%s/.modpipe", t->root);
    snprintf(t->file, sizeof(t->file), "%s/history.json", t->state);
}

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char sub[512];
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Entries of dir other than "." / ".." and `except`. */
static int others_in(const char *dir, const char *except)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, except)) n++;
    closedir(d);
    return n;
}

static int64_t ms_of(const mp_history *h, const char *name, int64_t *runs)
{
    int64_t ms = -1;
    assert_int_equal(mp__history_get(h, name, &ms, runs), 0);
    return ms;
}

static void test_round_trip_and_average(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mp_error w = {.code = 123};
    mp_history *h = mp__history_load(t.state, &w); /* nothing there yet */
    assert_non_null(h);
    assert_int_equal(w.code, 0);
    assert_int_equal(mp__history_get(h, "build", NULL, NULL), MP_ENOENT);

    mp__history_record(h, "build", 1000);
    mp__history_record(h, "build", 2000); /* (1000 + 2000) / 2 */
    mp__history_record(h, "test[os=linux]", 333);
    mp__history_record(h, "neg", -5);
    int64_t runs;
    assert_int_equal(ms_of(h, "build", &runs), 1500);
    assert_int_equal(runs, 2);
    mp__history_record(h, "build", 3001); /* (1500 + 3001) / 2 = 2250.5 -> 2251 */
    assert_int_equal(ms_of(h, "build", &runs), 2251);
    assert_int_equal(runs, 3);
    assert_int_equal(ms_of(h, "neg", NULL), 0);

    mp_error err = {0};
    assert_int_equal(mp__history_save(h, &err), 0); /* creates .modpipe */
    mp__history_free(h);

    /* the file is the documented format */
    json_error_t jerr;
    json_t *root = json_load_file(t.file, 0, &jerr);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "schema")), "modpipe.history/v1");
    json_t *b = json_object_get(json_object_get(root, "modules"), "build");
    assert_int_equal(json_integer_value(json_object_get(b, "ms")), 2251);
    assert_int_equal(json_integer_value(json_object_get(b, "runs")), 3);
    json_decref(root);
    struct stat st;
    assert_int_equal(stat(t.file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    h = mp__history_load(t.state, &w);
    assert_int_equal(w.code, 0);
    assert_int_equal(ms_of(h, "build", &runs), 2251);
    assert_int_equal(runs, 3);
    assert_int_equal(ms_of(h, "test[os=linux]", &runs), 333);
    assert_int_equal(runs, 1);
    mp__history_free(h);
    mp__history_free(NULL);
    rm_rf(t.root);
}

static size_t idx_of(const mp_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->modules.n; i++)
        if (strcmp(p->modules.v[i]->name, name) == 0) return i;
    fail_msg("no module %s", name);
    return 0;
}

static void test_expected_and_update(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mp_pipeline *p = mp_pipeline_new(NULL);
    fx_decl(p, "a", 1);
    fx_decl(p, "b", 2);
    fx_decl(p, "c", 3);
    fx_decl(p, "d", 4);
    mp_module_decl *m = fx_decl(p, "t", 5);
    fx_axis(p, m, 6, "os", "linux", "macos", NULL);
    assert_int_equal(mp_pipeline_validate(p, NULL), 0);
    size_t n = p->modules.n;
    assert_int_equal(n, 6);

    mp_history *h = mp__history_load(t.state, NULL);
    mp__history_record(h, "elsewhere", 42); /* a module of another pipeline: kept */
    mp_result *r = calloc(n, sizeof(*r));
    for (size_t i = 0; i < n; i++)
        mp__result_init(&r[i]);
    const mp_module *const *mods = (const mp_module *const *)p->modules.v;
    for (size_t i = 0; i < n; i++) {
        const char *nm = mods[i]->name;
        r[i].duration_ms = 100 * (int64_t)(i + 1);
        r[i].status = strcmp(nm, "a") == 0             ? MP_STATUS_SUCCEEDED
                      : strcmp(nm, "b") == 0           ? MP_STATUS_IGNORED_FAILURE
                      : strcmp(nm, "c") == 0           ? MP_STATUS_FAILED
                      : strcmp(nm, "d") == 0           ? MP_STATUS_CANCELLED
                      : strcmp(nm, "t[os=linux]") == 0 ? MP_STATUS_SUCCEEDED
                                                       : MP_STATUS_SKIPPED;
    }
    mp__history_update(h, p, r);
    assert_int_equal(mp__history_save(h, NULL), 0);
    mp__history_free(h);

    h = mp__history_load(t.state, NULL);
    int64_t *exp = calloc(n, sizeof(int64_t));
    mp__history_expected(h, p, exp);
    for (size_t i = 0; i < n; i++) {
        const char *nm = mods[i]->name;
        int64_t want =
            strcmp(nm, "a") == 0 || strcmp(nm, "b") == 0 || strcmp(nm, "t[os=linux]") == 0
                ? 100 * (int64_t)(i + 1)
                : MP_HISTORY_UNKNOWN_MS;
        if (exp[i] != want)
            fail_msg("%s: expected_ms %lld, want %lld", nm, (long long)exp[i], (long long)want);
    }
    assert_int_equal(ms_of(h, "elsewhere", NULL), 42);
    assert_int_equal(mp__history_get(h, "c", NULL, NULL), MP_ENOENT);
    /* an update after expected_ms (the entries it found are reused) folds
     * into the same entries a record between the two changed */
    mp__history_record(h, "a", 300); /* (100 + 300) / 2 */
    for (size_t i = 0; i < n; i++)
        if (strcmp(mods[i]->name, "c") == 0) r[i].status = MP_STATUS_SUCCEEDED; /* new now */
    mp__history_update(h, p, r);
    int64_t runs;
    assert_int_equal(ms_of(h, "a", &runs), 150); /* (200 + 100) / 2 */
    assert_int_equal(runs, 3);
    assert_int_equal(ms_of(h, "t[os=linux]", &runs), 100 * (int64_t)(idx_of(p, "t[os=linux]") + 1));
    assert_int_equal(runs, 2);
    assert_int_equal(ms_of(h, "c", &runs), 100 * (int64_t)(idx_of(p, "c") + 1));
    assert_int_equal(runs, 1);
    mp__history_free(h);

    /* a module unknown to expected_ms but recorded before the update:
     * the update folds into that entry (one entry, a file that loads) */
    rm_rf(t.state);
    h = mp__history_load(t.state, NULL);
    mp__history_expected(h, p, exp);
    mp__history_record(h, "d", 10);
    for (size_t i = 0; i < n; i++)
        r[i].status = strcmp(mods[i]->name, "d") == 0 ? MP_STATUS_SUCCEEDED : MP_STATUS_SKIPPED;
    r[idx_of(p, "d")].duration_ms = 20;
    mp__history_update(h, p, r);
    assert_int_equal(ms_of(h, "d", &runs), 15);
    assert_int_equal(runs, 2);
    assert_int_equal(mp__history_save(h, NULL), 0);
    mp__history_free(h);
    mp_error w = {0};
    h = mp__history_load(t.state, &w);
    assert_int_equal(w.code, 0);
    assert_int_equal(ms_of(h, "d", &runs), 15);
    mp__history_free(h);
    free(exp);
    free(r);
    mp_pipeline_free(p);
    rm_rf(t.root);
}

static void expect_ignored(const tmpdir *t, const char *text, int code, const char *why)
{
    write_file(t->file, text);
    mp_error w = {0};
    mp_history *h = mp__history_load(t->state, &w);
    assert_non_null(h);
    if (w.code != code)
        fail_msg("%s: warning code %d, want %d (%s)", text, w.code, code, w.message);
    assert_non_null(strstr(w.message, "ignoring "));
    assert_non_null(strstr(w.message, t->file));
    if (!strstr(w.message, why)) fail_msg("warning \"%s\" lacks \"%s\"", w.message, why);
    assert_int_equal(mp__history_get(h, "build", NULL, NULL), MP_ENOENT);
    /* the next save replaces it with a good file */
    mp__history_record(h, "build", 7);
    assert_int_equal(mp__history_save(h, NULL), 0);
    mp__history_free(h);
    h = mp__history_load(t->state, &w);
    assert_int_equal(w.code, 0);
    assert_int_equal(ms_of(h, "build", NULL), 7);
    mp__history_free(h);
}

static void test_corrupt_files(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    assert_int_equal(mkdir(t.state, 0755), 0);
    expect_ignored(&t, "{\"schema\": \"modpipe.history/v1\", \"modules\": {", MP_EPARSE, "line");
    expect_ignored(&t, "", MP_EPARSE, "line");
    expect_ignored(&t, "[1, 2]", MP_EPARSE, "not a JSON object");
    expect_ignored(&t, "{\"schema\": \"modpipe.history/v9\", \"modules\": {}}", MP_EPARSE,
                   "schema");
    expect_ignored(&t, "{\"schema\": \"modpipe.history/v1\", \"modules\": []}", MP_EPARSE,
                   "\"modules\"");
    expect_ignored(
        &t,
        "{\"schema\": \"modpipe.history/v1\", \"modules\": "
        "{\"build\": {\"ms\": 10, \"runs\": 1}, \"x\": {\"ms\": \"slow\", \"runs\": 1}}}",
        MP_EPARSE, "malformed");
    expect_ignored(&t,
                   "{\"schema\": \"modpipe.history/v1\", \"modules\": "
                   "{\"build\": {\"ms\": -3, \"runs\": 1}}}",
                   MP_EPARSE, "malformed");
    expect_ignored(&t,
                   "{\"schema\": \"modpipe.history/v1\", \"modules\": "
                   "{\"build\": {\"ms\": 3, \"runs\": 1}, \"build\": {\"ms\": 4, \"runs\": 1}}}",
                   MP_EPARSE, "duplicate");

    /* unreadable: history.json is a directory */
    rm_rf(t.file);
    assert_int_equal(mkdir(t.file, 0755), 0);
    mp_error w = {0};
    mp_history *h = mp__history_load(t.state, &w);
    assert_non_null(h);
    assert_true(w.code == MP_EIO || w.code == MP_EPARSE);
    assert_non_null(strstr(w.message, "ignoring "));
    mp__history_free(h);
    rm_rf(t.root);
}

static void test_atomic_save(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mp_history *h = mp__history_load(t.state, NULL);
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof(name), "module-%03d", i);
        mp__history_record(h, name, i);
    }
    assert_int_equal(mp__history_save(h, NULL), 0);
    assert_int_equal(others_in(t.state, "history.json"), 0); /* no temp file left */

    /* a save replaces the file by rename: a reader holding the old file
     * keeps seeing it whole, a new reader sees the new one whole */
    int old_fd = open(t.file, O_RDONLY);
    assert_true(old_fd >= 0);
    struct stat before, after;
    assert_int_equal(fstat(old_fd, &before), 0);
    mp__history_record(h, "module-000", 1000);
    assert_int_equal(mp__history_save(h, NULL), 0);
    assert_int_equal(stat(t.file, &after), 0);
    assert_true(before.st_ino != after.st_ino);
    json_error_t jerr;
    json_t *old = json_loadfd(old_fd, 0, &jerr);
    assert_non_null(old);
    json_t *e = json_object_get(json_object_get(old, "modules"), "module-000");
    assert_int_equal(json_integer_value(json_object_get(e, "ms")), 0);
    json_decref(old);
    close(old_fd);
    assert_int_equal(others_in(t.state, "history.json"), 0);

    /* a failing save leaves history.json as it was and no temp file:
     * here the rename fails because history.json became a non-empty dir */
    rm_rf(t.file);
    assert_int_equal(mkdir(t.file, 0755), 0);
    char keep[256];
    snprintf(keep, sizeof(keep), "%s/keep", t.file);
    write_file(keep, "x");
    mp_error err = {0};
    assert_int_equal(mp__history_save(h, &err), MP_EIO);
    assert_int_equal(err.code, MP_EIO);
    assert_non_null(strstr(err.message, "cannot save"));
    assert_non_null(strstr(err.message, t.file));
    assert_non_null(strstr(err.message, "rename"));
    struct stat st;
    assert_int_equal(stat(keep, &st), 0);
    assert_int_equal(others_in(t.state, "history.json"), 0);
    mp__history_free(h);

    /* a state dir whose parent is missing: MP_EIO, nothing created */
    char deep[256];
    snprintf(deep, sizeof(deep), "%s/no/such/dir", t.root);
    h = mp__history_load(deep, NULL);
    assert_int_equal(mp__history_save(h, &err), MP_EIO);
    assert_non_null(strstr(err.message, "state directory"));
    mp__history_free(h);
    rm_rf(t.root);
}

/* Names a matrix value can put into a module name: quotes, backslashes,
 * control characters, DEL, non-ASCII UTF-8 (2, 3 and 4 bytes). */
static const char *const odd_names[] = {
    "plain",
    "t[os=linux]",
    "q\"uote",
    "back\\slash",
    "new\nline\ttab\rcr\bbs\fff",
    "ctl\x01\x1f",
    "del\x7f",
    "slash/ok",
    "caf\xc3\xa9",
    "\xe2\x82\xac euro",
    "\xf0\x9f\x98\x80 emoji",
    "t[v=\"a\\\\b\"]",
    "",
};
#define N_ODD (sizeof(odd_names) / sizeof(odd_names[0]))

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_bytes(const char *path, const char *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
}

static void test_odd_names_round_trip(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mp_history *h = mp__history_load(t.state, NULL);
    for (size_t i = 0; i < N_ODD; i++)
        mp__history_record(h, odd_names[i], 10 * (int64_t)i + 1);
    mp__history_record(h, "not utf-8 \xff", 5); /* cannot be a JSON key: not kept */
    assert_int_equal(mp__history_get(h, "not utf-8 \xff", NULL, NULL), MP_ENOENT);
    assert_int_equal(mp__history_save(h, NULL), 0);
    mp__history_free(h);

    /* jansson reads the same names and values */
    json_error_t jerr;
    json_t *root = json_load_file(t.file, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) fail_msg("jansson: line %d: %s", jerr.line, jerr.text);
    json_t *mods = json_object_get(root, "modules");
    assert_int_equal(json_object_size(mods), N_ODD);
    for (size_t i = 0; i < N_ODD; i++) {
        json_t *e = json_object_get(mods, odd_names[i]);
        if (!e) fail_msg("jansson lacks name %zu", i);
        assert_int_equal(json_integer_value(json_object_get(e, "ms")), 10 * (int64_t)i + 1);
        assert_int_equal(json_integer_value(json_object_get(e, "runs")), 1);
    }
    json_decref(root);

    /* and so does the reader; a second save writes the same bytes */
    size_t len1, len2;
    char *first = read_all(t.file, &len1);
    mp_error w = {0};
    h = mp__history_load(t.state, &w);
    assert_int_equal(w.code, 0);
    for (size_t i = 0; i < N_ODD; i++) {
        int64_t runs;
        assert_int_equal(ms_of(h, odd_names[i], &runs), 10 * (int64_t)i + 1);
        assert_int_equal(runs, 1);
    }
    assert_int_equal(mp__history_save(h, NULL), 0);
    mp__history_free(h);
    char *second = read_all(t.file, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(first, second, len1);
    free(first);
    free(second);
    rm_rf(t.root);
}

/* Every proper prefix of a good file is ignored with a warning (never a
 * crash, never half a history), and the next save replaces it. */
static void test_truncated_files(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mp_history *h = mp__history_load(t.state, NULL);
    for (size_t i = 0; i < N_ODD; i++)
        mp__history_record(h, odd_names[i], 1234567 + (int64_t)i);
    assert_int_equal(mp__history_save(h, NULL), 0);
    mp__history_free(h);
    size_t len;
    char *full = read_all(t.file, &len);
    /* the writer ends the file with "}\n": every cut before the last
     * brace leaves JSON that is not whole */
    size_t last = len;
    while (last > 0 && full[last - 1] != '}')
        last--;
    assert_true(last > 0);
    for (size_t cut = 0; cut < last; cut++) {
        write_bytes(t.file, full, cut);
        mp_error w = {0};
        h = mp__history_load(t.state, &w);
        if (w.code != MP_EPARSE)
            fail_msg("cut at %zu of %zu: warning code %d (%s)", cut, len, w.code, w.message);
        assert_non_null(strstr(w.message, "ignoring "));
        assert_non_null(strstr(w.message, "line "));
        for (size_t i = 0; i < N_ODD; i++)
            assert_int_equal(mp__history_get(h, odd_names[i], NULL, NULL), MP_ENOENT);
        mp__history_free(h);
    }
    /* garbage in place of a byte, at a few places */
    for (size_t at = 1; at < len; at += len / 7) {
        char *bad = malloc(len);
        assert_non_null(bad);
        memcpy(bad, full, len);
        bad[at] = '\x01';
        write_bytes(t.file, bad, len);
        free(bad);
        mp_error w = {0};
        h = mp__history_load(t.state, &w);
        assert_int_equal(w.code, MP_EPARSE);
        mp__history_free(h);
    }
    free(full);
    rm_rf(t.root);
}

/* JSON another tool may have written: the reader takes any valid form. */
static void test_reader_accepts(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    assert_int_equal(mkdir(t.state, 0755), 0);
    write_file(t.file, " \r\n\t{ \"extra\" : [1, -2.5e3, {\"x\": [true, false, null]}, \"s\"],\n"
                       "\"modules\":{\"caf\\u00e9\":{\"runs\":2,\"note\":{},\"ms\":0},"
                       "\"\\ud83d\\ude00\\/\\\"\\\\\\n\":{\"ms\":9223372036854775807,\"runs\":1},"
                       "\"e\\u20ac\":{\"ms\":5,\"runs\":3}},"
                       "\"schema\":\"modpipe.history/v1\"}\n\n");
    mp_error w = {0};
    mp_history *h = mp__history_load(t.state, &w);
    if (w.code) fail_msg("warning: %s", w.message);
    int64_t runs;
    assert_int_equal(ms_of(h, "caf\xc3\xa9", &runs), 0);
    assert_int_equal(runs, 2);
    assert_int_equal(ms_of(h, "\xf0\x9f\x98\x80/\"\\\n", &runs), INT64_MAX);
    assert_int_equal(runs, 1);
    assert_int_equal(ms_of(h, "e\xe2\x82\xac", &runs), 5);
    assert_int_equal(runs, 3);
    /* the average does not overflow at the top of the range */
    mp__history_record(h, "\xf0\x9f\x98\x80/\"\\\n", INT64_MAX);
    assert_int_equal(ms_of(h, "\xf0\x9f\x98\x80/\"\\\n", NULL), INT64_MAX);
    mp__history_free(h);

    write_file(t.file, "{\"schema\": \"modpipe.history/v1\", \"modules\": {}}");
    h = mp__history_load(t.state, &w);
    assert_int_equal(w.code, 0);
    assert_int_equal(mp__history_save(h, NULL), 0); /* an empty history saves as valid JSON */
    mp__history_free(h);
    json_error_t jerr;
    json_t *root = json_load_file(t.file, 0, &jerr);
    assert_non_null(root);
    assert_int_equal(json_object_size(json_object_get(root, "modules")), 0);
    json_decref(root);
    rm_rf(t.root);
}

/* What the reader must reject, with the words its warning must have. */
static void test_reader_rejects(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    assert_int_equal(mkdir(t.state, 0755), 0);
#define DOC(mods) "{\"schema\": \"modpipe.history/v1\", \"modules\": {" mods "}}"
    expect_ignored(&t, DOC("\"a\xff\": {\"ms\": 1, \"runs\": 1}"), MP_EPARSE, "UTF-8");
    expect_ignored(&t, DOC("\"a\xed\xa0\x80\": {\"ms\": 1, \"runs\": 1}"), MP_EPARSE, "UTF-8");
    expect_ignored(&t, DOC("\"a\\u0000\": {\"ms\": 1, \"runs\": 1}"), MP_EPARSE, "\\u0000");
    expect_ignored(&t, DOC("\"a\\ud800\": {\"ms\": 1, \"runs\": 1}"), MP_EPARSE, "line 1");
    expect_ignored(&t, DOC("\"a\\q\": {\"ms\": 1, \"runs\": 1}"), MP_EPARSE, "escape");
    expect_ignored(&t, DOC("\"a\tb\": {\"ms\": 1, \"runs\": 1}"), MP_EPARSE, "control");
    expect_ignored(&t, DOC("\"a\": {\"ms\": 9223372036854775808, \"runs\": 1}"), MP_EPARSE,
                   "too big");
    expect_ignored(&t, DOC("\"a\": {\"ms\": 01, \"runs\": 1}"), MP_EPARSE, "line 1");
    expect_ignored(&t, DOC("\"a\": {\"ms\": 1.5, \"runs\": 1}"), MP_EPARSE, "malformed");
    expect_ignored(&t, DOC("\"a\": {\"ms\": 1, \"runs\": 0}"), MP_EPARSE, "malformed");
    expect_ignored(&t, DOC("\"a\": {\"ms\": 1}"), MP_EPARSE, "malformed");
    expect_ignored(&t, DOC("\"a\": {\"ms\": 1, \"ms\": 2, \"runs\": 1}"), MP_EPARSE, "duplicate");
    expect_ignored(&t, DOC("\"a\": [1, 1]"), MP_EPARSE, "malformed");
    expect_ignored(&t, DOC("\"a\": {\"ms\": 1, \"runs\": 1},"), MP_EPARSE, "line 1");
    expect_ignored(&t, DOC("\"a\": {\"ms\": 1, \"runs\": 1}") "x", MP_EPARSE, "end of file");
    expect_ignored(&t,
                   "{\"schema\": \"modpipe.history/v1\", \"schema\": \"modpipe.history/v1\", "
                   "\"modules\": {}}",
                   MP_EPARSE, "duplicate");
    expect_ignored(&t, "{\"modules\": {}}", MP_EPARSE, "schema");
    expect_ignored(&t, "{\"schema\": \"modpipe.history/v1\"}", MP_EPARSE, "\"modules\"");
    expect_ignored(&t, "{\"schema\": \"modpipe.history/v1\",\n\n \"modules\": {\"a\": {\"ms\": tru",
                   MP_EPARSE, "line 3");
    /* nesting deeper than the reader goes, in a key it would skip */
    char deep[2200];
    size_t n = (size_t)snprintf(deep, sizeof(deep), "{\"schema\": \"modpipe.history/v1\", \"x\": ");
    for (int k = 0; k < 1000; k++)
        deep[n++] = '[';
    deep[n] = 0;
    expect_ignored(&t, deep, MP_EPARSE, "depth");
#undef DOC
    rm_rf(t.root);
}

/* A large history (the bench's 100,000 modules, here 20,000) round trips
 * in the table's order with every value. */
static void test_many_entries(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    mp_history *h = mp__history_load(t.state, NULL);
    char name[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        mp__history_record(h, name, i);
        if (i % 3 == 0) mp__history_record(h, name, i + 2);
    }
    assert_int_equal(mp__history_save(h, NULL), 0);
    mp__history_free(h);
    mp_error w = {0};
    h = mp__history_load(t.state, &w);
    assert_int_equal(w.code, 0);
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        int64_t runs;
        assert_int_equal(ms_of(h, name, &runs), i % 3 == 0 ? i + 1 : i);
        assert_int_equal(runs, i % 3 == 0 ? 2 : 1);
    }
    mp__history_free(h);
    rm_rf(t.root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_average),
        cmocka_unit_test(test_expected_and_update),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_atomic_save),
        cmocka_unit_test(test_odd_names_round_trip),
        cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_reader_accepts),
        cmocka_unit_test(test_reader_rejects),
        cmocka_unit_test(test_many_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
