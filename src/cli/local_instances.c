/*
 * local_instances.c -- `modpipe run --local-instances N` (DESIGN §1): a
 * whole distributed run on this machine, the one-machine demo of
 * distribution.
 *
 * What happens, in order:
 *   1. the coordinator: --coordinator/MODPIPE_COORDINATOR when given,
 *      else a private redis-server for this run (dist/redis_server.h:
 *      free loopback port, nothing saved, ready when PING answers).
 *      redis-server missing or not starting -> exit 3 (the coordinator
 *      is infrastructure; nothing ran);
 *   2. N-1 worker processes: this program again (the path /proc/self/exe
 *      links to) with
 *      `run [FILE]` and the options of this command line except
 *      --local-instances, --report and --progress (workers get
 *      --progress=never), and MODPIPE_INSTANCES=N, MODPIPE_INSTANCE_INDEX=i,
 *      MODPIPE_COORDINATOR and MODPIPE_RUN_ID (the generated or given
 *      run id) in their environment -- not on their command line, so a
 *      coordinator password never shows in `ps`; MODPIPE_REPORT is
 *      removed (the report is the master's). Each is spawned in its own
 *      process group with stdin from /dev/null and stdout+stderr into a
 *      pipe (os/process.h);
 *   3. their output is folded into ours, each line prefixed "[i] "
 *      (relay.h); the private redis-server's output only with -v;
 *   4. this process is the master, instance 0 (run_dist.c), with
 *      keep_children (the engine must not sweep the workers as orphans);
 *      Ctrl-C/SIGTERM reach the master (the workers are in their own
 *      groups, out of the terminal's reach): it broadcasts the cancel,
 *      the workers stop their modules and end with the run;
 *   5. after the master's run, before its summary (run_cmd.after_run): the
 *      workers are waited for (they end at the completion broadcast) up to
 *      2 heartbeats + MP_LOCAL_WAIT_MS; when the master could not even
 *      open the coordinator, only MP_LOCAL_EARLY_WAIT_MS. Whatever is
 *      left then is stopped
 *      (SIGTERM, MP_LOCAL_GRACE_MS, SIGKILL of its group), a worker that
 *      exited non-zero is named on stderr and the relay drains; the
 *      private redis-server is stopped the same way at the very end, after
 *      the master closed its coordinator handle. No process of the
 *      run outlives this function (a SIGKILL of this process is the one
 *      case it cannot handle).
 * The exit code is the master's.
 */
#include "cli/relay.h"
#include "cli/run_cmd.h"

#include "core/error.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "dist/redis_server.h"
#include "os/clock.h"
#include "os/process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define MP_LOCAL_WAIT_MS       10000
#define MP_LOCAL_EARLY_WAIT_MS 1000
#define MP_LOCAL_GRACE_MS      3000
#define MP_LOCAL_REDIS_READY_MS 10000

typedef MP_VEC(const char *) strvec;
typedef MP_VEC(mp_relay_source) srcvec;

/* Options not handed to the workers. */
static bool not_for_workers(const char *name)
{
    static const char *const skip[] = {"local-instances", "instances", "instance-index",
                                       "coordinator",     "run-id",    "report",
                                       "progress",        NULL};
    for (size_t i = 0; skip[i]; i++)
        if (strcmp(name, skip[i]) == 0) return true;
    return false;
}

