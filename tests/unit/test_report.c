/*
 * test_report.c -- the JSON run report (output/report.h): schema and key
 * order of DESIGN §5, nulls for what does not apply, ISO-8601 times,
 * instances, invalid UTF-8, atomic writing, and agreement with the
 * end-of-run summary (both from metrics.c) for a fabricated run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/strbuf.h"
#include "output/metrics.h"
#include "output/outfmt.h"
#include "output/report.h"
#include "output/summary.h"
#include "output_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>

#define T0 1700000000123LL /* 2023-11-14T22:13:20.123Z */

static const char *const mods[] = {"build", "lint", "test", NULL};

typedef struct fx {
    mp_pipeline *p;
    mp_run run;
    char dir[64];
    char path[128];
} fx;

/* build succeeded (1.2 s, output version=1.2.3), test failed (exit 1),
 * lint skipped; the run took 3.4 s. */
static fx *fx_new(void)
{
    fx *f = calloc(1, sizeof(*f));
    f->p = ofx_pipeline("report", mods);
    ofx_run_init(&f->run, f->p, T0);
    f->run.ended_at = T0 + 3400;
    f->run.verdict = MP_STATUS_FAILED;
    mp_result *b =
        ofx_ran(&f->run, ofx_index(f->p, "build"), MP_STATUS_SUCCEEDED, 0, T0, T0 + 1200);
    mp_kv kv = {.key = {.s = "version"}, .value = {.s = "1.2.3"}};
    MP_VEC_PUSH(f->run.arena, &b->outputs, kv);
    mp_result *t =
        ofx_ran(&f->run, ofx_index(f->p, "test"), MP_STATUS_FAILED, 1, T0 + 1200, T0 + 1500);
    t->error_message = "exited with status 1";
    t->log_tail = "FAIL: 3 != 4\n";
    ofx_not_run(&f->run, ofx_index(f->p, "lint"), MP_STATUS_SKIPPED, "skip_if: env SKIP_LINT");
    snprintf(f->dir, sizeof(f->dir), "/tmp/mp-report-XXXXXX");
    if (!mkdtemp(f->dir)) fail_msg("mkdtemp");
    snprintf(f->path, sizeof(f->path), "%s/report.json", f->dir);
    return f;
}

static void fx_free(fx *f)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0) fail_msg("rm");
    ofx_run_free(&f->run);
    mp_pipeline_free(f->p);
    free(f);
}

static json_t *load(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) fail_msg("report is not JSON: %s (line %d)", je.text, je.line);
    return j;
}

static void assert_keys(json_t *o, const char *const *keys)
{
    assert_true(json_is_object(o));
    size_t k = 0;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it), k++) {
        assert_non_null(keys[k]);
        assert_string_equal(json_object_iter_key(it), keys[k]);
    }
    assert_null(keys[k]);
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static json_t *module(json_t *root, const char *name)
{
    json_t *mods_j = json_object_get(root, "modules"), *m;
    size_t k;
    json_array_foreach(mods_j, k, m)
    {
        if (strcmp(str(m, "module"), name) == 0) return m;
    }
    fail_msg("no module %s in report", name);
    return NULL;
}

