/* test_glob.c -- produces patterns (artifacts/glob.h) against what bash 5
 * with `shopt -s globstar nullglob` and LC_ALL=C expands on the same tree
 * (bash is run for the expected list), plus the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "artifacts/glob.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static void mk(const char *rel)
{
    char p[256], cmd[700];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && : > '%s'", p, p);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/mp-glob-XXXXXX");
    if (!mkdtemp(root)) return -1;
    const char *files[] = {"a.txt", "b.so", ".env", ".hidden/x.so", "build/app",
                           "build/lib/x.so", "build/lib/deep/y.so", "build/.cache/z.so",
                           "build/lib/.dot.so", "src/main.c", "src/util.c", "src/[x].c",
                           "sp ace.txt", "c.txt", "build/empty/.keep", "docs/a/b/c/readme.md"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) mk(files[i]);
    char p[256];
    snprintf(p, sizeof p, "%s/link.so", root);
    if (symlink("b.so", p) < 0) return -1;
    snprintf(p, sizeof p, "%s/dirlink", root);
    if (symlink("build", p) < 0) return -1;
    snprintf(p, sizeof p, "%s/escape", root);
    if (symlink("/etc", p) < 0) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* bash's expansion of `pat` in root: sorted, without trailing '/', unique. */
static char *bash_expand(const char *pat)
{
    char script[] = "/tmp/mp-glob-sh-XXXXXX";
    int fd = mkstemp(script);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "shopt -s globstar nullglob\ncd '%s' || exit 1\nfor f in %s; do printf '%%s\\n' \"${f%%/}\"; done | sed -e \"s#^\\\\./##\" -e \"s#//*#/#g\" | LC_ALL=C sort -u\n",
            root, pat);
    fclose(fp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "LC_ALL=C bash %s", script);
    FILE *pp = popen(cmd, "r");
    assert_non_null(pp);
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    size_t r;
    while ((r = fread(out + len, 1, cap - len - 1, pp)) > 0) {
        len += r;
        if (len + 1 >= cap) out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    assert_int_equal(pclose(pp), 0);
    unlink(script);
    return out;
}

static char *ours(const char *const *pats, size_t n)
{
    mp_glob_result r;
    mp_error err = {0};
    int rc = mp__glob_run(root, pats, n, &r, &err);
    if (rc) print_error("%s: %s\n", pats[0], err.message);
    assert_int_equal(rc, 0);
    size_t cap = 16;
    for (size_t i = 0; i < r.n; i++) cap += strlen(r.paths[i]) + 1;
    char *out = calloc(1, cap);
    size_t len = 0;
    for (size_t i = 0; i < r.n; i++) {
        size_t l = strlen(r.paths[i]);
        memcpy(out + len, r.paths[i], l);
        out[len + l] = '\n';
        len += l + 1;
    }
    mp__glob_release(&r);
    return out;
}

/* Every pattern as bash (quoted for bash where it has a space). */
static void test_matches_bash(void **state)
{
    (void)state;
    static const char *const table[] = {
        "*",          "*.so",        "**",           "**/*.so",      "build/**",
        "build/**/*.so", "build/*/",  ".*",           "**/.*",        "?.txt",
        "[ab].*",     "[!a]*",       "build/lib/*",  "src/*.c",      ".hidden/*",
        "**/deep/*",  "nomatch*",    "build/app",    "**/lib",       "build/**/",
        "src/\\[x\\].c", "[[:alpha:]].txt", "docs/**/readme.md", "**/**/*.md", "build/l*/**",
        "sp*",        "b*/l*/d*/*",  "./build/app",  "build//lib/x.so", "*.[st][ox]*",
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        char *want = bash_expand(table[i]);
        char *got = ours(&table[i], 1);
        if (strcmp(want, got) != 0)
            print_error("pattern %s\n--- bash\n%s--- ours\n%s", table[i], want, got);
        assert_string_equal(want, got);
        free(want);
        free(got);
    }
}

/* Several patterns: the union, sorted, each path once. */
static void test_several_patterns(void **state)
{
    (void)state;
    const char *pats[] = {"build/**/*.so", "*.so", "build/lib/x.so", "build/app"};
    char *got = ours(pats, 4);
    assert_string_equal(got, "b.so\nbuild/app\nbuild/lib/deep/y.so\nbuild/lib/x.so\nlink.so\n");
    free(got);
}

/* Symlinks are matches, never followed: dirlink's content never shows,
 * escape (-> /etc) is only itself. */
static void test_symlinks_not_followed(void **state)
{
    (void)state;
    const char *pats[] = {"dirlink/*", "escape/*", "**/passwd", "dirlink/**"};
    for (size_t i = 0; i < 4; i++) {
        char *got = ours(&pats[i], 1);
        assert_string_equal(got, "");
        free(got);
    }
    const char *star[] = {"*link*"};
    char *got = ours(star, 1);
    assert_string_equal(got, "dirlink\nlink.so\n");
    free(got);
}

static void test_refused(void **state)
{
    (void)state;
    const char *bad[] = {"../../etc/*", "/etc/*", "a/../b", "..", "[abc", "x\\", "", "a\nb",
                         "build/[a/b]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mp_glob_result r = {0};
        mp_error err = {0};
        assert_int_equal(mp__glob_run(root, &bad[i], 1, &r, &err), MP_EINVAL);
        assert_int_equal(r.n, 0);
        assert_true(strlen(err.message) > 0);
    }
    mp_error err = {0};
    mp__glob_check("../../etc/*", &err);
    assert_non_null(strstr(err.message, "'..'"));
    assert_non_null(strstr(err.message, "../../etc/*"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_bash),
        cmocka_unit_test(test_several_patterns),
        cmocka_unit_test(test_symlinks_not_followed),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
