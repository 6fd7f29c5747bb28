/*
 * dist_fixture.h -- what the distributed cases share: a pipeline from
 * YAML in a temporary directory, a log collector, result checks, worker
 * threads and master options (static functions: each case file includes
 * it once).
 */
#ifndef MP_TEST_DIST_FIXTURE_H
#define MP_TEST_DIST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "coord/memory/memory.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/plan.h"
#include "dist/master.h"
#include "dist/proto.h"
#include "os/clock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define TIMING                                                                                     \
    "  distributed: {heartbeat: 100ms, worker_timeout: 2s, registration_timeout: 5s, "             \
    "max_attempts: 3}\n"

typedef struct fx {
    char dir[64];
    char state[160];
    mp_pipeline *p;
    mp_plan plan;
    pthread_mutex_t mu;
    char log[32768];
    int seq;
} fx;

static inline fx *fx_new(const char *yaml)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/mp-dist-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    pthread_mutex_init(&f->mu, NULL);
    f->p = mp_pipeline_new("dist");
    mp_error err = {0};
    if (mp_pipeline_load_string(f->p, yaml, strlen(yaml), "t.yml", &err) != 0 ||
        mp_pipeline_validate(f->p, &err) != 0) {
        for (size_t i = 0; i < mp_pipeline_problem_count(f->p); i++)
            print_error("%u: %s\n", mp_pipeline_problem(f->p, i)->line,
                        mp_pipeline_problem(f->p, i)->message);
        fail_msg("pipeline: %s", err.message);
    }
    mp_filters none = {0};
    assert_int_equal(mp__plan_build(f->p, &none, &f->plan, &err), 0);
    return f;
}

