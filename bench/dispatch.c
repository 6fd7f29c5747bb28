/*
 * dispatch.c -- what distribution over the Redis coordinator costs per
 * module: N no-op C-function modules run by 1 master (instance 0, which
 * executes too) + W workers, as threads of this process, each instance on
 * its own coordinator handles, the whole distributed stack (dist/master.h,
 * dist/worker.h: plan, enqueue, claim, lease, dependency results fetched,
 * local engine, fenced results, events) over one redis-server.
 *
 * usage: dispatch REDIS_URL [N=2000] [W=3] [SLOTS=4]
 *
 * Two workloads, each a fresh run id:
 *   chain  module i depends on module i-1: one module in flight at a time.
 *          The module body stamps CLOCK_MONOTONIC; the gap between two
 *          consecutive stamps is the whole round trip of one module
 *          (result -> master -> scheduler -> enqueue -> claim -> dependency
 *          fetch -> engine -> body): p50/p99/max of the N-1 gaps.
 *   wide   N independent modules: modules/s over the whole run (start,
 *          registrations and completion included).
 * For each, INFO commandstats before/after: commands per module the
 * clients issued (EVALSHA, BLMPOP, XREAD, HMGET, ...) and those redis
 * ran inside the scripts.
 */
#include "coord/coord.h"
#include "coord/memory/memory.h"
#include "core/engine.h"
#include "core/plan.h"
#include "dist/master.h"
#include "modpipe.h"
#include "os/clock.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t *stamps; /* ns, per module */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int stamp(mp_ctx *ctx, void *data)
{
    (void)ctx;
    stamps[(intptr_t)data] = now_ns();
    return 0;
}

static const char *yaml = "version: 1\n"
                          "name: dispatch\n"
                          "options:\n"
                          "  distributed: {heartbeat: 1s, worker_timeout: 15s, "
                          "registration_timeout: 30s, max_attempts: 3}\n";

static mp_pipeline *build(long n, int chain)
{
    mp_pipeline *p = mp_pipeline_new("dispatch");
    mp_error err = {0};
    if (mp_pipeline_load_string(p, yaml, strlen(yaml), "dispatch.yml", &err) != 0) {
        fprintf(stderr, "dispatch: %s\n", err.message);
        exit(1);
    }
    char name[32], dep[32];
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof name, "m%05ld", i);
        mp_module *m = mp_pipeline_add_module(p, name, NULL, &err);
        if (!m) {
            fprintf(stderr, "dispatch: %s\n", err.message);
            exit(1);
        }
        mp_module_set_function(m, stamp, (void *)(intptr_t)i);
        if (chain && i > 0) {
            snprintf(dep, sizeof dep, "m%05ld", i - 1);
            mp_module_depends_on(m, dep);
        }
    }
    if (mp_pipeline_validate(p, &err) != 0) {
        fprintf(stderr, "dispatch: validate: %s\n", err.message);
        exit(1);
    }
    return p;
}

/* ---------------------------------------------------------- commandstats */

typedef struct stats {
    char name[64][32];
    long long calls[64];
    int n;
} stats;

static int redis_port;
static char redis_host[64];

static void commandstats(stats *s)
{
    memset(s, 0, sizeof *s);
    if (!redis_port) return;
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout(redis_host, redis_port, tv);
    redisReply *r = c && !c->err ? redisCommand(c, "INFO commandstats") : NULL;
    for (const char *l = r && r->type == REDIS_REPLY_STRING ? r->str : ""; *l && s->n < 64;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
        char name[32];
        long long calls;
        if (sscanf(l, "cmdstat_%31[^:]:calls=%lld", name, &calls) == 2) {
            snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
            s->calls[s->n++] = calls;
        }
    }
    freeReplyObject(r);
    redisFree(c);
}

static long long calls_of(const stats *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->name[i], name)) return s->calls[i];
    return 0;
}

/* Commands the C side of the backend issues itself; every other name in
 * commandstats ran inside a script. */
static const char *const client_cmds[] = {"evalsha", "blmpop",  "xread",  "hmget",  "hexists",
                                          "config|get", "script|load", "ping",
                                          "select",  "auth",    NULL};

static void report_commands(const stats *a, const stats *b, long n, const char *what)
{
    long long client = 0, inside = 0;
    char detail[1024] = "";
    for (int i = 0; i < b->n; i++) {
        long long d = b->calls[i] - calls_of(a, b->name[i]);
        if (d <= 0 || !strcmp(b->name[i], "info")) continue;
        int top = 0;
        for (int k = 0; client_cmds[k]; k++)
            top |= !strcmp(client_cmds[k], b->name[i]);
        if (top) {
            client += d;
            size_t len = strlen(detail);
            snprintf(detail + len, sizeof detail - len, " %s=%.2f", b->name[i], (double)d / n);
        } else {
            inside += d;
        }
    }
    printf("%s: redis commands per module: %.2f from clients (%s ), %.2f inside scripts\n", what,
           (double)client / n, detail, (double)inside / n);
}

/* ---------------------------------------------------------------- a run */

typedef struct inst {
    mp_coord_worker *w;
    mp_dist_worker_opts o;
    char id[32], state[256];
    pthread_t tid;
    mp_run run;
    int rc;
    mp_error err;
} inst;

static void *inst_main(void *arg)
{
    inst *x = arg;
    x->rc = mp__dist_worker_run(x->w, &x->o, &x->run, &x->err);
    if (x->rc == 0 || x->rc == MP_ELOST) mp__run_release(&x->run);
    return NULL;
}

