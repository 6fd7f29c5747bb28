/*
 * test_fixtures.c -- the pipeline fixtures in tests/fixtures/, through the
 * library the way `modpipe validate` and `modpipe graph --format json` use
 * it (src/cli/load.c, src/cli/cmd_graph.c).
 *
 *   invalid/NAME.yml  loaded with display name "NAME.yml", then validated
 *                     (also when the loader found problems, as the CLI
 *                     does); every problem rendered as `file:line:col:
 *                     message` must equal invalid/NAME.expected line for
 *                     line. There must be at least MIN_INVALID of them.
 *   valid/NAME.yml    loads and validates without a problem; its JSON form
 *                     (with positions, indented by two, keys sorted, a
 *                     final newline) must equal valid/NAME.json.
 *                     valid/NAME-reordered.yml is NAME.yml written
 *                     differently and must have the same canonical hash;
 *                     all other valid fixtures have distinct hashes.
 *   invalid/pending/  cases whose message or position is wrong today (see
 *                     the README there); not checked, but one that starts
 *                     passing is pointed out so it can be moved up.
 *
 * Every fixture is checked before the test fails, and a mismatch prints
 * both texts as a line diff ("-" expected, "+" actual).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/pipeline_json.h"
#include "modpipe.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_INVALID 40
#define MIN_VALID   8
#define FIXTURES    MODPIPE_SOURCE_DIR "/tests/fixtures"
#define REORDERED   "-reordered"

/* ------------------------------------------------------------ helpers */

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void text_add(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_addf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_addf(text *t, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(buf));
    text_add(t, buf, (size_t)n);
}

/* The whole file, NUL-terminated (it may hold other NULs); NULL if absent. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    text t = {0};
    char buf[65536];
    size_t n;
    text_add(&t, "", 0);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        text_add(&t, buf, n);
    fclose(f);
    if (len) *len = t.len;
    return t.s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The base names (without ".yml") of the .yml files in dir, sorted; count in *n. */
static char **list_fixtures(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) print_error("cannot open %s\n", dir);
    assert_non_null(d);
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || strcmp(e->d_name + len - 4, ".yml") != 0) continue;
        names = realloc(names, (count + 1) * sizeof(*names));
        assert_non_null(names);
        names[count++] = strndup(e->d_name, len - 4);
    }
    closedir(d);
    if (count > 1) qsort(names, count, sizeof(*names), cmp_str);
    *n = count;
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Split s into lines (s is modified); a final newline ends the last line. */
static char **split_lines(char *s, size_t *n)
{
    char **lines = NULL;
    size_t count = 0;
    while (*s) {
        char *nl = strchr(s, '\n');
        lines = realloc(lines, (count + 1) * sizeof(*lines));
        assert_non_null(lines);
        lines[count++] = s;
        if (!nl) break;
        *nl = '\0';
        s = nl + 1;
    }
    *n = count;
    return lines;
}

/* A line diff of want and got (longest common subsequence; fixtures are
 * small), "-" for lines only in want, "+" for lines only in got. */
static void print_diff(const char *name, const char *want, const char *got)
{
    char *w = strdup(want), *g = strdup(got);
    size_t nw, ng;
    char **a = split_lines(w, &nw), **b = split_lines(g, &ng);
    size_t *lcs = calloc((nw + 1) * (ng + 1), sizeof(size_t));
    assert_non_null(lcs);
#define L(i, j) lcs[(i) * (ng + 1) + (j)]
    for (size_t i = nw; i-- > 0;)
        for (size_t j = ng; j-- > 0;)
            if (strcmp(a[i], b[j]) == 0)
                L(i, j) = L(i + 1, j + 1) + 1;
            else
                L(i, j) = L(i + 1, j) >= L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
    print_error("%s: differs (- expected, + actual):\n", name);
    size_t i = 0, j = 0;
    while (i < nw || j < ng) {
        if (i < nw && j < ng && strcmp(a[i], b[j]) == 0) {
            print_error("  %s\n", a[i]);
            i++, j++;
        } else if (i < nw && (j == ng || L(i + 1, j) >= L(i, j + 1))) {
            print_error("- %s\n", a[i++]);
        } else {
            print_error("+ %s\n", b[j++]);
        }
    }
#undef L
    if ((*want && want[strlen(want) - 1] != '\n') != (*got && got[strlen(got) - 1] != '\n'))
        print_error("(the final newline differs)\n");
    free(lcs);
    free(a);
    free(b);
    free(w);
    free(g);
}

