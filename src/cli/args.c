/*
 * args.c -- the shared option parser of the command line (see args.h).
 *
 * One left-to-right pass over argv. Long options are looked up by name,
 * short ones by letter; an unknown one is answered with the closest known
 * name (mp__suggest). A value comes from "--name=value", from the rest of a
 * short option ("-j4"), or from the next argument, which may not start with
 * "-" (so "--module --skip-module x" reports the missing value instead of
 * taking "--skip-module" as a module name; "--module=-odd" still works).
 */
#include "cli/args.h"

#include "core/diag.h"
#include "core/error.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const mp_opt_spec *find_long(const mp_args *a, const char *name, size_t len, size_t *idx)
{
    for (size_t i = 0; i < a->nspecs; i++) {
        if (strlen(a->specs[i].name) == len && strncmp(a->specs[i].name, name, len) == 0) {
            *idx = i;
            return &a->specs[i];
        }
    }
    return NULL;
}

static const mp_opt_spec *find_short(const mp_args *a, char c, size_t *idx)
{
    for (size_t i = 0; i < a->nspecs; i++) {
        if (a->specs[i].short_name && a->specs[i].short_name == c) {
            *idx = i;
            return &a->specs[i];
        }
    }
    return NULL;
}

/* "unknown option "--modul"; did you mean "--module"?" */
static int unknown_option(const mp_args *a, const char *arg, size_t len, mp_error *err)
{
    const char **names = mp__arena_alloc(a->arena, (2 * a->nspecs + 3) * sizeof(*names));
    size_t n = 0;
    for (size_t i = 0; i < a->nspecs; i++) {
        names[n++] = mp__arena_printf(a->arena, "--%s", a->specs[i].name);
        if (a->specs[i].short_name)
            names[n++] = mp__arena_printf(a->arena, "-%c", a->specs[i].short_name);
    }
    names[n++] = "--help";
    names[n++] = "-h";
    names[n] = NULL;
    const char *word = mp__arena_strndup(a->arena, arg, len);
    /* One letter is too little to guess from. */
    const char *best = len > 2 ? mp__suggest(word, names) : NULL;
    if (best)
        return mp__error(err, MP_EUSAGE, "", "unknown option \"%s\"; did you mean \"%s\"?", word,
                         best);
    return mp__error(err, MP_EUSAGE, "", "unknown option \"%s\"", word);
}

/* Split a list value at commas outside [...] and append the items. */
static int add_items(mp_args *a, size_t idx, const char *value, mp_error *err)
{
    const char *name = a->specs[idx].name;
    mp_opt_value *v = &a->values[idx];
    const char *start = value;
    int depth = 0;
    for (const char *c = value;; c++) {
        if (*c == '[') {
            depth++;
        } else if (*c == ']' && depth > 0) {
            depth--;
        } else if ((*c == ',' && depth == 0) || *c == '\0') {
            if (c == start)
                return mp__error(err, MP_EUSAGE, "",
                                 "empty item in \"--%s %s\"; separate names with single commas",
                                 name, value);
            const char *item = mp__arena_strndup(a->arena, start, (size_t)(c - start));
            MP_VEC_PUSH(a->arena, &v->items, item);
            if (*c == '\0') break;
            start = c + 1;
        }
    }
    return 0;
}

static int set_value(mp_args *a, size_t idx, const char *value, mp_error *err)
{
    const mp_opt_spec *s = &a->specs[idx];
    if (!*value)
        return mp__error(err, MP_EUSAGE, "", "option \"--%s\" needs a non-empty value", s->name);
    a->values[idx].count++;
    if (s->kind == MP_OPT_LIST) return add_items(a, idx, value, err);
    a->values[idx].value = value;
    return 0;
}

/* Option spelled `shown` that needs a value: take it from inline (may be
 * NULL) or from argv[*i + 1]. */
static int take_value(mp_args *a, size_t idx, const char *shown, const char *inline_value, int argc,
                      char **argv, int *i, mp_error *err)
{
    if (inline_value) return set_value(a, idx, inline_value, err);
    if (*i + 1 >= argc || argv[*i + 1][0] == '-')
        return mp__error(err, MP_EUSAGE, "", "option \"%s\" needs a value (%s)", shown,
                         a->specs[idx].metavar ? a->specs[idx].metavar : "a value");
    (*i)++;
    return set_value(a, idx, argv[*i], err);
}

