/*
 * module_env.h -- what a module process is given: its environment, its
 * working directory, and its strings with `${{ }}` expressions resolved.
 *
 * Environment, later entries overriding earlier ones (DESIGN §2):
 *   1. modpipe's own environment, except the pipeline's secrets that this
 *      module does not declare (a secret reaches only the modules that ask
 *      for it) and inherited MODPIPE_DEP_* variables (from an outer run);
 *   2. the pipeline's env, then the module's env (expressions resolved);
 *   3. MODPIPE_MODULE, MODPIPE_OUTPUT, MODPIPE_RUN_ID,
 *      MODPIPE_INSTANCE_INDEX, MODPIPE_ATTEMPT, MODPIPE_WORKSPACE;
 *   4. MODPIPE_DEP_<MODULE>_<KEY> for every output of every required
 *      dependency (names upper-cased, anything but [A-Z0-9] turned to "_");
 *   5. the module's declared secrets, with their values from modpipe's
 *      environment. A secret that is unset or empty there is an error.
 *
 * Expressions: matrix.K (this instance's value), modules.M.outputs.K (the
 * dependency's output; "" when it set no such output), modules.M.status
 * (its status name), instance.index, run.id. M is a full name or the plain
 * name of a module with one instance. An expression that names no module
 * is left as written (validation reports those); "$${{" becomes "${{".
 *
 * Cost: everything in the list above that is the same for every module of
 * a run -- modpipe's environment without secrets and MODPIPE_DEP_*, the
 * pipeline's env entries without expressions, the formatted run id,
 * instance index and workspace -- is an mp_env_base, made once per run
 * (mp__env_base_new). A module's environment is then a copy of the base's
 * pointers plus what is its own (module env, pipeline env with
 * expressions, the MODPIPE_* variables, dependency outputs, secrets), so
 * it costs O(variables) pointer copies and O(own variables) formatting.
 * The order of the entries is the base's, then the module's own in the
 * order above; the values are those the list above gives.
 *
 * Everything returned lives in the arena passed in (the engine uses one
 * arena per attempt, reset when the attempt ends); a base lives in the
 * arena it was made in (but for its map) and is read-only afterwards.
 */
#ifndef MP_CORE_MODULE_ENV_H
#define MP_CORE_MODULE_ENV_H

#include "core/arena.h"
#include "core/model.h"
#include "core/result.h"

typedef struct mp_env_base mp_env_base;

typedef struct mp_module_env {
    const mp_env_base *base; /* NULL: made for this call from the fields */
    const mp_pipeline *p;
    const mp_module *m;
    const mp_result *results; /* by module index; dependencies are terminal */
    const char *run_id;       /* may be NULL: "" */
    int instance_index;
    int attempt;             /* 1-based */
    const char *workspace;   /* absolute */
    const char *output_path; /* $MODPIPE_OUTPUT */
    char *const *environ;    /* modpipe's environment, "K=V", NULL-terminated */
} mp_module_env;

/* s with its expressions resolved (see above). NULL gives NULL. */
char *mp__module_subst(mp_arena *a, const mp_module_env *e, const char *s);

/* The run-wide part of every module's environment (see above), from e's
 * p, run_id, instance_index, workspace and environ, in arena a. It points
 * into e->environ's strings, which must outlive it. Release it with
 * mp__env_base_release() (its name map is on the heap) before the arena
 * goes. */
mp_env_base *mp__env_base_new(mp_arena *a, const mp_module_env *e);
void mp__env_base_release(mp_env_base *b); /* NULL-safe */

/* The complete environment ("K=V" strings, NULL-terminated) in *envp,
 * from e->base when set (it must come from the same p and environ).
 * Returns 0, or MP_ENOENT with err naming the missing secret ("secret
 * \"NPM_TOKEN\" of module \"publish\" is not set in the environment"). */
int mp__module_env_build(mp_arena *a, const mp_module_env *e, const char ***envp, mp_error *err);

/* The module's working directory: working_dir (resolved) relative to the
 * workspace, or as is when absolute; the workspace when unset. */
const char *mp__module_workdir(mp_arena *a, const mp_module_env *e);

/* "test[os=linux]" -> "TEST_OS_LINUX_": upper-case, [^A-Z0-9] -> "_". */
char *mp__env_name_part(mp_arena *a, const char *s);

/* Value of `name` in environ (NULL when absent). */
const char *mp__environ_get(char *const *environ, const char *name);

#endif
