/*
 * test_yaml_load.c -- mp_pipeline_load_string/_file (src/config/): a full
 * document fills the model (values and positions), every problem kind has
 * its exact message at its exact line:col, and hostile input (alias bombs,
 * deep nesting, binary garbage, oversized input) ends quickly with one
 * clear problem or error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/model.h"
#include "modpipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static mp_pipeline *load(const char *yaml, int *rc)
{
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    *rc = mp_pipeline_load_string(p, yaml, strlen(yaml), "t.yml", &err);
    if (*rc != 0) assert_int_equal(err.code, *rc);
    return p;
}

/* Every problem as "line:col: message\n", in order. Caller frees. */
static char *problems(const mp_pipeline *p)
{
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    s[0] = '\0';
    for (size_t i = 0; i < mp_pipeline_problem_count(p); i++) {
        const mp_problem *pr = mp_pipeline_problem(p, i);
        int n = snprintf(s + len, cap - len, "%u:%u: %s\n", pr->line, pr->col, pr->message);
        if (n < 0 || (size_t)n >= cap - len) break;
        len += (size_t)n;
    }
    return s;
}

/* yaml must load with exactly the problems in `want`. */
static void expect_problems(const char *yaml, const char *want)
{
    int rc;
    mp_pipeline *p = load(yaml, &rc);
    char *got = problems(p);
    if (strcmp(got, want) != 0) print_error("input:\n%s\nwant:\n%sgot:\n%s", yaml, want, got);
    assert_string_equal(got, want);
    assert_int_equal(rc, *want ? MP_EINVALID : 0);
    free(got);
    mp_pipeline_free(p);
}

static mp_module_decl *decl(mp_pipeline *p, const char *name)
{
    mp_module_decl *d = mp__strmap_get(&p->decl_by_name, name);
    if (!d) print_error("no module \"%s\"\n", name);
    assert_non_null(d);
    return d;
}

