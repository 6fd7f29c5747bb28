/*
 * load_pipeline.c -- the top level of a pipeline file and its `options`
 * (DESIGN §2) onto mp_pipeline.
 *
 * Only keys present in the file change the pipeline: a C program may have
 * set options before loading, and defaults come from mp__options_init().
 */
#include "config/load.h"

#include <stdio.h>
#include <string.h>

static const char *const top_keys[] = {"version", "name",         "options", "env",
                                       "secrets", "requirements", "modules"};
static const char *const option_keys[] = {"parallelism", "on_failure",         "timeout",
                                          "retries",     "concurrency_groups", "distributed"};
static const char *const dist_keys[] = {"heartbeat", "worker_timeout", "registration_timeout",
                                        "max_attempts"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void load_distributed(mp_loader *l, const mp_ynode *key, const mp_ynode *val)
{
    if (!mp__load_is_map(l, key, val, "options", "a mapping")) return;
    static const char ctx[] = "options.distributed";
    mp_distributed_options *o = &l->p->options.distributed;
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *k = val->pairs[i].key, *v = val->pairs[i].value;
        if (strcmp(k->str, "heartbeat") == 0)
            mp__load_duration(l, k, v, ctx, false, &o->heartbeat_ms);
        else if (strcmp(k->str, "worker_timeout") == 0)
            mp__load_duration(l, k, v, ctx, false, &o->worker_timeout_ms);
        else if (strcmp(k->str, "registration_timeout") == 0)
            mp__load_duration(l, k, v, ctx, false, &o->registration_timeout_ms);
        else if (strcmp(k->str, "max_attempts") == 0)
            mp__load_int(l, k, v, ctx, 1, &o->max_attempts);
        else
            mp__load_unknown_key(l, k, ctx, dist_keys, COUNT(dist_keys), sizeof(dist_keys[0]));
    }
}

static void load_groups(mp_loader *l, const mp_ynode *key, const mp_ynode *val)
{
    if (!mp__load_is_map(l, key, val, "options", "a mapping of group names to limits")) return;
    const char *ctx = "options.concurrency_groups";
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *k = val->pairs[i].key, *v = val->pairs[i].value;
        int limit;
        if (!*k->str) {
            mp__load_problem(l, mp__load_pos(l, k), "a concurrency group needs a name");
            continue;
        }
        if (!mp__load_int(l, k, v, ctx, 1, &limit)) continue;
        mp_kv kv = {
            .key = mp__load_keep(l, k),
            .value = {.s = mp__arena_printf(l->a, "%d", limit), .pos = mp__load_pos(l, v)},
        };
        MP_VEC_PUSH(l->a, &l->p->options.concurrency_groups, kv);
    }
}

static void load_options(mp_loader *l, const mp_ynode *key, const mp_ynode *val)
{
    if (!mp__load_is_map(l, key, val, NULL, "a mapping")) return;
    static const char *const on_failure[] = {"stop", "continue", NULL};
    static const char ctx[] = "options";
    mp_options *o = &l->p->options;
    for (size_t i = 0; i < val->n; i++) {
        const mp_ynode *k = val->pairs[i].key, *v = val->pairs[i].value;
        if (strcmp(k->str, "parallelism") == 0) {
            mp__load_int(l, k, v, ctx, 1, &o->parallelism);
        } else if (strcmp(k->str, "on_failure") == 0) {
            int c = mp__load_choice(l, k, v, ctx, on_failure, "stop or continue");
            if (c >= 0) o->on_failure = c == 0 ? MP_ON_FAILURE_STOP : MP_ON_FAILURE_CONTINUE;
        } else if (strcmp(k->str, "timeout") == 0) {
            mp__load_duration(l, k, v, ctx, true, &o->timeout_ms);
        } else if (strcmp(k->str, "retries") == 0) {
            mp__load_int(l, k, v, ctx, 0, &o->retries);
        } else if (strcmp(k->str, "concurrency_groups") == 0) {
            load_groups(l, k, v);
        } else if (strcmp(k->str, "distributed") == 0) {
            load_distributed(l, k, v);
        } else {
            mp__load_unknown_key(l, k, ctx, option_keys, COUNT(option_keys),
                                 sizeof(option_keys[0]));
        }
    }
}

static void load_version(mp_loader *l, const mp_ynode *key, const mp_ynode *val)
{
    if (val->type == MP_YT_INT && strcmp(val->str, "1") == 0) {
        l->p->version = 1;
        return;
    }
    if (val->type == MP_YT_INT || val->type == MP_YT_NUMBER)
        mp__load_problem(l, mp__load_pos(l, val), "\"version\" must be 1, not %s",
                         mp__load_quote(l, val->str));
    else
        mp__load_wrong_type(l, key, val, "\"version\"", "1");
}

void mp__load_pipeline(mp_loader *l, const mp_ynode *root)
{
    if (!root || root->type == MP_YT_NULL) return;
    if (root->type != MP_YT_MAP) {
        mp__load_problem(l, mp__load_pos(l, root), "the pipeline file must be a mapping, not %s",
                         mp__ytype_name(root->type));
        return;
    }
    mp_pipeline *p = l->p;
    for (size_t i = 0; i < root->n; i++) {
        const mp_ynode *k = root->pairs[i].key, *v = root->pairs[i].value;
        mp_pstr s;
        if (strcmp(k->str, "version") == 0) {
            load_version(l, k, v);
        } else if (strcmp(k->str, "name") == 0) {
            if (mp__load_str(l, k, v, NULL, &s)) p->name = s.s;
        } else if (strcmp(k->str, "options") == 0) {
            load_options(l, k, v);
        } else if (strcmp(k->str, "env") == 0) {
            mp__load_env(l, k, v, NULL, &p->env);
        } else if (strcmp(k->str, "secrets") == 0) {
            mp__load_secrets(l, k, v, NULL, &p->secrets);
        } else if (strcmp(k->str, "requirements") == 0) {
            mp__load_requirements(l, k, v);
        } else if (strcmp(k->str, "modules") == 0) {
            mp__load_modules(l, k, v);
        } else {
            mp__load_unknown_key(l, k, "the pipeline", top_keys, COUNT(top_keys),
                                 sizeof(top_keys[0]));
        }
    }
}