static void worker_argv(const run_cmd *rc, mp_arena *a, strvec *argv)
{
    const mp_args *args = rc->args;
    /* This very program: its real path, so its name in messages is ours. */
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    MP_VEC_PUSH(a, argv,
                len > 0 && (size_t)len < sizeof self - 1 ? mp__arena_strndup(a, self, (size_t)len)
                                                         : "/proc/self/exe");
    MP_VEC_PUSH(a, argv, "run");
    for (size_t k = 0; k < args->nspecs; k++) {
        const mp_opt_spec *sp = &args->specs[k];
        const mp_opt_value *v = &args->values[k];
        if (!v->count || not_for_workers(sp->name)) continue;
        if (sp->kind == MP_OPT_FLAG) {
            for (unsigned c = 0; c < v->count; c++)
                MP_VEC_PUSH(a, argv, mp__arena_printf(a, "--%s", sp->name));
        } else if (sp->kind == MP_OPT_VALUE) {
            MP_VEC_PUSH(a, argv, mp__arena_printf(a, "--%s=%s", sp->name, v->value));
        } else {
            for (size_t i = 0; i < v->items.n; i++)
                if (v->items.v[i])
                    MP_VEC_PUSH(a, argv, mp__arena_printf(a, "--%s=%s", sp->name, v->items.v[i]));
        }
    }
    MP_VEC_PUSH(a, argv, "--progress=never");
    if (args->file) {
        MP_VEC_PUSH(a, argv, "--");
        MP_VEC_PUSH(a, argv, args->file);
    }
    MP_VEC_PUSH(a, argv, NULL);
}

static const char *const overridden[] = {"MODPIPE_INSTANCES", "MODPIPE_INSTANCE_INDEX",
                                         "MODPIPE_COORDINATOR", "MODPIPE_RUN_ID",
                                         "MODPIPE_REPORT", NULL};

static bool is_overridden(const char *kv)
{
    for (size_t i = 0; overridden[i]; i++) {
        size_t n = strlen(overridden[i]);
        if (strncmp(kv, overridden[i], n) == 0 && kv[n] == '=') return true;
    }
    return false;
}

static void worker_env(const run_cmd *rc, mp_arena *a, int n, int index, const char *url,
                       strvec *env)
{
    for (char **e = environ; e && *e; e++)
        if (!is_overridden(*e)) MP_VEC_PUSH(a, env, *e);
    MP_VEC_PUSH(a, env, mp__arena_printf(a, "MODPIPE_INSTANCES=%d", n));
    MP_VEC_PUSH(a, env, mp__arena_printf(a, "MODPIPE_INSTANCE_INDEX=%d", index));
    MP_VEC_PUSH(a, env, mp__arena_printf(a, "MODPIPE_COORDINATOR=%s", url));
    MP_VEC_PUSH(a, env, mp__arena_printf(a, "MODPIPE_RUN_ID=%s", rc->o.run_id));
    /* The instances share this workspace, hence the master's default
     * artifact store: name it, as a distributed run must (cmd_run.c). */
    if (!rc->o.artifacts)
        MP_VEC_PUSH(a, env,
                    mp__arena_printf(a, "MODPIPE_ARTIFACTS=file://%s/artifacts", rc->state_dir));
    MP_VEC_PUSH(a, env, NULL);
}

typedef struct local_run {
    run_cmd *rc;
    mp_arena *a;
    mp_redis_server redis;
    int nworkers;
    mp_process *w; /* index i-1 is instance i */
    bool *started;
    mp_relay *relay;       /* the workers' output */
    mp_relay *redis_relay; /* the redis-server's */
    int64_t wait_ms;
    bool wound_down;
} local_run;

/* Stop whatever of the run is still alive; report workers that failed. */
static void wind_down(local_run *l, int64_t wait_until)
{
    l->wound_down = true;
    for (int i = 0; i < l->nworkers; i++) {
        if (!l->started[i]) continue;
        mp_process *p = &l->w[i];
        if (mp__process_wait(p, wait_until, NULL) != 0) {
            mp__run_logf(l->rc, MP_LOG_WARN, "instance %d did not end with the run: stopping it",
                         i + 1);
            mp__process_kill_group(p, MP_LOCAL_GRACE_MS, NULL);
        } else {
            mp__process_kill_group(p, 0, NULL); /* what it may have left in its group */
        }
        int code = mp__process_status_code(p->status);
        if (code != 0) {
            char how[64];
            mp__run_logf(l->rc, MP_LOG_WARN, "instance %d ended with %s", i + 1,
                         mp__process_status_describe(p->status, how, sizeof how));
        }
    }
    mp__relay_stop(l->relay, mp__deadline_in(MP_LOCAL_GRACE_MS)); /* their last lines */
    l->relay = NULL;
    for (int i = 0; i < l->nworkers; i++)
        if (l->started[i]) mp__process_release(&l->w[i]);
}