static void assert_pos(mp_pos pos, unsigned line, unsigned col)
{
    assert_string_equal(pos.file, "t.yml");
    if (pos.line != line || pos.col != col)
        print_error("position %u:%u, want %u:%u\n", pos.line, pos.col, line, col);
    assert_int_equal(pos.line, line);
    assert_int_equal(pos.col, col);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ valid */

static const char full_doc[] =
    "version: 1\n"                                                            /* 1 */
    "name: example\n"                                                         /* 2 */
    "options:\n"                                                              /* 3 */
    "  parallelism: 8\n"                                                      /* 4 */
    "  on_failure: continue\n"                                                /* 5 */
    "  timeout: 30m\n"                                                        /* 6 */
    "  retries: 1\n"                                                          /* 7 */
    "  concurrency_groups: {db: 1, network: 4}\n"                             /* 8 */
    "  distributed:\n"                                                        /* 9 */
    "    heartbeat: 2s\n"                                                     /* 10 */
    "    worker_timeout: 15s\n"                                               /* 11 */
    "    registration_timeout: 5m\n"                                          /* 12 */
    "    max_attempts: 4\n"                                                   /* 13 */
    "env: {GLOBAL_VAR: value, PORT: 8080, DEBUG: true, EMPTY: ~}\n"           /* 14 */
    "secrets: [NPM_TOKEN]\n"                                                  /* 15 */
    "requirements:\n"                                                         /* 16 */
    "  - env: NPM_TOKEN\n"                                                    /* 17 */
    "  - file: package.json\n"                                                /* 18 */
    "  - command: \"git --version\"\n"                                        /* 19 */
    "modules:\n"                                                              /* 20 */
    "  restore:\n"                                                            /* 21 */
    "    run: npm ci\n"                                                       /* 22 */
    "  build:\n"                                                              /* 23 */
    "    depends_on: [restore]\n"                                             /* 24 */
    "    after: lint\n"                                                       /* 25 */
    "    run: \"make -j4 && ./version.sh\"\n"                                 /* 26 */
    "    env: {CC: gcc}\n"                                                    /* 27 */
    "    working_dir: src\n"                                                  /* 28 */
    "    timeout: 10m\n"                                                      /* 29 */
    "    retries: {count: 2, delay: 1s}\n"                                    /* 30 */
    "    produces:\n"                                                         /* 31 */
    "      - name: binaries\n"                                                /* 32 */
    "        path: [\"build/**/*.so\", \"build/app\"]\n"                      /* 33 */
    "  test:\n"                                                               /* 34 */
    "    depends_on: [build]\n"                                               /* 35 */
    "    matrix: {os: [linux, macos], n: [1, 2, 3]}\n"                        /* 36 */
    "    requires: {os: \"${{ matrix.os }}\"}\n"                              /* 37 */
    "    consumes:\n"                                                         /* 38 */
    "      - {name: binaries, from: build, path: .}\n"                        /* 39 */
    "    run: [./run-tests.sh, --os, \"${{ matrix.os }}\"]\n"                 /* 40 */
    "    skip_if: {env: SKIP_TESTS}\n"                                        /* 41 */
    "    ignore_failure: true\n"                                              /* 42 */
    "    category: test\n"                                                    /* 43 */
    "    tags: [slow, 42]\n"                                                  /* 44 */
    "    priority: high\n"                                                    /* 45 */
    "  migrate:\n"                                                            /* 46 */
    "    not_in_parallel: [db]\n"                                             /* 47 */
    "    concurrency_group: db\n"                                             /* 48 */
    "    run: ./migrate.sh\n"                                                 /* 49 */
    "  publish:\n"                                                            /* 50 */
    "    depends_on: test\n"                                                  /* 51 */
    "    pin_to_master: true\n"                                               /* 52 */
    "    run_if: [{env: GITHUB_REF, equals: refs/heads/main}, {os: linux}]\n" /* 53 */
    "    secrets: [NPM_TOKEN]\n"                                              /* 54 */
    "    run: npm publish\n"                                                  /* 55 */
    "  cleanup:\n"                                                            /* 56 */
    "    depends_on: [publish]\n"                                             /* 57 */
    "    always_run: true\n"                                                  /* 58 */
    "    not_in_parallel: true\n"                                             /* 59 */
    "    priority: critical\n"                                                /* 60 */
    "    retries: 3\n"                                                        /* 61 */
    "    run: ./cleanup.sh\n";                                                /* 62 */

static void test_full_document(void **state)
{
    (void)state;
    int rc;
    mp_pipeline *p = load(full_doc, &rc);
    char *got = problems(p);
    assert_string_equal(got, "");
    free(got);
    assert_int_equal(rc, 0);

    assert_int_equal(p->version, 1);
    assert_string_equal(p->name, "example");
    assert_int_equal(p->options.parallelism, 8);
    assert_int_equal(p->options.on_failure, MP_ON_FAILURE_CONTINUE);
    assert_int_equal(p->options.timeout_ms, 30 * 60 * 1000);
    assert_int_equal(p->options.retries, 1);
    assert_int_equal(p->options.concurrency_groups.n, 2);
    assert_string_equal(p->options.concurrency_groups.v[1].key.s, "network");
    assert_string_equal(p->options.concurrency_groups.v[1].value.s, "4");
    assert_pos(p->options.concurrency_groups.v[1].key.pos, 8, 31);
    assert_int_equal(p->options.distributed.heartbeat_ms, 2000);
    assert_int_equal(p->options.distributed.worker_timeout_ms, 15000);
    assert_int_equal(p->options.distributed.registration_timeout_ms, 300000);
    assert_int_equal(p->options.distributed.max_attempts, 4);

    assert_int_equal(p->env.n, 4);
    assert_string_equal(p->env.v[0].value.s, "value");
    assert_string_equal(p->env.v[1].value.s, "8080");
    assert_string_equal(p->env.v[2].value.s, "true");
    assert_string_equal(p->env.v[3].key.s, "EMPTY");
    assert_string_equal(p->env.v[3].value.s, "");
    assert_pos(p->env.v[1].key.pos, 14, 26);
    assert_pos(p->env.v[1].value.pos, 14, 32);
    assert_int_equal(p->secrets.n, 1);
    assert_string_equal(p->secrets.v[0].s, "NPM_TOKEN");

    assert_int_equal(p->requirements.n, 3);
    assert_int_equal(p->requirements.v[0].cond.kind, MP_COND_ENV);
    assert_string_equal(p->requirements.v[0].cond.arg.s, "NPM_TOKEN");
    assert_null(p->requirements.v[0].cond.equals.s);
    assert_int_equal(p->requirements.v[1].cond.kind, MP_COND_FILE);
    assert_int_equal(p->requirements.v[2].cond.kind, MP_COND_COMMAND);
    assert_string_equal(p->requirements.v[2].cond.arg.s, "git --version");
    assert_pos(p->requirements.v[2].cond.pos, 19, 5);

    /* Declaration order is file order. */
    const char *order[] = {"restore", "build", "test", "migrate", "publish", "cleanup"};
    assert_int_equal(p->decls.n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(p->decls.v[i]->proto.name, order[i]);

    mp_module *b = &decl(p, "build")->proto;
    assert_pos(b->pos, 23, 3);
    assert_int_equal(b->run_kind, MP_RUN_SHELL);
    assert_string_equal(b->run.s, "make -j4 && ./version.sh");
    assert_pos(b->run.pos, 26, 10);
    assert_int_equal(b->depends_on.n, 1);
    assert_string_equal(b->depends_on.v[0].s, "restore");
    assert_pos(b->depends_on.v[0].pos, 24, 18);
    assert_int_equal(b->after.n, 1);
    assert_string_equal(b->after.v[0].s, "lint");
    assert_int_equal(b->env.n, 1);
    assert_string_equal(b->env.v[0].key.s, "CC");
    assert_string_equal(b->working_dir.s, "src");
    assert_int_equal(b->timeout_ms, 600000);
    assert_pos(b->timeout_pos, 29, 14);
    assert_int_equal(b->retries, 2);
    assert_int_equal(b->retry_delay_ms, 1000);
    assert_int_equal(b->produces.n, 1);
    assert_string_equal(b->produces.v[0].name.s, "binaries");
    assert_int_equal(b->produces.v[0].paths.n, 2);
    assert_string_equal(b->produces.v[0].paths.v[1].s, "build/app");
    assert_pos(b->produces.v[0].pos, 32, 9);
    assert_int_equal(b->priority, MP_PRIORITY_NORMAL);
    assert_false(b->ignore_failure);

    mp_module_decl *td = decl(p, "test");
    mp_module *t = &td->proto;
    assert_int_equal(td->matrix_axes.n, 2);
    assert_string_equal(td->matrix_axes.v[0].key.s, "os");
    assert_string_equal(td->matrix_axes.v[1].key.s, "n");
    assert_int_equal(td->matrix_values.n, 2);
    assert_int_equal(td->matrix_values.v[0].n, 2);
    assert_string_equal(td->matrix_values.v[0].v[1].s, "macos");
    assert_int_equal(td->matrix_values.v[1].n, 3);
    assert_string_equal(td->matrix_values.v[1].v[2].s, "3");
    assert_pos(td->matrix_values.v[1].v[2].pos, 36, 44);
    assert_pos(td->matrix_pos, 36, 13);
    assert_int_equal(t->requires.n, 1);
    assert_string_equal(t->requires.v[0].value.s, "${{ matrix.os }}");
    assert_int_equal(t->consumes.n, 1);
    assert_string_equal(t->consumes.v[0].name.s, "binaries");
    assert_string_equal(t->consumes.v[0].from.s, "build");
    assert_string_equal(t->consumes.v[0].path.s, ".");
    assert_int_equal(t->consumes.v[0].producer, -1);
    assert_int_equal(t->run_kind, MP_RUN_ARGV);
    assert_int_equal(t->argv.n, 3);
    assert_string_equal(t->argv.v[2].s, "${{ matrix.os }}");
    assert_int_equal(t->skip_if.n, 1);
    assert_int_equal(t->skip_if.v[0].kind, MP_COND_ENV);
    assert_string_equal(t->skip_if.v[0].arg.s, "SKIP_TESTS");
    assert_true(t->ignore_failure);
    assert_string_equal(t->category.s, "test");
    assert_int_equal(t->tags.n, 2);
    assert_string_equal(t->tags.v[1].s, "42");
    assert_int_equal(t->priority, MP_PRIORITY_HIGH);
    assert_int_equal(t->timeout_ms, -1);
    assert_int_equal(t->retries, -1);

    mp_module *m = &decl(p, "migrate")->proto;
    assert_false(m->exclusive);
    assert_int_equal(m->not_in_parallel.n, 1);
    assert_string_equal(m->not_in_parallel.v[0].s, "db");
    assert_string_equal(m->concurrency_group.s, "db");

    mp_module *pub = &decl(p, "publish")->proto;
    assert_int_equal(pub->depends_on.n, 1);
    assert_string_equal(pub->depends_on.v[0].s, "test");
    assert_true(pub->pin_to_master);
    assert_int_equal(pub->run_if.n, 2);
    assert_string_equal(pub->run_if.v[0].arg.s, "GITHUB_REF");
    assert_string_equal(pub->run_if.v[0].equals.s, "refs/heads/main");
    assert_pos(pub->run_if.v[0].pos, 53, 14);
    assert_int_equal(pub->run_if.v[1].kind, MP_COND_OS);
    assert_string_equal(pub->run_if.v[1].arg.s, "linux");
    assert_int_equal(pub->secrets.n, 1);

    mp_module *c = &decl(p, "cleanup")->proto;
    assert_true(c->always_run);
    assert_true(c->exclusive);
    assert_int_equal(c->priority, MP_PRIORITY_CRITICAL);
    assert_int_equal(c->retries, 3);
    assert_int_equal(c->retry_delay_ms, -1);

    mp_pipeline_free(p);
}

static void test_full_document_validates(void **state)
{
    (void)state;
    /* The loader's model is what validation expects (lint is declared). */
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    char *doc = malloc(sizeof(full_doc) + 64);
    snprintf(doc, sizeof(full_doc) + 64, "%s  lint:\n    run: echo\n", full_doc);
    assert_int_equal(mp_pipeline_load_string(p, doc, strlen(doc), "t.yml", &err), 0);
    int rc = mp_pipeline_validate(p, &err);
    if (rc != 0) {
        char *got = problems(p);
        print_error("%s", got);
        free(got);
    }
    assert_int_equal(rc, 0);
    assert_non_null(mp_module_name(mp_pipeline_find(p, "test[os=linux,n=2]")));
    free(doc);
    mp_pipeline_free(p);
}

static void test_empty_and_null(void **state)
{
    (void)state;
    expect_problems("", "");
    expect_problems("# only a comment\n", "");
    expect_problems("---\n", "");
    expect_problems("modules:\n", "");
    expect_problems("modules: {a: ~}\nenv:\nsecrets:\nrequirements:\n", "");
    int rc;
    mp_pipeline *p = load("modules: {a: }\n", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(decl(p, "a")->proto.run_kind, MP_RUN_NONE);
    mp_pipeline_free(p);
}

static void test_scalar_rules(void **state)
{
    (void)state;
    int rc;
    mp_pipeline *p = load("name: 2024\n"
                          "env: {A: 1.5, B: 'x', C: false, D: 0x10, E: \"\"}\n"
                          "modules:\n"
                          "  a:\n"
                          "    run: 42\n"
                          "    working_dir: !!str 12\n"
                          "    category: |\n"
                          "      block\n",
                          &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(p->name, "2024");
    assert_string_equal(p->env.v[0].value.s, "1.5");
    assert_string_equal(p->env.v[2].value.s, "false");
    assert_string_equal(p->env.v[3].value.s, "0x10");
    assert_string_equal(p->env.v[4].value.s, "");
    mp_module *a = &decl(p, "a")->proto;
    assert_string_equal(a->run.s, "42");
    assert_string_equal(a->working_dir.s, "12");
    assert_string_equal(a->category.s, "block\n");
    mp_pipeline_free(p);

    /* Quoted scalars are strings, never booleans or numbers. */
    expect_problems("modules: {a: {ignore_failure: \"true\"}}\n",
                    "1:31: \"ignore_failure\" of module \"a\" must be true or false, not a "
                    "string\n");
    expect_problems("modules: {a: {ignore_failure: True}}\n",
                    "1:31: \"ignore_failure\" of module \"a\" must be true or false, not a "
                    "string\n");
    expect_problems("options: {parallelism: \"4\"}\n",
                    "1:24: \"parallelism\" of options must be a whole number >= 1, not a "
                    "string\n");
    expect_problems("options: {parallelism: 2.5}\n",
                    "1:24: \"parallelism\" of options must be a whole number >= 1, not 2.5\n");
    expect_problems("options: {parallelism: 99999999999}\n",
                    "1:24: \"parallelism\" of options must be a whole number >= 1, not "
                    "99999999999\n");
    expect_problems("modules: {a: {run: true}}\n",
                    "1:20: \"run\" of module \"a\" must be a command string or a list of "
                    "strings, not a boolean\n");
    expect_problems("modules: {a: {working_dir: [x]}}\n",
                    "1:28: \"working_dir\" of module \"a\" must be a string, not a list\n");
}

static void test_anchors_and_merge_keys(void **state)
{
    (void)state;
    int rc;
    mp_pipeline *p = load("x-defaults: &d\n"
                          "  retries: 2\n"
                          "  tags: [t]\n"
                          "modules:\n"
                          "  a:\n"
                          "    <<: *d\n"
                          "    run: make\n"
                          "    retries: 5\n"
                          "  b: {<<: [*d], run: ok}\n",
                          &rc);
    /* x-defaults is still an unknown top-level key. */
    char *got = problems(p);
    assert_string_equal(got, "1:1: unknown key \"x-defaults\" in the pipeline\n");
    free(got);
    mp_module *a = &decl(p, "a")->proto;
    assert_int_equal(a->retries, 5);
    assert_int_equal(a->tags.n, 1);
    assert_pos(a->tags.v[0].pos, 3, 10);
    mp_module *b = &decl(p, "b")->proto;
    assert_int_equal(b->retries, 2);
    assert_string_equal(b->run.s, "ok");
    mp_pipeline_free(p);

    expect_problems("env: &e {A: 1}\nmodules: {a: {env: *e, run: x}}\n", "");
    expect_problems("a: {<<: 5}\n",
                    "1:1: unknown key \"a\" in the pipeline\n"
                    "1:9: merge key \"<<\" needs a mapping or a list of mappings, not a number\n");
}

/* ------------------------------------------------------------ problems */

typedef struct problem_case {
    const char *yaml;
    const char *want;
} problem_case;

static const problem_case cases[] = {
    /* unknown keys, with and without a suggestion, in every context */
    {"nmae: x\n", "1:1: unknown key \"nmae\" in the pipeline; did you mean \"name\"?\n"},
    {"zzz: x\n", "1:1: unknown key \"zzz\" in the pipeline\n"},
    {"options: {paralelism: 2}\n",
     "1:11: unknown key \"paralelism\" in options; did you mean \"parallelism\"?\n"},
    {"options:\n  distributed:\n    hartbeat: 1s\n",
     "3:5: unknown key \"hartbeat\" in options.distributed; did you mean \"heartbeat\"?\n"},
    {"modules:\n  build:\n    dependson: [x]\n",
     "3:5: unknown key \"dependson\" in module \"build\"; did you mean \"depends_on\"?\n"},
    {"modules: {a: {produces: [{name: x, path: p, paht: q}]}}\n",
     "1:45: unknown key \"paht\" in a produces entry of module \"a\"; did you mean \"path\"?\n"},
    {"modules: {a: {consumes: [{name: x, form: b}]}}\n",
     "1:36: unknown key \"form\" in a consumes entry of module \"a\"; did you mean \"from\"?\n"},
    {"modules: {a: {retries: {count: 1, dealy: 1s}}}\n",
     "1:35: unknown key \"dealy\" in retries of module \"a\"; did you mean \"delay\"?\n"},
    {"modules: {a: {skip_if: {evn: X}}}\n",
     "1:25: unknown key \"evn\" in a condition of module \"a\"; did you mean \"env\"?\n"},
    {"requirements: [{fille: x}]\n",
     "1:17: unknown key \"fille\" in a requirement; did you mean \"file\"?\n"},
    /* wrong types */
    {"modules:\n  build:\n    depends_on: {a: 1}\n",
     "3:17: \"depends_on\" of module \"build\" must be a list of module names, not a mapping\n"},
    {"modules: {a: {depends_on: [x, [y]]}}\n",
     "1:31: an item of \"depends_on\" of module \"a\" must be a module name, not a list\n"},
    {"name: [x]\n", "1:7: \"name\" must be a string, not a list\n"},
    {"options: 5\n", "1:10: \"options\" must be a mapping, not a number\n"},
    {"modules: [a]\n",
     "1:10: \"modules\" must be a mapping of module names to modules, not a list\n"},
    {"modules: {a: run}\n", "1:14: module \"a\" must be a mapping, not a string\n"},
    {"modules: {a: {timeout: true}}\n",
     "1:24: \"timeout\" of module \"a\" must be a duration such as \"10m\", not a boolean\n"},
    {"modules: {a: {retries: [1]}}\n",
     "1:24: \"retries\" of module \"a\" must be a whole number >= 0 or a mapping with \"count\" "
     "and \"delay\", not a list\n"},
    {"modules: {a: {retries: -1}}\n",
     "1:24: \"retries\" of module \"a\" must be a whole number >= 0, not -1\n"},
    {"modules: {a: {retries: {delay: 1s}}}\n",
     "1:24: missing \"count\" in retries of module \"a\"\n"},
    {"modules:\n  a:\n    working_dir:\n",
     "3:5: \"working_dir\" of module \"a\" must be a string, not null\n"},
    {"modules: {a: {not_in_parallel: {x: 1}}}\n",
     "1:32: \"not_in_parallel\" of module \"a\" must be true, false or a list of keys, not a "
     "mapping\n"},
    {"modules: {a: {skip_if: x}}\n",
     "1:24: \"skip_if\" of module \"a\" must be a condition or a list of conditions, not a "
     "string\n"},
    {"modules: {a: {run_if: [x]}}\n",
     "1:24: an item of \"run_if\" of module \"a\" must be a condition mapping, not a string\n"},
    {"modules: {a: {env: [A]}}\n",
     "1:20: \"env\" of module \"a\" must be a mapping of variable names to values, not a "
     "list\n"},
    {"modules: {a: {env: {A: {b: 1}}}}\n",
     "1:24: \"A\" in \"env\" of module \"a\" must be a string, not a mapping\n"},
    {"modules: {a: {requires: {os: [x]}}}\n",
     "1:30: \"os\" in \"requires\" of module \"a\" must be a string, not a list\n"},
    {"modules: {a: {produces: {name: x}}}\n",
     "1:25: \"produces\" of module \"a\" must be a list of {name, path} entries, not a "
     "mapping\n"},
    {"requirements: {env: X}\n",
     "1:15: \"requirements\" must be a list of requirements, not a mapping\n"},
    {"- a\n", "1:1: the pipeline file must be a mapping, not a list\n"},
    {"version: 2\n", "1:10: \"version\" must be 1, not 2\n"},
    {"version: \"1\"\n", "1:10: \"version\" must be 1, not a string\n"},
    /* values */
    {"options: {on_failure: stopp}\n",
     "1:23: \"on_failure\" of options must be stop or continue, not \"stopp\"; did you mean "
     "\"stop\"?\n"},
    {"modules: {a: {priority: urgent}}\n",
     "1:25: \"priority\" of module \"a\" must be low, normal, high or critical, not \"urgent\"\n"},
    {"modules: {a: {run: []}}\n", "1:20: \"run\" of module \"a\" must not be empty\n"},
    {"modules: {a: {run: \"\"}}\n", "1:20: \"run\" of module \"a\" must not be empty\n"},
    {"modules: {a: {run: [\"\", x]}}\n",
     "1:21: the program name in \"run\" of module \"a\" must not be empty\n"},
    {"options: {concurrency_groups: {db: 0}}\n",
     "1:36: \"db\" of options.concurrency_groups must be a whole number >= 1, not 0\n"},
    {"options: {distributed: {max_attempts: 0}}\n",
     "1:39: \"max_attempts\" of options.distributed must be a whole number >= 1, not 0\n"},
    {"secrets: [NPM_TOKEN, 9bad]\n",
     "1:22: invalid secret name \"9bad\": use letters, digits and \"_\", not starting with a "
     "digit\n"},
    {"env: {a-b: 1}\n",
     "1:7: invalid variable name \"a-b\" in \"env\": use letters, digits and \"_\", not starting "
     "with a digit\n"},
    /* durations */
    {"modules:\n  a:\n    timeout: 10x\n",
     "3:14: invalid duration \"10x\" for \"timeout\": unknown unit (use ms, s, m or h)\n"},
    {"options: {timeout: 30}\n",
     "1:20: invalid duration \"30\" for \"timeout\": missing unit (use ms, s, m or h)\n"},
    {"options: {distributed: {heartbeat: 0}}\n",
     "1:36: invalid duration \"0\" for \"heartbeat\": must be more than 0\n"},
    {"modules: {a: {retries: {count: 1, delay: 1.5s}}}\n",
     "1:42: invalid duration \"1.5s\" for \"delay\": no fractions (write 1s500ms, not 1.5s)\n"},
    /* conditions and requirements */
    {"modules: {a: {skip_if: {env: A, file: b}}}\n",
     "1:33: a condition of module \"a\" must have exactly one of \"env\", \"os\", \"file\" or "
     "\"command\"\n"},
    {"modules: {a: {skip_if: {}}}\n",
     "1:24: a condition of module \"a\" must have exactly one of \"env\", \"os\", \"file\" or "
     "\"command\"\n"},
    {"modules: {a: {run_if: {file: x, equals: y}}}\n",
     "1:33: \"equals\" in a condition of module \"a\" only goes with \"env\"\n"},
    {"modules: {a: {run_if: {os: linx}}}\n",
     "1:28: \"os\" of a condition of module \"a\" must be linux, macos or windows, not \"linx\"; "
     "did you mean \"linux\"?\n"},
    {"modules: {a: {run_if: {env: \"A B\"}}}\n",
     "1:29: invalid variable name \"A B\" in a condition of module \"a\": use letters, digits "
     "and \"_\", not starting with a digit\n"},
    {"requirements: [{env: A, command: b}]\n",
     "1:25: a requirement must have exactly one of \"env\", \"file\" or \"command\"\n"},
    {"requirements: [{os: linux}]\n", "1:17: unknown key \"os\" in a requirement\n"},
    /* artifacts */
    {"modules: {a: {produces: [{name: x}]}}\n",
     "1:26: missing \"path\" in a produces entry of module \"a\"\n"},
    {"modules: {a: {produces: [{name: \"a b\", path: x}]}}\n",
     "1:33: invalid artifact name \"a b\": use letters, digits, \"_\", \".\" and \"-\"\n"},
    {"modules: {a: {produces: [{name: x, path: []}]}}\n",
     "1:42: \"path\" of a produces entry of module \"a\" must not be empty\n"},
    {"modules: {a: {consumes: [{from: b}]}}\n",
     "1:26: missing \"name\" in a consumes entry of module \"a\"\n"},
    /* matrix */
    {"modules: {t: {matrix: {os: []}}}\n", "1:28: matrix of module \"t\": \"os\" has no values\n"},
    {"modules: {t: {matrix: {os: linux}}}\n",
     "1:28: matrix of module \"t\": \"os\" must be a list of values, not a string\n"},
    {"modules: {t: {matrix: {os: [[a]]}}}\n",
     "1:29: matrix of module \"t\": a value of \"os\" must be a string, number or boolean, not "
     "a list\n"},
    {"modules: {t: {matrix: {os: [a, b, a]}}}\n",
     "1:35: matrix of module \"t\": duplicate value \"a\" for \"os\" (first at line 1)\n"},
    {"modules: {t: {matrix: {\"o s\": [a]}}}\n",
     "1:24: matrix of module \"t\": invalid key \"o s\": use letters, digits, \"_\" and \"-\"\n"},
    {"modules: {t: {matrix: {}}}\n", "1:23: matrix of module \"t\": no keys\n"},
    {"modules: {t: {matrix: {a: [1,2,3,4,5,6,7,8,9], b: [1,2,3,4,5,6,7,8,9], c: [1,2,3,4]}}}\n",
     "1:23: matrix of module \"t\": 324 combinations; the limit is 256\n"},
    {"modules: {t: {matrix: [os]}}\n",
     "1:23: \"matrix\" of module \"t\" must be a mapping of keys to lists of values, not a "
     "list\n"},
    /* names and duplicates */
    {"modules: {\"a b\": {run: x}}\n",
     "1:11: invalid module name \"a b\": use letters, digits, \"_\", \".\" and \"-\"\n"},
    {"modules:\n  build: {run: a}\n  test: {run: b}\n  build: {run: c}\n",
     "4:3: duplicate module \"build\" (first defined at line 2)\n"},
    {"name: a\nname: b\n", "2:1: duplicate key \"name\" (first at line 1)\n"},
    {"modules:\n  a:\n    env:\n      X: 1\n      X: 2\n",
     "5:7: duplicate key \"X\" (first at line 4)\n"},
    /* several problems at once, all reported */
    {"modules:\n  a:\n    run: []\n    timeout: 1x\n    tags: {}\n",
     "3:10: \"run\" of module \"a\" must not be empty\n"
     "4:14: invalid duration \"1x\" for \"timeout\": unknown unit (use ms, s, m or h)\n"
     "5:11: \"tags\" of module \"a\" must be a list of tags, not a mapping\n"},
    /* YAML level */
    {"a: b: c\n", "1:5: mapping values are not allowed in this context\n"},
    {"a: [1, 2\n",
     "2:1: did not find expected ',' or ']' (while parsing a flow sequence at line 1)\n"},
    {"a: 1\n---\nb: 2\n", "2:1: more than one YAML document in the pipeline file\n"},
    {"a: *nope\n", "1:4: alias \"*nope\" has no anchor \"&nope\" before it\n"},
    {"a: &x [1, *x]\n", "1:11: alias \"*x\" is inside the node it refers to\n"},
    {"a: !custom x\n",
     "1:1: unknown key \"a\" in the pipeline\n1:4: unsupported tag \"!custom\"\n"},
    {"? [a]\n: b\n", "1:3: a mapping key must be a string, not a list\n"},
    {"name: \"a\\0b\"\n", "1:7: strings must not contain NUL characters\n"},
    {"name: \"\xff\"\n", "1:8: invalid leading UTF-8 octet (byte 0xFF)\n"},
    {"name: x\n\x01\n", "2:1: control characters are not allowed (byte 0x01)\n"},
};

static void test_problem_catalogue(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;
        mp_pipeline *p = load(cases[i].yaml, &rc);
        char *got = problems(p);
        if (strcmp(got, cases[i].want) != 0 || rc != MP_EINVALID) {
            print_error("case %zu, input:\n%s\nwant:\n%sgot (rc %d):\n%s\n", i, cases[i].yaml,
                        cases[i].want, rc, got);
            failed++;
        }
        free(got);
        mp_pipeline_free(p);
    }
    assert_int_equal(failed, 0);
}

static void test_unknown_key_quoted_safely(void **state)
{
    (void)state;
    expect_problems("\"a\\nb\\\"c\": 1\n", "1:1: unknown key \"a\\nb\\\"c\" in the pipeline\n");
    int rc;
    char long_key[200];
    memset(long_key, 'k', sizeof(long_key));
    memcpy(long_key + sizeof(long_key) - 4, ": 1", 4);
    mp_pipeline *p = load(long_key, &rc);
    assert_int_equal(rc, MP_EINVALID);
    assert_non_null(strstr(mp_pipeline_problem(p, 0)->message, "kkk...\" in the pipeline"));
    mp_pipeline_free(p);
}

static void test_display_name_in_positions(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    char name[32];
    snprintf(name, sizeof(name), "%s", "ci/pipe.yml");
    const char *y = "zzz: 1\n";
    assert_int_equal(mp_pipeline_load_string(p, y, strlen(y), name, &err), MP_EINVALID);
    memset(name, 0, sizeof(name)); /* the pipeline keeps its own copy */
    assert_string_equal(mp_pipeline_problem(p, 0)->file, "ci/pipe.yml");
    assert_int_equal(err.code, MP_EINVALID);
    assert_string_equal(err.where, "ci/pipe.yml");
    mp_pipeline_free(p);

    p = mp_pipeline_new(NULL);
    assert_int_equal(mp_pipeline_load_string(p, y, strlen(y), NULL, NULL), MP_EINVALID);
    assert_string_equal(mp_pipeline_problem(p, 0)->file, "<string>");
    mp_pipeline_free(p);
}

static void test_not_nul_terminated(void **state)
{
    (void)state;
    const char buf[] = {'n', 'a', 'm', 'e', ':', ' ', 'x', 'y'};
    mp_pipeline *p = mp_pipeline_new(NULL);
    assert_int_equal(mp_pipeline_load_string(p, buf, 7, "t.yml", NULL), 0);
    assert_string_equal(p->name, "x");
    mp_pipeline_free(p);
}

/* ------------------------------------------------------------ code modules */

static int body(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return 0;
}

static void test_merge_with_code_module(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    mp_module *m = mp_pipeline_add_module(p, "stamp", NULL, &err);
    assert_non_null(m);
    mp_module_set_function(m, body, p);
    mp_module_depends_on(m, "build");
    mp_module_set_timeout_ms(m, 5000);
    const char *y = "modules:\n"
                    "  build: {run: make}\n"
                    "  stamp:\n"
                    "    depends_on: [restore]\n"
                    "    timeout: 1m\n"
                    "    tags: [meta]\n";
    assert_int_equal(mp_pipeline_load_string(p, y, strlen(y), "t.yml", &err), 0);
    mp_module_decl *d = decl(p, "stamp");
    assert_true(d->from_api);
    assert_int_equal(d->proto.run_kind, MP_RUN_FUNCTION);
    assert_ptr_equal(d->proto.fn, body);
    assert_ptr_equal(d->proto.fn_data, p);
    assert_int_equal(d->proto.depends_on.n, 2);
    assert_string_equal(d->proto.depends_on.v[0].s, "build");
    assert_string_equal(d->proto.depends_on.v[1].s, "restore");
    assert_int_equal(d->proto.timeout_ms, 60000);
    assert_pos(d->proto.pos, 3, 3);
    assert_int_equal(p->decls.n, 2);
    mp_pipeline_free(p);
}

static void test_code_module_conflicts(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    mp_module *m = mp_pipeline_add_module(p, "stamp", NULL, &err);
    mp_module_set_function(m, body, NULL);
    assert_non_null(mp_pipeline_add_module(p, "shell", "echo hi", &err));
    const char *y = "modules:\n  stamp: {run: x}\n  shell: {tags: [a]}\n";
    assert_int_equal(mp_pipeline_load_string(p, y, strlen(y), "t.yml", &err), MP_EINVALID);
    char *got = problems(p);
    assert_string_equal(got, "2:3: module \"stamp\" has a function body in code and cannot "
                             "also have a \"run\" in the file\n"
                             "3:3: duplicate module \"shell\" (first defined in code)\n");
    free(got);
    assert_int_equal(decl(p, "stamp")->proto.run_kind, MP_RUN_FUNCTION);
    assert_string_equal(decl(p, "shell")->proto.run.s, "echo hi");
    assert_int_equal(decl(p, "shell")->proto.tags.n, 0);
    mp_pipeline_free(p);
}

static void test_two_files(void **state)
{
    (void)state;
    mp_pipeline *p = mp_pipeline_new(NULL);
    const char *a = "modules:\n  x: {run: a}\n";
    const char *b = "\nmodules:\n  x: {run: b}\n  y: {run: c}\n";
    assert_int_equal(mp_pipeline_load_string(p, a, strlen(a), "a.yml", NULL), 0);
    assert_int_equal(mp_pipeline_load_string(p, b, strlen(b), "b.yml", NULL), MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 1);
    const mp_problem *pr = mp_pipeline_problem(p, 0);
    assert_string_equal(pr->file, "b.yml");
    assert_int_equal(pr->line, 3);
    assert_string_equal(pr->message, "duplicate module \"x\" (first defined at a.yml:2)");
    assert_int_equal(p->decls.n, 2);
    mp_pipeline_free(p);
}

/* ------------------------------------------------------------ hostile input */

static void test_billion_laughs(void **state)
{
    (void)state;
    char buf[4096];
    size_t len = (size_t)snprintf(buf, sizeof(buf),
                                  "a0: &a0 [lol, lol, lol, lol, lol, lol, "
                                  "lol, lol, lol, lol]\n");
    for (int i = 1; i < 20; i++) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "a%d: &a%d [", i, i);
        for (int j = 0; j < 10; j++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s*a%d", j ? ", " : "", i - 1);
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "]\n");
    }
    double t0 = now_s();
    int rc;
    mp_pipeline *p = load(buf, &rc);
    double dt = now_s() - t0;
    assert_int_equal(rc, MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 1);
    assert_string_equal(mp_pipeline_problem(p, 0)->message,
                        "aliases expand to more than 100000 nodes (alias bomb?)");
    assert_int_equal(mp_pipeline_problem(p, 0)->line, 5);
    assert_true(dt < 2.0);
    mp_pipeline_free(p);
}

static void test_merge_key_bomb(void **state)
{
    (void)state;
    char buf[8192];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "m0: &m0 {");
    for (int j = 0; j < 50; j++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%sk%d: v", j ? ", " : "", j);
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "}\n");
    for (int i = 1; i < 30; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                "m%d: &m%d {<<: [*m%d, *m%d, *m%d, *m%d]}\n", i, i, i - 1, i - 1,
                                i - 1, i - 1);
    double t0 = now_s();
    int rc;
    mp_pipeline *p = load(buf, &rc);
    assert_true(now_s() - t0 < 2.0);
    assert_int_equal(rc, MP_EINVALID);
    assert_string_equal(mp_pipeline_problem(p, 0)->message,
                        "aliases expand to more than 100000 nodes (alias bomb?)");
    mp_pipeline_free(p);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    /* 64 levels are fine, 65 are not: flow and block style. */
    char buf[8192];
    size_t len = 0;
    for (int i = 0; i < 64; i++)
        buf[len++] = '[';
    for (int i = 0; i < 64; i++)
        buf[len++] = ']';
    buf[len] = '\0';
    int rc;
    mp_pipeline *p = load(buf, &rc);
    assert_string_equal(mp_pipeline_problem(p, 0)->message,
                        "the pipeline file must be a mapping, not a list");
    mp_pipeline_free(p);

    len = 0;
    for (int i = 0; i < 65; i++)
        buf[len++] = '[';
    buf[len] = '\0';
    expect_problems(buf, "1:65: document nests deeper than 64 levels\n");

    len = 0;
    for (int i = 0; i < 70; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%*sk:\n", i, "");
    expect_problems(buf, "65:65: document nests deeper than 64 levels\n");

    /* Megabytes of brackets end quickly too. */
    size_t big = 4 * 1024 * 1024;
    char *s = malloc(big + 1);
    memset(s, '[', big);
    s[big] = '\0';
    double t0 = now_s();
    p = load(s, &rc);
    assert_true(now_s() - t0 < 2.0);
    assert_int_equal(rc, MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 1);
    mp_pipeline_free(p);
    free(s);
}

static void test_too_many_nodes(void **state)
{
    (void)state;
    size_t n = 1100000, cap = n * 2 + 16;
    char *s = malloc(cap);
    size_t len = 0;
    s[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        s[len++] = '1';
        s[len++] = ',';
    }
    s[len - 1] = ']';
    int rc;
    mp_pipeline *p = mp_pipeline_new(NULL);
    rc = mp_pipeline_load_string(p, s, len, "t.yml", NULL);
    /* Over a million plain nodes is a big but honest file: without aliases
     * a file within the size limit never reaches the node limit. */
    assert_int_equal(rc, MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 1);
    assert_string_equal(mp_pipeline_problem(p, 0)->message,
                        "the pipeline file must be a mapping, not a list");
    mp_pipeline_free(p);
    free(s);
}

static void test_binary_garbage(void **state)
{
    (void)state;
    unsigned char bytes[512];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i * 37 + 11);
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    int rc = mp_pipeline_load_string(p, (const char *)bytes, sizeof(bytes), "bin", &err);
    assert_int_equal(rc, MP_EINVALID);
    assert_int_equal(mp_pipeline_problem_count(p), 1);
    assert_int_equal(err.code, MP_EINVALID);
    mp_pipeline_free(p);

    /* Many random inputs, printable-heavy so that some of them parse: the
     * loader returns 0 or MP_EINVALID and never crashes. */
    const char alphabet[] = "ab:-[]{},&*!|>'\"# \n\n  ~<0123456789.\\\t?%@`";
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        char buf[160];
        size_t n = (size_t)(round % 150) + 1;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) & 0x7fff;
            buf[i] = (r % 13 == 0) ? (char)(r & 0xff) : alphabet[r % (sizeof(alphabet) - 1)];
        }
        p = mp_pipeline_new(NULL);
        rc = mp_pipeline_load_string(p, buf, n, "fuzz", NULL);
        assert_true(rc == 0 || rc == MP_EINVALID);
        assert_true(rc == 0 ? mp_pipeline_problem_count(p) == 0 : mp_pipeline_problem_count(p) > 0);
        mp_pipeline_free(p);
    }
}

