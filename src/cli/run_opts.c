/*
 * run_opts.c -- resolving the options of `modpipe run` (see run_opts.h).
 */
#include "cli/run_opts.h"

#include "core/diag.h"
#include "core/error.h"
#include "core/module_env.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int mp__run_parse_parallelism(const char *s, int *out)
{
    if (!s || !*s) return MP_EUSAGE;
    long v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9') return MP_EUSAGE;
        v = v * 10 + (*c - '0');
        if (v > MP_RUN_MAX_PARALLELISM) return MP_EUSAGE;
    }
    if (v < 1) return MP_EUSAGE;
    *out = (int)v;
    return 0;
}

int mp__run_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > MP_RUN_MAX_RUN_ID) return 0;
    for (const char *c = s; *c; c++) {
        char ch = *c;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 strchr("._:+=@-", ch) != NULL;
        if (!ok) return 0;
    }
    return 1;
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

    const char *id = env_of(env, "MODPIPE_RUN_ID");
    if (id) {
        if (!mp__run_id_valid(id))
            return mp__error(err, MP_EUSAGE, "",
                             "invalid MODPIPE_RUN_ID \"%.*s\" (use 1 to %d characters of "
                             "letters, digits and ._:+=@-)",
                             MP_RUN_MAX_RUN_ID + 8, id, MP_RUN_MAX_RUN_ID);
        o->run_id = id;
    } else {
        o->run_id = generated_run_id(now_ms, pid, arena);
        o->run_id_generated = 1;
    }

    o->filters = (mp_filters){
        .modules = mp__args_list(a, "module"),
        .skip_modules = mp__args_list(a, "skip-module"),
        .categories = mp__args_list(a, "category"),
        .ignore_categories = mp__args_list(a, "ignore-category"),
    };
    return 0;
}
