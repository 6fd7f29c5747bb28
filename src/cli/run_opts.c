/*
 * run_opts.c -- resolving the options of `modpipe run` (see run_opts.h).
 */
#include "cli/run_opts.h"

#include "core/diag.h"
#include "core/error.h"
#include "core/module_env.h"
#include "coord/coord.h"
#include "dist/caps.h"
#include "dist/runid.h"
#include "dist/url.h"

#include <stdlib.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int mp__run_parse_count(const char *s, int min, int max, int *out)
{
    if (!s || !*s) return MP_EUSAGE;
    long v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9') return MP_EUSAGE;
        v = v * 10 + (*c - '0');
        if (v > max) return MP_EUSAGE;
    }
    if (v < min) return MP_EUSAGE;
    *out = (int)v;
    return 0;
}

int mp__run_parse_parallelism(const char *s, int *out)
{
    return mp__run_parse_count(s, 1, MP_RUN_MAX_PARALLELISM, out);
}

int mp__run_id_valid(const char *s)
{
    return s && mp__runid_check(s, NULL) == 0;
}

static const char *env_of(char *const *env, const char *name)
{
    const char *v = mp__environ_get(env, name);
    return v && *v ? v : NULL;
}

/* Index of value in names (NULL-terminated), or a usage error for `what`
 * listing the names, with a suggestion when one is close. */
static int pick(const char *what, const char *value, const char *const *names, mp_error *err)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(value, names[i]) == 0) return i;
    char list[128] = "";
    size_t len = 0;
    for (int i = 0; names[i]; i++) {
        const char *sep = !names[i + 1] ? " or " : i ? ", " : "";
        int w = snprintf(list + len, sizeof(list) - len, "%s%s", sep, names[i]);
        if (w > 0 && (size_t)w < sizeof(list) - len) len += (size_t)w;
    }
    const char *best = mp__suggest(value, names);
    if (best)
        return mp__error(err, MP_EUSAGE, "", "invalid value \"%s\" for %s; did you mean \"%s\"?",
                         value, what, best);
    return mp__error(err, MP_EUSAGE, "", "invalid value \"%s\" for %s (use %s)", value, what, list);
}

static int resolve_parallelism(const mp_args *a, char *const *env, mp_run_opts *o, mp_error *err)
{
    const char *flag = mp__args_get(a, "parallelism")->value;
    const char *from = NULL, *value = NULL;
    if (flag) {
        from = "--parallelism";
        value = flag;
    } else if ((value = env_of(env, "MODPIPE_PARALLELISM")) != NULL) {
        from = "MODPIPE_PARALLELISM";
    }
    if (value) {
        if (mp__run_parse_parallelism(value, &o->parallelism) < 0)
            return mp__error(err, MP_EUSAGE, "",
                             "invalid value \"%s\" for %s (use a whole number from 1 to %d)", value,
                             from, MP_RUN_MAX_PARALLELISM);
        o->parallelism_from = from;
    }
    return 0;
}

