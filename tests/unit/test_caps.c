/*
 * test_caps.c -- capabilities and classes (dist/caps.h, coord/class.h):
 * uname names, K=V parsing from env and repeated flags, explicit pairs
 * overriding automatic ones, canonical classes, case-insensitive
 * matching, module classes with pin_to_master, the missing pair named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "coord/class.h"
#include "dist/caps.h"

#include <stdlib.h>
#include <string.h>

static void test_uname_names(void **state)
{
    (void)state;
    char b[32];
    const char *os[][2] = {{"Linux", "linux"},           {"Darwin", "macos"},
                           {"Windows_NT", "windows"},    {"MINGW64_NT-10.0", "windows"},
                           {"CYGWIN_NT-6.1", "windows"}, {"FreeBSD", "freebsd"}};
    for (size_t i = 0; i < sizeof os / sizeof os[0]; i++) {
        mp__caps_os_name(os[i][0], b, sizeof b);
        assert_string_equal(b, os[i][1]);
    }
    const char *arch[][2] = {{"x86_64", "x86_64"},   {"amd64", "x86_64"},   {"aarch64", "arm64"},
                             {"arm64", "arm64"},     {"i686", "x86"},       {"armv7l", "arm"},
                             {"riscv64", "riscv64"}, {"PPC64LE", "ppc64le"}};
    for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++) {
        mp__caps_arch_name(arch[i][0], b, sizeof b);
        assert_string_equal(b, arch[i][1]);
    }
    char *a = NULL;
    assert_int_equal(mp__caps_auto(&a, NULL), 0);
    assert_non_null(strstr(a, "os=linux")); /* the test machines are Linux */
    assert_non_null(strstr(a, "arch="));
    free(a);
}

static char *canon(const char *s)
{
    char *out = NULL;
    mp_error err = {0};
    int rc = mp__coord_class_canon(s, &out, &err);
    if (rc) print_error("canon %s: %s\n", s, err.message);
    assert_int_equal(rc, 0);
    return out;
}

static void test_canonical_classes(void **state)
{
    (void)state;
    char *c = canon(" OS=Linux , label=GPU,arch=x86_64,os=linux");
    assert_string_equal(c, "arch=x86_64,label=gpu,os=linux");
    free(c);
    c = canon("");
    assert_string_equal(c, "");
    assert_int_equal(mp__coord_class_size(c), 0);
    free(c);
    const char *bad[] = {"os", "=linux", "os=", "os=a b", "a=b,,c=d", "o s=x", "os=x=y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = NULL;
        mp_error err = {0};
        assert_int_equal(mp__coord_class_canon(bad[i], &out, &err), MP_EINVAL);
        assert_null(out);
        assert_true(err.message[0] != '\0');
    }
}

static void test_build_and_override(void **state)
{
    (void)state;
    char *caps = NULL;
    const char *flags[] = {"label=gpu", "Region=EU,label=cuda"};
    assert_int_equal(mp__caps_build("arch=x86_64,os=linux", "os=Linux-Musl", flags, 2, &caps, NULL),
                     0);
    assert_string_equal(caps, "arch=x86_64,label=cuda,label=gpu,os=linux-musl,region=eu");
    free(caps);
    assert_int_equal(mp__caps_build("arch=arm64,os=macos", NULL, NULL, 0, &caps, NULL), 0);
    assert_string_equal(caps, "arch=arm64,os=macos");
    free(caps);
    mp_error err = {0};
    const char *bad[] = {"gpu"};
    assert_int_equal(mp__caps_build("os=linux", NULL, bad, 1, &caps, &err), MP_EUSAGE);
    assert_non_null(strstr(err.message, "gpu"));
}

static void test_matching(void **state)
{
    (void)state;
    const char *caps = "arch=x86_64,instance=1,label=gpu,os=linux";
    char miss[64];
    assert_true(mp__caps_match("", caps, miss, sizeof miss));
    assert_true(mp__caps_match("os=linux", caps, miss, sizeof miss));
    assert_true(mp__caps_match("label=gpu,os=linux", caps, miss, sizeof miss));
    assert_false(mp__caps_match("os=macos", caps, miss, sizeof miss));
    assert_string_equal(miss, "os=macos");
    assert_false(mp__caps_match("instance=0,os=linux", caps, miss, sizeof miss));
    assert_string_equal(miss, "instance=0");
    assert_false(mp__caps_match("os=lin", caps, NULL, 0)); /* whole values only */
    assert_false(mp__coord_class_served("os=linux", "os=linux2"));
}

static void test_module_class(void **state)
{
    (void)state;
    mp_arena *a = mp__arena_new();
    mp_module m;
    memset(&m, 0, sizeof m);
    m.name = "test[os=Linux]";
    mp_kv r1 = {{"OS", {0}}, {"Linux", {0}}}, r2 = {{"gpu", {0}}, {"yes", {0}}};
    MP_VEC_PUSH(a, &m.requires, r1);
    MP_VEC_PUSH(a, &m.requires, r2);
    char *cls = NULL;
    assert_int_equal(mp__caps_module_class(&m, &cls, NULL), 0);
    assert_string_equal(cls, "gpu=yes,os=linux");
    free(cls);
    m.pin_to_master = true;
    assert_int_equal(mp__caps_module_class(&m, &cls, NULL), 0);
    assert_string_equal(cls, "gpu=yes,instance=0,os=linux");
    assert_true(mp__caps_match(cls, "arch=x86_64,gpu=yes,instance=0,os=linux", NULL, 0));
    free(cls);
    mp_kv r3 = {{"tool", {0}}, {"a b", {0}}};
    MP_VEC_PUSH(a, &m.requires, r3);
    mp_error err = {0};
    assert_int_equal(mp__caps_module_class(&m, &cls, &err), MP_EINVAL);
    assert_string_equal(err.where, "test[os=Linux]");
    mp__arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uname_names),        cmocka_unit_test(test_canonical_classes),
        cmocka_unit_test(test_build_and_override), cmocka_unit_test(test_matching),
        cmocka_unit_test(test_module_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