static void test_shape(void **state)
{
    (void)state;
    fx *f = fx_new();
    mp_report_info info = {.run_id = "42-1"};
    mp_error err;
    assert_int_equal(mp__report_write(f->path, f->p, &f->run, &info, &err), 0);
    json_t *root = load(f->path);

    static const char *const root_keys[] = {"schema",     "run_id",   "pipeline",    "status",
                                            "started_at", "ended_at", "duration_ms", "instances",
                                            "modules",    "metrics",  NULL};
    assert_keys(root, root_keys);
    assert_string_equal(str(root, "schema"), "modpipe.report/v1");
    assert_string_equal(str(root, "run_id"), "42-1");
    json_t *pl = json_object_get(root, "pipeline");
    static const char *const pl_keys[] = {"name", "hash", NULL};
    assert_keys(pl, pl_keys);
    assert_string_equal(str(pl, "name"), "report");
    assert_string_equal(str(pl, "hash"), mp_pipeline_hash(f->p));
    assert_string_equal(str(root, "status"), "failed");
    assert_string_equal(str(root, "started_at"), "2023-11-14T22:13:20.123Z");
    assert_string_equal(str(root, "ended_at"), "2023-11-14T22:13:23.523Z");
    assert_int_equal(json_integer_value(json_object_get(root, "duration_ms")), 3400);

    /* no instances named: this machine as instance 0 */
    json_t *insts = json_object_get(root, "instances");
    assert_int_equal(json_array_size(insts), 1);
    json_t *in = json_array_get(insts, 0);
    static const char *const in_keys[] = {"index", "capabilities", "hostname", NULL};
    assert_keys(in, in_keys);
    assert_int_equal(json_integer_value(json_object_get(in, "index")), 0);
    assert_string_equal(str(json_object_get(in, "capabilities"), "os"), "linux");
    assert_true(strlen(str(json_object_get(in, "capabilities"), "arch")) > 0);
    assert_true(strlen(str(in, "hostname")) > 0);

    /* modules in pipeline order, every key of a result */
    json_t *ms = json_object_get(root, "modules");
    assert_int_equal(json_array_size(ms), 3);
    assert_string_equal(str(json_array_get(ms, 0), "module"), "build");
    assert_string_equal(str(json_array_get(ms, 2), "module"), "test");
    static const char *const m_keys[] = {
        "module",   "status",      "attempts", "exit_code", "instance",    "worker", "started_at",
        "ended_at", "duration_ms", "outputs",  "artifacts", "skip_reason", "error",  NULL};
    json_t *b = module(root, "build");
    assert_keys(b, m_keys);
    assert_string_equal(str(b, "status"), "succeeded");
    assert_int_equal(json_integer_value(json_object_get(b, "attempts")), 1);
    assert_int_equal(json_integer_value(json_object_get(b, "exit_code")), 0);
    assert_int_equal(json_integer_value(json_object_get(b, "instance")), 0);
    assert_true(json_is_null(json_object_get(b, "worker")));
    assert_string_equal(str(b, "started_at"), "2023-11-14T22:13:20.123Z");
    assert_string_equal(str(b, "ended_at"), "2023-11-14T22:13:21.323Z");
    assert_int_equal(json_integer_value(json_object_get(b, "duration_ms")), 1200);
    assert_string_equal(str(json_object_get(b, "outputs"), "version"), "1.2.3");
    assert_true(json_is_array(json_object_get(b, "artifacts")));
    assert_true(json_is_null(json_object_get(b, "skip_reason")));
    assert_true(json_is_null(json_object_get(b, "error")));

    json_t *t = module(root, "test");
    assert_string_equal(str(t, "status"), "failed");
    assert_int_equal(json_integer_value(json_object_get(t, "exit_code")), 1);
    json_t *e = json_object_get(t, "error");
    static const char *const e_keys[] = {"message", "log_tail", NULL};
    assert_keys(e, e_keys);
    assert_string_equal(str(e, "message"), "exited with status 1");
    assert_string_equal(str(e, "log_tail"), "FAIL: 3 != 4\n");

    json_t *l = module(root, "lint");
    assert_keys(l, m_keys);
    assert_string_equal(str(l, "status"), "skipped");
    assert_int_equal(json_integer_value(json_object_get(l, "attempts")), 0);
    assert_true(json_is_null(json_object_get(l, "exit_code")));
    assert_true(json_is_null(json_object_get(l, "instance")));
    assert_true(json_is_null(json_object_get(l, "started_at")));
    assert_true(json_is_null(json_object_get(l, "ended_at")));
    assert_int_equal(json_integer_value(json_object_get(l, "duration_ms")), 0);
    assert_string_equal(str(l, "skip_reason"), "skip_if: env SKIP_LINT");
    assert_true(json_is_null(json_object_get(l, "error")));
    assert_int_equal(json_object_size(json_object_get(l, "outputs")), 0);

    json_t *mj = json_object_get(root, "metrics");
    static const char *const mj_keys[] = {"wall_ms", "module_ms_total", "speedup",
                                          "peak_concurrency", NULL};
    assert_keys(mj, mj_keys);
    assert_int_equal(json_integer_value(json_object_get(mj, "wall_ms")), 3400);
    assert_int_equal(json_integer_value(json_object_get(mj, "module_ms_total")), 1500);
    assert_true(json_real_value(json_object_get(mj, "speedup")) == 0.44);
    assert_int_equal(json_integer_value(json_object_get(mj, "peak_concurrency")), 1);
    json_decref(root);

    /* the number is written as written in the summary, not 0.44000000000000000 */
    int fd = open(f->path, O_RDONLY);
    char *text = ofx_slurp(fd, NULL);
    close(fd);
    assert_non_null(strstr(text, "\"speedup\": 0.44,\n"));
    free(text);
    fx_free(f);
}

