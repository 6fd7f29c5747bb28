/*
 * test_engine.c -- the local executor (src/core/engine*.c, attempt.c,
 * logfile.c, fn_module.c) driving real processes through mp__engine_run
 * with a recording sink.
 *
 * Each test gets a fresh directory as workspace (state under .state/);
 * modules run /bin/sh lines. Timing bounds are loose on the slow side
 * (sanitizers, loaded CI) and tight only where the behaviour is the point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/ctx.h"
#include "core/engine.h"
#include "core/logfile.h"
#include "os/clock.h"
#include "os/process.h"
#include "output/mask.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* --------------------------------------------------------- recording sink */

#define MAXMOD   64
#define KEEP_OUT 65536

typedef struct rec {
    const mp_pipeline *p;
    int run_started, run_finished;
    mp_status verdict;
    int starts[MAXMOD];   /* attempts started */
    int finished[MAXMOD]; /* module_finished calls */
    mp_status status[MAXMOD];
    int64_t t_start[MAXMOD], t_end[MAXMOD]; /* monotonic */
    size_t out_bytes[MAXMOD];
    char *out[MAXMOD]; /* first KEEP_OUT bytes */
    int running, max_running;
    int ticks;
    /* When module `trigger` starts, write `nstop` bytes `signo` to stop_w. */
    const char *trigger;
    int stop_w, nstop, signo;
} rec;

static size_t rec_idx(size_t i)
{
    assert_true(i < MAXMOD);
    return i;
}

static void r_run_started(void *d, const mp_run_info *info)
{
    rec *r = d;
    r->run_started++;
    assert_ptr_equal(info->pipeline, r->p);
    assert_true(info->parallelism >= 1);
}

static void r_module_started(void *d, size_t i, int attempt)
{
    rec *r = d;
    rec_idx(i);
    r->starts[i]++;
    assert_int_equal(attempt, r->starts[i]);
    if (attempt == 1) {
        r->t_start[i] = mp__clock_now_ms();
        if (++r->running > r->max_running) r->max_running = r->running;
    }
    if (r->trigger && strcmp(r->p->modules.v[i]->name, r->trigger) == 0) {
        for (int k = 0; k < r->nstop; k++) {
            unsigned char b = (unsigned char)r->signo;
            assert_int_equal(write(r->stop_w, &b, 1), 1);
        }
    }
}

static void r_module_output(void *d, size_t i, const char *bytes, size_t n)
{
    rec *r = d;
    rec_idx(i);
    assert_true(n > 0);
    if (!r->out[i]) r->out[i] = calloc(1, KEEP_OUT + 1);
    if (r->out_bytes[i] < KEEP_OUT) {
        size_t c = KEEP_OUT - r->out_bytes[i] < n ? KEEP_OUT - r->out_bytes[i] : n;
        memcpy(r->out[i] + r->out_bytes[i], bytes, c);
    }
    r->out_bytes[i] += n;
}

static void r_module_finished(void *d, size_t i, const mp_result *res)
{
    rec *r = d;
    rec_idx(i);
    r->finished[i]++;
    r->status[i] = res->status;
    if (r->starts[i]) {
        r->t_end[i] = mp__clock_now_ms();
        r->running--;
    }
    assert_int_equal(r->finished[i], 1); /* once per module */
}

static void r_tick(void *d, int64_t now)
{
    rec *r = d;
    (void)now;
    r->ticks++;
}

static void r_run_finished(void *d, const mp_result *results, mp_status verdict)
{
    rec *r = d;
    (void)results;
    r->run_finished++;
    r->verdict = verdict;
}

static const mp_sink_vtable rec_vt = {"record",        r_run_started,     r_module_started,
                                      r_module_output, r_module_finished, r_tick,
                                      r_run_finished,  NULL};

/* --------------------------------------------------------------- fixture */

typedef struct fx {
    char dir[64];
    char state[96];
    mp_pipeline *p;
    mp_plan plan;
    int have_plan;
    mp_run run;
    int have_run;
    rec r;
    mp_sink sink;
    mp_engine_opts o;
    int stop_pipe[2];
    int64_t wall_ms; /* how long mp__engine_run took */
} fx;

static int stop_read(void *data, int *signo)
{
    fx *f = data;
    unsigned char b;
    ssize_t n = read(f->stop_pipe[0], &b, 1);
    if (n != 1) return -1;
    *signo = b;
    return 0;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/mp-engine-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->state, sizeof(f->state), "%s/.state", f->dir);
    f->p = mp_pipeline_new("test");
    f->r.p = f->p;
    f->r.stop_w = -1;
    f->sink = (mp_sink){&rec_vt, &f->r};
    assert_int_equal(pipe2(f->stop_pipe, O_CLOEXEC), 0);
    f->o = (mp_engine_opts){.parallelism = 4,
                            .on_failure = MP_ON_FAILURE_CONTINUE,
                            .workspace = f->dir,
                            .state_dir = f->state,
                            .run_id = "test-run",
                            .instance_index = 0,
                            .kill_grace_ms = 300,
                            .sinks = &f->sink,
                            .nsinks = 1,
                            .stop_fd = f->stop_pipe[0],
                            .stop_read = stop_read,
                            .stop_data = f};
    f->r.stop_w = f->stop_pipe[1];
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->have_run) mp__run_release(&f->run);
    if (f->have_plan) mp__plan_release(&f->plan);
    mp_pipeline_free(f->p);
    for (int i = 0; i < MAXMOD; i++)
        free(f->r.out[i]);
    close(f->stop_pipe[0]);
    close(f->stop_pipe[1]);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void load(fx *f, const char *yaml)
{
    mp_error err = {0};
    if (mp_pipeline_load_string(f->p, yaml, strlen(yaml), "t.yml", &err) != 0) {
        for (size_t i = 0; i < mp_pipeline_problem_count(f->p); i++)
            print_error("%u: %s\n", mp_pipeline_problem(f->p, i)->line,
                        mp_pipeline_problem(f->p, i)->message);
        fail_msg("load: %s", err.message);
    }
}