static mp_engine_opts engine(const char *dir, const char *state, const char *run_id, int i,
                             int slots)
{
    return (mp_engine_opts){.parallelism = slots,
                            .on_failure = MP_ON_FAILURE_STOP,
                            .workspace = dir,
                            .state_dir = state,
                            .run_id = run_id,
                            .instance_index = i,
                            .kill_grace_ms = 1000,
                            .stop_fd = -1,
                            .keep_children = 1};
}

static double run(const char *url, mp_pipeline *p, int workers, int slots, const char *dir,
                  const char *run_id)
{
    mp_filters none = {0};
    mp_plan plan;
    mp_error err = {0};
    if (mp__plan_build(p, &none, &plan, &err) != 0) {
        fprintf(stderr, "dispatch: plan: %s\n", err.message);
        exit(1);
    }
    mp_coord_memory_hub *hub = strcmp(url, "memory:") == 0 ? mp__coord_memory_hub_new() : NULL;
    mp_coord_open_opts co = {.url = url, .run_id = run_id, .memory_hub = hub};
    int64_t t0 = now_ns();
    mp_coord_master *m = NULL;
    if (mp__coord_master_open(&co, &m, &err) != 0) {
        fprintf(stderr, "dispatch: %s\n", err.message);
        exit(1);
    }
    int n = workers + 1;
    inst *x = calloc((size_t)n, sizeof *x);
    for (int i = 1; i < n; i++) {
        if (mp__coord_worker_open(&co, &x[i].w, &err) != 0) {
            fprintf(stderr, "dispatch: %s\n", err.message);
            exit(1);
        }
        snprintf(x[i].id, sizeof x[i].id, "instance-%d", i);
        snprintf(x[i].state, sizeof x[i].state, "%s/state-%s-%d", dir, run_id, i);
        x[i].o = (mp_dist_worker_opts){.p = p,
                                       .plan = &plan,
                                       .engine = engine(dir, x[i].state, run_id, i, slots),
                                       .worker_id = x[i].id,
                                       .version = "bench",
                                       .heartbeat_ms = 1000,
                                       .register_deadline = mp__deadline_in(30000)};
        pthread_create(&x[i].tid, NULL, inst_main, &x[i]);
    }
    snprintf(x[0].state, sizeof x[0].state, "%s/state-%s-0", dir, run_id);
    mp_dist_master_opts mo = {.p = p,
                              .plan = &plan,
                              .instances = n,
                              .on_failure = MP_ON_FAILURE_STOP,
                              .version = "bench",
                              .coord = co};
    mo.self = (mp_dist_worker_opts){.engine = engine(dir, x[0].state, run_id, 0, slots),
                                    .worker_id = "instance-0"};
    mp_run r;
    if (mp__dist_master_run(m, &mo, &r, &err) != 0) {
        fprintf(stderr, "dispatch: master: %s\n", err.message);
        exit(1);
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    if (r.verdict != MP_STATUS_SUCCEEDED) {
        fprintf(stderr, "dispatch: the run failed\n");
        exit(1);
    }
    mp__run_release(&r);
    for (int i = 1; i < n; i++) {
        pthread_join(x[i].tid, NULL);
        if (x[i].rc != 0) fprintf(stderr, "dispatch: worker %d: %s\n", i, x[i].err.message);
        mp__coord_worker_close(x[i].w);
    }
    free(x);
    mp__coord_master_close(m);
    mp__coord_memory_hub_free(hub);
    mp__plan_release(&plan);
    return secs;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dispatch REDIS_URL [N=2000] [W=3] [SLOTS=4]\n");
        return 2;
    }
    const char *url = argv[1];
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
    int w = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    int slots = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 4;
    if (strcmp(url, "memory:") != 0 &&
        sscanf(url, "redis://%63[^:/]:%d", redis_host, &redis_port) != 2) {
        fprintf(stderr, "dispatch: want redis://host:port[/db]\n");
        return 2;
    }
    char dir[] = "/tmp/mp-dispatch-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    stamps = calloc((size_t)n, sizeof *stamps);
    char run_id[64];
    stats a, b;

    mp_pipeline *p = build(n, 1);
    snprintf(run_id, sizeof run_id, "dispatch-chain-%d", (int)getpid());
    commandstats(&a);
    double secs = run(url, p, w, slots, dir, run_id);
    commandstats(&b);
    int64_t *gap = calloc((size_t)n, sizeof *gap);
    for (long i = 1; i < n; i++)
        gap[i - 1] = stamps[i] - stamps[i - 1];
    qsort(gap, (size_t)n - 1, sizeof *gap, cmp_i64);
    printf("chain: %ld modules, 1 master + %d workers, %d slots each: %.3f s, %.0f modules/s\n", n,
           w, slots, secs, n / secs);
    printf("chain: per-module overhead p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
           gap[(n - 1) / 2] / 1e6, gap[(n - 1) * 99 / 100] / 1e6, gap[n - 2] / 1e6);
    report_commands(&a, &b, n, "chain");
    mp_pipeline_free(p);

    p = build(n, 0);
    snprintf(run_id, sizeof run_id, "dispatch-wide-%d", (int)getpid());
    commandstats(&a);
    secs = run(url, p, w, slots, dir, run_id);
    commandstats(&b);
    printf("wide: %ld modules, 1 master + %d workers, %d slots each: %.3f s, %.0f modules/s\n", n,
           w, slots, secs, n / secs);
    report_commands(&a, &b, n, "wide");
    mp_pipeline_free(p);

    free(gap);
    free(stamps);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
