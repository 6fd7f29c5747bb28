/*
 * model.h -- the pipeline model: what a pipeline file (or the C API) says.
 *
 * Two layers live in one mp_pipeline:
 *   - declarations (`decls`): modules as written, a matrix module once, with
 *     its `${{ matrix.K }}` expressions unexpanded. Loaders and the C API
 *     fill these.
 *   - modules (`modules`): after mp_pipeline_validate(), the expanded
 *     modules (one per matrix combination, named `name[k=v,k2=v2]`, keys in
 *     declaration order, matrix expressions substituted), sorted by name,
 *     with dependencies resolved to indices. Everything downstream (plan,
 *     graph, scheduler, distribution) reads only these.
 *
 * Every string and array belongs to the pipeline's arena. Every item that a
 * problem can be reported against carries its mp_pos.
 *
 * Unset optional values: durations and counts are -1 ("inherit the
 * pipeline option"), strings NULL, lists empty, flags 0.
 */
#ifndef MP_CORE_MODEL_H
#define MP_CORE_MODEL_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/strmap.h"
#include "modpipe.h"

#include <stdbool.h>
#include <stdint.h>

/* A string with the place it was written. */
typedef struct mp_pstr {
    const char *s;
    mp_pos pos;
} mp_pstr;

/* key: value, both positioned (env, requires, matrix values ...). */
typedef struct mp_kv {
    mp_pstr key;
    mp_pstr value;
} mp_kv;

typedef MP_VEC(mp_pstr) mp_pstr_vec;
typedef MP_VEC(mp_kv) mp_kv_vec;

typedef enum mp_cond_kind {
    MP_COND_ENV,     /* {env: X}: set and non-empty; with equals: == value */
    MP_COND_OS,      /* {os: linux|macos|windows} */
    MP_COND_FILE,    /* {file: path}: exists */
    MP_COND_COMMAND, /* {command: "..."}: exit 0 */
} mp_cond_kind;

typedef struct mp_cond {
    mp_cond_kind kind;
    mp_pstr arg;    /* variable name, os name, path or command */
    mp_pstr equals; /* MP_COND_ENV only; s == NULL when absent */
    mp_pos pos;
} mp_cond;
typedef MP_VEC(mp_cond) mp_cond_vec;

typedef enum mp_run_kind {
    MP_RUN_NONE,     /* nothing yet (YAML without run, code without body) */
    MP_RUN_SHELL,    /* run: "string" => /bin/sh -c string */
    MP_RUN_ARGV,     /* run: [argv...] => exec'd directly */
    MP_RUN_FUNCTION, /* C function body from the API */
} mp_run_kind;

typedef enum mp_priority {
    MP_PRIORITY_LOW = 0,
    MP_PRIORITY_NORMAL = 1,
    MP_PRIORITY_HIGH = 2,
    MP_PRIORITY_CRITICAL = 3,
} mp_priority;

typedef enum mp_on_failure {
    MP_ON_FAILURE_STOP = 0,
    MP_ON_FAILURE_CONTINUE = 1,
} mp_on_failure;

typedef struct mp_produce {
    mp_pstr name;
    mp_pstr_vec paths; /* glob patterns, at least one */
    mp_pos pos;
} mp_produce;
typedef MP_VEC(mp_produce) mp_produce_vec;

typedef struct mp_consume {
    mp_pstr name;
    mp_pstr from; /* producer module (plain or full name); s NULL = any upstream */
    mp_pstr path; /* extraction dir; s NULL = workspace */
    mp_pos pos;
    /* resolved by validation: index into pipeline->modules, -1 if unresolved */
    long producer;
} mp_consume;
typedef MP_VEC(mp_consume) mp_consume_vec;

typedef struct mp_module_decl mp_module_decl;

struct mp_module {
    const char *name;     /* full name: "test[os=linux]" or "build" */
    const char *base;     /* declared name: "test" */
    mp_pos pos;           /* of the module's key in the file */
    mp_module_decl *decl; /* where it came from */
    mp_kv_vec matrix;     /* this instance's matrix values, declaration order */

    mp_run_kind run_kind;
    bool run_written;    /* a `run` key was in the file (even if invalid) */
    mp_pstr run;         /* MP_RUN_SHELL */
    mp_pstr_vec argv;    /* MP_RUN_ARGV */
    mp_module_fn fn;     /* MP_RUN_FUNCTION */
    void *fn_data;

