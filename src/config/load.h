/*
 * load.h -- internals of the YAML loader: from a yaml_tree to the model.
 *
 * load.c reads the input and parses it (yaml_tree.h); load_pipeline.c maps
 * the top level and options, load_module.c each module, with
 * load_cond.c (conditions, requirements), load_matrix.c and
 * load_artifacts.c (produces, consumes) for the structured keys. All of
 * them use the converters below, which turn one YAML value into one model
 * value or record a problem and leave the target alone, so a loader keeps
 * going after any mistake and reports every one (DESIGN §2, messages in
 * docs/messages.md).
 *
 * Conventions of the converters: `key` is the mapping key node the value
 * hangs under (its text names the setting in messages), `ctx` says whose
 * setting it is (`module "build"`, `options`, NULL for the top level), so a
 * message reads `"timeout" of module "build" must be ...`. Problems about a
 * value point at the value; an empty value (`key:` with nothing after it)
 * points at its key. Strings the model keeps are copied into the
 * pipeline's arena (mp__load_keep); the tree and message scratch live in
 * `tmp`, freed when loading ends.
 */
#ifndef MP_CONFIG_LOAD_H
#define MP_CONFIG_LOAD_H

#include "config/yaml_tree.h"
#include "core/model.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct mp_loader {
    mp_pipeline *p;
    mp_arena *a;             /* p->arena: everything the model keeps */
    mp_arena *tmp;           /* the tree and scratch text, freed after loading */
    const char *file;        /* display name, in p->arena */
    const mp_ynode *modules; /* the `modules` mapping, for its duplicates */
} mp_loader;

/* ------------------------------------------------------------ places */

mp_pos mp__load_pos(const mp_loader *l, const mp_ynode *n);
/* Where to report a bad value: the value, or its key when it is empty. */
mp_pos mp__load_vpos(const mp_loader *l, const mp_ynode *key, const mp_ynode *val);

/* A model string for node n: its text copied into the pipeline arena. */
mp_pstr mp__load_keep(const mp_loader *l, const mp_ynode *n);

/* ------------------------------------------------------------ messages */

void mp__load_problem(const mp_loader *l, mp_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* s made safe to print inside double quotes: control characters, quotes
 * and backslashes escaped, cut after 60 bytes with "...". */
const char *mp__load_quote(const mp_loader *l, const char *s);
/* `"key" of ctx` (or `"key"` when ctx is NULL). */
const char *mp__load_what(const mp_loader *l, const mp_ynode *key, const char *ctx);
/* `<what> must be <expected>, not <type of val>` at the value. */
void mp__load_wrong_type(const mp_loader *l, const mp_ynode *key, const mp_ynode *val,
                         const char *what, const char *expected);
/* `unknown key "X" in <ctx>; did you mean "Y"?` at the key. `names` is the
 * first of n key names `stride` bytes apart. */
void mp__load_unknown_key(const mp_loader *l, const mp_ynode *key, const char *ctx,
                          const char *const *names, size_t n, size_t stride);

/* ------------------------------------------------------------ scalars */

/* A string value; a plain number is taken as its text. */
bool mp__load_str(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                  mp_pstr *out);
/* A non-empty string (`<what> must not be empty` otherwise). */
bool mp__load_nonempty(const mp_loader *l, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx, mp_pstr *out);
/* Any scalar but null, as written (env values, requires, matrix). */
bool mp__load_text(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *what,
                   mp_pstr *out);
/* A plain decimal integer >= min that fits an int. */
bool mp__load_int(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                  int min, int *out);
/* Plain true or false. */
bool mp__load_bool(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                   bool *out);
/* A duration (core/duration.h); `0` refused unless allow_zero. */
bool mp__load_duration(const mp_loader *l, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx, bool allow_zero, int64_t *ms);
/* One of the NULL-terminated `choices`; returns its index or -1. */
int mp__load_choice(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                    const char *const *choices, const char *expected);

/* ------------------------------------------------------------ containers */

/* Is val a mapping (true), or null (false, nothing to do)? Otherwise a
 * wrong-type problem and false. */
bool mp__load_is_map(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                     const char *expected);
/* A list of strings, or one string, appended to out. `item_expected`
 * names one item ("a module name"); `expected` the whole. Null adds
 * nothing. */
void mp__load_str_list(const mp_loader *l, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx, const char *expected, const char *item_expected,
                       mp_pstr_vec *out);
/* A mapping of variable names to scalars (env): values as text, null as
 * "". Names must be [A-Za-z_][A-Za-z0-9_]*. Appended to out. */
void mp__load_env(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                  mp_kv_vec *out);
/* Secret names: like mp__load_str_list with the variable-name rule. */
void mp__load_secrets(const mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                      mp_pstr_vec *out);
/* [A-Za-z_][A-Za-z0-9_]* */
bool mp__load_var_name_valid(const char *s);

/* ------------------------------------------------------------ parts */

/* The whole document (root may be NULL for an empty file). */
void mp__load_pipeline(mp_loader *l, const mp_ynode *root);
/* The `modules` mapping. */
void mp__load_modules(mp_loader *l, const mp_ynode *key, const mp_ynode *val);
/* skip_if / run_if of a module: a condition or a list of them. */
void mp__load_conditions(mp_loader *l, const mp_ynode *key, const mp_ynode *val, const char *ctx,
                         mp_cond_vec *out);
/* The top-level `requirements` list. */
void mp__load_requirements(mp_loader *l, const mp_ynode *key, const mp_ynode *val);
void mp__load_matrix(mp_loader *l, mp_module_decl *d, const mp_ynode *key, const mp_ynode *val,
                     const char *ctx);
void mp__load_produces(mp_loader *l, mp_module *m, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx);
void mp__load_consumes(mp_loader *l, mp_module *m, const mp_ynode *key, const mp_ynode *val,
                       const char *ctx);

#endif