/* Validate, plan, run; returns mp__engine_run's code. */
static int run_rc(fx *f, mp_error *err)
{
    mp_error e = {0};
    if (mp_pipeline_validate(f->p, &e) != 0) {
        for (size_t i = 0; i < mp_pipeline_problem_count(f->p); i++)
            print_error("%u: %s\n", mp_pipeline_problem(f->p, i)->line,
                        mp_pipeline_problem(f->p, i)->message);
        fail_msg("validate: %s", e.message);
    }
    mp_filters none = {0};
    assert_int_equal(mp__plan_build(f->p, &none, &f->plan, &e), 0);
    f->have_plan = 1;
    int64_t t0 = mp__clock_now_ms();
    int rc = mp__engine_run(f->p, &f->plan, &f->o, &f->run, err);
    f->wall_ms = mp__clock_now_ms() - t0;
    if (rc == 0) f->have_run = 1;
    return rc;
}

static void run_yaml(fx *f, const char *yaml)
{
    load(f, yaml);
    mp_error err = {0};
    int rc = run_rc(f, &err);
    if (rc != 0) fail_msg("engine: %s", err.message);
    assert_int_equal(f->r.run_started, 1);
    assert_int_equal(f->r.run_finished, 1);
    assert_int_equal(f->r.verdict, f->run.verdict);
    /* Every module of the run was reported finished exactly once. */
    for (size_t i = 0; i < f->p->modules.n; i++) {
        assert_true(f->r.finished[i] == 1);
        assert_int_equal(f->r.status[i], f->run.results[i].status);
    }
}

static size_t idx(fx *f, const char *name)
{
    mp_module *m = mp_pipeline_find(f->p, name);
    if (!m) fail_msg("no module %s", name);
    return m->index;
}

static const mp_result *R(fx *f, const char *name)
{
    return &f->run.results[idx(f, name)];
}

static const char *OUT(fx *f, const char *name)
{
    size_t i = idx(f, name);
    return f->r.out[i] ? f->r.out[i] : "";
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return NULL;
    size_t cap = 1 << 20, len = 0;
    char *s = malloc(cap + 1);
    len = fread(s, 1, cap, fp);
    s[len] = '\0';
    fclose(fp);
    return s;
}

static void write_file(fx *f, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int read_pid(fx *f, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    char *s = slurp(path);
    if (!s) fail_msg("no pid file %s", name);
    int pid = atoi(s); /* test code: a pid we wrote ourselves */
    free(s);
    assert_true(pid > 0);
    return pid;
}

/* A live process (not gone, not a zombie)? */
static int alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* ------------------------------------------------------------ basic runs */

static void test_success(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  hello:\n"
                "    run: \"echo hello; echo to-stderr >&2\"\n"
                "  m:\n"
                "    matrix: {os: [linux]}\n"
                "    run: [printf, \"%s-%s\\n\", \"${{ matrix.os }}\", \"${{ run.id }}\"]\n");
    const mp_result *r = R(f, "hello");
    assert_int_equal(r->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(r->attempts, 1);
    assert_int_equal(r->exit_code, 0);
    assert_int_equal(r->instance, 0);
    assert_true(r->started_at > 0 && r->ended_at >= r->started_at);
    assert_true(r->duration_ms >= 0);
    assert_null(r->error_message);
    assert_null(r->log_tail);
    assert_string_equal(OUT(f, "hello"), "hello\nto-stderr\n");
    char *log = slurp(r->log_path);
    assert_non_null(log);
    assert_string_equal(log, "hello\nto-stderr\n");
    free(log);
    char want[256];
    snprintf(want, sizeof(want), "%s/logs/hello.log", f->state);
    assert_string_equal(r->log_path, want);

    const mp_result *m = R(f, "m[os=linux]");
    assert_int_equal(m->status, MP_STATUS_SUCCEEDED);
    assert_string_equal(OUT(f, "m[os=linux]"), "linux-test-run\n");
    snprintf(want, sizeof(want), "%s/logs/m_os=linux_.log", f->state);
    assert_string_equal(m->log_path, want);
    assert_int_equal(f->run.verdict, MP_STATUS_SUCCEEDED);
    assert_int_equal(f->run.interrupted_by, 0);
    assert_true(f->run.started_at > 0 && f->run.ended_at >= f->run.started_at);
    assert_true(f->run.peak_concurrency >= 1);
}

static void test_failure(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  bad:\n"
                "    run: \"for i in $(seq 1 30); do echo line $i; done; exit 3\"\n");
    const mp_result *r = R(f, "bad");
    assert_int_equal(r->status, MP_STATUS_FAILED);
    assert_int_equal(r->exit_code, 3);
    assert_int_equal(r->attempts, 1);
    assert_string_equal(r->error_message, "module \"bad\" failed: exit code 3");
    /* The last 20 lines. */
    assert_non_null(r->log_tail);
    assert_true(strncmp(r->log_tail, "line 11\n", 8) == 0);
    assert_non_null(strstr(r->log_tail, "line 30"));
    assert_null(strstr(r->log_tail, "line 10\n"));
    assert_int_equal(f->run.verdict, MP_STATUS_FAILED);
}

