/*
 * modpipe.h -- the public C API of modpipe, a modular pipeline engine.
 *
 * A pipeline is a graph of modules. A program builds one in code, loads a
 * YAML pipeline file into it (or both: YAML for the graph, C for some
 * bodies), validates it and hands it to mp_main(), which gives the program
 * exactly the `modpipe` command line (run, validate, plan, graph, list ...).
 *
 *   mp_pipeline *p = mp_pipeline_new("release");
 *   mp_module *m = mp_pipeline_add_module(p, "stamp", NULL);
 *   mp_module_set_function(m, stamp_fn, NULL);
 *   mp_module_depends_on(m, "build");
 *   if (mp_pipeline_load_file(p, "modpipe.yml", &err) < 0) ...
 *   return mp_main(p, argc, argv);
 *
 * Ownership: a pipeline owns everything added to it; every `const char *`
 * the API returns stays valid until the pipeline is freed or next changed;
 * every string passed in is copied.
 *
 * Errors: functions that can fail return 0 (or a non-negative count) on
 * success and a negative MP_E* code on failure, and fill the optional last
 * argument `mp_error *err` (NULL is allowed) with the code, a message and,
 * where known, the place (`file:line:col`, host, key). Validation problems
 * are many at once: mp_pipeline_validate() returns MP_EINVALID and the
 * problems are read with mp_pipeline_problem_count()/mp_pipeline_problem().
 * The library never prints and never exits; out of memory aborts.
 *
 * Thread-safety: a pipeline is not synchronised. Build and validate it on
 * one thread; once validated it may be read from any number of threads as
 * long as none changes it. Distinct pipelines are independent.
 */
#ifndef MODPIPE_H
#define MODPIPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MP_VERSION_MAJOR 0
#define MP_VERSION_MINOR 1
#define MP_VERSION_PATCH 0

/* Error codes: 0 is success, failures are negative. One table
 * (src/core/error.c) gives each its name and message (mp_strerror). */
#define MP_ERRNO_MAP(X)                                                        \
    X(EINVAL, -1, "invalid argument")                                          \
    X(EINVALID, -2, "invalid pipeline")                                        \
    X(EIO, -3, "input/output error")                                           \
    X(ENOENT, -4, "no such file or module")                                    \
    X(EEXIST, -5, "already exists")                                            \
    X(ETOOBIG, -6, "input too large")                                          \
    X(EPARSE, -7, "malformed input")                                           \
    X(ETIMEDOUT, -8, "deadline exceeded")                                      \
    X(EUSAGE, -9, "bad usage")                                                 \
    X(ESTATE, -10, "operation not allowed in this state")                     \
    X(ELOST, -11, "lost contact with the run")

enum mp_errno {
#define MP__ERRNO_ENUM(name, value, msg) MP_##name = (value),
    MP_ERRNO_MAP(MP__ERRNO_ENUM)
#undef MP__ERRNO_ENUM
};

/* Name ("MP_EINVAL") and message of an error code; never NULL. */
const char *mp_err_name(int code);
const char *mp_strerror(int code);

/* Filled by failing calls. `where` is "" when no place applies. */
typedef struct mp_error {
    int code;
    char message[512];
    char where[256];
} mp_error;

typedef struct mp_pipeline mp_pipeline;
typedef struct mp_module mp_module;
typedef struct mp_ctx mp_ctx;

/* A validation problem: where it is (file may be "<api>" for modules
 * added in code, line/col 0 when unknown) and what it is. */
typedef struct mp_problem {
    const char *file;
    unsigned line;
    unsigned col;
    const char *message;
} mp_problem;

/* ---------------------------------------------------------------- pipeline */

/* A new, empty pipeline (schema version 1). `name` may be NULL. */
mp_pipeline *mp_pipeline_new(const char *name);
/* NULL-safe. Frees the pipeline and every module it holds. */
void mp_pipeline_free(mp_pipeline *p);

/* Load a YAML pipeline file into `p`. Modules already added in code stay;
 * a YAML module with the same name as a code module is merged into it when
 * the code module has a function body and the YAML one has no `run`.
 * Returns 0, MP_EIO/MP_ENOENT if the file cannot be read, MP_ETOOBIG if it
 * is over the size limit, or MP_EINVALID when the file has problems (read
 * them with mp_pipeline_problem()). */