void mp__run_opts_finish(mp_run_opts *o, const mp_pipeline *p)
{
    if (!o->on_failure_given) o->on_failure = p->options.on_failure;
    if (o->parallelism > 0) return;
    if (p->options.parallelism > 0) {
        o->parallelism = p->options.parallelism;
        o->parallelism_from = "options.parallelism";
        return;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->parallelism = cpus < 1                        ? 1
                     : cpus > MP_RUN_MAX_PARALLELISM ? MP_RUN_MAX_PARALLELISM
                                                     : (int)cpus;
    o->parallelism_from = "CPUs";
}

static const char *generated_run_id(int64_t now_ms, long pid, mp_arena *arena)
{
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    char stamp[32] = "0";
    if (gmtime_r(&secs, &tm)) strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    return mp__arena_printf(arena, "local-%s-%ld", stamp, pid);
}

typedef struct env_arr {
    char *const *env;
} env_arr;

static const char *env_arr_get(const char *name, void *data)
{
    return mp__environ_get(((env_arr *)data)->env, name);
}

/* A whole number min..max from option `name` (flag "--<name>", kept in
 * `flag`) or variable `var`. Returns 1 when given, 0 when not, or
 * MP_EUSAGE. *from names where it came from. */
static int count_opt(const mp_args *a, char *const *env, const char *name, const char *flag,
                     const char *var, int min, int max, int *out, const char **from,
                     mp_error *err)
{
    const char *v = mp__args_get(a, name)->value, *src = flag;
    if (!v && var && (v = env_of(env, var)) != NULL) src = var;
    if (!v) return 0;
    if (mp__run_parse_count(v, min, max, out) < 0)
        return mp__error(err, MP_EUSAGE, "",
                         "invalid value \"%s\" for %s (use a whole number from %d to %d)", v,
                         src, min, max);
    if (from) *from = src;
    return 1;
}

/* instances, index, local instances. */
static int resolve_dist(const mp_args *a, char *const *env, mp_run_opts *o, mp_error *err)
{
    int rc;
    const char *index_from = NULL;
    o->instances = 1;
    if ((rc = count_opt(a, env, "local-instances", "--local-instances", NULL, 1, MP_RUN_MAX_LOCAL_INSTANCES,
                        &o->local_instances, NULL, err)) < 0)
        return rc;
    if (o->local_instances) {
        if (mp__args_get(a, "instances")->value || mp__args_get(a, "instance-index")->value)
            return mp__error(err, MP_EUSAGE, "",
                             "--local-instances starts every instance itself: it cannot be "
                             "combined with --instances or --instance-index");
    } else {
        if ((rc = count_opt(a, env, "instances", "--instances", "MODPIPE_INSTANCES", 1, MP_RUN_MAX_INSTANCES,
                            &o->instances, &o->instances_from, err)) < 0)
            return rc;
        if ((rc = count_opt(a, env, "instance-index", "--instance-index", "MODPIPE_INSTANCE_INDEX", 0,
                            MP_RUN_MAX_INSTANCES - 1, &o->instance_index, &index_from, err)) < 0)
            return rc;
        if (index_from && o->instance_index >= o->instances)
            return mp__error(err, MP_EUSAGE, "",
                             "instance index %d (%s) is outside the run's instances 0..%d "
                             "(%s %d)",
                             o->instance_index, index_from, o->instances - 1,
                             o->instances_from ? o->instances_from : "--instances", o->instances);
    }
    if (o->instances > 1 && !mp__args_get(a, "coordinator")->value &&
        !env_of(env, "MODPIPE_COORDINATOR"))
        return mp__error(err, MP_EUSAGE, "",
                         "a distributed run (%s %d) needs a coordinator: pass --coordinator "
                         "redis://host:port or set MODPIPE_COORDINATOR (or run "
                         "--local-instances N on one machine)",
                         o->instances_from, o->instances);
    return 0;
}

/* Coordinator and capabilities, once instances and the run id are known. */
static int resolve_place(const mp_args *a, char *const *env, mp_arena *arena, mp_run_opts *o,
                         mp_error *err)
{
    int rc;
    const char *cfrom = "--coordinator";
    o->coordinator = mp__args_get(a, "coordinator")->value;
    if (!o->coordinator && (o->coordinator = env_of(env, "MODPIPE_COORDINATOR")) != NULL)
        cfrom = "MODPIPE_COORDINATOR";
    if (o->coordinator) {
        char *shown = mp__url_redact(o->coordinator);
        o->coordinator_shown = mp__arena_strdup(arena, shown);
        free(shown);
        if (o->instances < 2 && !o->local_instances)
            return mp__error(err, MP_EUSAGE, "",
                             "%s is set but this is a local run: pass --instances N (N > 1) "
                             "for a distributed run, or unset it",
                             cfrom);
        if (strncmp(o->coordinator, "memory:", 7) == 0)
            return mp__error(err, MP_EUSAGE, "",
                             "coordinator \"%s\" (%s) is in-process only: instances in other "
                             "processes would never meet; use redis://host:port (or "
                             "--local-instances N on one machine)",
                             o->coordinator_shown, cfrom);
        mp_error e = {0};
        if (mp__coord_scheme_check(o->coordinator, &e) < 0)
            return mp__error(err, MP_EUSAGE, "", "%s \"%s\": %s", cfrom, o->coordinator_shown,
                             e.message);
    }

    const char *const *caps = mp__args_list(a, "capability");
    size_t ncaps = 0;
    while (caps && caps[ncaps])
        ncaps++;
    o->capabilities_given = ncaps > 0;
    if (ncaps && o->instances < 2 && !o->local_instances)
        return mp__error(err, MP_EUSAGE, "",
                         "--capability places modules among instances: it needs a distributed "
                         "run (--instances N with N > 1, or --local-instances N)");
    char *automatic = NULL, *all = NULL;
    if ((rc = mp__caps_auto(&automatic, err)) < 0) return rc;
    rc = mp__caps_build(automatic, env_of(env, "MODPIPE_CAPABILITIES"), caps, ncaps, &all, err);
    free(automatic);
    if (rc < 0) return rc;
    o->capabilities = mp__arena_strdup(arena, all);
    free(all);
    return 0;
}

static int resolve_run_id(const mp_args *a, char *const *env, int64_t now_ms, long pid,
                          mp_arena *arena, mp_run_opts *o, mp_error *err)
{
    const char *flag = mp__args_get(a, "run-id")->value;
    env_arr ea = {env};
    char id[MP_RUN_ID_MAX + 1];
    const char *source = NULL;
    mp_error e = {0};
    int rc = mp__runid_resolve(flag, env_arr_get, &ea, id, &source, &e);
    if (rc == 0) {
        o->run_id = mp__arena_strdup(arena, id);
        o->run_id_from = source;
        return 0;
    }
    bool none = !flag && !env_of(env, "MODPIPE_RUN_ID") && !source;
    if (!none || mp__run_opts_distributed(o)) return mp__error(err, MP_EUSAGE, "", "%s", e.message);
    o->run_id = generated_run_id(now_ms, pid, arena);
    o->run_id_generated = 1;
    o->run_id_from = "generated";
    return 0;
}

int mp__run_opts_resolve(const mp_args *a, char *const *env, int64_t now_ms, long pid,
                         mp_arena *arena, mp_run_opts *o, mp_error *err)
{
    static const char *const on_failure_names[] = {"stop", "continue", NULL};
    static const char *const progress_names[] = {"auto", "always", "never", NULL};
    static const char *const output_names[] = {"grouped", "stream", NULL};
    memset(o, 0, sizeof(*o));
    int rc;

    if ((rc = mp__args_log_level(a, &o->log_level, err)) < 0) return rc;
    if ((rc = resolve_parallelism(a, env, o, err)) < 0) return rc;

    const char *v = mp__args_get(a, "on-failure")->value;
    if (v) {
        if ((rc = pick("--on-failure", v, on_failure_names, err)) < 0) return rc;
        o->on_failure = rc == 0 ? MP_ON_FAILURE_STOP : MP_ON_FAILURE_CONTINUE;
        o->on_failure_given = 1;
    }
    if ((v = mp__args_get(a, "progress")->value) != NULL) {
        if ((rc = pick("--progress", v, progress_names, err)) < 0) return rc;
        o->progress = (mp_progress_mode)rc;
    }
    if ((v = mp__args_get(a, "output")->value) != NULL) {
        if ((rc = pick("--output", v, output_names, err)) < 0) return rc;
        o->output = rc == 0 ? MP_OUTPUT_GROUPED : MP_OUTPUT_STREAM;
    }
    o->report = mp__args_get(a, "report")->value;
    if (!o->report) o->report = env_of(env, "MODPIPE_REPORT");
    o->artifacts = mp__args_get(a, "artifacts")->value;
    if (!o->artifacts) o->artifacts = env_of(env, "MODPIPE_ARTIFACTS");

    o->filters = (mp_filters){
        .modules = mp__args_list(a, "module"),
        .skip_modules = mp__args_list(a, "skip-module"),
        .categories = mp__args_list(a, "category"),
        .ignore_categories = mp__args_list(a, "ignore-category"),
    };
    if ((rc = resolve_dist(a, env, o, err)) < 0) return rc;
    if ((rc = resolve_run_id(a, env, now_ms, pid, arena, o, err)) < 0) return rc;
    return resolve_place(a, env, arena, o, err);
}