static void test_command_not_found(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  shell:\n"
                "    run: \"no-such-command-xyz --flag\"\n"
                "  argv:\n"
                "    run: [no-such-command-abc, x]\n"
                "  nodir:\n"
                "    working_dir: missing/dir\n"
                "    run: \"true\"\n");
    const mp_result *s = R(f, "shell");
    assert_int_equal(s->status, MP_STATUS_FAILED);
    assert_int_equal(s->exit_code, 127);
    assert_non_null(strstr(s->error_message, "module \"shell\""));
    assert_non_null(strstr(s->error_message, "command not found"));
    assert_non_null(strstr(s->error_message, "no-such-command-xyz --flag"));
    const mp_result *a = R(f, "argv");
    assert_int_equal(a->status, MP_STATUS_FAILED);
    assert_string_equal(a->error_message,
                        "module \"argv\": command not found: no-such-command-abc");
    assert_int_equal(a->attempts, 1);
    const mp_result *d = R(f, "nodir");
    assert_int_equal(d->status, MP_STATUS_FAILED);
    assert_non_null(strstr(d->error_message, "module \"nodir\""));
    assert_non_null(strstr(d->error_message, "missing/dir"));
    /* The reason is in the log too. */
    char *log = slurp(d->log_path);
    assert_non_null(strstr(log, "missing/dir"));
    free(log);
}

static void test_working_dir_and_env(void **state)
{
    fx *f = *state;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/sub", f->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    run_yaml(f, "version: 1\n"
                "env: {G: global}\n"
                "modules:\n"
                "  wd:\n"
                "    working_dir: sub\n"
                "    env: {L: local}\n"
                "    run: \"pwd; echo $G $L $MODPIPE_MODULE $MODPIPE_RUN_ID "
                "$MODPIPE_INSTANCE_INDEX $MODPIPE_ATTEMPT; echo $MODPIPE_WORKSPACE; "
                "case $MODPIPE_OUTPUT in */outputs/*) echo out-ok;; esac\"\n");
    char want[512];
    snprintf(want, sizeof(want), "%s\nglobal local wd test-run 0 1\n%s\nout-ok\n", sub, f->dir);
    assert_string_equal(OUT(f, "wd"), want);
}

/* --------------------------------------------------------------- timeouts */

static void test_timeout_kills_group(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  slow:\n"
                "    timeout: 300ms\n"
                "    run: \"sleep 1000 & echo $! > bg.pid; echo started; sleep 1000\"\n");
    const mp_result *r = R(f, "slow");
    assert_int_equal(r->status, MP_STATUS_TIMED_OUT);
    assert_int_equal(r->exit_code, -1);
    assert_int_equal(r->term_signal, SIGTERM);
    assert_string_equal(r->error_message, "module \"slow\" timed out after 300 ms");
    assert_true(f->wall_ms >= 300);
    assert_true(f->wall_ms < 3000);
    assert_false(alive(read_pid(f, "bg.pid")));
    assert_non_null(strstr(r->log_tail, "started"));
    assert_non_null(strstr(r->log_tail, "modpipe: attempt 1 timed out after 300 ms"));
}

static void test_timeout_term_ignored(void **state)
{
    fx *f = *state;
    f->o.kill_grace_ms = 500;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  stubborn:\n"
                "    timeout: 200ms\n"
                "    run: \"sh -c 'trap \\\"\\\" TERM; echo $$ > trap.pid; "
                "while :; do sleep 0.05; done' & sleep 1000\"\n");
    const mp_result *r = R(f, "stubborn");
    assert_int_equal(r->status, MP_STATUS_TIMED_OUT);
    /* SIGTERM did not end the child: SIGKILL after the grace period. */
    assert_true(f->wall_ms >= 200 + 500);
    assert_true(f->wall_ms < 4000);
    assert_false(alive(read_pid(f, "trap.pid")));
}

static void test_no_orphans(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  bg:\n"
                "    run: \"sleep 1000 & echo $! > bg.pid; echo done\"\n"
                "  escaped:\n"
                "    run: \"setsid sleep 1000 > /dev/null 2>&1 & echo $! > esc.pid\"\n");
    assert_int_equal(R(f, "bg")->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(R(f, "escaped")->status, MP_STATUS_SUCCEEDED);
    assert_true(f->wall_ms < 3000); /* nobody waited for the sleeps */
    assert_false(alive(read_pid(f, "bg.pid")));
    assert_false(alive(read_pid(f, "esc.pid"))); /* kill_orphans after the run */
}

/* ---------------------------------------------------------------- retries */

static void test_retry_then_succeed(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  flaky:\n"
                "    retries: {count: 4, delay: 20ms}\n"
                "    run: \"n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; "
                "echo attempt $MODPIPE_ATTEMPT; [ $n -ge 3 ]\"\n");
    const mp_result *r = R(f, "flaky");
    assert_int_equal(r->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(r->attempts, 3);
    assert_int_equal(f->r.starts[idx(f, "flaky")], 3);
    assert_int_equal(r->exit_code, 0);
    char *log = slurp(r->log_path);
    assert_non_null(log);
    assert_true(strncmp(log, "attempt 1\nmodpipe: attempt 1 of 5 failed; retrying in ", 54) == 0);
    assert_non_null(strstr(log, "\n--- attempt 2 ---\nattempt 2\n"));
    assert_non_null(strstr(log, "\n--- attempt 3 ---\nattempt 3\n"));
    free(log);
}

static void test_retry_exhausted(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  never:\n"
                "    retries: {count: 2, delay: 100ms}\n"
                "    run: \"echo try $MODPIPE_ATTEMPT; exit 7\"\n");
    const mp_result *r = R(f, "never");
    assert_int_equal(r->status, MP_STATUS_FAILED);
    assert_int_equal(r->attempts, 3);
    assert_int_equal(r->exit_code, 7);
    assert_string_equal(r->error_message, "module \"never\" failed: exit code 7 (attempt 3 of 3)");
    /* Delays 100 ms and 200 ms, each +-20%. */
    assert_true(f->wall_ms >= 240);
    assert_true(f->wall_ms < 3000);
    /* The tail is of the last attempt. */
    assert_string_equal(r->log_tail, "try 3");
}

static void test_timeout_retried(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "options: {timeout: 200ms, retries: 1}\n"
                "modules:\n"
                "  t:\n"
                "    retries: {count: 1, delay: 10ms}\n"
                "    run: \"if [ $MODPIPE_ATTEMPT = 1 ]; then sleep 1000; fi; echo ok\"\n");
    const mp_result *r = R(f, "t");
    assert_int_equal(r->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(r->attempts, 2);
}