/* The master's run is over (completion broadcast, or it could not
 * publish): the workers end now, before the summary. */
static void after_master(void *data)
{
    local_run *l = data;
    wind_down(l, mp__deadline_in(l->wait_ms));
}

int mp__run_local_instances(run_cmd *rc)
{
    const mp_pipeline *p = rc->cli->p;
    int n = rc->o.local_instances;
    local_run l = {.rc = rc, .a = mp__arena_new(), .nworkers = n - 1};
    l.w = mp__xcalloc((size_t)(n > 1 ? n - 1 : 1), sizeof *l.w);
    l.started = mp__xcalloc((size_t)(n > 1 ? n - 1 : 1), sizeof *l.started);
    mp_error err = {0};
    int code;

    const char *url = rc->o.coordinator;
    if (!url) {
        if (mp__redis_server_start(&l.redis, MP_LOCAL_REDIS_READY_MS, &err) < 0) {
            mp__cli_errorf(rc->cli, "run", "%s", err.message);
            mp__cli_errorf(rc->cli, "run", "nothing ran");
            code = MP_EXIT_INFRA;
            goto out;
        }
        url = l.redis.url;
        mp_relay_source rs = {l.redis.proc.out_fd,
                              rc->o.log_level >= MP_LOG_DEBUG ? "[redis] " : NULL};
        l.redis_relay = mp__relay_start(STDOUT_FILENO, &rs, 1);
        mp__run_logf(rc, MP_LOG_DEBUG, "private redis-server (pid %ld) on %s",
                     (long)l.redis.proc.pid, url);
    }

    srcvec srcs = {0};
    for (int i = 1; i < n; i++) {
        strvec argv = {0}, env = {0};
        worker_argv(rc, l.a, &argv);
        worker_env(rc, l.a, n, i, url, &env);
        mp_spawn_opts so = {.argv = argv.v, .envp = env.v};
        int src = mp__process_spawn(&so, &l.w[i - 1], &err);
        if (src < 0) {
            mp__cli_errorf(rc->cli, "run", "cannot start instance %d: %s", i, err.message);
            l.relay = mp__relay_start(STDOUT_FILENO, NULL, 0);
            wind_down(&l, 0);
            code = MP_EXIT_INFRA;
            goto out;
        }
        l.started[i - 1] = true;
        MP_VEC_PUSH(l.a, &srcs, ((mp_relay_source){l.w[i - 1].out_fd, mp__arena_printf(l.a, "[%d] ", i)}));
    }
    l.relay = mp__relay_start(STDOUT_FILENO, srcs.v, srcs.n);

    rc->o.instances = n;
    rc->o.instance_index = 0;
    rc->o.coordinator = url;
    rc->o.coordinator_shown = rc->o.coordinator_shown ? rc->o.coordinator_shown : url;
    rc->keep_children = 1;
    l.wait_ms = 2 * p->options.distributed.heartbeat_ms + MP_LOCAL_WAIT_MS;
    rc->after_run = after_master;
    rc->after_run_data = &l;
    code = mp__run_dist(rc);
    if (!l.wound_down) /* the master did not start: the workers wait for a plan */
        wind_down(&l, mp__deadline_in(MP_LOCAL_EARLY_WAIT_MS));
out:
    /* Last, once the master's handle is closed (it may still write to it). */
    if (l.redis.running) /* it ends; its output pipe stays open for the relay */
        mp__process_kill_group(&l.redis.proc, MP_LOCAL_GRACE_MS, NULL);
    mp__relay_stop(l.redis_relay, mp__deadline_in(MP_LOCAL_GRACE_MS));
    mp__redis_server_stop(&l.redis, 0);
    free(l.w);
    free(l.started);
    mp__arena_free(l.a);
    return code;
}