static inline void fx_free(fx *f)
{
    mp__plan_release(&f->plan);
    mp_pipeline_free(f->p);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static inline void log_line(void *data, const char *line)
{
    fx *f = data;
    pthread_mutex_lock(&f->mu);
    size_t n = strlen(f->log);
    snprintf(f->log + n, sizeof f->log - n, "%s\n", line);
    pthread_mutex_unlock(&f->mu);
    if (getenv("MODPIPE_TEST_VERBOSE")) fprintf(stderr, "dist: %s\n", line);
}

static inline int log_count(fx *f, const char *text)
{
    int n = 0;
    pthread_mutex_lock(&f->mu);
    for (const char *s = f->log; (s = strstr(s, text)) != NULL; s++)
        n++;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static inline const char *next_state(fx *f)
{
    snprintf(f->state, sizeof f->state, "%s/.state%d", f->dir, ++f->seq);
    return f->state;
}

static inline const mp_result *R(fx *f, const mp_run *run, const char *name)
{
    mp_module *m = mp_pipeline_find(f->p, name);
    if (!m) fail_msg("no module %s", name);
    return &run->results[m->index];
}

static inline void want(fx *f, const mp_run *run, const char *name, mp_status st)
{
    const mp_result *r = R(f, run, name);
    if (r->status != st)
        fail_msg("%s: %s, wanted %s (%s)", name, mp__status_name(r->status), mp__status_name(st),
                 r->error_message ? r->error_message
                 : r->skip_reason ? r->skip_reason
                                  : "");
}

static inline bool has(const char *s, const char *text)
{
    return s && strstr(s, text) != NULL;
}

/* Lines of a file (how often a module's command ran). */
static inline int lines_of(fx *f, const char *name)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    int n = 0, c;
    while ((c = fgetc(fp)) != EOF)
        n += c == '\n';
    fclose(fp);
    return n;
}

typedef struct wthread {
    mp_coord_worker *w;
    mp_dist_worker_opts o;
    char id[32], state[160];
    pthread_t t;
    mp_run run;
    int rc;
    int interrupted_by;
    int64_t ended_at;
    mp_error err;
} wthread;

/* A stop fd for tests: a pipe whose bytes are signal numbers. */
static inline int pipe_stop_read_fd(void *data, int *signo)
{
    unsigned char b;
    ssize_t n = read(*(int *)data, &b, 1);
    *signo = n == 1 ? b : 0;
    return 0;
}

static inline void *wthread_main(void *arg)
{
    wthread *x = arg;
    x->rc = mp__dist_worker_run(x->w, &x->o, &x->run, &x->err);
    x->ended_at = mp__clock_now_ms();
    if (x->rc == 0 || x->rc == MP_ELOST) {
        x->interrupted_by = x->run.interrupted_by;
        mp__run_release(&x->run);
    }
    return NULL;
}

/* Run a worker on handle w (opened; closed by the case) on a thread;
 * *stop_fd (when not NULL) is the read end of a pipe of signal numbers. */
static inline void wthread_run_stop(fx *f, wthread *x, mp_coord_worker *w, const mp_coord_open_opts *co,
                             int index, const char *id, const char *caps, int *stop_fd)
{
    x->w = w;
    snprintf(x->id, sizeof x->id, "%s", id);
    snprintf(x->state, sizeof x->state, "%s/.w%d-%d", f->dir, index, ++f->seq);
    const mp_distributed_options *d = &f->p->options.distributed;
    x->o = (mp_dist_worker_opts){.p = f->p,
                                 .plan = &f->plan,
                                 .engine = {.parallelism = 2,
                                            .workspace = f->dir,
                                            .state_dir = x->state,
                                            .run_id = co->run_id,
                                            .instance_index = index,
                                            .kill_grace_ms = 300,
                                            .stop_fd = -1,
                                            .keep_children = 1},
                                 .worker_id = x->id,
                                 .capabilities = caps,
                                 .version = "test",
                                 .heartbeat_ms = d->heartbeat_ms,
                                 .register_deadline = mp__deadline_in(5000),
                                 .log = log_line,
                                 .log_data = f,
                                 .stop_fd = stop_fd ? *stop_fd : -1,
                                 .stop_read = stop_fd ? pipe_stop_read_fd : NULL,
                                 .stop_data = stop_fd};
    assert_int_equal(pthread_create(&x->t, NULL, wthread_main, x), 0);
}

static inline void wthread_run(fx *f, wthread *x, mp_coord_worker *w, const mp_coord_open_opts *co,
                        int index, const char *id, const char *caps)
{
    wthread_run_stop(f, x, w, co, index, id, caps, NULL);
}

static inline mp_dist_master_opts master_opts(fx *f, const mp_coord_open_opts *co, int instances)
{
    mp_dist_master_opts mo = {.p = f->p,
                              .plan = &f->plan,
                              .instances = instances,
                              .on_failure = MP_ON_FAILURE_CONTINUE,
                              .version = "test",
                              .coord = *co,
                              .log = log_line,
                              .log_data = f,
                              .stop_fd = -1};
    mo.self = (mp_dist_worker_opts){.engine = {.parallelism = 2,
                                               .workspace = f->dir,
                                               .state_dir = next_state(f),
                                               .run_id = co->run_id,
                                               .kill_grace_ms = 300,
                                               .stop_fd = -1,
                                               .keep_children = 1},
                                    .worker_id = "w0",
                                    .stop_fd = -1};
    return mo;
}

static inline int64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
           (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

/* Register the case table and run one case (argv[1]) or all. */
static inline int dist_main(const char *group, const struct CMUnitTest *cases, size_t n, int argc,
                     char **argv)
{
    if (argc > 1) {
        char filter[128];
        snprintf(filter, sizeof filter, "test_%s", argv[1]);
        size_t i = 0;
        while (i < n && strcmp(cases[i].name, filter) != 0)
            i++;
        if (i == n) {
            fprintf(stderr, "no distributed case '%s'\n", argv[1]);
            return 2;
        }
        cmocka_set_test_filter(filter);
    }
    return _cmocka_run_group_tests(group, cases, n, NULL, NULL);
}

#define DIST_CASE(name) cmocka_unit_test(test_##name)

#endif
