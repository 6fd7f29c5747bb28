/*
 * run_dist.c -- `modpipe run` as one instance of a distributed run
 * (DESIGN §1, §3): --instances N (N > 1) with --coordinator URL.
 *
 * Instance 0 is the master (dist/master.h): it publishes the plan, runs
 * modules itself (its own worker, with this process's console), prints
 * the summary with the instance of each module, writes the report with
 * every instance that registered, saves the history, and its exit code is
 * the run's verdict: 0, 1, 3 when a module failed for the infrastructure's
 * sake (no instance able to run it, lost with its workers), 130/143 when
 * interrupted (the interrupt is broadcast; a second one stops always_run
 * modules too).
 *
 * Any other index is a worker (dist/worker.h): it prints its own
 * modules' output, state under <workspace>/.modpipe/instance-<i>, and
 * exits
 *   0   the run finished (whatever its modules did)
 *   2   refused at registration: another pipeline or modpipe version than
 *       the master's, its index already taken
 *   3   no plan published before registration_timeout (the master failed
 *       or never came), the master lost, the coordinator unreachable
 *   130/143  interrupted: its running modules were stopped (process
 *       group: SIGTERM, grace, SIGKILL) and reported cancelled.
 * A worker writes --report too (its own modules; the others pending) and
 * saves no history (the master's is the run's).
 *
 * The worker id is "<hostname>:<pid>" (bytes outside [A-Za-z0-9_.-]
 * replaced by '_'), which is how the report learns each instance's
 * hostname.
 */
#include "cli/run_cmd.h"

#include "coord/coord.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "dist/master.h"
#include "os/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct dist_log {
    run_cmd *rc;
    int index;
} dist_log;

static void log_line(void *data, const char *line)
{
    dist_log *l = data;
    mp__run_logf(l->rc, MP_LOG_INFO, "instance %d: %s", l->index, line);
}

/* A coordinator backend's warnings (e.g. redis' maxmemory-policy is not
 * noeviction), shown whatever the log level but -q. */
static void coord_warn(void *data, const char *line)
{
    run_cmd *rc = data;
    mp__run_logf(rc, MP_LOG_WARN, "warning: coordinator %s: %s", rc->o.coordinator_shown, line);
}

static void worker_id(char *out, size_t n)
{
    char host[256] = "host";
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '-'))
            *c = '_';
    snprintf(out, n, "%.100s:%ld", host, (long)getpid());
}

static int open_error(run_cmd *rc, int code, const mp_error *err)
{
    mp__cli_errorf(rc->cli, "run", "coordinator %s: %s", rc->o.coordinator_shown, err->message);
    return code == MP_EUSAGE || code == MP_EINVAL ? MP_EXIT_USAGE : MP_EXIT_INFRA;
}

/* The report's instances from the registrations. */
static void report_instances(mp_arena *a, const mp_coord_worker_list *l, mp_report_info *info)
{
    mp_report_instance *v = mp__arena_alloc(a, (l->n ? l->n : 1) * sizeof *v);
    for (size_t k = 0; k < l->n; k++) {
        const mp_coord_worker_info *w = &l->v[k];
        const char *colon = w->worker ? strrchr(w->worker, ':') : NULL;
        size_t npairs = 1;
        for (const char *c = w->capabilities; c && *c; c++)
            npairs += *c == ',';
        mp_report_pair *pairs = mp__arena_alloc(a, npairs * sizeof *pairs);
        size_t np = 0;
        for (const char *c = w->capabilities; c && *c;) {
            const char *end = strchr(c, ',');
            size_t len = end ? (size_t)(end - c) : strlen(c);
            const char *eq = memchr(c, '=', len);
            if (eq && !(eq - c == 8 && strncmp(c, "instance", 8) == 0))
                pairs[np++] = (mp_report_pair){
                    mp__arena_strndup(a, c, (size_t)(eq - c)),
                    mp__arena_strndup(a, eq + 1, len - (size_t)(eq - c) - 1)};
            c = end ? end + 1 : c + len;
        }
        v[k] = (mp_report_instance){
            .index = w->instance,
            .hostname = colon ? mp__arena_strndup(a, w->worker, (size_t)(colon - w->worker))
                              : NULL,
            .capabilities = pairs,
            .ncapabilities = np};
    }
    info->instances = v;
    info->ninstances = l->n;
}

