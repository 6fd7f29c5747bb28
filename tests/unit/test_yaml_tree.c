/*
 * test_yaml_tree.c -- the YAML tree under the loader (config/yaml_tree.h):
 * how plain scalars are typed, node and key positions, aliases shared (not
 * copied) and counted in the node budget, duplicate keys kept aside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/yaml_tree.h"

#include <string.h>

static void test_plain_types(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        mp_ytype type;
    } cases[] = {
        {"", MP_YT_NULL},          {"~", MP_YT_NULL},       {"null", MP_YT_NULL},
        {"NULL", MP_YT_NULL},      {"nul", MP_YT_STRING},   {"true", MP_YT_BOOL},
        {"false", MP_YT_BOOL},     {"True", MP_YT_STRING},  {"yes", MP_YT_STRING},
        {"on", MP_YT_STRING},      {"0", MP_YT_INT},        {"-12", MP_YT_INT},
        {"+5", MP_YT_INT},         {"007", MP_YT_INT},      {"1.5", MP_YT_NUMBER},
        {"1.", MP_YT_NUMBER},      {".5", MP_YT_NUMBER},    {"1e3", MP_YT_NUMBER},
        {"-2.5E-3", MP_YT_NUMBER}, {"0x1F", MP_YT_NUMBER},  {"0o17", MP_YT_NUMBER},
        {".inf", MP_YT_NUMBER},    {"-.Inf", MP_YT_NUMBER}, {".nan", MP_YT_NUMBER},
        {"-", MP_YT_STRING},       {".", MP_YT_STRING},     {"e5", MP_YT_STRING},
        {"1e", MP_YT_STRING},      {"0x", MP_YT_STRING},    {"0o8", MP_YT_STRING},
        {"1_000", MP_YT_STRING},   {"10m", MP_YT_STRING},   {"1.2.3", MP_YT_STRING},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mp_ytype t = mp__yaml_plain_type(cases[i].text, strlen(cases[i].text));
        if (t != cases[i].type)
            print_error("\"%s\": type %d, want %d\n", cases[i].text, (int)t, (int)cases[i].type);
        assert_int_equal(t, cases[i].type);
    }
}

typedef struct parsed {
    mp_arena *a;
    mp_diags d;
    const mp_ynode *root;
    int rc;
} parsed;

static void parse(parsed *p, const char *yaml)
{
    p->a = mp__arena_new();
    memset(&p->d, 0, sizeof(p->d));
    p->d.arena = p->a;
    p->rc = mp__yaml_parse(p->a, &p->d, "t.yml", yaml, strlen(yaml), &p->root);
}

static void test_positions_and_styles(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "a: 1\n"
              "b:\n"
              "  - 'x'\n"
              "  - |\n"
              "    text\n"
              "c: {d: null}\n");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.d.list.n, 0);
    const mp_ynode *r = p.root;
    assert_int_equal(r->type, MP_YT_MAP);
    assert_int_equal(r->n, 3);
    assert_string_equal(r->pairs[1].key->str, "b");
    assert_int_equal(r->pairs[1].key->line, 2);
    assert_int_equal(r->pairs[1].key->col, 1);
    const mp_ynode *b = mp__ynode_get(r, "b");
    assert_int_equal(b->type, MP_YT_LIST);
    assert_int_equal(b->n, 2);
    assert_true(b->items[0]->quoted);
    assert_int_equal(b->items[0]->type, MP_YT_STRING);
    assert_int_equal(b->items[0]->line, 3);
    assert_int_equal(b->items[0]->col, 5);
    assert_string_equal(b->items[1]->str, "text\n");
    assert_true(b->items[1]->quoted);
    const mp_ynode *c = mp__ynode_get(r, "c");
    assert_int_equal(mp__ynode_get(c, "d")->type, MP_YT_NULL);
    assert_null(mp__ynode_get(c, "zz"));
    assert_null(mp__ynode_get(b, "d"));
    assert_int_equal(r->weight, 11); /* root, 3 keys, 1, list + 2, map + d + null */
    mp__arena_free(p.a);
}

static void test_alias_is_shared(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "a: &x [1, 2, 3]\nb: *x\nc: *x\n");
    assert_int_equal(p.rc, 0);
    const mp_ynode *a = mp__ynode_get(p.root, "a");
    assert_ptr_equal(mp__ynode_get(p.root, "b"), a);
    assert_ptr_equal(mp__ynode_get(p.root, "c"), a);
    assert_int_equal(a->weight, 4);
    /* root: itself + 3 keys + 3 copies of a */
    assert_int_equal(p.root->weight, 1 + 3 + 3 * 4);
    mp__arena_free(p.a);
}

static size_t ndup_seen;

static void count_dup(void *data, const mp_ynode *map, const mp_ydup *dup)
{
    (void)data;
    (void)map;
    assert_string_equal(dup->key->str, "k");
    assert_int_equal(dup->first_line, 2);
    ndup_seen++;
}

static void test_duplicates_kept_aside(void **state)
{
    (void)state;
    parsed p;
    /* The mapping holding the duplicate is reached twice through aliases
     * but reported once. */
    parse(&p, "a: &m\n  k: 1\n  k: 2\nb: *m\nc: [*m]\n");
    assert_int_equal(p.rc, 0);
    const mp_ynode *m = mp__ynode_get(p.root, "a");
    assert_int_equal(m->n, 1);
    assert_string_equal(m->pairs[0].value->str, "1"); /* the first one wins */
    assert_int_equal(m->ndups, 1);
    ndup_seen = 0;
    mp__yaml_each_dup(p.root, count_dup, NULL);
    assert_int_equal(ndup_seen, 1);
    mp__arena_free(p.a);
}

static void test_fatal_problems_give_no_tree(void **state)
{
    (void)state;
    parsed p;
    parse(&p, "a: [1\n");
    assert_int_equal(p.rc, -1);
    assert_null(p.root);
    assert_int_equal(p.d.list.n, 1);
    mp__arena_free(p.a);

    parse(&p, "{}");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.root->type, MP_YT_MAP);
    assert_int_equal(p.root->n, 0);
    mp__arena_free(p.a);

    parse(&p, "[]");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.root->type, MP_YT_LIST);
    assert_int_equal(p.root->n, 0);
    mp__arena_free(p.a);

    parse(&p, "");
    assert_int_equal(p.rc, 0);
    assert_null(p.root);
    assert_int_equal(p.d.list.n, 0);
    mp__arena_free(p.a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_types),
        cmocka_unit_test(test_positions_and_styles),
        cmocka_unit_test(test_alias_is_shared),
        cmocka_unit_test(test_duplicates_kept_aside),
        cmocka_unit_test(test_fatal_problems_give_no_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