/* Every number the summary prints is the report's. */
static void test_agrees_with_summary(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "c", "d", "e", NULL};
    mp_pipeline *p = ofx_pipeline("agree", names);
    mp_run run;
    ofx_run_init(&run, p, T0);
    run.ended_at = T0 + 7777;
    run.verdict = MP_STATUS_FAILED;
    ofx_ran(&run, 0, MP_STATUS_SUCCEEDED, 0, T0, T0 + 4321);
    mp_result *r = ofx_ran(&run, 1, MP_STATUS_SUCCEEDED, 0, T0 + 10, T0 + 6000);
    r->attempts = 3;
    r->duration_ms = 5123; /* time running, retry delays excluded */
    ofx_ran(&run, 2, MP_STATUS_TIMED_OUT, -1, T0 + 20, T0 + 7000);
    ofx_ran(&run, 3, MP_STATUS_IGNORED_FAILURE, 7, T0 + 4321, T0 + 4999);
    ofx_not_run(&run, 4, MP_STATUS_DEPENDENCY_FAILED, "dependency \"c\" timed out");

    mp_strbuf sb = MP_STRBUF_INIT;
    mp__summary_format(p, &run, &sb);
    char *json_text = mp__report_dumps(p, &run, &(mp_report_info){.run_id = "x"});
    json_error_t je;
    json_t *root = json_loads(json_text, 0, &je);
    assert_non_null(root);
    json_t *mj = json_object_get(root, "metrics");

    /* totals line */
    const char *tl = strstr(sb.buf, "\nwall time ");
    assert_non_null(tl);
    char wall[32], modt[32];
    double speedup;
    int peak;
    assert_int_equal(sscanf(tl,
                            "\nwall time %31[^,], module time %31[^,], speedup %lfx, "
                            "peak concurrency %d",
                            wall, modt, &speedup, &peak),
                     4);
    char buf[MP_FMT_BUFSZ];
    assert_string_equal(wall,
                        mp__fmt_duration(buf, json_integer_value(json_object_get(mj, "wall_ms"))));
    assert_string_equal(
        modt, mp__fmt_duration(buf, json_integer_value(json_object_get(mj, "module_ms_total"))));
    assert_true(speedup == json_real_value(json_object_get(mj, "speedup")));
    assert_int_equal(peak, json_integer_value(json_object_get(mj, "peak_concurrency")));
    assert_int_equal(peak, 3);
    /* and both are metrics.c's */
    mp_metrics m;
    mp__metrics_compute(&run, &m);
    assert_int_equal(json_integer_value(json_object_get(mj, "wall_ms")), m.wall_ms);
    assert_int_equal(json_integer_value(json_object_get(mj, "module_ms_total")), m.module_ms_total);
    assert_int_equal(m.module_ms_total, 4321 + 5123 + 6980 + 678);
    assert_true(m.speedup == 2.2);

    /* every row: status and duration as in the report */
    json_t *ms = json_object_get(root, "modules"), *jm;
    size_t k;
    json_array_foreach(ms, k, jm)
    {
        char row[128];
        snprintf(row, sizeof(row), "\n%s ", str(jm, "module"));
        const char *at = strstr(sb.buf, row);
        assert_non_null(at);
        char status[64], dur[32];
        assert_int_equal(sscanf(at + strlen(row), " %63s %31s", status, dur), 2);
        assert_string_equal(status, str(jm, "status"));
        json_t *started = json_object_get(jm, "started_at");
        assert_string_equal(
            dur,
            json_is_null(started)
                ? "-"
                : mp__fmt_duration(buf, json_integer_value(json_object_get(jm, "duration_ms"))));
    }
    json_decref(root);
    free(json_text);
    mp__strbuf_release(&sb);
    ofx_run_free(&run);
    mp_pipeline_free(p);
}