static int parse_long(mp_args *a, const char *arg, int argc, char **argv, int *i, mp_error *err)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    size_t idx;
    const mp_opt_spec *s = find_long(a, name, len, &idx);
    if (!s) return unknown_option(a, arg, (size_t)(len + 2), err);
    if (s->kind == MP_OPT_FLAG) {
        if (eq) return mp__error(err, MP_EUSAGE, "", "option \"--%s\" takes no value", s->name);
        a->values[idx].count++;
        return 0;
    }
    const char *shown = mp__arena_printf(a->arena, "--%s", s->name);
    return take_value(a, idx, shown, eq ? eq + 1 : NULL, argc, argv, i, err);
}

static int parse_short(mp_args *a, const char *arg, int argc, char **argv, int *i, mp_error *err)
{
    size_t idx;
    const mp_opt_spec *s = find_short(a, arg[1], &idx);
    if (!s) return unknown_option(a, arg, strlen(arg), err);
    const char *shown = mp__arena_printf(a->arena, "-%c", s->short_name);
    if (s->kind == MP_OPT_FLAG) {
        if (arg[2] != '\0') return unknown_option(a, arg, strlen(arg), err);
        a->values[idx].count++;
        return 0;
    }
    return take_value(a, idx, shown, arg[2] ? arg + 2 : NULL, argc, argv, i, err);
}

int mp__args_parse(mp_args *a, const mp_opt_spec *specs, int argc, char **argv, mp_error *err)
{
    memset(a, 0, sizeof(*a));
    a->arena = mp__arena_new();
    a->specs = specs;
    while (specs[a->nspecs].name)
        a->nspecs++;
    a->values = mp__arena_alloc(a->arena, (a->nspecs + 1) * sizeof(*a->values));

    /* Help wins over everything else on the line, even a mistake. */
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            a->help = 1;
            return 0;
        }
    }

    int only_positional = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (!only_positional && arg[0] == '-' && arg[1] == '-') {
            rc = parse_long(a, arg, argc, argv, &i, err);
        } else if (!only_positional && arg[0] == '-' && arg[1] != '\0') {
            rc = parse_short(a, arg, argc, argv, &i, err);
        } else if (a->file) {
            return mp__error(err, MP_EUSAGE, "",
                             "unexpected argument \"%s\" (FILE is already \"%s\")", arg, a->file);
        } else if (!*arg) {
            return mp__error(err, MP_EUSAGE, "", "FILE must not be empty");
        } else {
            a->file = arg;
        }
        if (rc < 0) return rc;
    }

    for (size_t k = 0; k < a->nspecs; k++) {
        mp_opt_value *v = &a->values[k];
        if (specs[k].kind == MP_OPT_LIST && v->count) {
            MP_VEC_PUSH(a->arena, &v->items, (const char *)NULL);
            v->items.n--;
        }
    }
    return 0;
}

void mp__args_release(mp_args *a)
{
    mp__arena_free(a->arena);
    memset(a, 0, sizeof(*a));
}

const mp_opt_value *mp__args_get(const mp_args *a, const char *name)
{
    size_t idx;
    if (!find_long(a, name, strlen(name), &idx))
        mp__die("args: option \"%s\" is not in the command's table", name);
    return &a->values[idx];
}

const char *const *mp__args_list(const mp_args *a, const char *name)
{
    const mp_opt_value *v = mp__args_get(a, name);
    return v->count ? (const char *const *)v->items.v : NULL;
}

static int has_flag(const mp_args *a, const char *name)
{
    size_t idx;
    return find_long(a, name, strlen(name), &idx) && a->values[idx].count > 0;
}

int mp__args_log_level(const mp_args *a, mp_log_level *level, mp_error *err)
{
    static const char *const names[] = {"error", "warn", "info", "debug", NULL};
    int quiet = has_flag(a, "quiet"), verbose = has_flag(a, "verbose");
    if (quiet && verbose)
        return mp__error(err, MP_EUSAGE, "", "options \"-q\" and \"-v\" cannot be used together");
    if (quiet) {
        *level = MP_LOG_WARN;
        return 0;
    }
    if (verbose) {
        *level = MP_LOG_DEBUG;
        return 0;
    }
    *level = MP_LOG_INFO;
    const char *env = getenv("MODPIPE_LOG_LEVEL");
    if (!env || !*env) return 0;
    for (int i = 0; names[i]; i++) {
        if (strcmp(env, names[i]) == 0) {
            *level = (mp_log_level)i;
            return 0;
        }
    }
    const char *best = mp__suggest(env, names);
    if (best)
        return mp__error(err, MP_EUSAGE, "",
                         "invalid MODPIPE_LOG_LEVEL \"%s\"; did you mean \"%s\"?", env, best);
    return mp__error(err, MP_EUSAGE, "",
                     "invalid MODPIPE_LOG_LEVEL \"%s\" (use error, warn, info or debug)", env);
}