static void test_too_big(void **state)
{
    (void)state;
    size_t n = 9 * 1024 * 1024;
    char *s = malloc(n);
    memset(s, '#', n);
    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    assert_int_equal(mp_pipeline_load_string(p, s, n, "big.yml", &err), MP_ETOOBIG);
    assert_string_equal(err.message, "pipeline file is 9437184 bytes; the limit is 8 MiB");
    assert_string_equal(err.where, "big.yml");
    assert_int_equal(mp_pipeline_problem_count(p), 0);

    /* Exactly 8 MiB of comments is accepted. */
    assert_int_equal(mp_pipeline_load_string(p, s, 8 * 1024 * 1024, "big.yml", &err), 0);

    char path[] = "/tmp/test_yaml_load_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s, n), (ssize_t)n);
    close(fd);
    memset(&err, 0, sizeof(err));
    assert_int_equal(mp_pipeline_load_file(p, path, &err), MP_ETOOBIG);
    assert_string_equal(err.message, "pipeline file is 9437184 bytes; the limit is 8 MiB");
    assert_string_equal(err.where, path);
    unlink(path);
    mp_pipeline_free(p);
    free(s);
}

/* ------------------------------------------------------------ files */

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_yaml_load_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *y = "modules:\n  a: {run: x, tiemout: 1s}\n";
    assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
    close(fd);

    mp_pipeline *p = mp_pipeline_new(NULL);
    mp_error err = {0};
    assert_int_equal(mp_pipeline_load_file(p, path, &err), MP_EINVALID);
    const mp_problem *pr = mp_pipeline_problem(p, 0);
    assert_string_equal(pr->file, path);
    assert_int_equal(pr->line, 2);
    assert_int_equal(pr->col, 15);
    assert_string_equal(pr->message,
                        "unknown key \"tiemout\" in module \"a\"; did you mean \"timeout\"?");
    assert_non_null(decl(p, "a"));
    unlink(path);
    mp_pipeline_free(p);

    p = mp_pipeline_new(NULL);
    memset(&err, 0, sizeof(err));
    assert_int_equal(mp_pipeline_load_file(p, "/nonexistent/modpipe.yml", &err), MP_ENOENT);
    assert_string_equal(err.where, "/nonexistent/modpipe.yml");
    assert_string_equal(err.message, strerror(ENOENT));
    memset(&err, 0, sizeof(err));
    assert_int_equal(mp_pipeline_load_file(p, "/tmp", &err), MP_EIO);
    assert_string_equal(err.message, strerror(EISDIR));
    assert_int_equal(mp_pipeline_load_file(p, NULL, &err), MP_EINVAL);
    assert_int_equal(mp_pipeline_load_string(NULL, "", 0, "x", &err), MP_EINVAL);
    assert_int_equal(mp_pipeline_problem_count(p), 0);
    mp_pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_document),
        cmocka_unit_test(test_full_document_validates),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_scalar_rules),
        cmocka_unit_test(test_anchors_and_merge_keys),
        cmocka_unit_test(test_problem_catalogue),
        cmocka_unit_test(test_unknown_key_quoted_safely),
        cmocka_unit_test(test_display_name_in_positions),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_merge_with_code_module),
        cmocka_unit_test(test_code_module_conflicts),
        cmocka_unit_test(test_two_files),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_merge_key_bomb),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_too_many_nodes),
        cmocka_unit_test(test_binary_garbage),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