int mp_pipeline_load_file(mp_pipeline *p, const char *path, mp_error *err);
/* The same from memory; `display_name` is used in problem positions. */
int mp_pipeline_load_string(mp_pipeline *p, const char *yaml, size_t len,
                            const char *display_name, mp_error *err);

/* Expand the matrix, resolve the graph and check everything (DESIGN §2).
 * Returns 0 or MP_EINVALID; every problem found is recorded, sorted by
 * position. Adding modules afterwards requires validating again. */
int mp_pipeline_validate(mp_pipeline *p, mp_error *err);

size_t mp_pipeline_problem_count(const mp_pipeline *p);
/* Problem `i` (0 <= i < count), or NULL when out of range. */
const mp_problem *mp_pipeline_problem(const mp_pipeline *p, size_t i);

/* Canonical hash of a validated pipeline: lower-case hex sha256 of its
 * canonical form, independent of key order, whitespace and comments.
 * NULL before a successful validation. */
const char *mp_pipeline_hash(const mp_pipeline *p);

/* Number of modules after matrix expansion (0 before validation), and the
 * module at index i in the canonical (sorted by name) order. */
size_t mp_pipeline_module_count(const mp_pipeline *p);
mp_module *mp_pipeline_module_at(mp_pipeline *p, size_t i);
/* Lookup by full name ("test[os=linux]") or plain name; NULL if absent. */
mp_module *mp_pipeline_find(mp_pipeline *p, const char *name);

/* ---------------------------------------------------------------- modules */

/* Body of a C module. Return 0 for success, non-zero for failure. It runs on
 * a thread of its own; it should return soon after mp_ctx_cancelled() turns
 * true. */
typedef int (*mp_module_fn)(mp_ctx *ctx, void *data);

/* Add a module. `run` is a shell command (run with /bin/sh -c) or NULL for
 * a module whose body is set with mp_module_set_function(). Returns NULL and
 * fills err (MP_EEXIST, MP_EINVAL for a bad name) on failure. */
mp_module *mp_pipeline_add_module(mp_pipeline *p, const char *name, const char *run,
                                  mp_error *err);
/* Give the module a C function body (replacing any `run`). `data` is
 * passed to fn unchanged and is owned by the caller. */
void mp_module_set_function(mp_module *m, mp_module_fn fn, void *data);
/* Required dependency on `name` (a module, or every instance of a matrix). */
void mp_module_depends_on(mp_module *m, const char *name);
/* Optional ordering: wait for `name` when it is part of the run. */
void mp_module_after(mp_module *m, const char *name);
void mp_module_set_category(mp_module *m, const char *category);
void mp_module_add_tag(mp_module *m, const char *tag);
void mp_module_set_env(mp_module *m, const char *key, const char *value);
/* Per-attempt timeout in milliseconds; 0 means none. */
void mp_module_set_timeout_ms(mp_module *m, int64_t ms);
void mp_module_set_retries(mp_module *m, int count, int64_t delay_ms);
void mp_module_set_ignore_failure(mp_module *m, int on);
void mp_module_set_always_run(mp_module *m, int on);

const char *mp_module_name(const mp_module *m);

/* ---------------------------------------------------------------- context */

/* What a C module sees while it runs. */
const char *mp_ctx_module(const mp_ctx *ctx);
int mp_ctx_attempt(const mp_ctx *ctx);
/* Non-zero once the run is being stopped or the attempt timed out. */
int mp_ctx_cancelled(const mp_ctx *ctx);
/* Set an output (key [A-Za-z0-9_-]+); copied. */
int mp_ctx_set_output(mp_ctx *ctx, const char *key, const char *value);

/* ---------------------------------------------------------------- program */

/* The `modpipe` command line over pipeline `p` (which may be empty: then
 * the pipeline file named on the command line is loaded into it). Returns
 * the process exit code (0 ok, 1 pipeline failed, 2 usage or invalid
 * pipeline, 3 infrastructure failure, 130/143 interrupted). */
int mp_main(mp_pipeline *p, int argc, char **argv);

/* The library's version string, e.g. "0.1.0". */
const char *mp_version(void);

#ifdef __cplusplus
}
#endif
#endif /* MODPIPE_H */