/* ------------------------------------------------------------- conditions */

static void test_conditions(void **state)
{
    fx *f = *state;
    setenv("MP_T_SET", "yes", 1);
    unsetenv("MP_T_UNSET");
    write_file(f, "marker.txt", "x");
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  s_env: {skip_if: {env: MP_T_SET}, run: \"true\"}\n"
                "  s_env_eq: {skip_if: {env: MP_T_SET, equals: \"no\"}, run: \"true\"}\n"
                "  s_os: {skip_if: {os: linux}, run: \"true\"}\n"
                "  s_file: {skip_if: {file: marker.txt}, run: \"true\"}\n"
                "  s_cmd: {skip_if: {command: \"exit 0\"}, run: \"true\"}\n"
                "  s_none: {skip_if: [{env: MP_T_UNSET}, {command: \"exit 1\"}], run: \"true\"}\n"
                "  r_env: {run_if: {env: MP_T_UNSET}, run: \"true\"}\n"
                "  r_all:\n"
                "    run_if: [{env: MP_T_SET, equals: \"yes\"}, {os: linux}, {file: marker.txt},\n"
                "             {command: \"test -f marker.txt\"}]\n"
                "    run: \"echo ran\"\n"
                "  r_cmd: {run_if: {command: \"exit 2\"}, run: \"true\"}\n"
                "  r_os: {run_if: {os: windows}, run: \"true\"}\n"
                "  r_file: {run_if: {file: nope.txt}, run: \"true\"}\n"
                "  after_skip: {depends_on: [s_env], run: \"true\"}\n");
    struct {
        const char *name;
        mp_status st;
        const char *reason;
    } want[] = {
        {"s_env", MP_STATUS_SKIPPED, "skip_if env \"MP_T_SET\" is set"},
        {"s_env_eq", MP_STATUS_SUCCEEDED, NULL},
        {"s_os", MP_STATUS_SKIPPED, "skip_if os is \"linux\""},
        {"s_file", MP_STATUS_SKIPPED, "skip_if file \"marker.txt\" exists"},
        {"s_cmd", MP_STATUS_SKIPPED, "skip_if command \"exit 0\" succeeded"},
        {"s_none", MP_STATUS_SUCCEEDED, NULL},
        {"r_env", MP_STATUS_SKIPPED, "run_if env \"MP_T_UNSET\" is not set"},
        {"r_all", MP_STATUS_SUCCEEDED, NULL},
        {"r_cmd", MP_STATUS_SKIPPED, "run_if command \"exit 2\" failed (exit code 2)"},
        {"r_os", MP_STATUS_SKIPPED, "run_if os is not \"windows\" (this is linux)"},
        {"r_file", MP_STATUS_SKIPPED, "run_if file \"nope.txt\" does not exist"},
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        const mp_result *r = R(f, want[k].name);
        if (r->status != want[k].st) fail_msg("%s: %s", want[k].name, mp__status_name(r->status));
        if (want[k].reason) {
            assert_string_equal(r->skip_reason, want[k].reason);
            assert_int_equal(r->attempts, 0);
            assert_null(r->log_path);
            assert_int_equal(f->r.starts[idx(f, want[k].name)], 0);
        }
    }
    assert_string_equal(OUT(f, "r_all"), "ran\n");
    assert_int_equal(R(f, "after_skip")->status, MP_STATUS_SKIPPED);
    assert_int_equal(f->run.verdict, MP_STATUS_SUCCEEDED);
    unsetenv("MP_T_SET");
}

/* ------------------------------------------------------ failure semantics */

static void test_ignore_failure(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "options: {on_failure: stop}\n"
                "modules:\n"
                "  meh: {ignore_failure: true, run: \"echo sad; exit 2\"}\n"
                "  next: {depends_on: [meh], run: \"echo status=${{ modules.meh.status }}\"}\n");
    const mp_result *r = R(f, "meh");
    assert_int_equal(r->status, MP_STATUS_IGNORED_FAILURE);
    assert_string_equal(r->error_message, "module \"meh\" failed: exit code 2");
    assert_string_equal(r->log_tail, "sad");
    assert_int_equal(R(f, "next")->status, MP_STATUS_SUCCEEDED);
    assert_string_equal(OUT(f, "next"), "status=ignored_failure\n");
    assert_int_equal(f->run.verdict, MP_STATUS_SUCCEEDED);
}

static const char stop_pipeline[] = "version: 1\n"
                                    "modules:\n"
                                    "  fail: {run: \"sleep 0.2; exit 1\"}\n"
                                    "  long: {run: \"sleep 6; echo long-done\"}\n"
                                    "  later: {depends_on: [long], run: \"echo later\"}\n"
                                    "  down: {depends_on: [fail], run: \"true\"}\n"
                                    "  down2: {depends_on: [down], run: \"true\"}\n"
                                    "  clean:\n"
                                    "    depends_on: [fail]\n"
                                    "    always_run: true\n"
                                    "    run: \"echo cleaning after ${{ modules.fail.status }}\"\n";

static void test_on_failure_stop(void **state)
{
    fx *f = *state;
    f->o.on_failure = MP_ON_FAILURE_STOP;
    f->o.parallelism = 2;
    run_yaml(f, stop_pipeline);
    assert_int_equal(R(f, "fail")->status, MP_STATUS_FAILED);
    const mp_result *l = R(f, "long");
    assert_int_equal(l->status, MP_STATUS_CANCELLED);
    assert_string_equal(l->skip_reason, "run stopped after \"fail\" failed");
    assert_int_equal(l->attempts, 1);
    assert_int_equal(R(f, "later")->status, MP_STATUS_CANCELLED);
    assert_int_equal(R(f, "down")->status, MP_STATUS_DEPENDENCY_FAILED);
    assert_int_equal(R(f, "down2")->status, MP_STATUS_DEPENDENCY_FAILED);
    assert_int_equal(R(f, "clean")->status, MP_STATUS_SUCCEEDED);
    assert_string_equal(OUT(f, "clean"), "cleaning after failed\n");
    assert_true(f->wall_ms < 4500); /* long (6 s) was not waited for */
    assert_int_equal(f->run.verdict, MP_STATUS_FAILED);
    assert_int_equal(f->run.interrupted_by, 0);
}