/* want must equal got; prints the diff and returns 0 when not. */
static int same(const char *name, const char *want, const char *got)
{
    if (strcmp(want, got) == 0) return 1;
    print_diff(name, want, got);
    return 0;
}

/* Load `name`.yml from dir as the CLI does: loader problems and
 * validation problems together. Returns the pipeline; *rc is the first
 * failure (load, else validation), 0 when both passed. */
static mp_pipeline *load(const char *dir, const char *name, int *rc, mp_error *err)
{
    char path[4096], display[1024];
    snprintf(path, sizeof(path), "%s/%s.yml", dir, name);
    snprintf(display, sizeof(display), "%s.yml", name);
    size_t len = 0;
    char *yaml = read_file(path, &len);
    if (!yaml) print_error("cannot read %s\n", path);
    assert_non_null(yaml);
    mp_pipeline *p = mp_pipeline_new(NULL);
    memset(err, 0, sizeof(*err));
    *rc = mp_pipeline_load_string(p, yaml, len, display, err);
    free(yaml);
    if (*rc == 0 || *rc == MP_EINVALID) {
        mp_error verr = {0};
        int vrc = mp_pipeline_validate(p, &verr);
        if (*rc == 0) {
            *rc = vrc;
            *err = verr;
        }
    }
    return p;
}

/* The problems as `modpipe validate` prints them (src/cli/load.c). */
static char *render_problems(const mp_pipeline *p)
{
    text t = {0};
    text_add(&t, "", 0);
    for (size_t i = 0; i < mp_pipeline_problem_count(p); i++) {
        const mp_problem *pr = mp_pipeline_problem(p, i);
        if (pr->line && pr->col)
            text_addf(&t, "%s:%u:%u: %s\n", pr->file, pr->line, pr->col, pr->message);
        else if (pr->line)
            text_addf(&t, "%s:%u: %s\n", pr->file, pr->line, pr->message);
        else
            text_addf(&t, "%s: %s\n", pr->file, pr->message);
    }
    return t.s;
}

/* Does invalid fixture dir/name give exactly dir/name.expected? Reports
 * the mismatch when `loud`. */
static int check_invalid(const char *dir, const char *name, int loud)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.expected", dir, name);
    char *want = read_file(path, NULL);
    if (!want) {
        if (loud) print_error("%s: no %s.expected\n", name, name);
        return 0;
    }
    int rc;
    mp_error err;
    mp_pipeline *p = load(dir, name, &rc, &err);
    char *got = render_problems(p);
    int ok;
    if (rc != MP_EINVALID) {
        if (loud)
            print_error("%s: expected problems (MP_EINVALID), got %s: %s\n", name, mp_err_name(rc),
                        err.message);
        ok = 0;
    } else if (!*want) {
        if (loud) print_error("%s: %s.expected is empty\n", name, name);
        ok = 0;
    } else {
        ok = loud ? same(name, want, got) : strcmp(want, got) == 0;
    }
    free(got);
    free(want);
    mp_pipeline_free(p);
    return ok;
}

/* ------------------------------------------------------------ tests */

static void test_invalid(void **state)
{
    (void)state;
    size_t n, failed = 0;
    char **names = list_fixtures(FIXTURES "/invalid", &n);
    for (size_t i = 0; i < n; i++)
        if (!check_invalid(FIXTURES "/invalid", names[i], 1)) failed++;
    if (failed)
        print_error("%zu of %zu invalid fixtures differ\n", failed, n);
    else
        print_message("%zu invalid fixtures\n", n);
    free_list(names, n);
    assert_int_equal(failed, 0);
    if (n < MIN_INVALID)
        print_error("only %zu invalid fixtures; there must be at least %d\n", n, MIN_INVALID);
    assert_true(n >= MIN_INVALID);
}