static void test_instances_and_interrupted(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->run.interrupted_by = SIGTERM;
    f->run.results[0].instance = 1;
    f->run.results[0].worker = "w1-abc";
    mp_report_pair c0[] = {{"os", "linux"}, {"arch", "x86_64"}, {"gpu", "yes"}};
    mp_report_pair c1[] = {{"os", "macos"}, {"arch", "arm64"}};
    mp_report_instance insts[] = {{0, "master", c0, 3}, {1, NULL, c1, 2}};
    mp_report_info info = {.run_id = "r", .instances = insts, .ninstances = 2};
    char *text = mp__report_dumps(f->p, &f->run, &info);
    json_t *root = json_loads(text, 0, NULL);
    assert_non_null(root);
    assert_string_equal(str(root, "status"), "cancelled");
    json_t *in = json_object_get(root, "instances");
    assert_int_equal(json_array_size(in), 2);
    assert_string_equal(str(json_array_get(in, 0), "hostname"), "master");
    assert_string_equal(str(json_object_get(json_array_get(in, 0), "capabilities"), "gpu"), "yes");
    assert_true(json_is_null(json_object_get(json_array_get(in, 1), "hostname")));
    assert_string_equal(str(json_object_get(json_array_get(in, 1), "capabilities"), "os"), "macos");
    assert_int_equal(json_integer_value(json_object_get(module(root, "build"), "instance")), 1);
    assert_string_equal(str(module(root, "build"), "worker"), "w1-abc");
    json_decref(root);
    free(text);
    fx_free(f);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    fx *f = fx_new();
    mp_result *t = &f->run.results[ofx_index(f->p, "test")];
    t->log_tail = "\xff\xfe ok \xc3\xa9 \xed\xa0\x80 \xe2\x82";
    char *text = mp__report_dumps(f->p, &f->run, NULL);
    json_t *root = json_loads(text, 0, NULL);
    assert_non_null(root);
    assert_string_equal(str(json_object_get(module(root, "test"), "error"), "log_tail"),
                        "?? ok \xc3\xa9 ??? ??");
    assert_true(json_is_null(json_object_get(root, "run_id")));
    json_decref(root);
    free(text);
    fx_free(f);
}

static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void test_atomic_write(void **state)
{
    (void)state;
    fx *f = fx_new();
    FILE *old = fopen(f->path, "w");
    fputs("old contents", old);
    fclose(old);
    assert_int_equal(mp__report_write(f->path, f->p, &f->run, NULL, NULL), 0);
    json_decref(load(f->path));               /* replaced whole */
    assert_int_equal(dir_entries(f->dir), 1); /* no temporary file left */

    char bad[160];
    snprintf(bad, sizeof(bad), "%s/missing/report.json", f->dir);
    mp_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(mp__report_write(bad, f->p, &f->run, NULL, &err), MP_EIO);
    assert_int_equal(err.code, MP_EIO);
    assert_string_equal(err.where, bad);
    assert_non_null(strstr(err.message, "cannot write report"));

    /* rename onto a directory fails: the temporary file is removed */
    char sub[160];
    snprintf(sub, sizeof(sub), "%s/adir", f->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    char inner[200];
    snprintf(inner, sizeof(inner), "%s/x", sub);
    FILE *x = fopen(inner, "w");
    fclose(x);
    assert_int_equal(mp__report_write(sub, f->p, &f->run, NULL, &err), MP_EIO);
    assert_int_equal(dir_entries(f->dir), 2);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_agrees_with_summary),
        cmocka_unit_test(test_instances_and_interrupted),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_atomic_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