static void test_on_failure_continue(void **state)
{
    fx *f = *state;
    f->o.on_failure = MP_ON_FAILURE_CONTINUE;
    f->o.parallelism = 2;
    run_yaml(f, stop_pipeline);
    assert_int_equal(R(f, "fail")->status, MP_STATUS_FAILED);
    assert_int_equal(R(f, "long")->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(R(f, "later")->status, MP_STATUS_SUCCEEDED);
    const mp_result *d = R(f, "down");
    assert_int_equal(d->status, MP_STATUS_DEPENDENCY_FAILED);
    assert_non_null(strstr(d->skip_reason, "\"fail\""));
    const mp_result *d2 = R(f, "down2");
    assert_int_equal(d2->status, MP_STATUS_DEPENDENCY_FAILED);
    assert_non_null(strstr(d2->skip_reason, "\"down\""));
    assert_int_equal(R(f, "clean")->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(f->run.verdict, MP_STATUS_FAILED);
}

static void test_stop_cancels_retry_wait(void **state)
{
    fx *f = *state;
    f->o.on_failure = MP_ON_FAILURE_STOP;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  retrying: {retries: {count: 3, delay: 5s}, run: \"exit 4\"}\n"
                "  fail: {run: \"sleep 0.3; exit 1\"}\n");
    const mp_result *r = R(f, "retrying");
    /* Its attempt failed; the retry was called off by the stop. It may
     * also be the module that stopped the run. */
    assert_int_equal(r->status, MP_STATUS_FAILED);
    assert_int_equal(r->attempts, 1);
    assert_non_null(strstr(r->error_message, "no retry: run stopped after \"fail\" failed"));
    assert_true(f->wall_ms < 3000);
}

/* ------------------------------------------------------ outputs, secrets */

static void test_outputs_and_expressions(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  a:\n"
                "    run: |\n"
                "      echo version=1.2.3 >> \"$MODPIPE_OUTPUT\"\n"
                "      printf 'notes<<EOF\\nline1\\nline2\\nEOF\\n' >> \"$MODPIPE_OUTPUT\"\n"
                "      echo 'not an output' >> \"$MODPIPE_OUTPUT\"\n"
                "  b:\n"
                "    depends_on: [a]\n"
                "    env: {V: \"${{ modules.a.outputs.version }}\"}\n"
                "    run: \"echo v=${{ modules.a.outputs.version }} s=${{ modules.a.status }} "
                "dep=$MODPIPE_DEP_A_VERSION env=$V i=${{ instance.index }} r=${{ run.id }}; "
                "echo \\\"$MODPIPE_DEP_A_NOTES\\\"\"\n");
    const mp_result *a = R(f, "a");
    assert_int_equal(a->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(a->outputs.n, 2);
    assert_string_equal(a->outputs.v[0].key.s, "version");
    assert_string_equal(a->outputs.v[0].value.s, "1.2.3");
    assert_string_equal(a->outputs.v[1].key.s, "notes");
    assert_string_equal(a->outputs.v[1].value.s, "line1\nline2");
    /* The malformed line is reported, not fatal. */
    assert_non_null(a->error_message);
    assert_non_null(strstr(a->error_message, "$MODPIPE_OUTPUT line 6"));
    char *log = slurp(a->log_path);
    assert_non_null(strstr(log, "modpipe: $MODPIPE_OUTPUT line 6"));
    free(log);
    assert_string_equal(OUT(f, "b"),
                        "v=1.2.3 s=succeeded dep=1.2.3 env=1.2.3 i=0 r=test-run\nline1\nline2\n");
}

static void test_secrets_masked(void **state)
{
    fx *f = *state;
    setenv("MP_T_TOKEN", "hunter2-secret-value", 1);
    unsetenv("MP_T_MISSING");
    run_yaml(f, "version: 1\n"
                "secrets: [MP_T_TOKEN, MP_T_MISSING]\n"
                "modules:\n"
                "  leak:\n"
                "    secrets: [MP_T_TOKEN]\n"
                "    run: \"echo token=$MP_TEST_X$MP_T_TOKEN; echo out=$MP_T_TOKEN >> "
                "$MODPIPE_OUTPUT; printf %s $MP_T_TOKEN | base64; exit 1\"\n"
                "  other:\n"
                "    run: \"echo [${MP_T_TOKEN:-unset}]\"\n"
                "  needs:\n"
                "    secrets: [MP_T_MISSING]\n"
                "    run: \"true\"\n");
    const mp_result *r = R(f, "leak");
    assert_int_equal(r->status, MP_STATUS_FAILED);
    char *log = slurp(r->log_path);
    assert_null(strstr(log, "hunter2"));
    assert_non_null(strstr(log, "token=***"));
    assert_null(strstr(log, "aHVudGVyMi1zZWNyZXQtdmFsdWU=")); /* its base64 */
    free(log);
    assert_null(strstr(OUT(f, "leak"), "hunter2"));
    assert_non_null(strstr(OUT(f, "leak"), "token=***"));
    assert_null(strstr(r->log_tail, "hunter2"));
    assert_string_equal(r->outputs.v[0].value.s, "***");
    assert_string_equal(OUT(f, "other"), "[unset]\n"); /* not declared: withheld */
    const mp_result *n = R(f, "needs");
    assert_int_equal(n->status, MP_STATUS_FAILED);
    assert_string_equal(
        n->error_message,
        "secret \"MP_T_MISSING\" of module \"needs\" is not set in the environment");
    unsetenv("MP_T_TOKEN");
}

static void test_requirements_unmet(void **state)
{
    fx *f = *state;
    unsetenv("MP_T_REQ");
    load(f, "version: 1\n"
            "requirements: [{env: MP_T_REQ}, {file: .}]\n"
            "modules:\n"
            "  a: {run: \"touch ran\"}\n");
    mp_error err = {0};
    assert_int_equal(run_rc(f, &err), MP_EINVALID);
    assert_string_equal(err.message, "requirement not met: env \"MP_T_REQ\" is not set");
    assert_int_equal(f->r.run_started, 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/ran", f->dir);
    assert_int_equal(access(path, F_OK), -1);
}

/* ------------------------------------------------------------ stop_fd */

static void test_stop_fd(void **state)
{
    fx *f = *state;
    f->r.trigger = "slow";
    f->r.nstop = 1;
    f->r.signo = SIGINT;
    f->o.parallelism = 4;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  slow: {run: \"sleep 30\"}\n"
                "  checking: {run_if: {command: \"sleep 30\"}, run: \"true\"}\n"
                "  stubborn: {run: \"trap '' TERM; sleep 30\"}\n"
                "  waiting: {depends_on: [slow], run: \"true\"}\n"
                "  cleanup: {depends_on: [slow], always_run: true, run: \"echo cleaned\"}\n");
    assert_int_equal(f->run.interrupted_by, SIGINT);
    const mp_result *s = R(f, "slow");
    assert_int_equal(s->status, MP_STATUS_CANCELLED);
    assert_string_equal(s->skip_reason, "run interrupted by SIGINT");
    assert_int_equal(R(f, "stubborn")->status, MP_STATUS_CANCELLED);
    const mp_result *c = R(f, "checking"); /* stopped while its condition ran */
    assert_int_equal(c->status, MP_STATUS_CANCELLED);
    assert_int_equal(c->attempts, 0);
    assert_int_equal(R(f, "waiting")->status, MP_STATUS_CANCELLED);
    assert_int_equal(R(f, "cleanup")->status, MP_STATUS_SUCCEEDED);
    assert_string_equal(OUT(f, "cleanup"), "cleaned\n");
    assert_true(f->wall_ms < 5000);
    assert_int_equal(f->run.verdict, MP_STATUS_FAILED);
}

static void test_second_signal_stops_always_run(void **state)
{
    fx *f = *state;
    f->r.trigger = "ar";
    f->r.nstop = 2;
    f->r.signo = SIGTERM;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  ar: {always_run: true, run: \"sleep 30\"}\n"
                "  after-ar: {always_run: true, depends_on: [ar], run: \"echo ran\"}\n");
    assert_int_equal(f->run.interrupted_by, SIGTERM);
    assert_int_equal(R(f, "ar")->status, MP_STATUS_CANCELLED);
    /* Waiting always_run modules never start after the second request. */
    assert_int_equal(R(f, "after-ar")->status, MP_STATUS_CANCELLED);
    assert_int_equal(R(f, "after-ar")->attempts, 0);
    assert_true(f->wall_ms < 5000);
}

static void test_signal_after_failure_stop(void **state)
{
    fx *f = *state;
    f->o.on_failure = MP_ON_FAILURE_STOP;
    f->r.trigger = "clean";
    f->r.nstop = 1;
    f->r.signo = SIGINT;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  fail: {run: \"exit 1\"}\n"
                "  clean: {depends_on: [fail], always_run: true, run: \"sleep 30\"}\n");
    assert_int_equal(R(f, "fail")->status, MP_STATUS_FAILED);
    const mp_result *c = R(f, "clean");
    assert_int_equal(c->status, MP_STATUS_CANCELLED);
    assert_string_equal(c->skip_reason, "run stopped after \"fail\" failed");
    assert_int_equal(f->run.interrupted_by, SIGINT);
    assert_true(f->wall_ms < 5000);
}

/* -------------------------------------------------------- C functions */

static int fn_answer(mp_ctx *ctx, void *data)
{
    (void)data;
    assert_string_equal(mp_ctx_module(ctx), "answer");
    assert_int_equal(mp_ctx_attempt(ctx), 1);
    mp_ctx_set_output(ctx, "value", "42");
    return 0;
}

static int fn_fail(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    return 5;
}

static atomic_int saw_cancel;

static int fn_slow(mp_ctx *ctx, void *data)
{
    (void)data;
    while (!mp_ctx_cancelled(ctx)) {
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&saw_cancel, 1);
    return 0;
}

static atomic_int flaky_calls;

static int fn_flaky(mp_ctx *ctx, void *data)
{
    (void)data;
    atomic_fetch_add(&flaky_calls, 1);
    return mp_ctx_attempt(ctx) < 2 ? 1 : 0;
}

static void test_function_modules(void **state)
{
    fx *f = *state;
    mp_error err = {0};
    atomic_store(&saw_cancel, 0);
    atomic_store(&flaky_calls, 0);
    mp_module *m = mp_pipeline_add_module(f->p, "answer", NULL, &err);
    mp_module_set_function(m, fn_answer, NULL);
    m = mp_pipeline_add_module(f->p, "broken", NULL, &err);
    mp_module_set_function(m, fn_fail, NULL);
    m = mp_pipeline_add_module(f->p, "spin", NULL, &err);
    mp_module_set_function(m, fn_slow, NULL);
    mp_module_set_timeout_ms(m, 200);
    m = mp_pipeline_add_module(f->p, "flaky", NULL, &err);
    mp_module_set_function(m, fn_flaky, NULL);
    mp_module_set_retries(m, 2, 10);
    run_yaml(
        f, "version: 1\n"
           "modules:\n"
           "  use:\n"
           "    depends_on: [answer]\n"
           "    run: \"echo got ${{ modules.answer.outputs.value }} $MODPIPE_DEP_ANSWER_VALUE\"\n");
    const mp_result *a = R(f, "answer");
    assert_int_equal(a->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(a->outputs.n, 1);
    assert_string_equal(a->outputs.v[0].value.s, "42");
    assert_string_equal(OUT(f, "use"), "got 42 42\n");
    const mp_result *b = R(f, "broken");
    assert_int_equal(b->status, MP_STATUS_FAILED);
    assert_int_equal(b->exit_code, 5);
    assert_string_equal(b->error_message, "module \"broken\" failed: function returned 5");
    const mp_result *s = R(f, "spin");
    assert_int_equal(s->status, MP_STATUS_TIMED_OUT);
    assert_int_equal(atomic_load(&saw_cancel), 1);
    assert_true(s->duration_ms >= 200);
    char *log = slurp(s->log_path);
    assert_non_null(strstr(log, "timed out after 200 ms"));
    free(log);
    const mp_result *fl = R(f, "flaky");
    assert_int_equal(fl->status, MP_STATUS_SUCCEEDED);
    assert_int_equal(fl->attempts, 2);
    assert_int_equal(atomic_load(&flaky_calls), 2);
}

static void test_function_cancelled_by_stop(void **state)
{
    fx *f = *state;
    mp_error err = {0};
    atomic_store(&saw_cancel, 0);
    f->o.on_failure = MP_ON_FAILURE_STOP;
    mp_module *m = mp_pipeline_add_module(f->p, "spin", NULL, &err);
    mp_module_set_function(m, fn_slow, NULL);
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  fail: {run: \"sleep 0.1; exit 1\"}\n");
    assert_int_equal(R(f, "spin")->status, MP_STATUS_CANCELLED);
    assert_int_equal(atomic_load(&saw_cancel), 1);
}

/* ------------------------------------------------- parallelism, volume */

static void test_parallelism(void **state)
{
    fx *f = *state;
    f->o.parallelism = 2;
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  p1: {run: \"sleep 0.3\"}\n"
                "  p2: {run: \"sleep 0.3\"}\n"
                "  p3: {run: \"sleep 0.3\"}\n"
                "  p4: {run: \"sleep 0.3\"}\n"
                "  p5: {run: \"sleep 0.3\"}\n");
    assert_int_equal(f->r.max_running, 2);
    assert_int_equal(f->run.peak_concurrency, 2);
    assert_true(f->wall_ms >= 900);
    /* At any start, at most one other module is between start and end. */
    const char *names[] = {"p1", "p2", "p3", "p4", "p5"};
    for (int a = 0; a < 5; a++) {
        int overlapping = 0;
        size_t ia = idx(f, names[a]);
        for (int b = 0; b < 5; b++) {
            size_t ib = idx(f, names[b]);
            if (a != b && f->r.t_start[ib] <= f->r.t_start[ia] && f->r.t_end[ib] > f->r.t_start[ia])
                overlapping++;
        }
        assert_true(overlapping <= 1);
    }
    assert_true(f->r.ticks >= 3); /* ~100 ms ticks while modules ran */
}

static long vm_kb(const char *field)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (fp && fgets(line, sizeof(line), fp))
        if (strncmp(line, field, n) == 0) v = strtol(line + n + 1, NULL, 10);
    if (fp) fclose(fp);
    return v;
}

static void test_big_output_bounded_memory(void **state)
{
    fx *f = *state;
    /* Reset the peak RSS so VmHWM measures this test. */
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        (void)!write(fd, "5", 1);
        close(fd);
    }
    setenv("MP_T_BIG", "xxxxxyyyy-not-in-the-output", 1); /* a masker with work to do */
    long before = vm_kb("VmRSS:");
    run_yaml(f, "version: 1\n"
                "secrets: [MP_T_BIG]\n"
                "modules:\n"
                "  big: {run: \"head -c 50000000 /dev/zero | tr '\\\\0' x; exit 1\"}\n");
    long peak = vm_kb("VmHWM:");
    const mp_result *r = R(f, "big");
    assert_int_equal(r->status, MP_STATUS_FAILED);
    assert_int_equal(f->r.out_bytes[idx(f, "big")], 50000000);
    struct stat st;
    assert_int_equal(stat(r->log_path, &st), 0);
    assert_int_equal(st.st_size, 50000000 + strlen(""));
    /* One endless line: the tail is bounded. */
    assert_true(strlen(r->log_tail) <= 16384);
    unsetenv("MP_T_BIG");
    if (getenv("MP_TEST_VERBOSE"))
        print_message("rss before %ld kB, peak %ld kB, run %lld ms\n", before, peak,
                      (long long)f->wall_ms);
    if (before > 0 && peak > 0) {
        if (peak - before > 24 * 1024) fail_msg("rss grew by %ld kB", peak - before);
    }
}

static void test_logs_truncated_per_run(void **state)
{
    fx *f = *state;
    run_yaml(f, "version: 1\nmodules:\n  a: {run: \"echo first\"}\n");
    char *path = strdup(R(f, "a")->log_path);
    mp__run_release(&f->run);
    f->have_run = 0;
    mp_engine_opts o = f->o;
    o.nsinks = 0;
    mp_run run2;
    mp_error err = {0};
    assert_int_equal(mp__engine_run(f->p, &f->plan, &o, &run2, &err), 0);
    char *log = slurp(path);
    assert_string_equal(log, "first\n");
    free(log);
    free(path);
    mp__run_release(&run2);
}

/* A log file exists only for a module that wrote something; a stale one
 * (and a stale $MODPIPE_OUTPUT file) from an earlier run is removed, and
 * $MODPIPE_OUTPUT does not exist before the module writes it. */
static void test_files_only_when_written(void **state)
{
    fx *f = *state;
    char path[512], outp[512];
    snprintf(path, sizeof(path), "%s/logs", f->state);
    assert_int_equal(mkdir(f->state, 0755), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/outputs", f->state);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/logs/quiet.log", f->state);
    FILE *fp = fopen(path, "w");
    fputs("stale\n", fp);
    fclose(fp);
    snprintf(outp, sizeof(outp), "%s/outputs/quiet.1", f->state);
    fp = fopen(outp, "w");
    fputs("old=1\n", fp);
    fclose(fp);
    run_yaml(f, "version: 1\n"
                "modules:\n"
                "  quiet: {run: \"[ ! -e \\\"$MODPIPE_OUTPUT\\\" ]\"}\n"
                "  loud: {run: \"echo hi; echo k=v >> \\\"$MODPIPE_OUTPUT\\\"\"}\n"
                "  empty_retry: {run: \"exit 1\", retries: {count: 1, delay: 10ms}}\n");
    const mp_result *q = R(f, "quiet");
    assert_int_equal(q->status, MP_STATUS_SUCCEEDED);
    assert_null(q->log_path);
    assert_int_equal(q->outputs.n, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(stat(outp, &st), -1);
    const mp_result *l = R(f, "loud");
    assert_int_equal(l->status, MP_STATUS_SUCCEEDED);
    assert_non_null(l->log_path);
    char *log = slurp(l->log_path);
    assert_string_equal(log, "hi\n");
    free(log);
    assert_int_equal(l->outputs.n, 1);
    assert_string_equal(l->outputs.v[0].value.s, "v");
    /* modpipe's own notes count as writing: the retried module has a log. */
    const mp_result *r = R(f, "empty_retry");
    assert_int_equal(r->status, MP_STATUS_FAILED);
    assert_non_null(r->log_path);
    log = slurp(r->log_path);
    assert_non_null(strstr(log, "attempt 1 of 2 failed; retrying"));
    assert_non_null(strstr(log, "--- attempt 2 ---"));
    free(log);
}

/* C-function modules share at most `parallelism` worker threads. */
#define POOL_MODS 40
static pthread_t pool_seen[POOL_MODS];
static atomic_int pool_n, pool_running, pool_max;

static int fn_pooled(mp_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    int now = atomic_fetch_add(&pool_running, 1) + 1;
    int m = atomic_load(&pool_max);
    while (now > m && !atomic_compare_exchange_weak(&pool_max, &m, now))
        ;
    int k = atomic_fetch_add(&pool_n, 1);
    if (k < POOL_MODS) pool_seen[k] = pthread_self();
    struct timespec ts = {0, 2 * 1000000};
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&pool_running, 1);
    return 0;
}

static void test_function_pool(void **state)
{
    fx *f = *state;
    f->o.parallelism = 3;
    atomic_store(&pool_n, 0);
    atomic_store(&pool_running, 0);
    atomic_store(&pool_max, 0);
    mp_error err = {0};
    for (int i = 0; i < POOL_MODS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", i);
        mp_module *m = mp_pipeline_add_module(f->p, name, NULL, &err);
        assert_non_null(m);
        mp_module_set_function(m, fn_pooled, NULL);
        if (i > 0 && i % 2 == 0) {
            snprintf(name, sizeof(name), "f%d", i - 1);
            mp_module_depends_on(m, name);
        }
    }
    run_yaml(f, "version: 1\nmodules:\n  sh: {run: \"true\"}\n");
    assert_int_equal(atomic_load(&pool_n), POOL_MODS);
    assert_true(atomic_load(&pool_max) <= 3);
    size_t distinct = 0;
    for (int i = 0; i < POOL_MODS; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++)
            if (pthread_equal(pool_seen[i], pool_seen[j])) seen = 1;
        distinct += !seen;
    }
    assert_true(distinct >= 1 && distinct <= 3);
    for (int i = 0; i < POOL_MODS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", i);
        assert_int_equal(R(f, name)->status, MP_STATUS_SUCCEEDED);
        assert_null(R(f, name)->log_path);
    }
}

static void test_log_names(void **state)
{
    fx *f = *state;
    load(f, "version: 1\n"
            "modules:\n"
            "  m:\n"
            "    matrix: {k: [\"x/y\", \"x_y\", \"a:b\"]}\n"
            "    run: \"true\"\n"
            "  plain.name-1: {run: \"true\"}\n");
    mp_error err = {0};
    assert_int_equal(mp_pipeline_validate(f->p, &err), 0);
    mp_arena *a = mp__arena_new();
    const char **names = mp__log_names(f->p, a);
    /* Sorted by name: m[k=a:b], m[k=x/y], m[k=x_y], plain.name-1. */
    assert_string_equal(names[idx(f, "m[k=a:b]")], "m_k=a_b_");
    assert_string_equal(names[idx(f, "m[k=x/y]")], "m_k=x_y_");
    char want[32];
    snprintf(want, sizeof(want), "m_k=x_y_~%zu", idx(f, "m[k=x_y]"));
    assert_string_equal(names[idx(f, "m[k=x_y]")], want);
    assert_string_equal(names[idx(f, "plain.name-1")], "plain.name-1");
    mp__arena_free(a);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_big_output_bounded_memory),
        T(test_success),
        T(test_failure),
        T(test_command_not_found),
        T(test_working_dir_and_env),
        T(test_timeout_kills_group),
        T(test_timeout_term_ignored),
        T(test_no_orphans),
        T(test_retry_then_succeed),
        T(test_retry_exhausted),
        T(test_timeout_retried),
        T(test_conditions),
        T(test_ignore_failure),
        T(test_on_failure_stop),
        T(test_on_failure_continue),
        T(test_stop_cancels_retry_wait),
        T(test_outputs_and_expressions),
        T(test_secrets_masked),
        T(test_requirements_unmet),
        T(test_stop_fd),
        T(test_second_signal_stops_always_run),
        T(test_signal_after_failure_stop),
        T(test_function_modules),
        T(test_function_cancelled_by_stop),
        T(test_parallelism),
        T(test_logs_truncated_per_run),
        T(test_files_only_when_written),
        T(test_function_pool),
        T(test_log_names),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