    mp_pstr_vec depends_on; /* as written: plain, full, or matrix-wide names */
    mp_pstr_vec after;
    mp_kv_vec env;
    mp_pstr working_dir;
    int64_t timeout_ms;     /* -1 inherit, 0 none */
    mp_pos timeout_pos;
    int retries;            /* -1 inherit */
    int64_t retry_delay_ms; /* -1 default (1 s) */
    mp_produce_vec produces;
    mp_consume_vec consumes;
    mp_kv_vec requires;
    mp_cond_vec skip_if;
    mp_cond_vec run_if;
    bool ignore_failure;
    bool always_run;
    bool pin_to_master;
    mp_pstr category;
    mp_pstr_vec tags;
    mp_priority priority;
    bool exclusive;              /* not_in_parallel: true */
    mp_pstr_vec not_in_parallel; /* not_in_parallel: [keys] */
    mp_pstr concurrency_group;
    mp_pstr_vec secrets;

    /* Resolved by validation (indices into pipeline->modules). */
    MP_VEC(size_t) deps;       /* required, deduplicated */
    MP_VEC(size_t) afters;     /* optional ordering, deduplicated */
    MP_VEC(size_t) dependents; /* reverse of deps */
    size_t index;              /* own index */
};

/* A module as declared; `proto` holds every field, matrix expressions
 * unexpanded. Expansion copies proto once per combination. */
struct mp_module_decl {
    mp_module proto;
    mp_kv_vec matrix_axes; /* key -> value list; see matrix_values */
    MP_VEC(mp_pstr_vec) matrix_values; /* parallel to matrix_axes */
    mp_pos matrix_pos;
    bool from_api;
    /* Owner, for the mp_module_* setters; set by mp_pipeline_add_module,
     * mp_pipeline_find/module_at and validation (loaders need not). */
    mp_pipeline *pipeline;
};

typedef struct mp_requirement {
    mp_cond cond; /* MP_COND_ENV, MP_COND_FILE or MP_COND_COMMAND */
} mp_requirement;

typedef struct mp_distributed_options {
    int64_t heartbeat_ms;            /* default 2 s */
    int64_t worker_timeout_ms;       /* default 15 s */
    int64_t registration_timeout_ms; /* default 5 min */
    int max_attempts;                /* default 3 */
} mp_distributed_options;

typedef struct mp_options {
    int parallelism; /* 0 = number of CPUs */
    mp_on_failure on_failure;
    int64_t timeout_ms; /* default per-module timeout; 0 = none */
    int retries;
    mp_kv_vec concurrency_groups; /* name -> limit (value is the decimal) */
    mp_distributed_options distributed;
} mp_options;

struct mp_pipeline {
    mp_arena *arena;
    mp_diags diags;

    int version; /* schema version, 1 */
    const char *name;
    mp_options options;
    mp_kv_vec env;
    mp_pstr_vec secrets;
    MP_VEC(mp_requirement) requirements;
    MP_VEC(mp_module_decl *) decls; /* declaration order */
    mp_strmap decl_by_name;

    /* After validation. */
    bool validated;
    MP_VEC(mp_module *) modules; /* expanded, sorted by name */
    mp_strmap module_by_name;    /* full name -> mp_module* */
    mp_strmap instances_by_base; /* base name -> mp_instance_list* */
    const char *hash;            /* hex sha256 of the canonical form */

    /* Validation bookkeeping (validate.c): problems recorded before the
     * first validation (the loaders') survive a new validation; those of
     * the previous validation are dropped; problem_seen drops repeats of
     * one (position, message), e.g. from the instances of a matrix. */
    mp_strmap problem_seen;
    bool validate_ran;
    size_t validate_end;          /* diags.list.n after the last validation */
    size_t pre_dropped;           /* diags.dropped before it */
    MP_VEC(mp_problem) pre_problems; /* diags.list before it */
};

/* All expanded instances of one declared module. */
typedef struct mp_instance_list {
    MP_VEC(size_t) idx;
} mp_instance_list;

/* Defaults for a fresh pipeline's options (DESIGN §2). */
void mp__options_init(mp_options *o);
/* Fill a module with "unset" values (see top of file). */
void mp__module_init(mp_module *m);
/* A new declaration in p, name copied, registered by name. Returns NULL
 * when the name is already declared. */
mp_module_decl *mp__decl_add(mp_pipeline *p, const char *name, mp_pos pos);

/* A position for things added through the C API. */
mp_pos mp__pos_api(void);

/* Is `name` a valid module name ([A-Za-z0-9_.-]+)? */
bool mp__name_valid(const char *name);

#endif