/* Every .expected has its .yml, so a fixture cannot be half deleted. */
static void test_invalid_no_orphans(void **state)
{
    (void)state;
    DIR *d = opendir(FIXTURES "/invalid");
    assert_non_null(d);
    struct dirent *e;
    size_t orphans = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 9 || strcmp(e->d_name + len - 9, ".expected") != 0) continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%.*s.yml", FIXTURES "/invalid", (int)(len - 9), e->d_name);
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            continue;
        }
        print_error("%s has no .yml\n", e->d_name);
        orphans++;
    }
    closedir(d);
    assert_int_equal(orphans, 0);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_valid(void **state)
{
    (void)state;
    size_t n, failed = 0;
    char **names = list_fixtures(FIXTURES "/valid", &n);
    char **hashes = calloc(n ? n : 1, sizeof(*hashes));
    assert_non_null(hashes);
    for (size_t i = 0; i < n; i++) {
        int rc;
        mp_error err;
        mp_pipeline *p = load(FIXTURES "/valid", names[i], &rc, &err);
        if (rc != 0) {
            char *got = render_problems(p);
            print_error("%s: expected no problem, got %s: %s\n%s", names[i], mp_err_name(rc),
                        err.message, got);
            free(got);
            mp_pipeline_free(p);
            failed++;
            continue;
        }
        hashes[i] = strdup(mp_pipeline_hash(p));
        json_t *j = mp__pipeline_to_json(p, 1);
        char *dump = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(j);
        assert_non_null(dump);
        text got = {0};
        text_add(&got, dump, strlen(dump));
        text_add(&got, "\n", 1); /* the CLI ends the dump with a newline */
        free(dump);

        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.json", FIXTURES "/valid", names[i]);
        char *want = read_file(path, NULL);
        if (!want) {
            print_error("%s: no %s.json\n", names[i], names[i]);
            failed++;
        } else if (!same(names[i], want, got.s)) {
            failed++;
        }
        free(want);
        free(got.s);
        mp_pipeline_free(p);
    }

    /* NAME-reordered has NAME's hash; every other pair differs. */
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = i + 1; k < n; k++) {
            if (!hashes[i] || !hashes[k]) continue;
            const char *a = names[i], *b = names[k];
            int twins = 0;
            size_t la = strlen(a), lb = strlen(b), lr = strlen(REORDERED);
            if (ends_with(b, REORDERED) && lb - lr == la && strncmp(a, b, la) == 0) twins = 1;
            if (ends_with(a, REORDERED) && la - lr == lb && strncmp(a, b, lb) == 0) twins = 1;
            int equal = strcmp(hashes[i], hashes[k]) == 0;
            if (twins) pairs++;
            if (twins && !equal) {
                print_error("%s and %s: hashes differ (%s, %s)\n", a, b, hashes[i], hashes[k]);
                failed++;
            } else if (!twins && equal) {
                print_error("%s and %s: same hash %s for different pipelines\n", a, b, hashes[i]);
                failed++;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!ends_with(names[i], REORDERED)) continue;
        size_t found = 0, base = strlen(names[i]) - strlen(REORDERED);
        for (size_t k = 0; k < n; k++)
            if (strlen(names[k]) == base && strncmp(names[k], names[i], base) == 0) found++;
        if (!found) {
            print_error("%s has no %.*s.yml to compare with\n", names[i], (int)base, names[i]);
            failed++;
        }
    }

    if (failed)
        print_error("%zu problems with the %zu valid fixtures\n", failed, n);
    else
        print_message("%zu valid fixtures, %zu reordered pairs\n", n, pairs);
    for (size_t i = 0; i < n; i++)
        free(hashes[i]);
    free(hashes);
    free_list(names, n);
    assert_int_equal(failed, 0);
    assert_true(n >= MIN_VALID);
    assert_true(pairs >= 1);
}

/* Pending fixtures are known to be wrong; say so when one is fixed. */
static void test_pending(void **state)
{
    (void)state;
    size_t n;
    char **names = list_fixtures(FIXTURES "/invalid/pending", &n);
    for (size_t i = 0; i < n; i++)
        if (check_invalid(FIXTURES "/invalid/pending", names[i], 0))
            print_message("pending fixture %s now passes: move it to tests/fixtures/invalid/\n",
                          names[i]);
    free_list(names, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_invalid_no_orphans),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