static int run_master(run_cmd *rc, dist_log *lg)
{
    const mp_pipeline *p = rc->cli->p;
    mp_coord_open_opts co = {.url = rc->o.coordinator,
                             .run_id = rc->o.run_id,
                             .warn = coord_warn,
                             .warn_data = rc};
    mp_coord_master *m = NULL;
    mp_error err = {0};
    int orc = mp__coord_master_open(&co, &m, &err);
    if (orc < 0) return open_error(rc, orc, &err);
    char id[160];
    worker_id(id, sizeof id);
    mp_coord_worker_list workers = {0};
    int infra = 0;
    mp_dist_master_opts mo = {.p = p,
                              .plan = rc->plan,
                              .instances = rc->o.instances,
                              .on_failure = rc->o.on_failure,
                              .version = mp_version(),
                              .coord = co,
                              .log = log_line,
                              .log_data = lg,
                              .stop_fd = rc->sw->fd,
                              .stop_read = mp__sigwatch_read,
                              .stop_data = rc->sw,
                              .workers_out = &workers,
                              .infra_failures = &infra};
    mo.self = (mp_dist_worker_opts){.engine = mp__run_engine_opts(rc, 0, rc->state_dir),
                                    .worker_id = id,
                                    .capabilities = rc->o.capabilities,
                                    .stop_fd = -1};
    mp__run_logf(rc, MP_LOG_INFO,
                 "master of run %s: %d instances over %s, waiting up to %lld ms for them",
                 rc->o.run_id, rc->o.instances, rc->o.coordinator_shown,
                 (long long)p->options.distributed.registration_timeout_ms);
    mp_run run;
    int code;
    int mrc = mp__dist_master_run(m, &mo, &run, &err);
    if (rc->after_run) rc->after_run(rc->after_run_data);
    if (mrc < 0) {
        mp__cli_errorf(rc->cli, "run", "the run could not start: %s", err.message);
        code = mrc == MP_EEXIST || mrc == MP_EINVAL ? MP_EXIT_USAGE : MP_EXIT_INFRA;
    } else {
        mp_report_info info = {.run_id = rc->o.run_id};
        mp_arena *a = mp__arena_new();
        report_instances(a, &workers, &info);
        code = mp__run_finish(rc, &run, &info, 1);
        if (code == MP_EXIT_FAILED && infra > 0) {
            mp__cli_errorf(rc->cli, "run",
                           "%d module(s) failed for the infrastructure's sake (no instance "
                           "able to run them, or the coordinator lost the run)",
                           infra);
            code = MP_EXIT_INFRA;
        }
        mp__arena_free(a);
        mp__run_release(&run);
    }
    mp__coord_worker_list_release(&workers);
    mp__coord_master_close(m);
    return code;
}

static int run_worker(run_cmd *rc, dist_log *lg)
{
    const mp_pipeline *p = rc->cli->p;
    const mp_distributed_options *d = &p->options.distributed;
    int index = rc->o.instance_index;
    mp_coord_open_opts co = {.url = rc->o.coordinator,
                             .run_id = rc->o.run_id,
                             .warn = coord_warn,
                             .warn_data = rc};
    mp_coord_worker *w = NULL;
    mp_error err = {0};
    int orc = mp__coord_worker_open(&co, &w, &err);
    if (orc < 0) return open_error(rc, orc, &err);
    const char *state = mp__arena_printf(rc->arena, "%s/instance-%d", rc->state_dir, index);
    char id[160];
    worker_id(id, sizeof id);
    mp_dist_worker_opts wo = {.p = p,
                              .plan = rc->plan,
                              .engine = mp__run_engine_opts(rc, index, state),
                              .worker_id = id,
                              .capabilities = rc->o.capabilities,
                              .version = mp_version(),
                              .heartbeat_ms = d->heartbeat_ms,
                              .register_deadline = mp__deadline_in(d->registration_timeout_ms),
                              .log = log_line,
                              .log_data = lg,
                              .stop_fd = rc->sw->fd,
                              .stop_read = mp__sigwatch_read,
                              .stop_data = rc->sw};
    mp__run_logf(rc, MP_LOG_DEBUG, "worker %s of run %s over %s", id, rc->o.run_id,
                 rc->o.coordinator_shown);
    mp_run run;
    int code;
    int wrc = mp__dist_worker_run(w, &wo, &run, &err);
    if (wrc == 0) {
        if (rc->o.report) {
            mp_report_info info = {.run_id = rc->o.run_id};
            if (mp__report_write(rc->o.report, p, &run, &info, &err) < 0)
                mp__cli_errorf(rc->cli, "run", "instance %d: %s", index, err.message);
        }
        code = run.interrupted_by ? mp__signal_exit_code(run.interrupted_by) : MP_EXIT_OK;
        size_t ran = 0;
        for (size_t i = 0; i < run.n; i++)
            ran += run.results[i].instance == index && run.results[i].worker != NULL;
        mp__run_logf(rc, MP_LOG_INFO, "instance %d: %s; %zu module(s) ran here", index,
                     run.interrupted_by ? "interrupted" : "the run is complete", ran);
        mp__run_release(&run);
    } else if (wrc == MP_ELOST) {
        mp__cli_errorf(rc->cli, "run", "instance %d: %s", index, err.message);
        mp__run_release(&run);
        code = MP_EXIT_INFRA;
    } else if (wrc == MP_ETIMEDOUT) {
        mp__cli_errorf(rc->cli, "run",
                       "instance %d: no master published the plan of run %s within "
                       "registration_timeout (%lld ms): %s",
                       index, rc->o.run_id, (long long)d->registration_timeout_ms, err.message);
        code = MP_EXIT_INFRA;
    } else {
        mp__cli_errorf(rc->cli, "run", "instance %d: %s", index, err.message);
        code = wrc == MP_EINVAL || wrc == MP_EEXIST ? MP_EXIT_USAGE : MP_EXIT_INFRA;
    }
    mp__coord_worker_close(w);
    return code;
}

int mp__run_dist(run_cmd *rc)
{
    dist_log lg = {rc, rc->o.instance_index};
    return rc->o.instance_index == 0 ? run_master(rc, &lg) : run_worker(rc, &lg);
}
